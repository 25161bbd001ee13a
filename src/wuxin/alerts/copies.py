"""A day copied from any earlier day of a window (a week replayed in a loop, a shifted or lightly noised copy); pure.

The exact-copy test in alerts/fabricated.py compares a reading with the one a fixed period earlier, so a week
replayed in a loop, a copy shifted by minutes or one with a little noise added passes it. This test compares the
day's *shape* with every earlier day of the window:

  1. each day is binned (`bin_s`, mean per bin) and its slow part (a centred rolling median over `detail_bins` bins:
     shifts, working hours, the daily sun) removed: what remains is the day's own fine detail, which real days do
     not share with each other (load swings, noise), while a copy keeps it; the device's habit, the median detail
     of its earlier days bin by bin (a start-up peak at every shift start), is taken off too: it is shared by routine;
  2. two days' similarity is the largest Pearson correlation of their detail over lags up to `max_lag_s` (a copy
     shifted by minutes); a scaled copy or one with an offset correlates as well as the original;
  3. the threshold comes from the device's own history: for every earlier day, its highest similarity to the days
     before it; threshold = median + `z` x 1.4826 x MAD of those, at least `min_similarity` and at most
     `max_similarity` (a machine running one programme every day is allowed its own high resemblance).

An inverter clipping at its AC rating on clear days draws the same flat top every clear day: the bins at the device's
own ceiling (the window's highest reading, reached for at least `min_clip_bins` bins of one day) and their neighbours
within the detail window carry no detail of the day and are left out of the comparison. With fewer than
`min_threshold_days` earlier days behind the learnt threshold, it is at least `short_history_similarity`: four days
cannot say how alike this device's honest days are.

A day without real variation is not judged: fewer than `min_bins_share` of the bins filled, or a detail spread
under the device's own resolution (a machine on standby, a parked truck, a stopped plant repeat themselves, which is
no evidence of a copy; the flat and smooth tests judge those).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from wuxin.indicators.days import DAY_MS

MAD_TO_SIGMA = 1.4826
DEFAULTS = {
    "window_days": 28,
    "bin_s": 300,
    "detail_bins": 7,
    "max_lag_s": 7200,
    "z": 5.0,
    "min_similarity": 0.6,
    "max_similarity": 0.97,
    "min_bins_share": 0.5,
    "min_history_days": 5,
    "min_clip_bins": 6,
    "clip_share": 0.995,
    "min_threshold_days": 7,
    "short_history_similarity": 0.85,
}


@dataclass(frozen=True)
class CopyCheck:
    similarity: float  # the judged day's highest similarity to an earlier day
    source_day_start_ms: int  # the earlier day it resembles most
    lag_s: int  # the shift at which it resembles it (positive: the copy is later in the day)
    threshold: float
    usual: float  # median of the history's own highest similarities
    history_days: int
    z: float = DEFAULTS["z"]
    bounds: tuple[float, float] = (DEFAULTS["min_similarity"], DEFAULTS["max_similarity"])

    @property
    def copied(self) -> bool:
        return self.similarity >= self.threshold


def day_matrix(ts: np.ndarray, values: np.ndarray, first_day_ms: int, days: int, bin_ms: int) -> np.ndarray:
    """(days, bins) of per-bin means from `first_day_ms` on; NaN where a bin has no reading."""
    bins = DAY_MS // bin_ms
    idx = (ts - first_day_ms) // bin_ms
    keep = (idx >= 0) & (idx < days * bins) & np.isfinite(values)
    sums = np.bincount(idx[keep], weights=values[keep], minlength=days * bins)
    counts = np.bincount(idx[keep], minlength=days * bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return means.reshape(days, bins)


def detail(days: np.ndarray, window: int) -> np.ndarray:
    """Each day minus its centred rolling median over `window` bins (a median keeps a shift's start a step, so the
    hours a plant opens, alike every day, leave no residue); NaN stays NaN."""
    half = window // 2
    padded = np.pad(days, ((0, 0), (half, half)), constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(padded, window, axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-empty window gives NaN, as it should
        smooth = np.nanmedian(windows, axis=2)
    return days - smooth


def similarity(left: np.ndarray, right: np.ndarray, max_lag: int, min_overlap: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, n) highest lagged Pearson correlation between the days of `left` and of `right`, and the lag (bins) where
    it is; -1 below `min_overlap` shared bins. Entry [i, j] shifts day j of `right` by the lag against day i."""
    n, bins = left.shape
    lv, rv = np.isfinite(left).astype(float), np.isfinite(right).astype(float)
    lx, rx = np.where(lv > 0, left, 0.0), np.where(rv > 0, right, 0.0)
    best = np.full((n, n), -1.0)
    where = np.zeros((n, n), dtype=int)
    for lag in range(-max_lag, max_lag + 1):
        a = slice(max(lag, 0), bins + min(lag, 0))
        b = slice(max(-lag, 0), bins - max(lag, 0))
        xa, ma, xb, mb = lx[:, a], lv[:, a], rx[:, b], rv[:, b]
        count = ma @ mb.T
        sx, sy = xa @ mb.T, ma @ xb.T
        sxx, syy, sxy = (xa * xa) @ mb.T, ma @ (xb * xb).T, xa @ xb.T
        with np.errstate(invalid="ignore", divide="ignore"):
            cov = sxy - sx * sy / count
            var = (sxx - sx * sx / count) * (syy - sy * sy / count)
            corr = np.where((count >= min_overlap) & (var > 0), cov / np.sqrt(np.maximum(var, 1e-300)), -1.0)
        better = corr > best
        best = np.where(better, corr, best)
        where = np.where(better, lag, where)
    return best, where


