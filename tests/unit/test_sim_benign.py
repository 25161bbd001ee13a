"""Benign events of the simulator (issue 15, item 6): the official calendar's days, the firms' rest days, planned
stops, refuelling, culls and calvings, counter resets, rollovers and reboots do what real ones do to the data."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np

from wuxin.scenarios import scenario_packs
from wuxin.sim import benign as B
from wuxin.sim import patterns as P
from wuxin.sim.patterns import AnomalyRecord

CN = dt.timezone(dt.timedelta(hours=8))
DAY = 86_400_000
MIN = 60_000


def ms(y, m, d, h=0):
    return int(dt.datetime(y, m, d, h, tzinfo=CN).timestamp() * 1000)


def find(name, where=lambda e: True):
    s = scenario_packs()[name].sim()
    for i in range(400):
        e = s.build_enterprise(random.Random(f"benign|{name}|{i}"), i + 1)
        if where(e):
            return e
    raise AssertionError(f"no {name} enterprise found")


def test_official_calendar_drives_the_simulators_work_days():
    assert P.is_statutory_holiday(dt.date(2026, 10, 6))  # National Day, official
    assert P.is_statutory_holiday(dt.date(2026, 9, 25))  # Mid-Autumn 2026 (the old fixed guess said 15 September)
    assert not P.is_statutory_holiday(dt.date(2026, 9, 15))
    assert P.is_makeup_workday(dt.date(2026, 10, 10))  # a Saturday worked for National Day
    sat, sun = P.local_day(np.int64(ms(2026, 10, 10, 12))), P.local_day(np.int64(ms(2026, 10, 11, 12)))
    assert P.work_weekday(sat) == 0 and P.work_weekday(sun) == 6


def test_calendar_events_name_holidays_makeup_days_and_the_firms_rest_days():
    shift = find("manufacturing", lambda e: scenario_packs()["manufacturing"].sim().rest_weekdays(e))
    allday = find("manufacturing", lambda e: not scenario_packs()["manufacturing"].sim().rest_weekdays(e))
    sim = scenario_packs()["manufacturing"].sim()
    start, end = ms(2026, 10, 5), ms(2026, 10, 19)
    kinds = {(r.kind, P.local_iso(r.start_ms)[:10]) for r in B.calendar_events(shift, sim, start, end)}
    assert ("holiday", "2026-10-07") in kinds and ("makeup_workday", "2026-10-10") in kinds
    assert ("rest_day", "2026-10-11") in kinds and ("rest_day", "2026-10-18") in kinds
    assert not any(k == "rest_day" for k, _ in {(r.kind, 0) for r in B.calendar_events(allday, sim, start, end)})


def test_a_declared_plant_stop_switches_every_machine_off_and_is_declared_ahead():
    e = find("manufacturing")
    sim = scenario_packs()["manufacturing"].sim()
    t0, t1 = ms(2026, 9, 22, 8), ms(2026, 9, 23, 8)
    stop = AnomalyRecord("maintenance_declared", e.uscc, (), t0, t1, "sim", {})
    lines = list(sim.telemetry(e, ms(2026, 9, 21), ms(2026, 9, 24), 3, benign=[stop]))
    during = [l["values"]["current_a"] for l in lines if "current_a" in l.get("values", {}) and t0 <= l["ts"] < t1]
    before = [l["values"]["current_a"] for l in lines if "current_a" in l.get("values", {}) and l["ts"] < t0]
    assert during and max(during) == 0.0 and max(before) > 0
    (action,) = B.calendar_actions([stop])
    assert (
        action["action"] == "period" and action["at_ms"] == t0 - 7 * DAY and action["period"]["kind"] == "maintenance"
    )


def _counter_lines(key="m1", n=10, start=1000.0, step=10.0):
    return [{"device": key, "ts": i * 15 * MIN, "values": {"energy_kwh_total": start + step * i}} for i in range(n)]


def test_a_replaced_meter_is_silent_then_counts_from_zero():
    rec = AnomalyRecord(
        "counter_reset",
        "U",
        ("m1",),
        3 * 15 * MIN + 1,
        5 * 15 * MIN + 1,
        "reset",
        {},
        facts={"key": "energy_kwh_total"},
    )
    out, _ = B.apply_benign(_counter_lines(), [rec], 1, {"m1": "U"})
    values = [(l["ts"] // (15 * MIN), l["values"]["energy_kwh_total"]) for l in out]
    assert [i for i, _ in values] == [0, 1, 2, 3, 6, 7, 8, 9]  # 4 and 5 lost in the swap
    assert values[4][1] == 30.0 and values[5][1] == 40.0  # the new meter from 0 (plus what ran during the swap)


def test_a_rolled_over_register_wraps_at_the_next_power_of_ten():
    rec = AnomalyRecord(
        "counter_rollover",
        "U",
        ("m1",),
        4 * 15 * MIN + 1,
        4 * 15 * MIN + DAY,
        "rollover",
        {},
        facts={"key": "energy_kwh_total"},
    )
    out, _ = B.apply_benign(_counter_lines(start=123_000.0), [rec], 1, {"m1": "U"})
    v = [l["values"]["energy_kwh_total"] for l in out]
    assert v[4] > 999_900 and v[5] < 20  # the step after start crosses 1,000,000
    assert all(b > a for a, b in zip(v[:5], v[1:5])) and all(b > a for a, b in zip(v[5:], v[6:]))


def test_a_reboot_leaves_a_gap_and_a_volatile_counter_starts_again():
    key = next(
        k for k in (f"c{i}" for i in range(50)) if random.Random(f"reboot|1|{k}").random() < B.VOLATILE_COUNTER_SHARE
    )
    lines = [{"device": key, "ts": i * MIN, "values": {"output_count_total": 500 + i}} for i in range(20)]
    lines.insert(10, {"device": key, "ts": 9 * MIN + 30_000, "event": "reboot", "params": {}})
    out, (rec,) = B.apply_benign(lines, [], 1, {key: "U"})
    assert rec.kind == "reboot" and rec.enterprise_uscc == "U" and 1 * MIN <= rec.end_ms - rec.start_ms <= 6 * MIN
    after = [l for l in out if "values" in l and l["ts"] > rec.start_ms]
    assert after[0]["ts"] >= rec.end_ms  # nothing sent while it booted
    assert after[0]["values"]["output_count_total"] < 10  # counting again from 0


def test_a_culled_cow_stops_for_good_and_a_heifer_reports_from_her_calving():
    cull = AnomalyRecord(
        "cull",
        "U",
        ("collar-1", "tag-1"),
        10 * MIN,
        11 * MIN,
        "cull",
        {},
        facts={"animal_id": "A1", "decommissioned_ms": 10 * MIN},
    )
    join = AnomalyRecord(
        "calving", "U", ("collar-2",), 5 * MIN, 6 * MIN, "join", {}, facts={"animal_id": "A2", "installed_ms": 5 * MIN}
    )
    lines = [
        {"device": d, "ts": t * MIN, "values": {"body_temp_c": 38.5}}
        for d in ("collar-1", "collar-2")
        for t in range(15)
    ]
    lines += [
        {"device": "meter", "ts": t * MIN, "values": {"milk_kg": 10.0, "animal_id": a}}
        for a in ("A1", "A2")
        for t in range(15)
    ]
    out, _ = B.apply_benign(lines, [cull, join], 1, {})
    ts = lambda d, a=None: [
        l["ts"] // MIN for l in out if l["device"] == d and (a is None or l["values"]["animal_id"] == a)
    ]  # noqa: E731
    assert ts("collar-1") == list(range(10)) and ts("meter", "A1") == list(range(10))
    assert ts("collar-2") == list(range(5, 15)) and ts("meter", "A2") == list(range(5, 15))
    actions = B.calendar_actions([cull, join])
    assert {(a["device"], a.get("decommissioned_ms"), a.get("installed_ms")) for a in actions} == {
        ("collar-1", 10 * MIN, None),
        ("tag-1", 10 * MIN, None),
        ("collar-2", None, 5 * MIN),
    }


def test_refuelling_stops_are_labelled_where_the_fuel_jumps_while_parked():
    e = find("vehicles")
    sim = scenario_packs()["vehicles"].sim()
    start, end = ms(2026, 9, 21), ms(2026, 9, 28)
    stops = sim.benign_events(e, start, end, 5)
    assert stops and all(s.kind == "refuelling" for s in stops)
    lines = [l for l in sim.telemetry(e, start, end, 5) if "values" in l and "fuel_l" in l["values"]]
    for s in stops[:3]:
        mine = [l for l in lines if l["device"] == s.devices[0] and s.start_ms < l["ts"] < s.end_ms]
        assert 10 <= (s.end_ms - s.start_ms) / MIN <= 40
        assert all(l["values"]["speed_kmh"] == 0 for l in mine)
        assert mine[-1]["values"]["fuel_l"] - mine[0]["values"]["fuel_l"] > 50


def test_plan_benign_avoids_risk_labels_and_declares_only_the_first_stop():
    fleet = [find("manufacturing"), find("manufacturing", lambda e: e.uscc != find("manufacturing").uscc)]
    start, end = ms(2026, 9, 21), ms(2026, 10, 5)
    records = B.plan_benign(fleet, start, end, 7)
    stops = [r for r in records if r.kind.startswith("maintenance")]
    assert sorted(r.kind for r in stops) == ["maintenance_declared", "maintenance_undeclared"]
    avoid = [AnomalyRecord("machine_idle", fleet[0].uscc, (), start, end, "set", {})]
    again = B.plan_benign(fleet, start, end, 7, avoid=avoid)
    assert not any(r.enterprise_uscc == fleet[0].uscc and r.kind.startswith(("maintenance", "counter")) for r in again)
