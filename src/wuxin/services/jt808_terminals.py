"""JT/T 808 terminals on the platform: the gateway's TerminalDirectory and ReadingSink over the database.

A terminal is a `vehicles.gps_terminal` device whose install attribute `jt808_phone` is its SIM
number. Registration (0x0100) issues a fresh device access token as the auth code (the old one
is revoked); authentication (0x0102) accepts the phone with a live token of that same device.
The methods are synchronous (the gateway runs them in a thread).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from wuxin.bootstrap import Platform
from wuxin.ingest.jt808 import messages as m
from wuxin.ingest.jt808.gateway import phone_key
from wuxin.security.secrets import token_hash
from wuxin.services.connectivity import record_device_presence
from wuxin.services.ingest import ingest_lines
from wuxin.services.registry import rotate_device_token

TERMINAL_TYPE = "vehicles.gps_terminal"
log = logging.getLogger(__name__)


class DatabaseDirectory:
    """Terminals are the registry's GPS terminals, found by their `jt808_phone` attribute."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def _terminals(self, phone: str) -> list[dict]:
        with self.platform.uow() as uow:
            rows = uow.protocols.devices_of_type(TERMINAL_TYPE)
        wanted = phone_key(phone)
        return [r for r in rows if phone_key(str(r["attributes"].get("jt808_phone", ""))) == wanted
                and r["attributes"].get("jt808_phone")]

    def register(self, phone: str, body: dict[str, Any]) -> tuple[int, str | None]:
        """Issue a fresh token as auth code; refuse an unknown phone or a plate that is not the device's."""
        terminals = self._terminals(phone)
        if not terminals:
            return m.REGISTER_NO_TERMINAL, None
        if len(terminals) > 1:
            log.warning("JT808 phone %s is the jt808_phone of %d devices; refusing", phone, len(terminals))
            return m.REGISTER_TERMINAL_TAKEN, None
        device = terminals[0]
        plate = device["attributes"].get("plate")
        if plate and body.get("plate") and body["plate"] != plate:
            log.warning("JT808 terminal %s registered plate %r, device %s has %r", phone, body["plate"], device["key"], plate)
            return m.REGISTER_NO_VEHICLE, None
        return m.REGISTER_OK, rotate_device_token(self.platform, None, device["key"])

    def authenticate(self, phone: str, auth_code: str) -> str | None:
        """The device key when the auth code is a live token of the device holding this phone."""
        with self.platform.uow() as uow:
            row = uow.devices.token_status(token_hash(auth_code))
        if row is None or row["token_revoked_ms"] is not None or row["device_type"] != TERMINAL_TYPE:
            return None
        if phone_key(str(row["attributes"].get("jt808_phone", ""))) != phone_key(phone):
            return None
        return row["key"]


class PlatformSink:
    """Validated ingestion (channel jt808) in a thread; raises if the database fails, so nothing is acked."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    async def accept(self, lines: list[dict[str, Any]]) -> None:
        await asyncio.to_thread(ingest_lines, self.platform, lines, "jt808")

    async def presence(self, device_key: str, state: str, cause: str) -> None:
        await asyncio.to_thread(record_device_presence, self.platform, device_key, state, cause)
