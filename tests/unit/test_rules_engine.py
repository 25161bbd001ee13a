"""The pure rule engine: declarations, overrides, each stream evaluator, change detection, pack rules."""

import pytest

from wuxin.alerts.change import band_check, change_point, days_outside
from wuxin.alerts.engine import DeviceInfo, Evaluation, absence_signal, evaluate_device, mismatch, points_by_device
from wuxin.alerts.rules import RULE_TYPES, apply_override, parse_rule
from wuxin.errors import InvalidInput
from wuxin.scenarios import scenario_packs
from wuxin.services.bootstrap import default_rules

CRANE = DeviceInfo(7, "crane-1", "construction.tower_crane", 3, {})
BRACELET = DeviceInfo(8, "loom-1", "manufacturing.current_bracelet", 3, {"rated_current_a": 10.0})
GPS = DeviceInfo(9, "truck-1", "vehicles.gps_terminal", 4, {})


def rule(**doc):
    return parse_rule({"id": "t.r", "severity": "major", **doc})


def run(device, r, points, states=None):
    out, states = Evaluation(), states if states is not None else {}
    evaluate_device(device, [("platform", r)], points, states, out)
    return out, states


def test_threshold_needs_its_duration_then_clears():
    r = rule(type="threshold", params={"key": "moment_pct", "op": ">", "value": 100, "duration_s": 60})
    out, states = run(CRANE, r, [(0, "moment_pct", 120.0, None), (30_000, "moment_pct", 125.0, None)])
    assert out.signals == []  # 30 s is not 60 s
    out, states = run(CRANE, r, [(61_000, "moment_pct", 121.0, None), (62_000, "moment_pct", 130.0, None)], states)
    assert [s.action for s in out.signals] == ["raise"] and out.signals[0].detail["since_ms"] == 0
    out, _ = run(CRANE, r, [(70_000, "moment_pct", 80.0, None)], states)
    assert [s.action for s in out.signals] == ["clear"]


def test_threshold_relative_to_an_install_attribute():
    r = rule(type="threshold", params={"key": "current_a", "op": ">", "value_attr": "rated_current_a", "factor": 3})
    assert run(BRACELET, r, [(0, "current_a", 29.0, None)])[0].signals == []
    assert run(BRACELET, r, [(0, "current_a", 31.0, None)])[0].signals[0].detail["limit"] == 30.0
    assert run(CRANE, r, [(0, "current_a", 1e6, None)])[0].signals == []  # no attribute: the rule does not apply


def test_threshold_duration_from_the_devices_own_install_attribute():
    r = rule(
        type="threshold",
        params={
            "key": "temp_c",
            "op": ">",
            "value_attr": "temp_max_c",
            "duration_s": 600,
            "duration_min_attr": "excursion_limit_min",
        },
    )
    own = DeviceInfo(11, "logger-1", "cold_chain.temp_logger", 3, {"temp_max_c": -18.0, "excursion_limit_min": 45})
    warm = [(t * 60_000, "temp_c", -12.0, None) for t in range(0, 45, 5)]  # 40 min above -18
    assert run(own, r, warm)[0].signals == []  # 40 min is not the 45 its goods allow
    assert [s.action for s in run(own, r, warm + [(45 * 60_000, "temp_c", -12.0, None)])[0].signals] == ["raise"]
    plain = DeviceInfo(12, "logger-2", "cold_chain.temp_logger", 3, {"temp_max_c": -18.0})  # no allowance: duration_s
    assert [s.action for s in run(plain, r, warm[:3])[0].signals] == ["raise"]
    with pytest.raises(InvalidInput, match="duration_min_attr"):
        rule(type="threshold", params={"key": "temp_c", "op": ">", "value": 0, "duration_min_attr": 5})


def test_position_jump_is_an_implied_speed():
    r = rule(type="rate_of_change", params={"key": "position", "max_per_hour": 250})
    points = [
        (0, "lat", 31.0, None),
        (0, "lon", 120.0, None),
        (60_000, "lat", 31.01, None),
        (60_000, "lon", 120.0, None),
        (120_000, "lat", 33.5, None),
        (120_000, "lon", 123.5, None),
    ]
    out, _ = run(GPS, r, points)
    assert [s.action for s in out.signals] == ["raise"] and out.signals[0].detail["rate_per_hour"] > 10_000


