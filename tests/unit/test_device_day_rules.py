"""Odometer (rollback, km vs GPS), one machine idle against its own working days, meter kWh vs machine currents."""

import datetime as dt
import math
import random

from wuxin.alerts.machines import daily_hours, judge_machines, running_hours
from wuxin.alerts.meters import judge_meter, machine_kwh, meter_kwh
from wuxin.alerts.odometer import gps_km, judge, steps
from wuxin.alerts.rules import parse_rule
from wuxin.errors import InvalidInput
from wuxin.indicators.days import day_start_ms

DAY, MIN, HOUR = 86_400_000, 60_000, 3_600_000
START = 1_780_000_000_000 // DAY * DAY


# ---------------------------------------------------------------- odometer


def drive(days: int, seed: int = 1, rest_days=(), odo_factor=None):
    """A truck driving 08:00-16:00 east and back at ~60 km/h, a fix and an odometer reading every minute; the
    odometer reads 4 % above the track (corners the fixes cut). `odo_factor(day)` overrides that factor."""
    rng = random.Random(seed)
    odo, track, odometer = 120_000.0, [], []
    lat, lon = 31.0, 120.0
    for d in range(days):
        for m in range(0, 1440, 1):
            ts = START + d * DAY + m * MIN
            moving = d not in rest_days and 480 <= m < 960
            if moving:
                speed = 60 + rng.gauss(0, 5)
                east = 1 if m < 720 else -1
                step_km = speed / 60
                lon += east * step_km / (111.32 * math.cos(math.radians(lat)))
                odo += step_km * (odo_factor(d) if odo_factor else 1.04)
            track.append((ts, round(lat, 6), round(lon, 6)))
            odometer.append((ts, round(odo, 1)))
    return odometer, track


def test_healthy_truck_is_quiet_including_rest_days():
    odometer, track = drive(20, rest_days={6, 13, 19})
    for d in range(8, 20):
        assert judge(odometer, track, START + d * DAY) is None, d


def test_rollback_is_caught_and_states_its_tolerance():
    odometer, track = drive(16)
    at = START + 15 * DAY + 12 * HOUR
    wound = [(ts, v - 5_000 if ts >= at else v) for ts, v in odometer]
    verdict = judge(wound, track, START + 15 * DAY)
    assert verdict["test"] == "rollback" and verdict["rollback_km"] > 4_990
    assert verdict["tolerance_km"] < 1 and "resolution" in verdict["threshold_from"]["en"]


def test_counter_reset_and_replaced_terminal_are_not_rollbacks():
    odometer, track = drive(16)
    at = START + 15 * DAY + 12 * HOUR
    first = next(v for ts, v in odometer if ts >= at)
    reset = [(ts, round(v - first + 0.1, 1) if ts >= at else v) for ts, v in odometer]
    assert judge(reset, track, START + 15 * DAY) is None
    assert len(steps(reset, 10.0).resets) == 1


def test_odometer_inflated_against_gps_is_caught():
    odometer, track = drive(16, odo_factor=lambda d: 1.04 if d < 15 else 1.5)
    verdict = judge(odometer, track, START + 15 * DAY)
    assert verdict["test"] == "distance" and verdict["ratio"] > verdict["high"]
    assert abs(verdict["usual_ratio"] - 1.04) < 0.02


def test_odometer_standing_still_while_the_truck_drives_is_caught():
    odometer, track = drive(16, odo_factor=lambda d: 1.04 if d < 15 else 0.0)
    verdict = judge(odometer, track, START + 15 * DAY)
    assert verdict["test"] == "distance" and verdict["ratio"] < verdict["low"]


def test_a_vehicle_whose_ratio_is_its_own_habit_is_quiet():
    odometer, track = drive(16, odo_factor=lambda d: 1.3)  # winding roads: always 30 % over the fixes
    assert judge(odometer, track, START + 15 * DAY) is None


def test_gps_jump_legs_are_left_out_of_the_distance():
    track = [(START, 31.0, 120.0), (START + MIN, 31.0, 121.0), (START + 2 * MIN, 31.0, 120.0)]
    assert gps_km(track, 200.0) == 0.0


def test_refuelling_stops_with_a_jittering_fix_are_not_distance():
    """Parked at a fuel station an hour each day, the receiver wanders ~15 m a minute: no km, no alarm."""
    odometer, track = drive(16)
    rng = random.Random(8)
    jitter = [
        (ts, lat + rng.gauss(0, 0.0001), lon + rng.gauss(0, 0.0001))
        if (ts - START) % DAY // MIN in range(960, 1020)
        else (ts, lat, lon)
        for ts, lat, lon in track
    ]
    assert gps_km(jitter[960:1020], 200.0, 3.0) == 0.0
    for d in range(8, 16):
        assert judge(odometer, jitter, START + d * DAY) is None, d


