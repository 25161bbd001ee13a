"""PV generation judged under the sky it was made in; pure.

Two checks that read the plant's own measured weather and its neighbours, never a share of capacity:

- **Sky tracking** (a fabricated day): an inverter's power follows the irradiance its site's station measured the
  same quarter-hours; a day made up, or copied from another day, follows another sky. Each day becomes 15-min bin
  means of AC power and of irradiance (plane-of-array, else GHI); the day's *decorrelation* is 1 - Pearson r over
  the daylight bins (irradiance above `min_sky_wm2`) where the inverter produced. It raises only when both hold:
  (a) it is an outlier of the inverter's own history: log(decorrelation) above the median of its earlier days' by
      `z` robust deviations (1.4826 x MAD, at least `min_spread`), z = 3.72 is the one-sided normal tail of 1e-4:
      about 0.1 false alarm per 1,000 inverter-days if the log-decorrelation of honest days were normal, a fifth of
      the platform's 0.5 budget (not a measured rate: heavier tails raise more);
  (b) another sky explains the day better: some earlier day's irradiance at the same quarter-hours correlates with
      today's power more than today's own does. Real power is made under today's sky; a copied or invented day
      is not. A clear day copied onto a clear day passes, rightly: nothing in the physics tells them apart.
- **Inverters under one sky** (one inflated inverter among several): each inverter's daily kWh per kWp against the
  median of the site's other inverters (the same sky, the same soiling, the same station errors) and against its
  share of the pvlib expectation. Both are judged by `performance.ratio_check` against the inverter's own baseline
  days; it raises only when both leave the band in the same direction: the peers say it is this inverter and not
  the sky, the expectation says which of the two moved (with two inverters, one up is the other down to its peer).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from wuxin.alerts.performance import RatioCheck, ratio_check

BIN_MS = 900_000
DAY_MS = 86_400_000
Profile = np.ndarray  # 96 quarter-hour means of one local day, nan where nothing was measured


@dataclass(frozen=True)
class SkyTracking:
    day: int
    decorrelation: float  # 1 - r of the day's power against the day's own irradiance
    threshold: float  # from the inverter's own history
    history_days: int
    best_other_day: int | None  # the earlier day whose sky explains today's power best
    best_other_decorrelation: float | None
    fabricated: bool


def day_profile(points: Sequence[tuple[int, float]], day_start_ms: int) -> Profile:
    """Quarter-hour means of the readings inside [day_start_ms, day_start_ms + 24 h); nan where none."""
    sums, counts = np.zeros(DAY_MS // BIN_MS), np.zeros(DAY_MS // BIN_MS)
    for ts, value in points:
        b = (ts - day_start_ms) // BIN_MS
        if 0 <= b < len(sums) and value is not None and math.isfinite(value):
            sums[b] += value
            counts[b] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.where(counts > 0, counts, 1), np.nan)


def decorrelation(power: Profile, sky: Profile, min_sky_wm2: float, min_bins: int) -> float | None:
    """1 - Pearson r of power against irradiance over the bins both measured, the sky above `min_sky_wm2` and the
    inverter producing; None with fewer than `min_bins` such bins or no variation."""
    use = np.isfinite(power) & np.isfinite(sky) & (sky > min_sky_wm2) & (power > 0)
    if use.sum() < min_bins:
        return None
    p, s = power[use], sky[use]
    if p.std() == 0 or s.std() == 0:
        return None
    return float(1.0 - np.corrcoef(p, s)[0, 1])


def sky_tracking(power: Mapping[int, Profile], sky: Mapping[int, Profile], day: int, *, z: float = 3.72,
                 min_history_days: int = 14, min_sky_wm2: float = 20.0, min_bins: int = 12,
                 min_spread: float = 0.1, floor: float = 1e-4) -> SkyTracking | None:
    """The day's tracking against the inverter's own earlier days (both profiles by local day); None when the day
    or too much of the history cannot be judged."""
    if day not in power or day not in sky:
        return None
    today = decorrelation(power[day], sky[day], min_sky_wm2, min_bins)
    if today is None:
        return None
    earlier = sorted(d for d in power if d < day and d in sky)
    history = [x for x in (decorrelation(power[d], sky[d], min_sky_wm2, min_bins) for d in earlier) if x is not None]
    if len(history) < min_history_days:
        return None
    logs = np.log(np.maximum(history, floor))
    median = float(np.median(logs))
    spread = max(1.4826 * float(np.median(np.abs(logs - median))), min_spread)
    threshold = math.exp(median + z * spread)
    others = [(d, decorrelation(power[day], sky[d], min_sky_wm2, min_bins)) for d in earlier]
    others = [(d, x) for d, x in others if x is not None]
    best_day, best = min(others, key=lambda o: o[1]) if others else (None, None)
    fabricated = max(today, floor) > threshold and best is not None and best < today
    return SkyTracking(day, today, threshold, len(history), best_day, best, fabricated)


def sky_words(check: SkyTracking, z: float) -> dict[str, str]:
    """What the day was judged against, zh-CN and en."""
    other = (f"; the sky of local day {check.best_other_day} explains it better (decorrelation "
             f"{check.best_other_decorrelation:.3f})" if check.best_other_day is not None else "")
    other_zh = (f";第{check.best_other_day}日的辐照与之更吻合(去相关{check.best_other_decorrelation:.3f})"
                if check.best_other_day is not None else "")
    return {"en": f"AC power against the site's own measured irradiance, quarter-hour means: decorrelation "
                  f"{check.decorrelation:.3f} above {check.threshold:.3f}, the inverter's own {check.history_days} "
                  f"earlier days' median plus {z:g} robust deviations (log scale){other}",
            "zh": f"交流功率与本站实测辐照(15分钟均值)的去相关{check.decorrelation:.3f}高于阈值{check.threshold:.3f}"
                  f"(本逆变器此前{check.history_days}天的中位数加{z:g}个稳健偏差, 对数尺度){other_zh}"}


@dataclass(frozen=True)
class PeerCheck:
    day: int
    against_peers: RatioCheck  # kWh against kWp x the other inverters' median kWh per kWp
    against_physics: RatioCheck  # kWh against the inverter's kWp share of the station's pvlib expectation
    direction: str | None  # "above" / "below" when both agree, else None


def inverter_days(own: Mapping[int, float], peers: Sequence[Mapping[int, float]], own_kwp: float,
                  peer_kwp: Sequence[float], site_expected: Mapping[int, float], site_kwp: float
                  ) -> tuple[list[tuple[int, float, float]], list[tuple[int, float, float]]]:
    """(day, kWh, kWh its peers imply) and (day, kWh, its pvlib share) rows for `performance.ratio_check`: the peers'
    implied kWh is own kWp x the median of the other inverters' kWh per kWp on days all of them reported."""
    by_peer, by_physics = [], []
    for day, kwh in sorted(own.items()):
        yields = [p[day] / k for p, k in zip(peers, peer_kwp) if day in p and k > 0]
        if peers and len(yields) == len(peers):
            by_peer.append((day, kwh, own_kwp * float(np.median(yields))))
        if day in site_expected and site_kwp > 0:
            by_physics.append((day, kwh, site_expected[day] * own_kwp / site_kwp))
    return by_peer, by_physics


def peer_check(by_peer: Sequence[tuple[int, float, float]], by_physics: Sequence[tuple[int, float, float]], day: int,
               **band) -> PeerCheck | None:
    """Both ratios over the window ending on `day` against the inverter's own baseline; None when either cannot be
    judged."""
    peers, physics = ratio_check(by_peer, day, **band), ratio_check(by_physics, day, **band)
    if peers is None or physics is None:
        return None
    agreed = peers.direction if peers.direction is not None and peers.direction == physics.direction else None
    return PeerCheck(day, peers, physics, agreed)
