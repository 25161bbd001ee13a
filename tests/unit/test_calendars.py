"""Calendars and time zones, pure: local days cut in a site's zone (DST-correct), the official PRC calendar with its
make-up working days, declared periods, and the drop rule on healthy data with benign breaks (a holiday week, a
shutdown, a make-up Saturday)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from wuxin.alerts.rules import parse_rule
from wuxin.calendars.official import CalendarNotCovered, official_day
from wuxin.calendars.periods import Period, excluded_days, makeup_workdays, period_at
from wuxin.errors import InvalidInput
from wuxin.indicators.days import (
    DAY_MS,
    HOUR_MS,
    check_zone,
    day_length_ms,
    day_start_ms,
    day_zone,
    dirty_device_days,
    local_day,
    local_hour,
    parse_day,
)
from wuxin.indicators.kernels import counter_increase, held_seconds
from wuxin.services.monitoring.daily import baseline_signal


def utc_ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp() * 1000)


# ---------------------------------------------------------------- time zones


def test_a_berlin_day_starts_at_berlin_midnight_and_lasts_23_hours_on_the_spring_change():
    day = parse_day("2026-03-29")  # summer time starts at 02:00 CET
    assert day_start_ms(day, "Europe/Berlin") == utc_ms("2026-03-28T23:00:00+00:00")
    assert day_start_ms(day + 1, "Europe/Berlin") == utc_ms("2026-03-29T22:00:00+00:00")
    assert day_length_ms(day, "Europe/Berlin") == 23 * HOUR_MS
    assert day_length_ms(parse_day("2026-10-25"), "Europe/Berlin") == 25 * HOUR_MS
    assert day_length_ms(day) == DAY_MS  # China: no daylight saving
    # 20:00 UTC on the 29th is 04:00 on the 30th in China, 22:00 on the 29th in Berlin
    evening = utc_ms("2026-03-29T20:00:00+00:00")
    assert local_day(evening) == day + 1 and local_day(evening, "Europe/Berlin") == day
    assert local_day(np.array([evening]), "America/Denver").tolist() == [day]


def test_a_denver_plant_cuts_its_days_at_denver_midnight_in_the_kernels():
    """An hourly counter of a plant in Denver: each local day gets its own 24 increments, not China's 10:00 to 10:00."""
    first = parse_day("2026-07-01")
    with day_zone("America/Denver"):
        start = day_start_ms(first)
        assert start == utc_ms("2026-07-01T06:00:00+00:00")  # MDT, UTC-6
        ts = np.arange(start - HOUR_MS, start + 3 * DAY_MS + 1, HOUR_MS, dtype=np.int64)
        increase, observed = counter_increase(
            ts, np.arange(len(ts), dtype=float), np.arange(first, first + 3), 2 * HOUR_MS
        )
        _, covered = held_seconds(ts, np.ones(len(ts), dtype=bool), np.arange(first, first + 3), 2 * HOUR_MS)
        hours = local_hour(np.array([start + 5 * HOUR_MS]))
    assert increase.tolist() == [24.0, 24.0, 24.0] and observed.tolist() == [1.0, 1.0, 1.0]
    assert covered.tolist() == [86_400.0] * 3 and hours.tolist() == [5.0]
    china = counter_increase(ts, np.arange(len(ts), dtype=float), np.arange(first, first + 3), 2 * HOUR_MS)[0]
    assert china.tolist() != [24.0, 24.0, 24.0]  # the same points cut at China midnight: other days


def test_dirty_days_of_a_device_elsewhere_are_its_own_local_days():
    evening = utc_ms("2026-03-29T20:00:00+00:00")
    rows = [(1, "k", evening), (2, "k", evening)]
    assert dirty_device_days(rows, [], {2: "Europe/Berlin"}) == {
        (1, parse_day("2026-03-30")),
        (2, parse_day("2026-03-29")),
    }


def test_a_zone_name_is_checked():
    assert check_zone(None) == "Asia/Shanghai" and check_zone("Europe/Berlin") == "Europe/Berlin"
    for bad in ("Mars/Olympus", "UTC+8", "../etc/passwd", "America", "x" * 80):  # "America" is a folder of zones
        with pytest.raises(ValueError, match="IANA"):
            check_zone(bad)


# ---------------------------------------------------------------- the official calendar


def test_the_official_calendar_names_holidays_and_make_up_workdays():
    saturday = official_day(dt.date(2026, 2, 14))  # worked for the Spring Festival
    assert saturday.kind == "workday" and saturday.makeup and saturday.working
    eve = official_day(dt.date(2026, 2, 17))
    assert eve.kind == "holiday" and eve.holiday_zh == "春节" and eve.holiday_en == "Spring Festival"
    assert official_day(dt.date(2026, 3, 7)).kind == "rest_day"  # an ordinary Saturday
    assert official_day(dt.date(2026, 3, 9)).kind == "workday" and not official_day(dt.date(2026, 3, 9)).makeup
    with pytest.raises(CalendarNotCovered, match="2030-01-01"):
        official_day(dt.date(2030, 1, 1))


