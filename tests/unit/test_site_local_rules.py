"""Night outbound, odometer and meter balance on the site's own clock: a Berlin gate's night is Berlin's night,
through the daylight-saving change (issue 15: rules that hold on data the platform has never seen)."""

import datetime as dt

from wuxin.alerts.meters import judge_meter
from wuxin.alerts.movements import Episode, hours_of, off_hours, quiet_hours
from wuxin.alerts.odometer import day_bounds
from wuxin.indicators.days import CN_OFFSET_MS, day_start_ms

HOUR = 3_600_000
BERLIN, SAO_PAULO = "Europe/Berlin", "America/Sao_Paulo"


def at(zone: str, y: int, m: int, d: int, h: int, minute: int = 0) -> int:
    from zoneinfo import ZoneInfo

    return int(dt.datetime(y, m, d, h, minute, tzinfo=ZoneInfo(zone)).timestamp() * 1000)


def test_clock_hours_follow_the_zone_through_daylight_saving():
    summer, winter = at(BERLIN, 2026, 10, 24, 15), at(BERLIN, 2026, 10, 26, 15)
    assert hours_of([summer, winter], BERLIN) == [15, 15]
    assert hours_of([summer, winter], CN_OFFSET_MS) == [21, 22]  # China's clock moves by an hour against Berlin's
    assert hours_of([at(SAO_PAULO, 2026, 9, 1, 2)], SAO_PAULO) == [2]


def berlin_gate(days):
    """Trucks at 08:00, 11:00 and 15:00 Berlin time on each of `days` (dates in October 2026)."""
    return [(at(BERLIN, 2026, 10, d, h), 20.0) for d in days for h in (8, 11, 15)]


def test_a_berlin_gate_after_the_autumn_change_keeps_its_own_working_hours():
    history = berlin_gate(range(11, 25))  # a summer fortnight
    honest, night = (
        Episode(at(BERLIN, 2026, 10, 26, 15), at(BERLIN, 2026, 10, 26, 15), 20),
        Episode(at(BERLIN, 2026, 10, 26, 2), at(BERLIN, 2026, 10, 26, 2), 20),
    )
    quiet = quiet_hours(history, BERLIN, 0.01)
    assert {8, 11, 15}.isdisjoint(quiet) and 2 in quiet
    assert off_hours([honest, night], quiet, BERLIN, 1) == [night]
    china = quiet_hours(history, CN_OFFSET_MS, 0.01)  # the old China clock: the 15:00 truck is 22:00 in winter
    assert off_hours([honest, night], china, CN_OFFSET_MS, 1) == [honest, night]


def test_a_sao_paulo_gate_names_its_night_in_its_own_hours():
    history = [(at(SAO_PAULO, 2026, 9, d, h), 10.0) for d in range(1, 15) for h in (7, 12, 16)]
    quiet = quiet_hours(history, SAO_PAULO, 0.01)
    assert {7, 12, 16}.isdisjoint(quiet) and {0, 2, 23} <= quiet  # China's clock would call 02:00 local its 13:00


def test_odometer_days_are_the_sites_local_days_23_hours_on_the_spring_change():
    start = day_start_ms(20_541, BERLIN)  # 2026-03-29, the spring change
    assert dt.date(1970, 1, 1) + dt.timedelta(days=20_541) == dt.date(2026, 3, 29)
    assert day_bounds(start, 0, BERLIN) == (start, start + 23 * HOUR)
    assert day_bounds(start + 23 * HOUR, 1, BERLIN) == (start, start + 23 * HOUR)
    assert day_bounds(start, 1, None) == (start - 24 * HOUR, start)


def test_meter_day_of_25_hours_counts_its_last_hour():
    """A meter and its one machine, 30 A all day; on the 25-hour autumn day an extra 200 kW runs in its last hour:
    judged over the day's real length the meter leaves its band; over 24 fixed hours the extra hour was missed."""
    days = [day_start_ms(d, BERLIN) for d in range(20_751 - 10, 20_753)]  # 2026-10-15 to 2026-10-25 (25 h), and its end
    counter, current, total = [], [], 0.0
    kw = 30 * 3**0.5 * 380 * 0.85 / 1000 + 5
    for start, end in zip(days, days[1:]):
        for ts in range(start, end, 15 * 60_000):
            extra = 200.0 if start == days[-2] and end - ts <= HOUR else 0.0
            counter.append((ts, round(total, 3)))
            current.append((ts, 30.0))
            total += (kw + extra) * 0.25
    counter.append((days[-1], round(total, 3)))
    machines = {1: (current, {})}
    starts, ends = days[:-1], days[1:]
    assert ends[-1] - starts[-1] == 25 * HOUR
    assert (
        judge_meter(counter, machines, {"base_load_kw": 5}, starts, {"min_history_days": 5}, ends)["action"] == "raise"
    )
    assert judge_meter(counter, machines, {"base_load_kw": 5}, starts, {"min_history_days": 5})["action"] == "clear"
