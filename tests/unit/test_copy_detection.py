"""Copies against any earlier day (alerts/copies.py): loops, shifts, scaling, light noise; healthy days and standby."""

import random

import pytest

from wuxin.alerts.copies import copy_check, explain
from wuxin.alerts.fabricated import fabricated_verdict

DAY, MIN = 86_400_000, 60_000
START = 1_780_000_000_000 // DAY * DAY


def machine_day(rng: random.Random, day: int, weekend_off: bool = True) -> list[tuple[int, float]]:
    """A machine's 1-minute current: standby 2 A off-shift, ~40 A with swings and stoppages 08:00-20:00 on work days."""
    out, level = [], 40.0
    work = not (weekend_off and day % 7 in (5, 6))
    for m in range(1440):
        ts = START + day * DAY + m * MIN
        if work and 480 <= m < 1200:
            level += 0.3 * (40.0 - level) + rng.gauss(0, 2.5)
            value = 0.0 if rng.random() < 0.02 else level
        else:
            value = 2.0 + rng.choice((0.0, 0.1))
        out.append((ts, round(max(value, 0.0), 1)))
    return out


def history(days: int, seed: int = 1, **kw) -> list[tuple[int, float]]:
    rng = random.Random(seed)
    return [p for d in range(days) for p in machine_day(rng, d, **kw)]


def replace_day(series, day: int, new: list[tuple[int, float]]):
    return [p for p in series if not START + day * DAY <= p[0] < START + (day + 1) * DAY] + new


def copied(
    series, source_day: int, target_day: int, shift_min: int = 0, scale: float = 1.0, noise: float = 0.0, seed: int = 9
):
    rng = random.Random(seed)
    src = [(ts, v) for ts, v in series if START + source_day * DAY <= ts < START + (source_day + 1) * DAY]
    moved = [
        (ts + (target_day - source_day) * DAY + shift_min * MIN, round(v * scale + rng.gauss(0, noise), 1))
        for ts, v in src
    ]
    moved = [(ts, v) for ts, v in moved if START + target_day * DAY <= ts < START + (target_day + 1) * DAY]
    return sorted(replace_day(series, target_day, moved))


@pytest.mark.parametrize("target", [20, 21, 22, 23, 24, 25, 26, 27])
def test_healthy_days_are_not_copies(target):
    series = history(28)
    check = copy_check(series, START + target * DAY)
    if check is None:  # a weekend: standby all day, not judged
        assert target % 7 in (5, 6)
        return
    assert not check.copied, check
    assert check.threshold >= 0.6


def test_week_replayed_in_a_loop_is_caught_though_yesterday_differs():
    series = copied(history(28), 14, 21)  # the Monday three weeks ago... replayed a week later
    check = copy_check(series, START + 21 * DAY)
    assert check is not None and check.copied
    assert check.source_day_start_ms == START + 14 * DAY
    # the exact test looks only at the day before and passes it
    assert fabricated_verdict(series, START + 21 * DAY, {"tests": ["copy"]}) is None


def test_shifted_scaled_noised_copy_is_caught():
    series = copied(history(28), 16, 24, shift_min=37, scale=1.08, noise=0.8)
    check = copy_check(series, START + 24 * DAY)
    assert check is not None and check.copied, check
    assert check.source_day_start_ms == START + 16 * DAY
    assert abs(check.lag_s - 35 * 60) <= 300  # 37 min, to the 5-min bin


def test_standby_day_copied_is_not_judged():
    """A machine on standby repeats itself: no real variation, no verdict (the flat test's business)."""
    series = history(28)
    weekend = 26  # day % 7 == 5
    assert weekend % 7 == 5
    assert copy_check(copied(series, 19, weekend), START + weekend * DAY) is None


def test_device_whose_days_resemble_each_other_is_judged_on_what_its_days_do_not_share():
    """A machine running the same programme every day: the programme is its habit (taken off bin by bin), so its
    days resemble each other only by their own detail, and a copied day, which keeps that detail, still stands out."""
    rng = random.Random(3)
    programme = [round(40 + 10 * rng.random(), 1) for _ in range(1440)]
    series = [
        (START + d * DAY + m * MIN, round(programme[m] + random.Random(d * 10_000 + m).gauss(0, 1.5), 1))
        for d in range(28)
        for m in range(1440)
    ]
    check = copy_check(series, START + 27 * DAY)
    assert check is not None and not check.copied
    assert check.usual < 0.6 <= check.threshold
    exact = copied(series, 20, 27)
    assert copy_check(exact, START + 27 * DAY).copied


def _shift_day(rng: random.Random, day: int, stop_rate: float) -> list[tuple[int, float]]:
    """A shift machine (08:00-12:00, 13:00-17:30, 18:30-20:30): a start-up peak at each start, stops of ~5 min at
    `stop_rate` a minute drawing idle current, nothing outside its hours."""
    out, was, stop = [], False, 0
    for m in range(1440):
        scheduled = 480 <= m < 720 or 780 <= m < 1050 or 1110 <= m < 1230
        if scheduled and stop == 0 and rng.random() < stop_rate:
            stop = 1 + int(rng.expovariate(1 / 5))
        on = scheduled and stop == 0
        stop = max(stop - 1, 0) if scheduled else 0
        value = (
            (round(50 + rng.gauss(0, 1), 1) if not was else round(25 + rng.gauss(0, 0.6), 1))
            if on
            else (round(7 + rng.gauss(0, 0.3), 1) if scheduled else 0.0)
        )
        out.append((START + day * DAY + m * MIN, value))
        was = on
    return out


def test_shared_start_up_peaks_are_routine_not_a_copy():
    """Benign: a holiday and a plant stop leave five working days, and a day without a single stop is made of the
    start-up peaks every working day has at 08:00, 13:00 and 18:30 (a false copy, 0.85 against 0.77, before the
    device's habit was taken off). Anomalous: a day replayed from an earlier one is still caught."""
    rng = random.Random(7)
    series = [
        p
        for d in range(10)
        for p in (
            _shift_day(rng, d, 0.012)
            if d in (0, 1, 2, 7, 8)
            else _shift_day(rng, d, 0.0)
            if d == 9
            else [(START + d * DAY + m * MIN, 0.0) for m in range(1440)]
        )
    ]
    quiet = copy_check(series, START + 9 * DAY, {"min_history_days": 4})
    assert quiet is not None and not quiet.copied
    assert copy_check(copied(series, 8, 9), START + 9 * DAY, {"min_history_days": 4}).copied


def test_short_history_is_not_judged():
    series = copied(history(4), 1, 3)
    assert copy_check(series, START + 3 * DAY) is None


def test_explanation_states_threshold_and_origin():
    series = copied(history(28), 14, 21)
    detail = explain(copy_check(series, START + 21 * DAY))
    assert detail["test"] == "replay" and detail["threshold"] >= 0.6
    assert "median" in detail["threshold_from"]["en"] and "中位数" in detail["threshold_from"]["zh"]


def test_fabricated_verdict_runs_the_replay_test():
    series = copied(history(28), 14, 21)
    verdict = fabricated_verdict(series, START + 21 * DAY, {"tests": ["copy", "replay"]})
    assert verdict is not None and verdict["test"] == "replay"
    assert fabricated_verdict(history(28), START + 22 * DAY, {"tests": ["copy", "replay"]}) is None
