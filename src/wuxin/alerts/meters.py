"""An energy meter's kWh against the machines it feeds, judged once a day per meter; pure.

The machines' energy is estimated from their bracelets' currents: sum of I x V x sqrt(phases == 3 ? 3 : 1) x power
factor x time, with each machine's install attributes `voltage_v` (default 380), `power_factor` (0.85) and
`phases` (3); each reading counts until the next one, at most `max_gap_s`. The meter's day is the sum of its
forward steps (a step back is a reset or a replaced meter, benign: the count starts again from it).

The pair's own history fixes how the two relate: a robust line meter_kwh = base + slope x machines_kwh (Theil-Sen)
over the earlier days (the intercept is the plant's base load: lights, compressors; the meter's `base_load_kw`
install attribute, when given, fixes it at 24 x base_load_kw), and the day is judged by its residual against the
residuals of those days: outside +- max(z x 1.4826 x MAD, `min_rel_change` x predicted). A meter reading far more
than its machines draw (an undeclared line, power resold) or far less (a meter bypassed, currents inflated) leaves it.

Closed days (a holiday, a Sunday the firm rests, a declared shutdown: the caller's `closed` days from the calendars;
or a day its machines' own currents call closed, under `closed_share` of their usual working-day high, a few standby
amps) are not judged "below": with everything off the plant's base load is not its working base load. They stay out of
the declared-base slope, which must be physical: a machine cannot make the meter run backwards, so a fitted slope
under 0 is refused (verdict "unjudged", with the reason) instead of judging every working day against it.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy.stats import theilslopes

from wuxin.indicators.days import DAY_MS

MAD_TO_SIGMA = 1.4826
DEFAULTS = {
    "history_days": 21,
    "min_history_days": 7,
    "max_gap_s": 900,
    "z": 5.0,
    "min_rel_change": 0.15,
    "min_machine_kwh": 1.0,
    "closed_share": 0.1,
    "energy_key": "energy_kwh_total",
    "current_key": "current_a",
}
# The machines a meter feeds: the rule's `machine_device_type`, else the devices playing the `measures_machine_current` role.
Series = Sequence[tuple[int, float]]


def meter_kwh(counter: Series, start: int, end: int) -> float | None:
    """The meter's forward steps in [start, end) (from the last reading before start); None without a reading in it."""
    i = bisect.bisect_left(counter, (start,))
    before, inside = list(counter[max(i - 1, 0) : i]), _between(counter, start, end)
    if not inside:
        return None
    points = before + inside
    return sum(b - a for (_, a), (_, b) in zip(points, points[1:]) if b > a)


def _between(series: Series, start: int, end: int) -> list:
    """The readings of a time-ordered series in [start, end)."""
    return list(series[bisect.bisect_left(series, (start,)) : bisect.bisect_left(series, (end,))])


def machine_kwh(current: Series, attributes: Mapping, start: int, end: int, max_gap_ms: int) -> float:
    """kWh the machine drew in [start, end) from its current readings and its install attributes."""
    volts = float(attributes.get("voltage_v", 380.0))
    pf = float(attributes.get("power_factor", 0.85))
    phase = math.sqrt(3) if int(attributes.get("phases", 3)) == 3 else 1.0
    day = _between(current, start, end)
    ends = [ts for ts, _ in day[1:]] + [end]
    amp_hours = sum(v * min(e - ts, max_gap_ms) for (ts, v), e in zip(day, ends)) / 3_600_000
    return amp_hours * volts * phase * pf / 1000


