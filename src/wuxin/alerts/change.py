"""Change detection on a borrower's daily indicators against its own baseline; pure.

The decision is a robust band: the day's value against the median and MAD of the same borrower's
history on comparable days (same weekday when there are enough, else all days), outside
`median -/+ max(z * 1.4826 * MAD, min_rel_change * |median|)`. With `rest_share`, the borrower's own rest days
(a value under rest_share x its usual high level: Sundays, holidays) are left out of the baseline, and a day whose
weekday was mostly a rest day before is not judged at all. `days_outside` counts consecutive judged days outside
the band, so a rule can ask for a multi-day change (an idle week, not one holiday). The regime's start is then located
with ruptures' PELT (L2 cost, BIC-like penalty) over the whole series, so a warning says since when.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class BandCheck:
    value: float
    median: float
    low: float
    high: float
    baseline_days: int
    direction: str | None  # "below", "above" or None (inside the band)
    rest_day: bool = False  # the borrower usually rests on this weekday: not judged


def weekday(day: int) -> int:
    """0 = Monday for a day number since 1970-01-01 (a Thursday)."""
    return (day + 3) % 7


def band_check(
    history: Sequence[tuple[int, float]],
    day: int,
    value: float,
    z: float = 4.0,
    min_rel_change: float = 0.3,
    min_days: int = 7,
    same_weekday_min: int = 3,
    rest_share: float | None = None,
    workday: bool = False,
) -> BandCheck | None:
    """Is (day, value) outside the borrower's own normal band? None when the history is too short. `workday` marks
    an official make-up working day: judged even on a weekday the borrower usually rests."""
    past = [(d, v) for d, v in history if d < day and v is not None and math.isfinite(v)]
    if len(past) < min_days:
        return None
    if rest_share is not None:
        usual_high = float(np.quantile([v for _, v in past], 0.9))
        rest = {d for d, v in past if v < rest_share * usual_high}
        same = [d for d, _ in past if weekday(d) == weekday(day)]
        if same and sum(d in rest for d in same) * 2 > len(same) and not workday:
            return BandCheck(value, usual_high, -math.inf, math.inf, 0, None, rest_day=True)
        past = [(d, v) for d, v in past if d not in rest]
        if len(past) < max(3, min_days // 2):
            return None
    same_values = [v for d, v in past if weekday(d) == weekday(day)]
    sample = np.array(same_values if len(same_values) >= same_weekday_min else [v for _, v in past], dtype=float)
    median = float(np.median(sample))
    spread = max(z * MAD_TO_SIGMA * float(np.median(np.abs(sample - median))), min_rel_change * abs(median), 1e-9)
    low, high = median - spread, median + spread
    direction = "below" if value < low else "above" if value > high else None
    return BandCheck(value, median, low, high, len(sample), direction)


def days_outside(
    series: Sequence[tuple[int, float]],
    day: int,
    wanted: str,
    needed: int,
    workdays: frozenset[int] = frozenset(),
    **band,
) -> int:
    """Consecutive judged days up to `day` outside the band in the `wanted` direction ("below", "above", "both"),
    counting at most `needed`; rest days and days without a value are stepped over (absent is not zero); `workdays`
    are official make-up working days (see band_check)."""
    values = dict(series)
    count = 0
    for d in range(day, day - needed - 7, -1):
        if d not in values:
            continue
        check = band_check(series, d, values[d], workday=d in workdays, **band)
        if check is None:
            break
        if check.rest_day:
            continue
        if not (check.direction == wanted or (wanted == "both" and check.direction)):
            break
        count += 1
        if count >= needed:
            break
    return count


def change_point(values: Sequence[float], min_size: int = 2) -> int | None:
    """Index where the last regime of the series starts (PELT, L2), or None when there is one regime."""
    series = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if len(series) < 2 * min_size + 1:
        return None
    import ruptures

    sigma = float(np.std(np.diff(series))) / math.sqrt(2) or 1e-6
    penalty = 3.0 * sigma**2 * math.log(len(series))
    breaks = ruptures.Pelt(model="l2", min_size=min_size, jump=1).fit(series.reshape(-1, 1)).predict(pen=penalty)
    return breaks[-2] if len(breaks) >= 2 else None
