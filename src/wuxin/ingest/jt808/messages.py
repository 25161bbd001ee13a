"""JT/T 808 message bodies: parse and build them, and turn locations into import lines.

Pure code. Terminal -> platform: 0x0100 register, 0x0102 authenticate, 0x0002 heartbeat,
0x0003 logout, 0x0200 location, 0x0704 batch location. Platform -> terminal: 0x8001 general
response, 0x8100 register response. Commands and their answers (0x8103/0x8104/0x8201/0x8300/0x8500,
0x0001/0x0104/0x0201/0x0500) are in wuxin.ingest.jt808.commands.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from wuxin.indicators.days import CHINA_TZ  # 0x0200 times are BCD in GMT+8
from wuxin.ingest.jt808.codec import Frame, Jt808Error

TERMINAL_RESPONSE = 0x0001
HEARTBEAT = 0x0002
LOGOUT = 0x0003
REGISTER = 0x0100
AUTHENTICATE = 0x0102
LOCATION = 0x0200
BATCH_LOCATION = 0x0704
GENERAL_RESPONSE = 0x8001
REGISTER_RESPONSE = 0x8100

RESULT_OK = 0
RESULT_FAILURE = 1
RESULT_MESSAGE_ERROR = 2
RESULT_UNSUPPORTED = 3

REGISTER_OK = 0
REGISTER_VEHICLE_TAKEN = 1
REGISTER_NO_VEHICLE = 2
REGISTER_TERMINAL_TAKEN = 3
REGISTER_NO_TERMINAL = 4

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

STATUS_ACC_ON = 1 << 0
STATUS_POSITIONED = 1 << 1
STATUS_SOUTH = 1 << 2
STATUS_WEST = 1 << 3
STATUS_OIL_CUT = 1 << 10  # oil circuit cut (2019 status bit 10)
STATUS_CIRCUIT_CUT = 1 << 11  # electric circuit cut (bit 11)
STATUS_DOORS_LOCKED = 1 << 12  # doors locked (bit 12)
VEHICLE_STATUS_BITS = {
    "oil_cut": STATUS_OIL_CUT,
    "circuit_cut": STATUS_CIRCUIT_CUT,
    "doors_locked": STATUS_DOORS_LOCKED,
}

# Alarm bit -> platform event (scenarios.md, the GPS terminal's thing model). Bit 27 has no event in
# the scenario table yet; `illegal_ignition` is the proposed name.
ALARM_EVENTS: dict[int, str] = {
    0: "sos",
    1: "overspeed",
    8: "power_cut",  # terminal main power cut (掉电)
    26: "theft",  # vehicle stolen, via the anti-theft device
    27: "illegal_ignition",
    28: "illegal_move",  # illegal displacement
}

ITEM_MILEAGE = 0x01  # DWORD, 1/10 km
ITEM_FUEL = 0x02  # WORD, 1/10 L
ITEM_SIGNAL = 0x30  # BYTE, wireless signal strength
ITEM_SATELLITES = 0x31  # BYTE, GNSS satellites in view

_LOCATION_FIXED = struct.Struct(">IIIIHHH6s")  # 28 bytes
_GENERAL_RESPONSE = struct.Struct(">HHB")
_DWORD = struct.Struct(">I")
_WORD = struct.Struct(">H")


@dataclass(frozen=True, slots=True)
class Location:
    """One 0x0200 location report, degrees signed by status bits 2-3."""

    alarm: int
    status: int
    lat: float
    lon: float
    altitude_m: int
    speed_kmh: float
    heading_deg: int
    time: datetime | None  # aware, GMT+8 as sent; None when the BCD time is not a real time
    mileage_km: float | None = None
    fuel_l: float | None = None
    signal_strength: int | None = None
    satellites: int | None = None
    extras: dict[int, bytes] = field(default_factory=dict)  # other items, raw

    @property
    def acc_on(self) -> bool:
        """Ignition (ACC) on, status bit 0."""
        return bool(self.status & STATUS_ACC_ON)

    @property
    def positioned(self) -> bool:
        """GNSS fix valid, status bit 1."""
        return bool(self.status & STATUS_POSITIONED)


# ---------------------------------------------------------------- parsing


def parse_bcd_time(data: bytes) -> datetime | None:
    """BCD YYMMDDhhmmss in GMT+8 to an aware datetime; None if it is no real time."""
    digits = data.hex()
    if len(digits) != 12 or not digits.isdigit():
        return None
    try:
        return datetime(
            2000 + int(digits[0:2]),
            int(digits[2:4]),
            int(digits[4:6]),
            int(digits[6:8]),
            int(digits[8:10]),
            int(digits[10:12]),
            tzinfo=CHINA_TZ,
        )
    except ValueError:
        return None


def parse_location(body: bytes, start: int = 0, end: int | None = None) -> Location:
    """Parse a location body (28 fixed bytes then additional items) from body[start:end]."""
    end = len(body) if end is None else end
    if end - start < _LOCATION_FIXED.size:
        raise Jt808Error(f"JT808 location body too short: {end - start} bytes, want at least 28")
    alarm, status, lat_raw, lon_raw, altitude, speed, heading, when = _LOCATION_FIXED.unpack_from(body, start)
    lat = lat_raw / 1e6
    lon = lon_raw / 1e6
    items = _parse_items(body, start + _LOCATION_FIXED.size, end)
    return Location(
        alarm,
        status,
        -lat if status & STATUS_SOUTH else lat,
        -lon if status & STATUS_WEST else lon,
        altitude,
        speed / 10,
        heading,
        parse_bcd_time(when),
        **items,
    )


def _parse_items(body: bytes, pos: int, end: int) -> dict[str, Any]:
    """Additional items (id BYTE, length BYTE, value); unknown or odd ones kept raw, never fail."""
    known: dict[str, Any] = {}
    extras: dict[int, bytes] = {}
    while pos < end:
        item_id = body[pos]
        length = body[pos + 1] if pos + 1 < end else 0
        value = body[pos + 2 : min(pos + 2 + length, end)]
        pos += 2 + length
        name, decoded = _known_item(item_id, value)
        if name is None or pos > end:
            extras[item_id] = value
        else:
            known[name] = decoded
    known["extras"] = extras
    return known


def _known_item(item_id: int, value: bytes) -> tuple[str | None, Any]:
    """Name and value of a known item of the right size, else (None, None)."""
    if item_id == ITEM_MILEAGE and len(value) == 4:
        return "mileage_km", _DWORD.unpack(value)[0] / 10
    if item_id == ITEM_FUEL and len(value) == 2:
        return "fuel_l", _WORD.unpack(value)[0] / 10
    if item_id == ITEM_SIGNAL and len(value) == 1:
        return "signal_strength", value[0]
    if item_id == ITEM_SATELLITES and len(value) == 1:
        return "satellites", value[0]
    return None, None


def parse_batch_location(body: bytes) -> tuple[int, list[Location]]:
    """0x0704: (data type 0 normal / 1 blind-area resend, locations)."""
    if len(body) < 3:
        raise Jt808Error(f"JT808 batch location body too short: {len(body)} bytes")
    count, kind = _WORD.unpack_from(body)[0], body[2]
    pos, locations = 3, []
    for number in range(1, count + 1):
        if pos + 2 > len(body):
            raise Jt808Error(f"JT808 batch location truncated at item {number} of {count}")
        (length,) = _WORD.unpack_from(body, pos)
        if pos + 2 + length > len(body):
            raise Jt808Error(f"JT808 batch location item {number} of {count} wants {length} bytes, body ends")
        locations.append(parse_location(body, pos + 2, pos + 2 + length))
        pos += 2 + length
    return kind, locations


def _text(data: bytes) -> str:
    """A GBK STRING or fixed-width field without padding; hex when it is not printable text."""
    text = data.rstrip(b"\x00 ").decode("gbk", errors="replace")
    return text if text.isprintable() else data.hex()


def parse_register(body: bytes, version: str) -> dict[str, Any]:
    """0x0100: the 2019, 2013 or 2011 layout (2011 recognised by its shorter body)."""
    widths = {"2019": (11, 30, 30), "2013": (5, 20, 7), "2011": (5, 8, 7)}
    layout = version if version == "2019" else ("2013" if len(body) >= 37 else "2011")
    maker, model, terminal = widths[layout]
    fixed = 4 + maker + model + terminal + 1
    if len(body) < fixed:
        raise Jt808Error(f"JT808 register body too short for the {layout} layout: {len(body)} bytes, want {fixed}")
    province, city = struct.unpack_from(">HH", body)
    pos = 4
    fields = []
    for width in (maker, model, terminal):
        fields.append(_text(body[pos : pos + width]))
        pos += width
    return {
        "layout": layout,
        "province_id": province,
        "city_id": city,
        "manufacturer_id": fields[0],
        "terminal_model": fields[1],
        "terminal_id": fields[2],
        "plate_color": body[pos],
        "plate": _text(body[pos + 1 :]),
    }


def parse_authenticate(body: bytes, version: str) -> dict[str, Any]:
    """0x0102: the auth code (2019 adds its length byte, IMEI and software version)."""
    if version != "2019":
        return {"auth_code": _text(body)}
    if not body or len(body) < 1 + body[0]:
        raise Jt808Error(f"JT808 2019 authenticate body too short: {len(body)} bytes")
    end = 1 + body[0]
    return {
        "auth_code": _text(body[1:end]),
        "imei": _text(body[end : end + 15]),
        "software_version": _text(body[end + 15 : end + 35]),
    }


def parse_general_response(body: bytes) -> dict[str, int]:
    """0x8001 or 0x0001: reply serial, reply message id, result."""
    if len(body) < _GENERAL_RESPONSE.size:
        raise Jt808Error(f"JT808 general response body too short: {len(body)} bytes, want 5")
    serial, msg_id, result = _GENERAL_RESPONSE.unpack_from(body)
    return {"reply_serial": serial, "reply_msg_id": msg_id, "result": result}


def parse_register_response(body: bytes) -> dict[str, Any]:
    """0x8100: reply serial, result, and the auth code when result is 0."""
    if len(body) < 3:
        raise Jt808Error(f"JT808 register response body too short: {len(body)} bytes, want 3")
    (serial,) = _WORD.unpack_from(body)
    return {"reply_serial": serial, "result": body[2], "auth_code": _text(body[3:]) if body[2] == 0 else None}


# ---------------------------------------------------------------- building


def build_general_response(reply_serial: int, reply_msg_id: int, result: int) -> bytes:
    """0x8001 body."""
    return _GENERAL_RESPONSE.pack(reply_serial, reply_msg_id, result)


def build_register_response(reply_serial: int, result: int, auth_code: str | None) -> bytes:
    """0x8100 body; the auth code only when result is 0."""
    code = auth_code.encode("gbk") if result == REGISTER_OK and auth_code else b""
    return _WORD.pack(reply_serial) + bytes([result]) + code


def encode_bcd_time(when: datetime) -> bytes:
    """An aware datetime to BCD YYMMDDhhmmss in GMT+8."""
    return bytes.fromhex(when.astimezone(CHINA_TZ).strftime("%y%m%d%H%M%S"))


def build_location(location: Location) -> bytes:
    """0x0200 body; sign bits in status follow the signs of lat and lon."""
    status = location.status & ~(STATUS_SOUTH | STATUS_WEST)
    status |= (STATUS_SOUTH if location.lat < 0 else 0) | (STATUS_WEST if location.lon < 0 else 0)
    when = encode_bcd_time(location.time) if location.time else bytes(6)
    fixed = _LOCATION_FIXED.pack(
        location.alarm,
        status,
        round(abs(location.lat) * 1e6),
        round(abs(location.lon) * 1e6),
        location.altitude_m,
        round(location.speed_kmh * 10),
        location.heading_deg,
        when,
    )
    return fixed + _build_items(location)


def _build_items(location: Location) -> bytes:
    """Additional items in id order as terminals usually send them."""
    out = b""
    if location.mileage_km is not None:
        out += bytes([ITEM_MILEAGE, 4]) + _DWORD.pack(round(location.mileage_km * 10))
    if location.fuel_l is not None:
        out += bytes([ITEM_FUEL, 2]) + _WORD.pack(round(location.fuel_l * 10))
    if location.signal_strength is not None:
        out += bytes([ITEM_SIGNAL, 1, location.signal_strength])
    if location.satellites is not None:
        out += bytes([ITEM_SATELLITES, 1, location.satellites])
    for item_id, value in location.extras.items():
        out += bytes([item_id, len(value)]) + value
    return out


def build_batch_location(locations: list[Location], kind: int = 0) -> bytes:
    """0x0704 body."""
    out = _WORD.pack(len(locations)) + bytes([kind])
    for location in locations:
        item = build_location(location)
        out += _WORD.pack(len(item)) + item
    return out


def build_register(
    version: str,
    *,
    province_id: int = 0,
    city_id: int = 0,
    manufacturer_id: str = "WUXIN",
    terminal_model: str = "SIM-1",
    terminal_id: str = "T000001",
    plate_color: int = 1,
    plate: str = "",
) -> bytes:
    """0x0100 body in the 2011, 2013 or 2019 layout."""
    widths = {"2019": (11, 30, 30), "2013": (5, 20, 7), "2011": (5, 8, 7)}[version]
    out = struct.pack(">HH", province_id, city_id)
    for text, width in zip((manufacturer_id, terminal_model, terminal_id), widths, strict=True):
        out += text.encode("gbk")[:width].ljust(width, b"\x00")
    return out + bytes([plate_color]) + plate.encode("gbk")


def build_authenticate(version: str, auth_code: str, imei: str = "", software_version: str = "") -> bytes:
    """0x0102 body; 2019 adds the code's length, IMEI[15] and software version[20]."""
    code = auth_code.encode("gbk")
    if version != "2019":
        return code
    return (
        bytes([len(code)])
        + code
        + imei.encode()[:15].ljust(15, b"\x00")
        + software_version.encode()[:20].ljust(20, b"\x00")
    )


