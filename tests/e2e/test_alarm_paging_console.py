"""The alarm inbox pages: 120 active alarms show as 100, and "more" appends the other 20, each once."""

from __future__ import annotations

import pytest

from tests.world import PASSWORD, build_world
from wuxin.bench.browser import serve_in_thread
from wuxin.bootstrap import build_platform
from wuxin.cli.core import prepare_database
from wuxin.config import Settings

ALARMS = 120


@pytest.fixture
def served(tmp_path):
    platform = build_platform(Settings(database_url=f"sqlite:///{tmp_path}/w.db", environment="test", var_dir=tmp_path))
    prepare_database(platform)
    world = build_world(platform)
    now = platform.clock_ms()
    with platform.uow() as uow:
        for i in range(ALARMS):
            uow.monitoring.raise_alarm(
                dict(
                    scope="platform",
                    tenant_id=None,
                    source=f"device:{i}",
                    alarm_type="device_tamper",
                    rule_id="tamper",
                    severity="critical",
                    status="active",
                    enterprise_id=world.factory,
                    device_id=None,
                    loan_ids=[],
                    started_ms=now - i,
                    last_ms=now - i,
                    stored_ms=now,
                    detail={},
                )
            )
        uow.commit()
    with serve_in_thread(platform) as url:
        yield url
    platform.close()


@pytest.mark.parametrize("lang, label", [("zh-CN", "加载更多预警"), ("en", "More alarms")])
def test_the_alarm_inbox_shows_a_page_and_more_on_request(served, browser, lang, label):
    context = browser.new_context(locale=lang)
    context.add_init_script(f"localStorage.setItem('wuxin.lang', '{lang}')")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{served}/console#/login")
    page.fill("#username", "risk")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("[data-user='risk']")
    page.goto(f"{served}/console#/alarms")
    page.wait_for_selector("[data-more='alarms']", timeout=30_000)
    assert page.locator("[data-ack]").count() == 100
    assert page.locator("[data-more='alarms']").inner_text() == label
    page.click("[data-more='alarms']")
    page.wait_for_selector("[data-more='alarms']", state="detached", timeout=30_000)
    ids = page.locator("[data-ack]").evaluate_all("els => els.map(e => Number(e.dataset.ack))")
    assert len(ids) == ALARMS and len(set(ids)) == ALARMS and ids == sorted(ids, reverse=True)
    assert errors == []
    context.close()
