"""A site's dust judged by its own contribution: PM10 above the regional background; pure.

Haze raises every monitor of a region together; a site's earthworks raise its own. Each reading is compared with
the regional background of its time bucket: the median of the other sites' monitors in the same region (each peer
counted once per bucket, by its mean there). A site whose readings stayed more than `margin` above the background for
`duration_ms` raises. This is the difference form of the Chinese site-dust rules (the site's monitor minus the nearby
state-controlled air-quality station at the same time); the platform's peers stand in for the station.

Which peers may count is the caller's to decide (services/monitoring.consented_peers: only firms that consented to
every bank reading the alarm). With fewer than `min_peers` peers in a bucket there is no background: the reading is then judged against the fixed
`fallback_limit` only inside the site's working hours (`work_hours`, on the site's own clock: `hours_in(zone,
days_off)`, the wall-clock hour in the site's IANA zone, DST included; the platform's default zone when the site names
none) of its working days (-1 on a day off): outside them an idle site cannot be the source, and the fixed limit
would only measure the weather. Readings not judged end a run.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from wuxin.indicators.days import CN_OFFSET_MS, DAY_MS, DEFAULT_ZONE, HOUR_MS, check_zone, local_day

Series = Sequence[tuple[int, float]]


@dataclass(frozen=True)
class DustRule:
    margin: float  # µg/m³ above the regional background
    duration_ms: int
    bucket_ms: int
    min_peers: int
    fallback_limit: float  # µg/m³, judged only inside work_hours when the region has too few peers
    work_hours: tuple[float, float]  # local hours [start, end)


@dataclass(frozen=True)
class Judgement:
    ts: int
    value: float
    exceeding: bool
    background: float | None  # None: too few peers, judged by the fallback
    peers: int
    limit: float  # the line the reading was compared with: background + margin, or the fallback limit


@dataclass(frozen=True)
class SiteExcess:
    since_ms: int
    at_ms: int
    latest: Judgement


def regional_background(peers: Mapping[int, Series], bucket_ms: int) -> dict[int, tuple[float, int]]:
    """(median of the peers' bucket means, number of peers) per bucket (ts // bucket_ms)."""
    per_peer: dict[int, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for peer, points in peers.items():
        for ts, value in points:
            per_peer[ts // bucket_ms][peer].append(value)
    return {
        b: (statistics.median(statistics.fmean(v) for v in by_peer.values()), len(by_peer))
        for b, by_peer in per_peer.items()
    }


def local_hour(ts_ms: int, zone: str | None = None) -> float:
    """The wall-clock hour (with its fraction) at `ts_ms` in `zone` (an IANA name; None: the platform's default
    zone). Not the hours elapsed since midnight: on a daylight-saving change those are one more or one less."""
    zone = check_zone(zone)
    if zone == DEFAULT_ZONE:  # China: no daylight saving since 1991
        return ((ts_ms + CN_OFFSET_MS) % DAY_MS) / HOUR_MS
    local = dt.datetime.fromtimestamp(ts_ms / 1000, ZoneInfo(zone))
    return local.hour + (local.minute * 60_000 + local.second * 1000 + local.microsecond / 1000) / HOUR_MS


def hours_in(zone: str | None = None, days_off: Collection[int] = frozenset()) -> Callable[[int], float]:
    """A site's `hour_of`: the wall-clock hour in its zone (None: the platform's default), -1 on its days off (local
    day numbers of that zone: declared periods, PRC holidays for a site on China time), when no hour is worked."""
    zone = check_zone(zone)

    def hour_of(ts_ms: int) -> float:
        return -1.0 if days_off and int(local_day(ts_ms, zone)) in days_off else local_hour(ts_ms, zone)

    return hour_of


def judge(
    ts: int,
    value: float,
    background: tuple[float, int] | None,
    rule: DustRule,
    hour_of: Callable[[int], float] = local_hour,
) -> Judgement | None:
    """One reading against the background (enough peers) or the fallback (working hours only, by `hour_of`, the
    site's wall-clock hour, `hours_in`); None: not judged."""
    if background is not None and background[1] >= rule.min_peers:
        line = background[0] + rule.margin
        return Judgement(ts, value, value > line, background[0], background[1], line)
    start, end = rule.work_hours
    if not start <= hour_of(ts) < end:
        return None
    return Judgement(
        ts, value, value > rule.fallback_limit, None, background[1] if background else 0, rule.fallback_limit
    )


def site_excess(
    own: Series, peers: Mapping[int, Series], rule: DustRule, hour_of: Callable[[int], float] = local_hour
) -> tuple[SiteExcess | None, bool]:
    """(the current run above the line, once it lasted `duration_ms`; whether the latest reading is calm: not
    exceeding, or not judged). A device with no reading is neither."""
    background = regional_background(peers, rule.bucket_ms)
    since: int | None = None
    at: int | None = None
    last: Judgement | None = None
    calm = False
    for ts, value in sorted(own):
        j = judge(ts, value, background.get(ts // rule.bucket_ms), rule, hour_of)
        if j is None or not j.exceeding:
            since, at, calm = None, None, True
            continue
        calm, last = False, j
        since = ts if since is None else since
        if at is None and ts - since >= rule.duration_ms:
            at = ts
    excess = SiteExcess(since, at, last) if at is not None and since is not None and last is not None else None
    return excess, calm


def explanation(j: Judgement, rule: DustRule) -> dict[str, str]:
    """What the reading was judged against, in zh and en."""
    if j.background is not None:
        return {
            "en": f"PM10 {j.value:.0f} µg/m³ against the regional background {j.background:.0f} µg/m³ (median of "
            f"{j.peers} other sites' monitors in the region whose firms consented to every bank reading this alarm, same "
            f"{rule.bucket_ms // 60000} min) plus a margin "
            f"of {rule.margin:.0f} µg/m³, for {rule.duration_ms // 60000} min",
            "zh": f"PM10 {j.value:.0f} µg/m³, 区域背景值{j.background:.0f} µg/m³(同区域已向查看本告警的每家银行授权的其他"
            f"{j.peers}个工地监测点同"
            f"{rule.bucket_ms // 60000}分钟的中位数)加{rule.margin:.0f} µg/m³, 持续{rule.duration_ms // 60000}分钟",
        }
    start, end = rule.work_hours
    return {
        "en": f"PM10 {j.value:.0f} µg/m³ against the fixed limit {rule.fallback_limit:.0f} µg/m³ for "
        f"{rule.duration_ms // 60000} min, judged only in working hours {start:g}:00-{end:g}:00 of the site's "
        f"working days: fewer than "
        f"{rule.min_peers} other sites in the region ({j.peers}) to give a background",
        "zh": f"PM10 {j.value:.0f} µg/m³, 同区域其他工地监测点不足{rule.min_peers}个({j.peers}个), 无区域背景值, "
        f"仅在工作日施工时段{start:g}:00-{end:g}:00按固定限值{rule.fallback_limit:.0f} µg/m³判断, "
        f"持续{rule.duration_ms // 60000}分钟",
    }


def dust_rule(params: Mapping) -> DustRule:
    hours = params.get("work_hours", [7, 18])
    return DustRule(
        float(params["margin"]),
        int(params["duration_s"] * 1000),
        int(params.get("bucket_s", 900) * 1000),
        int(params.get("min_peers", 3)),
        float(params["fallback_limit"]),
        (float(hours[0]), float(hours[1])),
    )
