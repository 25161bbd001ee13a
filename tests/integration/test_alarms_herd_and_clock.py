"""Two rules through the platform: a cow's fever judged against her herd on the sweep (a hot afternoon warms every
cow, a sick one leaves the herd), and a device clock hours off the platform's receive time, persistent over batches."""

from __future__ import annotations

import random

from wuxin.indicators.days import HOUR_MS
from wuxin.services.devices import registry
from wuxin.services.ingest.telemetry import ingest_lines
from wuxin.services.monitoring import sweeps
from wuxin.sim.spec import make_uscc


def alarms(platform, alarm_type: str, status: str | None = None) -> list[tuple[str, str]]:
    with platform.uow() as uow:
        rows = uow.monitoring.list_alarms(None, None, status, None, 1000)
        keys = {d["id"]: d["key"] for e in uow.enterprises.list() for d in uow.devices.list(e["id"])}
    return sorted((keys.get(r["device_id"]), r["status"]) for r in rows if r["alarm_type"] == alarm_type)


def farm(platform, collars: int) -> None:
    firm = registry.create_enterprise(
        platform,
        None,
        "和林格尔恒达牧业有限公司",
        make_uscc(random.Random(11)),
        "dairy",
        "内蒙古自治区呼和浩特市和林格尔县",
    )
    for c in range(collars):
        registry.register_device(platform, None, firm, f"collar-{c:02d}", "dairy.collar", "bank_installed")


def herd_hour(ts: int, sick: bool) -> list[dict]:
    """Twelve collars at one hour of a hot afternoon (39.6 C for all), collar-00 1 C above when sick."""
    return [
        {
            "device": f"collar-{c:02d}",
            "ts": ts,
            "values": {"body_temp_c": round(39.6 + 0.02 * c + (1.0 if sick and c == 0 else 0), 2)},
        }
        for c in range(12)
    ]


def test_a_cow_above_her_herd_for_six_hours_has_a_fever_a_hot_herd_does_not(platform):
    farm(platform, 12)
    start = platform.clock_ms() // HOUR_MS * HOUR_MS - 10 * HOUR_MS
    for h in range(10):  # sick from hour 3; the sweep runs every hour as the data come in
        platform.clock.now_ms = start + h * HOUR_MS + 60_000
        assert not ingest_lines(platform, herd_hour(start + h * HOUR_MS, h >= 3), "bulk").rejections
        sweeps.sweep_herd_relative(platform)
        assert alarms(platform, "fever") == ([("collar-00", "active")] if h >= 9 else [])  # 39.6 C alone is no fever
    with platform.uow() as uow:
        (alarm,) = [a for a in uow.monitoring.list_alarms(None, None, None, None, 10) if a["alarm_type"] == "fever"]
    assert alarm["started_ms"] == start + 9 * HOUR_MS and alarm["detail"]["since_ms"] == start + 3 * HOUR_MS
    assert 0.8 < alarm["detail"]["excess"] < 1.0  # 1 C above her own healthy reading
    platform.clock.now_ms = start + 10 * HOUR_MS + 60_000
    ingest_lines(platform, herd_hour(start + 10 * HOUR_MS, False), "bulk")
    sweeps.sweep_herd_relative(platform)
    assert alarms(platform, "fever") == [("collar-00", "cleared")]


def test_a_clock_eight_hours_ahead_raises_clock_skew_once_it_lasted_two_hours(platform):
    farm(platform, 2)
    for h in range(4):  # collar-00 stamps its readings 8 h ahead; collar-01 is on time
        now = platform.clock_ms()
        lines = [
            {"device": "collar-00", "ts": now + 8 * HOUR_MS, "values": {"body_temp_c": 38.6}},
            {"device": "collar-01", "ts": now - 60_000, "values": {"body_temp_c": 38.6}},
        ]
        assert not ingest_lines(platform, lines, "mqtt").rejections
        assert alarms(platform, "clock_skew") == ([("collar-00", "active")] if h >= 2 else [])
        platform.clock.advance(HOUR_MS)
    ingest_lines(
        platform, [{"device": "collar-00", "ts": platform.clock_ms(), "values": {"body_temp_c": 38.6}}], "mqtt"
    )
    assert alarms(platform, "clock_skew") == [("collar-00", "cleared")]  # set right: cleared
