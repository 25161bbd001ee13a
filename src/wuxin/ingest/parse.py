"""Bytes -> bulk-import lines. Pure: no database, no clock except the one passed in.

Every channel (HTTP ThingsBoard payloads, JSON Lines files, MQTT, JT/T 808, platform push)
turns its input into *lines* of the one bulk format of docs/scenarios.md::

    {"device": key, "ts": epoch_ms | ISO 8601 with offset, "values": {...}}
    {"device": key, "ts": ..., "event": name, "params": {...}}
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import orjson

from wuxin.domain.text import shown, text_fault

MAX_DEPTH = 64  # levels of JSON nesting the stdlib fallback accepts (orjson stops at 1,024)


class PayloadError(ValueError):
    """The whole payload is unusable (malformed JSON, wrong shape); `reason` is a stable code."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def loads(body: bytes | str) -> Any:
    """Parse JSON; NaN and Infinity parse (to be refused point by point), anything else malformed fails.

    orjson refuses lone surrogates and nesting deeper than 1,024; the stdlib fallback, there for
    NaN and Infinity only, is held to the same and stricter: valid Unicode, at most MAX_DEPTH deep.
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    return lenient_loads(body)


def strict_loads(body: bytes | str) -> Any:
    """Parse JSON as the standard has it: NaN and Infinity are refused (a device's answer to a command is stored
    whole, so it must be JSON any reader can parse)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise PayloadError("malformed", f"not JSON (NaN and Infinity are not JSON): {exc}") from None


def lenient_loads(body: bytes | str) -> Any:
    """The stdlib parser (it reads NaN and Infinity), refusing what no store could keep."""
    try:
        payload = json.loads(body)
    except RecursionError:
        raise PayloadError("too_deep", f"JSON is nested deeper than {MAX_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError("malformed_json", f"body is not valid JSON: {exc}") from None
    check_tree(payload)
    return payload


def check_tree(payload: Any) -> None:
    """Raise PayloadError when `payload` nests deeper than MAX_DEPTH or holds a string no database keeps
    (a lone surrogate; NUL is refused point by point, where it is a value)."""
    pending = [(payload, "$", 1)]
    while pending:
        node, where, depth = pending.pop()
        if isinstance(node, str):
            if not node.isascii() and "surrogate" in (text_fault(node) or ""):
                raise PayloadError("invalid_unicode", f"string at {where} {text_fault(node)}: {shown(node)}")
            continue
        if not isinstance(node, (dict, list)):
            continue
        if depth > MAX_DEPTH:
            raise PayloadError("too_deep", f"JSON is nested deeper than {MAX_DEPTH} levels (at {shown(where)})")
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            path = f"{where}.{key}" if isinstance(key, str) else f"{where}[{key}]"
            if isinstance(key, str):
                pending.append((key, f"{where} (a key)", depth))
            pending.append((value, path, depth + 1))


def thingsboard_lines(device_key: str, payload: Any, server_ms: int) -> list[dict]:
    """ThingsBoard telemetry: {"ts", "values"}, a list of those, or bare {key: value} at server time.

    As an extension, an item {"ts", "event", "params"} is an event.
    """
    items = payload if isinstance(payload, list) else [payload]
    lines = []
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise PayloadError("wrong_shape", f"telemetry item {position} is {type(item).__name__}, expected an object")
        if "event" in item:
            lines.append(
                {
                    "device": device_key,
                    "ts": item.get("ts", server_ms),
                    "event": item["event"],
                    "params": item.get("params", {}),
                }
            )
        elif "values" in item and set(item) <= {"ts", "values"}:
            lines.append({"device": device_key, "ts": item.get("ts", server_ms), "values": item["values"]})
        elif item or len(items) > 1:
            lines.append({"device": device_key, "ts": server_ms, "values": item})
        # a lone {} is ThingsBoard's "nothing to say" (its HTTP client's connection test): no line, no refusal
    return lines


def parse_ts_ms(ts: Any) -> int:
    """Epoch milliseconds from an integer or an ISO 8601 string with its UTC offset."""
    if type(ts) is int:
        return ts
    if isinstance(ts, float) and ts.is_integer():
        return int(ts)
    if isinstance(ts, str):
        try:
            moment = datetime.fromisoformat(ts.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"ts {shown(ts)} is not ISO 8601") from None
        if moment.tzinfo is None:
            raise ValueError(f"ts {shown(ts)} has no UTC offset (device time must say its zone)")
        return int(moment.timestamp() * 1000)
    raise ValueError(f"ts {shown(ts)} is neither epoch milliseconds nor ISO 8601")
