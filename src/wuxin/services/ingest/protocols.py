"""Protocol use cases: MQTT broker accounts, gateways and their sub-devices, third-party platform push."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable
from typing import Any, Protocol

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from wuxin.bootstrap import Platform
from wuxin.domain.model import Role, SourceMode, trust_level
from wuxin.domain.text import shown, text_fault
from wuxin.errors import AuthError, Conflict, Denied, InvalidInput, NotFound
from wuxin.ingest.parse import PayloadError, loads
from wuxin.ingest.pipeline import Rejection, Validated, validate_lines
from wuxin.security.policy import Principal, device_not_found, require_role
from wuxin.security.secrets import new_token
from wuxin.services.devices.registry import (
    known_device,
    known_enterprise,
    require_device_manager_of,
    rotate_device_token,
)
from wuxin.services.ingest.isolation import store_isolating
from wuxin.services.ingest.telemetry import (
    DeviceResolver,
    IngestResult,
    merge_results,
    quarantine_payload,
    quarantine_unstorable,
    store_validated,
)
from wuxin.store.db import is_unavailable
from wuxin.store.rows import DeviceRow, PushPlatformRow

PUSH_CHANNEL = "platform"
PUSH_WINDOW_MS = 300_000  # a signed request is good for 5 minutes either side of its timestamp
NONCE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
PLATFORM_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{1,59}$")


class SignatureRefused(AuthError):
    code = "bad_signature"


class ReplayRefused(AuthError):
    code = "replayed"


# ---- MQTT broker accounts


class BrokerAccounts(Protocol):
    """What the platform asks of the broker's account store (Mosquitto dynamic security)."""

    def provision_device(self, device_key: str, device_type: str, token: str | None) -> None: ...
    def disable_device(self, device_key: str) -> None: ...
    def known_devices(self) -> set[str]: ...


def issue_mqtt_credentials(
    platform: Platform, principal: Principal | None, device_key: str, broker: BrokerAccounts
) -> str:
    """Rotate the device's access token and make it the device's MQTT password (shown once)."""
    token = rotate_device_token(platform, principal, device_key)
    with platform.uow() as uow:
        device = uow.devices.by_key(device_key)
    if device is None:  # deleted since its token was rotated
        raise device_not_found(device_key)
    broker.provision_device(device_key, device["device_type"], token)
    return token


def reconcile_broker(platform: Platform, broker: BrokerAccounts) -> dict[str, int]:
    """Disable broker accounts of devices without a live token; refresh the ACL role of the others."""
    with platform.uow() as uow:
        rows = uow.protocols.device_credentials_state()
    known = broker.known_devices()
    counts = {"disabled": 0, "refreshed": 0, "without_account": 0}
    for row in rows:
        if row["live_tokens"] == 0:
            if row["key"] in known:
                broker.disable_device(row["key"])
                counts["disabled"] += 1
        elif row["key"] in known:
            broker.provision_device(row["key"], row["device_type"], None)
            counts["refreshed"] += 1
        else:
            counts["without_account"] += 1  # needs `wuxin ingest mqtt-credentials KEY` once
    return counts


# ---- gateways (工业网关) and their sub-devices


def attach_sub_device(platform: Platform, principal: Principal | None, gateway_key: str, child_key: str) -> None:
    """Register `child_key` behind `gateway_key`: only that gateway may then publish for it (same enterprise)."""
    with platform.uow() as uow:
        gateway = known_device(platform, uow, principal, gateway_key)
        require_device_manager_of(platform, uow, principal, gateway)
        child = uow.devices.by_key(child_key)
        if child is None or child["enterprise_id"] != gateway["enterprise_id"]:  # whose it is, is not said
            raise NotFound(
                f"device {child_key!r} is not a device of the gateway's enterprise {gateway['enterprise_id']}"
            )
        if gateway["id"] == child["id"]:
            raise InvalidInput(f"device {gateway_key!r} cannot be its own sub-device")
        require_device_manager_of(platform, uow, principal, child)
        _require_trust_not_above_gateway(gateway, child)
        uow.protocols.attach_child(gateway["id"], child["id"], platform.clock_ms())
        uow.logs.audit(
            platform.clock_ms(),
            principal.user_id if principal else None,
            "gateway.attach",
            child_key,
            {"gateway": gateway_key},
        )
        uow.commit()


def _require_trust_not_above_gateway(gateway: DeviceRow, child: DeviceRow) -> None:
    """Relayed data is labelled with the child's source mode, so whoever holds the gateway's credential could
    otherwise send readings more trusted than its own: a gateway has children of the same or lower trust only."""
    if trust_level(child["source_mode"]) > trust_level(gateway["source_mode"]):
        raise InvalidInput(
            f"device {child['key']!r} is {child['source_mode']} and cannot be relayed by gateway "
            f"{gateway['key']!r}, which is {gateway['source_mode']} (a gateway relays devices of the "
            "same or lower trust)"
        )


