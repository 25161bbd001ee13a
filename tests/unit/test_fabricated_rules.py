"""Fabricated-data tests (copy, flat, smooth) against a device's own history, and the packs' declarations."""

import math
import random

import pytest

from wuxin.alerts.fabricated import DAY_MS, copy_run, fabricated_verdict, flat_runs, roughness
from wuxin.alerts.rules import parse_rule
from wuxin.errors import InvalidInput
from wuxin.services.bootstrap import default_rules, packs

STEP = 15 * 60_000
DAY0 = 20_000 * DAY_MS  # any day start will do: the tests only look at differences


def noisy(days: int, seed: int = 1, level: float = 50.0) -> list[tuple[int, float]]:
    """A real-looking sensor: a daily swing plus noise, 15-min readings."""
    rng = random.Random(seed)
    return [
        (t, round(level + 10 * ((t // STEP) % 96 < 48) + rng.gauss(0, 2), 1))
        for t in range(DAY0, DAY0 + days * DAY_MS, STEP)
    ]


PARAMS = {
    "min_copy_points": 16,
    "min_copy_s": 21600,
    "min_flat_s": 21600,
    "min_flat_points": 12,
    "smooth_ratio": 0.2,
    "history_days": 7,
    "min_history_days": 3,
}


def test_real_noise_passes_every_test():
    series = noisy(10)
    assert all(fabricated_verdict(series, DAY0 + d * DAY_MS, PARAMS) is None for d in range(2, 10))


def test_a_day_replayed_a_day_later_is_a_copy_even_across_midnight():
    real = noisy(10)
    start = DAY0 + 8 * DAY_MS + 13 * 3_600_000  # 13:00 on day 8, for 24 h
    source = {t: v for t, v in real if start - DAY_MS <= t < start}
    forged = [(t, source[t - DAY_MS]) if start <= t < start + DAY_MS else (t, v) for t, v in real]
    verdict = fabricated_verdict(forged, DAY0 + 9 * DAY_MS, PARAMS)
    assert verdict["test"] == "copy" and verdict["from_ms"] == start and verdict["points"] >= 90
    assert fabricated_verdict(forged, DAY0 + 7 * DAY_MS, PARAMS) is None  # the day before the copy is real


def test_a_repeated_value_is_no_copy_only_changed_readings_count():
    parked = [(t, 31.25) for t in range(DAY0, DAY0 + 3 * DAY_MS, STEP)]  # a truck parked for days
    assert copy_run(parked, DAY0 + DAY_MS, DAY0 + 3 * DAY_MS) is None
    assert fabricated_verdict(parked, DAY0 + 2 * DAY_MS, {**PARAMS, "tests": ["copy"]}) is None


def test_a_new_flat_level_is_fabricated_a_habitual_one_is_not():
    standby = [(t, 5.2 if (t // DAY_MS) % 2 else v) for t, v in noisy(8, 2)]  # every other day at standby, exactly
    assert fabricated_verdict(standby, DAY0 + 7 * DAY_MS, PARAMS) is None
    forged = [(t, 62.1 if t >= DAY0 + 7 * DAY_MS else v) for t, v in standby]
    verdict = fabricated_verdict(forged, DAY0 + 7 * DAY_MS, PARAMS)
    assert verdict["test"] == "flat" and verdict["value"] == 62.1
    assert flat_runs([(0, 0.0), (1, 0.0), (2, 0.0)]) == []  # zero is a machine at rest, not a held reading


def test_a_value_frozen_the_evening_before_is_judged_whole_the_next_day():
    frozen_from = DAY0 + 7 * DAY_MS + 21 * 3_600_000  # 21:00 on day 7: 3 h that day, too short to judge alone
    forged = [(t, 57.3 if t >= frozen_from else v) for t, v in noisy(9, 5)]
    assert fabricated_verdict(forged, DAY0 + 7 * DAY_MS, PARAMS) is None
    verdict = fabricated_verdict(forged, DAY0 + 8 * DAY_MS, PARAMS)  # not the device's habit: it is the forgery
    assert verdict["test"] == "flat" and verdict["from_ms"] == frozen_from and verdict["points"] == 12 + 96
    nights = [
        (t, 0.4 if (t % DAY_MS) < 6 * 3_600_000 or (t % DAY_MS) >= 20 * 3_600_000 else v)
        for t, v in noisy(6, 6)
        if t >= DAY0 + 12 * 3_600_000
    ]  # standby at 0.4 A every night from 20:00
    assert fabricated_verdict(nights, DAY0 + DAY_MS, PARAMS) is None  # the first night: its habit is not known yet
    assert fabricated_verdict(nights, DAY0 + 5 * DAY_MS, PARAMS) is None  # a night like the nights before
    assert fabricated_verdict(nights, DAY0 + DAY_MS, {**PARAMS, "min_history_days": 0})["test"] == "flat"


def test_a_noiseless_curve_is_too_smooth_against_the_devices_own_roughness():
    real = noisy(9, 3)
    forged = [
        (t, round(50 + 5 * math.cos(2 * math.pi * (t % DAY_MS) / DAY_MS), 2)) if t >= DAY0 + 8 * DAY_MS else (t, v)
        for t, v in real
    ]
    verdict = fabricated_verdict(forged, DAY0 + 8 * DAY_MS, PARAMS)
    assert verdict["test"] == "smooth" and verdict["roughness"] < 0.2 * verdict["usual_roughness"]
    assert fabricated_verdict(forged, DAY0 + 8 * DAY_MS, {**PARAMS, "tests": ["copy", "flat"]}) is None
    assert roughness([(0, 1.0), (1, 1.0)]) is None  # too few moving triples to judge


def test_fabricated_rules_are_declared_and_validated():
    mine = [r for r in default_rules().values() if r.type == "fabricated_data"]
    assert {r.scenario for r in mine} == set(packs())  # every pack watches its data for fabrication
    assert all(r.alarm_type == "fabricated_data" and r.params["keys"] for r in mine)
    with pytest.raises(InvalidInput, match="tests must be"):
        parse_rule({"id": "t.f", "type": "fabricated_data", "params": {"keys": ["x"], "tests": ["guess"]}})
    with pytest.raises(InvalidInput, match="keys must be a list"):
        parse_rule({"id": "t.f", "type": "fabricated_data", "params": {"keys": "x"}})


def test_the_pack_fever_rule_is_six_hours_above_the_herd_not_a_hot_day():
    from wuxin.alerts.herd import herd_outliers

    p = default_rules()["dairy.fever"].params
    hour = 3_600_000
    hot_day = [(h * hour, 39.3 + 0.4 * (h % 24 > 10)) for h in range(30)]  # heat stress: the whole herd at 39.7
    herd = {cow: [(t, v + 0.01 * cow) for t, v in hot_day] for cow in range(20)}
    herd[99] = [(t, v + 0.9 * (t >= 3 * hour)) for t, v in hot_day]  # sick from hour 3
    outliers, calm = herd_outliers(herd, p["min_excess"], p["duration_s"] * 1000, p["bucket_s"] * 1000, p["min_herd"])
    assert set(outliers) == {99} and outliers[99].since_ms == 3 * hour and outliers[99].at_ms == 9 * hour
    assert calm == set(range(20))


def test_a_zone_drawn_down_is_quieter_not_forged_when_noise_is_a_share_of_the_stock():
    rng = random.Random(4)
    stock = lambda t: 1000 if t < DAY0 + 8 * DAY_MS else 100  # noqa: E731  drawn down to 100 units on day 8
    tags = [
        (t, round(stock(t) * min(max(rng.gauss(0.995, 0.004), 0.97), 1.0)))
        for t in range(DAY0, DAY0 + 9 * DAY_MS, STEP)
    ]
    day8, relative = DAY0 + 8 * DAY_MS, {**PARAMS, "smooth_relative": True}
    # absolute roughness falls with the stock, and so does the day's spread: too little variation to judge smooth
    assert fabricated_verdict(tags, day8, {**PARAMS, "min_variation_share": 0})["test"] == "smooth"
    assert fabricated_verdict(tags, day8, PARAMS) is None
    assert fabricated_verdict(tags, day8, relative) is None
    forged = [
        (t, round(1000 + 5 * math.cos(2 * math.pi * (t % DAY_MS) / DAY_MS), 2)) if t >= day8 else (t, v)
        for t, v in tags
    ]
    assert fabricated_verdict(forged, day8, relative)["test"] == "smooth"
    with pytest.raises(InvalidInput, match="smooth_relative"):
        parse_rule({"id": "t.f", "type": "fabricated_data", "params": {"keys": ["x"], "smooth_relative": "yes"}})


def test_a_machine_on_standby_is_quiet_not_too_smooth():
    """Working days, then a day on standby (2.0/2.1 A and a reading moving now and then): smooth, but nothing happens."""
    rng = random.Random(6)
    real = noisy(8, 4)
    standby = [(t, rng.choice((2.0, 2.1, 2.2))) for t in range(DAY0 + 8 * DAY_MS, DAY0 + 9 * DAY_MS, STEP)]
    assert fabricated_verdict(real + standby, DAY0 + 8 * DAY_MS, PARAMS) is None
