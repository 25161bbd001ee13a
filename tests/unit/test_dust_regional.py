"""A site's dust judged by its own contribution over the regional background (alerts/dust.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from wuxin.alerts.dust import (
    DustRule,
    explanation,
    hours_in,
    judge,
    local_hour,
    regional_background,
    site_excess,
)
from wuxin.indicators.days import HOUR_MS

BERLIN = "Europe/Berlin"
STEP_MS = 600_000  # a monitor's 10-min reading
RULE = DustRule(
    margin=80.0, duration_ms=HOUR_MS, bucket_ms=900_000, min_peers=3, fallback_limit=150.0, work_hours=(7.0, 18.0)
)
NIGHT = 1_790_000_000_000 // (24 * HOUR_MS) * (24 * HOUR_MS) - 8 * HOUR_MS + 2 * HOUR_MS  # 02:00 China time
NOON = NIGHT + 10 * HOUR_MS  # 12:00 China time


def series(start: int, hours: float, level) -> list[tuple[int, float]]:
    n = int(hours * HOUR_MS // STEP_MS)
    return [(start + i * STEP_MS, level(i) if callable(level) else level) for i in range(n)]


def peers(start: int, hours: float, levels: list[float]) -> dict[int, list[tuple[int, float]]]:
    return {100 + k: series(start, hours, v) for k, v in enumerate(levels)}


def test_the_clock_is_china_time():
    assert local_hour(NIGHT) == 2.0 and local_hour(NOON) == 12.0


def test_regional_haze_that_raises_every_site_raises_no_alarm():
    haze = peers(NOON, 3, [230.0, 250.0, 240.0, 260.0])  # far above 150 everywhere
    excess, calm = site_excess(series(NOON, 3, 270.0), haze, RULE)  # 270 - median 245 = 25 < 80
    assert excess is None and calm


def test_one_site_above_the_region_by_more_than_the_margin_for_an_hour_raises():
    clean = peers(NOON, 3, [40.0, 45.0, 50.0])
    excess, calm = site_excess(series(NOON, 3, lambda i: 60.0 if i < 6 else 140.0), clean, RULE)  # 140 - 45 = 95
    assert excess is not None and not calm
    assert excess.since_ms == NOON + HOUR_MS and excess.at_ms == NOON + 2 * HOUR_MS
    assert excess.latest.background == 45.0 and excess.latest.peers == 3 and excess.latest.limit == 125.0


def test_an_excess_shorter_than_the_duration_raises_nothing():
    clean = peers(NOON, 3, [40.0, 45.0, 50.0])
    excess, calm = site_excess(series(NOON, 3, lambda i: 140.0 if 6 <= i < 11 else 60.0), clean, RULE)
    assert excess is None and calm


def test_each_peer_counts_once_per_bucket_however_often_it_reports():
    chatty = {1: [(NOON + s * 60_000, 500.0) for s in range(15)], 2: [(NOON, 40.0)], 3: [(NOON, 50.0)]}
    assert regional_background(chatty, RULE.bucket_ms) == {NOON // RULE.bucket_ms: (50.0, 3)}


def test_too_few_peers_fall_back_to_the_fixed_limit_in_working_hours_only():
    two = peers(NIGHT, 24, [60.0, 60.0])
    night_haze = series(NIGHT, 3, 200.0)  # 02:00-05:00, idle site in haze: not judged
    assert site_excess(night_haze, two, RULE) == (None, True)
    day = series(NOON, 3, 200.0)
    excess, _ = site_excess(day, two, RULE)
    assert excess is not None and excess.latest.background is None and excess.latest.limit == 150.0
    assert excess.latest.peers == 2
    below, calm = site_excess(series(NOON, 3, 140.0), {}, RULE)
    assert below is None and calm


def test_a_run_ends_when_working_hours_end():
    evening = NOON + 5 * HOUR_MS + 30 * 60_000  # 17:30 to 19:30 China time
    excess, calm = site_excess(series(evening, 2, 200.0), {}, RULE)
    assert excess is None and calm  # 17:30-17:50 above, then not judged


def test_the_explanation_names_the_background_and_the_margin_in_both_languages():
    j = judge(NOON, 140.0, (45.0, 4), RULE)
    words = explanation(j, RULE)
    assert "regional background 45" in words["en"] and "margin of 80" in words["en"] and "4 other sites" in words["en"]
    assert "区域背景值45" in words["zh"] and "加80" in words["zh"]
    fallback = explanation(judge(NOON, 200.0, (45.0, 1), RULE), RULE)
    assert (
        "fixed limit 150" in fallback["en"]
        and "working hours 7:00-18:00" in fallback["en"]
        and "fewer than 3" in fallback["en"]
    )
    assert "固定限值150" in fallback["zh"] and "不足3个" in fallback["zh"]


def test_a_sites_day_off_has_no_working_hours_so_the_fallback_is_silent():
    from wuxin.indicators.days import DEFAULT_ZONE, local_day

    holiday = int(local_day(NOON, DEFAULT_ZONE))
    assert hours_in(DEFAULT_ZONE, set())(NOON) == 12.0 == hours_in()(NOON)  # no zone named: the platform's default
    off = hours_in(DEFAULT_ZONE, {holiday})
    assert off(NOON) == -1.0 and off(NOON + 24 * HOUR_MS) == 12.0
    excess, calm = site_excess(series(NOON, 3, 200.0), {}, RULE, off)
    assert excess is None and calm


def berlin(y: int, m: int, d: int, h: int, minute: int = 0, fold: int = 0) -> int:
    from zoneinfo import ZoneInfo

    return int(dt.datetime(y, m, d, h, minute, tzinfo=ZoneInfo(BERLIN), fold=fold).timestamp() * 1000)


def test_working_hours_are_the_sites_own_clock():
    """A Berlin site's night is judged by no fixed limit, though it is working hours in China (09:00-12:00 there)."""
    night = berlin(2026, 1, 14, 2)
    assert local_hour(night, BERLIN) == 2.0 and local_hour(night) == 9.0
    haze = series(night, 3, 200.0)
    assert site_excess(haze, {}, RULE, hours_in(BERLIN)) == (None, True)
    china, _ = site_excess(haze, {}, RULE)  # the same readings on a site on China time: working hours, above 150
    assert china is not None and china.latest.limit == RULE.fallback_limit