def test_event_rule_with_a_match_and_no_repeat_of_an_old_event():
    r = rule(type="event", params={"events": ["entry"], "match": {"authorised": False}})
    gate = DeviceInfo(1, "gate", "construction.access_gate", 1, {})
    out, states = run(
        gate, r, [(5, "entry", None, '{"authorised": true}'), (6, "entry", None, '{"authorised": false}')]
    )
    assert len(out.signals) == 1 and out.signals[0].at_ms == 6
    out, _ = run(gate, r, [(6, "entry", None, '{"authorised": false}')], states)
    assert out.signals == []  # a re-sent event raises nothing new


def test_geofence_exit_and_return():
    r = rule(
        type="geofence", params={"zone": [[120.0, 31.0], [120.1, 31.0], [120.1, 31.1], [120.0, 31.1]], "on": "exit"}
    )
    out, states = run(
        GPS, r, [(0, "lat", 31.05, None), (0, "lon", 120.05, None), (1, "lat", 31.5, None), (1, "lon", 120.05, None)]
    )
    assert [s.action for s in out.signals] == ["raise"]
    out, _ = run(GPS, r, [(2, "lat", 31.05, None), (2, "lon", 120.05, None)], states)
    assert [s.action for s in out.signals] == ["clear"]


def test_geofence_on_the_devices_own_area_from_its_install_attribute():
    r = rule(type="geofence", params={"zone_attr": "permitted_area", "on": "exit"})
    fenced = DeviceInfo(
        9,
        "truck-1",
        "vehicles.gps_terminal",
        4,
        {"permitted_area": "[[120.0, 31.0], [120.1, 31.0], [120.1, 31.1], [120.0, 31.1]]"},
    )
    outside = [(1, "lat", 31.5, None), (1, "lon", 120.05, None)]
    out, states = run(fenced, r, [(0, "lat", 31.05, None), (0, "lon", 120.05, None)] + outside)
    assert [s.action for s in out.signals] == ["raise"] and out.signals[0].detail["lat"] == 31.5
    out, _ = run(fenced, r, [(2, "lat", 31.05, None), (2, "lon", 120.05, None)], states)
    assert [s.action for s in out.signals] == ["clear"]
    assert run(GPS, r, outside)[0].signals == []  # no area registered: not fenced
    broken = DeviceInfo(9, "truck-1", "vehicles.gps_terminal", 4, {"permitted_area": "[[120.0, 31.0]]"})
    assert run(broken, r, outside)[0].signals == []  # an unreadable fence never stops the data being stored


def test_a_single_displaced_fix_is_no_exit_when_two_fixes_are_wanted():
    r = rule(
        type="geofence",
        params={"zone": [[120.0, 31.0], [120.1, 31.0], [120.1, 31.1], [120.0, 31.1]], "on": "exit", "min_fixes": 2},
    )
    fix = lambda ts, lat: [(ts, "lat", lat, None), (ts, "lon", 120.05, None)]
    out, states = run(GPS, r, fix(0, 31.05) + fix(1, 33.0) + fix(2, 31.05))  # a GPS jump out and back
    assert out.signals == []
    out, _ = run(GPS, r, fix(3, 31.5) + fix(4, 31.6), states)
    assert [s.action for s in out.signals] == ["raise"] and out.signals[0].at_ms == 4
    assert default_rules()["vehicles.geofence_exit"].params["min_fixes"] == 2


def test_a_geofence_needs_exactly_one_zone_source():
    with pytest.raises(InvalidInput, match="exactly one of 'zone'"):
        rule(type="geofence", params={"on": "exit"})
    with pytest.raises(InvalidInput, match="exactly one of 'zone'"):
        rule(type="geofence", params={"on": "exit", "zone": [[0, 0], [1, 0], [1, 1]], "zone_attr": "permitted_area"})


