"""Daily per-device rules through the platform (SQLite and PostgreSQL): an odometer wound back raises
odometer_tamper on that truck; one machine idle two working days while the others run raises machine_idle on it;
the healthy devices beside them raise nothing."""

from __future__ import annotations

import math
import random

from wuxin.indicators.days import DAY_MS, local_day
from wuxin.services.devices import registry
from wuxin.services.ingest.telemetry import ingest_lines
from wuxin.services.monitoring.daily import evaluate_daily
from wuxin.sim.spec import make_uscc

MIN, HOUR = 60_000, 3_600_000
CN = 8 * HOUR


def _alarms(platform, alarm_type: str) -> list[dict]:
    with platform.uow() as uow:
        return [a for a in uow.monitoring.list_alarms(None, None, None, None, 1000) if a["alarm_type"] == alarm_type]


def truck_lines(device: str, first_ms: int, days: int, seed: int, wind_back_at: int | None = None) -> list[dict]:
    rng = random.Random(seed)
    odo, lat, lon, out = 80_000.0, 31.0, 120.0, []
    for t in range(first_ms, first_ms + days * DAY_MS, 5 * MIN):
        minute = (t - first_ms) % DAY_MS // MIN
        if 480 <= minute < 960:
            km = (60 + rng.gauss(0, 4)) / 12
            lon += (1 if minute < 720 else -1) * km / (111.32 * math.cos(math.radians(lat)))
            odo += km * 1.05
        shown = odo - 3_000 if wind_back_at is not None and t >= wind_back_at else odo
        out.append(
            {
                "device": device,
                "ts": t,
                "values": {"lat": round(lat, 6), "lon": round(lon, 6), "odometer_km": round(shown, 1)},
            }
        )
    return out


def test_odometer_wound_back_raises_on_that_truck_only(platform):
    firm = registry.create_enterprise(
        platform, None, "苏州顺达物流有限公司", make_uscc(random.Random(11)), "vehicles", "江苏省苏州市"
    )
    for key in ("truck-1", "truck-2"):
        registry.register_device(platform, None, firm, key, "vehicles.gps_terminal", "bank_installed")
    today = local_day(platform.clock_ms())
    first = (today - 8) * DAY_MS - CN
    wound = first + 7 * DAY_MS + 12 * HOUR
    lines = truck_lines("truck-1", first, 8, 1, wind_back_at=wound) + truck_lines("truck-2", first, 8, 2)
    assert not ingest_lines(platform, lines, "bulk").rejections
    evaluate_daily(platform, today - 2)
    assert _alarms(platform, "odometer_tamper") == []
    evaluate_daily(platform, today - 1)
    (alarm,) = _alarms(platform, "odometer_tamper")
    assert alarm["detail"]["device"] == "truck-1" and alarm["detail"]["test"] == "rollback"
    assert alarm["detail"]["rollback_km"] > 2_900 and alarm["detail"]["tolerance_km"] < 1


def machine_lines(device: str, first_ms: int, days: int, seed: int, idle: set[int]) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for t in range(first_ms, first_ms + days * DAY_MS, 15 * MIN):
        day, minute = (t - first_ms) // DAY_MS, (t - first_ms) % DAY_MS // MIN
        on = day not in idle and 480 <= minute < 1200 and rng.random() > 0.05
        out.append({"device": device, "ts": t, "values": {"current_a": round(30 + rng.gauss(0, 2), 1) if on else 1.5}})
    return out


def test_one_machine_idle_while_the_others_run_raises_machine_idle(platform):
    firm = registry.create_enterprise(
        platform, None, "常州精工机械有限公司", make_uscc(random.Random(12)), "manufacturing", "江苏省常州市"
    )
    for k in range(3):
        registry.register_device(
            platform,
            None,
            firm,
            f"lathe-{k}",
            "manufacturing.current_bracelet",
            "bank_installed",
            None,
            {"rated_current_a": 60, "run_threshold_a": 10, "machine_id": f"M{k}"},
        )
    today = local_day(platform.clock_ms())
    first = (today - 12) * DAY_MS - CN
    lines = (
        machine_lines("lathe-0", first, 12, 1, idle={10, 11})
        + machine_lines("lathe-1", first, 12, 2, set())
        + machine_lines("lathe-2", first, 12, 3, set())
    )
    assert not ingest_lines(platform, lines, "bulk").rejections
    evaluate_daily(platform, today - 2)
    assert _alarms(platform, "machine_idle") == []  # one idle day is not yet two
    evaluate_daily(platform, today - 1)
    (alarm,) = [a for a in _alarms(platform, "machine_idle") if a["status"] != "cleared"]
    assert alarm["detail"]["device"] == "lathe-0" and alarm["detail"]["running_h"] == 0.0
    assert alarm["detail"]["usual_h"] > 10 and "working days" in alarm["detail"]["threshold_from"]["en"]


