"""Daily fabricated-data rules through the platform: a bracelet's day copied from the day before raises one
alarm on that device; real days raise nothing."""

from __future__ import annotations

import random

from tests.world import build_world
from wuxin.indicators.days import DAY_MS, local_day
from wuxin.services.ingest.telemetry import ingest_lines
from wuxin.services.monitoring.daily import evaluate_daily

STEP = 15 * 60_000


def bracelet_lines(device: str, first_ms: int, days: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [
        {
            "device": device,
            "ts": t,
            "values": {"current_a": round(20 + 8 * ((t // STEP) % 96 < 40) + rng.gauss(0, 1.5), 2)},
        }
        for t in range(first_ms, first_ms + days * DAY_MS, STEP)
    ]


def stored(platform) -> list[dict]:
    with platform.uow() as uow:
        return [
            a for a in uow.monitoring.list_alarms(None, None, None, None, 100) if a["alarm_type"] == "fabricated_data"
        ]


def test_a_copied_day_raises_fabricated_data_and_real_days_do_not(platform):
    build_world(platform)
    today = local_day(platform.clock_ms())
    first = (today - 6) * DAY_MS - 8 * 3_600_000  # local midnight six days ago
    real = bracelet_lines("loom-01", first, 6, 1)
    forged_day = first + 5 * DAY_MS
    copy = [{**l, "ts": l["ts"] + DAY_MS} for l in real if forged_day - DAY_MS <= l["ts"] < forged_day]
    lines = [l for l in real if l["ts"] < forged_day] + copy + bracelet_lines("loom-02", first, 6, 2)
    assert not ingest_lines(platform, lines, "bulk").rejections
    for day in range(today - 3, today - 1):
        evaluate_daily(platform, day)
    assert stored(platform) == []  # four real days, nothing to say
    evaluate_daily(platform, today - 1)
    (alarm,) = stored(platform)
    assert alarm["rule_id"] == "manufacturing.fabricated_data" and alarm["detail"]["device"] == "loom-01"
    assert alarm["detail"]["test"] == "copy" and alarm["detail"]["points"] >= 90


def test_goods_counted_out_without_a_weighing_raise_unauthorised_outbound(platform):
    import random as _random

    from wuxin.services.devices import registry
    from wuxin.sim.spec import make_uscc

    firm = registry.create_enterprise(
        platform, None, "太仓港达仓储有限公司", make_uscc(_random.Random(5)), "logistics", "江苏省苏州市太仓市"
    )
    registry.register_device(
        platform, None, firm, "wh-cam-1", "logistics.gate_camera", "bank_installed", None, {"zone_id": "A"}
    )
    today = local_day(platform.clock_ms())
    day_start = (today - 1) * DAY_MS - 8 * 3_600_000
    booked, unbooked = day_start + 8 * 3_600_000, day_start + 14 * 3_600_000
    counts = [
        {"device": "wh-cam-1", "ts": t, "values": {"count_out": 30 if t in (booked, unbooked) else 0}}
        for t in range(day_start - 6 * 3_600_000, day_start + DAY_MS - 3 * 3_600_000, STEP)
    ]
    weighing = {
        "device": "wh-bridge-1",
        "ts": booked + 70 * 60_000,
        "event": "weighing",
        "params": {"gross_kg": 30_000, "tare_kg": 14_000, "net_kg": 16_000, "direction": "out", "plate": "苏E12345"},
    }
    assert not ingest_lines(platform, counts, "bulk").rejections
    evaluate_daily(platform, today - 1)
    assert [a for a in _all(platform) if a["alarm_type"] == "unauthorised_outbound"] == []  # no weighbridge: not judged
    registry.register_device(platform, None, firm, "wh-bridge-1", "logistics.weighbridge", "bank_installed")
    assert not ingest_lines(platform, [weighing], "bulk").rejections
    evaluate_daily(platform, today - 1)
    (alarm,) = [a for a in _all(platform) if a["alarm_type"] == "unauthorised_outbound"]
    assert alarm["rule_id"] == "logistics.unbooked_outbound" and alarm["detail"]["from_ms"] == unbooked
    assert alarm["detail"]["units"] == 30


def _all(platform) -> list[dict]:
    with platform.uow() as uow:
        return uow.monitoring.list_alarms(None, None, None, None, 100)
