"""Devices on the vendors' SDKs: who a connecting device is, its client attributes, its RPC calls.

ThingsBoard (tb-mqtt-client, HTTP): the access token is the whole credential (MQTT username, no
password; HTTP path). Alibaba LinkKit (Alink, 一机一密): the device signs its connection with its
DeviceSecret; the platform keeps the secret encrypted (Fernet, key derived from WUXIN_SECRET_KEY),
since checking an HMAC needs the secret itself. A signature must sign a timestamp within
WUXIN_ALINK_SIGNATURE_WINDOW_S of the platform's clock; one without a timestamp is a static password
that never expires, refused unless WUXIN_ALINK_ALLOW_UNTIMED_SIGNATURES is set.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from wuxin.bootstrap import Platform
from wuxin.domain.text import shown, text_fault
from wuxin.errors import Conflict, InvalidInput, NotFound
from wuxin.ingest.parse import PayloadError, loads, strict_loads
from wuxin.ingest.pipeline import Rejection
from wuxin.security.policy import Principal
from wuxin.security.secrets import new_token, token_hash
from wuxin.services.devices.registry import known_device, require_device_manager_of
from wuxin.services.ingest.telemetry import IngestResult, _device_for_token, ingest_lines, quarantine_payload
from wuxin.store.rows import DeviceTokenStatusRow

ALINK_NAME = re.compile(r"^[A-Za-z0-9_.:@-]{1,64}$")  # Alibaba's productKey / deviceName characters
SIGN_METHODS = {"hmacsha1": hashlib.sha1, "hmacsha256": hashlib.sha256, "hmacmd5": hashlib.md5}
ATTRIBUTE_KEY_CHARS = 128


@dataclass(frozen=True)
class DeviceIdentity:
    """An authenticated device connection: its platform key and type, and how its vendor names it."""

    device_id: int
    key: str
    device_type: str
    dialect: str  # thingsboard | alink
    product_key: str | None = None  # Alink: the vendor productKey in its topics
    device_name: str | None = None
    server_subscribe: bool = False
    secret_tag: str = ""  # Alink: which DeviceSecret signed the connection (a new secret closes the session)


class ConnectRefused(Exception):
    """A device's connection is refused; `reason` is a stable code, the message says why."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


# ---- ThingsBoard: the access token


def thingsboard_device(platform: Platform, token: str | None) -> DeviceIdentity:
    """The device holding this live access token (MQTT username or HTTP path)."""
    if not token:
        raise ConnectRefused("missing_token", "no access token (ThingsBoard: the token is the MQTT username)")
    with platform.uow() as uow:
        row = uow.devices.token_status(token_hash(token))
    if row is None:
        raise ConnectRefused("unknown_token", "device token is not known")
    if row["token_revoked_ms"] is not None:
        raise ConnectRefused("revoked_token", f"device token of {row['key']} was revoked")
    return DeviceIdentity(row["id"], row["key"], row["device_type"], "thingsboard")


def token_is_live(platform: Platform, token: str) -> bool:
    with platform.uow() as uow:
        row = uow.devices.token_status(token_hash(token))
    return row is not None and row["token_revoked_ms"] is None


# ---- Alibaba Alink: signed connection


@dataclass(frozen=True)
class AlinkConnect:
    """What an Alink CONNECT says: {clientId}|securemode=..,signmethod=..,timestamp=..| and deviceName&productKey."""

    client_id: str
    product_key: str
    device_name: str
    sign_method: str
    secure_mode: str
    timestamp: str | None
    server_subscribe: bool = False  # _ss=1: the platform subscribes the device to its system replies


def parse_alink_connect(client_id: str, username: str | None) -> AlinkConnect | None:
    """None when the connection is not Alink-shaped (then it is a ThingsBoard one)."""
    if not username or "&" not in username or "|" not in client_id:
        return None
    bare, _, rest = client_id.partition("|")
    options = dict(part.split("=", 1) for part in rest.rstrip("|").split(",") if "=" in part)
    device_name, _, product_key = username.partition("&")
    return AlinkConnect(
        bare,
        product_key,
        device_name,
        options.get("signmethod", ""),
        options.get("securemode", ""),
        options.get("timestamp"),
        options.get("_ss") == "1",
    )


def alink_sign(secret: str, connect: AlinkConnect) -> str:
    """The password LinkKit computes: HMAC(DeviceSecret, clientId..deviceName..productKey..timestamp..), hex."""
    content = f"clientId{connect.client_id}deviceName{connect.device_name}productKey{connect.product_key}"
    if connect.timestamp is not None:
        content += f"timestamp{connect.timestamp}"
    return hmac.new(secret.encode(), content.encode(), SIGN_METHODS[connect.sign_method]).hexdigest()


