"""Goods counted leaving with nothing to confirm them (unbooked outbound); pure.

A gate camera's `count_out` readings are grouped into truck episodes (non-zero counts no more than `gap_ms`
apart). An episode is confirmed when the confirming device recorded its event (a weighbridge weighing the truck
out) from `before_ms` before the episode's first count to `after_ms` after its last; an episode of at least
`min_units` units without one is goods leaving unbooked. Trucks at the gate together share one episode, so an
unbooked truck beside a booked one is not told apart (a miss, never a false alarm).
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Sequence


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


def unconfirmed(found: Sequence[Episode], confirmations: Sequence[int], before_ms: int, after_ms: int,
                min_units: float) -> list[Episode]:
    """Episodes of at least `min_units` with no confirmation in [start - before_ms, end + after_ms]."""
    stamps = sorted(confirmations)
    out = []
    for e in found:
        i = bisect.bisect_left(stamps, e.start_ms - before_ms)
        if e.units >= min_units and not (i < len(stamps) and stamps[i] <= e.end_ms + after_ms):
            out.append(e)
    return out
