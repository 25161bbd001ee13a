"""The copy test on a PV inverter (alerts/copies.py): every day is the sun's arc times the day's light, clipped at the
AC rating on clear days, so its detail is a scaled copy of the same clear-sky shape; an overcast day matched a clear
one (0.986 against 0.97 on a gen2 control inverter; 0.774 against a threshold learnt from four days on another)
before the device's usual shape was scaled to each day and a short history kept a higher floor. A day copied from an
earlier broken-cloud day is still caught."""

import math
import random

from wuxin.alerts.copies import copy_check

DAY, MIN = 86_400_000, 60_000
START = 1_780_000_000_000 // DAY * DAY
KWP, AC_KW = 400.0, 347.8


def pv_day(rng: random.Random, day: int, regime: str) -> list[tuple[int, float]]:
    """10-minute AC kW: a sun arc 06:00-18:00 times the light of a clear, broken or overcast day, clipped at AC_KW."""
    out, wobble = [], 0.0
    for m in range(0, 1440, 10):
        wobble = 0.8 * wobble + rng.gauss(0, 0.12)
        sun = max(0.0, math.sin(math.pi * (m - 360) / 720)) ** 1.3 if 360 <= m <= 1080 else 0.0
        light = {
            "clear": 0.97 + 0.02 * math.tanh(wobble),
            "broken": min(max(0.62 + 0.5 * wobble + rng.gauss(0, 0.15), 0.15), 1.05),
            "overcast": min(max(0.28 + 0.1 * wobble, 0.08), 0.6),
        }[regime]
        out.append((START + day * DAY + m * MIN, round(min(KWP * 0.9 * sun * light, AC_KW), 3)))
    return out


REGIMES = ["clear", "broken", "overcast", "clear", "broken", "overcast", "broken", "clear", "overcast", "clear"]


def plant(seed: int = 4):
    rng = random.Random(seed)
    return [p for d, regime in enumerate(REGIMES) for p in pv_day(rng, d, regime)]


def test_clear_clipped_and_overcast_days_of_an_honest_inverter_are_not_copies():
    series = plant()
    for day in range(6, len(REGIMES)):
        check = copy_check(series, START + day * DAY)
        assert check is None or not check.copied, (day, check)


def test_a_short_history_keeps_a_high_floor_under_the_learnt_threshold():
    series = plant()
    check = copy_check(series, START + 6 * DAY, {"min_history_days": 3})
    assert check is not None and check.history_days < 7 and check.threshold >= 0.85


def test_a_broken_cloud_day_copied_onto_a_later_day_is_still_caught():
    series = plant()
    source, target = 4, 9
    moved = [
        (ts + (target - source) * DAY, round(v * 1.02 + random.Random(ts).gauss(0, 0.3), 3))
        for ts, v in series
        if START + source * DAY <= ts < START + (source + 1) * DAY
    ]
    copied = sorted([p for p in series if not START + target * DAY <= p[0] < START + (target + 1) * DAY] + moved)
    check = copy_check(copied, START + target * DAY)
    assert check is not None and check.copied and check.source_day_start_ms == START + source * DAY
