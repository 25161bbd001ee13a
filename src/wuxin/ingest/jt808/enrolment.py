"""JT/T 808 enrolment: may this registration (0x0100) have an auth code, may this authentication (0x0102) pass.

Pure code. The integrator provisions a terminal before it is fitted: its SIM number, the terminal
id the maker gave it (and, if known, the maker id, the model and, for 2019 terminals, the IMEI),
the vehicle it goes into (the device's plate or VIN), and an enrolment window. A registration
gets an auth code only when the terminal's identity and vehicle match and the window is open.
Issuing the code closes the window: any later registration, the same terminal rebooting or
anyone else knowing the SIM number, is answered result 3 "terminal already registered" and no
live code is ever replaced. A terminal that lost its code is enrolled again by the integrator
opening a new window. Result codes are the standard's (0 ok, 1 vehicle taken, 2 no such
vehicle, 3 terminal taken, 4 no such terminal).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Any

from wuxin.ingest.jt808 import messages as m

TERMINAL_ID_PATTERN = re.compile(r"^[0-9A-Z]{1,30}$")  # 终端ID: capitals and digits; 2011/2013 terminals send 7 at most
MANUFACTURER_ID_PATTERN = re.compile(r"^[0-9A-Za-z]{1,11}$")  # 制造商ID: 5 bytes (2013), 11 (2019)
IMEI_PATTERN = re.compile(r"^\d{15}$")
PLATE_COLOR_NONE = 0  # no plate yet: the plate field carries the VIN


@dataclass(frozen=True, slots=True)
class ProvisionedTerminal:
    """What the integrator said of a terminal, and where its enrolment stands."""

    device_key: str
    terminal_id: str
    manufacturer_id: str | None = None
    terminal_model: str | None = None
    imei: str | None = None
    plate: str | None = None  # the vehicle's, from the device's install attributes
    vin: str | None = None
    enrol_until_ms: int | None = None  # end of the enrolment window; None: closed
    enrolled: bool = False  # holds a live auth code


@dataclass(frozen=True, slots=True)
class Verdict:
    """The 0x8100 result code and why, for logs and metrics."""

    result: int
    reason: str


def judge_registration(terminal: ProvisionedTerminal | None, body: dict[str, Any], now_ms: int) -> Verdict:
    """Whether a parsed 0x0100 body may enrol `terminal` (the one provisioned for the frame's phone)."""
    if terminal is None:
        return Verdict(m.REGISTER_NO_TERMINAL, "unknown_phone")
    if not _same_terminal(terminal, body):
        return Verdict(m.REGISTER_NO_TERMINAL, "terminal_mismatch")
    if not vehicle_matches(terminal, body.get("plate_color"), body.get("plate", "")):
        return Verdict(m.REGISTER_NO_VEHICLE, "vehicle_mismatch")
    if terminal.enrolled:
        return Verdict(m.REGISTER_TERMINAL_TAKEN, "already_registered")
    if terminal.enrol_until_ms is None or now_ms > terminal.enrol_until_ms:
        return Verdict(m.REGISTER_NO_TERMINAL, "enrolment_closed")
    return Verdict(m.REGISTER_OK, "enrolled")


def _same_terminal(terminal: ProvisionedTerminal, body: dict[str, Any]) -> bool:
    """Terminal id always; maker id and model when they were provisioned."""
    if not _equal(terminal.terminal_id, str(body.get("terminal_id", "")).upper()):
        return False
    if terminal.manufacturer_id and not _equal(terminal.manufacturer_id, str(body.get("manufacturer_id", ""))):
        return False
    return not terminal.terminal_model or _equal(terminal.terminal_model, str(body.get("terminal_model", "")))


def vehicle_matches(terminal: ProvisionedTerminal, plate_color: int | None, plate: str) -> bool:
    """The plate (or, with plate colour 0, the VIN) is the device's; a device with neither takes any."""
    if not terminal.plate and not terminal.vin:
        return True
    expected = terminal.vin if plate_color == PLATE_COLOR_NONE else terminal.plate
    if not expected:
        return False
    return _equal(expected, plate)


def authentication_refusal(terminal: ProvisionedTerminal, phone_matches: bool, imei: str | None) -> str | None:
    """Why the holder of `terminal`'s auth code may not log in, or None to let it."""
    if not phone_matches:
        return "phone_mismatch"
    if terminal.imei and not _equal(terminal.imei, imei or ""):
        return "imei_mismatch"  # a provisioned IMEI binds the code to a 2019 terminal that sends it
    return None


def _equal(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())