# ---------------------------------------------------------------- to the platform


def epoch_ms(when: datetime) -> int:
    """Aware datetime to UTC epoch milliseconds."""
    return (when - _EPOCH) // _MS


def location_values(location: Location) -> dict[str, Any]:
    """Thing-model values of a JT/T 808 terminal (its pack's GPS terminal type); GNSS values only with a valid fix."""
    values: dict[str, Any] = {}
    if location.positioned:
        values["lat"] = location.lat
        values["lon"] = location.lon
        values["speed_kmh"] = location.speed_kmh
        values["heading_deg"] = location.heading_deg
        values["altitude_m"] = location.altitude_m
    if location.mileage_km is not None:
        values["odometer_km"] = location.mileage_km
    if location.fuel_l is not None:
        values["fuel_l"] = location.fuel_l
    values["acc_on"] = location.acc_on
    values.update(vehicle_bits(location.status))
    return values


def vehicle_bits(status: int) -> dict[str, bool]:
    """What every location's status word says of the vehicle's oil, circuit and doors (bits 10-12): the data
    after a cut or a lock confirms it (or shows it undone)."""
    return {name: bool(status & bit) for name, bit in VEHICLE_STATUS_BITS.items()}


def raised_alarms(previous_alarm: int, alarm: int) -> list[str]:
    """Events for alarm bits that went from 0 to 1, in bit order."""
    raised = alarm & ~previous_alarm
    return [name for bit, name in ALARM_EVENTS.items() if raised >> bit & 1]