def test_short_history_is_not_judged_on_distance():
    odometer, track = drive(4, odo_factor=lambda d: 1.04 if d < 3 else 2.0)
    assert judge(odometer, track, START + 3 * DAY) is None


# ---------------------------------------------------------------- machine idle


def machine(days: int, seed: int, idle=(), weekend_rest=True):
    rng = random.Random(seed)
    out = []
    for d in range(days):
        rest = weekend_rest and d % 7 in (5, 6)
        for m in range(0, 1440, 5):
            ts = START + d * DAY + m * MIN
            on = not rest and d not in idle and 480 <= m < 1200 and rng.random() > 0.05
            out.append((ts, round(30 + rng.gauss(0, 2), 1) if on else 1.5))
    return out


def hours_of(series_by_device, last_day):
    return {
        dev: daily_hours(s, 10.0, 0, last_day, lambda d: START + d * DAY, 900_000)
        for dev, s in series_by_device.items()
    }


def test_running_hours_count_readings_above_threshold():
    series = machine(1, 1)
    h = running_hours(series, 10.0, START, 900_000)
    assert 10 < h < 12.1


def test_one_machine_idle_while_the_others_work_is_raised_after_two_days():
    plant = {1: machine(28, 1, idle={24, 25}), 2: machine(28, 2), 3: machine(28, 3)}
    hours = hours_of(plant, 25)
    first = judge_machines(hours, 24)
    assert 1 not in first or first[1]["action"] != "raise"  # one judged day below is not yet two
    verdict = judge_machines(hours, 25)
    assert verdict[1]["action"] == "raise" and verdict[1]["running_h"] == 0.0
    assert verdict[1]["low_h"] > 0 and "working days" in verdict[1]["threshold_from"]["en"]
    assert verdict[2]["action"] == "clear" and verdict[3]["action"] == "clear"


def test_weekend_and_plant_holiday_are_not_idle_machines():
    plant = {1: machine(28, 1, idle={23, 24}), 2: machine(28, 2, idle={23, 24}), 3: machine(28, 3, idle={23, 24})}
    hours = hours_of(plant, 27)
    for day in (24, 26, 27):  # a two-day plant holiday, then Saturday and Sunday (its own rest days)
        assert all(v["action"] != "raise" for v in judge_machines(hours, day).values()), day


def test_machine_on_standby_as_its_habit_is_not_idle():
    """A standby machine (never runs on its own history) has no working band to fall below."""
    plant = {1: [(ts, 1.5) for ts, _ in machine(28, 1)], 2: machine(28, 2)}
    verdict = judge_machines(hours_of(plant, 25), 25)
    assert 1 not in verdict or verdict[1]["action"] != "raise"


# ---------------------------------------------------------------- meter vs machine currents


def meter_and_machines(days: int, extra_kw=lambda d: 0.0, reset_day=None):
    """Two 40-A machines on 380 V three-phase (pf 0.85) 08:00-20:00 on work days, a 12-kW base load."""
    rng = random.Random(5)
    currents = {1: [], 2: []}
    counter, total = [], 50_000.0
    kw_per_a = math.sqrt(3) * 380 * 0.85 / 1000
    for d in range(days):
        for m in range(0, 1440, 15):
            ts = START + d * DAY + m * MIN
            work = d % 7 not in (5, 6) and 480 <= m < 1200
            amps = {k: (40 + rng.gauss(0, 3)) if work and rng.random() > 0.1 else 0.5 for k in currents}
            for k, a in amps.items():
                currents[k].append((ts, round(a, 1)))
            kw = sum(amps.values()) * kw_per_a + 12 + extra_kw(d)
            if reset_day == d and m == 600:
                total = 0.0
            counter.append((ts, round(total, 2)))
            total += kw * 0.25
    return counter, {k: (v, {}) for k, v in currents.items()}


def starts(last_day: int, first_day: int = 0):
    return [START + d * DAY for d in range(first_day, last_day + 1)]


def test_meter_in_step_with_its_machines_is_quiet_on_work_days_and_weekends():
    counter, machines = meter_and_machines(22)
    for d in range(14, 22):
        verdict = judge_meter(counter, machines, {}, starts(d, d - 14))
        assert verdict is None or verdict["action"] == "clear", (d, verdict)


def test_meter_far_above_its_machines_is_raised_with_its_fitted_threshold():
    counter, machines = meter_and_machines(22, extra_kw=lambda d: 60.0 if d == 21 else 0.0)
    verdict = judge_meter(counter, machines, {}, starts(21, 7))
    assert verdict["action"] == "raise" and verdict["direction"] == "above"
    assert abs(verdict["gap_kwh"] - 60 * 24) < 0.3 * 60 * 24
    assert "robust line" in verdict["threshold_from"]["en"] and 200 < verdict["base_kwh"] < 400


def test_meter_reset_is_not_a_gap():
    counter, machines = meter_and_machines(22, reset_day=21)
    verdict = judge_meter(counter, machines, {}, starts(21, 7))
    assert verdict["action"] == "clear"
    assert meter_kwh(counter, START + 21 * DAY, START + 22 * DAY) > 0