def own_detail(details: np.ndarray) -> np.ndarray:
    """Each day's detail minus the device's habit, scaled to the day: the median detail of its earlier days (all rows
    but the last, the judged day) bin by bin. What every working day shares at the same time of day (a start-up peak when the shift
    starts, the lunch break's restart) is the machine's routine, not a copy; a copy keeps the day's own detail."""
    if len(details) < 3:
        return details
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a bin empty on every earlier day gives NaN
        habit = np.nanmedian(details[:-1], axis=0)
    habit = np.where(np.isfinite(habit), habit, 0.0)
    # the habit scaled to each day (least squares): a PV day is the clear-sky shape times its day's light, so an
    # overcast day's detail is a scaled copy of a clear day's; a machine's routine day takes its habit off ~x1
    both = np.isfinite(details)
    num = np.where(both, details * habit, 0.0).sum(axis=1)
    den = np.where(both, habit * habit, 0.0).sum(axis=1)
    scale = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return details - scale[:, None] * habit


def clipped_bins(days: np.ndarray, window: int, min_bins: int, share: float) -> np.ndarray:
    """(days, bins) True where a bin sits at the device's ceiling (at least `share` x the highest bin of the window,
    held for `min_bins` bins of a day: a plateau, not one peak) or within half the detail `window` of such a bin."""
    top = np.nanmax(days) if np.isfinite(days).any() else np.nan
    if not np.isfinite(top) or top <= 0:
        return np.zeros(days.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        at = np.where(np.isfinite(days), days >= share * top, False)
    at &= (at.sum(axis=1) >= min_bins)[:, None]
    half, out = window // 2, at.copy()
    for k in range(1, half + 1):
        out[:, k:] |= at[:, :-k]
        out[:, :-k] |= at[:, k:]
    return out


def resolution(values: np.ndarray) -> float:
    """The device's own smallest step between distinct readings (its quantisation), 0 when it never changes."""
    steps = np.diff(np.unique(values))
    steps = steps[steps > 0]
    return float(steps.min()) if steps.size else 0.0


def copy_check(
    series: Sequence[tuple[int, float]], day_start_ms: int, params: Mapping | None = None
) -> CopyCheck | None:
    """The day [day_start_ms, +1 day) against every earlier day of the window; None when the day has no real
    variation or the device fewer than `min_history_days` judged days before it."""
    p = {**DEFAULTS, **(params or {})}
    window, bin_ms = int(p["window_days"]), int(p["bin_s"] * 1000)
    first = day_start_ms - window * DAY_MS
    ts = np.fromiter((s[0] for s in series), dtype=np.int64, count=len(series))
    values = np.fromiter((s[1] for s in series), dtype=float, count=len(series))
    inside = (ts >= first) & (ts < day_start_ms + DAY_MS)
    ts, values = ts[inside], values[inside]
    window_bins = int(p["detail_bins"])
    binned = day_matrix(ts, values, first, window + 1, bin_ms)
    details = detail(binned, window_bins)
    bins = details.shape[1]
    clipped = clipped_bins(binned, window_bins, int(p["min_clip_bins"]), float(p["clip_share"]))
    step = resolution(values)
    filled = np.isfinite(details).sum(axis=1) >= p["min_bins_share"] * bins
    spread = np.array([np.nanstd(r) if np.isfinite(r).any() else 0.0 for r in details])
    varied = filled & (spread > step)  # moves by more than its own quantisation: real variation to compare
    if not varied[-1]:
        return None
    keep = np.flatnonzero(varied)
    if len(keep) - 1 < p["min_history_days"]:
        return None
    details = np.where(clipped, np.nan, details)  # a clipped top is the inverter's rating, not the day's detail
    own = own_detail(details[keep])
    max_lag, overlap = int(p["max_lag_s"] * 1000 // bin_ms), int(p["min_bins_share"] * bins // 2)
    sims, lags = similarity(own, own, max_lag, overlap)
    phases = int(p.get("phases", 5))  # a copy shifted by part of a bin: the days binned again at sub-bin offsets
    for k in range(1, phases):
        offset = bin_ms * k // phases
        moved = np.where(
            clipped, np.nan, detail(day_matrix(ts - offset, values, first, window + 1, bin_ms), window_bins)
        )[keep]  # bins `offset` later
        more, at = similarity(own_detail(moved), own_detail(details[keep]), max_lag, overlap)
        more, at = np.maximum(more, more.T), np.where(more >= more.T, at, -at.T)
        better = more > sims
        sims, lags = np.where(better, more, sims), np.where(better, at, lags)
    history = np.array([sims[i, :i].max() for i in range(1, len(keep) - 1)])  # each earlier day against its own past
    today = sims[-1, :-1]
    j = int(np.argmax(today))
    usual = float(np.median(history)) if history.size else 0.0
    mad = float(np.median(np.abs(history - usual))) if history.size else 0.0
    floor = p["min_similarity"] if history.size >= p["min_threshold_days"] else p["short_history_similarity"]
    threshold = min(max(usual + p["z"] * MAD_TO_SIGMA * mad, floor), p["max_similarity"])
    return CopyCheck(
        round(float(today[j]), 4),
        first + int(keep[j]) * DAY_MS,
        int(lags[-1, j]) * bin_ms // 1000,
        round(threshold, 4),
        round(usual, 4),
        int(history.size),
        float(p["z"]),
        (float(floor), float(p["max_similarity"])),
    )


def explain(check: CopyCheck) -> dict:
    """The alarm's detail: the similarity, the earlier day it matches, and the threshold with where it came from."""
    return {
        "test": "replay",
        "similarity": check.similarity,
        "source_day_start_ms": check.source_day_start_ms,
        "lag_s": check.lag_s,
        "threshold": check.threshold,
        "usual_similarity": check.usual,
        "history_days": check.history_days,
        "threshold_from": {
            "en": f"median of this device's own day-to-earlier-day similarities ({check.usual}) plus "
            f"{check.z:g} robust deviations over {check.history_days} days, bounded to "
            f"{check.bounds[0]:g}..{check.bounds[1]:g}",
            "zh": f"本设备自身历史{check.history_days}天逐日与此前各天相似度中位数({check.usual})"
            f"加{check.z:g}倍稳健离差, 限定在{check.bounds[0]:g}至{check.bounds[1]:g}之间",
        },
    }
