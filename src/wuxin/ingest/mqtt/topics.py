"""MQTT topics and device dialects (ThingsBoard, ThingsBoard gateway, Alibaba Alink) -> bulk lines. Pure.

The broker knows a device only by its authenticated username, so every topic a device may
publish to carries its own key, and the broker's ACL (dynamic security) binds it::

    v1/devices/{key}/telemetry               ThingsBoard telemetry
    v1/devices/{key}/attributes              ThingsBoard client attributes (readings at receive time)
    v1/gateway/{key}/telemetry|attributes    ThingsBoard gateway API, for sub-devices behind {key}
    v1/gateway/{key}/connect|disconnect      a sub-device came / went ({"device": child})
    /sys/{device_type}/{key}/thing/event/property/post     Alink properties
    /sys/{device_type}/{key}/thing/event/{event}/post      Alink event
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from wuxin.ingest.parse import PayloadError, loads, thingsboard_lines

THINGSBOARD, GATEWAY, ALINK = "thingsboard", "thingsboard_gateway", "alink"
ALINK_REPLY_ALL = "/sys/+/+/thing/event/+/post_reply"


@dataclass(frozen=True)
class Route:
    """What a topic says: dialect, kind of message and the publishing device (bound by the ACL)."""

    dialect: str
    kind: str  # telemetry | attributes | connect | disconnect | property | event
    device: str  # the authenticated device (for a gateway: the gateway itself)
    product_key: str | None = None  # Alink: the device type
    identifier: str | None = None  # Alink: "property" or the event name


@dataclass
class Decoded:
    """One message as bulk lines, plus what the message says besides readings."""

    lines: list[dict] = field(default_factory=list)
    children: list[str] = field(default_factory=list)  # gateway messages: sub-devices named
    connected: list[str] = field(default_factory=list)
    disconnected: list[str] = field(default_factory=list)
    reply_to: tuple[str, Any, str] | None = None  # Alink: (reply topic, request id, method)


def device_publish_topics(device_key: str, device_type: str) -> list[str]:
    """The topics the broker lets this device publish to."""
    return [
        f"v1/devices/{device_key}/telemetry",
        f"v1/devices/{device_key}/attributes",
        f"v1/gateway/{device_key}/telemetry",
        f"v1/gateway/{device_key}/attributes",
        f"v1/gateway/{device_key}/connect",
        f"v1/gateway/{device_key}/disconnect",
        f"/sys/{device_type}/{device_key}/thing/event/+/post",
    ]


def alink_reply_filter(device_key: str, device_type: str) -> str:
    return f"/sys/{device_type}/{device_key}/thing/event/+/post_reply"


def worker_filters() -> list[str]:
    """What the ingestion workers subscribe to (each under $share/{group}/)."""
    return ["v1/devices/+/telemetry", "v1/devices/+/attributes", "v1/gateway/+/+", "/sys/+/+/thing/event/+/post"]


@functools.lru_cache(maxsize=100_000)  # a device publishes on the same few topics; Route is immutable
def parse_topic(topic: str) -> Route | None:
    """The route of a device topic, or None for anything else."""
    parts = topic.split("/")
    if len(parts) == 4 and parts[0] == "v1" and parts[1] == "devices" and parts[3] in ("telemetry", "attributes"):
        return Route(THINGSBOARD, parts[3], parts[2]) if parts[2] not in ("", "me") else None
    if len(parts) == 4 and parts[0] == "v1" and parts[1] == "gateway" and parts[2]:
        if parts[3] in ("telemetry", "attributes", "connect", "disconnect"):
            return Route(GATEWAY, parts[3], parts[2])
        return None
    if (
        len(parts) == 8
        and parts[0] == ""
        and parts[1] == "sys"
        and parts[4:6] == ["thing", "event"]
        and parts[7] == "post"
    ):
        if parts[2] and parts[3] and parts[6]:
            kind = "property" if parts[6] == "property" else "event"
            return Route(ALINK, kind, parts[3], parts[2], parts[6])
    return None


def decode(route: Route, payload: bytes, server_ms: int) -> Decoded:
    """Bulk lines of one message; raises PayloadError when the payload is unusable."""
    body = loads(payload)
    if route.dialect == THINGSBOARD:
        return _thingsboard(route, body, server_ms)
    if route.dialect == GATEWAY:
        return _gateway(route, body, server_ms)
    return _alink(route, body, server_ms)


def _thingsboard(route: Route, body: Any, server_ms: int) -> Decoded:
    if route.kind == "attributes":
        return Decoded([{"device": route.device, "ts": server_ms, "values": _object(body, "attributes")}])
    return Decoded(thingsboard_lines(route.device, body, server_ms))


def _gateway(route: Route, body: Any, server_ms: int) -> Decoded:
    body = _object(body, f"gateway {route.kind}")
    if route.kind in ("connect", "disconnect"):
        child = body.get("device")
        if not isinstance(child, str) or not child:
            raise PayloadError("wrong_shape", f'gateway {route.kind} needs {{"device": name}}, got {body!r:.200}')
        out = Decoded(children=[child])
        (out.connected if route.kind == "connect" else out.disconnected).append(child)
        return out
    out = Decoded(children=list(body))
    for child, items in body.items():
        if route.kind == "attributes":
            out.lines.append({"device": child, "ts": server_ms, "values": _object(items, f"attributes of {child}")})
        else:
            out.lines.extend(thingsboard_lines(child, items, server_ms))
    return out


def _alink(route: Route, body: Any, server_ms: int) -> Decoded:
    body = _object(body, "Alink request")
    params = body.get("params")
    method = body.get("method") or f"thing.event.{route.identifier}.post"
    reply = (
        f"/sys/{route.product_key}/{route.device}/thing/event/{route.identifier}/post_reply",
        body.get("id"),
        method,
    )
    if route.kind == "property":
        return Decoded(_alink_properties(route.device, _object(params, "Alink params"), server_ms), reply_to=reply)
    params = _object(params, "Alink event params")
    ts = params.get("time", server_ms)
    value = params.get("value", {})
    line = {"device": route.device, "ts": ts, "event": route.identifier, "params": value}
    return Decoded([line], reply_to=reply)


def _alink_properties(device: str, params: dict, server_ms: int) -> list[dict]:
    """Alink params: {k: v} at receive time, or {k: {"value": v, "time": ms}} grouped by time."""
    by_time: dict[Any, dict] = {}
    for key, item in params.items():
        if isinstance(item, dict) and "value" in item:
            by_time.setdefault(item.get("time", server_ms), {})[key] = item["value"]
        else:
            by_time.setdefault(server_ms, {})[key] = item
    return [{"device": device, "ts": ts, "values": values} for ts, values in by_time.items()]


def alink_reply(request_id: Any, method: str, code: int, message: str) -> dict:
    """The Alink answer on the _reply topic (200 = accepted, 460 = a parameter was refused)."""
    return {"id": request_id, "code": code, "data": {}, "message": message, "method": method, "version": "1.0"}


def _object(value: Any, what: str) -> dict:
    if not isinstance(value, dict):
        raise PayloadError("wrong_shape", f"{what} is {type(value).__name__}, expected an object")
    return value
