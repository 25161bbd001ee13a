"""What a crashed cluster run leaves is removed by the next start; a live run is left alone."""
from __future__ import annotations

import os
import secrets
import subprocess

import psycopg
import pytest

from tests.cluster import harness
from tests.cluster.harness import PREFIX, STATE_DIR, remove_leftovers, remove_run, run

pytestmark = pytest.mark.postgres


def fake_run(owner_pid: int) -> tuple[str, subprocess.Popen]:
    """A run as a crash leaves it: state dir, namespace with a process in it, bridge, database."""
    run_id = secrets.token_hex(2)
    (STATE_DIR / run_id).mkdir(parents=True)
    (STATE_DIR / run_id / "owner.pid").write_text(str(owner_pid))
    run("ip", "netns", "add", f"{PREFIX}-{run_id}-b1")
    run("ip", "link", "add", f"{PREFIX}{run_id}", "type", "bridge")
    sleeper = subprocess.Popen(["ip", "netns", "exec", f"{PREFIX}-{run_id}-b1", "sleep", "60"])
    with psycopg.connect(f"{harness._server_url(harness.PG_URL)}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{PREFIX}_{run_id}"')
    return run_id, sleeper


def leftovers_of(run_id: str) -> list[str]:
    found = []
    if f"{PREFIX}-{run_id}-" in run("ip", "netns", "list").stdout:
        found.append("namespace")
    if run("ip", "link", "show", f"{PREFIX}{run_id}", check=False).returncode == 0:
        found.append("bridge")
    if (STATE_DIR / run_id).exists():
        found.append("state dir")
    with psycopg.connect(f"{harness._server_url(harness.PG_URL)}/postgres") as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (f"{PREFIX}_{run_id}",)).fetchone():
            found.append("database")
    return found


def test_a_crashed_runs_leftovers_are_removed_and_a_live_run_is_kept():
    assert os.geteuid() == 0, "the cluster harness makes network namespaces: run it as root"
    dead = subprocess.Popen(["true"])
    dead.wait()
    crashed, crashed_sleeper = fake_run(dead.pid)
    live, live_sleeper = fake_run(os.getpid())
    try:
        assert leftovers_of(crashed) == ["namespace", "bridge", "state dir", "database"]
        assert crashed in remove_leftovers()
        assert leftovers_of(crashed) == []
        assert crashed_sleeper.wait(timeout=10) == -9  # the process in its namespace was killed
        assert leftovers_of(live) == ["namespace", "bridge", "state dir", "database"]
        assert live_sleeper.poll() is None
    finally:
        for run_id in (crashed, live):
            remove_run(run_id)
        for sleeper in (crashed_sleeper, live_sleeper):
            sleeper.kill()
            sleeper.wait()
