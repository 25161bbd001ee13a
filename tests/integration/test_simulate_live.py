"""`wuxin simulate --live`: a simulated fleet streams to a running platform over real HTTP."""

from __future__ import annotations

import time

from typer.testing import CliRunner

from wuxin.cli.main import app
from wuxin.config import get_settings
from wuxin.sim.live import ticks


def test_ticks_pace_lines_by_the_simulated_clock():
    lines = [{"device": "a", "ts": 1000 + s * 1000, "values": {"x": s}} for s in range(10)]
    paced = list(ticks(lines, 1000, speed=5.0))  # 5 simulated seconds per tick of one wall second
    assert [due for due, _ in paced] == [1.0, 2.0]
    assert [len(batch["a"]) for _, batch in paced] == [5, 5]


def test_live_simulation_streams_into_the_platform(platform, live, monkeypatch):
    platform.clock.now_ms = int(time.time() * 1000)  # the command streams from the real now
    monkeypatch.setenv("WUXIN_DATABASE_URL", platform.settings.database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app,
            [
                "simulate",
                "--scenarios",
                "manufacturing",
                "--per-scenario",
                "1",
                "--live",
                live.url,
                "--speed",
                "1200",
                "--duration-s",
                "2",
            ],
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "0 failed posts" in result.output and " 0 refused" in result.output
    with platform.uow() as uow:
        stored = uow.telemetry.count_readings()
        batches = uow.conn.exec_driver_sql("select count(*), min(channel), max(channel) from batches").fetchone()
    assert stored > 50 and batches[0] > 5 and batches[1] == batches[2] == "http"
