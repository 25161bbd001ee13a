"""Thing models: the TSL checker refuses bad files with a reason and checks values by type."""

from __future__ import annotations

import copy

import pytest

from wuxin.domain.thing_model import PointRejected, compile_thing_model
from wuxin.errors import ThingModelError
from wuxin.scenarios import builtin_thing_models, scenario_packs

BASE = {
    "profile": {"productKey": "demo.widget", "version": "1"},
    "properties": [
        {"identifier": "temp_c", "dataType": {"type": "float", "specs": {"min": "-40", "max": "85", "unit": "°C"}}},
        {"identifier": "count", "dataType": {"type": "int", "specs": {"min": "0"}}},
        {"identifier": "on", "dataType": {"type": "bool", "specs": {"0": "off", "1": "on"}}},
        {"identifier": "status", "dataType": {"type": "enum", "specs": {"0": "normal", "1": "fault"}}},
        {"identifier": "label", "dataType": {"type": "text", "specs": {"length": "5"}}},
        {"identifier": "tags", "dataType": {"type": "array", "specs": {"size": "2", "item": {"type": "text"}}}},
        {
            "identifier": "pos",
            "dataType": {"type": "struct", "specs": [{"identifier": "x", "dataType": {"type": "double", "specs": {}}}]},
        },
    ],
    "events": [
        {"identifier": "fault", "outputData": [{"identifier": "code", "dataType": {"type": "int", "specs": {}}}]}
    ],
}


def model():
    return compile_thing_model(copy.deepcopy(BASE))


@pytest.mark.parametrize(
    "key, value, stored",
    [
        ("temp_c", 21.5, (21.5, None)),
        ("temp_c", -40, (-40.0, None)),
        ("count", 3, (3.0, None)),
        ("on", True, (1.0, None)),
        ("on", 0, (0.0, None)),
        ("status", "fault", (1.0, "fault")),
        ("status", 0, (0.0, "normal")),
        ("label", "abc", (None, "abc")),
        ("tags", ["a", "b"], (None, '["a","b"]')),
        ("pos", {"x": 1.5}, (None, '{"x":1.5}')),
    ],
)
def test_values_are_stored_by_type(key, value, stored):
    assert model().check(key, value) == stored


@pytest.mark.parametrize(
    "key, value, reason",
    [
        ("temp_c", 86, "out_of_range"),
        ("temp_c", "21", "wrong_type"),
        ("temp_c", True, "wrong_type"),
        ("temp_c", float("nan"), "not_finite"),
        ("temp_c", float("inf"), "not_finite"),
        ("count", 1.5, "wrong_type"),
        ("count", -1, "out_of_range"),
        ("on", 2, "wrong_type"),
        ("status", "broken", "bad_enum"),
        ("label", "toolong", "too_long"),
        ("tags", ["a", "b", "c"], "too_long"),
        ("tags", [1], "wrong_type"),
        ("pos", {"y": 1}, "unknown_property"),
        ("nope", 1, "unknown_property"),
    ],
)
def test_bad_values_are_refused_with_a_reason_naming_the_property(key, value, reason):
    with pytest.raises(PointRejected) as caught:
        model().check(key, value)
    assert caught.value.reason == reason and key in str(caught.value)


def test_event_params_are_checked():
    assert model().check_event("fault", {"code": 3}).params == {"code": 3}
    bad = model().check_event("fault", {"code": "x"})  # the event is kept, the bad param refused and named
    assert bad.params == {"_invalid": ["code"]} and [(k, e.reason) for k, e in bad.refused] == [("code", "wrong_type")]
    extra = model().check_event("fault", {"code": 3, "door": "open"})
    assert extra.params == {"code": 3, "_unknown": {"door": "open"}} and extra.unknown == ["door"]
    with pytest.raises(PointRejected):
        model().check_event("fault", "not an object")
    with pytest.raises(PointRejected):
        model().check_event("meltdown", {})


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["profile"].update(productKey="widget"), "productKey"),
        (lambda d: d["properties"][0]["dataType"].update(type="decimal"), "decimal"),
        (lambda d: d["properties"][0]["dataType"]["specs"].update(min="100"), "above max"),
        (lambda d: d["properties"].append(copy.deepcopy(d["properties"][0])), "twice"),
        (lambda d: d["properties"][0].update(identifier="temp c"), "temp c"),
        (lambda d: d["properties"][3]["dataType"].update(specs={"a": "x"}), "integers"),
        (lambda d: d.update(properties={}), "must be a list"),
    ],
)
def test_bad_thing_models_are_refused_with_the_fault_named(mutate, message):
    doc = copy.deepcopy(BASE)
    mutate(doc)
    with pytest.raises(ThingModelError) as caught:
        compile_thing_model(doc)
    assert message in str(caught.value)


def test_every_builtin_type_has_the_common_properties_and_events():
    models = builtin_thing_models()
    assert len(models) >= 21 and {m.scenario for m in models} == set(scenario_packs())
    for m in models:
        assert {"battery_pct", "rssi_dbm"} <= set(m.properties), m.device_type
        assert {"tamper", "power_lost", "reboot"} <= set(m.events), m.device_type