def test_stock_below_the_pledged_quantity_of_the_zone():
    """A reader with no lot is a lot of its own: its stock against its own pledged share, for 30 min."""
    from wuxin.alerts.stock import lot_positions, lot_step, readers_of

    r = default_rules()["logistics.stock_below_pledge"]
    p = r.params
    readers = readers_of(
        [{"id": 11, "attributes": {"zone_id": "A", "pledged_units": 100}}, {"id": 12, "attributes": {"zone_id": "B"}}],
        p["lot_attr"],
        p["value_attr"],
        p["lot_value_attr"],
    )
    state, actions = {}, []
    for t, count in ((0, 130.0), (900_000, 99.0), (1_800_000, 98.0), (2_700_000, 97.0), (3_600_000, 100.0)):
        (position,) = lot_positions(readers, {11: count, 12: 1.0}, {11, 12}).values()  # the unpledged reader: no lot
        actions.append(lot_step(position, state, t, int(p["duration_s"] * 1000)))
    assert actions == [None, None, None, "raise", "clear"]


def test_a_lot_over_several_zones_is_judged_whole_and_a_stale_reader_leaves_it_unknown():
    from wuxin.alerts.stock import lot_positions, readers_of

    rows = [
        {"id": 1, "attributes": {"zone_id": "A", "lot_id": "L1", "lot_pledged_units": 300}},
        {"id": 2, "attributes": {"zone_id": "B", "lot_id": "L1"}},
        {"id": 3, "attributes": {"zone_id": "C", "lot_id": "L2", "pledged_units": 50}},
        {"id": 4, "attributes": {"zone_id": "D", "lot_id": "L2", "pledged_units": 70}},
    ]
    readers = readers_of(rows, "lot_id", "pledged_units", "lot_pledged_units")
    moved = lot_positions(readers, {1: 40.0, 2: 270.0, 3: 20.0, 4: 100.0}, {1, 2, 3, 4})
    assert moved["L1"] == {"stock": 310.0, "pledged": 300.0, "readers": [1, 2], "declared_on_lot": True}
    assert moved["L2"]["stock"] == 120.0 and moved["L2"]["pledged"] == 120.0  # goods moved between zones: still whole
    stale = lot_positions(readers, {1: 40.0, 2: 270.0}, {1})
    assert stale["L1"]["stock"] is None  # reader 2 silent: unknown, never zero


def test_the_batch_filter_keeps_only_watched_keys_in_time_order():
    readings = [
        (8, "current_a", 2, 1.0, None),
        (8, "battery_pct", 1, 50.0, None),
        (99, "current_a", 1, 1.0, None),
        (8, "current_a", 1, 2.0, None),
    ]
    got = points_by_device(readings, [(8, "tamper", 3, "{}")], {8: frozenset({"current_a", "tamper"})})
    assert [p[0] for p in got[8]] == [1, 2, 3] and 99 not in got


def test_absence_and_mismatch():
    r = rule(type="absence", params={"min_offline_s": 600})
    assert absence_signal(CRANE, "platform", r, "offline", 0, 0, 599_000) is None
    assert absence_signal(CRANE, "platform", r, "offline", 0, 0, 600_000).action == "raise"
    assert absence_signal(CRANE, "platform", r, "online", 5, None, 5).action == "clear"
    assert mismatch({"camera_out": 100, "rfid_out": 99, "wms_out": 100}, 0.05) is None
    gap = mismatch({"camera_out": 100, "rfid_out": 100, "wms_out": 40}, 0.05)
    assert gap["low"] == "wms_out" and gap["gap"] == 60
    assert mismatch({"camera_out": 100, "rfid_out": None, "wms_out": None}, 0.05) is None  # unknown is not zero


def test_declarations_are_validated():
    with pytest.raises(InvalidInput, match="type 'magic'"):
        parse_rule({"id": "x", "type": "magic"})
    with pytest.raises(InvalidInput, match="lacks params"):
        parse_rule({"id": "x", "type": "threshold", "params": {"key": "a"}})
    with pytest.raises(InvalidInput, match="exactly one"):
        parse_rule({"id": "x", "type": "threshold", "params": {"key": "a", "op": ">"}})
    with pytest.raises(InvalidInput, match="severity"):
        parse_rule({"id": "x", "type": "absence", "severity": "meh"})


