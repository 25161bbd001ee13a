"""The equipment timeline's slot states: running, stopped, unknown; absent data is never "stopped"."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from wuxin.indicators.days import day_start_ms
from wuxin.indicators.series import DeviceDays, Series
from wuxin.services.console.timeline import SLOTS_PER_DAY, _runs, record_run_slots, run_slots

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


class _FakeConsoleRepo:
    def __init__(self):
        self.rows: dict[tuple[int, int], str] = {}

    def put_run_slots(self, device_id, rows, now_ms):
        self.rows.update({(device_id, day): slots for day, slots in rows})


def _device_days(attributes: dict, ts: np.ndarray, current: np.ndarray, days: int = 2) -> DeviceDays:
    return DeviceDays(
        "loom",
        "manufacturing.current_bracelet",
        attributes,
        np.arange(DAY, DAY + days),
        {"current_a": Series(ts, current)},
        {},
        (),
        T0 + 3 * 86_400_000,
    )


def test_the_indicators_hook_stores_one_slot_string_per_machine_day():
    uow = SimpleNamespace(console=_FakeConsoleRepo())
    ts = np.r_[minutes(0, 15), minutes(SLOTS_PER_DAY * 15, 15)]
    record_run_slots(
        uow,
        {"id": 7, "attributes": {"run_threshold_a": 10.0}},
        _device_days({}, ts, np.r_[np.full(15, 20.0), np.full(15, 0.0)]),
        0,
    )
    assert set(uow.console.rows) == {(7, DAY), (7, DAY + 1)}
    assert uow.console.rows[(7, DAY)][:2] == "R-" and uow.console.rows[(7, DAY + 1)][:2] == "S-"
    assert all(len(s) == SLOTS_PER_DAY for s in uow.console.rows.values())


def test_the_hook_ignores_devices_without_a_run_threshold_or_current():
    uow = SimpleNamespace(console=_FakeConsoleRepo())
    record_run_slots(uow, {"id": 1, "attributes": {}}, _device_days({}, minutes(0, 15), np.full(15, 20.0)), 0)
    meter = DeviceDays("meter", "manufacturing.energy_meter", {}, np.arange(DAY, DAY + 1), {}, {}, (), 0)
    record_run_slots(uow, {"id": 2, "attributes": {"run_threshold_a": 5.0}}, meter, 0)
    assert uow.console.rows == {}


def test_missing_days_are_read_in_consecutive_runs():
    assert _runs([]) == []
    assert _runs([3, 4, 5, 9, 11, 12]) == [(3, 5), (9, 9), (11, 12)]


# ---------------------------------------------------------------- the figures the timeline shows

from wuxin.indicators.days import day_iso  # noqa: E402
from wuxin.services.console.timeline import run_summary  # noqa: E402


def _day(running_slots: int, unknown_slots: int = 0) -> str:
    return "R" * running_slots + "-" * unknown_slots + "S" * (SLOTS_PER_DAY - running_slots - unknown_slots)


def test_run_hours_are_averaged_over_the_days_with_data_not_the_window():
    # 38 R slots = 9.5 h on one day, then 6 days without any data: 9.5 h/d over 1 day, not 9.5 / 7 = 1.4
    slots = _day(38) + "-" * (6 * SLOTS_PER_DAY)
    s = run_summary(slots, DAY, None)
    assert s["run_hours_per_day"] == 9.5 and s["days_with_data"] == 1 and s["first_day_with_data"] == day_iso(DAY)


def test_days_without_data_are_gaps_and_a_stopped_day_counts_as_zero():
    slots = "-" * SLOTS_PER_DAY + _day(40) + _day(0) + _day(20, unknown_slots=50)
    s = run_summary(slots, DAY, None)
    assert s["days_with_data"] == 3 and s["first_day_with_data"] == day_iso(DAY + 1)
    assert s["run_hours_per_day"] == (10 + 0 + 5) / 3


def test_the_open_day_is_reported_apart_and_left_out_of_the_average():
    slots = _day(40) + _day(32) + "R" * 8 + "-" * (SLOTS_PER_DAY - 8)
    s = run_summary(slots, DAY, DAY + 2)
    assert s["run_hours_per_day"] == 9.0 and s["days_with_data"] == 2
    assert s["partial_day"] == {"day": day_iso(DAY + 2), "run_hours": 2.0, "observed_hours": 2.0}


def test_a_machine_without_any_data_has_no_average_rather_than_zero():
    s = run_summary("-" * (3 * SLOTS_PER_DAY), DAY, DAY + 2)
    assert s["run_hours_per_day"] is None and s["days_with_data"] == 0 and s["first_day_with_data"] is None
    assert s["partial_day"]["run_hours"] == 0 and s["partial_day"]["observed_hours"] == 0