def alink_device(
    platform: Platform, connect: AlinkConnect, password: str | None, *, over_tls: bool = False
) -> DeviceIdentity:
    """The device whose DeviceSecret signed this connection, inside the time window; over TLS in a TLS-only
    deployment (where no signature ever crosses the wire in clear) of any age, unless the settings ask for it."""
    if connect.sign_method not in ("hmacsha1", "hmacsha256"):
        raise ConnectRefused("bad_signmethod", f"signmethod {connect.sign_method!r} is not hmacsha1 or hmacsha256")
    if connect.secure_mode not in ("2", "3"):
        raise ConnectRefused("bad_securemode", f"securemode {connect.secure_mode!r} is not 2 (TLS) or 3 (TCP)")
    _check_signed_time(platform, connect.timestamp, over_tls)
    with platform.uow() as uow:
        row = uow.protocols.alink_identity(connect.product_key, connect.device_name)
        live = row is not None and uow.devices.live_token_count(row["device_id"]) > 0
    if row is None:
        raise ConnectRefused("unknown_device", f"no device {connect.device_name!r} of product {connect.product_key!r}")
    if not live:
        raise ConnectRefused("revoked_token", f"the credentials of {row['key']} were revoked")
    secret = _open_secret(platform, row["secret_ciphertext"])
    if not password or not hmac.compare_digest(alink_sign(secret, connect), password):
        raise ConnectRefused("bad_signature", f"the signature of {connect.device_name!r} does not match its secret")
    return DeviceIdentity(
        row["device_id"],
        row["key"],
        row["device_type"],
        "alink",
        connect.product_key,
        connect.device_name,
        connect.server_subscribe,
        secret_tag(row["secret_ciphertext"]),
    )


def _check_signed_time(platform: Platform, timestamp: str | None, over_tls: bool) -> None:
    """The signed timestamp (s or ms) is within the window of the platform's clock, except over TLS where the
    deployment has no plain port (a signature shown on one could be replayed over TLS: it does not cover the
    transport); none only where allowed."""
    settings = platform.settings
    if timestamp is None:
        if not settings.alink_allow_untimed_signatures:
            raise ConnectRefused(
                "untimed_signature",
                "the signature carries no timestamp (set WUXIN_ALINK_ALLOW_UNTIMED_SIGNATURES to accept such devices)",
            )
        return
    if not timestamp.isdigit():
        raise ConnectRefused("bad_timestamp", f"timestamp {timestamp!r} is not a number")
    if over_tls and settings.mqtt_front_tls_only and not settings.alink_signature_window_over_tls:
        return
    signed_ms = int(timestamp) * (1 if len(timestamp) >= 13 else 1000)
    if abs(platform.clock_ms() - signed_ms) > settings.alink_signature_window_s * 1000:
        raise ConnectRefused(
            "stale_signature",
            f"timestamp {timestamp} is more than {settings.alink_signature_window_s} s from the platform's time",
        )


def secret_tag(secret_ciphertext: str) -> str:
    """Names one issued DeviceSecret without revealing it (each issue encrypts afresh, so the tag changes)."""
    return hashlib.sha256(secret_ciphertext.encode()).hexdigest()[:32]


def alink_secret_is_live(platform: Platform, device_id: int, tag: str) -> bool:
    """The DeviceSecret a session signed with is still the device's, and the device is not revoked."""
    with platform.uow() as uow:
        row = uow.protocols.alink_identity_of_device(device_id)
        live = row is not None and uow.devices.live_token_count(device_id) > 0
    return live and row is not None and hmac.compare_digest(secret_tag(row["secret_ciphertext"]), tag)


