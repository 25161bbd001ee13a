"""Thing models (物模型) in Alibaba Cloud IoT TSL JSON form, and reading validation.

A thing model file describes one device type::

    {"schema": "https://iotx-tsl.oss-ap-southeast-1.aliyuncs.com/schema.json",
     "profile": {"productKey": "textiles.current_bracelet", "version": "1"},
     "wuxin": {"scenario": "textiles", "label": {"zh": "设备手环", "en": "Current bracelet"},
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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from wuxin.domain.text import shown, text_fault
from wuxin.errors import ThingModelError

NUMERIC_TYPES = {"int", "float", "double"}
DATA_TYPES = NUMERIC_TYPES | {"bool", "enum", "text", "date", "struct", "array"}
DEVICE_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
PRODUCT_KEY_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")  # a Wuxin device type, or Alibaba's productKey as exported
IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,49}$")
MAX_UNDECLARED_ATTRIBUTES = 50

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
    events: dict[str, Callable[[Any], CheckedEvent]]
    attributes: dict[str, Checker]
    heartbeat_timeout_s: int
    label: dict[str, str] = field(default_factory=dict)
    source: dict = field(default_factory=dict, repr=False, compare=False)

    def check(self, key: str, value: Any) -> Stored:
        checker = self.properties.get(key)
        if checker is None:
            raise PointRejected("unknown_property", f"{self.device_type} has no property {shown(key)}")
        return checker(value)

    def check_event(self, name: str, params: Any) -> CheckedEvent:
        checker = self.events.get(name)
        if checker is None:
            raise PointRejected("unknown_event", f"{self.device_type} has no event {shown(name)}")
        return checker(params)

    def check_attributes(self, attributes: dict) -> dict:
        """Declared attributes keep their checks; undeclared ones are kept as sent, within bounds
        (identifier names, at most MAX_UNDECLARED_ATTRIBUTES, each at most EXTRA_VALUE_BYTES of JSON)."""
        undeclared = self.undeclared_attributes(attributes)
        if len(undeclared) > MAX_UNDECLARED_ATTRIBUTES:
            raise ThingModelError(
                f"{self.device_type}: {len(undeclared)} install attributes not in its thing model, "
                f"more than {MAX_UNDECLARED_ATTRIBUTES}: {undeclared[:5]}..."
            )
        for key, value in attributes.items():
            checker = self.attributes.get(key)
            fault = extra_value_fault(key, value) if checker is None else None
            if fault:
                raise ThingModelError(f"{self.device_type}: undeclared install attribute {fault}")
            try:
                if checker is not None:
                    checker(value)
            except PointRejected as exc:
                raise ThingModelError(f"attribute {key}: {exc}") from None
        return attributes

    def undeclared_attributes(self, attributes: dict | None) -> list[str]:
        """Names of install attributes the thing model does not declare (kept, usable by rules, not checked)."""
        return sorted(str(k) for k in (attributes or {}) if k not in self.attributes)


def parse_thing_model(raw: bytes | str) -> dict:
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ThingModelError(f"thing model is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ThingModelError("thing model must be a JSON object")
    return doc


def compile_thing_model(doc: dict, device_type: str | None = None) -> ThingModel:
    """Validate a TSL document and build its checkers; raises ThingModelError naming the fault.

    The device type is `device_type` when given (an Alibaba export, whose productKey is Alibaba's own), else
    profile.productKey, which must then be '<scenario>.<type>'."""
    if device_type is None:
        device_type = (doc.get("profile") or {}).get("productKey")
        if not isinstance(device_type, str) or not DEVICE_TYPE_RE.match(device_type):
            raise ThingModelError(
                f"profile.productKey must be '<scenario>.<type>' unless the device type is given "
                f"at import, got {device_type!r}"
            )
    elif not DEVICE_TYPE_RE.match(device_type):
        raise ThingModelError(f"device type must be '<scenario>.<type>' (lower case, digits, _), got {device_type!r}")
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


def service_input_checkers(device_type: str, service: dict) -> dict[str, Checker]:
    """Checkers of a TSL service's inputData, by identifier (what a command invoking the service may carry)."""
    name = _identifier(device_type, "services", service)
    return _compile_items(device_type, f"service {name} inputData", service.get("inputData", []))


def _compile_items(device_type: str, where: str, items: Any) -> dict[str, Checker]:
    checkers: dict[str, Checker] = {}
    for item in _list(device_type, where, items):
        ident = _identifier(device_type, where, item)
        if ident in checkers:
            raise ThingModelError(f"{device_type}: {where} defines {ident!r} twice")
        noise = _noise_below_min(device_type, f"{where}.{ident}", item)
        checkers[ident] = _compile_data_type(device_type, f"{where}.{ident}", item.get("dataType"), noise)
    return checkers


def _noise_below_min(device_type: str, where: str, item: dict) -> float:
    """The property's `wuxin.noise_below_min` (in its unit): how far below `min` a reading is still a real
    measurement (standby draw, sensor noise) and stored as measured; 0 when not declared."""
    ext = item.get("wuxin") or {}
    if not isinstance(ext, dict):
        raise ThingModelError(f"{device_type}: {where} wuxin must be an object, got {ext!r}")
    noise = _spec_number(device_type, f"{where} wuxin", ext, "noise_below_min") or 0.0
    if noise < 0:
        raise ThingModelError(f"{device_type}: {where} wuxin.noise_below_min must be >= 0, got {noise}")
    return noise


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


def _compile_data_type(device_type: str, where: str, data_type: Any, noise_below_min: float = 0.0) -> Checker:
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
        if noise_below_min and low is None:
            raise ThingModelError(f"{device_type}: {where} wuxin.noise_below_min needs a specs.min")
        accept_low = low - noise_below_min if low is not None else None
        return _numeric_checker(where.rsplit(".", 1)[-1], kind == "int", accept_low, high)
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


UNKNOWN_PARAMS_KEY = "_unknown"  # stored event params: parameters the thing model does not list, kept as sent
INVALID_PARAMS_KEY = "_invalid"  # stored event params: names of listed parameters refused (each quarantined)
EXTRA_VALUE_BYTES = 1024  # one undeclared parameter or install attribute, as JSON


@dataclass
class CheckedEvent:
    """An event the thing model knows: what to store, and what was set aside (never the whole event)."""

    params: dict  # valid listed params, plus _unknown {name: value} and _invalid [names] when there are any
    unknown: list[str] = field(default_factory=list)  # names kept under _unknown: a warning to the sender
    refused: list[tuple[str, PointRejected]] = field(default_factory=list)  # listed or unkeepable params


def extra_value_fault(name: Any, value: Any) -> str | None:
    """Why an undeclared name/value cannot be kept as sent (bad name, not JSON, too large, unstorable text), or None."""
    if not isinstance(name, str) or not IDENTIFIER_RE.match(name):
        return f"name {shown(name)} is not an identifier (letters, digits, _; at most 50)"
    try:
        encoded = orjson.dumps(value)
    except (orjson.JSONEncodeError, TypeError):
        return f"{name}={shown(value)} is not plain JSON"
    if len(encoded) > EXTRA_VALUE_BYTES:
        return f"{name} is {len(encoded)} bytes of JSON, more than {EXTRA_VALUE_BYTES}"
    if b"\\u0000" in encoded or text_fault(encoded.decode()):
        return f"{name}={shown(value)} holds text no database keeps"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{name}={shown(value)} is not a finite number"
    return None


def _event_checker(device_type: str, name: str, params: dict[str, Checker]) -> Callable[[Any], CheckedEvent]:
    def check(value: Any) -> CheckedEvent:
        value = {} if value is None else value
        if not isinstance(value, dict):
            raise PointRejected("wrong_type", f"event {name} params {shown(value)} is not an object")
        out = CheckedEvent({})
        unknown: dict[str, Any] = {}
        for key, item in value.items():
            checker = params.get(key)
            try:
                if checker is not None:
                    checker(item)
                    out.params[key] = item
                    continue
                fault = extra_value_fault(key, item)
                if fault:
                    raise PointRejected("unknown_property", f"event {device_type}/{name}: unlisted parameter {fault}")
                unknown[key] = item
            except PointRejected as exc:
                out.refused.append((str(key), exc))
        if unknown:
            out.params[UNKNOWN_PARAMS_KEY] = unknown
            out.unknown = list(unknown)
        if out.refused:
            out.params[INVALID_PARAMS_KEY] = [k for k, _ in out.refused]
        return out

    return check
