"""A site's dust judged by its own contribution over the regional background (alerts/dust.py)."""

from __future__ import annotations

from wuxin.alerts.dust import DustRule, explanation, judge, local_hour, regional_background, site_excess
from wuxin.indicators.days import HOUR_MS

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
    from wuxin.services.monitoring.sweeps import _hours_in

    holiday = int(local_day(NOON, DEFAULT_ZONE))
    assert _hours_in(DEFAULT_ZONE, set())(NOON) == 12.0
    off = _hours_in(DEFAULT_ZONE, {holiday})
    assert off(NOON) == -1.0 and off(NOON + 24 * HOUR_MS) == 12.0
    excess, calm = site_excess(series(NOON, 3, 200.0), {}, RULE, off)
    assert excess is None and calm


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
