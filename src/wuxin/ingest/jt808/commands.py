"""JT/T 808 platform commands and the terminal's answers (2013 and 2019 bodies). Pure code.

Platform -> terminal, and what closes it:

| operation          | sent   | answered by                              |
| ------------------ | ------ | ---------------------------------------- |
| set_parameters     | 0x8103 | 0x0001 general reply (result)            |
| query_parameters   | 0x8104 | 0x0104 (reply serial, count, items)      |
| query_location     | 0x8201 | 0x0201 (reply serial, 0x0200 body)       |
| send_text          | 0x8300 | 0x0001 general reply                     |
| lock_doors ...     | 0x8500 | 0x0500 (reply serial, 0x0200 body)       |

0x8103 / 0x0104 items: DWORD parameter id, BYTE length, value (DWORD parameters here).
0x8300: 2013 BYTE flag + GBK text; 2019 BYTE flag + BYTE text type (1 notice, 2 service) + GBK text.
0x8500: 2013 BYTE control flag (bit 0: 1 lock doors, 0 unlock); 2019 WORD count of control types then
per type WORD id + parameters: 0x0001 doors (BYTE 0 unlock, 1 lock), and the makers' range
0xF001-0xFFFF, of which Wuxin uses 0xF001 (BYTE 1 cut oil and power, 0 restore) for the cut used in
auto-loan recovery. The answer's status word tells what the vehicle did: bit 10 oil cut, bit 11
circuit cut, bit 12 doors locked.
"""

from __future__ import annotations

import struct
from typing import Any

from wuxin.ingest.jt808 import messages as m
from wuxin.ingest.jt808.codec import Jt808Error

SET_PARAMETERS = 0x8103
QUERY_PARAMETERS = 0x8104
QUERY_PARAMETERS_REPLY = 0x0104
QUERY_LOCATION = 0x8201
QUERY_LOCATION_REPLY = 0x0201
TEXT_MESSAGE = 0x8300
VEHICLE_CONTROL = 0x8500
VEHICLE_CONTROL_REPLY = 0x0500

STATUS_OIL_CUT, STATUS_CIRCUIT_CUT, STATUS_DOORS_LOCKED = m.STATUS_OIL_CUT, m.STATUS_CIRCUIT_CUT, m.STATUS_DOORS_LOCKED

CONTROL_DOORS = 0x0001  # 2019 control type: doors
CONTROL_OIL_POWER = 0xF001  # makers' range (0xF001-0xFFFF): cut oil and power / restore

# parameter name -> (JT/T 808 id, low, high); all DWORD
PARAMETERS: dict[str, tuple[int, int, int]] = {
    "heartbeat_interval_s": (0x0001, 5, 3600),
    "sleep_report_interval_s": (0x0027, 5, 86_400),
    "report_interval_s": (0x0029, 1, 86_400),
    "max_speed_kmh": (0x0055, 10, 250),
    "overspeed_duration_s": (0x0056, 1, 600),
}
PARAMETER_NAMES = {pid: name for name, (pid, _, _) in PARAMETERS.items()}

_DWORD = struct.Struct(">I")
_WORD = struct.Struct(">H")
TEXT_MAX_BYTES = 1000  # GBK bytes; the body must fit one frame


# ---------------------------------------------------------------- platform -> terminal


def build_set_parameters(values: dict[str, int]) -> bytes:
    """0x8103: BYTE count, then (DWORD id, BYTE 4, DWORD value) per parameter, in id order."""
    items = sorted((PARAMETERS[name][0], int(value)) for name, value in values.items())
    return bytes([len(items)]) + b"".join(_DWORD.pack(pid) + b"\x04" + _DWORD.pack(value) for pid, value in items)


