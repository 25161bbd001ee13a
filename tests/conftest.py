"""Shared fixtures: a platform on SQLite and on the real PostgreSQL, a live HTTP server, a clock.

PostgreSQL is not optional here: if WUXIN_TEST_PG_URL (default 127.0.0.1:5432) cannot be
reached, the PostgreSQL tests fail rather than skip. WUXIN_TEST_PG_URL may name a server only
(`postgresql://127.0.0.1:5499`, what scripts/test-setup.sh sets): each test process then gets
its own database `wuxin_test_<pid>` on it.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn

from wuxin.bootstrap import build_platform
from wuxin.config import Settings
from wuxin.services.devices.registry import sync_builtin_thing_models
from wuxin.store.admin import recreate_postgres_database
from wuxin.store.migrate import upgrade
from wuxin.store.tables import metadata


def _test_pg_url(configured: str) -> str:
    """The configured URL, with a database of this process's own when it names a server only."""
    if urlsplit(configured).path.strip("/"):
        return configured
    return f"{configured.rstrip('/')}/wuxin_test_{os.getpid()}"


PG_URL = _test_pg_url(os.environ.get("WUXIN_TEST_PG_URL", "postgresql://127.0.0.1:5432"))
T0_MS = 1_790_000_000_000  # 2026-09-21T14:13:20Z, the tests' "now"


class FakeClock:
    """A clock the tests move by hand: no sleeping."""

    def __init__(self, now_ms: int = T0_MS):
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms

    def advance(self, ms: int) -> None:
        self.now_ms += ms


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("db") / "template.db"
    upgrade(f"sqlite:///{path}")
    return str(path)


@pytest.fixture(scope="session")
def pg_database() -> str:
    recreate_postgres_database(PG_URL)  # fails loudly if PostgreSQL is down: no silent skip
    upgrade(PG_URL)
    return PG_URL


def _truncate_postgres(platform) -> None:
    names = ", ".join(t.name for t in metadata.sorted_tables)
    with platform.engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def platform(request, tmp_path, sqlite_template):
    """A migrated, empty platform with the built-in thing models, on each database."""
    clock = FakeClock()
    if request.param == "sqlite":
        path = tmp_path / "wuxin.db"
        shutil.copy(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_database")
    # the serve job's indicators updates only where a test asks for them (tests/integration/test_live_indicators.py):
    # elsewhere a test's own `update_indicators` decides what is computed when
    settings = Settings(database_url=url, environment="test", max_body_bytes=256 * 1024, indicators_interval_s=3600)
    plat = build_platform(settings, clock_ms=clock)
    if request.param == "postgresql":
        _truncate_postgres(plat)
    sync_builtin_thing_models(plat)
    plat.clock = clock
    yield plat
    plat.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    client: httpx.Client


@pytest.fixture
def live(platform):
    """The real API served by uvicorn on a loopback port, and an HTTP client for it."""
    from wuxin.api.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(platform), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        yield LiveServer(f"http://127.0.0.1:{port}", client)
    server.should_exit = True
    thread.join(timeout=10)


def pytest_sessionfinish(session, exitstatus):
    """No test in this suite may skip: every service it needs is started by .ci/run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and exitstatus == 0:
        reporter.write_line(f"{skipped} test(s) skipped: a skip hides a missing service, so the run fails", red=True)
        session.exitstatus = 1


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing():
    """Argon2id with its smallest cost: the same code path, 7 users per test world made cheap."""
    from argon2 import PasswordHasher

    import wuxin.security.secrets as secrets

    default = secrets._hasher
    secrets._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    secrets._hasher = default
