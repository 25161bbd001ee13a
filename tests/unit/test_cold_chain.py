"""The cold-chain pack: its indicators on hand-made lines, its rules on hand-made and simulated data (an excursion
shorter than the goods allow, a defrost or a loading is no alarm; a longer one, a failure, a power cut, pallets moved
unbooked are), and its goods as data."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import numpy as np
import pytest

from wuxin.alerts.engine import DeviceInfo, Evaluation, evaluate_device
from wuxin.alerts.stock import lot_positions, lot_step, readers_of
from wuxin.indicators.days import DAY_MS, local_day
from wuxin.indicators.engine import compute_device_days
from wuxin.indicators.memory import collect, device_days
from wuxin.scenarios import scenario_packs
from wuxin.services.bootstrap import default_rules, indicator_packs, products
from wuxin.sim.fleet import build_fleet, fleet_telemetry, plan_anomalies

CN = dt.timezone(dt.timedelta(hours=8))
START = int(dt.datetime(2025, 11, 10, tzinfo=CN).timestamp() * 1000)  # a Monday, no holiday
MIN = 60_000
PACK = "cold_chain"
FROZEN_PORK = {
    "space_id": "R1",
    "space_kind": "room",
    "goods": "frozen_pork",
    "temp_min_c": -60.0,
    "temp_max_c": -18.0,
    "excursion_limit_min": 60,
}
MILK = {
    "space_id": "R2",
    "space_kind": "room",
    "goods": "chilled_milk",
    "temp_min_c": 0.0,
    "temp_max_c": 4.0,
    "excursion_limit_min": 30,
}


def sim():
    return scenario_packs()[PACK].sim()


def stream_rules(device_type: str) -> list:
    return [
        ("platform", r)
        for r in default_rules().values()
        if r.scenario == PACK and r.type == "threshold" and r.applies_to(device_type)
    ]


def raised(device: DeviceInfo, points: list[tuple]) -> list[str]:
    out = Evaluation()
    evaluate_device(device, stream_rules(device.device_type), sorted(points, key=lambda p: p[0]), {}, out)
    return [s.rule.id for s in out.signals if s.action == "raise"]


def temps(minutes_and_values) -> list[tuple]:
    return [(START + m * MIN, "temp_c", float(v), None) for m, v in minutes_and_values]


def excursion(length_min: int, inside: float, outside: float, step: int = 5) -> list[tuple]:
    """In range for an hour, out of it for `length_min`, back in for an hour."""
    return temps(
        [(m, inside) for m in range(0, 60, step)]
        + [(60 + m, outside) for m in range(0, length_min, step)]
        + [(60 + length_min + m, inside) for m in range(0, 60, step)]
    )


# ---------------------------------------------------------------- goods and declarations


def test_goods_ranges_are_data_and_each_logger_carries_its_goods_values():
    catalogue = sim().goods_catalogue()
    for code, g in catalogue["goods"].items():
        assert g["zh"] and g["en"] and g["class"] in catalogue["classes"]
        assert g["temp_min_c"] < g["temp_max_c"] and g["excursion_limit_min"] > 0
    assert {g["temp_max_c"] for g in catalogue["goods"].values() if g["class"] == "frozen"} == {-18}
    assert {(g["temp_min_c"], g["temp_max_c"]) for g in catalogue["goods"].values() if g["class"] == "chilled"} == {
        (0, 4)
    }
    e = sim().build_enterprise(random.Random("cold-goods"), 1)
    loggers = [d for d in e.devices if d.device_type == "cold_chain.temp_logger"]
    assert loggers
    for d in loggers:
        g = catalogue["goods"][d.attributes["goods"]]
        assert (d.attributes["temp_max_c"], d.attributes["excursion_limit_min"]) == (
            g["temp_max_c"],
            g["excursion_limit_min"],
        )


def test_the_pack_brings_its_product_checks_labels_and_roles():
    pack = scenario_packs()[PACK]
    assert pack.label["zh"] and pack.label["en"] and pack.colour.startswith("#")
    assert products()["cold_chain_pledge"].basis == "collateral"
    assert "cold_chain.rfid_reader" in pack.device_types_with("counts_stock")
    rules = [r for r in default_rules().values() if r.scenario == PACK]
    alarm_types = pack.alarm_types
    assert {r.alarm_type for r in rules} <= set(alarm_types)
    assert all(v["zh"] and v["en"] for v in alarm_types.values())
    assert all(r.label["zh"] and r.label["en"] for r in rules)
    assert all(d.label["zh"] and d.label["en"] for d in indicator_packs()[PACK].all())


# ---------------------------------------------------------------- rules on hand-made data


def test_an_excursion_shorter_than_the_goods_allow_does_not_alarm_a_longer_one_does():
    pork = DeviceInfo(1, "r1-logger", "cold_chain.temp_logger", 1, FROZEN_PORK)
    assert raised(pork, excursion(50, -21.0, -15.0)) == []  # 50 min above -18: within pork's 60
    assert raised(pork, excursion(75, -21.0, -15.0)) == ["cold_chain.temp_above_range"]
    milk = DeviceInfo(2, "r2-logger", "cold_chain.temp_logger", 1, MILK)
    assert raised(milk, excursion(25, 2.0, 6.0)) == []  # the same kind of rule, dairy's 30 min
    assert raised(milk, excursion(40, 2.0, 6.0)) == ["cold_chain.temp_above_range"]
    assert raised(milk, excursion(40, 2.0, -1.5)) == ["cold_chain.temp_below_range"]  # milk freezing
    assert raised(pork, excursion(300, -21.0, -35.0)) == []  # colder is fine for frozen goods


def test_a_power_cut_is_the_fans_stopping_not_a_thermostat_stop_or_a_defrost():
    meter = DeviceInfo(3, "r1-meter", "cold_chain.refrigeration_meter", 1, {"fan_load_kw": 4.0, "rated_kw": 40.0})
    power = lambda values: [(START + i * 5 * MIN, "power_kw", v, None) for i, v in enumerate(values)]
    assert raised(meter, power([30.0] * 3 + [4.1] * 8 + [30.0] * 3)) == []  # compressor resting: fans still draw
    assert raised(meter, power([30.0] * 3 + [10.0] * 6 + [30.0] * 3)) == []  # electric defrost heaters
    assert raised(meter, power([30.0] * 3 + [0.0] * 2 + [30.0] * 3)) == []  # a 10 min blip
    assert raised(meter, power([30.0] * 3 + [0.0] * 5 + [30.0])) == ["cold_chain.refrigeration_power_cut"]


def test_loading_opens_the_door_briefly_and_a_door_left_open_alarms():
    door = DeviceInfo(4, "r1-door", "cold_chain.door_sensor", 1, {"space_id": "R1", "space_kind": "room"})
    state = lambda spans: [(START + m * MIN, "door_open", float(v), None) for m, v in spans]
    loading = state([(m, (m // 4) % 2 == 0) for m in range(0, 60)])  # 4 min open, 4 min shut, for an hour
    assert raised(door, loading) == []
    assert raised(door, state([(0, 1), (10, 1), (25, 1), (30, 0)])) == ["cold_chain.door_open_too_long"]


# ---------------------------------------------------------------- indicators on hand-made lines


def _indicators(device_type: str, attributes: dict, lines: list[dict]) -> dict[str, float]:
    values, events = collect(lines)
    days = np.array([local_day(START)])
    key = lines[0]["device"]
    data = device_days(key, device_type, attributes, values.get(key, {}), events.get(key, {}), days, [])
    return {r.name: r.value for r in compute_device_days(indicator_packs()[PACK].for_type(device_type), data)}


def test_temperature_compliance_is_the_share_of_minutes_in_the_goods_range():
    lines = [
        {"device": "lg", "ts": START + m * MIN, "values": {"temp_c": -12.0 if 600 <= m < 720 else -21.0}}
        for m in range(0, 1440, 5)
    ]
    got = _indicators("cold_chain.temp_logger", FROZEN_PORK, lines)
    assert got["temp_in_range_ratio"] == pytest.approx(22 / 24, abs=0.005)
    assert got["temp_out_of_range_h"] == pytest.approx(2.0, abs=0.1)


def test_door_open_minutes_utilisation_and_reefer_hours():
    door = [
        {"device": "dr", "ts": START + m * MIN, "values": {"door_open": 480 <= m < 500 or 900 <= m < 910}}
        for m in sorted(set(range(0, 1440, 15)) | {480, 500, 900, 910})
    ]
    assert _indicators("cold_chain.door_sensor", {}, door)["door_open_min"] == pytest.approx(30.0, abs=0.5)
    rfid = [{"device": "rf", "ts": START + m * MIN, "values": {"tag_count": 300}} for m in range(0, 1440, 15)]
    got = _indicators("cold_chain.rfid_reader", {"capacity_pallets": 400, "pallet_kg": 900.0}, rfid)
    assert got["room_utilisation_ratio"] == pytest.approx(0.75) and got["stock_t"] == pytest.approx(270.0)
    reefer = [
        {
            "device": "rv",
            "ts": START + m * MIN,
            "values": {"unit_on": 420 <= m < 720, "speed_kmh": 60.0 if 480 <= m < 660 else 0.0},
        }
        for m in range(0, 1440, 5)
    ]
    got = _indicators("cold_chain.reefer_unit", {}, reefer)
    assert got["reefer_on_h"] == pytest.approx(5.0, abs=0.1) and got["trip_h"] == pytest.approx(3.0, abs=0.1)


# ---------------------------------------------------------------- rules on the simulator's data


def _points(lines: list[dict]) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    for line in lines:
        for key, value in line.get("values", {}).items():
            if isinstance(value, (bool, int, float)):
                out.setdefault(line["device"], []).append((line["ts"], key, float(value), None))
    return out


def _stream_alarms(fleet, lines) -> Counter:
    points, seen = _points(lines), Counter()
    for i, d in enumerate(d for e in fleet for d in e.devices):
        for rule_id in raised(DeviceInfo(i, d.key, d.device_type, 1, d.attributes), points.get(d.key, [])):
            seen[(rule_id, d.key)] += 1
    return seen


def test_a_normal_week_of_defrosts_loadings_and_deliveries_raises_no_stream_alarm():
    fleet = build_fleet([PACK], 4, 5)
    end = START + 7 * DAY_MS
    benign = Counter(r.kind for e in fleet for r in sim().benign_events(e, START, end, 5))
    assert benign["defrost"] >= 4 * 4 * 7 and benign["loading"] > 20  # at least four defrosts a room a day
    assert _stream_alarms(fleet, list(fleet_telemetry(fleet, START, end, 5))) == Counter()


def test_the_labelled_anomalies_raise_their_rules():
    fleet = build_fleet([PACK], 6, 9)
    end = START + 6 * DAY_MS
    records = plan_anomalies(fleet, ["refrigeration_failure", "power_cut", "pledged_goods_moved"], START, end, 9)
    lines = list(fleet_telemetry(fleet, START, end, 9, anomalies=records))
    seen = {rule for rule, _ in _stream_alarms(fleet, lines)}
    assert "cold_chain.refrigeration_power_cut" in seen
    assert "cold_chain.weight_below_pledge" in seen
    failure = next(r for r in records if r.kind == "refrigeration_failure")
    assert failure.end_ms - failure.start_ms >= 12 * 3_600_000  # this seed's draw: long enough to warm any room
    assert "cold_chain.temp_above_range" in seen
    moved = next(r for r in records if r.kind == "pledged_goods_moved")
    e = next(x for x in fleet if x.uscc == moved.enterprise_uscc)
    booked = sim().wms_movements(e, START, end, 9, records)
    assert not any(row["ts"] in moved.facts["times_ms"] for row in booked)  # the night trips are not in the books
    reader = next(
        d
        for d in e.devices
        if d.device_type == "cold_chain.rfid_reader" and d.attributes["zone_id"] == moved.facts["room"]
    )
    readers = readers_of([{"id": 1, "attributes": reader.attributes}], "lot_id", "pledged_units", "lot_pledged_units")
    state, actions = {}, []
    for line in (x for x in lines if x["device"] == reader.key and "tag_count" in x.get("values", {})):
        position = lot_positions(readers, {1: line["values"]["tag_count"]}, {1})[moved.facts["lot_id"]]
        actions.append(lot_step(position, state, line["ts"], 30 * MIN))  # the pack's lot_stock rule's 30 min
    assert (
        actions.count("raise") == 1 and state["since"] > moved.start_ms
    )  # RFID: the lot below its pledge after the trips
