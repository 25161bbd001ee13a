"""JT/T 808 terminals on the platform: enrolment, and the gateway's TerminalDirectory and ReadingSink over the database.

A terminal is a device whose type plays the `speaks_jt808` role (its pack's manifest) and whose install attribute `jt808_phone` is its SIM
number. The integrator provisions it (`provision_terminal`: terminal id, optionally maker id,
model and IMEI, and an enrolment window); a registration (0x0100) then gets an auth code only
under the rules of `wuxin.ingest.jt808.enrolment`, once. The auth code is a credential of its
own kind (hashed in `jt808_terminals`): it is not a device access token, and a device access
token is not an auth code. Every refused registration or authentication is logged and counted
(`wuxin_jt808_registrations_total`, `wuxin_jt808_authentications_total` by outcome).
The directory's methods are synchronous (the gateway runs them in a thread).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from wuxin.bootstrap import Platform
from wuxin.errors import Conflict, InvalidInput
from wuxin.ingest.jt808 import messages as m
from wuxin.ingest.jt808.codec import HEADER_VERSIONS
from wuxin.ingest.jt808.enrolment import (
    IMEI_PATTERN,
    MANUFACTURER_ID_PATTERN,
    TERMINAL_ID_PATTERN,
    ProvisionedTerminal,
    Verdict,
    authentication_refusal,
    judge_registration,
)
from wuxin.ingest.jt808.gateway import phone_key
from wuxin.security.policy import Principal
from wuxin.security.secrets import new_token, token_hash
from wuxin.services.bootstrap import device_types_with, has_role
from wuxin.services.devices.connectivity import record_device_presence
from wuxin.services.devices.registry import known_device, require_device_manager_of
from wuxin.services.ingest.telemetry import ingest_lines
from wuxin.store.rows import DeviceRow, Jt808TerminalRow

AUTH_CODE_PREFIX = "wxj_"  # tells a JT/T 808 auth code from a device token ('wxd_') at a glance
DEFAULT_ENROL_WINDOW_S = 72 * 3600
MAX_ENROL_WINDOW_S = 30 * 86_400
JT808_ROLE = "speaks_jt808"  # the device role of a JT/T 808 terminal (scenario pack manifests)
log = logging.getLogger(__name__)


def provision_terminal(
    platform: Platform,
    principal: Principal | None,
    device_key: str,
    terminal_id: str,
    *,
    window_s: int = DEFAULT_ENROL_WINDOW_S,
    manufacturer_id: str | None = None,
    terminal_model: str | None = None,
    imei: str | None = None,
    header_version: str = "auto",
) -> dict[str, Any]:
    """Provision the device's terminal and open its enrolment window; provisioning again drops its auth code.

    header_version "2013" or "2019" forces how the gateway reads the terminal's headers (a 2013 terminal that sets
    bit 14, say); "auto" follows bit 14 and falls back to 2013 when the 2019 header does not read."""
    if header_version not in HEADER_VERSIONS:
        raise InvalidInput(f"JT/T 808 header version {header_version!r} is not one of {', '.join(HEADER_VERSIONS)}")
    terminal_id = _checked(terminal_id.strip().upper(), TERMINAL_ID_PATTERN, "terminal id", "1-30 capitals or digits")
    manufacturer_id = _optional(manufacturer_id, MANUFACTURER_ID_PATTERN, "manufacturer id", "1-11 letters or digits")
    imei = _optional(imei, IMEI_PATTERN, "IMEI", "15 digits")
    terminal_model = (terminal_model or "").strip() or None
    if terminal_model is not None and len(terminal_model) > 30:
        raise InvalidInput(f"terminal model {terminal_model!r} is longer than 30 characters")
    if not 60 <= window_s <= MAX_ENROL_WINDOW_S:
        raise InvalidInput(f"enrolment window {window_s} s is not between 60 s and {MAX_ENROL_WINDOW_S} s (30 days)")
    with platform.uow() as uow:
        device = known_device(platform, uow, principal, device_key)
        require_device_manager_of(platform, uow, principal, device)
        phone = _device_phone(device)
        holder = uow.jt808.by_phone(phone)
        if holder is not None and holder["device_id"] != device["id"]:
            raise Conflict(_phone_taken(principal, device["attributes"]["jt808_phone"], holder["device_key"]))
        now_ms = platform.clock_ms()
        until_ms = now_ms + window_s * 1000
        dropped = uow.jt808.provision(
            device["id"],
            phone,
            terminal_id,
            manufacturer_id,
            terminal_model,
            imei,
            now_ms,
            principal.user_id if principal else None,
            until_ms,
            None if header_version == "auto" else header_version,
        )
        uow.logs.audit(
            now_ms,
            principal.user_id if principal else None,
            "jt808.provision",
            device_key,
            {
                "terminal_id": terminal_id,
                "enrol_until_ms": until_ms,
                "auth_code_dropped": dropped,
                "header_version": header_version,
            },
        )
        uow.commit()
    return {
        "key": device_key,
        "phone": device["attributes"]["jt808_phone"],
        "terminal_id": terminal_id,
        "manufacturer_id": manufacturer_id,
        "terminal_model": terminal_model,
        "imei": imei,
        "enrol_until_ms": until_ms,
        "auth_code_dropped": dropped,
        "header_version": header_version,
    }


def _phone_taken(principal: Principal | None, phone: str, holder_key: str) -> str:
    """Only the admin (who sees every device) is told which device holds the SIM number; for anyone else the
    holder may be another enterprise's device, and naming it would say that it exists."""
    if principal is None or principal.is_admin:
        return f"JT/T 808 phone {phone} is already provisioned for device {holder_key!r}"
    return f"JT/T 808 phone {phone} is already provisioned for another device"


