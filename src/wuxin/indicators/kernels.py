"""Vectorised building blocks for indicator functions: one device, many days, no loops per point.

Conventions: `ts` are epoch ms ascending; `days` are sorted local day numbers; every function
returns one value per requested day; NaN means unknown (never 0); a point outside the
requested days (e.g. in the look-back hour) only serves as a baseline.
"""

from __future__ import annotations

import numpy as np

from wuxin.indicators.days import CN_OFFSET_MS, DAY_MS, DEFAULT_ZONE, LOOKBACK_MS, active_zone, day_start_ms, local_day

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)
COMPLETE_COVERAGE = 0.99  # share of a day observed for its value to count as complete
Q_UNKNOWN, Q_PARTIAL, Q_COMPLETE = "unknown", "partial", "complete"
QUALITY_ORDER = {Q_UNKNOWN: 0, Q_PARTIAL: 1, Q_COMPLETE: 2}


def day_positions(day_numbers: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Index into `days` of each day number, -1 where it is not requested."""
    if len(days) == 0:
        return np.full(len(day_numbers), -1, dtype=np.int64)
    if days[-1] - days[0] == len(days) - 1:  # a contiguous run (the usual case): plain offsets
        pos = np.asarray(day_numbers, dtype=np.int64) - days[0]
        return np.where((pos >= 0) & (pos < len(days)), pos, -1)
    pos = np.searchsorted(days, day_numbers).clip(0, len(days) - 1)
    return np.where(days[pos] == day_numbers, pos, -1)


def day_index(ts: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Index into `days` of each time's local day, -1 outside them."""
    return day_positions(local_day(np.asarray(ts, dtype=np.int64)), days)


def _day_starts(day_numbers: np.ndarray) -> np.ndarray:
    """Local midnight (epoch ms) starting each day number, in the active zone."""
    if active_zone() == DEFAULT_ZONE:
        return np.asarray(day_numbers, dtype=np.int64) * DAY_MS - CN_OFFSET_MS
    unique, inverse = np.unique(day_numbers, return_inverse=True)
    return np.array([day_start_ms(int(d)) for d in unique], dtype=np.int64)[inverse].reshape(np.shape(day_numbers))


def _bincount(idx: np.ndarray, weights: np.ndarray | None, n: int) -> np.ndarray:
    ok = idx >= 0
    if weights is None:
        return np.bincount(idx[ok], minlength=n).astype(np.float64)
    return np.bincount(idx[ok], weights=weights[ok], minlength=n)


def count_per_day(ts: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Number of points (or events) in each day."""
    return _bincount(day_index(ts, days), None, len(days))


def reduce_per_day(ts: np.ndarray, x: np.ndarray, days: np.ndarray, how: str) -> np.ndarray:
    """sum | mean | max | min | first | last of the finite values in each day (NaN if none)."""
    x = np.asarray(x, dtype=np.float64)
    ok = np.isfinite(x)
    idx = np.where(ok, day_index(ts, days), -1)
    n = len(days)
    counts = _bincount(idx, None, n)
    out = np.full(n, np.nan)
    have = counts > 0
    if how in ("sum", "mean"):
        sums = _bincount(idx, x, n)
        out[have] = sums[have] if how == "sum" else sums[have] / counts[have]
        return out
    sel = idx >= 0
    if how in ("max", "min"):
        fill = -np.inf if how == "max" else np.inf
        acc = np.full(n, fill)
        (np.maximum if how == "max" else np.minimum).at(acc, idx[sel], x[sel])
        out[have] = acc[have]
        return out
    if how in ("first", "last"):
        positions = np.flatnonzero(sel)
        chosen = np.full(n, -1)
        if how == "last":
            chosen[idx[positions]] = positions  # later positions overwrite earlier ones
        else:
            chosen[idx[positions[::-1]]] = positions[::-1]
        out[chosen >= 0] = x[chosen[chosen >= 0]]
        return out
    raise ValueError(f"reduction {how!r} is not one of sum, mean, max, min, first, last")


def held_seconds(ts: np.ndarray, mask: np.ndarray, days: np.ndarray, max_gap_ms: int) -> tuple[np.ndarray, np.ndarray]:
    """(seconds the mask held, seconds observed) per day. A sample holds until the next one
    or for `max_gap_ms`, whichever is sooner; longer silences are unobserved, not "off"."""
    return held_integral(ts, np.asarray(mask, dtype=bool).astype(np.float64), days, max_gap_ms)


def held_integral(ts: np.ndarray, x: np.ndarray, days: np.ndarray, max_gap_ms: int) -> tuple[np.ndarray, np.ndarray]:
    """(integral of x over time in x-seconds, seconds observed) per day, sample-and-hold as in
    held_seconds; NaN samples hold nothing and observe nothing."""
    n = len(days)
    if len(ts) == 0:
        return np.zeros(n), np.zeros(n)
    ts = np.asarray(ts, dtype=np.int64)
    nxt = np.empty_like(ts)
    nxt[:-1] = ts[1:]
    nxt[-1] = ts[-1] + max_gap_ms
    end = np.minimum(nxt, ts + max_gap_ms)
    day0 = local_day(ts)
    boundary = _day_starts(day0 + 1)
    first = (np.minimum(end, boundary) - ts) / 1000.0
    second = np.maximum(end - boundary, 0) / 1000.0  # max_gap < 1 day: at most one midnight
    i0, i1 = day_positions(day0, days), day_positions(day0 + 1, days)
    x = np.asarray(x, dtype=np.float64)
    seen = np.isfinite(x)
    x = np.where(seen, x, 0.0)
    covered = _bincount(i0, first * seen, n) + _bincount(i1, second * seen, n)
    held = _bincount(i0, first * x, n) + _bincount(i1, second * x, n)
    return held, covered


def counter_increase(
    ts: np.ndarray, value: np.ndarray, days: np.ndarray, max_gap_ms: int
) -> tuple[np.ndarray, np.ndarray]:
    """(increase, observed fraction) per day of a cumulative counter that may reset.

    Each step between consecutive readings belongs to the day of its later reading; a drop is
    a reset (the counter restarted from zero, so the new reading is the increase since). The
    day is fully observed when a reading in the look-back hour gives the baseline and the
    last reading lies within `max_gap_ms` of midnight. No reading in the day: NaN.
    """
    n = len(days)
    ts = np.asarray(ts, dtype=np.int64)
    value = np.asarray(value, dtype=np.float64)
    ok = np.isfinite(value)
    ts, value = ts[ok], value[ok]
    increase = np.full(n, np.nan)
    observed = np.zeros(n)
    if len(ts) == 0:
        return increase, observed
    step = np.diff(value)
    inc = np.where(step >= 0, step, value[1:])
    idx = day_index(ts[1:], days)
    sums = _bincount(idx, inc, n)
    points = count_per_day(ts, days)
    starts = _day_starts(np.asarray(days, dtype=np.int64))
    has_base = np.searchsorted(ts, starts) > np.searchsorted(ts, starts - LOOKBACK_MS)
    last = reduce_per_day(ts, ts.astype(np.float64), days, "last")
    reaches_end = last >= _day_starts(np.asarray(days, dtype=np.int64) + 1) - max_gap_ms
    have = points > 0
    increase[have] = sums[have]
    observed = np.where(have, 0.5 * has_base + 0.5 * reaches_end, 0.0)
    return increase, observed


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance on the mean Earth sphere, km."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def track_km(ts: np.ndarray, lat: np.ndarray, lon: np.ndarray, days: np.ndarray, max_speed_kmh: float) -> np.ndarray:
    """Distance along the GPS track per day (segment -> day of its later point). A lone fix
    that jumps away and back (both its segments faster than `max_speed_kmh`) is dropped;
    remaining implausible segments count nothing rather than inventing distance."""
    ts, lat, lon = np.asarray(ts, dtype=np.int64), np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    ok = np.isfinite(lat) & np.isfinite(lon)
    ts, lat, lon = ts[ok], lat[ok], lon[ok]
    if len(ts) < 2:
        return np.where(count_per_day(ts, days) > 0, 0.0, np.nan)
    fast = _fast_segments(ts, lat, lon, max_speed_kmh)
    lone = np.zeros(len(ts), dtype=bool)
    lone[1:-1] = fast[:-1] & fast[1:]
    if lone.any():
        ts, lat, lon = ts[~lone], lat[~lone], lon[~lone]
        fast = _fast_segments(ts, lat, lon, max_speed_kmh)
    seg = haversine_km(lat[:-1], lon[:-1], lat[1:], lon[1:])
    km = _bincount(day_index(ts[1:], days), np.where(fast, 0.0, seg), len(days))
    return np.where(count_per_day(ts, days) > 0, km, np.nan)


def _fast_segments(ts, lat, lon, max_speed_kmh: float) -> np.ndarray:
    seg = haversine_km(lat[:-1], lon[:-1], lat[1:], lon[1:])
    hours = np.maximum(np.diff(ts), 1000) / 3_600_000
    return seg / hours > max_speed_kmh


def episode_starts(ts: np.ndarray, mask: np.ndarray, max_gap_ms: int) -> np.ndarray:
    """Times at which the mask turns on (after off, or after a silence longer than max_gap)."""
    ts, mask = np.asarray(ts, dtype=np.int64), np.asarray(mask, dtype=bool)
    if len(ts) == 0:
        return ts
    prev_on = np.concatenate(([False], mask[:-1]))
    gap = np.concatenate(([True], np.diff(ts) > max_gap_ms))
    return ts[mask & (~prev_on | gap)]


def merged_count_per_day(times: np.ndarray, days: np.ndarray, window_ms: int) -> np.ndarray:
    """Count per day of occurrences, merging those within `window_ms` of the previous one
    (the same incident seen by an event and by readings counts once)."""
    times = np.sort(np.asarray(times, dtype=np.int64))
    if len(times) == 0:
        return np.zeros(len(days))
    new = np.concatenate(([True], np.diff(times) > window_ms))
    return count_per_day(times[new], days)


def quality(observed_fraction: np.ndarray, has_points: np.ndarray) -> np.ndarray:
    """complete / partial / unknown per day from the observed share of the day."""
    observed_fraction = np.asarray(observed_fraction, dtype=float)
    out = np.where(observed_fraction >= COMPLETE_COVERAGE, Q_COMPLETE, Q_PARTIAL).astype(object)
    return np.where(np.asarray(has_points, dtype=bool), out, Q_UNKNOWN).astype(object)


def worst(qualities) -> str:
    """The weakest of several quality flags."""
    qualities = list(qualities)
    return min(qualities, key=QUALITY_ORDER.__getitem__) if qualities else Q_UNKNOWN
