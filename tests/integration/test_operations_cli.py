"""What an operator runs: one-line errors, users without argv passwords, schema revision, backups,
and the JT/T 808 gateway stopped by a service manager."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import free_port
from tests.world import build_world
from wuxin.bootstrap import build_platform
from wuxin.cli.main import app
from wuxin.config import Settings, get_settings
from wuxin.errors import AuthError
from wuxin.ingest.jt808.simulator import SimulatedTerminal
from wuxin.ledger.merkle import LedgerError
from wuxin.services.access.identity import login
from wuxin.services.evidence.ledger import latest_tree_head, publish_tree_head, verify_log
from wuxin.services.ingest.telemetry import ingest_lines
from wuxin.store.admin import recreate_postgres_database

WUXIN = [sys.executable, "-m", "wuxin.cli.main"]


def wuxin(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, stdin: str | None = None):
    return subprocess.run(
        [*WUXIN, *args],
        env={**os.environ, "COLUMNS": "400", **(env or {})},
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def cli_env(platform, monkeypatch):
    monkeypatch.setenv("WUXIN_DATABASE_URL", platform.settings.database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


# ---- one-line errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "setting, said",
    [
        ({"WUXIN_ENVIRONMENT": "production"}, "error: WUXIN_SECRET_KEY must be set in production"),
        (
            {"WUXIN_PORT": "eighty"},
            "error: WUXIN_PORT: Input should be a valid integer, unable to parse string as an integer (got 'eighty')",
        ),
    ],
)
def test_a_misconfiguration_is_one_line_and_exit_2(tmp_path, setting, said):
    result = wuxin("db", "upgrade", env={"WUXIN_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", **setting}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [result.stderr.strip()] and result.stderr.startswith(said), result.stderr


def test_an_unreachable_database_is_one_line_and_exit_2(tmp_path):
    result = wuxin("db", "upgrade", env={"WUXIN_DATABASE_URL": f"postgresql://127.0.0.1:{free_port()}/nowhere"})
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: database unreachable:")


def test_a_secret_setting_is_never_echoed(tmp_path):
    result = wuxin(
        "db",
        "current",
        env={
            "WUXIN_DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
            "WUXIN_ACCESS_TOKEN_TTL_S": "soon",
            "WUXIN_SMTP_PORT": "x",
        },
    )
    assert result.returncode == 2 and "WUXIN_ACCESS_TOKEN_TTL_S: " in result.stderr and "(got 'soon')" in result.stderr
    from wuxin.config import _one_line

    problem = _one_line({"loc": ("secret_key",), "type": "string_too_short", "msg": "too short", "input": "hunter2"})
    assert problem == "WUXIN_SECRET_KEY: too short" and "hunter2" not in problem


# ---- users: the password never on the command line ------------------------------------------------


def test_users_add_reads_the_password_from_a_file_or_stdin_never_argv(platform, cli_env, tmp_path):
    secret = tmp_path / "password"
    secret.write_text("file-password-2026\n")
    result = cli_env.invoke(app, ["users", "add", "ops-a", "--role", "platform_admin", "--password-file", str(secret)])
    assert result.exit_code == 0, result.output
    result = cli_env.invoke(app, ["users", "add", "ops-b", "--role", "platform_admin"], input="stdin-password-2026\n")
    assert result.exit_code == 0, result.output
    assert login(platform, "ops-a", "file-password-2026") and login(platform, "ops-b", "stdin-password-2026")
    with pytest.raises(AuthError):
        login(platform, "ops-a", "wrong-password-2026")
    refused = cli_env.invoke(
        app, ["users", "add", "ops-c", "--role", "platform_admin", "--password", "argv-password-2026"]
    )
    assert refused.exit_code == 2 and "No such option" in refused.output
    empty = cli_env.invoke(app, ["users", "add", "ops-d", "--role", "platform_admin"], input="\n")
    assert empty.exit_code == 2 and "no password on the first line of standard input" in empty.output


# ---- db current ----------------------------------------------------------------------------------------


def test_db_current_says_the_revision_and_whether_it_is_the_head(tmp_path):
    env = {"WUXIN_DATABASE_URL": f"sqlite:///{tmp_path}/fresh.db"}
    empty = wuxin("db", "current", env=env)
    assert empty.returncode == 1 and "at revision none (no schema)" in empty.stdout and "behind" in empty.stdout
    assert wuxin("db", "upgrade", env=env).returncode == 0
    done = wuxin("db", "current", env=env)
    from wuxin.store.migrate import head

    assert done.returncode == 0 and f"at revision {head()}; head {head()}: up to date" in done.stdout


# ---- backup and restore --------------------------------------------------------------------------------


def _empty_database_beside(platform, tmp_path) -> str:
    url = platform.settings.database_url
    if url.startswith("sqlite"):
        return f"sqlite:///{tmp_path}/restored.db"
    restored = f"{url}_restored"
    recreate_postgres_database(restored)
    return restored


def test_backup_restores_into_a_fresh_database_whose_ledger_recomputes_the_signed_head(
    platform, cli_env, tmp_path, monkeypatch
):
    build_world(platform)
    now = platform.clock_ms()
    for minute in range(5):
        ingest_lines(
            platform, [{"device": "loom-01", "ts": now - minute * 60_000, "values": {"current_a": 7.5}}], "http"
        )
    publish_tree_head(platform)
    signed = latest_tree_head(platform)
    assert signed["tree_size"] >= 5
    file = tmp_path / "wuxin.backup"
    backed_up = cli_env.invoke(app, ["db", "backup", str(file)])
    assert backed_up.exit_code == 0 and file.stat().st_size > 0, backed_up.output
    again = cli_env.invoke(app, ["db", "backup", str(file)])
    assert again.exit_code == 2 and "already exists" in again.output

    target = _empty_database_beside(platform, tmp_path)
    monkeypatch.setenv("WUXIN_DATABASE_URL", target)
    get_settings.cache_clear()
    restored = cli_env.invoke(app, ["db", "restore", str(file)])
    assert restored.exit_code == 0, restored.output
    assert f"ledger: {signed['tree_size']} of {signed['tree_size']} entries recompute" in restored.output
    copy = build_platform(Settings(database_url=target, environment="test"))
    try:
        assert latest_tree_head(copy) == signed
        assert verify_log(copy)["root_hash"] == signed["root_hash"]
        over = cli_env.invoke(app, ["db", "restore", str(file)])
        assert over.exit_code == 2 and "is not empty" in over.output  # never restored over live data
        with copy.engine.begin() as conn:  # an altered leaf in the copy is found
            conn.exec_driver_sql("UPDATE ledger_entries SET leaf_data = leaf_data || ' ' WHERE leaf_index = 1")
        with pytest.raises(LedgerError, match="do not recompute the signed tree head"):
            verify_log(copy)
    finally:
        copy.close()


def test_restore_refuses_a_file_of_the_other_kind(tmp_path):
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    result = wuxin("db", "restore", str(not_a_backup), env={"WUXIN_DATABASE_URL": f"sqlite:///{tmp_path}/r.db"})
    assert result.returncode == 2 and "is not an SQLite database" in result.stderr


# ---- the JT/T 808 gateway under a service manager ----------------------------------------------------


def test_jt808_serve_stops_cleanly_on_sigterm_with_a_terminal_connected():
    port = free_port()
    gateway = subprocess.Popen(
        [
            *WUXIN,
            "jt808",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--device",
            "013912345678:T000001=truck-1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "JT808 gateway listening" in gateway.stderr.readline()

        async def connect_and_stop() -> bool:
            terminal = SimulatedTerminal("013912345678", terminal_id="T000001")
            await terminal.connect("127.0.0.1", port)
            await terminal.login()
            gateway.send_signal(signal.SIGTERM)
            closed_by_gateway = await terminal.at_eof(timeout_s=30)
            await terminal.close()
            return closed_by_gateway

        assert asyncio.run(connect_and_stop())
        assert gateway.wait(timeout=60) == 0
        said = gateway.stderr.read()
        assert "JT808 gateway stopped" in said
        assert [line for line in said.splitlines() if " ERROR " in line or "Traceback" in line] == []
    finally:
        if gateway.poll() is None:
            gateway.kill()
            gateway.wait()


# ---- MQTT worker processes: no password in any process's arguments -----------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _argv(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_mqtt_worker_processes_get_the_broker_url_from_the_environment_not_argv(tmp_path):
    secret = "worker-secret-not-for-ps"
    env = {
        **os.environ,
        "WUXIN_DATABASE_URL": f"sqlite:///{tmp_path}/w.db",
        "WUXIN_MQTT_URL": f"mqtt://wuxin-worker:{secret}@127.0.0.1:{free_port()}",
    }  # no broker: they keep retrying
    parent = subprocess.Popen(
        [*WUXIN, "ingest", "mqtt", "--processes", "2"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(3000):  # both started, past exec (slow on a busy machine)
            argv = [_argv(pid) for pid in [parent.pid, *_children(parent.pid)]]
            if len(argv) == 3 and all("--client-id" in line for line in argv[1:]):
                break
            time.sleep(0.05)
        assert len(argv) == 3 and all("--client-id" in line for line in argv[1:]), argv
        assert not any(secret in line for line in argv), argv
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=60) == 0
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