def test_declared_base_load_fixes_the_intercept():
    counter, machines = meter_and_machines(22)
    verdict = judge_meter(counter, machines, {"base_load_kw": 12}, starts(21, 7))
    assert verdict["base_kwh"] == 288.0 and "base_load_kw" in verdict["threshold_from"]["en"]


def test_machine_kwh_uses_install_attributes():
    current = [(START, 10.0), (START + HOUR, 10.0)]
    single = machine_kwh(current, {"voltage_v": 220, "power_factor": 1.0, "phases": 1}, START, START + 2 * HOUR, HOUR)
    assert abs(single - 4.4) < 1e-9


def test_rule_types_parse_and_reject_bad_numbers():
    rule = parse_rule({"id": "vehicles.odo", "type": "odometer", "params": {"z": 5}}, "vehicles")
    assert rule.type == "odometer"
    try:
        parse_rule({"id": "vehicles.odo", "type": "odometer", "params": {"min_gps_km": -1}}, "vehicles")
    except InvalidInput as exc:
        assert "min_gps_km" in str(exc)
    else:
        raise AssertionError("negative min_gps_km accepted")


# ---------------------------------------------------------------- herd count against its own variation

from wuxin.alerts.herd import herd_count_step  # noqa: E402

WINDOW = 2 * HOUR


def run_herd(shares_reporting, eligible=100, params=None):
    state, out = {}, []
    for i, reporting in enumerate(shares_reporting):
        out.append(
            herd_count_step(
                reporting, eligible, state, START + i * WINDOW, WINDOW, {"min_share": 0.85, **(params or {})}
            )
        )
    return out, state


def test_herd_drop_of_13_percent_is_caught_once_the_herd_is_known():
    rng = random.Random(4)
    normal = [100 - rng.choice((0, 0, 1, 1, 2)) for _ in range(24)]
    out, state = run_herd(normal + [86, 86])
    assert all(a == "clear" for a, _ in out[:24])
    action, detail = out[-1]
    assert action == "raise" and detail["min_share"] > 0.9 and detail["usual_share"] >= 0.98
    assert "usual share" in detail["threshold_from"]["en"]
    assert 0.86 not in state["samples"]  # a drop does not teach the herd that dropping is normal


def test_herd_with_its_own_large_variation_gets_a_lower_line():
    rng = random.Random(5)
    out, _ = run_herd([rng.randint(80, 100) for _ in range(30)] + [84])
    assert out[-1][0] == "clear" and out[-1][1]["min_share"] < 0.84


def test_before_enough_windows_the_declared_share_is_used():
    out, _ = run_herd([100, 100, 90])
    assert (
        out[-1][0] == "clear" and out[-1][1]["min_share"] == 0.85 and "declared" in out[-1][1]["threshold_from"]["en"]
    )


def test_no_eligible_collars_is_not_judged():
    assert herd_count_step(0, 0, {}, START, WINDOW, {"min_share": 0.85}) == (None, {})


def day_number(date: dt.date) -> int:
    return (date - dt.date(1970, 1, 1)).days


def running_all_day(day: int, zone: str, step_min: int) -> list[tuple[int, float]]:
    """A machine drawing 30 A from its local day's start to the next one's, a reading every `step_min` minutes."""
    start, end = day_start_ms(day, zone), day_start_ms(day + 1, zone)
    return [(ts, 30.0) for ts in range(start, end, step_min * MIN)]


def test_a_machine_seen_only_in_the_last_hour_of_a_25_hour_day_runs_that_hour():
    zone = "Europe/Berlin"
    dst_end = day_number(dt.date(2026, 10, 25))  # clocks go back: a 25-hour local day
    last_hour = day_start_ms(dst_end, zone) + 24 * HOUR
    assert day_start_ms(dst_end + 1, zone) - last_hour == HOUR
    series = [(last_hour + m * MIN, 30.0) for m in range(0, 60, 5)]
    hours = daily_hours(series, 10.0, dst_end, dst_end, lambda d: day_start_ms(d, zone), 900_000)
    assert hours == [(dst_end, 1.0)]


def test_running_hours_measure_the_real_length_of_a_daylight_saving_day():
    """Running all day is 25 hours on the day clocks go back and 23 on the day they go forward, whatever the gap."""
    zone = "Europe/Berlin"
    for date, length_h in ((dt.date(2026, 10, 25), 25.0), (dt.date(2026, 3, 29), 23.0), (dt.date(2026, 3, 30), 24.0)):
        day = day_number(date)
        series = running_all_day(day, zone, 60)  # hourly readings, each counting up to three hours
        hours = daily_hours(series, 10.0, day, day, lambda d: day_start_ms(d, zone), 3 * HOUR)
        assert hours == [(day, length_h)], date
