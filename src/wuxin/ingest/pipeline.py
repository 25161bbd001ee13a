"""Validation of lines against each device's thing model: accepted rows and per-point reasons."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from wuxin.domain.text import shown
from wuxin.domain.thing_model import UNKNOWN_PARAMS_KEY, PointRejected, ThingModel
from wuxin.ingest.parse import parse_ts_ms

EARLIEST_MS = 946_684_800_000  # 2000-01-01T00:00:00Z: nothing we lend on is older


@dataclass(frozen=True)
class DeviceContext:
    id: int
    key: str
    model: ThingModel
    source_mode: str


@dataclass
class Rejection:
    index: int  # position of the line in the payload
    device: str | None
    key: str | None  # property or event name; None when the whole line failed
    reason: str
    message: str
    line: Any  # what to keep in quarantine: the single failing point as a line, or the raw item

    def public(self) -> dict:
        return {
            "index": self.index,
            "device": self.device,
            "key": self.key,
            "reason": self.reason,
            "message": self.message,
        }


@dataclass
class IngestWarning:
    """Something stored with a reservation the sender should hear about (not a rejection)."""

    index: int
    device: str
    key: str  # the event name
    reason: str
    message: str
    params: list[str]

    def public(self) -> dict:
        return {
            "index": self.index,
            "device": self.device,
            "key": self.key,
            "reason": self.reason,
            "message": self.message,
            "params": self.params,
        }


@dataclass
class Validated:
    readings: list[tuple] = field(default_factory=list)  # (device_id, key, ts_ms, num, txt)
    events: list[tuple] = field(default_factory=list)  # (device_id, name, ts_ms, params_json)
    rejections: list[Rejection] = field(default_factory=list)
    warnings: list[IngestWarning] = field(default_factory=list)
    last_seen_ms: dict[int, int] = field(default_factory=dict)


def validate_lines(
    lines: Iterable[Any],
    resolve: Callable[[str], DeviceContext | None],
    now_ms: int,
    max_future_ms: int,
    out: Validated | None = None,
    first_index: int = 0,
) -> Validated:
    """Check every line; good points go to `readings`/`events`, bad ones to `rejections`.

    The loop below is the bulk path's hot spot: a plain line (known device, integer ts in
    range, values) is checked inline; anything else takes the careful path, `_validate_line`.
    """
    out = out or Validated()
    latest_ms = now_ms + max_future_ms
    devices: dict[str, DeviceContext | None] = {}
    readings, last_seen = out.readings, out.last_seen_ms
    for index, line in enumerate(lines, first_index):
        if line is None:  # the parser already rejected this line
            continue
        try:
            key_, ts, values = line["device"], line["ts"], line["values"]
            device = devices[key_] if key_ in devices else devices.setdefault(key_, resolve(key_))
        except (KeyError, TypeError):
            device = ts = values = None
        if (
            device is None
            or type(ts) is not int
            or not EARLIEST_MS <= ts <= latest_ms
            or type(values) is not dict
            or not values
        ):
            _validate_line(index, line, resolve, EARLIEST_MS, latest_ms, out)
            continue
        properties, device_id = device.model.properties, device.id
        for key, value in values.items():
            checker = properties.get(key)
            try:
                # model.check raises unknown_property with its message
                num, txt = checker(value) if checker is not None else device.model.check(key, value)
            except PointRejected as exc:
                point = {"device": device.key, "ts": ts, "values": {key: value}}
                out.rejections.append(Rejection(index, device.key, key, exc.reason, f"{device.key}: {exc}", point))
                continue
            readings.append((device_id, key, ts, num, txt))
        if last_seen.get(device_id, 0) < ts:
            last_seen[device_id] = ts
    return out


def _validate_line(index: int, line: Any, resolve, earliest_ms: int, latest_ms: int, out: Validated) -> None:
    if not isinstance(line, dict) or not isinstance(line.get("device"), str):
        out.rejections.append(Rejection(index, None, None, "wrong_shape", "line needs a string 'device'", line))
        return
    device = resolve(line["device"])
    if device is None:
        out.rejections.append(
            Rejection(
                index, line["device"], None, "unknown_device", f"device {shown(line['device'])} is not registered", line
            )
        )
        return
    try:
        ts_ms = parse_ts_ms(line.get("ts"))
    except ValueError as exc:
        out.rejections.append(Rejection(index, device.key, None, "bad_timestamp", str(exc), line))
        return
    if not earliest_ms <= ts_ms <= latest_ms:
        reason = "timestamp_in_future" if ts_ms > latest_ms else "timestamp_too_old"
        out.rejections.append(
            Rejection(
                index,
                device.key,
                None,
                reason,
                f"ts {ts_ms} is outside [{earliest_ms}, {latest_ms}] (2000-01-01 .. now + 24 h)",
                line,
            )
        )
        return
    if "event" in line:
        _validate_event(index, line, device, ts_ms, out)
    else:
        _validate_values(index, line, device, ts_ms, out)


def _validate_values(index: int, line: dict, device: DeviceContext, ts_ms: int, out: Validated) -> None:
    values = line.get("values")
    if not isinstance(values, dict) or not values:
        out.rejections.append(
            Rejection(
                index, device.key, None, "wrong_shape", "line needs a non-empty 'values' object or an 'event'", line
            )
        )
        return
    check = device.model.check
    stored = False
    for key, value in values.items():
        try:
            num, txt = check(key, value)
        except PointRejected as exc:
            point = {"device": device.key, "ts": ts_ms, "values": {key: value}}
            out.rejections.append(Rejection(index, device.key, key, exc.reason, f"{device.key}: {exc}", point))
            continue
        out.readings.append((device.id, key, ts_ms, num, txt))
        stored = True
    if stored and out.last_seen_ms.get(device.id, 0) < ts_ms:
        out.last_seen_ms[device.id] = ts_ms


def _validate_event(index: int, line: dict, device: DeviceContext, ts_ms: int, out: Validated) -> None:
    """A known event is always stored: unlisted params kept under `_unknown` (a warning), a listed param
    with a bad value (or an unlisted one that cannot be kept) quarantined alone and named under `_invalid`."""
    name = line["event"]
    try:
        checked = device.model.check_event(name, line.get("params"))
    except PointRejected as exc:
        out.rejections.append(Rejection(index, device.key, str(name), exc.reason, f"{device.key}: {exc}", line))
        return
    for param, refusal in checked.refused:
        point = {"device": device.key, "ts": ts_ms, "event": name, "params": {param: line["params"][param]}}
        out.rejections.append(
            Rejection(index, device.key, f"{name}.{param}", refusal.reason, f"{device.key}: {refusal}", point)
        )
    if checked.unknown:
        out.warnings.append(
            IngestWarning(
                index,
                device.key,
                name,
                "unknown_params_kept",
                f"{device.key}: event {name} stored; parameters {checked.unknown} are not in the "
                f"thing model of {device.model.device_type}, kept under {UNKNOWN_PARAMS_KEY}",
                checked.unknown,
            )
        )
    out.events.append((device.id, name, ts_ms, orjson.dumps(checked.params).decode()))
    if out.last_seen_ms.get(device.id, 0) < ts_ms:
        out.last_seen_ms[device.id] = ts_ms