def event_params(event: str, location: Location) -> dict[str, Any]:
    """Parameters the thing model declares for the event, from the same report (fix permitting)."""
    if event == "power_cut" or not location.positioned:
        return {}
    if event == "overspeed":
        return {"speed_kmh": location.speed_kmh}
    return {"lat": location.lat, "lon": location.lon}


def location_lines(device_key: str, locations: list[Location], previous_alarm: int) -> tuple[list[dict[str, Any]], int]:
    """Bulk-import lines (readings, then events on rising alarm bits) and the last alarm word.

    Locations without a real time are skipped: the caller decides what to answer.
    """
    lines: list[dict[str, Any]] = []
    for location in locations:
        if location.time is None:
            continue
        ts = epoch_ms(location.time)
        lines.append({"device": device_key, "ts": ts, "values": location_values(location)})
        for event in raised_alarms(previous_alarm, location.alarm):
            lines.append({"device": device_key, "ts": ts, "event": event, "params": event_params(event, location)})
        previous_alarm = location.alarm
    return lines, previous_alarm


# ---------------------------------------------------------------- for people


def location_json(location: Location) -> dict[str, Any]:
    """The decode CLI's view of a location."""
    out: dict[str, Any] = {
        "alarm": location.alarm,
        "status": location.status,
        "lat": location.lat,
        "lon": location.lon,
        "altitude_m": location.altitude_m,
        "speed_kmh": location.speed_kmh,
        "heading_deg": location.heading_deg,
        "time": location.time.isoformat() if location.time else None,
    }
    if location.mileage_km is not None:
        out["mileage_km"] = location.mileage_km
    if location.fuel_l is not None:
        out["fuel_l"] = location.fuel_l
    extras: dict[str, Any] = {}
    if location.signal_strength is not None:
        extras["signal_strength"] = location.signal_strength
    if location.satellites is not None:
        extras["satellites"] = location.satellites
    extras.update({f"0x{item_id:02x}": value.hex() for item_id, value in location.extras.items()})
    out["extras"] = extras
    return out