# ---- third-party platforms: registration


def _fernet(platform: Platform) -> Fernet:
    """Secrets are stored encrypted with a key derived (HKDF-SHA256) from settings.secret_key."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"wuxin push platform secrets", info=b"v1").derive(
        platform.settings.secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def register_push_platform(platform: Platform, principal: Principal | None, name: str) -> str:
    """A new third-party platform and its HMAC secret (shown once, stored encrypted)."""
    if principal is not None:
        require_role(principal, Role.PLATFORM_ADMIN)
    if not PLATFORM_NAME.match(name):
        raise InvalidInput(f"platform name {name!r} must be 2-60 of a-z 0-9 _ - (starting with a letter or digit)")
    secret = new_token("wxp_")
    with platform.uow() as uow:
        if uow.protocols.platform_by_name(name):
            raise Conflict(f"platform {name!r} is already registered")
        uow.protocols.add_platform(name, _fernet(platform).encrypt(secret.encode()).decode(), platform.clock_ms())
        uow.logs.audit(platform.clock_ms(), principal.user_id if principal else None, "platform.register", name, {})
        uow.commit()
    return secret


def serve_enterprise(platform: Platform, principal: Principal | None, name: str, enterprise_id: int) -> None:
    """Let a platform push for an enterprise's devices: the admin, or the enterprise itself."""
    with platform.uow() as uow:
        row = _platform_row(uow, name)
        known_enterprise(platform, uow, principal, enterprise_id)
        if (
            principal is not None
            and not principal.is_admin
            and not (principal.role is Role.ENTERPRISE_USER and principal.enterprise_id == enterprise_id)
        ):
            raise Denied(f"user {principal.username} may not let platform {name!r} push for enterprise {enterprise_id}")
        uow.protocols.serve_enterprise(row["id"], enterprise_id, platform.clock_ms())
        uow.logs.audit(
            platform.clock_ms(),
            principal.user_id if principal else None,
            "platform.serve",
            name,
            {"enterprise_id": enterprise_id},
        )
        uow.commit()


def _platform_row(uow, name: str) -> dict:
    row = uow.protocols.platform_by_name(name)
    if row is None:
        raise NotFound(f"platform {name!r} is not registered")
    return row


# ---- third-party platforms: signed push


def push_signature(secret: str, timestamp_ms: int | str, nonce: str, body: bytes) -> str:
    """hex HMAC-SHA256(secret, "{timestamp_ms}.{nonce}." + body): what a platform sends as X-Wuxin-Signature."""
    return hmac.new(secret.encode(), f"{timestamp_ms}.{nonce}.".encode() + body, hashlib.sha256).hexdigest()


def push_lines(body: bytes) -> list[Any]:
    """A JSON array of bulk lines, or JSON Lines (one line per row)."""
    stripped = body.lstrip()
    if stripped.startswith(b"["):
        lines = loads(stripped)
        if not isinstance(lines, list):
            raise PayloadError("wrong_shape", "body must be a JSON array of lines or JSON Lines")
        return lines
    return [loads(row) for row in body.splitlines() if row.strip()]


def push_telemetry(
    platform: Platform,
    name: str,
    timestamp: str | None,
    nonce: str | None,
    signature: str | None,
    body: bytes,
    on_unauthenticated: Callable[[], None] | None = None,
) -> IngestResult:
    """Verify the signature, refuse replays, store the lines of served enterprises' devices.

    A line the database refuses although it passed validation is quarantined (store_failed) and the
    others are stored, each part in its own transaction after the nonce is spent. Nothing of an
    unauthenticated push is kept; it is counted, and `on_unauthenticated` (the caller's per-source
    limit) may refuse it as one failure too many.
    """
    try:
        return _verified_push(platform, name, timestamp, nonce, signature, body)
    except AuthError as exc:
        platform.metrics.unauthenticated.labels(PUSH_CHANNEL, exc.code).inc()
        platform.metrics.unauthenticated_bytes.labels(PUSH_CHANNEL).inc(len(body))
        if on_unauthenticated:
            on_unauthenticated()
        raise


