"""The monitoring sweep as the platform runs it: started and stopped with the app, offline by each device type's
heartbeat (event-only types exempt), and the daily rules after China midnight on fresh indicators, once per day
across restarts."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.world import build_world, login
from wuxin.api.app import create_app
from wuxin.bootstrap import build_platform
from wuxin.indicators import days as monitoring_days
from wuxin.indicators.days import DAY_MS
from wuxin.services.devices import registry
from wuxin.services.ingest.telemetry import ingest_lines
from wuxin.services.monitoring import daily, sweeps

STEP_MS = 300_000


def alarm_types(platform, **filters) -> list[tuple[str, str | None]]:
    with platform.uow() as uow:
        rows = uow.monitoring.list_alarms(None, None, filters.get("status"), None, 1000)
        keys = {d["id"]: d["key"] for e in uow.enterprises.list() for d in uow.devices.list(e["id"])}
    return sorted((r["alarm_type"], keys.get(r["device_id"])) for r in rows)


def test_the_app_starts_the_sweeper_and_stops_it(platform):
    platform.settings.sweep_interval_s = 0.01
    build_world(platform)
    app = create_app(platform)
    with TestClient(app) as client:
        sweeper = app.state.monitoring_sweeper
        assert client.get("/api/v1/alarms", headers=login(client, "risk")).status_code == 200
        assert sweeper.swept.wait(20), "no sweep finished while the app ran"
        assert sweeper.alive
    assert not sweeper.alive
    with platform.uow() as uow:  # the round also ran the daily rules for yesterday (China time)
        state = uow.monitoring.states([daily.DAILY_CURSOR])[daily.DAILY_CURSOR]
    assert state["day"] == monitoring_days.local_day(platform.clock_ms()) - 1


def test_offline_follows_the_heartbeat_and_spares_event_only_devices(platform):
    world = build_world(platform)
    registry.register_device(platform, None, world.fleet, "adas-01", "vehicles.adas_unit", "bank_installed")
    now = platform.clock_ms()
    ingest_lines(
        platform,
        [
            {"device": "loom-01", "ts": now, "values": {"current_a": 1.0}},
            {"device": "truck-01", "ts": now, "values": {"lat": 29.9, "lon": 121.6}},
            {"device": "adas-01", "ts": now, "event": "fatigue", "params": {}},
        ],
        "http",
    )
    sweeps.sweep(platform)
    platform.clock.advance(15 * 60_000)  # past the bracelet's 600 s heartbeat, within the GPS terminal's 1,800 s
    sweeps.sweep(platform)
    assert ("device_offline", "loom-01") in alarm_types(platform, status="active")
    assert ("device_offline", "truck-01") not in alarm_types(platform)
    platform.clock.advance(
        2 * DAY_MS
    )  # the ADAS unit has been silent for two days: it speaks only when it sees something
    sweeps.sweep(platform)
    offline = [k for t, k in alarm_types(platform) if t == "device_offline"]
    assert sorted(offline) == ["loom-01", "truck-01"]  # not the ADAS unit; the meter never spoke: unknown, not offline
    ingest_lines(platform, [{"device": "loom-01", "ts": platform.clock_ms(), "values": {"current_a": 1.0}}], "http")
    sweeps.sweep(platform)
    assert ("device_offline", "loom-01") not in alarm_types(platform, status="active")  # back online: cleared


def bracelet_days(first_day: int, days: int, idle_from_day: int) -> list[dict]:
    """Two looms every 5 minutes, running 08:00-20:00 China time, idle from `idle_from_day` on."""
    lines = []
    for day in range(first_day, first_day + days):
        for step in range(DAY_MS // STEP_MS):
            ts = day * DAY_MS - 8 * 3_600_000 + step * STEP_MS
            hour = step * STEP_MS // 3_600_000
            working = 8 <= hour < 20 and day < idle_from_day
            for loom in ("loom-01", "loom-02"):
                lines.append({"device": loom, "ts": ts, "values": {"current_a": 9.0 if working else 0.2}})
    return lines


def test_daily_rules_run_after_midnight_on_fresh_indicators_once_per_day(platform):
    build_world(platform)
    today = monitoring_days.local_day(platform.clock_ms())
    first, idle_from = today - 12, today - 2
    ingest_lines(platform, bracelet_days(first, 12, idle_from), "bulk")
    assert daily.run_daily_due(platform) == 1  # a first run judges yesterday: idle, and the day before too
    assert alarm_types(platform) == [("utilization_drop", None)]
    with platform.uow() as uow:
        (alarm,) = uow.monitoring.list_alarms(None, None, "active", None, 10)
    assert alarm["detail"]["days_outside"] == 2 and alarm["detail"]["value"] == 0.0
    assert daily.run_daily_due(platform) == 0  # nothing new before the next midnight

    restarted = build_platform(platform.settings, clock_ms=platform.clock)  # another process, same database
    try:
        assert daily.run_daily_due(restarted) == 0  # the last day done is stored: not evaluated twice
        platform.clock.advance(DAY_MS)
        ingest_lines(restarted, bracelet_days(today, 1, today + 1), "bulk")  # the looms run again
        assert daily.run_daily_due(restarted) == 1  # a clear
    finally:
        restarted.close()
    assert alarm_types(platform, status="active") == []
