"""Ingestion use cases: validate lines, store the good points, quarantine the rest."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from wuxin.bootstrap import Platform
from wuxin.domain.text import shown, storable_text, text_fault
from wuxin.indicators.days import dirty_device_days
from wuxin.ingest.parse import PayloadError, loads, thingsboard_lines
from wuxin.ingest.pipeline import DeviceContext, IngestWarning, Rejection, Validated, validate_lines
from wuxin.security.secrets import token_hash
from wuxin.services.devices.calendars import zoned_devices
from wuxin.services.evidence.record import record_evidence
from wuxin.services.ingest.isolation import store_isolating
from wuxin.services.monitoring import streaming
from wuxin.store import bulk
from wuxin.store.rows import DeviceRow, DeviceTokenStatusRow
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
    warnings: list[IngestWarning] = field(
        default_factory=list
    )  # stored, with a reservation (e.g. unlisted event params)

    def public(self) -> dict:
        return {
            "batch_id": self.batch_id,
            "accepted": self.accepted,
            "events": self.events,
            "rejected": len(self.rejections),
            "errors": [r.public() for r in self.rejections],
            "warnings": [w.public() for w in self.warnings],
        }


class DeviceResolver:
    """Device key -> DeviceContext, cached for one ingestion; unknown keys resolve to None."""

    def __init__(self, platform: Platform, uow: UnitOfWork, source_mode: str | None = None):
        self._platform, self._uow, self._source_mode = platform, uow, source_mode
        self._cache: dict[str, DeviceContext | None] = {}

    def __call__(self, key: str) -> DeviceContext | None:
        if key not in self._cache:
            self._cache[key] = None if text_fault(key) else self._load(key)  # NUL: no lookup can even ask
        return self._cache[key]

    def prime(self, keys: Iterable[str]) -> None:
        missing = [k for k in keys if k not in self._cache and not text_fault(k)]
        for row in self._uow.devices.by_keys(missing) if missing else []:
            self._cache[row["key"]] = self._context(row)

    def _load(self, key: str) -> DeviceContext | None:
        row = self._uow.devices.by_key(key)
        return self._context(row) if row else None

    def _context(self, row: DeviceRow) -> DeviceContext | None:
        model = self._platform.thing_models.get(row["device_type"])
        if model is None:
            return None
        return DeviceContext(row["id"], row["key"], model, self._source_mode or row["source_mode"])


UNAUTHENTICATED_REASONS = ("unknown_token", "revoked_token")
DEVICE_KEY_CHARS = 100  # quarantine.device_key


def quarantine_payload(
    platform: Platform,
    uow: UnitOfWork,
    channel: str,
    reason: str,
    message: str,
    payload: Any,
    device_key: str | None = None,
) -> None:
    """Keep a rejected payload (malformed, wrong shape, ...) of a known sender for inspection: whole up to
    `rejected_keep_bytes`, else its prefix, sha256 and length."""
    kept = _KeepBudget(platform, channel).kept(_as_text(payload))
    uow.quarantine.add([_quarantine_row(platform.clock_ms(), channel, device_key, reason, message, kept)])
    platform.metrics.rejected(channel, reason)


def quarantine_unauthenticated(
    platform: Platform,
    uow: UnitOfWork,
    channel: str,
    reason: str,
    message: str,
    body: bytes,
    device_key: str | None = None,
) -> None:
    """Keep what an unauthenticated sender posted at a bounded cost: a prefix, its sha256 and length;
    only the newest `unauthenticated_quarantine_max` such entries are kept."""
    settings = platform.settings
    uow.quarantine.add(
        [
            _quarantine_row(
                platform.clock_ms(),
                channel,
                device_key,
                reason,
                message,
                bounded_body(body, settings.unauthenticated_keep_bytes),
            )
        ]
    )
    uow.quarantine.keep_newest(UNAUTHENTICATED_REASONS, settings.unauthenticated_quarantine_max)
    platform.metrics.unauthenticated.labels(channel, reason).inc()
    platform.metrics.unauthenticated_bytes.labels(channel).inc(len(body))
    platform.metrics.quarantine_entry(channel, reason)


def quarantine_unstorable(
    platform: Platform,
    channel: str,
    payload: Any,
    error: Exception,
    device_key: str | None = None,
    what: str = "message",
) -> str:
    """The database refused `payload` although it passed validation: keep it (whole up to
    `store_failed_keep_bytes`) with reason store_failed, in its own transaction; returns the message."""
    message = f"{what} could not be stored: {type(error).__name__}: {shown(str(error))}"
    text = _as_text(payload)
    encoded = text.encode("utf-8")
    if len(encoded) > platform.settings.store_failed_keep_bytes:
        text = bounded_body(encoded, platform.settings.store_failed_keep_bytes)
    with platform.uow() as uow:
        uow.quarantine.add([_quarantine_row(platform.clock_ms(), channel, device_key, "store_failed", message, text)])
        uow.commit()
    platform.metrics.rejected(channel, "store_failed")
    return message


def bounded_body(body: bytes, keep_bytes: int) -> str:
    """What is kept of a body too large or too untrusted to keep whole: its length, sha256 and first bytes."""
    return json.dumps(
        {
            "body_bytes": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "body_prefix": body[:keep_bytes].decode("utf-8", errors="replace"),
        },
        ensure_ascii=False,
    )


def _quarantine_row(now_ms: int, channel: str, device_key: str | None, reason: str, message: str, payload: str) -> dict:
    """A row every database takes: no NUL, no lone surrogate, a device key within its column."""
    key = None if device_key is None else storable_text(str(device_key))[:DEVICE_KEY_CHARS]
    return dict(
        received_ms=now_ms,
        channel=channel,
        device_key=key,
        reason=reason,
        message=storable_text(message),
        payload=storable_text(payload),
    )


def _as_text(payload: Any) -> str:
    """Quarantine keeps text; stdlib json keeps NaN and Infinity as written (orjson would null them)."""
    if isinstance(payload, (bytes, bytearray)):
        return bytes(payload).decode("utf-8", errors="replace")
    if isinstance(payload, str):
        return payload
    try:
        return json.dumps(payload, ensure_ascii=False, default=str)
    except (RecursionError, ValueError, TypeError):  # nested past what json writes: show its start
        return shown(payload)


def store_validated(
    platform: Platform,
    uow: UnitOfWork,
    validated: Validated,
    channel: str,
    source_mode: str | None,
    payload_sha256: str | None,
) -> IngestResult:
    """Write accepted points and events under one batch, quarantine rejections; caller commits."""
    now_ms = platform.clock_ms()
    batch_id = uow.telemetry.add_batch(channel, source_mode, now_ms, payload_sha256)
    rows = [(*r, batch_id, now_ms) for r in validated.readings]
    inserted = bulk.write_readings(uow.conn, rows)
    uow.telemetry.add_events(
        [
            dict(device_id=d, name=n, ts_ms=t, params=p, batch_id=batch_id, received_ms=now_ms)
            for d, n, t, p in validated.events
        ]
    )
    uow.devices.mark_seen(_seen_ms(validated, channel, now_ms))
    streaming.on_batch(platform, uow, validated)  # warning rules, in this transaction (see services.monitoring)
    uow.indicators.mark_dirty(
        dirty_device_days(validated.readings, validated.events, zoned_devices(platform, uow)), now_ms
    )
    _quarantine_rejections(platform, uow, channel, validated.rejections, now_ms)
    uow.telemetry.finish_batch(batch_id, len(rows) + len(validated.events), len(validated.rejections))
    record_evidence(
        uow,
        "telemetry_batch",
        f"batch:{batch_id}",
        {
            "batch_id": batch_id,
            "channel": channel,
            "received_ms": now_ms,
            "readings": rows,
            "events": validated.events,
            "inserted_readings": inserted,
        },
    )
    platform.metrics.accepted(channel, len(rows) + len(validated.events))
    return IngestResult(batch_id, len(rows), len(validated.events), validated.rejections, validated.warnings)


def _seen_ms(validated: Validated, channel: str, now_ms: int) -> dict[int, int]:
    """Last sign of life per device that sent accepted data: receipt on a live channel, else its newest time."""
    if channel in LIVE_CHANNELS:
        return dict.fromkeys(validated.last_seen_ms, now_ms)
    return validated.last_seen_ms


def _quarantine_rejections(
    platform: Platform, uow: UnitOfWork, channel: str, rejections: list[Rejection], now_ms: int
) -> None:
    budget = _KeepBudget(platform, channel)
    uow.quarantine.add(
        [
            _quarantine_row(now_ms, channel, r.device, r.reason, r.message, budget.kept(_as_text(r.line)))
            for r in rejections
        ]
    )
    for r in rejections:
        platform.metrics.rejected(channel, r.reason)


class _KeepBudget:
    """What one request's rejected lines may cost the quarantine: `rejected_keep_bytes` in all. A line is kept whole
    while it fits what is left, else as its prefix (what is left), sha256 and length; the bytes not kept are counted
    in wuxin_quarantine_dropped_bytes."""

    def __init__(self, platform: Platform, channel: str):
        self._left, self._metrics, self._channel = platform.settings.rejected_keep_bytes, platform.metrics, channel

    def kept(self, text: str) -> str:
        encoded = text.encode("utf-8", errors="replace")
        if len(encoded) <= self._left:
            self._left -= len(encoded)
            return text
        prefix_bytes, self._left = self._left, 0
        self._metrics.quarantine_dropped_bytes.labels(self._channel).inc(len(encoded) - prefix_bytes)
        return bounded_body(encoded, prefix_bytes)


def ingest_lines(
    platform: Platform,
    lines: list[Any],
    channel: str,
    source_mode: str | None = None,
    payload_sha256: str | None = None,
) -> IngestResult:
    """Validate and store a list of bulk-format lines in one transaction; a line the database refuses
    is quarantined (store_failed) and the others are stored."""

    def store_range(start: int, end: int) -> IngestResult:
        with platform.uow() as uow:
            result = _ingest_in(platform, uow, lines[start:end], start, channel, source_mode, payload_sha256)
            uow.commit()
        return result

    def quarantine_line(index: int, error: Exception) -> IngestResult:
        line = lines[index]
        device = line.get("device") if isinstance(line, dict) and isinstance(line.get("device"), str) else None
        message = quarantine_unstorable(platform, channel, line, error, device, f"line {index}")
        return IngestResult(None, rejections=[Rejection(index, device, None, "store_failed", message, line)])

    return merge_results(store_isolating(len(lines), store_range, quarantine_line))


def _ingest_in(
    platform: Platform,
    uow: UnitOfWork,
    lines: list[Any],
    first_index: int,
    channel: str,
    source_mode: str | None,
    payload_sha256: str | None,
) -> IngestResult:
    resolver = DeviceResolver(platform, uow, source_mode)
    resolver.prime({l["device"] for l in lines if isinstance(l, dict) and isinstance(l.get("device"), str)})
    validated = validate_lines(
        lines, resolver, platform.clock_ms(), platform.settings.max_future_skew_s * 1000, first_index=first_index
    )
    return store_validated(platform, uow, validated, channel, source_mode, payload_sha256)


def merge_results(results: list[IngestResult]) -> IngestResult:
    """One result for parts stored in several transactions (the first batch id stands for them)."""
    if len(results) == 1:
        return results[0]
    batch_ids = [r.batch_id for r in results if r.batch_id is not None]
    merged = IngestResult(batch_ids[0] if batch_ids else None)
    for result in results:
        merged.accepted += result.accepted
        merged.events += result.events
        merged.rejections += result.rejections
        merged.warnings += result.warnings
    merged.rejections.sort(key=lambda r: r.index)
    return merged


class DeviceTokenError(Exception):
    """The device token is unknown or revoked; `reason` is a stable code."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def ingest_device_telemetry(
    platform: Platform, token: str, body: bytes, on_unauthenticated: Callable[[], None] | None = None
) -> IngestResult:
    """ThingsBoard HTTP API: POST /api/v1/{token}/telemetry. `on_unauthenticated` is called when the
    token fails, before anything is kept (the caller's per-source limit may refuse there)."""
    device = _device_for_token(platform, token, body, on_unauthenticated)
    try:
        payload = loads(body)
        lines = thingsboard_lines(device["key"], payload, platform.clock_ms())
    except PayloadError as exc:
        with platform.uow() as uow:
            quarantine_payload(platform, uow, "http", exc.reason, f"{device['key']}: {exc}", body, device["key"])
            uow.commit()
        raise
    return ingest_lines(platform, lines, "http", payload_sha256=hashlib.sha256(body).hexdigest())


def _device_for_token(
    platform: Platform, token: str, body: bytes, on_unauthenticated: Callable[[], None] | None
) -> DeviceTokenStatusRow:
    with platform.uow() as uow:
        row = uow.devices.token_status(token_hash(token))
        if row is None or row["token_revoked_ms"] is not None:
            reason = "unknown_token" if row is None else "revoked_token"
            message = "device token is not known" if row is None else f"device token of {row['key']} was revoked"
            if on_unauthenticated:
                on_unauthenticated()
            quarantine_unauthenticated(platform, uow, "http", reason, message, body, row["key"] if row else None)
            uow.commit()
            raise DeviceTokenError(reason, message)
    return row
