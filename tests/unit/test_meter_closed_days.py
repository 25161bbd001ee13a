"""Meter balance on closed days and after a long holiday (alerts/meters.py): a plant's holiday meter (lights and a
compressor, a few standby amps on the bracelets) is not "below" its 24 x base_load_kw; a week's holiday does not
turn the declared-base slope negative; a meter bypassed on a working day still raises; an unphysical fit is refused."""

import math
import random

from wuxin.alerts.meters import judge_meter

DAY, MIN = 86_400_000, 60_000
START = 1_780_000_000_000 // DAY * DAY
KW_PER_A = math.sqrt(3) * 380 * 0.85 / 1000


def plant(days: int, holiday=range(0), bypass_day=None, seed=7, crew_day=None):
    """Two 40-A machines 08:00-20:00 on working days (Sundays and `holiday` closed: 0.2 A standby); base load 18 kW
    on working days, 11 kW when closed (lights off, one compressor): meter ~264 kWh on a closed day vs 24 x 18 = 432."""
    rng = random.Random(seed)
    currents = {1: [], 2: []}
    counter, total = [], 10_000.0
    for d in range(days):
        closed = d % 7 == 6 or d in holiday or d == crew_day
        for m in range(0, 1440, 15):
            ts = START + d * DAY + m * MIN
            work = not closed and 480 <= m < 1200
            crew = d == crew_day and 480 <= m < 720  # a holiday crew runs one machine for four hours
            amps = {k: (40 + rng.gauss(0, 3)) if work or (crew and k == 1) else 0.2 for k in currents}
            for k, a in amps.items():
                currents[k].append((ts, round(a, 1)))
            kw = sum(amps.values()) * KW_PER_A + (11 if closed else 18)
            if d == bypass_day:
                kw *= 0.4
            counter.append((ts, round(total, 2)))
            total += kw * 0.25
    return counter, {k: (v, {}) for k, v in currents.items()}


def starts(last: int, first: int):
    return [START + d * DAY for d in range(first, last + 1)]


def test_a_closed_sunday_with_standby_amps_is_not_below_its_declared_base_load():
    counter, machines = plant(29)
    sunday = 27
    verdict = judge_meter(counter, machines, {"base_load_kw": 18}, starts(sunday, sunday - 21))
    assert (
        verdict["action"] == "clear"
        and "closed" in verdict["closed_day"]["en"]
        and "停工" in verdict["closed_day"]["zh"]
    )
    assert verdict["gap_kwh"] < -100  # the meter is far under 432: only the closed day keeps it from "below"


HOLIDAYS = set(range(3, 5)) | set(range(14, 22))  # two days off, then a week's holiday: most of the window closed


def test_after_a_weeks_holiday_working_days_are_judged_on_a_positive_slope():
    """Before, the closed days' (meter - 432) / standby kWh (about -31) made the median slope negative and every
    working day after the holiday "above"."""
    counter, machines = plant(30, holiday=HOLIDAYS)
    for d in (22, 23, 24):
        verdict = judge_meter(counter, machines, {"base_load_kw": 18}, starts(d, d - 21))
        assert verdict["action"] == "clear", (d, verdict)
        assert verdict["slope"] > 0


def test_a_meter_bypassed_on_a_working_day_after_the_holiday_still_raises_below():
    counter, machines = plant(30, holiday=HOLIDAYS, bypass_day=24)
    verdict = judge_meter(counter, machines, {"base_load_kw": 18}, starts(24, 3))
    assert verdict["action"] == "raise" and verdict["direction"] == "below"


def test_a_holiday_the_calendar_declares_is_not_below_though_a_crew_runs_one_machine():
    """The crew's four hours put the machines above the standby share: only the calendar says the plant is closed."""
    monday = 22
    counter, machines = plant(29, crew_day=monday)
    args = (counter, machines, {"base_load_kw": 18}, starts(monday, monday - 21))
    assert judge_meter(*args)["direction"] == "below"  # without the calendar: judged on the working base load
    verdict = judge_meter(*args, closed=[START + monday * DAY])
    assert verdict["action"] == "clear" and "closed_day" in verdict


def test_an_unphysical_negative_fit_is_refused_with_its_reason():
    counter, machines = plant(29)
    monday = 22
    verdict = judge_meter(counter, machines, {"base_load_kw": 60}, starts(monday, monday - 21))
    assert verdict["action"] == "unjudged" and verdict["slope"] < 0 and "backwards" in verdict["reason"]["en"]
    assert "倒走" in verdict["reason"]["zh"]
