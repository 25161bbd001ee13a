"""Contract test over every scenario pack: folders, thing models, the monitoring-object
standard (docs/scenarios.md), and simulators whose lines validate against the thing models."""

from __future__ import annotations

import datetime as dt
import random
import re
from pathlib import Path

import orjson
import pytest

from wuxin.domain.thing_model import ThingModel, compile_thing_model
from wuxin.scenarios import PACKS_DIR, builtin_thing_models, scenario_packs
from wuxin.services.bootstrap import indicator_packs
from wuxin.sim.fleet import build_fleet, fleet_telemetry
from wuxin.sim.spec import HEALTHS, is_valid_uscc

CN = dt.timezone(dt.timedelta(hours=8))
START = int(dt.datetime(2025, 11, 10, tzinfo=CN).timestamp() * 1000)  # a Monday, no holiday
END = START + 2 * 86_400_000
SOURCE_MODES = {"bank_installed", "third_party_platform", "enterprise_shared"}
COMMON_PROPERTIES = {"battery_pct", "rssi_dbm"}
COMMON_EVENTS = {"tamper", "power_lost", "reboot"}

# The standard (docs/scenarios.md): type -> (properties, events, install attributes).
STANDARD = {
    "manufacturing.current_bracelet": ({"current_a"}, set(), {"rated_current_a", "run_threshold_a", "machine_id"}),
    "manufacturing.energy_meter": ({"energy_kwh_total", "power_kw"}, set(), {"meter_id"}),
    "manufacturing.output_counter": ({"output_count_total"}, set(), {"product", "unit_price_cny"}),
    "vehicles.gps_terminal": (
        {
            "lat",
            "lon",
            "speed_kmh",
            "heading_deg",
            "altitude_m",
            "odometer_km",
            "fuel_l",
            "acc_on",
            "oil_cut",
            "circuit_cut",
            "doors_locked",
        },
        {"sos", "overspeed", "power_cut", "theft", "illegal_move", "geofence_exit"},
        {"plate", "vin", "jt808_phone"},
    ),
    "vehicles.adas_unit": (
        set(),
        {"fatigue", "phone_use", "smoking", "distraction", "forward_collision", "lane_departure", "collision"},
        {"plate"},
    ),
    "dairy.ear_tag": ({"animal_id", "reader_id"}, set(), {"animal_id"}),
    "dairy.collar": ({"activity_steps", "rumination_min", "body_temp_c"}, set(), {"animal_id"}),
    "dairy.milk_meter": ({"milk_kg", "animal_id"}, set(), {"parlour_id"}),
    "dairy.env_sensor": ({"temp_c", "humidity_pct", "nh3_ppm", "co2_ppm"}, set(), {"barn_id"}),
    "dairy.tmr_feeder": ({"feed_kg"}, set(), {"ration"}),
    "energy.pv_inverter": (
        {"ac_power_kw", "energy_kwh_total", "dc_voltage_v", "status"},
        {"fault"},
        {"capacity_kwp", "ac_capacity_kw", "tilt_deg", "azimuth_deg", "lat", "lon"},
    ),
    "energy.weather_station": ({"ghi_wm2", "poa_wm2", "air_temp_c", "module_temp_c", "wind_ms"}, set(), {"lat", "lon"}),
    "energy.charging_pile": (
        {"power_kw", "energy_kwh_total", "status"},
        {"session_end"},
        {"rated_kw", "tariff_cny_per_kwh"},
    ),
    "logistics.gate_camera": ({"count_in", "count_out", "sku"}, {"unauthorised_out"}, {"zone_id"}),
    "logistics.rfid_reader": ({"tag_count", "tags"}, set(), {"zone_id"}),
    "logistics.weighbridge": (set(), {"weighing"}, {"site_id"}),
    "logistics.volume_scanner": ({"volume_m3"}, set(), {"zone_id"}),
    "logistics.fence_alarm": (set(), {"breach"}, {"zone_id"}),
    "construction.tower_crane": (
        {"load_t", "rated_load_t", "moment_pct", "height_m", "radius_m", "wind_ms", "slew_deg"},
        {"overload", "collision_risk"},
        {"crane_id"},
    ),
    "construction.env_monitor": (
        {"pm25_ugm3", "pm10_ugm3", "noise_db", "temp_c", "humidity_pct", "wind_ms"},
        set(),
        {"site_id"},
    ),
    "construction.access_gate": (set(), {"entry", "exit"}, {"site_id"}),
    "cold_chain.temp_logger": (
        {"temp_c", "humidity_pct"},
        set(),
        {"space_id", "space_kind", "goods", "temp_min_c", "temp_max_c", "excursion_limit_min"},
    ),
    "cold_chain.door_sensor": ({"door_open"}, set(), {"space_id", "space_kind"}),
    "cold_chain.refrigeration_meter": (
        {"power_kw", "energy_kwh_total"},
        set(),
        {"space_id", "fan_load_kw", "rated_kw"},
    ),
    "cold_chain.rfid_reader": (
        {"tag_count"},
        set(),
        {"space_id", "zone_id", "goods", "capacity_pallets", "pallet_kg", "lot_id", "pledged_units", "unit_value_cny"},
    ),
    "cold_chain.scale": ({"weight_kg"}, set(), {"space_id", "goods", "lot_id", "pledged_kg"}),
    "cold_chain.reefer_unit": (
        {"lat", "lon", "speed_kmh", "acc_on", "unit_on", "power_kw", "setpoint_c"},
        set(),
        {"plate", "vin", "rated_kw"},
    ),
}
EVENT_PARAMS = {
    ("energy.charging_pile", "session_end"): {"energy_kwh", "duration_min"},
    ("logistics.weighbridge", "weighing"): {"gross_kg", "tare_kg", "net_kg", "direction", "plate"},
    ("construction.access_gate", "entry"): {"person_hash", "authorised"},
    ("construction.access_gate", "exit"): {"person_hash", "authorised"},
}
DOC = Path(__file__).resolve().parents[2] / "docs" / "scenarios.md"  # the project's scenario standard


