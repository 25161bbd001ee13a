"""Thing models (物模型) in Alibaba Cloud IoT TSL JSON form, and reading validation.

A thing model file describes one device type::

    {"schema": "https://iotx-tsl.oss-ap-southeast-1.aliyuncs.com/schema.json",
     "profile": {"productKey": "manufacturing.current_bracelet", "version": "1"},
     "wuxin": {"scenario": "manufacturing", "label": {"zh": "设备手环", "en": "Current bracelet"},
               "heartbeat_timeout_s": 600, "attributes": [<TSL data items>]},
     "properties": [{"identifier": "current_a", "name": "电流", "accessMode": "r",
                     "dataType": {"type": "float", "specs": {"min": "0", "max": "2000", "unit": "A"}}}],
     "events": [{"identifier": "tamper", "name": "防拆", "type": "alert", "outputData": []}],
     "services": []}

`compile_thing_model` checks the file and returns a `ThingModel` whose `check(key, value)`
turns a reading value into the stored pair (number, text) or raises `PointRejected` with a
reason code and a message naming the property and the value.
"""
from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

import orjson

from wuxin.domain.text import shown, text_fault
from wuxin.errors import ThingModelError

NUMERIC_TYPES = {"int", "float", "double"}
DATA_TYPES = NUMERIC_TYPES | {"bool", "enum", "text", "date", "struct", "array"}
DEVICE_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,49}$")

Stored = tuple[float | None, str | None]
Checker = Callable[[Any], Stored]