def test_holidays_are_excluded_and_make_up_saturdays_counted_as_workdays():
    days = range(parse_day("2026-02-13"), parse_day("2026-03-01"))
    excluded = excluded_days(days, "Asia/Shanghai", [], official=True)
    assert sorted(excluded) == list(range(parse_day("2026-02-15"), parse_day("2026-02-24")))  # 15th-23rd
    assert excluded[parse_day("2026-02-17")]["holiday"] == {"en": "Spring Festival", "zh": "春节"}
    assert makeup_workdays(days) == {parse_day("2026-02-14"), parse_day("2026-02-28")}
    assert excluded_days(days, "Asia/Shanghai", [], official=False) == {}
    assert (
        excluded_days([parse_day("2030-01-01")], "Asia/Shanghai", [], official=True) == {}
    )  # unknown year: not guessed


def test_a_declared_period_covers_its_enterprise_site_or_device():
    start = utc_ms("2026-05-10T00:00:00+08:00")
    site_wide = Period("maintenance", start, start + 6 * HOUR_MS, "boiler", site_id=3)
    one_meter = Period("maintenance", start, start + 6 * HOUR_MS, device_id=7)
    assert period_at([site_wide], start + HOUR_MS, device_id=9, site_id=3) is site_wide
    assert period_at([site_wide], start + HOUR_MS, device_id=9, site_id=4) is None
    assert period_at([site_wide], start + 6 * HOUR_MS, site_id=3) is None  # the end is exclusive
    assert (
        period_at([one_meter], start, device_id=7) is one_meter and period_at([one_meter], start, device_id=8) is None
    )
    assert period_at([one_meter], start) is None  # one meter's maintenance does not stop the enterprise
    day = parse_day("2026-05-10")
    assert excluded_days([day, day + 1], "Asia/Shanghai", [site_wide], False) == {
        day: {"day": day, "reason": "maintenance", "note": "boiler"}
    }


# ---------------------------------------------------------------- the drop rule on benign breaks


MILEAGE = parse_rule(
    {
        "id": "vehicles.active_days_drop",
        "type": "baseline_change",
        "alarm_type": "mileage_drop",
        "params": {
            "indicator": "distance_gps_km",
            "direction": "below",
            "z": 4.0,
            "min_rel_change": 0.5,
            "min_days": 7,
            "official_calendar": True,
        },
    },
    "vehicles",
)
UTILISATION = parse_rule(
    {
        "id": "manufacturing.utilization_drop",
        "type": "baseline_change",
        "alarm_type": "utilization_drop",
        "params": {
            "indicator": "utilization_rate",
            "direction": "below",
            "z": 4.0,
            "min_rel_change": 0.3,
            "min_days": 7,
            "rest_share": 0.5,
            "min_days_outside": 2,
            "official_calendar": True,
        },
    },
    "manufacturing",
)


def fleet_km(first: str, last: str, parked: set[int]) -> list[tuple[int, float]]:
    """A fleet driving about 1,200 km a day, every day, except the parked days."""
    days = range(parse_day(first), parse_day(last) + 1)
    return [(d, 5.0 if d in parked else 1200.0 + 40 * ((d * 7) % 5)) for d in days]


def judge(rule, series, day, periods=(), official=True):
    days = {d for d, _ in series} | {day}
    excluded = excluded_days(days, "Asia/Shanghai", list(periods), official)
    return baseline_signal(1, rule, series, day, 0, excluded, makeup_workdays(days) if official else frozenset())


def test_a_fleet_parked_for_the_spring_festival_raises_no_mileage_drop_the_same_drop_in_march_does():
    festival = set(range(parse_day("2026-02-15"), parse_day("2026-02-24")))
    series = fleet_km("2026-01-10", "2026-02-23", festival)
    assert all(judge(MILEAGE, series, d) is None for d in sorted(festival))
    march = set(range(parse_day("2026-03-16"), parse_day("2026-03-25")))
    series = fleet_km("2026-02-24", "2026-03-24", march)
    raised = judge(MILEAGE, series, parse_day("2026-03-17"))
    assert raised is not None and raised.action == "raise" and raised.detail["value"] == 5.0
    without_calendar = judge(
        MILEAGE, fleet_km("2026-01-10", "2026-02-23", festival), parse_day("2026-02-17"), official=False
    )
    assert without_calendar is not None and without_calendar.action == "raise"  # what the baselines did before


