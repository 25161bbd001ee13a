"""energy.generation_drop judged against the plant's own irradiance (alerts/performance.against_physics): an overcast
day is not a drop, a plant losing generation under a clear sky is; raw kWh only without irradiance, and said."""

import random

from wuxin.alerts.performance import against_physics
from wuxin.services.bootstrap import default_rules
from wuxin.services.monitoring.daily import baseline_signal

DAY0 = 20700


def plant(days: int, seed: int = 1):
    """(generation, expected) of a healthy plant: expected from irradiance varies 150-400 kWh, PR ~0.82."""
    rng = random.Random(seed)
    expected = {DAY0 + d: rng.uniform(300, 400) for d in range(days)}
    generation = [(d, e * (0.82 + rng.gauss(0, 0.01))) for d, e in expected.items()]
    return generation, expected


def test_an_overcast_day_with_low_measured_irradiance_is_not_a_generation_drop():
    rule = default_rules()["energy.generation_drop"]
    generation, expected = plant(21)
    today = DAY0 + 21
    expected[today] = 60.0  # heavy overcast: the station measured a fifth of the usual irradiance
    generation.append((today, 0.81 * 60.0))
    signal = baseline_signal(1, rule, generation, today, 0, expected=expected)
    assert signal is None or signal.action == "clear"
    # before: raw kWh against history (no irradiance used) raised on this day
    raw = baseline_signal(1, rule, generation, today, 0)
    assert raw is not None and raw.action == "raise"
    assert "no measured irradiance" in raw.detail["judged_on"]["en"] and "无实测辐照" in raw.detail["judged_on"]["zh"]


def test_a_clear_day_with_half_the_expected_generation_still_raises_and_says_physics():
    rule = default_rules()["energy.generation_drop"]
    generation, expected = plant(21)
    today = DAY0 + 21
    expected[today] = 380.0
    generation.append((today, 0.82 * 380.0 * 0.3))  # strings down under a clear sky
    signal = baseline_signal(1, rule, generation, today, 0, expected=expected)
    assert signal is not None and signal.action == "raise"
    assert "irradiance" in signal.detail["judged_on"]["en"] and "实测辐照" in signal.detail["judged_on"]["zh"]
    assert signal.detail["expected_kwh"] == 380.0 and "irradiance" in signal.detail["threshold_from"]["en"]
    assert signal.detail["indicator"] == "performance_ratio" and signal.detail["measured_kwh"] < 100


def test_a_dark_day_is_not_judged_and_a_plant_without_a_station_falls_back_to_raw_kwh():
    generation, expected = plant(10)
    series, basis, words = against_physics(generation, {**expected, DAY0 + 9: 0.2}, DAY0 + 9, 1.0, 7)
    assert series is None and basis == "dark" and "not judged" in words["en"]
    series, basis, words = against_physics(generation, None, DAY0 + 9, 1.0, 7)
    assert series == generation and basis == "raw_kwh" and "raw kWh" in words["en"]
