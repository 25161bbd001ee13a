"""A vehicle's odometer against itself and against its GPS track, judged once a day; pure.

  rollback  the odometer stepping back by more than the device's own tolerance: twice the largest backward step it
            showed in its earlier days (a GPS-derived odometer jitters), at least twice its reporting resolution
            (`resolution_km`, the thing model's step: 0.1 km). A step down
            to under `reset_below_km` is a counter reset or a replaced terminal (benign): it starts a new segment,
            and the distance sums continue from it.
  distance  the day's odometer distance (sum of forward steps, resets left out) against the GPS distance (haversine
            over the fixes, legs implying more than `max_speed_kmh` left out as jumps, under `min_speed_kmh` as a parked
            receiver's jitter), as a ratio; judged on days
            with at least `min_gps_km` driven, against the same ratio on the device's own earlier days: outside
            median +- max(z x 1.4826 x MAD, `min_rel_change` x median). Sparse fixes cut corners, so a device's ratio is
            its own habit (above 1 on winding roads); a wound-back or inflated odometer leaves it.
Days are the local days of `zone` (the vehicle's site; None: fixed 24 h days from `day_start_ms`), so a truck based
in Berlin is judged on Berlin days, 23 h or 25 h long on a daylight-saving change.
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from wuxin.alerts.geofence import haversine_km
from wuxin.indicators.days import DAY_MS, HOUR_MS, local_day
from wuxin.indicators.days import day_start_ms as zone_day_start

MAD_TO_SIGMA = 1.4826
DEFAULTS = {
    "history_days": 14,
    "min_history_days": 5,
    "min_gps_km": 20.0,
    "z": 5.0,
    "min_rel_change": 0.15,
    "reset_below_km": 10.0,
    "max_speed_kmh": 200.0,
    "min_speed_kmh": 3.0,
    "resolution_km": 0.1,
}
Series = Sequence[tuple[int, float]]


@dataclass(frozen=True)
class Steps:
    forward_km: float
    backward: list[tuple[int, float, float]]  # (ts, from_km, to_km) of each step back that is no reset
    resets: list[tuple[int, float, float]]


def steps(odometer: Series, reset_below_km: float) -> Steps:
    """Forward distance, backward steps and resets over time-ordered odometer readings."""
    forward = 0.0
    back: list[tuple[int, float, float]] = []
    resets: list[tuple[int, float, float]] = []
    for (t0, a), (t1, b) in zip(odometer, odometer[1:]):
        if b > a:
            forward += b - a
        elif b < a:
            (resets if b < reset_below_km else back).append((t1, a, b))
    return Steps(forward, back, resets)


def gps_km(track: Sequence[tuple[int, float, float]], max_speed_kmh: float, min_speed_kmh: float = 0.0) -> float:
    """Haversine distance over time-ordered (ts, lat, lon) fixes, legs faster than `max_speed_kmh` (jumps) or slower
    than `min_speed_kmh` (a parked receiver's jitter: a refuelling stop, a night in the yard) left out."""
    total = 0.0
    for (t0, la0, lo0), (t1, la1, lo1) in zip(track, track[1:]):
        km = haversine_km(la0, lo0, la1, lo1)
        hours = (t1 - t0) / HOUR_MS
        if hours > 0 and min_speed_kmh <= km / hours <= max_speed_kmh:
            total += km
    return total


def _day(series, start: int, end: int | None = None) -> list:
    """The readings of a time-ordered series in [start, end) (default: start + 24 h)."""
    end = start + DAY_MS if end is None else end
    return list(series[bisect.bisect_left(series, (start,)) : bisect.bisect_left(series, (end,))])


def day_bounds(day_start_ms: int, back: int, zone: str | None) -> tuple[int, int]:
    """[start, end) of the day `back` days before the one starting at `day_start_ms`: local days of `zone`, or
    fixed 24 h days when zone is None."""
    if zone is None:
        start = day_start_ms - back * DAY_MS
        return start, start + DAY_MS
    day = local_day(int(day_start_ms), zone) - back
    return zone_day_start(day, zone), zone_day_start(day + 1, zone)


def _last_before(series, start: int) -> list:
    i = bisect.bisect_left(series, (start,))
    return list(series[max(i - 1, 0) : i])


def judge(
    odometer: Series,
    track: Sequence[tuple[int, float, float]],
    day_start_ms: int,
    params: Mapping | None = None,
    zone: str | None = None,
) -> dict | None:
    """The day's rollback or distance verdict (the alarm's detail, thresholds stated), else None."""
    p = {**DEFAULTS, **(params or {})}
    days = [day_bounds(day_start_ms, back, zone) for back in range(int(p["history_days"]), 0, -1)]
    _, day_end = day_bounds(day_start_ms, 0, zone)
    earlier = list(odometer[: bisect.bisect_left(odometer, (day_start_ms,))])
    history = steps(earlier, p["reset_below_km"])
    prior = earlier[-1:]  # the last reading before the day: a step back at midnight is the day's
    today = steps(prior + _day(odometer, day_start_ms, day_end), p["reset_below_km"])
    resolution = float(p["resolution_km"])
    jitter = max((a - b for _, a, b in history.backward), default=0.0)
    tolerance = max(2 * jitter, 2 * resolution)
    worst = max(today.backward, key=lambda s: s[1] - s[2], default=None)
    if worst and worst[1] - worst[2] > tolerance:
        return {
            "test": "rollback",
            "at_ms": worst[0],
            "from_km": worst[1],
            "to_km": worst[2],
            "rollback_km": round(worst[1] - worst[2], 3),
            "tolerance_km": round(tolerance, 3),
            "threshold_from": {
                "en": f"twice this device's largest earlier backward step ({jitter:g} km) or twice its "
                f"resolution ({resolution:g} km); steps to under {p['reset_below_km']:g} km are resets",
                "zh": f"本设备此前最大回退({jitter:g}千米)或分辨率({resolution:g}千米)的两倍; "
                f"回到{p['reset_below_km']:g}千米以下视为清零/换表",
            },
        }
    ratios = [r[0] / r[1] for r in (_distances(odometer, track, start, p, end) for start, end in days) if r is not None]
    today_km = _distances(odometer, track, day_start_ms, p, day_end)
    if today_km is None or len(ratios) < p["min_history_days"]:
        return None
    odo, gps = today_km
    ratio = odo / gps
    usual = statistics.median(ratios)
    spread = max(p["z"] * MAD_TO_SIGMA * statistics.median(abs(r - usual) for r in ratios), p["min_rel_change"] * usual)
    if abs(ratio - usual) <= spread:
        return None
    return {
        "test": "distance",
        "odometer_km": round(odo, 2),
        "gps_km": round(gps, 2),
        "ratio": round(ratio, 4),
        "usual_ratio": round(usual, 4),
        "low": round(usual - spread, 4),
        "high": round(usual + spread, 4),
        "history_days": len(ratios),
        "threshold_from": {
            "en": f"this device's own odometer/GPS ratio over {len(ratios)} earlier days (median "
            f"{usual:.3f}) +- max({p['z']:g} robust deviations, {p['min_rel_change']:.0%})",
            "zh": f"本设备此前{len(ratios)}天里程表/GPS距离比(中位数{usual:.3f})"
            f"加减max({p['z']:g}倍稳健离差, {p['min_rel_change']:.0%})",
        },
    }


def _distances(odometer: Series, track, start: int, p: Mapping, end: int | None = None) -> tuple[float, float] | None:
    """A day's (odometer km, GPS km) over [start, end), None on a day with less than `min_gps_km` of GPS track."""
    km = gps_km(_day(track, start, end), p["max_speed_kmh"], p["min_speed_kmh"])
    if km < p["min_gps_km"]:
        return None
    return steps(_last_before(odometer, start) + _day(odometer, start, end), p["reset_below_km"]).forward_km, km
