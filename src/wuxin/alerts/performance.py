"""Performance ratio of a PV plant against its physics expectation, judged against its own baseline; pure.

Input: the plant's days as (day, measured_kwh, expected_kwh), expected from the station's own irradiance and
temperature (pvlib PVWatts, see scenarios/energy/indicators.py). Days whose expectation is under `min_expected_kwh`
(night-long outages of the station, snow) are not judged. The baseline is the plant's first `baseline_days` judged
days (its commissioning weeks, or the first days the platform saw), so a slow inflation cannot drag it along.

  window_days = 1 ("generation above physics"): the day's measured / expected above
      threshold = max(baseline median x (1 + model_uncertainty), baseline `quantile`) x (1 + margin)
  window_days = 7 (performance-ratio band): sum(measured) / sum(expected) over the last `window_days` judged days
      outside baseline PR x (1 - max_drop) .. baseline PR x (1 + max_rise); too high (inflated meter) is as
      suspicious as too low (degradation, outage).
Never a fixed share of capacity: a plant peaking at 60 % of its kWp inflated by 30 % is caught the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RatioCheck:
    day: int
    measured_kwh: float
    expected_kwh: float
    ratio: float  # measured / expected over the window
    baseline_pr: float  # the plant's own PR over its baseline days
    low: float  # ratio thresholds (low is 0 when only "above" is judged)
    high: float
    baseline_days: int
    window_days: int
    direction: str | None  # "above", "below" or None


def judged(
    days: Sequence[tuple[int, float | None, float | None]], min_expected_kwh: float
) -> list[tuple[int, float, float]]:
    """Days with a finite measurement and an expectation worth a ratio, in day order."""
    out = [
        (int(d), float(m), float(e))
        for d, m, e in days
        if m is not None and e is not None and math.isfinite(m) and math.isfinite(e) and e >= min_expected_kwh
    ]
    return sorted(out)


def ratio_check(
    days: Sequence[tuple[int, float | None, float | None]],
    day: int,
    *,
    window_days: int = 7,
    baseline_days: int = 14,
    min_expected_kwh: float = 1.0,
    max_rise: float = 0.20,
    max_drop: float = 0.25,
    model_uncertainty: float = 0.10,
    quantile: float = 0.95,
    margin: float = 0.25,
) -> RatioCheck | None:
    """The plant's ratio over the window ending on `day` against its baseline; None when `day` is not judged or
    the history is too short (the baseline days and the window must not overlap)."""
    rows = judged(days, min_expected_kwh)
    if not rows or rows[-1][0] < day or day not in {d for d, _, _ in rows}:
        return None
    upto = [r for r in rows if r[0] <= day]
    base, rest = upto[:baseline_days], upto[baseline_days:]
    if len(base) < baseline_days or len(rest) < window_days:
        return None
    window = rest[-window_days:]
    measured, expected = sum(m for _, m, _ in window), sum(e for _, _, e in window)
    baseline_pr = sum(m for _, m, _ in base) / sum(e for _, _, e in base)
    ratio = measured / expected
    if window_days == 1:
        daily = np.array([m / e for _, m, e in base])
        low = 0.0
        high = max(float(np.median(daily)) * (1 + model_uncertainty), float(np.quantile(daily, quantile))) * (
            1 + margin
        )
    else:
        low, high = baseline_pr * (1 - max_drop), baseline_pr * (1 + max_rise)
    direction = "above" if ratio > high else "below" if ratio < low else None
    return RatioCheck(day, measured, expected, ratio, baseline_pr, low, high, len(base), len(window), direction)


def explain(check: RatioCheck) -> dict:
    """The alarm's detail: expected, measured, ratio and the thresholds it was judged against."""
    return {
        "day": check.day,
        "window_days": check.window_days,
        "measured_kwh": round(check.measured_kwh, 2),
        "expected_kwh": round(check.expected_kwh, 2),
        "ratio": round(check.ratio, 4),
        "baseline_pr": round(check.baseline_pr, 4),
        "low": round(check.low, 4),
        "high": round(check.high, 4),
        "baseline_days": check.baseline_days,
        "direction": check.direction,
    }


def first_alarm(days: Sequence[tuple[int, float | None, float | None]], wanted: str, **params) -> int | None:
    """The first day whose check leaves the band in the `wanted` direction ("above", "below", "both"), else None."""
    for d, _, _ in judged(days, params.get("min_expected_kwh", 1.0)):
        check = ratio_check(days, d, **params)
        if check and (check.direction == wanted or (wanted == "both" and check.direction)):
            return d
    return None


def against_physics(
    series: Sequence[tuple[int, float]],
    expected: dict[int, float] | None,
    day: int,
    min_expected_kwh: float,
    min_days: int,
) -> tuple[list[tuple[int, float]] | None, str, dict]:
    """A generation series to judge for `day`, its basis ("performance_ratio", "raw_kwh" or "dark") and the words
    saying what it is, zh-CN and en.

    With the plant's own irradiance (`expected`: {day: pvlib expected kWh from its weather station}), each day becomes
    its performance ratio measured / expected, so an overcast day (low irradiance, low expectation) is not a drop;
    a day whose expectation is under `min_expected_kwh` (dark, snow) is not judged (None). Only when the plant has no
    irradiance for the day, or too few days with it for a band (`min_days`), the raw kWh are judged."""
    expected = expected or {}
    if day in expected and expected[day] is not None:
        if expected[day] < min_expected_kwh:
            return (
                None,
                "dark",
                {
                    "en": f"not judged: expected generation from measured irradiance {expected[day]:.1f} kWh "
                    f"is under {min_expected_kwh:g} kWh",
                    "zh": f"不判断:按实测辐照的理论发电量{expected[day]:.1f}千瓦时低于{min_expected_kwh:g}千瓦时",
                },
            )
        ratios = [
            (d, v / expected[d]) for d, v in series if expected.get(d) is not None and expected[d] >= min_expected_kwh
        ]
        if sum(1 for d, _ in ratios if d != day) >= min_days:
            return (
                ratios,
                "performance_ratio",
                {
                    "en": f"judged as generation / expected generation from the plant's own measured irradiance "
                    f"(pvlib; expected {expected[day]:.1f} kWh today)",
                    "zh": f"按发电量/本站实测辐照下的理论发电量(pvlib,今日理论{expected[day]:.1f}千瓦时)判断",
                },
            )
    return (
        list(series),
        "raw_kwh",
        {
            "en": "judged on raw kWh against the plant's own days: no measured irradiance for this day",
            "zh": "本日无实测辐照,按原始发电量对照本电站自身历史判断",
        },
    )
