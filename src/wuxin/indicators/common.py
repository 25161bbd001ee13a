"""Recipes the packs' indicator functions are made of: each returns DayValues for a device's days."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from wuxin.indicators.declare import DayValues
from wuxin.indicators.kernels import (
    Q_COMPLETE,
    Q_PARTIAL,
    count_per_day,
    counter_increase,
    held_seconds,
    quality,
    reduce_per_day,
)
from wuxin.indicators.series import DeviceDays

MINUTE_MS = 60_000


def coverage(data: DeviceDays, key: str, max_gap_ms: int) -> tuple[np.ndarray, np.ndarray]:
    """(observed share of each day, has points) for one property held for max_gap_ms."""
    s = data.s(key)
    _, covered = held_seconds(s.ts, np.ones(len(s), dtype=bool), data.days, max_gap_ms)
    return covered / data.day_seconds(), count_per_day(s.ts, data.days) > 0


def held_hours(
    data: DeviceDays,
    key: str,
    predicate: Callable[[np.ndarray], np.ndarray],
    max_gap_ms: int,
    numeric: bool = True,
    coverage_gap_ms: int | None = None,
) -> DayValues:
    """Hours per day during which predicate(value) held (time-weighted, sample-and-hold). A device
    that reports less often while "off" observes its day with the longer `coverage_gap_ms`."""
    s = data.s(key)
    values = s.num if numeric else s.texts()
    on, covered = held_seconds(s.ts, predicate(values) if len(s) else np.zeros(0, dtype=bool), data.days, max_gap_ms)
    if coverage_gap_ms is not None:
        _, covered = held_seconds(s.ts, np.ones(len(s), dtype=bool), data.days, coverage_gap_ms)
    has = count_per_day(s.ts, data.days) > 0
    return DayValues(np.where(has, on / 3600.0, np.nan), quality(covered / data.day_seconds(), has))


def held_share(
    data: DeviceDays,
    key: str,
    predicate: Callable[[np.ndarray], np.ndarray],
    max_gap_ms: int,
    numeric: bool = True,
    within: Callable[[np.ndarray], np.ndarray] | None = None,
) -> DayValues:
    """Share (0-1) of the observed time (optionally only where within(value)) that predicate held."""
    s = data.s(key)
    values = s.num if numeric else s.texts()
    base = within(values) if within is not None and len(s) else np.ones(len(s), dtype=bool)
    on, all_covered = held_seconds(s.ts, (predicate(values) & base) if len(s) else base, data.days, max_gap_ms)
    seen = held_seconds(s.ts, base, data.days, max_gap_ms)[0] if within is not None else all_covered
    has = (count_per_day(s.ts, data.days) > 0) & (seen > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(has, on / np.where(seen > 0, seen, 1.0), np.nan)
    return DayValues(share, quality(all_covered / data.day_seconds(), has))


def counter_delta(data: DeviceDays, key: str, max_gap_ms: int, scale: float = 1.0) -> DayValues:
    """Daily increase of a cumulative counter (resets handled), times `scale`."""
    s = data.s(key)
    increase, observed = counter_increase(s.ts, s.num, data.days, max_gap_ms)
    return DayValues(increase * scale, quality(observed, np.isfinite(increase)))


def daily(data: DeviceDays, key: str, how: str, max_gap_ms: int) -> DayValues:
    """sum | mean | max | min | last of a property per day; quality from the observed share."""
    s = data.s(key)
    cover, has = coverage(data, key, max_gap_ms)
    return DayValues(reduce_per_day(s.ts, s.num, data.days, how), quality(cover, has))


def presence_quality(
    data: DeviceDays, has: np.ndarray, heartbeat_key: str | None = None, max_gap_ms: int = 2 * 3_600_000
) -> np.ndarray:
    """Quality for sparse inputs (events, milkings): with a heartbeat property, its observed
    share; without one, complete once the day is over and the device has spoken."""
    if heartbeat_key is not None:
        cover, beats = coverage(data, heartbeat_key, max_gap_ms)
        return quality(cover, has | beats)
    over = data.elapsed_s() >= data.day_seconds()
    return np.where(has, np.where(over, Q_COMPLETE, Q_PARTIAL), "unknown").astype(object)


def event_count(
    data: DeviceDays, names: tuple[str, ...], heartbeat_key: str | None, max_gap_ms: int = 2 * 3_600_000
) -> DayValues:
    """Events of the given names per day; a day the device never spoke is unknown, not zero."""
    counts = sum((count_per_day(data.e(n).ts, data.days) for n in names), np.zeros(len(data.days)))
    spoke = counts > 0
    if heartbeat_key is not None:
        spoke |= count_per_day(data.s(heartbeat_key).ts, data.days) > 0
    return DayValues(np.where(spoke, counts, np.nan), presence_quality(data, spoke, heartbeat_key, max_gap_ms))


def event_param_sum(
    data: DeviceDays, name: str, param: str, heartbeat_key: str | None, where: Callable[[dict], bool] = lambda p: True
) -> DayValues:
    """Sum of a numeric event parameter per day (events that pass `where`)."""
    events = data.e(name)
    picked = np.array([bool(where(p)) for p in events.params], dtype=bool) if len(events) else np.zeros(0, dtype=bool)
    values = np.array([float(p.get(param, np.nan)) for p in events.params]) if len(events) else np.zeros(0)
    sums = reduce_per_day(events.ts[picked], values[picked], data.days, "sum")
    spoke = count_per_day(events.ts, data.days) > 0
    if heartbeat_key is not None:
        spoke |= count_per_day(data.s(heartbeat_key).ts, data.days) > 0
    return DayValues(np.where(spoke, np.nan_to_num(sums), np.nan), presence_quality(data, spoke, heartbeat_key))


def scaled(result: DayValues, factor: float) -> DayValues:
    return DayValues(result.value * factor, result.quality)


def attribute(data: DeviceDays, name: str) -> float:
    """A numeric install attribute, NaN when the device was installed without it."""
    value = data.attributes.get(name)
    try:
        return float(value) if value is not None else float("nan")
    except (TypeError, ValueError):
        return float("nan")