def test_night_outbound_at_a_warehouse_without_weighbridge(platform):
    """No weighbridge to confirm with: the gate's own working hours (a week of daytime trucks) make 02:00 its night."""
    firm = registry.create_enterprise(
        platform, None, "昆山通达仓储有限公司", make_uscc(random.Random(13)), "logistics", "江苏省苏州市昆山市"
    )
    registry.register_device(
        platform, None, firm, "gate-1", "logistics.gate_camera", "bank_installed", None, {"zone_id": "A"}
    )
    today = local_day(platform.clock_ms())
    first = (today - 9) * DAY_MS - CN
    trucks = {first + d * DAY_MS + h * HOUR for d in range(9) for h in (9, 11, 15)}
    night = first + 8 * DAY_MS + 2 * HOUR
    day_truck = first + 8 * DAY_MS + 10 * HOUR
    lines = [
        {"device": "gate-1", "ts": t, "values": {"count_out": 20 if t in trucks | {night, day_truck} else 0}}
        for t in range(first, first + 9 * DAY_MS, 15 * MIN)
    ]
    assert not ingest_lines(platform, lines, "bulk").rejections
    evaluate_daily(platform, today - 2)
    assert _alarms(platform, "unauthorised_outbound") == []  # daytime trucks only: nothing to say
    evaluate_daily(platform, today - 1)
    (alarm,) = _alarms(platform, "unauthorised_outbound")
    assert alarm["detail"]["from_ms"] == night and 2 in alarm["detail"]["quiet_hours"]
    assert 10 not in alarm["detail"]["quiet_hours"] and "earlier days" in alarm["detail"]["threshold_from"]["en"]


def test_goods_moved_between_zones_of_a_lot_stay_pledged_and_a_lot_drawn_down_raises(platform):
    """A lot pledged as a whole over two zones: a move from zone A to B is no drawdown; the lot below its pledge
    for 30 min raises once, on the lot; back over it clears."""
    from wuxin.services.monitoring.device_rules import sweep_lots

    firm = registry.create_enterprise(
        platform, None, "太仓港联仓储有限公司", make_uscc(random.Random(14)), "logistics", "江苏省苏州市太仓市"
    )
    registry.register_device(
        platform,
        None,
        firm,
        "rfid-a",
        "logistics.rfid_reader",
        "bank_installed",
        None,
        {"zone_id": "A", "lot_id": "L1", "lot_pledged_units": 300},
    )
    registry.register_device(
        platform,
        None,
        firm,
        "rfid-b",
        "logistics.rfid_reader",
        "bank_installed",
        None,
        {"zone_id": "B", "lot_id": "L1"},
    )

    def counts(a: int, b: int) -> None:
        t = platform.clock_ms()
        assert not ingest_lines(
            platform,
            [
                {"device": "rfid-a", "ts": t, "values": {"tag_count": a}},
                {"device": "rfid-b", "ts": t, "values": {"tag_count": b}},
            ],
            "http",
        ).rejections
        sweep_lots(platform)

    def lot_alarms() -> list[dict]:
        return [a for a in _alarms(platform, "stock_below_pledge") if a["status"] != "cleared"]

    for a, b in ((200, 120), (60, 260), (20, 300)):  # goods moved from zone A to B: the lot holds 320
        counts(a, b)
        platform.clock.advance(20 * MIN)
    assert _alarms(platform, "stock_below_pledge") == []
    counts(20, 250)
    platform.clock.advance(20 * MIN)
    counts(20, 250)
    assert lot_alarms() == []  # below for 20 min only
    platform.clock.advance(15 * MIN)
    counts(20, 250)
    (alarm,) = lot_alarms()
    assert (
        alarm["detail"]["lot"] == "L1"
        and alarm["detail"]["stock_units"] == 270
        and alarm["detail"]["pledged_units"] == 300
    )
    assert alarm["detail"]["threshold_from"]["en"] == "the pledge set on the lot"
    platform.clock.advance(15 * MIN)
    counts(100, 250)
    assert lot_alarms() == []
