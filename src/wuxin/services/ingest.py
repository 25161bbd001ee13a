"""Ingestion use cases: validate lines, store the good points, quarantine the rest."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterable

import orjson

from wuxin.bootstrap import Platform
from wuxin.indicators.days import dirty_device_days
from wuxin.ingest.parse import PayloadError, loads, thingsboard_lines
from wuxin.ingest.pipeline import DeviceContext, Rejection, Validated, validate_lines
from wuxin.security.secrets import token_hash
from wuxin.services import monitoring
from wuxin.services.evidence import record_evidence
from wuxin.store import bulk
from wuxin.store.uow import UnitOfWork


# Channels a device speaks on itself, now: it was seen when we received it, whatever its clock says
# (a clock hours behind must not make a sending device look offline). Imports, replays and
# third-party pushes may carry old data: there the newest device time is the last sign of life.
LIVE_CHANNELS = frozenset({"http", "mqtt", "jt808"})


@dataclass
class IngestResult:
    batch_id: int | None
    accepted: int = 0  # readings stored or already stored (re-sends are idempotent)
    events: int = 0
    rejections: list[Rejection] = field(default_factory=list)

    def public(self) -> dict:
        return {
            "batch_id": self.batch_id,
            "accepted": self.accepted,
            "events": self.events,
            "rejected": len(self.rejections),
            "errors": [r.public() for r in self.rejections],
        }


class DeviceResolver:
    """Device key -> DeviceContext, cached for one ingestion; unknown keys resolve to None."""

    def __init__(self, platform: Platform, uow: UnitOfWork, source_mode: str | None = None):
        self._platform, self._uow, self._source_mode = platform, uow, source_mode
        self._cache: dict[str, DeviceContext | None] = {}

    def __call__(self, key: str) -> DeviceContext | None:
        if key not in self._cache:
            self._cache[key] = self._load(key)
        return self._cache[key]

    def prime(self, keys: Iterable[str]) -> None:
        missing = [k for k in keys if k not in self._cache]
        for row in self._uow.devices.by_keys(missing) if missing else []:
            self._cache[row["key"]] = self._context(row)

    def _load(self, key: str) -> DeviceContext | None:
        row = self._uow.devices.by_key(key)
        return self._context(row) if row else None

    def _context(self, row: dict) -> DeviceContext | None:
        model = self._platform.thing_models.get(row["device_type"])
        if model is None:
            return None
        return DeviceContext(row["id"], row["key"], model, self._source_mode or row["source_mode"])


def quarantine_payload(platform: Platform, uow: UnitOfWork, channel: str, reason: str, message: str,
                       payload: Any, device_key: str | None = None) -> None:
    """Keep a whole rejected payload (malformed, unknown token, ...) for inspection."""
    text = _as_text(payload)
    uow.quarantine.add([dict(received_ms=platform.clock_ms(), channel=channel, device_key=device_key,
                             reason=reason, message=message, payload=text)])
    platform.metrics.quarantined.labels(reason).inc()
    platform.metrics.points_rejected.labels(channel, reason).inc()


def _as_text(payload: Any) -> str:
    """Quarantine keeps text; stdlib json keeps NaN and Infinity as written (orjson would null them)."""
    if isinstance(payload, (bytes, bytearray)):
        return payload.decode("utf-8", errors="replace")
    if isinstance(payload, str):
        return payload
    return json.dumps(payload, ensure_ascii=False, default=str)


def store_validated(platform: Platform, uow: UnitOfWork, validated: Validated, channel: str,
                    source_mode: str | None, payload_sha256: str | None) -> IngestResult:
    """Write accepted points and events under one batch, quarantine rejections; caller commits."""
    now_ms = platform.clock_ms()
    batch_id = uow.telemetry.add_batch(channel, source_mode, now_ms, payload_sha256)
    rows = [(*r, batch_id, now_ms) for r in validated.readings]
    inserted = bulk.write_readings(uow.conn, rows)
    uow.telemetry.add_events([
        dict(device_id=d, name=n, ts_ms=t, params=p, batch_id=batch_id, received_ms=now_ms)
        for d, n, t, p in validated.events
    ])
    uow.devices.mark_seen(_seen_ms(validated, channel, now_ms))
    monitoring.on_batch(platform, uow, validated)  # warning rules, in this transaction (see services.monitoring)
    uow.indicators.mark_dirty(dirty_device_days(validated.readings, validated.events), now_ms)
    _quarantine_rejections(platform, uow, channel, validated.rejections, now_ms)
    uow.telemetry.finish_batch(batch_id, len(rows) + len(validated.events), len(validated.rejections))
    record_evidence(uow, "telemetry_batch", f"batch:{batch_id}", {
        "batch_id": batch_id, "channel": channel, "received_ms": now_ms, "readings": rows, "events": validated.events,
        "inserted_readings": inserted})
    platform.metrics.points_accepted.labels(channel).inc(len(rows) + len(validated.events))
    return IngestResult(batch_id, len(rows), len(validated.events), validated.rejections)


def _seen_ms(validated: Validated, channel: str, now_ms: int) -> dict[int, int]:
    """Last sign of life per device that sent accepted data: receipt on a live channel, else its newest time."""
    if channel in LIVE_CHANNELS:
        return dict.fromkeys(validated.last_seen_ms, now_ms)
    return validated.last_seen_ms


def _quarantine_rejections(platform: Platform, uow: UnitOfWork, channel: str, rejections: list[Rejection], now_ms: int) -> None:
    uow.quarantine.add([
        dict(received_ms=now_ms, channel=channel, device_key=r.device, reason=r.reason, message=r.message,
             payload=_as_text(r.line))
        for r in rejections
    ])
    for r in rejections:
        platform.metrics.points_rejected.labels(channel, r.reason).inc()
        platform.metrics.quarantined.labels(r.reason).inc()


def ingest_lines(platform: Platform, lines: list[Any], channel: str, source_mode: str | None = None,
                 payload_sha256: str | None = None) -> IngestResult:
    """Validate and store a list of bulk-format lines in one transaction."""
    with platform.uow() as uow:
        resolver = DeviceResolver(platform, uow, source_mode)
        resolver.prime({l["device"] for l in lines if isinstance(l, dict) and isinstance(l.get("device"), str)})
        validated = validate_lines(lines, resolver, platform.clock_ms(), platform.settings.max_future_skew_s * 1000)
        result = store_validated(platform, uow, validated, channel, source_mode, payload_sha256)
        uow.commit()
    return result


class DeviceTokenError(Exception):
    """The device token is unknown or revoked; `reason` is a stable code."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def ingest_device_telemetry(platform: Platform, token: str, body: bytes) -> IngestResult:
    """ThingsBoard HTTP API: POST /api/v1/{token}/telemetry."""
    device = _device_for_token(platform, token, body)
    try:
        payload = loads(body)
        lines = thingsboard_lines(device["key"], payload, platform.clock_ms())
    except PayloadError as exc:
        with platform.uow() as uow:
            quarantine_payload(platform, uow, "http", exc.reason, f"{device['key']}: {exc}", body, device["key"])
            uow.commit()
        raise
    return ingest_lines(platform, lines, "http", payload_sha256=hashlib.sha256(body).hexdigest())


def _device_for_token(platform: Platform, token: str, body: bytes) -> dict:
    with platform.uow() as uow:
        row = uow.devices.token_status(token_hash(token))
        if row is None or row["token_revoked_ms"] is not None:
            reason = "unknown_token" if row is None else "revoked_token"
            message = "device token is not known" if row is None else f"device token of {row['key']} was revoked"
            quarantine_payload(platform, uow, "http", reason, message, body, row["key"] if row else None)
            uow.commit()
            raise DeviceTokenError(reason, message)
    return row