def _verified_push(
    platform: Platform, name: str, timestamp: str | None, nonce: str | None, signature: str | None, body: bytes
) -> IngestResult:
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        row = uow.protocols.platform_by_name(name)
        if row is None or row["disabled_ms"] is not None:
            raise AuthError(f"platform {shown(name)} is not registered or is disabled")
        if not timestamp or not timestamp.isdigit():
            raise SignatureRefused(f"X-Wuxin-Timestamp must be epoch milliseconds, got {timestamp!r}")
        timestamp_ms = _check_window(int(timestamp), now_ms)
        if not nonce or not NONCE_PATTERN.match(nonce):
            raise SignatureRefused(f"X-Wuxin-Nonce must be 16-64 of A-Z a-z 0-9 _ -, got {shown(nonce)}")
        _check_signature(platform, row, timestamp, nonce, signature or "", body)
        if not uow.protocols.use_nonce(row["id"], nonce, now_ms, timestamp_ms + PUSH_WINDOW_MS):
            raise ReplayRefused(f"nonce {nonce} of platform {name!r} was already used")
        try:
            lines = push_lines(body)
        except PayloadError as exc:
            quarantine_payload(platform, uow, PUSH_CHANNEL, exc.reason, f"platform {name}: {exc}", body)
            uow.commit()
            raise
        sha = hashlib.sha256(body).hexdigest()
        try:
            result = _store_push(platform, uow, row, lines, sha)
            uow.commit()
            return result
        except Exception as exc:
            if is_unavailable(exc):
                raise
            uow.rollback()  # something in the lines: spend the nonce, then store them in parts
            uow.protocols.use_nonce(row["id"], nonce, now_ms, timestamp_ms + PUSH_WINDOW_MS)
            uow.commit()
    return _store_push_isolated(platform, row, lines, sha)


def _store_push_isolated(platform: Platform, row: PushPlatformRow, lines: list, sha: str) -> IngestResult:
    def store_range(start: int, end: int) -> IngestResult:
        with platform.uow() as uow:
            result = _store_push(platform, uow, row, lines[start:end], sha, start)
            uow.commit()
        return result

    def quarantine_line(index: int, error: Exception) -> IngestResult:
        line = lines[index]
        device = line.get("device") if isinstance(line, dict) and isinstance(line.get("device"), str) else None
        message = quarantine_unstorable(
            platform, PUSH_CHANNEL, line, error, device, f"platform {row['name']} line {index}"
        )
        return IngestResult(None, rejections=[Rejection(index, device, None, "store_failed", message, line)])

    return merge_results(store_isolating(len(lines), store_range, quarantine_line))


def _check_window(timestamp_ms: int, now_ms: int) -> int:
    if abs(now_ms - timestamp_ms) > PUSH_WINDOW_MS:
        raise ReplayRefused(
            f"timestamp {timestamp_ms} is {abs(now_ms - timestamp_ms) // 1000} s from the server's "
            f"{now_ms}; the window is {PUSH_WINDOW_MS // 1000} s"
        )
    return timestamp_ms


def _check_signature(
    platform: Platform, row: PushPlatformRow, timestamp: str, nonce: str, signature: str, body: bytes
) -> None:
    try:
        secret = _fernet(platform).decrypt(row["secret_ciphertext"].encode()).decode()
    except InvalidToken:
        raise AuthError(
            f"the secret of platform {row['name']!r} cannot be decrypted (was WUXIN_SECRET_KEY changed?)"
        ) from None
    if not hmac.compare_digest(push_signature(secret, timestamp, nonce, body), signature.lower()):
        raise SignatureRefused(f"X-Wuxin-Signature does not match the body for platform {row['name']!r}")


def _store_push(
    platform: Platform, uow, row: PushPlatformRow, lines: list, sha: str, first_index: int = 0
) -> IngestResult:
    mode = SourceMode.THIRD_PARTY_PLATFORM.value
    lines = list(lines)  # lines of devices not served become None below: the caller's list stays whole
    resolver = DeviceResolver(platform, uow, mode)
    keys = {
        l["device"]
        for l in lines
        if isinstance(l, dict) and isinstance(l.get("device"), str) and not text_fault(l["device"])
    }
    served = uow.protocols.served_enterprises(row["id"])
    enterprise_of = {d["key"]: d["enterprise_id"] for d in uow.devices.by_keys(keys)} if keys else {}
    resolver.prime(keys)
    out = Validated()
    for index, line in enumerate(lines):
        device = line.get("device") if isinstance(line, dict) else None
        if device in enterprise_of and enterprise_of[device] not in served:
            out.rejections.append(
                Rejection(
                    first_index + index,
                    device,
                    None,
                    "not_served_by_platform",
                    f"device {device!r} is not of an enterprise served by platform {row['name']!r}",
                    line,
                )
            )
            lines[index] = None
    validate_lines(
        lines,
        resolver,
        platform.clock_ms(),
        platform.settings.max_future_skew_s * 1000,
        out=out,
        first_index=first_index,
    )
    return store_validated(platform, uow, out, PUSH_CHANNEL, mode, sha)