def test_working_hours_follow_the_clock_on_a_daylight_saving_change():
    """Berlin's autumn change (25 Oct 2026, 03:00 CEST -> 02:00 CET): at 06:30 on the clock 7.5 hours have passed
    since midnight. An idle site in the early haze until 07:00 raises nothing; from 07:00 it is judged. In spring
    (29 Mar 2026) 18:00 on the clock is 17 hours after midnight: the evening after work is not judged either."""
    half_hour = DustRule(80.0, 30 * 60_000, 900_000, 3, 150.0, (7.0, 18.0))
    assert local_hour(berlin(2026, 10, 25, 6, 30), BERLIN) == 6.5
    assert local_hour(berlin(2026, 10, 25, 2, 30, fold=1), BERLIN) == 2.5  # the second 02:30 of the night
    early = series(berlin(2026, 10, 25, 5), 2, 200.0)  # 05:00-06:50 on the clock: what a sweep at 07:00 reads
    assert site_excess(early, {}, half_hour, hours_in(BERLIN)) == (None, True)
    late = series(berlin(2026, 10, 25, 7), 1, 200.0)
    excess, _ = site_excess(late, {}, half_hour, hours_in(BERLIN))
    assert excess is not None and excess.since_ms == berlin(2026, 10, 25, 7)
    spring = series(berlin(2026, 3, 29, 17, 30), 1.5, 200.0)  # 17:30-19:00 on the clock, 16.5-18 hours elapsed
    assert site_excess(spring, {}, half_hour, hours_in(BERLIN)) == (None, True)  # 17:30-17:50 above, then not judged


def test_a_site_zone_zoneinfo_does_not_know_is_refused_by_name():
    with pytest.raises(ValueError, match="'Mars/Olympus'"):
        hours_in("Mars/Olympus")


def test_a_peer_counts_only_under_a_valid_covering_consent_to_every_reader():
    from wuxin.domain.model import ConsentScope, ConsentView
    from wuxin.security.policy import reading_tenants, usable_by_every_reader

    def view(tenant, scope=ConsentScope.ALL, items=(), expires=10, revoked=None):
        return ConsentView(1, 7, tenant, scope, items, expires, revoked)

    readers = reading_tenants([view(1), view(2), view(3, expires=5), view(4, revoked=2)], now_ms=6)
    assert readers == {1, 2}  # expired and revoked consents read nothing
    peer = [view(1), view(2, ConsentScope.DEVICES, ("env-9",))]
    assert usable_by_every_reader(readers, peer, "env-9", "construction.env_monitor", 6)
    assert not usable_by_every_reader(readers, peer, "env-8", "construction.env_monitor", 6)  # bank 2: not this device
    assert not usable_by_every_reader(readers, [view(1)], "env-9", "construction.env_monitor", 6)  # bank 2: none
    assert not usable_by_every_reader(readers, [view(1), view(2, expires=6)], "env-9", "construction.env_monitor", 6)
    assert usable_by_every_reader(
        {1}, [view(1, ConsentScope.SCENARIOS, ("construction",))], "x", "construction.env_monitor", 6
    )
    assert not usable_by_every_reader(set(), [view(1)], "env-9", "construction.env_monitor", 6)  # nobody to rely on