def test_a_declared_shutdown_raises_no_drop_and_a_later_alarm_names_the_excluded_days():
    shutdown_from, shutdown_to = parse_day("2026-04-06"), parse_day("2026-04-10")
    period = Period("shutdown", day_start_ms(shutdown_from), day_start_ms(shutdown_to + 1), "annual overhaul")
    idle = set(range(shutdown_from, shutdown_to + 1)) | {parse_day("2026-04-20")}
    series = fleet_km("2026-03-01", "2026-04-20", idle)
    assert all(
        judge(MILEAGE, series, d, [period], official=False) is None for d in range(shutdown_from, shutdown_to + 1)
    )
    later = judge(MILEAGE, series, parse_day("2026-04-20"), [period], official=False)
    assert later.action == "raise"
    assert [e["day"] for e in later.detail["excluded_days"]] == list(range(shutdown_from, shutdown_to + 1))
    assert later.detail["excluded_days"][0]["reason"] == "shutdown"


def test_a_make_up_saturday_is_judged_as_a_workday_where_the_firm_rests_on_saturdays():
    """Looms at 0.8 utilisation Monday-Friday, 0.05 on Saturdays and Sundays; idle on the make-up Saturday 14 Feb
    2026 and the Friday before: the Saturday is a workday, so two judged idle days raise."""
    days = range(parse_day("2026-01-05"), parse_day("2026-02-15"))
    weekday = lambda d: (d + 3) % 7  # noqa: E731
    idle = {parse_day("2026-02-13"), parse_day("2026-02-14")}
    series = [(d, 0.0 if d in idle else 0.05 if weekday(d) >= 5 else 0.8 + 0.01 * (d % 3)) for d in days]
    series = [(d, v) for d, v in series if d < parse_day("2026-02-15")]
    raised = judge(UTILISATION, series, parse_day("2026-02-14"))
    assert raised is not None and raised.action == "raise" and raised.detail["days_outside"] == 2
    ordinary = [(d, v) for d, v in series if d < parse_day("2026-02-08")]  # an ordinary Saturday: the firm's rest day
    assert judge(UTILISATION, ordinary, parse_day("2026-02-07")) is None


def test_the_official_calendar_switch_is_checked_in_a_rule():
    with pytest.raises(InvalidInput, match="official_calendar"):
        parse_rule(
            {"id": "x.y", "type": "baseline_change", "params": {"indicator": "a", "official_calendar": "yes"}}, "x"
        )


def test_a_calendar_csv_that_is_not_one_is_refused_by_line():
    from wuxin.services.devices.calendars import parse_periods_csv

    rows = parse_periods_csv(
        "kind,start,end,note,site_id,device\nshutdown,2026-02-14T00:00:00+08:00,1771344000000,春节,,\n"
    )
    assert rows == [
        {"kind": "shutdown", "start_ms": utc_ms("2026-02-14T00:00:00+08:00"), "end_ms": 1771344000000, "note": "春节"}
    ]
    for text, says in [
        ("kind,start\nshutdown,1\n", "lacks columns"),
        ("kind,start,end\nshutdown,2026-02-14,2\n", "line 2"),
        ("kind,start,end\nshutdown,1,99999999999999999999\n", "epoch milliseconds"),
        ('kind,start,end\nshutdown,"1\x00,2\n', "line 2"),
    ]:
        with pytest.raises(InvalidInput, match=says):
            parse_periods_csv(text)


def test_a_superscript_digit_is_no_site_id_and_no_time():
    """Review finding 8: "²".isdigit() is True but int("²") raises; the CSV keeps it as text, named by the check."""
    from wuxin.services.devices.calendars import parse_periods_csv

    (row,) = parse_periods_csv("kind,start,end,site_id\nshutdown,1,2,²\n")
    assert row["site_id"] == "²"
    with pytest.raises(InvalidInput, match="line 2"):
        parse_periods_csv("kind,start,end\nshutdown,²,2\n")


@pytest.mark.parametrize("name", ["localtime", "posixrules", "Factory"])
def test_the_hosts_zone_files_are_no_iana_zone(name):
    """Review finding 13: `localtime` is whatever the server's clock is set to, not a place."""
    with pytest.raises(ValueError, match=name):
        check_zone(name)
    assert check_zone("Europe/Berlin") == "Europe/Berlin"


def test_the_borrowers_own_periods_bind_only_devices_it_controls():
    from wuxin.calendars.periods import binding

    own, banks = Period("maintenance", 0, 10, by_enterprise=True), Period("maintenance", 0, 10)
    assert binding([own, banks], independent=False) == [own, banks]
    assert binding([own, banks], independent=True) == [banks]
