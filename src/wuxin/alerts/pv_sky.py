"""PV generation judged under the sky it was made in; pure.

Two checks that read the plant's own measured weather and its neighbours, never a share of capacity:

- **Sky tracking** (a fabricated day): an inverter's power follows the irradiance its site's station measured the
  same quarter-hours; a day made up, or copied from another day, follows another sky. Each day becomes 15-min bin
  means of AC power and of irradiance (plane-of-array, else GHI); a day's *decorrelation* against a sky is
  1 - Pearson r over the daylight bins (irradiance above `min_sky_wm2`) where the inverter produced. The day's
  *score* is log(decorrelation against its own sky / the lowest against any other day's sky in the window): real
  power is made under its own sky, a copied or invented day under another one (or none). It raises when the score
  is above the inverter's own line: the highest score of its earlier days (at least 0: another sky must explain the
  day better than its own) plus `z` robust deviations of the upper half of those scores (1.4826 x MAD, at least
  `min_spread`). The upper half, because honest scores are as varied as the weather (a broken-cloud day is explained
  by its own sky far better than by any other, a clear day ties with other clear days): only the days another sky
  came close to explaining tell how far an honest day can go. The history sets the line because how well a station
  explains an inverter is the station's: an on-site pyranometer beside the array, or a satellite estimate (the real
  SERF data: honest days score 0.33 at the median, another of the 28 days' skies often fitting better). z = 3.72 is
  the one-sided normal tail of 1e-4, added above the worst day seen: about 0.1 false alarm per 1,000 inverter-days
  or fewer if that upper tail were normal, a fifth of the platform's 0.5 budget (an assumption, not a measured rate).
  A clear day copied onto a clear day passes, rightly: nothing in the physics tells them apart.
- **Inverters under one sky** (one inflated inverter among several): each inverter's daily kWh per kWp against the
  median of the site's other inverters (the same sky, the same soiling, the same station errors) and against its
  share of the pvlib expectation. Both are judged by `performance.ratio_check` against the inverter's own baseline
  days; it raises only when both leave the band in the same direction: the peers say it is this inverter and not
  the sky, the expectation says which of the two moved (with two inverters, one up is the other down to its peer).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from wuxin.alerts.performance import RatioCheck, ratio_check
from wuxin.indicators.days import DAY_MS

BIN_MS = 900_000
Profile = np.ndarray  # 96 quarter-hour means of one local day, nan where nothing was measured


@dataclass(frozen=True)
class SkyTracking:
    day: int
    decorrelation: float  # 1 - r of the day's power against the day's own irradiance
    best_other_day: int  # the other day whose sky explains the day's power best
    best_other_decorrelation: float
    score: float  # log(own decorrelation / best other's): above 0, another sky explains the day better than its own
    threshold: float  # on the score, from the inverter's own earlier days
    history_days: int
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


def _score(
    power: Mapping[int, Profile], sky: Mapping[int, Profile], day: int, min_sky_wm2: float, min_bins: int, floor: float
) -> tuple[float, int, float, float] | None:
    """(score, best other day, its decorrelation, own decorrelation) of one day; None when it cannot be judged."""
    own = decorrelation(power[day], sky[day], min_sky_wm2, min_bins)
    if own is None:
        return None
    others = [
        (d, x) for d in sky if d != day and (x := decorrelation(power[day], sky[d], min_sky_wm2, min_bins)) is not None
    ]
    if not others:
        return None
    best_day, best = min(others, key=lambda o: o[1])
    return math.log(max(own, floor) / max(best, floor)), best_day, best, own


def sky_tracking(
    power: Mapping[int, Profile],
    sky: Mapping[int, Profile],
    day: int,
    *,
    z: float = 3.72,
    min_history_days: int = 14,
    min_sky_wm2: float = 20.0,
    min_bins: int = 12,
    min_spread: float = 0.1,
    floor: float = 1e-3,
) -> SkyTracking | None:
    """The day's score against the inverter's own earlier days' scores (profiles by local day, the skies of every
    day given); None when the day or too much of the history cannot be judged."""
    if day not in power or day not in sky:
        return None
    today = _score(power, sky, day, min_sky_wm2, min_bins, floor)
    if today is None:
        return None
    history = [
        x[0]
        for d in sorted(power)
        if d < day and d in sky and (x := _score(power, sky, d, min_sky_wm2, min_bins, floor)) is not None
    ]
    if len(history) < min_history_days:
        return None
    upper = np.sort(history)[len(history) // 2 :]  # the days another sky came closest to explaining
    spread = max(1.4826 * float(np.median(np.abs(upper - np.median(upper)))), min_spread)
    threshold = max(0.0, float(upper[-1])) + z * spread
    score, best_day, best, own = today
    return SkyTracking(day, own, best_day, best, score, threshold, len(history), score > max(threshold, 0.0))


def sky_words(check: SkyTracking, z: float) -> dict[str, str]:
    """What the day was judged against, zh-CN and en."""
    return {
        "en": f"AC power against measured irradiance, quarter-hour means: the sky of local day "
        f"{check.best_other_day} explains this day's power (decorrelation {check.best_other_decorrelation:.3f}) "
        f"better than the site's own sky that day ({check.decorrelation:.3f}); log ratio {check.score:.2f} above "
        f"{check.threshold:.2f}, the inverter's own {check.history_days} earlier days' median plus {z:g} robust "
        f"deviations",
        "zh": f"交流功率与实测辐照(15分钟均值)对照:第{check.best_other_day}日的天空比当日本站实测辐照更能解释当日功率"
        f"(去相关{check.best_other_decorrelation:.3f}对{check.decorrelation:.3f});对数比{check.score:.2f}"
        f"高于阈值{check.threshold:.2f}(本逆变器此前{check.history_days}天的中位数加{z:g}个稳健偏差)",
    }


@dataclass(frozen=True)
class PeerCheck:
    day: int
    against_peers: RatioCheck  # kWh against kWp x the other inverters' median kWh per kWp
    against_physics: RatioCheck  # kWh against the inverter's kWp share of the station's pvlib expectation
    direction: str | None  # "above" / "below" when both agree, else None


def inverter_days(
    own: Mapping[int, float],
    peers: Sequence[Mapping[int, float]],
    own_kwp: float,
    peer_kwp: Sequence[float],
    site_expected: Mapping[int, float],
    site_kwp: float,
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


def peer_check(
    by_peer: Sequence[tuple[int, float, float]], by_physics: Sequence[tuple[int, float, float]], day: int, **band
) -> PeerCheck | None:
    """Both ratios over the window ending on `day` against the inverter's own baseline; None when either cannot be
    judged."""
    peers, physics = ratio_check(by_peer, day, **band), ratio_check(by_physics, day, **band)
    if peers is None or physics is None:
        return None
    agreed = peers.direction if peers.direction is not None and peers.direction == physics.direction else None
    return PeerCheck(day, peers, physics, agreed)
