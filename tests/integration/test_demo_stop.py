"""`wuxin demo` stopped the way a service manager stops it (SIGTERM) leaves nothing running behind."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from wuxin.ingest.mqtt.broker import free_port


def _kill_left_behind(marker: str) -> None:
    """Kill what a failure left running whose command line names `marker` (pkill -f, without procps)."""
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if marker in (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                os.kill(int(proc.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_sigterm_stops_the_api_the_gateway_and_the_demo_broker(tmp_path):
    api_port, jt808_port = free_port(), free_port()
    env = dict(
        os.environ,
        WUXIN_DATABASE_URL=f"sqlite:///{tmp_path / 'demo.db'}",
        WUXIN_PORT=str(api_port),
        WUXIN_JT808_PORT=str(jt808_port),
        WUXIN_VAR_DIR=str(tmp_path / "var"),
        COLUMNS="400",
    )
    demo = subprocess.Popen(
        [sys.executable, "-m", "wuxin.cli.main", "demo", "--days", "1", "--per-scenario", "1"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    said = ""
    try:
        deadline = time.monotonic() + 300
        while "Mosquitto on" not in said and demo.poll() is None and time.monotonic() < deadline:
            said += demo.stdout.readline()
        broker_port = int(re.search(r"Mosquitto on 127\.0\.0\.1:(\d+)", said).group(1))
        while not _port_open(api_port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _port_open(api_port) and _port_open(jt808_port) and _port_open(broker_port), said[-2000:]
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(timeout=90) == 128 + signal.SIGTERM
        said += demo.stdout.read()
        after_stop = said[said.index("Shutting down") :]
        assert [line for line in after_stop.splitlines() if '"level": "error"' in line or "Traceback" in line] == []
        assert not _port_open(api_port) and not _port_open(jt808_port)
        assert not _port_open(broker_port), "the demo's Mosquitto outlived the demo"
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
        _kill_left_behind(str(tmp_path / "var"))  # a broker left behind by a failure
