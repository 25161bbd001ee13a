"""JT/T 808 bit-14 quirk: 2013 terminals that set the 2019 flag are read with the 2013 header; forced versions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from functools import reduce

import pytest

from wuxin.ingest.jt808 import messages as m
from wuxin.ingest.jt808.codec import Jt808Error, decode_frame, encode_frame
from wuxin.ingest.jt808.gateway import InMemoryDirectory, InMemorySink, Session
from wuxin.ingest.jt808.simulator import TerminalSimulator, fix


def wire(raw: bytes) -> bytes:
    """Escaped content between the delimiters, checksum appended, written apart from the codec."""
    out = bytearray()
    for byte in raw + bytes([reduce(lambda a, b: a ^ b, raw, 0)]):
        out += {0x7E: b"\x7d\x02", 0x7D: b"\x7d\x01"}.get(byte, bytes([byte]))
    return bytes(out)


LOCATION = m.build_location(fix(datetime(2026, 9, 21, 12, 0, tzinfo=UTC), 29.8683, 121.544, speed_kmh=42.0))


def quirk_2013(msg_id: int, body: bytes, serial: int = 0x2A, phone: str = "013912345678") -> bytes:
    """A 2013 header (6-byte BCD phone, no version byte) with bit 14 set, as the quirky terminals send it."""
    return (
        msg_id.to_bytes(2, "big")
        + (0x4000 | len(body)).to_bytes(2, "big")
        + bytes.fromhex(phone)
        + serial.to_bytes(2, "big")
        + body
    )


def test_a_2013_location_with_bit_14_is_read_with_the_2013_header() -> None:
    frame = decode_frame(wire(quirk_2013(0x0200, LOCATION)))
    header = frame.header
    assert (header.version, header.bit14_quirk, header.protocol_version) == ("2013", True, None)
    assert (header.phone, header.serial, header.body_length) == ("013912345678", 0x2A, len(LOCATION))
    assert m.parse_location(frame.body).lat == 29.8683


def test_the_2019_header_alone_refuses_the_quirky_frame_as_the_issue_reports() -> None:
    with pytest.raises(Jt808Error, match="terminal phone is not BCD"):
        decode_frame(wire(quirk_2013(0x0200, LOCATION)), "2019")


def test_a_quirky_frame_whose_2019_phone_happens_to_be_bcd_falls_back_on_the_body_length() -> None:
    body = bytes.fromhex("1234567890")  # the 2019 reading's phone would be 39 12 34 56 78 00 11 12 34 56: all BCD
    frame = decode_frame(wire(quirk_2013(0x0900, body, serial=0x11)))
    assert (frame.header.version, frame.header.phone, frame.body) == ("2013", "013912345678", body)


def test_a_short_quirky_heartbeat_falls_back_too() -> None:
    frame = decode_frame(wire(quirk_2013(0x0002, b"")))
    assert frame.header.version == "2013" and frame.header.bit14_quirk and frame.body == b""


def test_real_2019_frames_still_read_as_2019() -> None:
    frame = decode_frame(encode_frame(0x0200, "13912345678", 7, LOCATION, version="2019")[1:-1])
    assert frame.header.version == "2019" and not frame.header.bit14_quirk
    assert frame.header.phone == "00000000013912345678"


def test_when_neither_header_reads_the_error_of_the_readable_header_is_raised() -> None:
    bad = bytearray(wire(quirk_2013(0x0200, LOCATION)))
    bad[-1] ^= 0x01  # the checksum no longer matches either reading
    with pytest.raises(Jt808Error, match="checksum mismatch from terminal 013912345678") as raised:
        decode_frame(bytes(bad))
    assert raised.value.header is not None and raised.value.header.bit14_quirk  # the gateway can answer result 2
    garbage = bytes.fromhex("02004005") + bytes(range(0xA0, 0xB4))  # neither phone is BCD
    with pytest.raises(Jt808Error, match="terminal phone is not BCD"):
        decode_frame(wire(garbage))


def test_forced_versions_read_whatever_bit_14_says() -> None:
    quirky = wire(quirk_2013(0x0200, LOCATION))
    assert decode_frame(quirky, "2013").header.bit14_quirk
    plain_2019 = (
        (0x0200).to_bytes(2, "big")
        + len(LOCATION).to_bytes(2, "big")
        + b"\x01"
        + bytes.fromhex("00000000013912345678")
        + b"\x00\x07"
        + LOCATION
    )  # a 2019 header that forgot bit 14
    with pytest.raises(Jt808Error):
        decode_frame(wire(plain_2019))
    assert decode_frame(wire(plain_2019), "2019").header.phone == "00000000013912345678"
    with pytest.raises(Jt808Error, match="header version 'v3'"):
        decode_frame(quirky, "v3")


def test_the_encoder_builds_the_quirky_frame_byte_for_byte() -> None:
    assert encode_frame(0x0200, "013912345678", 0x2A, LOCATION, bit14_quirk=True)[1:-1] == wire(
        quirk_2013(0x0200, LOCATION)
    )


def test_a_terminal_provisioned_2019_may_leave_bit_14_clear_and_an_auto_one_may_not() -> None:
    builder = TerminalSimulator("13912345678", "2019")
    frame = builder.register()[0]
    cleared = bytearray(frame)
    cleared[3] &= ~0x40  # bit 14 off; the checksum covers it, so fix it
    cleared[-2] ^= 0x40
    directory = InMemoryDirectory({"13912345678": ("truck-9", "T1")})
    session = Session(directory, InMemorySink(), lambda: datetime.now(UTC))
    (refusal,) = asyncio.run(session.handle([bytes(cleared[1:-1])]))  # read as 2013: the length does not fit
    refused = decode_frame(refusal[1:-1])
    assert refused.header.msg_id == m.GENERAL_RESPONSE
    assert m.parse_general_response(refused.body)["result"] == m.RESULT_MESSAGE_ERROR
    forced = InMemoryDirectory()
    forced.add("13912345678", "truck-9", "T1", header_version="2019")
    session = Session(forced, InMemorySink(), lambda: datetime.now(UTC))
    (reply,) = asyncio.run(session.handle([bytes(cleared[1:-1])]))
    response = decode_frame(reply[1:-1])
    assert response.header.msg_id == m.REGISTER_RESPONSE and response.header.version == "2019"


class CountingDirectory(InMemoryDirectory):
    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def header_version(self, phone: str) -> str:
        self.asked.append(phone)
        return super().header_version(phone)


def test_the_header_version_is_asked_only_for_a_registering_or_authenticated_phone_and_kept_bounded() -> None:
    from wuxin.ingest.jt808.gateway import HEADER_VERSIONS_KEPT

    directory = CountingDirectory()
    session = Session(directory, InMemorySink(), lambda: datetime.now(UTC))
    strangers = [TerminalSimulator(f"1390000{n:04d}") for n in range(50)]
    for sim in strangers:  # heartbeats of unknown SIMs before any login: no lookup at all
        asyncio.run(session.handle([sim.heartbeat()[0][1:-1]]))
    assert directory.asked == []
    for sim in strangers:  # registrations: one lookup each, the memory bounded
        asyncio.run(session.handle([sim.register()[0][1:-1]]))
    assert len(directory.asked) == 50 and len(session._header_versions) == HEADER_VERSIONS_KEPT
