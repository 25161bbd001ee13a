"""Fabricated data, judged once a day per device and property against the device's own history; pure.

Four tests, each on one property's time-ordered (ts_ms, value) series:

  copy    a run of readings each exactly equal to the reading one `period_ms` earlier (a day replayed with its
          stamps shifted): only readings that changed from the one before count, so a parked truck or an idle
          machine repeating itself is not a copy; the run must hold `min_copy_points` readings over `min_copy_s`.
  replay  the day's shape against every earlier day of a window (a week looped, a shifted, scaled or lightly noised
          copy), with a threshold from the device's own day-to-day similarity (see alerts/copies.py).
  flat    a non-zero value held exactly, reading after reading (`min_flat_points` or more), for at least `min_flat_s`
          up to the judged day (a run begun the evening before is judged whole), at a level the device never
          held for a quarter of that in its earlier days (`min_history_days` of them at least) (a machine's standby current is its own habit; a dust or
          volume reading without its noise is not).
  smooth  the day's roughness (median |second difference| where the values move) below `smooth_ratio` of the
          device's usual roughness: a noiseless curve where the device is normally noisy. With `smooth_relative`
          the roughness is taken relative to the day's median level, for sensors whose noise is a share of what they
          measure (an RFID reader misses a share of the tags): a zone drawn down to a few pallets is quieter, not forged.
          A day whose spread is under `min_variation_share` (0.25) of the device's usual daily spread is not judged
          smooth: a machine on standby is quiet because nothing happens.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from wuxin.alerts.copies import copy_check
from wuxin.alerts.copies import explain as explain_copy
from wuxin.indicators.days import DAY_MS

Series = Sequence[tuple[int, float]]


@dataclass(frozen=True)
class Run:
    points: int
    start_ms: int
    end_ms: int
    value: float | None = None

    @property
    def span_ms(self) -> int:
        return self.end_ms - self.start_ms


def copy_run(series: Series, from_ms: int, to_ms: int, period_ms: int = DAY_MS) -> Run | None:
    """The longest run, within [from_ms, to_ms), of changed readings equal to the reading one period earlier."""
    earlier = dict(series)
    best: Run | None = None
    run: Run | None = None
    prev: float | None = None
    for ts, value in series:
        changed, prev = prev is not None and value != prev, value
        if not changed or not from_ms <= ts < to_ms:
            continue
        if earlier.get(ts - period_ms) == value:
            run = Run(run.points + 1, run.start_ms, ts) if run else Run(1, ts, ts)
            if best is None or run.points > best.points:
                best = run
        else:
            run = None
    return best


def flat_runs(series: Series) -> list[Run]:
    """Stretches of a non-zero value repeated exactly (two readings or more)."""
    out: list[Run] = []
    start: int | None = None
    last: int | None = None
    n, prev = 0, None
    ends: list[tuple[int | None, float | None]] = [(None, None)]
    for ts, value in list(series) + ends:
        if value is not None and value == prev and value != 0:
            n += 1
            last = ts
            continue
        if n >= 2 and start is not None and last is not None:  # a run of two readings or more has both times
            out.append(Run(n, start, last, prev))
        start, last, n, prev = ts, ts, 1, value
    return out


def roughness(series: Series, min_points: int = 12) -> float | None:
    """Median |second difference| over the triples where the value moves; None with too few of them."""
    values = [v for _, v in series]
    diffs = [
        abs(values[i + 1] - 2 * values[i] + values[i - 1])
        for i in range(1, len(values) - 1)
        if not values[i - 1] == values[i] == values[i + 1]
    ]
    return statistics.median(diffs) if len(diffs) >= min_points else None


def day_roughness(series: Series, relative: bool) -> float | None:
    """The roughness of a day, divided by its median |level| when `relative` (None at a zero level)."""
    rough = roughness(series)
    if rough is None or not relative:
        return rough
    level = statistics.median(abs(v) for _, v in series)
    return rough / level if level else None


def spread(day: Series, relative: bool) -> float | None:
    """A day's population standard deviation (divided by its median |level| when `relative`); None when unknown."""
    if len(day) < 2:
        return None
    sd = statistics.pstdev(v for _, v in day)
    if not relative:
        return sd
    level = statistics.median(abs(v) for _, v in day)
    return sd / level if level else None


