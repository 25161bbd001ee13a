"""Goods counted leaving with nothing to confirm them (unbooked outbound); pure.

A gate camera's `count_out` readings are grouped into truck episodes (non-zero counts no more than `gap_ms`
apart). An episode is confirmed when the confirming device recorded its event (a weighbridge weighing the truck
out) from `before_ms` before the episode's first count to `after_ms` after its last; an episode of at least
`min_units` units without one is goods leaving unbooked. Trucks at the gate together share one episode, so an
unbooked truck beside a booked one is not told apart (a miss, never a false alarm).

A warehouse without a weighbridge has nothing to confirm a truck with; there the gate's own history says when goods
normally leave: an episode beginning outside the shortest span of hours holding 1 - `quiet_share` of its outbound
units over its earlier days (its own night) is goods leaving unbooked at night (quiet_hours, off_hours). The hours
are the local clock of the gate's site: `clock` is its IANA zone name (daylight saving followed: a Berlin gate's 02:00
is 02:00 in summer and in winter) or a fixed offset from UTC in ms.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from wuxin.indicators.days import HOUR_MS, check_zone


@dataclass(frozen=True)
class Episode:
    start_ms: int
    end_ms: int
    units: float


def episodes(counts: Sequence[tuple[int, float]], gap_ms: int) -> list[Episode]:
    """Truck episodes from time-ordered (ts, units counted) readings."""
    out: list[Episode] = []
    for ts, units in counts:
        if not units or units <= 0:
            continue
        if out and ts - out[-1].end_ms <= gap_ms:
            last = out[-1]
            out[-1] = Episode(last.start_ms, ts, last.units + units)
        else:
            out.append(Episode(ts, ts, units))
    return out


def unconfirmed(
    found: Sequence[Episode], confirmations: Sequence[int], before_ms: int, after_ms: int, min_units: float
) -> list[Episode]:
    """Episodes of at least `min_units` with no confirmation in [start - before_ms, end + after_ms]."""
    stamps = sorted(confirmations)
    out = []
    for e in found:
        i = bisect.bisect_left(stamps, e.start_ms - before_ms)
        if e.units >= min_units and not (i < len(stamps) and stamps[i] <= e.end_ms + after_ms):
            out.append(e)
    return out


def hours_of(ts_ms: Sequence[int], clock: int | str) -> list[int]:
    """The local clock hour (0-23) of each time: in the zone `clock` names (DST-correct; the repeated hour of an
    autumn change is counted as the hour it shows), or shifted by a fixed `clock` ms."""
    if not len(ts_ms):
        return []
    if isinstance(clock, str):
        wall = pd.to_datetime(np.asarray(ts_ms, dtype=np.int64), unit="ms", utc=True).tz_convert(check_zone(clock))
        return [int(h) for h in wall.hour]
    return [(int(ts) + clock) // HOUR_MS % 24 for ts in ts_ms]


def quiet_hours(counts: Sequence[tuple[int, float]], clock: int | str, quiet_share: float) -> set[int] | None:
    """Local hours of the day (0-23 of `clock`: a zone name or a fixed offset in ms) outside the gate's own working
    span: the shortest run of consecutive hours (across midnight too) in which it counted at least 1 - `quiet_share` of
    its outbound units over its history; its night, whatever shifts it works. None with no units counted."""
    per_hour = [0.0] * 24
    moving = [(ts, units) for ts, units in counts if units and units > 0]
    for hour, (_, units) in zip(hours_of([ts for ts, _ in moving], clock), moving):
        per_hour[hour] += units
    total = sum(per_hour)
    if total <= 0:
        return None
    for length in range(1, 25):
        for start in range(24):
            span = {(start + k) % 24 for k in range(length)}
            if sum(per_hour[h] for h in span) >= (1 - quiet_share) * total:
                return set(range(24)) - span
    return set()


def off_hours(found: Sequence[Episode], quiet: set[int], clock: int | str, min_units: float) -> list[Episode]:
    """Episodes of at least `min_units` that begin in one of the gate's own quiet hours (of `clock`)."""
    big = [e for e in found if e.units >= min_units]
    return [e for e, hour in zip(big, hours_of([e.start_ms for e in big], clock)) if hour in quiet]
