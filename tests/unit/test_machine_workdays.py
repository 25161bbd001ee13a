"""Machine idle on the firm's own working days (alerts/workdays.py, alerts/machines.py): a firm that never works at
weekends raises nothing then, even with an always-on compressor; declared periods and PRC holidays are not judged;
a machine idle on ordinary working days still raises."""

import random

from wuxin.alerts.change import weekday
from wuxin.alerts.machines import daily_hours, judge_machines
from wuxin.alerts.workdays import rest_weekdays, weekday_names

DAY, MIN = 86_400_000, 60_000
START = 1_780_000_000_000 // DAY * DAY
WEEKEND = {5, 6}  # day numbers d with d % 7 in WEEKEND are the firm's rest days


def lathe(days: int, seed: int, idle=(), silent_at_rest=True, report_at_rest=()):
    """08:00-20:00 on working days; at weekends the bracelet is off (no readings) unless the day is in report_at_rest."""
    rng = random.Random(seed)
    out = []
    for d in range(days):
        rest = d % 7 in WEEKEND
        if rest and silent_at_rest and d not in report_at_rest:
            continue
        for m in range(0, 1440, 15):
            on = not rest and d not in idle and 480 <= m < 1200 and rng.random() > 0.05
            out.append((START + d * DAY + m * MIN, round(30 + rng.gauss(0, 2), 1) if on else 1.5))
    return out


def compressor(days: int, seed: int):
    rng = random.Random(seed)
    return [
        (START + d * DAY + m * MIN, round(20 + rng.gauss(0, 1), 1)) for d in range(days) for m in range(0, 1440, 15)
    ]


def hours_of(plant, last_day):
    return {dev: daily_hours(s, 10.0, 0, last_day, lambda d: START + d * DAY, 900_000) for dev, s in plant.items()}


def raised(verdicts):
    return sorted(dev for dev, v in verdicts.items() if v["action"] == "raise")


def test_the_firm_learns_its_rest_weekdays_though_a_compressor_runs_every_day():
    plant = hours_of({1: lathe(28, 1), 2: lathe(28, 2), 3: compressor(28, 3)}, 27)
    rest = rest_weekdays(plant, 28, 0.3)
    assert rest == frozenset(weekday(d) for d in WEEKEND)
    assert weekday_names(rest)["en"] != "none" and weekday_names(frozenset())["zh"] == "无"


def test_a_firm_that_never_works_weekends_raises_nothing_at_a_weekend_its_bracelets_now_report():
    """Bracelets used to sleep at weekends; this weekend they report idle while the compressor runs: no alarm (before
    the firm's own rest weekdays were learnt, both lathes were raised on the Sunday)."""
    days = 28
    weekend = [d for d in range(21, days) if d % 7 in WEEKEND]
    plant = hours_of(
        {1: lathe(days, 1, report_at_rest=weekend), 2: lathe(days, 2, report_at_rest=weekend), 3: compressor(days, 3)},
        days - 1,
    )
    for day in weekend:
        assert raised(judge_machines(plant, day)) == [], day


def test_one_lathe_idle_on_working_days_still_raises_beside_the_compressor():
    plant = hours_of({1: lathe(28, 1, idle={22, 23}), 2: lathe(28, 2), 3: compressor(28, 3)}, 23)
    assert [d % 7 for d in (22, 23)] == [1, 2]
    verdict = judge_machines(plant, 23)
    assert raised(verdict) == [1]
    assert verdict[1]["firm_rest_weekdays"] == sorted(weekday(d) for d in WEEKEND)
    assert "rest weekdays" in verdict[1]["threshold_from"]["en"] and "休息日" in verdict[1]["threshold_from"]["zh"]


def test_holiday_and_declared_maintenance_are_not_judged():
    """A week of holiday while the compressor runs, and one lathe's declared maintenance: raised without the
    calendar, quiet with it."""
    holiday = {15, 16, 17, 18, 21}  # working days of the holiday (the weekend between is the firm's own rest)
    plant = hours_of({1: lathe(22, 1, idle=holiday), 2: lathe(22, 2, idle=holiday), 3: compressor(22, 3)}, 21)
    assert raised(judge_machines(plant, 16)) == [1, 2]  # the calendar not known: both lathes idle
    why = {d: {"day": d, "reason": "holiday", "holiday": {"en": "Spring Festival", "zh": "春节"}} for d in holiday}
    assert raised(judge_machines(plant, 16, excluded={1: why, 2: why, 3: why})) == []
    maintenance = {d: {"day": d, "reason": "maintenance", "note": ""} for d in (15, 16)}
    plant = hours_of({1: lathe(22, 1, idle={15, 16}), 2: lathe(22, 2), 3: compressor(22, 3)}, 16)
    assert raised(judge_machines(plant, 16)) == [1]
    assert raised(judge_machines(plant, 16, excluded={1: maintenance})) == []


def test_a_makeup_working_saturday_is_judged():
    days = 28
    saturday = 26  # 26 % 7 == 5: a rest weekday of the firm, declared a make-up working day
    plant = {1: lathe(days, 1, report_at_rest={25, saturday}), 2: lathe(days, 2), 3: compressor(days, 3)}
    plant[2] += [(START + saturday * DAY + m * MIN, 30.0 if 480 <= m < 1200 else 1.5) for m in range(0, 1440, 15)]
    hours = hours_of(plant, saturday)
    assert raised(judge_machines(hours, saturday)) == []  # an ordinary Saturday: not judged
    verdict = judge_machines(hours, saturday, workdays=frozenset({saturday}))
    assert saturday in {v["day"] for v in verdict.values()}


def test_a_fleet_that_never_drives_sundays_raises_no_mileage_drop_on_a_sunday_but_a_parked_week_does():
    """Two weeks of history: the same-weekday baseline is not yet there, so before the fleet's own rest days were left
    out its Sunday was judged against its working days and raised."""
    from wuxin.services.bootstrap import default_rules
    from wuxin.services.monitoring.daily import baseline_signal

    rule = default_rules()["vehicles.active_days_drop"]
    rng = random.Random(3)
    sunday = next(d for d in range(20720, 20730) if weekday(d) == 6)
    series = [(d, 0.0 if weekday(d) == 6 else 400 + rng.gauss(0, 30)) for d in range(sunday - 14, sunday + 1)]
    assert baseline_signal(1, rule, series, sunday, 0) is None
    parked = series[:-1] + [(sunday + 1, 0.0)]  # Monday parked
    signal = baseline_signal(1, rule, parked, sunday + 1, 0)
    assert signal.action == "raise"
    words = signal.detail["threshold_from"]
    assert "own" in words["en"] and "rest days" in words["en"] and "休息日" in words["zh"]