def _device_phone(device: DeviceRow) -> str:
    if not has_role(device["device_type"], JT808_ROLE):
        raise InvalidInput(
            f"device {device['key']!r} is a {device['device_type']}, not a JT/T 808 terminal "
            f"(one of {sorted(device_types_with(JT808_ROLE))})"
        )
    phone = str(device["attributes"].get("jt808_phone") or "")
    if not phone.isdigit() or len(phone) > 20:
        raise InvalidInput(
            f"device {device['key']!r} has no JT/T 808 phone (install attribute jt808_phone, "
            f"up to 20 digits): {phone!r}"
        )
    return phone_key(phone)


def _checked(value: str, pattern, name: str, wanted: str) -> str:
    if not pattern.match(value):
        raise InvalidInput(f"{name} {value!r} is not valid: {wanted}")
    return value


def _optional(value: str | None, pattern, name: str, wanted: str) -> str | None:
    value = (value or "").strip()
    return _checked(value, pattern, name, wanted) if value else None


def _provisioned(row: Jt808TerminalRow) -> ProvisionedTerminal:
    attributes = row["attributes"]
    return ProvisionedTerminal(
        row["device_key"],
        row["terminal_id"],
        row["manufacturer_id"],
        row["terminal_model"],
        row["imei"],
        attributes.get("plate") or None,
        attributes.get("vin") or None,
        row["enrol_until_ms"],
        row["auth_code_hash"] is not None,
    )


class DatabaseDirectory:
    """Provisioned terminals (`jt808_terminals`) of the registry's GPS terminals."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def register(self, phone: str, body: dict[str, Any]) -> tuple[int, str | None]:
        """An auth code for the provisioned terminal within its window; refusals never touch a live code."""
        now_ms = self.platform.clock_ms()
        with self.platform.uow() as uow:
            row = uow.jt808.by_phone(phone_key(phone))
        verdict = judge_registration(None if row is None else _provisioned(row), body, now_ms)
        auth_code = None
        if verdict.result == m.REGISTER_OK and row is not None:  # an unknown phone is never OK
            verdict, auth_code = self._enrol(row, body, now_ms)
        self.platform.metrics.jt808_registrations.labels(verdict.reason).inc()
        if auth_code is None:
            log.warning("JT808 registration of phone %s refused: %s", phone, verdict.reason)
        return verdict.result, auth_code

    def _enrol(self, row: Jt808TerminalRow, body: dict[str, Any], now_ms: int) -> tuple[Verdict, str | None]:
        auth_code = new_token(AUTH_CODE_PREFIX)
        with self.platform.uow() as uow:
            if not uow.jt808.enrol(row["id"], token_hash(auth_code), now_ms):  # another registration won
                return Verdict(m.REGISTER_TERMINAL_TAKEN, "already_registered"), None
            uow.logs.audit(
                now_ms,
                None,
                "jt808.enrol",
                row["device_key"],
                {"terminal_id": body.get("terminal_id"), "plate": body.get("plate")},
            )
            uow.commit()
        log.info("JT808 terminal %s enrolled as device %s", row["terminal_id"], row["device_key"])
        return Verdict(m.REGISTER_OK, "enrolled"), auth_code

    def header_version(self, phone: str) -> str:
        """The provisioned header version of the terminal with this SIM number ("auto" when none was set)."""
        with self.platform.uow() as uow:
            row = uow.jt808.by_phone(phone_key(phone))
        return (row and row["header_version"]) or "auto"

    def authenticate(self, phone: str, auth_code: str, imei: str | None = None) -> str | None:
        """The device key when the auth code is the live one of the terminal provisioned for this phone."""
        with self.platform.uow() as uow:
            row = uow.jt808.by_auth_code(token_hash(auth_code))
        refusal = (
            "unknown_auth_code"
            if row is None
            else authentication_refusal(_provisioned(row), row["phone"] == phone_key(phone), imei)
        )
        self.platform.metrics.jt808_authentications.labels(refusal or "authenticated").inc()
        if row is None or refusal is not None:
            log.warning("JT808 authentication of phone %s refused (%s)", phone, refusal)
            return None
        return row["device_key"]


class PlatformSink:
    """Validated ingestion (channel jt808) in a thread; raises if the database fails, so nothing is acked."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    async def accept(self, lines: list[dict[str, Any]]) -> None:
        await asyncio.to_thread(ingest_lines, self.platform, lines, "jt808")

    async def presence(self, device_key: str, state: str, cause: str) -> None:
        await asyncio.to_thread(record_device_presence, self.platform, device_key, state, cause)