def build_text(text: str, version: str, *, display: bool = True, tts: bool = False, text_type: int = 1) -> bytes:
    """0x8300; flag bit 2 show on the terminal's display, bit 3 read aloud (TTS)."""
    flag = (0x04 if display else 0) | (0x08 if tts else 0)
    data = text.encode("gbk")
    if len(data) > TEXT_MAX_BYTES:
        raise Jt808Error(f"JT808 text message of {len(data)} GBK bytes, max {TEXT_MAX_BYTES}")
    return bytes([flag]) + (bytes([text_type]) if version == "2019" else b"") + data


def build_vehicle_control(
    version: str, *, doors_locked: bool | None = None, oil_power_cut: bool | None = None
) -> bytes:
    """0x8500 in the terminal's version; the 2013 body has no oil/power cut."""
    if version != "2019":
        if oil_power_cut is not None or doors_locked is None:
            raise Jt808Error(
                "JT808 2013 vehicle control (0x8500) only locks or unlocks the doors: "
                "the oil/power cut needs a 2019 terminal"
            )
        return bytes([1 if doors_locked else 0])
    types = []
    if doors_locked is not None:
        types.append(_WORD.pack(CONTROL_DOORS) + bytes([1 if doors_locked else 0]))
    if oil_power_cut is not None:
        types.append(_WORD.pack(CONTROL_OIL_POWER) + bytes([1 if oil_power_cut else 0]))
    return _WORD.pack(len(types)) + b"".join(types)


def parse_vehicle_control(body: bytes, version: str) -> dict[str, bool]:
    """What a 0x8500 asks: {"doors_locked": bool, "oil_power_cut": bool} (the keys present)."""
    if version != "2019":
        if len(body) < 1:
            raise Jt808Error("JT808 vehicle control body is empty")
        return {"doors_locked": bool(body[0] & 1)}
    if len(body) < 2:
        raise Jt808Error(f"JT808 2019 vehicle control body too short: {len(body)} bytes")
    (count,) = _WORD.unpack_from(body)
    out, pos = {}, 2
    for number in range(1, count + 1):
        if pos + 3 > len(body):
            raise Jt808Error(f"JT808 vehicle control truncated at control type {number} of {count}")
        (control,), value = _WORD.unpack_from(body, pos), body[pos + 2]
        pos += 3
        if control == CONTROL_DOORS:
            out["doors_locked"] = bool(value)
        elif control == CONTROL_OIL_POWER:
            out["oil_power_cut"] = bool(value)
        else:
            raise Jt808Error(f"JT808 vehicle control type 0x{control:04x} is not known here")
    return out


def parse_set_parameters(body: bytes) -> dict[int, bytes]:
    """0x8103 (or the items of 0x0104 from offset 0): parameter id -> raw value."""
    return _parameter_items(body, 0)


def parse_text(body: bytes, version: str) -> str:
    """The text of a 0x8300."""
    start = 2 if version == "2019" else 1
    if len(body) < start:
        raise Jt808Error(f"JT808 text message body too short: {len(body)} bytes")
    return body[start:].decode("gbk", errors="replace")


# ---------------------------------------------------------------- terminal -> platform


def build_parameters_reply(reply_serial: int, values: dict[int, int]) -> bytes:
    """0x0104: WORD reply serial, BYTE count, DWORD items."""
    items = sorted(values.items())
    return (
        _WORD.pack(reply_serial)
        + bytes([len(items)])
        + b"".join(_DWORD.pack(pid) + b"\x04" + _DWORD.pack(value) for pid, value in items)
    )


def parse_parameters_reply(body: bytes) -> tuple[int, dict[str, Any]]:
    """0x0104: (reply serial, {name or 0xID: value}); DWORD values as numbers, others as hex."""
    if len(body) < 3:
        raise Jt808Error(f"JT808 parameter query reply too short: {len(body)} bytes, want at least 3")
    (serial,) = _WORD.unpack_from(body)
    values: dict[str, Any] = {}
    for pid, raw in _parameter_items(body, 2).items():
        name = PARAMETER_NAMES.get(pid, f"0x{pid:04x}")
        values[name] = _DWORD.unpack(raw)[0] if len(raw) == 4 else raw.hex()
    return serial, values


