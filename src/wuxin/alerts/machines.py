"""A machine idle against its own working days, judged once a day per current bracelet; pure.

The enterprise's utilisation rule sees the plant; a lender's pledged machine standing still while the others work
is seen only machine by machine. Each machine's running hours per day (readings at or above its install attribute
`run_threshold_a`, each counting until the next reading, at most `max_gap_s`) are judged with the band of
alerts/change.py against the same machine's own history: its rest days (Sundays, a second shift it never runs) are
left out and a weekday it mostly rests is not judged; the day must sit below median - max(z x 1.4826 x MAD,
`min_rel_change` x median) for `min_days_outside` judged days running. A day when no machine of the enterprise
ran within its own band (a plant holiday, a power cut) is not judged per machine: the plant-wide rule says that.
The firm's own rest weekdays (alerts/workdays.py, learnt from all its machines, so one always-on compressor does not
make a Sunday a working day) are not judged for any machine; the caller takes each machine's declared periods and,
with the rule's `official_calendar`, PRC holidays out (`excluded`), and names official make-up working days
(`workdays`), judged whatever the weekday.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from wuxin.alerts.change import band_check, days_outside, weekday
from wuxin.alerts.workdays import rest_weekdays, weekday_names
from wuxin.indicators.days import DAY_MS, HOUR_MS

DEFAULTS = {
    "history_days": 28,
    "max_gap_s": 900,
    "z": 4.0,
    "min_rel_change": 0.5,
    "min_days": 7,
    "rest_share": 0.3,
    "min_days_outside": 2,
    "min_weeks": 3,
}


def running_hours(
    current: Sequence[tuple[int, float]],
    run_threshold: float,
    day_start_ms: int,
    max_gap_ms: int,
    day_end_ms: int | None = None,
) -> float | None:
    """Hours in [day_start, day_end) the machine drew at least `run_threshold`; None on a day without readings.
    `day_end_ms` is the next local day's start (23 or 25 hours later on a daylight-saving change); 24 hours without."""
    end_ms = day_start_ms + DAY_MS if day_end_ms is None else day_end_ms
    day = [(ts, v) for ts, v in current if day_start_ms <= ts < end_ms]
    if not day:
        return None
    ends = [ts for ts, _ in day[1:]] + [end_ms]
    return sum(min(end - ts, max_gap_ms) for (ts, v), end in zip(day, ends) if v >= run_threshold) / HOUR_MS


def daily_hours(
    current: Sequence[tuple[int, float]],
    run_threshold: float,
    first_day: int,
    last_day: int,
    day_start_ms,
    max_gap_ms: int,
) -> list[tuple[int, float]]:
    """(day, running hours) for each day number from first_day to last_day with readings (one pass over the series)."""
    by_day: dict[int, list[tuple[int, float]]] = {}
    starts = {d: day_start_ms(d) for d in range(first_day, last_day + 2)}
    d, bound = first_day, starts[first_day + 1]
    for ts, v in current:
        if ts < starts[first_day]:
            continue
        while d <= last_day and ts >= bound:
            d += 1
            bound = starts[d + 1] if d + 1 in starts else bound
        if d > last_day:
            break
        by_day.setdefault(d, []).append((ts, v))
    hours = [
        (day, running_hours(points, run_threshold, starts[day], max_gap_ms, starts[day + 1]))
        for day, points in sorted(by_day.items())
    ]
    return [(day, h) for day, h in hours if h is not None]


def band(p: Mapping) -> dict:
    return {
        "z": p["z"],
        "min_rel_change": p["min_rel_change"],
        "min_days": int(p["min_days"]),
        "rest_share": p["rest_share"],
    }


def judge_machines(
    hours: Mapping[int, list[tuple[int, float]]],
    day: int,
    params: Mapping | None = None,
    excluded: Mapping[int, Mapping[int, dict]] | None = None,
    workdays: frozenset[int] = frozenset(),
) -> dict[int, dict]:
    """Per machine (device id -> its (day, hours) series): "raise" with the figures when idle against its own working
    days, "clear" when back inside its band; machines not judged are left out. `excluded` (per machine: {day: why})
    are its declared shutdown / maintenance days and, with the rule's official calendar, PRC holidays: out of its
    baseline and not judged. A day on one of the firm's own rest weekdays (alerts/workdays.py) is not judged for any
    machine, unless it is an official make-up working day (`workdays`)."""
    p = {**DEFAULTS, **(params or {})}
    excluded = excluded or {}
    hours = {
        device: [(d, h) for d, h in series if d not in excluded.get(device, {})] for device, series in hours.items()
    }
    firm_rest = rest_weekdays(hours, day, p["rest_share"], int(p["min_weeks"]))
    if weekday(day) in firm_rest and day not in workdays:
        return {}
    checks = {}
    for device, series in hours.items():
        today = [h for d, h in series if d == day]
        if today:
            check = band_check(series, day, today[0], workday=day in workdays, **band(p))
            if check is not None and not check.rest_day:
                checks[device] = check
    plant_open = any(c.direction is None for c in checks.values())
    rest_words = weekday_names(firm_rest)
    out = {}
    for device, check in checks.items():
        detail = {
            "day": day,
            "running_h": round(check.value, 2),
            "usual_h": round(check.median, 2),
            "low_h": round(check.low, 2),
            "baseline_days": check.baseline_days,
            "firm_rest_weekdays": sorted(firm_rest),
            "threshold_from": {
                "en": f"this machine's own working days ({check.baseline_days}, rest days left out): "
                f"median {check.median:.1f} h minus max({p['z']:g} robust deviations, "
                f"{p['min_rel_change']:.0%}) = {check.low:.1f} h; the firm's own rest weekdays "
                f"learnt from its machines ({rest_words['en']}), declared periods"
                f"{' and PRC holidays' if p.get('official_calendar') else ''} not judged",
                "zh": f"本机自身{check.baseline_days}个工作日(休息日除外)运行时长中位数"
                f"{check.median:.1f}小时减max({p['z']:g}倍稳健离差, {p['min_rel_change']:.0%})"
                f" = {check.low:.1f}小时;企业自身休息日(由其设备历史得出:{rest_words['zh']})、"
                f"申报停产检修期{'及法定节假日' if p.get('official_calendar') else ''}不判断",
            },
        }
        mine = excluded.get(device, {})
        if mine:
            detail["excluded_days"] = sorted(mine.values(), key=lambda x: x["day"])[-10:]
        if check.direction is None:
            out[device] = {"action": "clear", **detail}
        elif check.direction == "below" and plant_open:
            needed = int(p["min_days_outside"])
            if days_outside(hours[device], day, "below", needed, workdays, **band(p)) >= needed:
                out[device] = {"action": "raise", "days_outside": needed, **detail}
    return out