def issue_alink_secret(
    platform: Platform, principal: Principal | None, device_key: str, product_key: str, device_name: str | None = None
) -> str:
    """Name the device as LinkKit will (productKey, deviceName; the key by default) and give it a new
    DeviceSecret, shown once and kept encrypted."""
    device_name = device_name or device_key
    for what, value in (("productKey", product_key), ("deviceName", device_name)):
        if not ALINK_NAME.match(value or ""):
            raise InvalidInput(f"Alink {what} {value!r} must be 1-64 of A-Z a-z 0-9 _ . : @ -")
    secret = new_token("")
    with platform.uow() as uow:
        device = known_device(platform, uow, principal, device_key)
        require_device_manager_of(platform, uow, principal, device)
        taken = uow.protocols.alink_identity(product_key, device_name)
        if taken is not None and taken["device_id"] != device["id"]:
            holder = repr(taken["key"]) if principal is None or principal.is_admin else "another device's"
            raise Conflict(f"Alink device {device_name!r} of product {product_key!r} is already {holder}")
        uow.protocols.set_alink_identity(
            device["id"],
            product_key,
            device_name,
            _fernet(platform).encrypt(secret.encode()).decode(),
            platform.clock_ms(),
        )
        uow.logs.audit(
            platform.clock_ms(),
            principal.user_id if principal else None,
            "alink.secret",
            device_key,
            {"product_key": product_key, "device_name": device_name},
        )
        uow.commit()
    return secret


def _fernet(platform: Platform) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"wuxin alink device secrets", info=b"v1").derive(
        platform.settings.secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def _open_secret(platform: Platform, ciphertext: str) -> str:
    try:
        return _fernet(platform).decrypt(ciphertext.encode()).decode()
    except InvalidToken:  # the secret key changed: no device of this kind can connect until re-issued
        raise ConnectRefused(
            "secret_unreadable",
            "the stored DeviceSecret cannot be decrypted with the current WUXIN_SECRET_KEY; issue a new one",
        ) from None


# ---- client attributes


def split_attributes(model, values: dict) -> tuple[dict, dict]:
    """(declared by the thing model: readings, undeclared: attributes)."""
    declared = {k: v for k, v in values.items() if k in model.properties}
    return declared, {k: v for k, v in values.items() if k not in model.properties}


def _finite(value: Any) -> bool:
    """No NaN or Infinity anywhere in the value."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


def attribute_rows(device_id: int, values: dict, now_ms: int) -> tuple[list[dict], list[tuple[str, str]]]:
    """Rows to store, and (key, reason) for keys that cannot be stored."""
    rows, refused = [], []
    for key, value in values.items():
        if not key or len(key) > ATTRIBUTE_KEY_CHARS or text_fault(key):
            refused.append(
                (
                    shown(key[:ATTRIBUTE_KEY_CHARS]),
                    f"attribute key {shown(key)} must be 1-"
                    f"{ATTRIBUTE_KEY_CHARS} characters of text the database can store",
                )
            )
            continue
        if not _finite(value):
            refused.append((key, f"attribute {shown(key)} holds NaN or Infinity, which JSON cannot store"))
            continue
        try:
            value_json = orjson.dumps(value).decode()
        except TypeError as exc:  # a lone surrogate or a number out of range: not storable JSON
            refused.append((key, f"attribute {shown(key)} is not storable JSON: {exc}"))
            continue
        rows.append({"device_id": device_id, "key": key, "value_json": value_json, "updated_ms": now_ms})
    return rows, refused


def client_attributes(platform: Platform, device_id: int, keys: Iterable[str] | None) -> dict[str, Any]:
    """The stored client attributes (those named, or all)."""
    with platform.uow() as uow:
        stored = uow.protocols.attributes(device_id, keys)
    return {key: orjson.loads(value) for key, value in stored.items()}


def attribute_response(
    platform: Platform, device_id: int, client_keys: list[str] | None, shared_keys: list[str] | None
) -> dict:
    """ThingsBoard's answer to an attribute request: {"client": {...}, "shared": {...}}.
    The platform sets no shared attributes, so "shared" is always empty."""
    return {"client": client_attributes(platform, device_id, client_keys), "shared": {}}


def keys_param(value: Any) -> list[str] | None:
    """ "a,b" or ["a", "b"] -> ["a", "b"]; absent -> None (all)."""
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    return [k.strip() for item in items if isinstance(item, str) for k in item.split(",") if k.strip()]


# ---- RPC the device calls (client-side RPC)


def answer_rpc(platform: Platform, method: Any, _params: Any) -> dict:
    """getCurrentTime answers the platform's time (ThingsBoard's example); anything else an error naming it."""
    if method == "getCurrentTime":
        return {"time": platform.clock_ms()}
    return {"error": f"unknown RPC method {str(method)[:100]!r}; the platform answers getCurrentTime"}


# ---- ThingsBoard HTTP device API beyond telemetry

HTTP_RPC_DEFAULT_TIMEOUT_MS = 10_000
HTTP_RPC_CHECK_S = 0.25  # how often a waiting long poll looks for a command
HTTP_RPC_MAX_TIMEOUT_MS = 120_000


def http_device(
    platform: Platform, token: str, body: bytes, on_unauthenticated: Callable[[], None] | None
) -> DeviceTokenStatusRow:
    """The device of a token in an HTTP path; an unknown or revoked one is quarantined (its first KiB) and refused."""
    return _device_for_token(platform, token, body, on_unauthenticated)


def post_http_attributes(
    platform: Platform, token: str, body: bytes, on_unauthenticated: Callable[[], None] | None = None
) -> IngestResult:
    """POST /api/v1/{token}/attributes: declared keys are readings at receive time, the others attributes."""
    device = http_device(platform, token, body, on_unauthenticated)
    now_ms = platform.clock_ms()
    try:
        values = loads(body)
        if not isinstance(values, dict):
            raise PayloadError("wrong_shape", f"attributes are {type(values).__name__}, expected an object")
    except PayloadError as exc:
        with platform.uow() as uow:
            quarantine_payload(platform, uow, "http", exc.reason, f"{device['key']}: {exc}", body, device["key"])
            uow.commit()
        raise
    model = platform.thing_models.get(device["device_type"])
    declared, undeclared = split_attributes(model, values) if model else ({}, values)
    rows, refused = attribute_rows(device["id"], undeclared, now_ms)
    with platform.uow() as uow:
        uow.protocols.upsert_attributes(rows)
        uow.commit()
    result = (
        ingest_lines(platform, [{"device": device["key"], "ts": now_ms, "values": declared}], "http")
        if declared
        else IngestResult(None)
    )
    for key, reason in refused:
        result.rejections.append(
            Rejection(0, device["key"], key, "bad_attribute", reason, {"device": device["key"], "attribute": key})
        )
    return result


def get_http_attributes(
    platform: Platform,
    token: str,
    client_keys: list[str] | None,
    shared_keys: list[str] | None,
    on_unauthenticated: Callable[[], None] | None = None,
) -> dict:
    """GET /api/v1/{token}/attributes?clientKeys=a,b&sharedKeys=c."""
    device = http_device(platform, token, b"", on_unauthenticated)
    return attribute_response(platform, device["id"], client_keys, shared_keys)


def post_http_rpc(
    platform: Platform, token: str, body: bytes, on_unauthenticated: Callable[[], None] | None = None
) -> dict:
    """POST /api/v1/{token}/rpc {"method", "params"}: the device calls the platform."""
    http_device(platform, token, body, on_unauthenticated)
    request = strict_loads(body) if body else {}
    if not isinstance(request, dict):
        raise PayloadError("wrong_shape", f"an RPC request is an object, got {type(request).__name__}")
    return answer_rpc(platform, request.get("method"), request.get("params"))


def rpc_poll_timeout_ms(timeout_ms: int | None) -> int:
    """ThingsBoard's long poll: timeout 0 or absent -> the default; longer than the limit is cut to it."""
    if not timeout_ms or timeout_ms <= 0:
        return HTTP_RPC_DEFAULT_TIMEOUT_MS
    return min(timeout_ms, HTTP_RPC_MAX_TIMEOUT_MS)


