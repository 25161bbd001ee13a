"""MQTT use case: a batch of broker messages -> one transaction (readings, events, quarantine, connectivity)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import NamedTuple

import orjson

from wuxin.bootstrap import Platform
from wuxin.ingest.mqtt import topics
from wuxin.ingest.parse import PayloadError
from wuxin.ingest.pipeline import Rejection, Validated, validate_lines
from wuxin.services.devices.connectivity import record_presence
from wuxin.services.ingest.device_sdk import attribute_rows, split_attributes
from wuxin.services.ingest.isolation import store_isolating
from wuxin.services.ingest.telemetry import (
    DeviceResolver,
    IngestResult,
    merge_results,
    quarantine_payload,
    quarantine_unstorable,
    store_validated,
)

CHANNEL = "mqtt"


class Inbound(NamedTuple):
    """One message as received from the broker."""

    topic: str
    payload: bytes
    received_ms: int | None = None  # the front end's receive time (stream path): a redelivery stamps the same


@dataclass
class BatchOutcome:
    result: IngestResult
    replies: list[tuple[str, bytes]] = field(default_factory=list)  # Alink answers to publish after commit
    quarantined_payloads: int = 0


@dataclass
class _Message:
    route: topics.Route
    decoded: topics.Decoded
    first_line: int
    last_line: int  # exclusive


def store_mqtt_batch(platform: Platform, messages: list[Inbound]) -> BatchOutcome:
    """Decode, check who may publish for whom, validate and store every message in one transaction.

    Called before the messages are acknowledged to the broker; a redelivered batch is harmless
    because readings are idempotent on (device, key, device time). A message that still makes the
    store fail (on its data: the database answers) is quarantined as store_failed and the others are
    stored, so the worker acknowledges and moves on; a database that is down raises (retry later).
    """

    def quarantine_message(index: int, error: Exception) -> BatchOutcome:
        message = messages[index]
        route = topics.parse_topic(message.topic)
        quarantine_unstorable(
            platform,
            CHANNEL,
            {"topic": message.topic, "payload": message.payload.decode("utf-8", errors="replace")},
            error,
            route.device if route else None,
            f"message on {message.topic}",
        )
        return BatchOutcome(IngestResult(None), quarantined_payloads=1)

    outcomes = store_isolating(
        len(messages), lambda start, end: _store_batch(platform, messages[start:end]), quarantine_message
    )
    return (
        outcomes[0]
        if len(outcomes) == 1
        else BatchOutcome(
            merge_results([o.result for o in outcomes]),
            [r for o in outcomes for r in o.replies],
            sum(o.quarantined_payloads for o in outcomes),
        )
    )


def _store_batch(platform: Platform, messages: list[Inbound]) -> BatchOutcome:
    now_ms = platform.clock_ms()
    lines: list = []
    parsed: list[_Message] = []
    bad: list[tuple[Inbound, str, str, str | None]] = []
    for message in messages:
        route = topics.parse_topic(message.topic)
        if route is None:
            bad.append((message, "unknown_topic", f"topic {message.topic!r} is not a device topic", None))
            continue
        try:
            decoded = topics.decode(route, message.payload, message.received_ms or now_ms)
        except PayloadError as exc:
            bad.append((message, exc.reason, f"{route.device} on {message.topic}: {exc}", route.device))
            continue
        parsed.append(_Message(route, decoded, len(lines), len(lines) + len(decoded.lines)))
        lines.extend(decoded.lines)
    with platform.uow() as uow:
        validated = Validated()
        resolver = DeviceResolver(platform, uow)
        resolver.prime(
            {line["device"] for line in lines if isinstance(line.get("device"), str)} | {m.route.device for m in parsed}
        )
        _refuse_impostors(uow, parsed, lines, resolver, validated)
        _store_undeclared_attributes(uow, parsed, lines, resolver, now_ms, validated)
        validate_lines(lines, resolver, now_ms, platform.settings.max_future_skew_s * 1000, out=validated)
        sha = hashlib.sha256(b"".join(m.payload for m in messages)).hexdigest()
        result = store_validated(platform, uow, validated, CHANNEL, None, sha)
        for message, reason, text, device in bad:
            quarantine_payload(
                platform,
                uow,
                CHANNEL,
                reason,
                text,
                {"topic": message.topic, "payload": message.payload.decode("utf-8", errors="replace")},
                device,
            )
        _presence(platform, uow, parsed, resolver, now_ms)
        uow.commit()
    return BatchOutcome(result, _alink_replies(parsed, result.rejections), len(bad))


def _refuse_impostors(uow, parsed: list[_Message], lines: list, resolver: DeviceResolver, out: Validated) -> None:
    """A gateway speaks only for its registered sub-devices; an Alink product key must be the device's type."""
    children = uow.protocols.children_by_gateway_key() if any(m.route.dialect == topics.GATEWAY for m in parsed) else {}
    for message in parsed:
        route = message.route
        if route.dialect == topics.GATEWAY:
            allowed = children.get(route.device, set())
            for index in range(message.first_line, message.last_line):
                child = lines[index].get("device")
                if child not in allowed:
                    out.rejections.append(
                        Rejection(
                            index,
                            child,
                            None,
                            "not_behind_gateway",
                            f"{child!r} is not registered behind gateway {route.device!r}",
                            lines[index],
                        )
                    )
                    lines[index] = None
            message.decoded.connected = [c for c in message.decoded.connected if c in allowed]
            message.decoded.disconnected = [c for c in message.decoded.disconnected if c in allowed]
        elif route.dialect == topics.ALINK:
            device = resolver(route.device)
            if device is not None and device.model.device_type != route.product_key:
                for index in range(message.first_line, message.last_line):
                    out.rejections.append(
                        Rejection(
                            index,
                            route.device,
                            None,
                            "product_mismatch",
                            f"{route.device} is a {device.model.device_type}, not product {route.product_key!r}",
                            lines[index],
                        )
                    )
                    lines[index] = None


