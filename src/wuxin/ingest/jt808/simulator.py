"""A JT/T 808 terminal simulator: builds frames (2013 or 2019, optionally subpackaged) and
talks to a gateway over a real TCP socket."""
from __future__ import annotations

import asyncio
from datetime import datetime

from wuxin.ingest.jt808 import messages as m
from wuxin.ingest.jt808.codec import Frame, FrameSplitter, decode_frame, encode_frame
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
        alarm, status, lat, lon, altitude_m, speed_kmh, heading_deg, time,
        mileage_km, fuel_l, signal_strength, satellites, dict(extras or {}),
    )


class TerminalSimulator:
    """Frame builder for one terminal; every method returns the frames to send, in order."""

    def __init__(self, phone: str, version: str = "2013", *, protocol_version: int = 1, bit14_quirk: bool = False) -> None:
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
            msg_id, self.phone, self.serial, body,
            version=self.version, protocol_version=self.protocol_version, subpackage=subpackage,
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

    def __init__(self, phone: str, version: str = "2013", *, terminal_id: str = DEFAULT_TERMINAL_ID,
                 manufacturer_id: str = "WUXIN", terminal_model: str = "SIM-1", imei: str = DEFAULT_IMEI,
                 bit14_quirk: bool = False) -> None:
        self.builder = TerminalSimulator(phone, version, bit14_quirk=bit14_quirk)
        self.identity = {"terminal_id": terminal_id, "manufacturer_id": manufacturer_id, "terminal_model": terminal_model}
        self.imei = imei
        self.auth_code: str | None = None
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
        """The next frame from the platform."""
        assert self._reader is not None, "connect() first"
        async with asyncio.timeout(timeout_s):
            while not self._received:
                data = await self._reader.read(65536)
                if not data:
                    raise ConnectionError(f"JT808 gateway closed the connection of terminal {self.builder.phone}")
                self._received.extend(self._splitter.feed(data))
        return decode_frame(self._received.pop(0))

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
