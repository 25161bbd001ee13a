"""Industry indexes: the distribution of an indicator across the enterprises of a peer group
(scenario x region x day), published only from MIN_PEERS enterprises so no firm is exposed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_PEERS = 5


@dataclass(frozen=True)
class Distribution:
    enterprises: int
    p25: float
    median: float
    p75: float
    mean: float


def distribution(values: list[float]) -> Distribution | None:
    """Quartiles (linear interpolation) of the values; None for fewer than MIN_PEERS."""
    if len(values) < MIN_PEERS:
        return None
    arr = np.asarray(values, dtype=float)
    p25, median, p75 = np.quantile(arr, [0.25, 0.5, 0.75])
    return Distribution(len(arr), float(p25), float(median), float(p75), float(arr.mean()))


def percentile_rank(value: float, peers: list[float]) -> float | None:
    """Share of the peer group (the firm included) below the value, ties counting half, 0-100;
    None for groups smaller than MIN_PEERS."""
    if len(peers) < MIN_PEERS:
        return None
    arr = np.asarray(peers, dtype=float)
    below, equal = float(np.sum(arr < value)), float(np.sum(arr == value))
    return 100.0 * (below + 0.5 * equal) / len(arr)