def _store_undeclared_attributes(
    uow, parsed: list[_Message], lines: list, resolver: DeviceResolver, now_ms: int, out: Validated
) -> None:
    """ThingsBoard client attributes the device's thing model does not declare are kept as attributes (the
    latest value per key); the declared ones go on as readings. A line left with nothing declared is done."""
    rows = []
    for message in parsed:
        if message.route.kind != "attributes":
            continue
        for index in range(message.first_line, message.last_line):
            line = lines[index]
            device = resolver(line["device"]) if line is not None and isinstance(line.get("device"), str) else None
            if device is None or not isinstance(line.get("values"), dict):
                continue
            declared, undeclared = split_attributes(device.model, line["values"])
            if not undeclared:
                continue
            stored, refused = attribute_rows(device.id, undeclared, now_ms)
            rows.extend(stored)
            out.rejections.extend(
                Rejection(
                    index,
                    device.key,
                    key,
                    "bad_attribute",
                    message,
                    {"device": device.key, "ts": now_ms, "attribute": key},
                )
                for key, message in refused
            )
            if declared:
                lines[index] = {**line, "values": declared}
            else:
                lines[index] = None
    uow.protocols.upsert_attributes(rows)


def _presence(platform: Platform, uow, parsed: list[_Message], resolver: DeviceResolver, now_ms: int) -> None:
    """Gateway connect/disconnect messages move their sub-devices online/offline."""
    changes = []
    for message in parsed:
        for child, state in [(c, "online") for c in message.decoded.connected] + [
            (c, "offline") for c in message.decoded.disconnected
        ]:
            device = resolver(child)
            if device is not None:
                changes.append((device.id, state, f"gateway_{'connect' if state == 'online' else 'disconnect'}"))
    if changes:
        record_presence(platform, uow, changes, now_ms)


def _alink_replies(parsed: list[_Message], rejections: list[Rejection]) -> list[tuple[str, bytes]]:
    replies = []
    refused_at = sorted(r.index for r in rejections)
    for message in parsed:
        if message.decoded.reply_to is None:
            continue
        topic, request_id, method = message.decoded.reply_to
        refused = [r for r in rejections if message.first_line <= r.index < message.last_line] if refused_at else []
        if refused:
            body = topics.alink_reply(request_id, method, 460, "; ".join(r.message for r in refused)[:500])
        else:
            body = topics.alink_reply(request_id, method, 200, "success")
        replies.append((topic, orjson.dumps(body)))
    return replies