def _parameter_items(body: bytes, pos: int) -> dict[int, bytes]:
    if len(body) < pos + 1:
        raise Jt808Error("JT808 parameter list has no count")
    count, pos = body[pos], pos + 1
    items: dict[int, bytes] = {}
    for number in range(1, count + 1):
        if pos + 5 > len(body) or pos + 5 + body[pos + 4] > len(body):
            raise Jt808Error(f"JT808 parameter list truncated at item {number} of {count}")
        (pid,), length = _DWORD.unpack_from(body, pos), body[pos + 4]
        items[pid] = body[pos + 5 : pos + 5 + length]
        pos += 5 + length
    return items


def build_location_reply(reply_serial: int, location: m.Location) -> bytes:
    """0x0201 or 0x0500: WORD reply serial then a 0x0200 body."""
    return _WORD.pack(reply_serial) + m.build_location(location)


def parse_location_reply(body: bytes) -> tuple[int, m.Location]:
    """0x0201 or 0x0500: (reply serial, location)."""
    if len(body) < 2:
        raise Jt808Error(f"JT808 location reply too short: {len(body)} bytes")
    return _WORD.unpack_from(body)[0], m.parse_location(body, 2)


def vehicle_state(location: m.Location) -> dict[str, Any]:
    """What a 0x0500 / 0x0201 says of the vehicle: doors, oil and circuit, ignition, speed, position."""
    out: dict[str, Any] = {
        "doors_locked": bool(location.status & STATUS_DOORS_LOCKED),
        "oil_cut": bool(location.status & STATUS_OIL_CUT),
        "circuit_cut": bool(location.status & STATUS_CIRCUIT_CUT),
        "acc_on": location.acc_on,
        "speed_kmh": location.speed_kmh,
    }
    if location.positioned:
        out.update(lat=location.lat, lon=location.lon)
    if location.time is not None:
        out["time"] = location.time.isoformat()
    return out


# ---------------------------------------------------------------- operations <-> messages


def command_message(operation: str, params: dict[str, Any], version: str) -> tuple[int, bytes]:
    """(message id, body) carrying a Wuxin operation to a terminal speaking `version`."""
    if operation == "query_parameters":
        return QUERY_PARAMETERS, b""
    if operation == "set_parameters":
        return SET_PARAMETERS, build_set_parameters(params)
    if operation == "query_location":
        return QUERY_LOCATION, b""
    if operation == "send_text":
        return TEXT_MESSAGE, build_text(params["text"], version, tts=bool(params.get("tts")))
    controls = {
        "lock_doors": {"doors_locked": True},
        "unlock_doors": {"doors_locked": False},
        "immobilise": {"oil_power_cut": True},
        "restore": {"oil_power_cut": False},
    }
    if operation in controls:
        return VEHICLE_CONTROL, build_vehicle_control(version, **controls[operation])
    raise Jt808Error(f"JT808 has no message for operation {operation!r}")


REPLIES = frozenset({m.TERMINAL_RESPONSE, QUERY_PARAMETERS_REPLY, QUERY_LOCATION_REPLY, VEHICLE_CONTROL_REPLY})


def parse_reply(msg_id: int, body: bytes) -> tuple[int, dict[str, Any]]:
    """A terminal's answer to a platform command: (the serial it answers, what it says)."""
    if msg_id == m.TERMINAL_RESPONSE:
        reply = m.parse_general_response(body)
        return reply["reply_serial"], {"reply_msg_id": reply["reply_msg_id"], "result": reply["result"]}
    if msg_id == QUERY_PARAMETERS_REPLY:
        serial, values = parse_parameters_reply(body)
        return serial, {"parameters": values}
    if msg_id in (QUERY_LOCATION_REPLY, VEHICLE_CONTROL_REPLY):
        serial, location = parse_location_reply(body)
        return serial, {"vehicle": vehicle_state(location)}
    raise Jt808Error(f"JT808 message 0x{msg_id:04x} answers no command")