def judge_meter(
    counter: Series,
    machines: Mapping[int, tuple[Series, Mapping]],
    meter_attributes: Mapping,
    day_starts: Sequence[int],
    params: Mapping | None = None,
    day_ends: Sequence[int] | None = None,
    closed: Sequence[int] = (),
) -> dict | None:
    """ "raise" or "clear" with the figures for the last of `day_starts` against the earlier ones; None when not judged,
    "unjudged" with a `reason` when the fit is unphysical. `day_ends` end each day (local days of the site: 23 h or
    25 h on a daylight-saving change); default 24 h later. `closed`: the day starts the calendars call closed."""
    p = {**DEFAULTS, **(params or {})}
    gap = int(p["max_gap_s"] * 1000)
    ends = list(day_ends) if day_ends is not None else [start + DAY_MS for start in day_starts]
    rows = []
    for start, end in zip(day_starts, ends):
        m = meter_kwh(counter, start, end)
        fed = sum(machine_kwh(c, a, start, end, gap) for c, a in machines.values())
        rows.append((m, fed))
    shut = closed_days(rows, day_starts, closed, p)
    m_today, fed_today = rows[-1]
    today_closed = shut[-1]
    past = [(m, f) for m, f in rows[:-1] if m is not None and f >= p["min_machine_kwh"]]
    if m_today is None or (fed_today < p["min_machine_kwh"] and not today_closed) or len(past) < p["min_history_days"]:
        return None
    x, y = np.array([f for _, f in past]), np.array([m for m, _ in past])
    base_kw = meter_attributes.get("base_load_kw")
    if isinstance(base_kw, (int, float)) and not isinstance(base_kw, bool):
        base = 24.0 * float(base_kw)
        working = [
            (m, f) for (m, f), c in zip(rows[:-1], shut[:-1]) if m is not None and not c and f >= p["min_machine_kwh"]
        ]
        if len(working) < p["min_history_days"]:
            return None
        slope = float(np.median([(m - base) / f for m, f in working]))
        origin = "the meter's base_load_kw install attribute, slope over its working days"
    else:
        slope, base = (float(v) for v in theilslopes(y, x)[:2])
        origin = "a robust line fitted to the pair's own days"
    if slope < 0:
        return {
            "action": "unjudged",
            "slope": round(slope, 4),
            "reason": {
                "en": f"not judged: the fitted slope {slope:.2f} kWh per machine-kWh is negative ({origin}); a machine "
                "cannot make the meter run backwards, so the fit is unphysical",
                "zh": f"不判断:拟合斜率{slope:.2f}(每设备千瓦时对应电表千瓦时)为负,设备用电不可能使电表倒走,拟合不符合物理",
            },
        }
    residuals = y - (base + slope * x)
    predicted = base + slope * fed_today
    spread = max(
        p["z"] * MAD_TO_SIGMA * float(np.median(np.abs(residuals - np.median(residuals)))),
        p["min_rel_change"] * abs(predicted),
    )
    gap_kwh = m_today - predicted
    detail = {
        "meter_kwh": round(m_today, 2),
        "machines_kwh": round(fed_today, 2),
        "expected_kwh": round(predicted, 2),
        "gap_kwh": round(gap_kwh, 2),
        "tolerance_kwh": round(spread, 2),
        "slope": round(slope, 4),
        "base_kwh": round(base, 2),
        "history_days": len(past),
        "machines": len(machines),
        "threshold_from": {
            "en": f"{origin} over {len(past)} earlier days: expected {predicted:.1f} kWh "
            f"+- max({p['z']:g} robust deviations of its residuals, {p['min_rel_change']:.0%})",
            "zh": f"本电表与所供设备此前{len(past)}天的稳健拟合: 预期{predicted:.1f}千瓦时"
            f"加减max({p['z']:g}倍残差稳健离差, {p['min_rel_change']:.0%})",
        },
    }
    if today_closed:
        detail["closed_day"] = {
            "en": "a closed day (calendar or machines' own currents): judged only for 'above'",
            "zh": "停工日(日历或设备自身电流判定):只判断偏高",
        }
    if abs(gap_kwh) > spread and not (today_closed and gap_kwh < 0):
        return {"action": "raise", "direction": "above" if gap_kwh > 0 else "below", **detail}
    return {"action": "clear", **detail}


def closed_days(
    rows: Sequence[tuple[float | None, float]], day_starts: Sequence[int], closed: Sequence[int], p: Mapping
) -> list[bool]:
    """For each day: closed by the calendars (`closed` day starts) or by the machines' own currents, their kWh under
    `closed_share` of their working-day high (the 90th percentile of the window's days)."""
    fed = [f for _, f in rows]
    high = float(np.quantile(fed, 0.9)) if fed else 0.0
    calendar = set(closed)
    return [start in calendar or (high > 0 and f < p["closed_share"] * high) for start, f in zip(day_starts, fed)]
