"""A device judged against its own herd at the same hour (a cow's temperature against the herd's); pure.

Heat stress, the weather or a miscalibrated batch of sensors move the whole herd; a sick animal leaves it. Each reading
is compared with the median of the herd's readings in its time bucket (buckets with fewer than `min_herd` readings are
not judged); a device whose readings stayed at least `min_excess` above the median for `duration_ms` is an outlier.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Mapping, Sequence

Series = Sequence[tuple[int, float]]


@dataclass(frozen=True)
class Outlier:
    since_ms: int  # first reading of the run above the herd
    at_ms: int  # the reading at which the run had lasted `duration_ms`
    value: float  # the latest reading
    herd_median: float  # the herd's median in the latest reading's bucket


def herd_medians(series: Mapping[int, Series], bucket_ms: int, min_herd: int) -> dict[int, float]:
    """The herd's median per time bucket (ts // bucket_ms) with at least `min_herd` readings."""
    buckets: dict[int, list[float]] = defaultdict(list)
    for points in series.values():
        for ts, value in points:
            buckets[ts // bucket_ms].append(value)
    return {b: statistics.median(values) for b, values in buckets.items() if len(values) >= min_herd}


def herd_outliers(series: Mapping[int, Series], min_excess: float, duration_ms: int, bucket_ms: int,
                  min_herd: int) -> tuple[dict[int, Outlier], set[int]]:
    """(devices above the herd for `duration_ms` up to their latest judged reading, devices whose latest judged
    reading is back within the herd). A device with no judged reading is in neither."""
    medians = herd_medians(series, bucket_ms, min_herd)
    outliers, calm = {}, set()
    for device, points in series.items():
        since, at, latest = None, None, None
        for ts, value in sorted(points):
            median = medians.get(ts // bucket_ms)
            if median is None:
                continue
            latest = (value, median)
            if value - median < min_excess:
                since = at = None
                continue
            since = ts if since is None else since
            if at is None and ts - since >= duration_ms:
                at = ts
        if at is not None:
            outliers[device] = Outlier(since, at, *latest)
        elif latest is not None and since is None:
            calm.add(device)
    return outliers, calm
