"""scripts/test-setup.sh, what `make test` runs: with no PostgreSQL where it looks, it starts a
throwaway cluster for the command it runs, and stops and removes it afterwards."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from tests.conftest import PG_URL, free_port

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "test-setup.sh"
PROBE = """
import os, psycopg
with psycopg.connect(os.environ["WUXIN_TEST_PG_URL"] + "/postgres", autocommit=True) as conn:
    print("server", conn.execute("show data_directory").fetchone()[0], conn.execute("select 6 * 7").fetchone()[0])
"""


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_no_postgresql_where_it_looks_gives_a_throwaway_cluster_stopped_and_removed_after():
    unused = free_port()  # nothing listens there: the script must make its own cluster
    env = {k: v for k, v in os.environ.items() if k != "WUXIN_TEST_PG_URL"} | {"WUXIN_TEST_PG_PORT": str(unused)}
    result = subprocess.run(
        ["bash", str(SCRIPT), sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    data_dir, answer = re.search(r"^server (\S+) (\d+)$", result.stdout, re.M).groups()
    assert answer == "42"
    started = re.search(r"started a throwaway .* in (\S+) on 127\.0\.0\.1:(\d+)", result.stderr)
    assert started, result.stderr
    cluster_dir, port = Path(started.group(1)), int(started.group(2))
    assert Path(data_dir) == cluster_dir / "data" and port != unused
    assert f"throwaway PostgreSQL stopped and {cluster_dir} removed" in result.stderr
    assert not cluster_dir.exists() and not _answers(port)
    try:
        psycopg.connect(f"postgresql://127.0.0.1:{port}/postgres", connect_timeout=5).close()
        raise AssertionError(f"a server still answers on {port}")
    except psycopg.OperationalError:
        pass


def test_the_command_s_failure_is_the_script_s_failure_and_the_cluster_still_goes():
    env = {k: v for k, v in os.environ.items() if k != "WUXIN_TEST_PG_URL"} | {"WUXIN_TEST_PG_PORT": str(free_port())}
    result = subprocess.run(
        ["bash", str(SCRIPT), "sh", "-c", "exit 7"], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 7
    cluster_dir = Path(re.search(r"started a throwaway .* in (\S+) on", result.stderr).group(1))
    assert not cluster_dir.exists() and "removed" in result.stderr


def test_a_running_postgresql_is_used_and_left_alone():
    running = urlsplit(PG_URL).port or 5432  # the server this suite runs against answers
    env = {k: v for k, v in os.environ.items() if k != "WUXIN_TEST_PG_URL"} | {"WUXIN_TEST_PG_PORT": str(running)}
    result = subprocess.run(
        ["bash", str(SCRIPT), "sh", "-c", 'echo "url=$WUXIN_TEST_PG_URL"'],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0 and f"url=postgresql://127.0.0.1:{running}" in result.stdout
    assert "throwaway" not in result.stderr and _answers(running)
