"""The equipment timeline's slot states: running, stopped, unknown; absent data is never "stopped"."""
from __future__ import annotations

import numpy as np

from wuxin.indicators.days import day_start_ms
from wuxin.services.console import SLOTS_PER_DAY, run_slots

DAY = 20_400
T0 = day_start_ms(DAY)
MINUTE = 60_000


def minutes(first: int, count: int) -> np.ndarray:
    return np.array([T0 + (first + i) * MINUTE for i in range(count)], dtype=np.int64)


def test_no_readings_is_unknown_for_every_slot():
    assert run_slots(np.zeros(0, np.int64), np.zeros(0), 10.0, DAY, 2) == "-" * (2 * SLOTS_PER_DAY)


def test_current_at_or_above_the_threshold_runs_and_below_stops():
    ts = minutes(0, 30)
    current = np.r_[np.full(15, 10.0), np.full(15, 9.99)]
    slots = run_slots(ts, current, 10.0, DAY, 1)
    assert slots[:3] == "RS-" and len(slots) == SLOTS_PER_DAY


def test_a_slot_observed_less_than_half_is_unknown_not_stopped():
    slots = run_slots(minutes(15, 3), np.full(3, 0.0), 10.0, DAY, 1)  # 1 + 1 + 5 held minutes of 15
    assert slots[1] == "-"
    assert run_slots(minutes(15, 4), np.full(4, 0.0), 10.0, DAY, 1)[1] == "S"  # 8 of 15


def test_a_reading_holds_at_most_five_minutes_then_time_is_unobserved():
    slots = run_slots(minutes(0, 1), np.array([50.0]), 10.0, DAY, 1)
    assert slots[0] == "-"  # one reading holds 5 of 15 minutes


def test_nan_readings_observe_nothing_and_readings_before_the_window_only_spill_over():
    ts = np.r_[np.array([T0 - 2 * MINUTE]), minutes(0, 15)]
    current = np.r_[np.array([50.0]), np.full(15, np.nan)]
    assert run_slots(ts, current, 10.0, DAY, 1)[0] == "-"


def test_running_is_the_majority_of_the_observed_time_and_days_follow_each_other():
    ts = np.r_[minutes(0, 15), minutes(SLOTS_PER_DAY * 15, 15)]
    current = np.r_[np.r_[np.full(8, 20.0), np.full(7, 0.0)], np.full(15, 0.0)]
    slots = run_slots(ts, current, 10.0, DAY, 2)
    assert slots[0] == "R" and slots[SLOTS_PER_DAY] == "S" and slots.count("-") == 2 * SLOTS_PER_DAY - 2
