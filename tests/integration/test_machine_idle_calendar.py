"""Machine idle through the platform with the firm's calendar: a lathe on its declared maintenance raises nothing while
the others run, the same lathe idle without a declaration raises; a weekend the firm never works raises nothing even
though its bracelets now report it and a compressor runs."""

from __future__ import annotations

import random

from wuxin.alerts.change import weekday
from wuxin.calendars.periods import makeup_workdays
from wuxin.indicators.days import DAY_MS, local_day
from wuxin.services.devices import calendars, registry
from wuxin.services.ingest.telemetry import ingest_lines
from wuxin.services.monitoring.daily import evaluate_daily
from wuxin.sim.spec import make_uscc

MIN, HOUR = 60_000, 3_600_000
CN = 8 * HOUR


def _lines(device: str, first_ms: int, days: int, seed: int, idle=(), always_on=False, weekend=None) -> list[dict]:
    """Runs 08:00-20:00 on the firm's working days; the bracelet is off at weekends (no readings) before `weekend`."""
    rng, out = random.Random(seed), []
    for t in range(first_ms, first_ms + days * DAY_MS, 15 * MIN):
        day, minute = (t - first_ms) // DAY_MS, (t - first_ms) % DAY_MS // MIN
        rest = weekend(day) if weekend else False
        if rest and not always_on and day < days - 2:
            continue
        on = always_on or (not rest and day not in idle and 480 <= minute < 1200 and rng.random() > 0.05)
        out.append({"device": device, "ts": t, "values": {"current_a": round(30 + rng.gauss(0, 2), 1) if on else 1.5}})
    return out


def _machine_idle(platform) -> list[str]:
    with platform.uow() as uow:
        return sorted(
            a["detail"]["device"]
            for a in uow.monitoring.list_alarms(None, None, None, None, 1000)
            if a["alarm_type"] == "machine_idle" and a["status"] != "cleared"
        )


def _plant(platform, seed: int, keys: list[str]) -> int:
    firm = registry.create_enterprise(
        platform, None, f"常州精工机械有限公司{seed}", make_uscc(random.Random(seed)), "manufacturing", "江苏省常州市"
    )
    for k in keys:
        registry.register_device(
            platform,
            None,
            firm,
            k,
            "manufacturing.current_bracelet",
            "bank_installed",
            None,
            {"rated_current_a": 60, "run_threshold_a": 10, "machine_id": k},
        )
    return firm


def test_declared_maintenance_of_one_lathe_is_not_idle_and_undeclared_idle_is(platform):
    firm = _plant(platform, 31, ["lathe-31a", "lathe-31b", "lathe-31c", "lathe-31d"])
    today = local_day(platform.clock_ms())
    first = (today - 12) * DAY_MS - CN
    lines = (
        _lines("lathe-31a", first, 12, 1, idle={10, 11})
        + _lines("lathe-31b", first, 12, 2, idle={10, 11})
        + _lines("lathe-31c", first, 12, 3)
        + _lines("lathe-31d", first, 12, 4)
    )
    assert not ingest_lines(platform, lines, "bulk").rejections
    calendars.add_periods(
        platform,
        None,
        firm,
        [
            {
                "kind": "maintenance",
                "start_ms": first + 10 * DAY_MS,
                "end_ms": first + 12 * DAY_MS,
                "device": "lathe-31a",
                "note": "spindle overhaul",
            }
        ],
    )
    evaluate_daily(platform, today - 2)
    evaluate_daily(platform, today - 1)
    assert _machine_idle(platform) == ["lathe-31b"]


def test_a_weekend_the_firm_never_works_raises_nothing(platform):
    """The last ordinary weekend (not an official make-up working day: those are judged) before today."""
    _plant(platform, 32, ["lathe-32a", "lathe-32b", "compressor-32"])
    today = local_day(platform.clock_ms())
    sunday = next(d for d in range(today - 1, today - 60, -1) if weekday(d) == 6 and not makeup_workdays([d - 1, d]))
    days = 29
    first_day = sunday + 1 - days
    weekend = lambda d: weekday(first_day + d) in (5, 6)  # noqa: E731
    first = first_day * DAY_MS - CN
    lines = (
        _lines("lathe-32a", first, days, 1, weekend=weekend)
        + _lines("lathe-32b", first, days, 2, weekend=weekend)
        + _lines("compressor-32", first, days, 3, always_on=True, weekend=weekend)
    )
    assert not ingest_lines(platform, lines, "bulk").rejections
    for day in (sunday - 1, sunday):
        evaluate_daily(platform, day)
    assert _machine_idle(platform) == []