@pytest.fixture(scope="module")
def models() -> dict[str, ThingModel]:
    return {m.device_type: m for m in builtin_thing_models()}


@pytest.fixture(scope="module")
def fleets() -> dict[str, list]:
    """Four enterprises per pack, two days of lines each (enough to meet every device type)."""
    out = {}
    for name, pack in scenario_packs().items():
        sim = pack.sim()
        rng = random.Random(f"contract|{name}")
        enterprises = [sim.build_enterprise(rng, i + 1) for i in range(4)]
        out[name] = [(e, list(sim.telemetry(e, START, END, 11))) for e in enterprises]
    return out


def test_every_folder_is_a_complete_pack():
    folders = [p for p in PACKS_DIR.iterdir() if p.is_dir() and not p.name.startswith("__")]
    assert (
        {f.name for f in folders}
        == set(scenario_packs())
        == {"manufacturing", "vehicles", "dairy", "energy", "logistics", "construction", "cold_chain"}
    )
    for folder in folders:
        manifest = orjson.loads((folder / "manifest.json").read_bytes())
        assert manifest["name"] == folder.name
        assert manifest["label"]["zh"] and manifest["label"]["en"]
        assert list((folder / "thing_models").glob("*.json")), folder
        assert (folder / "sim.py").is_file(), folder
        sim = scenario_packs()[folder.name].sim()
        assert callable(sim.build_enterprise) and callable(sim.telemetry)
        assert (folder / "indicators.py").is_file(), folder
        indicators = indicator_packs()[folder.name]  # validated against the pack's thing models
        assert indicators.indicators and indicators.index, folder
        assert all(d.label.get("zh") and d.label.get("en") and d.unit for d in indicators.all()), folder


def test_every_thing_model_compiles_and_is_named_after_its_file():
    for pack in scenario_packs().values():
        for path in sorted((pack.folder / "thing_models").glob("*.json")):
            model = compile_thing_model(orjson.loads(path.read_bytes()))
            assert path.name == f"{model.device_type}.json"
            assert model.scenario == pack.name
            assert model.label.get("zh") and model.label.get("en")
    assert len(builtin_thing_models()) == len(STANDARD)


def test_every_documented_type_has_its_properties_events_and_attributes(models):
    assert set(models) == set(STANDARD)
    for device_type, (props, events, attrs) in STANDARD.items():
        m = models[device_type]
        assert props | COMMON_PROPERTIES <= set(m.properties), device_type
        assert events | COMMON_EVENTS <= set(m.events), device_type
        assert attrs <= set(m.attributes), device_type
    for (device_type, event), params in EVENT_PARAMS.items():
        declared = {
            p["identifier"]
            for e in models[device_type].source["events"]
            if e["identifier"] == event
            for p in e["outputData"]
        }
        assert params <= declared, (device_type, event)


def test_thing_models_follow_the_conventions(models):
    for m in models.values():
        kinds = {p["identifier"]: p["dataType"] for p in m.source["properties"]}
        if "status" in kinds:
            assert kinds["status"]["type"] == "enum"
        for counter in ("energy_kwh_total", "output_count_total", "odometer_km"):
            if counter in kinds:
                assert kinds[counter]["specs"]["min"] == "0" and "max" not in kinds[counter]["specs"]
        assert m.heartbeat_timeout_s >= 60
    tags = {p["identifier"]: p for p in models["logistics.rfid_reader"].source["properties"]}["tags"]
    assert tags["dataType"]["type"] == "array" and tags["dataType"]["specs"]["item"]["type"] == "text"
    assert models["energy.pv_inverter"].check("status", "fault") == (1.0, "fault")
    gate = models["logistics.weighbridge"].events["weighing"]
    assert [k for k, _ in gate({"direction": "sideways"}).refused] == ["direction"]  # refused, the event kept
    with pytest.raises(Exception):
        models["dairy.collar"].check("body_temp_c", 47.0)
    with pytest.raises(Exception):
        models["vehicles.gps_terminal"].check("lat", 91.0)


