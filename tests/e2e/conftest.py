"""End-to-end: the demo on a temporary SQLite database served on a free port, and headless
Chromium (Debian's package) driven by Playwright. Screenshots go to test-artifacts/ (gitignored)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from wuxin.bench.browser import chromium, serve_in_thread
from wuxin.bootstrap import build_platform
from wuxin.cli.core import prepare_database
from wuxin.config import Settings
from wuxin.services.demo.people import DEMO_PASSWORD
from wuxin.services.demo.setup import load_demo

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"


def serve_demo(tmp_path_factory):
    """The demo bank with one borrower per scenario and a day of history, served over HTTP (a generator)."""
    folder = tmp_path_factory.mktemp("e2e")
    platform = build_platform(Settings(database_url=f"sqlite:///{folder}/demo.db", environment="test", var_dir=folder))
    prepare_database(platform)
    load_demo(platform, days=2, per_scenario=1, seed=11, progress=lambda _: None)  # yesterday complete: index published
    with serve_in_thread(platform) as url:
        yield url
    platform.close()


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """One demo shared by the e2e files; files whose checks other files' changes would upset (a revoked consent, hostile
    names planted by the XSS tests) take a fresh one with `fresh_demo`."""
    yield from serve_demo(tmp_path_factory)


@pytest.fixture(scope="module")
def browser():
    """One Chromium per e2e file: Playwright's sync API keeps its event loop running in this thread while it is open,
    so a session-long browser made every later test file of the worker that calls asyncio.run fail."""
    with chromium() as b:
        yield b


@dataclass
class Console:
    """A logged-in page that records every console error and uncaught exception."""

    page: object
    base: str
    errors: list[str] = field(default_factory=list)

    def open(self, hash_path: str, ready: str) -> None:
        self.page.goto(f"{self.base}/console{hash_path}")
        self.page.wait_for_selector(ready, timeout=30_000)

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def console_as(demo, browser):
    contexts = []

    def make(username: str, lang: str = "zh-CN") -> Console:
        context = browser.new_context(viewport={"width": 1360, "height": 900}, locale=lang)
        context.add_init_script(f"localStorage.setItem('wuxin.lang', '{lang}')")
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda d: d.accept(d.default_value))  # a prompt keeps its suggested reason
        c = Console(page, demo)
        page.on("console", lambda m: c.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: c.errors.append(f"uncaught: {e}\n{e.stack or ''}"))  # the stack says where
        c.open("#/login", "#username")
        page.fill("#username", username)
        page.fill("#password", DEMO_PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector(f"[data-user='{username}']")
        return c

    yield make
    for context in contexts:
        context.close()