def test_overrides_tune_without_code_and_are_revalidated():
    base = default_rules()["construction.crane_overload"]
    tuned = apply_override(base, {"params": {"value": 105}, "severity": "major"})
    assert tuned.params["value"] == 105 and tuned.params["key"] == "moment_pct" and tuned.severity == "major"
    with pytest.raises(InvalidInput):
        apply_override(base, {"params": {"value": -1}})
    with pytest.raises(InvalidInput, match="only"):
        apply_override(base, {"type": "event"})


def test_every_pack_declares_rules_covering_tamper_and_offline():
    rules = default_rules().values()
    for name in scenario_packs():
        mine = {r.type for r in rules if r.scenario == name}
        assert {"event", "absence"} <= mine, name
    assert {r.type for r in rules} == set(RULE_TYPES)
    fence = default_rules()["vehicles.geofence_exit"]  # a truck's own permitted area, registered at loan set-up
    assert fence.params["zone_attr"] == "permitted_area" and "zone" not in fence.params


def test_baseline_band_and_change_point():
    history = [(20_000 + d, 0.8 + 0.01 * (d % 3)) for d in range(21)]
    assert band_check(history, 20_021, 0.81).direction is None
    assert band_check(history, 20_021, 0.2).direction == "below"
    assert band_check(history[:3], 20_021, 0.2) is None  # too little history to judge
    assert change_point([1.0, 1.1, 0.9, 1.0, 1.05, 0.95, 1.0, 0.3, 0.2, 0.25]) == 7
    assert change_point([1.0, 1.01, 0.99, 1.0, 1.0, 1.02]) is None


def test_rest_days_are_left_out_and_only_a_multi_day_idle_counts():
    sunday = 20_002  # weekday(20_002) == 6
    series = [
        (sunday + d, 0.0 if d % 7 == 0 or d == 9 else 0.8 + 0.01 * (d % 3)) for d in range(21)
    ]  # day 9: a holiday
    assert band_check(series, sunday + 14, 0.0).direction == "below"  # without rest days a Sunday looks idle
    assert band_check(series, sunday + 14, 0.0, rest_share=0.5).rest_day  # with them it is not judged
    band = {"rest_share": 0.5, "min_days": 7}
    assert band_check(series, sunday + 10, 0.8, **band).median == pytest.approx(0.81, abs=0.01)  # zeros left out
    assert days_outside(series, sunday + 9, "below", 2, **band) == 1  # one holiday: not a change
    idle = series + [(sunday + 21, 0.0), (sunday + 22, 0.05), (sunday + 23, 0.0)]  # Sunday, then idle Monday-Tuesday
    assert days_outside(idle, sunday + 22, "below", 2, **band) == 1
    assert days_outside(idle, sunday + 23, "below", 2, **band) == 2
    assert days_outside(idle, sunday + 20, "below", 2, **band) == 0  # a normal Saturday


def test_no_heartbeat_device_types_have_no_heartbeat_duty():
    from wuxin.services.monitoring.sweeps import has_heartbeat_duty

    offline = default_rules()["vehicles.device_offline"]
    assert not has_heartbeat_duty(offline, "vehicles.adas_unit")
    assert has_heartbeat_duty(offline, "vehicles.gps_terminal")
    assert not has_heartbeat_duty(default_rules()["dairy.device_offline"], "dairy.ear_tag")  # passive: read by gates
    assert has_heartbeat_duty(default_rules()["dairy.device_offline"], "dairy.collar")
    with pytest.raises(InvalidInput, match="no_heartbeat_device_types"):
        parse_rule({"id": "x.off", "type": "absence", "params": {"no_heartbeat_device_types": "vehicles.adas_unit"}})