def varies(today: Series, before: Series, day_start_ms: int, history_days: int, share: float, relative: bool) -> bool:
    """The day moves: its spread at least `share` of the device's usual daily spread (median over its earlier days);
    a standby day is smooth because nothing happens, and is not judged smooth."""
    days = (
        [p for p in before if d <= p[0] < d + DAY_MS]
        for d in range(day_start_ms - history_days * DAY_MS, day_start_ms, DAY_MS)
    )
    spreads = [s for s in (spread(day, relative) for day in days) if s is not None]
    mine = spread(today, relative)
    if not spreads or mine is None:
        return True
    return mine >= share * statistics.median(spreads)


def fabricated_verdict(series: Series, day_start_ms: int, params: Mapping) -> dict | None:
    """The first test the day [day_start_ms, +1 day) fails, with its figures; None when the data look real.
    `series` holds the device's earlier days too (at least one for the copy test, `history_days` for the others)."""
    day_end = day_start_ms + DAY_MS
    tests = params.get("tests", ("copy", "replay", "flat", "smooth"))
    period = int(params.get("period_ms", DAY_MS))
    run = (
        copy_run(series, day_start_ms - DAY_MS, day_end, period) if "copy" in tests else None
    )  # seen whole across midnight
    if (
        run
        and run.points >= params.get("min_copy_points", 16)
        and run.span_ms >= params.get("min_copy_s", 21600) * 1000
    ):
        return {"test": "copy", "points": run.points, "from_ms": run.start_ms, "to_ms": run.end_ms, "period_ms": period}
    if "replay" in tests:
        check = copy_check(series, day_start_ms, params.get("replay", {}))
        if check is not None and check.copied:
            return explain_copy(check)
    before = [p for p in series if p[0] < day_start_ms]
    today = [p for p in series if day_start_ms <= p[0] < day_end]
    if not before or not today:
        return None
    min_flat_ms = params.get("min_flat_s", 21600) * 1000
    runs = flat_runs([p for p in series if p[0] < day_end])  # a run ending today is seen whole across midnight
    habits = {r.value for r in runs if r.end_ms < day_start_ms and r.span_ms >= min_flat_ms / 4}
    flat = max(
        (r for r in runs if r.end_ms >= day_start_ms and r.value not in habits), key=lambda r: r.span_ms, default=None
    )
    known_ms = params.get("min_history_days", 3) * DAY_MS  # the device's habits are known: its history before the run
    if (
        "flat" in tests
        and flat
        and flat.span_ms >= min_flat_ms
        and flat.points >= params.get("min_flat_points", 12)
        and series[0][0] <= flat.start_ms - known_ms
    ):
        return {
            "test": "flat",
            "value": flat.value,
            "points": flat.points,
            "from_ms": flat.start_ms,
            "to_ms": flat.end_ms,
        }
    ratio = params.get("smooth_ratio", 0.2)
    if "smooth" not in tests:
        return None
    relative = bool(params.get("smooth_relative", False))
    each_day = [
        day_roughness([p for p in before if d <= p[0] < d + DAY_MS], relative)
        for d in range(day_start_ms - int(params.get("history_days", 7)) * DAY_MS, day_start_ms, DAY_MS)
    ]
    daily = [r for r in each_day if r is not None]
    rough = day_roughness(today, relative)
    if rough is None or len(daily) < params.get("min_history_days", 3):
        return None
    if not varies(
        today,
        before,
        day_start_ms,
        int(params.get("history_days", 7)),
        params.get("min_variation_share", 0.25),
        relative,
    ):
        return None  # a machine on standby, a stopped plant: quiet, not forged
    usual = statistics.median(daily)
    if usual > 0 and rough < ratio * usual:
        return {"test": "smooth", "roughness": round(rough, 6), "usual_roughness": round(usual, 6)}
    return None
