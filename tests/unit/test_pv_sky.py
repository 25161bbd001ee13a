"""PV generation judged under the sky it was made in (alerts/pv_sky.py): a fabricated day does not follow the site's
measured irradiance; one inflated inverter of two stands out against its neighbour and its pvlib share."""

from __future__ import annotations

import numpy as np

from wuxin.alerts.pv_sky import day_profile, decorrelation, inverter_days, peer_check, sky_tracking

BINS = 96
HOURS = (np.arange(BINS) + 0.5) / 4


def clear_sky() -> np.ndarray:
    """A clear day's irradiance by quarter-hour (W/m²): a bell from 06:00 to 18:00."""
    return np.where((HOURS > 6) & (HOURS < 18), 1000 * np.sin(np.pi * (HOURS - 6) / 12).clip(0) ** 1.2, 0.0)


KINDS = ("clear", "broken", "clear", "overcast", "broken", "broken", "clear")  # the weather of day d: KINDS[d % 7]


def weather(rng: np.random.Generator, days: int) -> dict[int, np.ndarray]:
    """Clear, broken and overcast days: the clear bell times a cloud factor per quarter-hour."""
    out = {}
    for d in range(days):
        kind = KINDS[d % 7]
        if kind == "clear":
            cloud = 1 - 0.02 * rng.random(BINS)
        elif kind == "broken":
            cloud = np.where(rng.random(BINS) < 0.4, 0.25 + 0.2 * rng.random(BINS), 0.95)
        else:
            cloud = 0.2 + 0.15 * rng.random(BINS)
        out[d] = clear_sky() * cloud
    return out


def honest(rng: np.random.Generator, sky: dict[int, np.ndarray], kw_per_wm2: float = 0.4) -> dict[int, np.ndarray]:
    """An inverter under that sky: proportional, clipped at its AC rating, 5 % noise, and the array is not where the
    station is: each quarter-hour, one time in eight it sees the sky of the quarter-hour before or after (a cloud
    edge reaches one before the other)."""
    out = {}
    for d, s in sky.items():
        shift = np.clip(np.arange(BINS) + rng.choice([-1] + [0] * 14 + [1], size=BINS), 0, BINS - 1)
        out[d] = np.minimum(kw_per_wm2 * s[shift] * (1 + 0.05 * rng.normal(size=BINS)), 0.37 * 1000).clip(0)
    return out


def world(seed: int = 3, days: int = 40):
    rng = np.random.default_rng(seed)
    sky = weather(rng, days)
    return rng, sky, honest(rng, sky)


def test_profiles_are_quarter_hour_means_of_the_local_day():
    start = 1_000_000_000_000
    p = day_profile([(start, 2.0), (start + 60_000, 4.0), (start + 86_400_000, 9.0), (start - 1, 7.0)], start)
    assert p[0] == 3.0 and np.isnan(p[1:]).all()  # readings outside the day are not in it


def test_an_honest_plant_raises_on_none_of_its_days():
    _, sky, power = world()
    checks = [sky_tracking(power, sky, d) for d in range(14, 40)]
    assert all(c is not None for c in checks)
    assert [c.day for c in checks if c.fabricated] == []


def test_a_broken_cloud_day_replaced_by_a_copy_of_a_week_earlier_is_raised_and_its_source_named():
    rng, sky, power = world()
    target = 33  # broken, as is its source a week earlier: another pattern of clouds
    assert KINDS[target % 7] == "broken"
    power[target] = power[target - 7] * (1 + 0.02 * rng.normal(size=BINS))
    check = sky_tracking(power, sky, target)
    assert check.fabricated and check.score > check.threshold > 0
    assert check.best_other_day == target - 7 and check.best_other_decorrelation < check.decorrelation


def test_an_invented_smooth_bell_on_an_overcast_day_is_raised():
    _, sky, power = world()
    target = 38  # overcast: the station saw a dim, ragged day
    assert KINDS[target % 7] == "overcast"
    power[target] = 0.3 * clear_sky()  # a perfect curve, scaled down to look plausible in kWh
    assert sky_tracking(power, sky, target).fabricated


def test_a_clear_day_copied_onto_a_clear_day_is_not_raised_nothing_in_the_physics_tells_them_apart():
    _, sky, power = world()
    target, source = 37, 35
    assert KINDS[target % 7] == KINDS[source % 7] == "clear"
    power[target] = power[source].copy()
    check = sky_tracking(power, sky, target)
    assert check is not None and not check.fabricated


def test_too_little_history_or_daylight_is_not_judged():
    _, sky, power = world(days=10)
    assert sky_tracking(power, sky, 9) is None  # 9 earlier days < 14
    dark = np.zeros(BINS)
    assert decorrelation(dark, dark, 20.0, 12) is None


def test_one_inflated_inverter_of_two_stands_out_against_its_neighbour_and_its_pvlib_share():
    """Two inverters of 320 and 400 kWp under one sky; the smaller reports x1.3 from day 25. The plant's PR rises only
    by about 13 %, under the plant rule's 20 %; each inverter against its neighbour and its own pvlib share does not."""
    rng = np.random.default_rng(5)
    expected = {d: 2500.0 * (0.4 + 0.6 * rng.random()) for d in range(35)}  # the station's pvlib kWh for 720 kWp
    small = {
        d: e * 320 / 720 * 0.85 * (1 + 0.02 * rng.normal()) * (1.3 if d >= 25 else 1.0) for d, e in expected.items()
    }
    large = {d: e * 400 / 720 * 0.82 * (1 + 0.02 * rng.normal()) for d, e in expected.items()}
    plant = [(d, small[d] + large[d], expected[d]) for d in range(35)]
    from wuxin.alerts.performance import ratio_check

    assert ratio_check(plant, 34, window_days=7, baseline_days=14).direction is None  # the plant rule misses it
    band = dict(window_days=7, baseline_days=14)
    inflated = peer_check(*inverter_days(small, [large], 320, [400], expected, 720), 34, **band)
    honest_one = peer_check(*inverter_days(large, [small], 400, [320], expected, 720), 34, **band)
    assert inflated.direction == "above"
    assert honest_one.against_peers.ratio < honest_one.against_peers.baseline_pr * 0.8  # its neighbour moved, not it
    assert honest_one.against_physics.direction is None and honest_one.direction is None
    before = peer_check(*inverter_days(small, [large], 320, [400], expected, 720), 24, **band)
    assert before.direction is None


def test_the_whole_site_inflated_is_left_to_the_plant_rule_and_a_drifting_station_raises_nothing():
    rng = np.random.default_rng(6)
    expected = {d: 2500.0 * (0.4 + 0.6 * rng.random()) for d in range(35)}
    a = {d: e * 0.5 * 0.85 * (1 + 0.02 * rng.normal()) for d, e in expected.items()}
    b = {d: e * 0.5 * 0.85 * (1 + 0.02 * rng.normal()) for d, e in expected.items()}
    drifting = {d: e * (0.7 if d >= 25 else 1.0) for d, e in expected.items()}  # a soiled pyranometer reads low
    check = peer_check(*inverter_days(a, [b], 360, [360], drifting, 720), 34, window_days=7, baseline_days=14)
    assert check.against_physics.direction == "above" and check.against_peers.direction is None
    assert check.direction is None