def test_a_clock_hours_off_raises_once_it_persisted_and_clears_on_time():
    from wuxin.alerts.engine import evaluate_clock

    r = rule(type="clock_skew", params={"max_skew_s": 3600, "min_batches": 3, "min_duration_s": 7200})
    hour, states, out = 3_600_000, {}, Evaluation()
    for received in (0, hour, 2 * hour):  # stamps 8 h ahead of arrival; the third batch is 2 h after the first
        evaluate_clock(CRANE, [("platform", r)], received + 8 * hour, received, states, out)
    assert [(s.action, s.at_ms, s.detail["skew_s"], s.detail["since_ms"]) for s in out.signals] == [
        ("raise", 2 * hour, 28_800, 0)
    ]
    evaluate_clock(CRANE, [("platform", r)], 3 * hour + 9 * hour, 3 * hour, states, out)
    assert len(out.signals) == 1  # still skewed: raised once
    evaluate_clock(CRANE, [("platform", r)], 4 * hour - 60_000, 4 * hour, states, out)
    assert [s.action for s in out.signals] == ["raise", "clear"] and states[("platform", "t.r", CRANE.id)] == {
        "on_time": True
    }


def test_a_late_batch_or_a_clock_that_flips_sides_is_no_skew_yet():
    from wuxin.alerts.engine import evaluate_clock

    r = rule(type="clock_skew", params={"max_skew_s": 3600, "min_batches": 3, "min_duration_s": 7200})
    hour, states, out = 3_600_000, {}, Evaluation()
    for received, skew in (
        (0, -8 * hour),
        (hour, -8 * hour),
        (2 * hour, 8 * hour),
        (3 * hour, 8 * hour),
        (3 * hour + 1, 8 * hour),
    ):
        evaluate_clock(CRANE, [("platform", r)], received + skew, received, states, out)
    assert out.signals == []  # behind twice then ahead: each side counted afresh, three batches but not 2 h yet
    evaluate_clock(CRANE, [("platform", r)], 4 * hour + 8 * hour, 4 * hour, states, out)
    assert [s.detail["since_ms"] for s in out.signals] == [2 * hour]
    assert run(CRANE, r, [(0, "moment_pct", 1.0, None)])[0].signals == []  # not a per-point rule


def test_herd_outliers_need_a_herd_and_an_unbroken_run():
    from wuxin.alerts.herd import herd_outliers

    hour = 3_600_000
    herd = {cow: [(h * hour, 38.6) for h in range(10)] for cow in range(5)}
    herd[7] = [
        (h * hour, 38.6 + (1.0 if h != 4 else 0.2)) for h in range(10)
    ]  # a cool reading at hour 4 breaks the run
    outliers, calm = herd_outliers(herd, 0.7, 5 * hour, hour, min_herd=5)
    assert outliers == {} and 7 not in calm  # hours 5-9 are only 4 h above the herd; it is above now, so not calm
    outliers, _ = herd_outliers(herd, 0.7, 4 * hour, hour, min_herd=5)
    assert outliers[7].since_ms == 5 * hour and outliers[7].at_ms == 9 * hour and outliers[7].herd_median == 38.6
    assert herd_outliers(herd, 0.7, 4 * hour, hour, min_herd=7) == ({}, set())  # six collars are no herd of seven


def test_late_data_are_a_clock_behind_only_on_a_device_once_seen_on_time():
    from wuxin.alerts.engine import evaluate_clock

    r = rule(type="clock_skew", params={"max_skew_s": 3600, "min_batches": 2, "min_duration_s": 7200})
    day, states, out = 86_400_000, {}, Evaluation()
    for received in (0, day, 2 * day):  # yesterday's data imported each day: late, never on time
        evaluate_clock(CRANE, [("platform", r)], received - day + 60_000, received, states, out)
    assert out.signals == []
    hour = 3_600_000
    evaluate_clock(BRACELET, [("platform", r)], 0, 60_000, states, out)  # on time first
    for received in (hour, 3 * hour):  # then its clock jumps 8 h back
        evaluate_clock(BRACELET, [("platform", r)], received - 8 * hour, received, states, out)
    assert [(s.action, s.detail["device"], s.detail["skew_s"]) for s in out.signals] == [("raise", "loom-1", -28_800)]