class PointRejected(Exception):
    """One point failed validation; `reason` is a stable code, `str()` says why."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ThingModel:
    device_type: str
    scenario: str
    version: str
    properties: dict[str, Checker]
    units: dict[str, str]
    events: dict[str, Callable[[Any], dict]]
    attributes: dict[str, Checker]
    heartbeat_timeout_s: int
    label: dict[str, str] = field(default_factory=dict)
    source: dict = field(default_factory=dict, repr=False, compare=False)

    def check(self, key: str, value: Any) -> Stored:
        checker = self.properties.get(key)
        if checker is None:
            raise PointRejected("unknown_property", f"{self.device_type} has no property {shown(key)}")
        return checker(value)

    def check_event(self, name: str, params: Any) -> dict:
        checker = self.events.get(name)
        if checker is None:
            raise PointRejected("unknown_event", f"{self.device_type} has no event {shown(name)}")
        return checker(params)

    def check_attributes(self, attributes: dict) -> dict:
        for key, value in attributes.items():
            checker = self.attributes.get(key)
            if checker is None:
                raise ThingModelError(f"{self.device_type} has no install attribute {key!r}")
            try:
                checker(value)
            except PointRejected as exc:
                raise ThingModelError(f"attribute {key}: {exc}") from None
        return attributes


def parse_thing_model(raw: bytes | str) -> dict:
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ThingModelError(f"thing model is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ThingModelError("thing model must be a JSON object")
    return doc


def compile_thing_model(doc: dict) -> ThingModel:
    """Validate a TSL document and build its checkers; raises ThingModelError naming the fault."""
    device_type = (doc.get("profile") or {}).get("productKey")
    if not isinstance(device_type, str) or not DEVICE_TYPE_RE.match(device_type):
        raise ThingModelError(f"profile.productKey must be '<scenario>.<type>', got {device_type!r}")
    ext = doc.get("wuxin") or {}
    scenario = ext.get("scenario", device_type.split(".")[0])
    if scenario != device_type.split(".")[0]:
        raise ThingModelError(f"{device_type}: wuxin.scenario {scenario!r} does not match the type's prefix")
    properties = _compile_items(device_type, "properties", doc.get("properties", []))
    attributes = _compile_items(device_type, "wuxin.attributes", ext.get("attributes", []))
    events = {}
    for event in _list(device_type, "events", doc.get("events", [])):
        name = _identifier(device_type, "events", event)
        params = _compile_items(device_type, f"event {name} outputData", event.get("outputData", []))
        events[name] = _event_checker(device_type, name, params)
    for service in _list(device_type, "services", doc.get("services", [])):
        _identifier(device_type, "services", service)
    units = {
        p["identifier"]: str((p["dataType"].get("specs") or {}).get("unit", ""))
        for p in doc.get("properties", [])
        if isinstance(p.get("dataType", {}).get("specs"), dict)
    }
    heartbeat = ext.get("heartbeat_timeout_s", 900)
    if not isinstance(heartbeat, int) or heartbeat <= 0:
        raise ThingModelError(f"{device_type}: wuxin.heartbeat_timeout_s must be a positive integer, got {heartbeat!r}")
    return ThingModel(
        device_type=device_type,
        scenario=scenario,
        version=str((doc.get("profile") or {}).get("version", "1")),
        properties=properties,
        units=units,
        events=events,
        attributes=attributes,
        heartbeat_timeout_s=heartbeat,
        label=dict(ext.get("label") or {}),
        source=doc,
    )


def _list(device_type: str, where: str, items: Any) -> list:
    if not isinstance(items, list):
        raise ThingModelError(f"{device_type}: {where} must be a list, got {type(items).__name__}")
    return items


def _identifier(device_type: str, where: str, item: Any) -> str:
    if not isinstance(item, dict):
        raise ThingModelError(f"{device_type}: every entry of {where} must be an object, got {item!r}")
    ident = item.get("identifier")
    if not isinstance(ident, str) or not IDENTIFIER_RE.match(ident):
        raise ThingModelError(f"{device_type}: {where} identifier {ident!r} is not a valid identifier")
    return ident


def _compile_items(device_type: str, where: str, items: Any) -> dict[str, Checker]:
    checkers: dict[str, Checker] = {}
    for item in _list(device_type, where, items):
        ident = _identifier(device_type, where, item)
        if ident in checkers:
            raise ThingModelError(f"{device_type}: {where} defines {ident!r} twice")
        checkers[ident] = _compile_data_type(device_type, f"{where}.{ident}", item.get("dataType"))
    return checkers


def _spec_number(device_type: str, where: str, specs: dict, name: str) -> float | None:
    raw = specs.get(name)
    if raw is None or raw == "":
        return None
    try:
        number = float(raw)
    except (TypeError, ValueError):
        raise ThingModelError(f"{device_type}: {where} specs.{name} must be a number, got {raw!r}") from None
    if not math.isfinite(number):
        raise ThingModelError(f"{device_type}: {where} specs.{name} must be finite, got {raw!r}")
    return number


def _compile_data_type(device_type: str, where: str, data_type: Any) -> Checker:
    if not isinstance(data_type, dict) or data_type.get("type") not in DATA_TYPES:
        got = data_type.get("type") if isinstance(data_type, dict) else data_type
        raise ThingModelError(f"{device_type}: {where} dataType.type must be one of {sorted(DATA_TYPES)}, got {got!r}")
    kind = data_type["type"]
    specs = data_type.get("specs") or {}
    if kind in NUMERIC_TYPES:
        low = _spec_number(device_type, where, specs, "min")
        high = _spec_number(device_type, where, specs, "max")
        if low is not None and high is not None and low > high:
            raise ThingModelError(f"{device_type}: {where} min {low} is above max {high}")
        return _numeric_checker(where.rsplit(".", 1)[-1], kind == "int", low, high)
    if kind == "bool":
        return _bool_checker(where.rsplit(".", 1)[-1])
    if kind == "enum":
        if not isinstance(specs, dict) or not specs:
            raise ThingModelError(f"{device_type}: {where} enum needs specs {{code: label}}")
        try:
            labels = {int(code): str(label) for code, label in specs.items()}
        except ValueError:
            raise ThingModelError(f"{device_type}: {where} enum codes must be integers, got {list(specs)}") from None
        return _enum_checker(where.rsplit(".", 1)[-1], labels)
    if kind in ("text", "date"):
        length = int(_spec_number(device_type, where, specs, "length") or 2048)
        return _text_checker(where.rsplit(".", 1)[-1], length)
    if kind == "struct":
        fields = _compile_items(device_type, where, specs if isinstance(specs, list) else [])
        return _struct_checker(where.rsplit(".", 1)[-1], fields)
    item = specs.get("item") if isinstance(specs, dict) else None
    item_checker = _compile_data_type(device_type, f"{where}[]", item)
    size = int(_spec_number(device_type, where, specs, "size") or 512)
    return _array_checker(where.rsplit(".", 1)[-1], item_checker, size)


def _numeric_checker(key: str, integer: bool, low: float | None, high: float | None) -> Checker:
    lowest = -sys.float_info.max if low is None else low  # finite bounds: NaN and ±inf fail the fast test
    highest = sys.float_info.max if high is None else high

    def check(value: Any) -> Stored:
        kind = type(value)
        if (kind is float and not integer or kind is int) and lowest <= value <= highest:
            return float(value), None  # the common case, decided in one line
        return _numeric_failure(key, value, integer, low, high)

    return check


def _numeric_failure(key: str, value: Any, integer: bool, low: float | None, high: float | None) -> Stored:
    """The careful path: say exactly why a value is not an acceptable number."""
    if type(value) is bool or not isinstance(value, (int, float)):
        raise PointRejected("wrong_type", f"{key}={shown(value)} is not a number")
    if value != value or value in (math.inf, -math.inf):
        raise PointRejected("not_finite", f"{key}={shown(value)} is not a finite number")
    if integer and isinstance(value, float) and not value.is_integer():
        raise PointRejected("wrong_type", f"{key}={shown(value)} is not an integer")
    if (low is not None and value < low) or (high is not None and value > high):
        raise PointRejected("out_of_range", f"{key}={shown(value)} is outside [{low}, {high}]")
    return float(value), None


def _bool_checker(key: str) -> Checker:
    def check(value: Any) -> Stored:
        if type(value) is bool:
            return float(value), None
        if type(value) is int and value in (0, 1):
            return float(value), None
        raise PointRejected("wrong_type", f"{key}={shown(value)} is not a boolean")

    return check


def _enum_checker(key: str, labels: dict[int, str]) -> Checker:
    codes = {label: code for code, label in labels.items()}

    def check(value: Any) -> Stored:
        if isinstance(value, str) and value in codes:
            return float(codes[value]), value
        if type(value) is int and value in labels:
            return float(value), labels[value]
        raise PointRejected("bad_enum", f"{key}={shown(value)} is not one of {sorted(codes)}")

    return check


def _text_checker(key: str, length: int) -> Checker:
    def check(value: Any) -> Stored:
        if not isinstance(value, str):
            raise PointRejected("wrong_type", f"{key}={shown(value)} is not text")
        if len(value) > length:
            raise PointRejected("too_long", f"{key} is {len(value)} characters, more than {length}")
        fault = text_fault(value)
        if fault:
            raise PointRejected("invalid_text", f"{key}={shown(value)} {fault}: no database keeps it")
        return None, value

    return check


def _struct_checker(key: str, fields: dict[str, Checker]) -> Checker:
    def check(value: Any) -> Stored:
        if not isinstance(value, dict):
            raise PointRejected("wrong_type", f"{key}={shown(value)} is not an object")
        for name, item in value.items():
            if name not in fields:
                raise PointRejected("unknown_property", f"{key} has no field {shown(name)}")
            fields[name](item)
        return None, orjson.dumps(value).decode()

    return check


def _array_checker(key: str, item_checker: Checker, size: int) -> Checker:
    def check(value: Any) -> Stored:
        if not isinstance(value, list):
            raise PointRejected("wrong_type", f"{key}={shown(value)} is not a list")
        if len(value) > size:
            raise PointRejected("too_long", f"{key} has {len(value)} items, more than {size}")
        for item in value:
            item_checker(item)
        return None, orjson.dumps(value).decode()

    return check


def _event_checker(device_type: str, name: str, params: dict[str, Checker]) -> Callable[[Any], dict]:
    def check(value: Any) -> dict:
        value = {} if value is None else value
        if not isinstance(value, dict):
            raise PointRejected("wrong_type", f"event {name} params {shown(value)} is not an object")
        for key, item in value.items():
            checker = params.get(key)
            if checker is None:
                raise PointRejected("unknown_property", f"event {device_type}/{name} has no parameter {shown(key)}")
            checker(item)
        return value

    return check
