"""A JT/T 808 terminal simulator: builds frames (2013 or 2019, optionally subpackaged) and
talks to a gateway over a real TCP socket.

It answers the platform's commands as a terminal does (``SimulatedVehicle``): parameter query and
set (a new heartbeat or report interval changes its cadence), text message, location query, and
vehicle control (doors locked, oil and power cut: a cut vehicle stands still in its track and its
reports carry status bits 10-12)."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from wuxin.ingest.jt808 import commands as c
from wuxin.ingest.jt808 import messages as m
from wuxin.ingest.jt808.codec import Frame, FrameSplitter, Jt808Error, decode_frame, encode_frame
from wuxin.ingest.jt808.messages import Location


def fix(
    time: datetime,
    lat: float,
    lon: float,
    *,
    speed_kmh: float = 0.0,
    heading_deg: int = 0,
    altitude_m: int = 0,
    alarm: int = 0,
    acc_on: bool = True,
    positioned: bool = True,
    mileage_km: float | None = None,
    fuel_l: float | None = None,
    signal_strength: int | None = None,
    satellites: int | None = None,
    extras: dict[int, bytes] | None = None,
) -> Location:
    """A location as a terminal would report it (sign bits are set when the body is built)."""
    status = (m.STATUS_ACC_ON if acc_on else 0) | (m.STATUS_POSITIONED if positioned else 0)
    return Location(
        alarm,
        status,
        lat,
        lon,
        altitude_m,
        speed_kmh,
        heading_deg,
        time,
        mileage_km,
        fuel_l,
        signal_strength,
        satellites,
        dict(extras or {}),
    )


COMMAND_IDS = frozenset({c.SET_PARAMETERS, c.QUERY_PARAMETERS, c.QUERY_LOCATION, c.TEXT_MESSAGE, c.VEHICLE_CONTROL})
KM_PER_DEGREE = 111.2


@dataclass
class SimulatedVehicle:
    """The vehicle behind a terminal: where it is, how it moves, its doors, oil and power, its parameters."""

    lat: float = 29.8683
    lon: float = 121.544
    speed_kmh: float = 0.0
    heading_deg: int = 90
    acc_on: bool = False
    doors_locked: bool = False
    oil_cut: bool = False
    circuit_cut: bool = False
    parameters: dict[int, int] = field(
        default_factory=lambda: {0x0001: 60, 0x0027: 600, 0x0029: 30, 0x0055: 120, 0x0056: 10}
    )
    texts: list[str] = field(default_factory=list)  # messages shown on its display

    @property
    def immobilised(self) -> bool:
        return self.oil_cut or self.circuit_cut

    @property
    def report_interval_s(self) -> int:
        """0x0029: seconds between location reports."""
        return self.parameters[0x0029]

    @property
    def heartbeat_interval_s(self) -> int:
        """0x0001: seconds between heartbeats."""
        return self.parameters[0x0001]

    def status(self) -> int:
        return (
            (m.STATUS_ACC_ON if self.acc_on and not self.immobilised else 0)
            | m.STATUS_POSITIONED
            | (c.STATUS_OIL_CUT if self.oil_cut else 0)
            | (c.STATUS_CIRCUIT_CUT if self.circuit_cut else 0)
            | (c.STATUS_DOORS_LOCKED if self.doors_locked else 0)
        )

    def fix(self, time: datetime) -> Location:
        """A report of where it is now, with its status bits (a cut vehicle stands, its ignition dead)."""
        speed = 0.0 if self.immobilised else self.speed_kmh
        return Location(0, self.status(), self.lat, self.lon, 0, speed, self.heading_deg, time)

    def drive(self, seconds: float) -> None:
        """Move along its heading; a cut vehicle does not move (its engine has no fuel or power)."""
        if self.immobilised:
            self.speed_kmh, self.acc_on = 0.0, False
            return
        km = self.speed_kmh * seconds / 3600
        self.lat += km * math.cos(math.radians(self.heading_deg)) / KM_PER_DEGREE
        self.lon += km * math.sin(math.radians(self.heading_deg)) / (KM_PER_DEGREE * math.cos(math.radians(self.lat)))

    def track(self, start: datetime, duration_s: int) -> list[Location]:
        """Reports over duration_s, one per report interval, driving between them."""
        fixes, elapsed = [], 0
        while elapsed < duration_s:
            fixes.append(self.fix(start + timedelta(seconds=elapsed)))
            step = self.report_interval_s
            self.drive(step)
            elapsed += step
        return fixes

    def constrain(self, location: Location) -> Location:
        """A report from elsewhere (the demo's seeded track) as this vehicle can make it: a cut one stands where it
        is with the ignition off; the status carries doors and cut bits."""
        if self.immobilised:
            location = replace(location, lat=self.lat, lon=self.lon, speed_kmh=0.0)
            status = location.status & ~m.STATUS_ACC_ON
        else:
            self.lat, self.lon = location.lat, location.lon
            status = location.status
        status &= ~(c.STATUS_OIL_CUT | c.STATUS_CIRCUIT_CUT | c.STATUS_DOORS_LOCKED)
        return replace(
            location,
            status=status | (self.status() & (c.STATUS_OIL_CUT | c.STATUS_CIRCUIT_CUT | c.STATUS_DOORS_LOCKED)),
        )

    def obey(self, frame: Frame, now: datetime) -> tuple[int, bytes]:
        """Carry out a platform command; (reply message id, reply body)."""
        header, body = frame.header, frame.body
        if header.msg_id == c.SET_PARAMETERS:
            for pid, raw in c.parse_set_parameters(body).items():
                if len(raw) == 4:
                    self.parameters[pid] = int.from_bytes(raw, "big")
            return m.TERMINAL_RESPONSE, m.build_general_response(header.serial, header.msg_id, m.RESULT_OK)
        if header.msg_id == c.QUERY_PARAMETERS:
            return c.QUERY_PARAMETERS_REPLY, c.build_parameters_reply(header.serial, self.parameters)
        if header.msg_id == c.QUERY_LOCATION:
            return c.QUERY_LOCATION_REPLY, c.build_location_reply(header.serial, self.fix(now))
        if header.msg_id == c.TEXT_MESSAGE:
            self.texts.append(c.parse_text(body, header.version))
            return m.TERMINAL_RESPONSE, m.build_general_response(header.serial, header.msg_id, m.RESULT_OK)
        if header.msg_id == c.VEHICLE_CONTROL:
            control = c.parse_vehicle_control(body, header.version)
            if "doors_locked" in control:
                self.doors_locked = control["doors_locked"]
            if "oil_power_cut" in control:
                self.oil_cut = self.circuit_cut = control["oil_power_cut"]
                if self.immobilised:
                    self.speed_kmh, self.acc_on = 0.0, False
            return c.VEHICLE_CONTROL_REPLY, c.build_location_reply(header.serial, self.fix(now))
        return m.TERMINAL_RESPONSE, m.build_general_response(header.serial, header.msg_id, m.RESULT_UNSUPPORTED)


class TerminalSimulator:
    """Frame builder for one terminal; every method returns the frames to send, in order."""

    def __init__(
        self, phone: str, version: str = "2013", *, protocol_version: int = 1, bit14_quirk: bool = False
    ) -> None:
        self.phone = phone
        self.version = version
        self.protocol_version = protocol_version
        self.bit14_quirk = bit14_quirk  # a 2013 terminal that sets bit 14 of the body attributes
        self.serial = 0

    def frames(self, msg_id: int, body: bytes = b"", *, part_bytes: int | None = None) -> list[bytes]:
        """One message as one frame, or as parts of at most part_bytes each."""
        if part_bytes is None:
            return [self._frame(msg_id, body, None)]
        parts = [body[i : i + part_bytes] for i in range(0, len(body), part_bytes)] or [b""]
        return [self._frame(msg_id, part, (len(parts), n)) for n, part in enumerate(parts, start=1)]

    def _frame(self, msg_id: int, body: bytes, subpackage: tuple[int, int] | None) -> bytes:
        self.serial = (self.serial + 1) & 0xFFFF
        return encode_frame(
            msg_id,
            self.phone,
            self.serial,
            body,
            version=self.version,
            protocol_version=self.protocol_version,
            subpackage=subpackage,
            bit14_quirk=self.bit14_quirk,
        )

    def register(self, plate: str = "粤B12345", **fields: object) -> list[bytes]:
        """0x0100 in this terminal's layout."""
        return self.frames(m.REGISTER, m.build_register(self.version, plate=plate, **fields))  # type: ignore[arg-type]

    def authenticate(self, auth_code: str, imei: str = "860000000000001", software_version: str = "1.0") -> list[bytes]:
        """0x0102."""
        return self.frames(m.AUTHENTICATE, m.build_authenticate(self.version, auth_code, imei, software_version))

    def heartbeat(self) -> list[bytes]:
        """0x0002."""
        return self.frames(m.HEARTBEAT)

    def logout(self) -> list[bytes]:
        """0x0003."""
        return self.frames(m.LOGOUT)

    def location(self, location: Location, *, part_bytes: int | None = None) -> list[bytes]:
        """0x0200."""
        return self.frames(m.LOCATION, m.build_location(location), part_bytes=part_bytes)

    def batch_location(self, locations: list[Location], *, kind: int = 0, part_bytes: int | None = None) -> list[bytes]:
        """0x0704."""
        return self.frames(m.BATCH_LOCATION, m.build_batch_location(locations, kind), part_bytes=part_bytes)


DEFAULT_TERMINAL_ID = "T000001"  # build_register's default: what a test directory provisions
DEFAULT_IMEI = "860000000000001"


class SimulatedTerminal:
    """A TerminalSimulator on a real TCP connection, with the identity a real terminal has: the
    terminal id (and maker id, model, IMEI) it registers with, and the auth code it keeps once
    registered, as a terminal keeps it in flash."""

    def __init__(
        self,
        phone: str,
        version: str = "2013",
        *,
        terminal_id: str = DEFAULT_TERMINAL_ID,
        manufacturer_id: str = "WUXIN",
        terminal_model: str = "SIM-1",
        imei: str = DEFAULT_IMEI,
        bit14_quirk: bool = False,
    ) -> None:
        self.builder = TerminalSimulator(phone, version, bit14_quirk=bit14_quirk)
        self.identity = {
            "terminal_id": terminal_id,
            "manufacturer_id": manufacturer_id,
            "terminal_model": terminal_model,
        }
        self.imei = imei
        self.auth_code: str | None = None
        self.vehicle = SimulatedVehicle()
        self.answers_commands = True  # False: a terminal that takes commands and never answers
        self.duplicate_replies = False  # True: every answer is sent twice (a terminal resending on a flaky link)
        self.commands: list[Frame] = []  # platform commands received, in order
        self.clock = lambda: datetime.now().astimezone()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._splitter = FrameSplitter(max_buffer_bytes=1 << 20)
        self._received: list[bytes] = []

    async def connect(self, host: str, port: int) -> None:
        """Open the connection."""
        self._reader, self._writer = await asyncio.open_connection(host, port)

    async def send(self, frames: list[bytes]) -> None:
        """Write frames (pipelined) and wait until the socket took them."""
        assert self._writer is not None, "connect() first"
        self._writer.write(b"".join(frames))
        await self._writer.drain()

    async def send_raw(self, data: bytes) -> None:
        """Write arbitrary bytes, for broken-terminal tests."""
        await self.send([data])

    async def receive(self, timeout_s: float = 5.0) -> Frame:
        """The next frame from the platform that is not a command; commands met on the way are carried out and
        answered (unless answers_commands is off) and kept in `commands`."""
        while True:
            frame = await self._next_frame(timeout_s)
            if frame.header.msg_id not in COMMAND_IDS:
                return frame
            await self._take_command(frame)

    async def _next_frame(self, timeout_s: float) -> Frame:
        assert self._reader is not None, "connect() first"
        async with asyncio.timeout(timeout_s):
            while not self._received:
                data = await self._reader.read(65536)
                if not data:
                    raise ConnectionError(f"JT808 gateway closed the connection of terminal {self.builder.phone}")
                self._received.extend(self._splitter.feed(data))
        return decode_frame(self._received.pop(0))

    async def _take_command(self, frame: Frame) -> None:
        self.commands.append(frame)
        if not self.answers_commands:
            return
        try:
            msg_id, body = self.vehicle.obey(frame, self.clock())
        except Jt808Error:
            msg_id, body = (
                m.TERMINAL_RESPONSE,
                m.build_general_response(frame.header.serial, frame.header.msg_id, m.RESULT_MESSAGE_ERROR),
            )
        reply = self.builder.frames(msg_id, body)
        await self.send(reply + (reply if self.duplicate_replies else []))
        if msg_id != m.TERMINAL_RESPONSE:  # the platform answers a 0x0104 / 0x0201 / 0x0500 with 0x8001
            for _ in range(2 if self.duplicate_replies else 1):
                await self.receive()

    async def await_commands(self, count: int, timeout_s: float = 5.0) -> list[Frame]:
        """Wait until `count` commands have arrived in all (pushed by the platform), answering them; returns them."""
        while len(self.commands) < count:
            frame = await self._next_frame(timeout_s)
            if frame.header.msg_id in COMMAND_IDS:
                await self._take_command(frame)
        return self.commands[:count]

    async def request(self, frames: list[bytes], timeout_s: float = 5.0) -> list[Frame]:
        """Send frames and read one answer per frame."""
        await self.send(frames)
        return [await self.receive(timeout_s) for _ in frames]

    async def login(self, plate: str = "粤B12345", plate_color: int = 1) -> str:
        """Log in with the kept auth code; register first when there is none or it is refused. Raises if refused."""
        if self.auth_code is not None and await self.authenticate(self.auth_code):
            return self.auth_code
        reply = await self.register(plate, plate_color)
        if reply["result"] != m.REGISTER_OK:
            raise ConnectionError(f"JT808 register of terminal {self.builder.phone} refused: result {reply['result']}")
        self.auth_code = str(reply["auth_code"])
        if not await self.authenticate(self.auth_code):
            raise ConnectionError(f"JT808 authentication of terminal {self.builder.phone} refused")
        return self.auth_code

    async def register(self, plate: str = "粤B12345", plate_color: int = 1, **identity: str) -> dict:
        """Send 0x0100 with this terminal's identity (or the one given) and return the parsed 0x8100."""
        fields = {**self.identity, **identity}
        (answer,) = await self.request(self.builder.register(plate, plate_color=plate_color, **fields))
        return m.parse_register_response(answer.body)

    async def authenticate(self, auth_code: str) -> bool:
        """Send 0x0102 (with the IMEI on 2019); True when the platform answered result 0."""
        (answer,) = await self.request(self.builder.authenticate(auth_code, self.imei))
        return m.parse_general_response(answer.body)["result"] == m.RESULT_OK

    async def pipeline(self, stream: bytes, replies: int) -> None:
        """Write a stream of frames while counting answers (two 0x7e each) until all arrived."""
        assert self._reader is not None, "connect() first"
        sender = asyncio.create_task(self.send_raw(stream))
        flags = 0
        while flags < 2 * replies:
            data = await self._reader.read(1 << 16)
            if not data:
                sender.cancel()
                raise ConnectionError(f"JT808 gateway closed terminal {self.builder.phone} after {flags // 2} answers")
            flags += data.count(b"\x7e")
        await sender

    async def at_eof(self, timeout_s: float = 5.0) -> bool:
        """True once the gateway has closed the connection (reads until EOF)."""
        assert self._reader is not None
        try:
            async with asyncio.timeout(timeout_s):
                while await self._reader.read(65536):
                    pass
        except ConnectionError:
            pass
        return True

    async def close(self) -> None:
        """Close the connection."""
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except ConnectionError:
                pass
