"""The simulators behave like the world they imitate: calendars, physics, bookkeeping, health."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import defaultdict

import numpy as np
import pytest

from wuxin.scenarios import scenario_packs
from wuxin.sim import patterns as P

CN = dt.timezone(dt.timedelta(hours=8))
DAY = 86_400_000


def ms(y, m, d, h=0):
    return int(dt.datetime(y, m, d, h, tzinfo=CN).timestamp() * 1000)


WEEK = (ms(2025, 11, 10), ms(2025, 11, 17))
JUNE = (ms(2025, 6, 16), ms(2025, 6, 19))


def sim(name):
    return scenario_packs()[name].sim()


def find(name, health=None, where=lambda e: True):
    """The first enterprise (deterministic draw) of a pack with the wanted health and shape."""
    s = sim(name)
    for i in range(400):
        e = s.build_enterprise(random.Random(f"t|{name}|{i}"), i + 1)
        if (health is None or e.health == health) and where(e):
            return e
    raise AssertionError(f"no {health} {name} enterprise found")


def by_device(lines):
    out = defaultdict(list)
    for line in lines:
        out[line["device"]].append(line)
    return out


def series(lines, key):
    pts = [(l["ts"], l["values"][key]) for l in lines if "values" in l and key in l["values"]]
    return np.array([p[0] for p in pts], dtype=np.int64), np.array([p[1] for p in pts], dtype=float)


# ---------------------------------------------------------------- patterns


def test_calendar_knows_spring_festival_and_holidays():
    assert P.work_factor(dt.date(2025, 1, 29)) < 0.1  # Lunar New Year 2025
    assert P.work_factor(dt.date(2026, 2, 20)) < 0.1
    assert 0.1 < P.work_factor(dt.date(2025, 2, 12)) < 0.9  # workers coming back
    assert P.work_factor(dt.date(2025, 10, 3)) < 0.5  # National Day
    assert P.work_factor(dt.date(2025, 11, 12)) == 1.0
    assert P.days_from_spring_festival(dt.date(2025, 1, 27)) == -2


def test_grid_and_local_time():
    ts = P.grid(1_000, 200_000, 60_000)
    assert ts.tolist() == [60_000, 120_000, 180_000]
    assert P.local_hour(np.array([ms(2025, 11, 10, 7)]))[0] == pytest.approx(7.0)
    assert P.weekday_of_day(P.local_day(np.array([WEEK[0]])))[0] == 0  # a Monday


def test_lines_from_arrays_leaves_missing_out_and_keeps_types():
    ts = np.array([1, 2, 3], dtype=np.int64)
    lines = list(
        P.lines_from_arrays(
            "d",
            ts,
            {
                "a": np.array([1.234, np.nan, np.nan]),
                "n": np.array([5.0, np.nan, np.nan]),
                "s": np.array(["x", "y", "z"], dtype=object),
            },
            {"a": 1, "n": 0},
        )
    )
    assert lines[0] == {"device": "d", "ts": 1, "values": {"a": 1.2, "n": 5, "s": "x"}}
    assert type(lines[0]["values"]["n"]) is int
    assert lines[1]["values"] == {"s": "y"}
    assert list(P.lines_from_arrays("d", ts[:2], {"a": np.array([np.nan, np.nan])})) == []


def test_health_level_orders_the_latent_health():
    d = np.array([0.5])
    levels = {
        h: float(P.health_level(h, d, np.random.default_rng(1))[0])
        for h in ("growing", "stable", "declining", "failing")
    }
    assert levels["growing"] > levels["declining"] > levels["failing"]


# ---------------------------------------------------------------- manufacturing


def _run_hours_per_day(lines, enterprise, days):
    bracelets = {d.key: d for d in enterprise.devices if d.device_type == "manufacturing.current_bracelet"}
    hours = np.zeros((len(bracelets), days))
    for i, (key, dev) in enumerate(bracelets.items()):
        ts, cur = series(lines[key], "current_a")
        day = ((ts - ts[0]) // DAY).astype(int)
        running = cur >= dev.attributes["run_threshold_a"]
        np.add.at(hours[i], day[running], 1 / 60)
    return hours


def test_textile_mill_runs_round_the_clock_but_stops_for_spring_festival():
    e = find("manufacturing", "stable", lambda e: "盛泽" in e.region or "柯桥" in e.region)
    normal = by_device(sim("manufacturing").telemetry(e, *WEEK, 3))
    hours = _run_hours_per_day(normal, e, 7)
    assert 14 < hours.mean() < 23.5  # cf. the 22.77 h/day of the Shengze cluster
    festival = by_device(sim("manufacturing").telemetry(e, ms(2025, 1, 28), ms(2025, 2, 1), 3))
    assert _run_hours_per_day(festival, e, 4).mean() < 3
    bracelet = next(d for d in e.devices if d.device_type == "manufacturing.current_bracelet")
    _, cur = series(normal[bracelet.key], "current_a")
    assert cur.max() > 1.4 * bracelet.attributes["rated_current_a"]  # start-up peaks
    assert (cur == 0).sum() + (cur < bracelet.attributes["run_threshold_a"]).sum() > 0  # stops happen


def test_day_shift_factory_is_quiet_at_night_and_on_sunday():
    e = find("manufacturing", "stable", lambda e: "顺德" in e.region)
    lines = by_device(sim("manufacturing").telemetry(e, *WEEK, 3))
    busy = []
    for dev in (d for d in e.devices if d.device_type == "manufacturing.current_bracelet"):
        ts, cur = series(lines[dev.key], "current_a")
        hour, wd = P.local_hour(ts), P.weekday_of_day(P.local_day(ts))
        running = cur >= dev.attributes["run_threshold_a"]
        assert not running[(hour >= 0) & (hour < 6)].any()
        assert not running[wd == 6].any()
        busy.append(running[(wd < 5) & (hour >= 9) & (hour < 11)].mean())
    assert np.mean(busy) > 0.5


def test_counters_are_cumulative_and_follow_the_machines():
    e = find("manufacturing", "growing")
    lines = by_device(sim("manufacturing").telemetry(e, *WEEK, 4))
    for dev in e.devices:
        key = {
            "manufacturing.energy_meter": "energy_kwh_total",
            "manufacturing.output_counter": "output_count_total",
        }.get(dev.device_type)
        if key:
            _, total = series(lines[dev.key], key)
            assert len(total) > 600 and (np.diff(total) >= 0).all() and total[-1] > total[0]


def test_a_failing_factory_slows_down_towards_the_end():
    e = find("manufacturing", "failing", lambda e: "盛泽" in e.region or "柯桥" in e.region)
    hours = _run_hours_per_day(by_device(sim("manufacturing").telemetry(e, *WEEK, 5)), e, 7)
    assert hours[:, -1].mean() < 0.5 * hours[:, :2].mean()


# ---------------------------------------------------------------- vehicles


def test_trucks_odometer_and_fuel_agree_with_the_track():
    e = find("vehicles", "growing")
    lines = by_device(sim("vehicles").telemetry(e, *WEEK, 6))
    gps = [d for d in e.devices if d.device_type == "vehicles.gps_terminal"]
    travelled = 0.0
    for dev in gps:
        rows = [l["values"] for l in lines[dev.key] if "values" in l and "lat" in l["values"]]
        lat = np.array([r["lat"] for r in rows])
        lon = np.array([r["lon"] for r in rows])
        odo = np.array([r["odometer_km"] for r in rows])
        assert ((lat > 18) & (lat < 54) & (lon > 73) & (lon < 135)).all()
        assert (np.diff(odo) >= 0).all()
        track = float(sim("vehicles").haversine_km(lat[:-1], lon[:-1], lat[1:], lon[1:]).sum())
        assert abs((odo[-1] - odo[0]) - track) <= 0.02 * track + 1.0
        speed = np.array([r["speed_kmh"] for r in rows])
        assert speed.max() < 140
        fuel = np.array([r["fuel_l"] for r in rows])
        if track > 300:
            assert fuel.min() < fuel.max() - 50  # a day's run burns fuel
        travelled += track
        for l in lines[dev.key]:
            if l.get("event") == "overspeed":
                assert l["params"]["speed_kmh"] > l["params"]["limit_kmh"]
    assert travelled > 500 * len(gps) / 2  # a working fleet covers real distance in a week


# ---------------------------------------------------------------- dairy


def test_cows_give_milk_by_lactation_curve_and_have_normal_vitals():
    e = find("dairy", "stable")
    lines = list(sim("dairy").telemetry(e, *WEEK, 7))
    milk = defaultdict(float)
    sessions = defaultdict(set)
    for l in lines:
        if "values" in l and "milk_kg" in l["values"]:
            milk[l["values"]["animal_id"]] += l["values"]["milk_kg"]
            sessions[l["values"]["animal_id"]].add(P.local_day(np.array([l["ts"]]))[0])
    daily = np.array(list(milk.values())) / 7
    assert 18 < daily.mean() < 40 and daily.max() < 70
    temps = np.array([l["values"]["body_temp_c"] for l in lines if "values" in l and "body_temp_c" in l["values"]])
    assert 38.2 < np.median(temps) < 39.2
    assert 0.05 < (daily.size / len([d for d in e.devices if d.device_type == "dairy.collar"])) <= 1.0
    peak = sim("dairy").wood_daily_kg(np.array([60.0]), np.array([3]))[0]
    late = sim("dairy").wood_daily_kg(np.array([280.0]), np.array([3]))[0]
    assert 30 < peak < 45 and late < 0.7 * peak


def test_a_failing_farm_loses_cows():
    e = find("dairy", "failing")
    lines = list(sim("dairy").telemetry(e, *WEEK, 8))
    first = {l["device"] for l in lines if "collar" in l["device"] and l["ts"] < WEEK[0] + DAY}
    last = {l["device"] for l in lines if "collar" in l["device"] and l["ts"] >= WEEK[1] - DAY}
    assert len(last) < 0.9 * len(first)
    assert any(l.get("event") == "tamper" and "collar" in l["device"] for l in lines)


# ---------------------------------------------------------------- energy


def test_pv_follows_the_sun_and_clips_at_the_inverter_rating():
    e = find(
        "energy", where=lambda e: any(d.device_type == "energy.pv_inverter" for d in e.devices) and "格尔木" in e.region
    )
    lines = by_device(sim("energy").telemetry(e, *JUNE, 9))
    inv = [d for d in e.devices if d.device_type == "energy.pv_inverter"]
    for dev in inv:
        ts, ac = series(lines[dev.key], "ac_power_kw")
        hour = P.local_hour(ts)
        assert (ac[(hour < 5) | (hour > 22.5)] == 0).all()  # solar noon in Golmud is about 14:10 Beijing time
        assert ac.max() <= dev.attributes["capacity_kwp"]
        _, energy = series(lines[dev.key], "energy_kwh_total")
        yield_per_day = (energy[-1] - energy[0]) / dev.attributes["capacity_kwp"] / 3
        assert 0.5 < yield_per_day < 8.0
    wx = next(d for d in e.devices if d.device_type == "energy.weather_station")
    ts, ghi = series(lines[wx.key], "ghi_wm2")
    peak_hours = P.local_hour(ts[np.argsort(ghi)[-20:]])
    assert 12.0 < np.median(peak_hours) < 16.0 and ghi.max() < 1400


def test_charging_sessions_add_up():
    e = find("energy", where=lambda e: sum(d.device_type == "energy.charging_pile" for d in e.devices) >= 4)
    lines = by_device(sim("energy").telemetry(e, *WEEK, 10))
    sessions = 0
    for dev in (d for d in e.devices if d.device_type == "energy.charging_pile"):
        ends = [l for l in lines[dev.key] if l.get("event") == "session_end"]
        sessions += len(ends)
        _, total = series(lines[dev.key], "energy_kwh_total")
        assert (np.diff(total) >= -1e-6).all()
        booked = sum(l["params"]["energy_kwh"] for l in ends)
        assert booked <= (total[-1] - total[0]) + 1.0
        for l in ends:
            assert 0 < l["params"]["energy_kwh"] and 0 < l["params"]["duration_min"] < 24 * 60
    assert sessions > 10


# ---------------------------------------------------------------- logistics


def test_warehouse_counts_reconcile_with_rfid_and_weighbridge():
    e = find("logistics", "stable")
    lines = by_device(sim("logistics").telemetry(e, *WEEK, 12))
    for cam in (d for d in e.devices if d.device_type == "logistics.gate_camera"):
        zone = cam.attributes["zone_id"]
        rfid = next(
            d for d in e.devices if d.device_type == "logistics.rfid_reader" and d.attributes["zone_id"] == zone
        )
        _, cin = series(lines[cam.key], "count_in")
        _, cout = series(lines[cam.key], "count_out")
        _, tags = series(lines[rfid.key], "tag_count")
        moved = cin.sum() - cout.sum()
        assert abs((tags[-1] - tags[0]) - moved) <= 0.03 * tags.max() + 5
    bridge = next(d for d in e.devices if d.device_type == "logistics.weighbridge")
    weighings = [l["params"] for l in lines[bridge.key] if l.get("event") == "weighing"]
    assert weighings
    for w in weighings:
        assert w["net_kg"] == pytest.approx(max(w["gross_kg"] - w["tare_kg"], 0), abs=60)
    wms = sim("logistics").wms_movements(e, *WEEK, 12)
    assert wms and {m["direction"] for m in wms} <= {"in", "out"}


def test_a_failing_warehouse_loses_goods_off_the_books():
    e = find("logistics", "failing")
    lines = list(sim("logistics").telemetry(e, *WEEK, 13))
    assert any(l.get("event") == "unauthorised_out" for l in lines)


# ---------------------------------------------------------------- construction


def test_cranes_lift_in_working_hours_within_their_load_chart():
    e = find("construction", "stable")
    lines = by_device(sim("construction").telemetry(e, *WEEK, 14))
    for crane in (d for d in e.devices if d.device_type == "construction.tower_crane"):
        rows = [l for l in lines[crane.key] if "values" in l and "load_t" in l["values"]]
        ts = np.array([l["ts"] for l in rows])
        load = np.array([l["values"]["load_t"] for l in rows])
        moment = np.array([l["values"]["moment_pct"] for l in rows])
        hour = P.local_hour(ts)
        assert (load[(hour < 7) | (hour >= 18)] == 0).all()
        assert (load > 0).sum() > 500
        overloads = [l for l in lines[crane.key] if l.get("event") == "overload"]
        assert (moment > 105).sum() <= 10 * (len(overloads) + 1)
        for l in overloads:
            assert l["params"]["moment_pct"] > 100
    gates = [
        l
        for l in sum((lines[d.key] for d in e.devices if d.device_type == "construction.access_gate"), [])
        if "event" in l
    ]
    entries = [l for l in gates if l["event"] == "entry"]
    assert len(entries) > 100 and sum(l["params"]["authorised"] for l in entries) > 0.9 * len(entries)


# ---------------------------------------------------------------- labelled anomalies


def test_injected_anomalies_are_labelled_valid_and_visible():
    from wuxin.scenarios import builtin_thing_models
    from wuxin.sim.fleet import build_fleet, fleet_telemetry, plan_anomalies

    kinds = ["device_off", "machine_idle", "gps_jump", "herd_drop", "pv_above_irradiance", "crane_overload"]
    fleet = build_fleet(["manufacturing", "vehicles", "dairy", "energy", "construction"], 1, 21)
    fleet = [e for e in fleet if e.industry != "energy"] + [
        find("energy", where=lambda e: any(d.device_type == "energy.pv_inverter" for d in e.devices))
    ]
    start, end = WEEK[0], WEEK[0] + 3 * DAY
    records = plan_anomalies(fleet, kinds, start, end, 21)
    assert [r.kind for r in records] == kinds and records == plan_anomalies(fleet, kinds, start, end, 21)
    clean = by_device(fleet_telemetry(fleet, start, end, 21))
    dirty = by_device(fleet_telemetry(fleet, start, end, 21, anomalies=records))
    models = {m.device_type: m for m in builtin_thing_models()}
    types = {d.key: d.device_type for e in fleet for d in e.devices}
    for key, lines in dirty.items():
        for l in lines:
            if "values" in l:
                for k, v in l["values"].items():
                    models[types[key]].check(k, v)
    rec = {r.kind: r for r in records}

    def inside(r, lines):
        return [l for l in lines if r.start_ms <= l["ts"] < r.end_ms]

    off = rec["device_off"]
    (dev,) = off.devices
    assert [l.get("event") for l in inside(off, dirty[dev])] == ["tamper"]
    for r, key, value in (
        (rec["machine_idle"], "current_a", 0.0),
        (rec["crane_overload"], "moment_pct", 142.0),
        (rec["pv_above_irradiance"], "ac_power_kw", rec["pv_above_irradiance"].values["ac_power_kw"]),
    ):
        for dev in r.devices:
            got = [l["values"][key] for l in inside(r, dirty[dev]) if "values" in l and key in l["values"]]
            assert got and all(v == value for v in got), r.kind
            assert got != [l["values"][key] for l in inside(r, clean[dev]) if "values" in l and key in l["values"]]
    jump = rec["gps_jump"]
    (dev,) = jump.devices
    before = {l["ts"]: l for l in clean[dev] if "values" in l}
    moved = [(before[l["ts"]], l) for l in dirty[dev] if "values" in l and l["ts"] in before and l != before[l["ts"]]]
    assert len(moved) == 1 and moved[0][1]["values"]["lat"] == pytest.approx(moved[0][0]["values"]["lat"] + 2.5)
    herd = rec["herd_drop"]
    assert len(herd.devices) > 5 and all(not inside(herd, dirty[d]) for d in herd.devices)
    assert all(inside(herd, clean[d]) for d in herd.devices)
    with pytest.raises(KeyError):
        plan_anomalies(fleet, ["no_such_anomaly"], start, end, 21)


# ---------------------------------------------------------------- the issue's other anomaly kinds

FOUR = (WEEK[0], WEEK[0] + 4 * DAY)
NEW_KINDS = [
    "fabricated_copy",
    "fabricated_smooth",
    "geofence_exit",
    "sick_animals",
    "unauthorised_outbound",
    "stock_below_pledge",
    "clock_skew",
]
COLD_CHAIN_KINDS = {
    "refrigeration_failure",
    "power_cut",
    "door_left_open",
    "pledged_goods_moved",
    "reefer_off_in_transit",
}
_CLEAN: dict = {}


@pytest.fixture(scope="module")
def hosts():
    """One enterprise per pack (a PV plant for energy), by pack name."""
    from wuxin.sim.fleet import build_fleet

    fleet = {e.industry: e for e in build_fleet(sorted(scenario_packs()), 1, 21)}
    fleet["energy"] = find("energy", where=lambda e: any(d.device_type == "energy.pv_inverter" for d in e.devices))
    return fleet


def injected(enterprise, kind, seed=21, window=FOUR):
    """(record, clean lines by device, dirty lines by device) of one planned anomaly; every dirty line is checked
    against its thing model on the way."""
    from wuxin.scenarios import builtin_thing_models
    from wuxin.sim.fleet import fleet_telemetry, plan_anomalies

    (rec,) = plan_anomalies([enterprise], [kind], *window, seed)
    if (enterprise.uscc, window) not in _CLEAN:
        _CLEAN[(enterprise.uscc, window)] = by_device(fleet_telemetry([enterprise], *window, 21))
    dirty = list(fleet_telemetry([enterprise], *window, 21, anomalies=[rec]))
    models = {m.device_type: m for m in builtin_thing_models()}
    types = {d.key: d.device_type for d in enterprise.devices}
    for line in dirty:
        model = models[types[line["device"]]]
        if "values" in line:
            for k, v in line["values"].items():
                model.check(k, v)
        else:
            model.check_event(line["event"], line["params"])
    return rec, _CLEAN[(enterprise.uscc, window)], by_device(dirty)


def within(rec, lines, lo=0, hi=0):
    return [l for l in lines if rec.start_ms + lo <= l["ts"] < min(rec.end_ms, FOUR[1]) + hi]


def test_every_kind_of_the_issue_can_be_injected_and_its_record_says_what_to_look_for(hosts):
    import json

    from wuxin.sim.fleet import all_anomaly_kinds, plan_anomalies

    assert (
        set(all_anomaly_kinds())
        == set(NEW_KINDS)
        | {"device_off", "machine_idle", "gps_jump", "herd_drop", "pv_above_irradiance", "crane_overload"}
        | COLD_CHAIN_KINDS
    )
    records = plan_anomalies(list(hosts.values()), all_anomaly_kinds(), *FOUR, 4)
    assert records == plan_anomalies(list(hosts.values()), all_anomaly_kinds(), *FOUR, 4)
    keys = {d.key for e in hosts.values() for d in e.devices}
    for rec in records:
        row = json.loads(json.dumps(rec.as_dict(), ensure_ascii=False))
        assert {
            "kind",
            "enterprise_uscc",
            "devices",
            "start_ms",
            "end_ms",
            "start",
            "end",
            "effect",
            "values",
            "facts",
            "expect",
        } <= set(row)
        assert row["devices"] and set(row["devices"]) <= keys and row["start_ms"] <= row["end_ms"], rec.kind
        assert len(row["expect"]) > 40 and row["start"].endswith("+08:00"), rec.kind
    with pytest.raises(KeyError, match="geofence_exit"):
        plan_anomalies([hosts["dairy"]], ["geofence_exit"], *FOUR, 4)


@pytest.mark.parametrize(
    "pack", ["manufacturing", "vehicles", "dairy", "energy", "logistics", "construction", "cold_chain"]
)
def test_fabricated_copy_replays_the_day_before_the_start(hosts, pack):
    rec, clean, dirty = injected(hosts[pack], "fabricated_copy")
    (dev,) = rec.devices
    assert rec.start_ms >= FOUR[0] + DAY and rec.facts == {"period_ms": DAY}
    by_ts = {l["ts"]: l["values"] for l in dirty[dev] if "values" in l}
    copied = [l for l in within(rec, dirty[dev]) if "values" in l]
    assert copied and all(by_ts[l["ts"] - DAY] == l["values"] for l in copied)
    assert copied != [l for l in within(rec, clean[dev]) if "values" in l]
    outside = lambda lines: [l for l in lines if not rec.start_ms <= l["ts"] < rec.end_ms]
    assert outside(dirty[dev]) == outside(clean[dev])
    assert all(dirty[k] == clean[k] for k in clean if k != dev)


@pytest.mark.parametrize("pack", ["manufacturing", "dairy", "energy", "logistics", "construction"])
def test_fabricated_smooth_readings_follow_a_noiseless_curve(hosts, pack):
    rec, clean, dirty = injected(hosts[pack], "fabricated_smooth")
    (dev,) = rec.devices
    held = {}
    for l in clean[dev]:
        if "values" in l and l["ts"] < rec.start_ms:
            held.update(l["values"])
    checked = 0
    for l in within(rec, dirty[dev]):
        for prop, curve in rec.values.items():
            if "values" in l and prop in l["values"]:
                assert l["values"][prop] == P.curve_value(curve, l["ts"], held.get(prop)), (prop, l)
                checked += 1
    assert checked > 20
    for prop in rec.values:
        _, before = series(clean[dev], prop)
        _, faked = series(within(rec, dirty[dev]), prop)
        assert np.std(np.diff(faked)) < 0.5 * np.std(np.diff(before)) + 1e-9, prop  # smoother than the real thing


def test_geofence_exit_drives_out_of_the_permitted_area_and_back(hosts):
    import dataclasses

    from wuxin.alerts.geofence import point_in_polygon
    from wuxin.sim.fleet import fleet_telemetry

    e = hosts["vehicles"]
    vsim = sim("vehicles")
    home = vsim._home_of(e)
    for d in (d for d in e.devices if d.device_type == "vehicles.gps_terminal"):  # normal trips keep inside
        fence = [tuple(v) for v in vsim.permitted_area(d, home)]
        lines = by_device(sim("vehicles").telemetry(e, *WEEK, 21))[d.key]
        lat, lon = series(lines, "lat")[1], series(lines, "lon")[1]
        assert len(lat) > 100 and all(point_in_polygon(x, y, fence) for x, y in zip(lon, lat))
    rec, clean, dirty = injected(e, "geofence_exit")
    (dev,) = rec.devices
    fence = [tuple(v) for v in rec.facts["polygon"]]
    rows = [l for l in dirty[dev] if "values" in l and "lat" in l["values"]]
    out = [l for l in rows if not point_in_polygon(l["values"]["lon"], l["values"]["lat"], fence)]
    assert len(out) > 10 and all(rec.start_ms <= l["ts"] < rec.end_ms for l in out)
    lat, lon = (np.array([l["values"][k] for l in rows]) for k in ("lat", "lon"))
    odo = np.array([l["values"]["odometer_km"] for l in rows])
    track = float(vsim.haversine_km(lat[:-1], lon[:-1], lat[1:], lon[1:]).sum())
    assert (np.diff(odo) >= 0).all() and abs((odo[-1] - odo[0]) - track) <= 0.02 * track + 2.0
    assert max(l["values"]["speed_kmh"] for l in rows) <= 130
    events = [l for l in dirty[dev] if l.get("event") == "geofence_exit"]
    assert len(events) == int(rec.facts["terminal_event"]) and (not events or events[0]["ts"] == out[0]["ts"])
    flipped = dataclasses.replace(rec, facts={**rec.facts, "terminal_event": not rec.facts["terminal_event"]})
    again = [l for l in fleet_telemetry([e], *FOUR, 21, anomalies=[flipped]) if l.get("event") == "geofence_exit"]
    assert len(again) == 1 - len(events)


def test_sick_animals_run_a_fever_ruminate_less_and_give_less_milk(hosts):
    rec, clean, dirty = injected(hosts["dairy"], "sick_animals")
    collars, sick = rec.facts["collars"], set(rec.facts["animal_ids"])
    assert 1 <= len(collars) <= 10 and set(collars) < set(rec.devices)
    for dev in collars:
        _, temp = series(within(rec, dirty[dev]), "body_temp_c")
        _, normal = series(within(rec, clean[dev]), "body_temp_c")
        assert len(temp) > 24 and temp.min() >= 39.5 and np.median(normal) < 39.3
        for prop in ("rumination_min", "activity_steps"):
            assert series(within(rec, dirty[dev]), prop)[1].sum() < 0.7 * series(within(rec, clean[dev]), prop)[1].sum()
    milk = lambda lines: {
        (l["ts"], l["values"]["animal_id"]): l["values"]["milk_kg"]
        for l in within(rec, lines)
        if "milk_kg" in l.get("values", {})
    }
    meters = [k for k in rec.devices if "milkmeter" in k]
    before, after = {}, {}
    for k in meters:
        before.update(milk(clean[k]))
        after.update(milk(dirty[k]))
    assert before.keys() == after.keys()
    ill = [key for key in before if key[1] in sick]
    assert ill and all(after[key] == round(before[key] * 0.65, 2) for key in ill)
    assert all(after[key] == before[key] for key in before if key[1] not in sick)


def test_unauthorised_outbound_is_seen_by_camera_and_rfid_but_not_booked(hosts):
    from wuxin.sim.fleet import fleet_telemetry

    e = hosts["logistics"]
    rec, clean, dirty = injected(e, "unauthorised_outbound")
    lsim = sim("logistics")
    zone, units = rec.facts["zone_id"], sum(rec.facts["units"])
    assert rec.facts["pledged_units"] == lsim.pledged_units(e, zone) and units <= 0.2 * rec.facts["pledged_units"]
    assert lsim.wms_movements(e, *FOUR, 21, anomalies=[rec]) == lsim.wms_movements(e, *FOUR, 21)
    cam, rfid = (
        next(d.key for d in e.devices if d.device_type == t and d.attributes.get("zone_id") == zone)
        for t in ("logistics.gate_camera", "logistics.rfid_reader")
    )
    out_clean, out_dirty = series(clean[cam], "count_out")[1].sum(), series(dirty[cam], "count_out")[1].sum()
    assert abs((out_dirty - out_clean) - units) <= 0.02 * units + 0.01 * out_clean + 3
    last = max(rec.facts["times_ms"]) + lsim.UNLOAD_MS
    ts, tags_clean = series(clean[rfid], "tag_count")
    _, tags_dirty = series(dirty[rfid], "tag_count")
    after = ts >= last
    assert after.any() and np.allclose(tags_clean[after] - tags_dirty[after], units, rtol=0.04, atol=3)
    assert (tags_dirty[ts < min(rec.facts["times_ms"])] == tags_clean[ts < min(rec.facts["times_ms"])]).all()
    flags = lambda lines: sum(l.get("event") == "unauthorised_out" for l in lines)
    assert flags(dirty[cam]) - flags(clean[cam]) == len(rec.facts["camera_event_ms"])
    weighed = lambda lines: sum(l.get("event") == "weighing" for l in lines)
    bridge = next(d.key for d in e.devices if d.device_type == "logistics.weighbridge")
    assert weighed(dirty[bridge]) == weighed(clean[bridge])
    night = dataclasses_replace_times(rec, [FOUR[0] + DAY + 2 * 3_600_000 - 8 * 3_600_000])  # 02:00 local
    assert flags(by_device(fleet_telemetry([e], *FOUR, 21, anomalies=[night]))[cam]) - flags(clean[cam]) == 1


def dataclasses_replace_times(rec, times):
    import dataclasses

    return dataclasses.replace(
        rec, facts={**rec.facts, "times_ms": times, "units": rec.facts["units"][:1], "camera_event_ms": times}
    )


def test_stock_below_pledge_goes_below_at_start_and_comes_back_at_end(hosts):
    from wuxin.sim.fleet import plan_anomalies

    e, six = hosts["logistics"], (WEEK[0], WEEK[0] + 6 * DAY)
    seed = next(
        s for s in range(100) if plan_anomalies([e], ["stock_below_pledge"], *six, s)[0].end_ms < six[1] - DAY // 2
    )
    rec, clean, dirty = injected(e, "stock_below_pledge", seed, six)
    lsim = sim("logistics")
    zone, pledge = rec.facts["zone_id"], rec.facts["pledged_units"]
    assert pledge == lsim.pledged_units(e, zone) and rec.facts["lowest_units"] < pledge
    rfid = next(
        d.key for d in e.devices if d.device_type == "logistics.rfid_reader" and d.attributes["zone_id"] == zone
    )
    ts, tags = series(dirty[rfid], "tag_count")
    below = (ts >= rec.start_ms) & (ts < rec.end_ms)
    assert below.sum() > 10 and (tags[below] < pledge).all()
    assert tags[below].min() <= rec.facts["lowest_units"] * 1.0 + 1
    assert (tags[ts < rec.start_ms] >= 0.96 * pledge).all()  # RFID misses a tag or two; the stock itself is >= pledge
    assert (tags[ts < rec.start_ms - DAY] >= pledge).all() and (tags[ts >= rec.end_ms] >= pledge).all()
    wms = lsim.wms_movements(e, *six, 21, anomalies=[rec])
    drawn = [m for m in wms if m["zone_id"] == zone and rec.start_ms - DAY <= m["ts"] < rec.end_ms]
    directions = "".join(m["direction"][0] for m in drawn)
    assert re.fullmatch("o+i+", directions), directions  # drawn down (booked), then restocked before end
    unit_kg = lsim.sku_of_zone(zone).unit_kg
    bridge = next(d.key for d in e.devices if d.device_type == "logistics.weighbridge")
    weighed = [l["params"] for l in dirty[bridge] if l.get("event") == "weighing"]
    for m in (m for m in drawn if m["direction"] == "out"):
        assert any(w["direction"] == "out" and abs(w["net_kg"] - m["quantity"] * unit_kg) <= 60 for w in weighed), m


def test_clock_skew_stamps_the_lines_hours_off_in_sending_order(hosts):
    rec, clean, dirty = injected(hosts["manufacturing"], "clock_skew", seed=5)
    (dev,) = rec.devices
    skew = rec.facts["skew_ms"]
    assert 2 * 3_600_000 <= abs(skew) < DAY and skew % 3_600_000 == 0
    expected = [
        {**l, "ts": l["ts"] + skew, "sent_ms": l["ts"]} if rec.start_ms <= l["ts"] < rec.end_ms else l
        for l in clean[dev]
    ]
    assert dirty[dev] == expected
    stamps = np.array([l["ts"] for l in dirty[dev]])
    assert (np.diff(stamps) < 0).sum() == 1  # the clock jumps once: back at the end (or at the start if it runs late)


def test_the_dairy_sims_own_sick_cows_are_named_as_ground_truth(hosts):
    from wuxin.sim.fleet import fleet_telemetry, natural_anomalies

    farm = hosts["dairy"]
    window = (WEEK[0], WEEK[0] + 14 * DAY)
    records = natural_anomalies([farm], *window, 21)
    assert records and records == natural_anomalies([farm], *window, 21)
    assert all(r.kind == "sick_animals" and r.effect == "natural" and len(r.devices) == 1 for r in records)
    temps = defaultdict(dict)
    for line in fleet_telemetry([farm], *window, 21):
        if "body_temp_c" in line.get("values", {}):
            temps[line["ts"]][line["device"]] = line["values"]["body_temp_c"]
    sick = {(r.devices[0], t) for r in records for t in range(r.start_ms, r.end_ms, 3_600_000)}
    above = {(k, t): v - np.median(list(herd.values())) for t, herd in temps.items() for k, v in herd.items()}
    assert min(v for k, v in above.items() if k in sick) > 0.6  # a sick cow runs a fever above her herd's ...
    assert max(v for k, v in above.items() if k not in sick) < 0.7  # ... which heat and oestrus alone never do


def test_planned_anomalies_keep_off_each_others_devices():
    import dataclasses

    from wuxin.sim.fleet import all_anomaly_kinds, build_fleet, collide, plan_anomalies

    fleet = build_fleet(sorted(scenario_packs()), 2, 8)
    for seed in range(6):
        records = plan_anomalies(fleet, all_anomaly_kinds(), *WEEK, seed)
        assert not [(a.kind, b.kind) for i, a in enumerate(records) for b in records[:i] if collide(a, b)]
    a = records[0]
    assert collide(a, dataclasses.replace(a, start_ms=a.end_ms + DAY - 1, end_ms=a.end_ms + 2 * DAY))
    assert not collide(a, dataclasses.replace(a, start_ms=a.end_ms + DAY + 1, end_ms=a.end_ms + 2 * DAY))
    assert not collide(a, dataclasses.replace(a, devices=("someone-else",)))


def test_an_anomaly_goes_only_where_its_device_type_is():
    from wuxin.sim.fleet import plan_anomalies

    piles = find("energy", where=lambda e: not any(d.device_type == "energy.pv_inverter" for d in e.devices))
    plant = find("energy", where=lambda e: any(d.device_type == "energy.pv_inverter" for d in e.devices))
    for seed in range(5):
        (rec,) = plan_anomalies([piles, plant], ["pv_above_irradiance"], *FOUR, seed)
        assert rec.enterprise_uscc == plant.uscc
    with pytest.raises(KeyError, match="pv_above_irradiance"):
        plan_anomalies([piles], ["pv_above_irradiance"], *FOUR, 0)


def test_the_credit_stories_mills_stand_on_sites_named_after_them():
    """Each story's borrower is the simulator's mill renamed; its sites (and its devices' site) were left under the
    simulator's firm name, so 恒盛织造's looms stood in another company's 厂区 on every page."""
    from wuxin.sim.portfolio import portfolio

    for story, spec in portfolio(2026):
        assert spec.name == story.name_zh and spec.sites
        assert all(s.name.startswith(story.name_zh) for s in spec.sites), [s.name for s in spec.sites]
        assert {d.site for d in spec.devices} <= {s.name for s in spec.sites}


def test_an_honest_machines_current_is_never_held_exactly_as_long_as_the_flat_test_calls_forged():
    """A machine on standby draws a small current with its noise; the simulator held it exactly (1.19 A all day), and
    the fabricated-data rule's flat test raised an alarm on an honest mill's bracelet (金德纺织, 2026-12-06)."""
    from wuxin.alerts.fabricated import flat_runs
    from wuxin.services.bootstrap import default_rules

    p = default_rules()["manufacturing.fabricated_data"].params
    forged, machines = [], 0
    for i in range(6):
        e = sim("manufacturing").build_enterprise(random.Random(f"t|manufacturing|{i}"), i + 1)
        for dev, lines in by_device(sim("manufacturing").telemetry(e, *WEEK, 5)).items():
            ts, amps = series(lines, "current_a")
            if not len(ts):
                continue
            machines += 1
            runs = flat_runs(list(zip(ts.tolist(), amps.tolist())))
            forged += [
                (dev, r) for r in runs if r.points >= p["min_flat_points"] and r.span_ms >= p["min_flat_s"] * 1000
            ]
    assert machines >= 20 and forged == []