def body_json(frame: Frame) -> dict[str, Any]:
    """A readable body; raw hex for parts, encrypted bodies and unknown messages."""
    header, body = frame.header, frame.body
    if header.encryption:
        return {"encryption": header.encryption, "raw": body.hex()}
    if header.subpackaged and header.total != 1:
        return {"raw": body.hex()}
    parse = _BODY_JSON.get(header.msg_id)
    return parse(body, header.version) if parse else {"raw": body.hex()}


def _batch_json(body: bytes, version: str) -> dict[str, Any]:
    kind, locations = parse_batch_location(body)
    return {"count": len(locations), "type": kind, "locations": [location_json(loc) for loc in locations]}


_BODY_JSON = {
    HEARTBEAT: lambda body, version: {},
    LOGOUT: lambda body, version: {},
    REGISTER: parse_register,
    AUTHENTICATE: parse_authenticate,
    LOCATION: lambda body, version: location_json(parse_location(body)),
    BATCH_LOCATION: _batch_json,
    GENERAL_RESPONSE: lambda body, version: parse_general_response(body),
    TERMINAL_RESPONSE: lambda body, version: parse_general_response(body),
    REGISTER_RESPONSE: lambda body, version: parse_register_response(body),
}


def frame_json(frame: Frame) -> dict[str, Any]:
    """One frame for support staff: ids in hex, phone as BCD digits, body decoded."""
    header = frame.header
    return {
        "msg_id": f"0x{header.msg_id:04x}",
        "version": header.version,
        "phone": header.phone,
        "serial": header.serial,
        "subpackage": {"total": header.total, "index": header.index} if header.subpackaged else None,
        "body": body_json(frame),
    }