def take_http_command(platform: Platform, token: str, device_key: str) -> dict | None:
    """The oldest waiting ThingsBoard command of the device, claimed for this poll: {"id", "method", "params"}.
    The token is checked again first: a poll opened before the token was rotated or revoked claims nothing."""
    from wuxin.commands.rpc import THINGSBOARD
    from wuxin.services.devices.commands import RpcOutbox

    http_device(platform, token, b"", None)

    outbox = RpcOutbox(platform)
    for command in outbox.due(device_key, THINGSBOARD):
        if outbox.claim(command["id"], "http"):
            return {"id": command["id"], "method": command["operation"], "params": command["params"]}
    return None


def answer_http_command(
    platform: Platform, token: str, command_id: int, body: bytes, on_unauthenticated: Callable[[], None] | None = None
) -> str:
    """POST /api/v1/{token}/rpc/{id}: the device's answer closes its sent command (state returned)."""
    from wuxin.commands.rpc import thingsboard_outcome
    from wuxin.services.devices.commands import RpcOutbox

    device = http_device(platform, token, body, on_unauthenticated)
    answer = strict_loads(body) if body else {}
    step, failure = thingsboard_outcome(answer)
    state = RpcOutbox(platform).answered(device["key"], command_id, {"response": answer}, step, failure)
    if state is None:
        raise NotFound(
            f"command {command_id} awaits no answer from device {device['key']!r} (unknown, another "
            "device's, or already answered)"
        )
    return state
