"""A device judged against its own herd at the same hour (a cow's temperature against the herd's); pure.

Heat stress, the weather or a miscalibrated batch of sensors move the whole herd; a sick animal leaves it. Each reading
is compared with the median of the herd's readings in its time bucket (buckets with fewer than `min_herd` readings are
not judged); a device whose readings stayed at least `min_excess` above the median for `duration_ms` is an outlier.
The herd count (herd_count_step) judges the share of collars reporting against the herd's own usual share.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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


def herd_outliers(
    series: Mapping[int, Series], min_excess: float, duration_ms: int, bucket_ms: int, min_herd: int
) -> tuple[dict[int, Outlier], set[int]]:
    """(devices above the herd for `duration_ms` up to their latest judged reading, devices whose latest judged
    reading is back within the herd). A device with no judged reading is in neither."""
    medians = herd_medians(series, bucket_ms, min_herd)
    outliers: dict[int, Outlier] = {}
    calm: set[int] = set()
    for device, points in series.items():
        since: int | None = None
        at: int | None = None
        latest: tuple[float, float] | None = None  # (value, herd median)
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
        if at is not None and since is not None and latest is not None:  # `at` is only set with the other two
            outliers[device] = Outlier(since, at, *latest)
        elif latest is not None and since is None:
            calm.add(device)
    return outliers, calm


# ---------------------------------------------------------------- herd count against its own variation

HERD_COUNT_DEFAULTS = {"z": 5.0, "min_drop_devices": 2, "min_samples": 12, "history_windows": 84}
MAD_TO_SIGMA = 1.4826


def herd_count_step(
    reporting: int, eligible: int, state: dict, now_ms: int, window_ms: int, params: Mapping
) -> tuple[str | None, dict]:
    """Judge the share of the herd reporting in the last window; ("raise" | "clear" | None, figures).

    Only devices past their first report window count (`eligible`: registered at least one window ago): a herd being
    installed is not a herd dropping. Once a share per window has been sampled `min_samples` times (one sample per
    window, never while below the line: a drop must not teach the herd that dropping is normal), the line is the
    herd's own usual share minus max(z x 1.4826 x MAD of its samples, `min_drop_devices` / eligible); before that,
    the declared `min_share`. The samples (at most `history_windows`) live in `state`."""
    p = {**HERD_COUNT_DEFAULTS, **params}
    if not eligible:
        return None, {}
    share = reporting / eligible
    samples = state.setdefault("samples", [])
    if len(samples) >= p["min_samples"]:
        usual = statistics.median(samples)
        mad = statistics.median(abs(s - usual) for s in samples)
        line = usual - max(p["z"] * MAD_TO_SIGMA * mad, p["min_drop_devices"] / eligible)
        origin = {
            "en": f"this herd's own usual share {usual:.3f} over {len(samples)} windows minus max({p['z']:g} robust "
            f"deviations, {p['min_drop_devices']} collars)",
            "zh": f"本牧群自身{len(samples)}个窗口上报比例中位数{usual:.3f}减max({p['z']:g}倍稳健离差, "
            f"{p['min_drop_devices']}个项圈)",
        }
    else:
        usual, line = None, float(p["min_share"])
        origin = {
            "en": f"declared minimum share {line:.2f} until {p['min_samples']} windows of the herd's own are known",
            "zh": f"积累{p['min_samples']}个窗口的自身数据前, 采用规则设定的最低比例{line:.2f}",
        }
    below = share < line
    if not below and now_ms - state.get("sampled_ms", -window_ms) >= window_ms:
        samples.append(round(share, 4))
        del samples[: -int(p["history_windows"])]
        state["sampled_ms"] = now_ms
    detail = {
        "reporting": reporting,
        "registered": eligible,
        "share": round(share, 4),
        "min_share": round(line, 4),
        "usual_share": None if usual is None else round(usual, 4),
        "threshold_from": origin,
    }
    return ("raise" if below else "clear"), detail