def test_the_standard_above_matches_the_doc():
    text = DOC.read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_]+\.[a-z_]+)`", text))
    assert set(STANDARD) <= documented
    for device_type, (props, events, attrs) in STANDARD.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{device_type}`"))
        for name in props | events | attrs:
            assert f"`{name}`" in row, (device_type, name)


def test_enterprises_are_well_formed(fleets, models):
    keys = []
    for name, runs in fleets.items():
        for e, _ in runs:
            assert e.industry == name and e.health in HEALTHS and is_valid_uscc(e.uscc)
            assert e.name.endswith("公司") and e.region
            for site in e.sites:
                assert 18 <= site.lat <= 54 and 73 <= site.lon <= 135, site  # in China
            site_names = {s.name for s in e.sites}
            for d in e.devices:
                assert d.site in site_names and d.source_mode in SOURCE_MODES
                assert models[d.device_type].scenario == name
                models[d.device_type].check_attributes(d.attributes)
                assert set(d.attributes) == STANDARD[d.device_type][2], d.device_type
            keys += [d.key for d in e.devices]
    assert len(keys) == len(set(keys))


def test_every_line_validates_against_its_thing_model(fleets, models):
    for name, runs in fleets.items():
        seen_types = set()
        for e, lines in runs:
            types = {d.key: d.device_type for d in e.devices}
            last: dict[str, int] = {}
            assert lines, e.name
            for line in lines:
                m = models[types[line["device"]]]
                assert isinstance(line["ts"], int) and START <= line["ts"] < END
                assert line["ts"] >= last.get(line["device"], START), "lines must be time-ordered per device"
                last[line["device"]] = line["ts"]
                if "values" in line:
                    assert line["values"] and set(line) == {"device", "ts", "values"}
                    for key, value in line["values"].items():
                        m.check(key, value)
                else:
                    assert set(line) == {"device", "ts", "event", "params"}
                    m.check_event(line["event"], line["params"])
                seen_types.add(m.device_type)
        assert seen_types == {t for t in STANDARD if t.startswith(name + ".")}, name


def test_simulators_are_deterministic(fleets):
    for name, runs in fleets.items():
        sim = scenario_packs()[name].sim()
        again = sim.build_enterprise(random.Random(f"contract|{name}"), 1)
        e, lines = runs[0]
        assert again == e
        assert list(sim.telemetry(again, START, END, 11)) == lines
        assert list(sim.telemetry(again, START, END, 12)) != lines, name


def test_fleet_is_deterministic_and_covers_the_packs():
    fleet = build_fleet(sorted(scenario_packs()), 1, 5)
    assert [e.industry for e in fleet] == sorted(scenario_packs())
    assert fleet == build_fleet(sorted(scenario_packs()), 1, 5)
    assert fleet != build_fleet(sorted(scenario_packs()), 1, 6)
    devices = {d.key for e in fleet for d in e.devices}
    short = START + 3_600_000
    seen = {line["device"] for line in fleet_telemetry(fleet, START, short, 5)}
    assert seen <= devices and len(seen) > len(devices) / 2
    with pytest.raises(KeyError):
        build_fleet(["mining"], 1, 5)


def test_every_pack_declares_its_warning_rules():
    from wuxin.services.bootstrap import default_rules

    declared = {rule.scenario for rule in default_rules().values()}
    assert declared == set(scenario_packs())
    for pack in scenario_packs().values():
        assert (pack.folder / "rules.json").is_file(), pack.name


def test_every_pack_declares_anomalies_on_its_own_device_types(models):
    from wuxin.sim.patterns import COMMON_ANOMALIES

    effects = {"silence", "set", "offset", "curve", "skew", "rewrite", "sim"}
    for name, pack in scenario_packs().items():
        declared = getattr(pack.sim(), "ANOMALIES", {})
        assert declared, name
        for kind, spec in {**COMMON_ANOMALIES, **declared}.items():
            assert spec.device_type == "*" or models[spec.device_type].scenario == name, (name, kind)
            assert spec.effect in effects and spec.expect, (name, kind)
            assert spec.effect != "rewrite" or callable(spec.rewrite), (name, kind)
            assert 0 <= spec.duration_s[0] <= spec.duration_s[1], (name, kind)


def test_a_pack_metering_generation_names_the_indicator_its_generation_meters_give():
    """checks.json `generation_indicator` (what the PV sales checks read) is a kWh indicator computed from the pack's
    `meters_generation` devices; the loader accepts every pack's declaration."""
    from wuxin.services.bootstrap import generation_bill_kinds, generation_indicators

    generating = [name for name, pack in scenario_packs().items() if pack.device_types_with("meters_generation")]
    assert generating  # the check has something to look at
    for name in generating:
        pack = scenario_packs()[name]
        named = pack.document("checks.json", {}).get("generation_indicator")
        declared = indicator_packs()[name].get(named)
        assert declared is not None and declared.unit == "kWh", (name, named)
        assert getattr(declared, "device_type", None) in pack.device_types_with("meters_generation"), (name, named)
        assert named in generation_indicators()
    generation_bill_kinds()  # bills and the generation they are held against, validated
