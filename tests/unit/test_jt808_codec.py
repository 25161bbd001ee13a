"""JT/T 808 codec and message bodies: hand-built frames, published frames, pure mapping."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from functools import reduce
from pathlib import Path

import pytest

from wuxin.ingest.jt808 import messages as m
from wuxin.ingest.jt808.codec import (
    FrameOverflow,
    FrameSplitter,
    Jt808Error,
    decode_frame,
    encode_frame,
    frames_from_hex,
    xor_checksum,
)
from wuxin.ingest.jt808.simulator import fix

FIXTURES = json.loads((Path(__file__).parents[1] / "fixtures" / "jt808" / "published_frames.json").read_text())


# ---- helpers written independently of the codec


def xor(data: bytes) -> int:
    return reduce(lambda a, b: a ^ b, data, 0)


def wire(raw: bytes) -> bytes:
    """Delimit and escape byte by byte, checksum appended (independent of codec.escape)."""
    out = bytearray(b"\x7e")
    for byte in raw + bytes([xor(raw)]):
        out += {0x7E: b"\x7d\x02", 0x7D: b"\x7d\x01"}.get(byte, bytes([byte]))
    return bytes(out + b"\x7e")


def content(frame: bytes) -> bytes:
    assert frame[0] == 0x7E and frame[-1] == 0x7E
    return frame[1:-1]


# 0x0200 body built by hand: SOS (bit 0) + power cut (bit 8); ACC on, fixed, south, west
LOCATION_BODY = bytes.fromhex(
    "00000101"  # alarm
    "0000000f"  # status: acc, positioned, south (bit 2), west (bit 3)
    "01578cc0"  # lat 22514880 -> 22.51488
    "06ca3a5c"  # lon 113916508 -> 113.916508
    "0047"  # altitude 71 m
    "0355"  # speed 853 -> 85.3 km/h
    "010e"  # heading 270
    "240131235958"  # 2024-01-31 23:59:58 GMT+8
    "010400003039"  # mileage 12345 -> 1234.5 km
    "020201f4"  # fuel 500 -> 50.0 L
    "30011c"  # signal 28
    "310109"  # satellites 9
    "e103aabbcc"  # unknown item, kept raw
)
HEADER_2013 = (
    bytes.fromhex("0200") + bytes([0x00, len(LOCATION_BODY)]) + bytes.fromhex("013912345678") + bytes.fromhex("002a")
)


def test_hand_built_2013_location_decodes_every_field() -> None:
    frame = decode_frame(content(wire(HEADER_2013 + LOCATION_BODY)))
    assert (frame.header.msg_id, frame.header.phone, frame.header.serial) == (0x0200, "013912345678", 42)
    assert frame.header.version == "2013" and frame.header.total is None
    loc = m.parse_location(frame.body)
    assert loc.alarm == 0x101 and loc.status == 0xF
    assert (loc.lat, loc.lon) == (-22.51488, -113.916508)
    assert (loc.altitude_m, loc.speed_kmh, loc.heading_deg) == (71, 85.3, 270)
    assert loc.time is not None and loc.time.isoformat() == "2024-01-31T23:59:58+08:00"
    assert (loc.mileage_km, loc.fuel_l, loc.signal_strength, loc.satellites) == (1234.5, 50.0, 28, 9)
    assert loc.extras == {0xE1: b"\xaa\xbb\xcc"}


def test_hand_built_2019_header_with_version_byte_and_ten_byte_phone() -> None:
    attr = 0x4000 | len(LOCATION_BODY)
    raw = (
        bytes.fromhex("0200")
        + attr.to_bytes(2, "big")
        + b"\x01"
        + bytes.fromhex("00000000013912345678")
        + bytes.fromhex("0007")
    )
    frame = decode_frame(content(wire(raw + LOCATION_BODY)))
    header = frame.header
    assert header.version == "2019" and header.protocol_version == 1
    assert header.phone == "00000000013912345678" and header.serial == 7
    assert header.body_length == len(LOCATION_BODY) and frame.body == LOCATION_BODY


def test_body_attribute_bits_subpackage_and_encryption() -> None:
    body = b"\x01\x02\x03"
    attr = 0x2000 | (1 << 10) | len(body)  # subpackage, RSA, length 3
    raw = (
        bytes.fromhex("0704")
        + attr.to_bytes(2, "big")
        + bytes.fromhex("013912345678")
        + bytes.fromhex("0100")
        + bytes.fromhex("00050002")
    )
    header = decode_frame(content(wire(raw + body))).header
    assert (header.encryption, header.total, header.index, header.body_length, header.serial) == (1, 5, 2, 3, 256)


def test_escapes_in_header_and_checksum_are_undone() -> None:
    # serial 0x7e7d is escaped in the header; pick the last body byte so the checksum is 0x7e too
    head = bytes.fromhex("0002") + b"\x00\x01" + bytes.fromhex("013912345678") + b"\x7e\x7d"
    body = bytes([xor(head) ^ 0x7E])
    frame_bytes = wire(head + body)
    assert frame_bytes.endswith(b"\x7d\x02\x7e") and b"\x7d\x02\x7d\x01" in frame_bytes
    frame = decode_frame(content(frame_bytes))
    assert frame.header.serial == 0x7E7D and frame.body == body


def test_checksum_mismatch_names_terminal_and_both_values() -> None:
    good = wire(HEADER_2013 + LOCATION_BODY)
    want = good[-2]
    bad = good[:-2] + bytes([want ^ 0x01]) + b"\x7e"
    with pytest.raises(Jt808Error) as caught:
        decode_frame(content(bad))
    assert (
        str(caught.value)
        == f"JT808 checksum mismatch from terminal 013912345678: got 0x{want ^ 1:02x}, want 0x{want:02x}"
    )
    assert caught.value.header is not None and caught.value.header.serial == 42


def test_body_length_mismatch_keeps_header() -> None:
    raw = bytes.fromhex("0200") + b"\x00\x05" + bytes.fromhex("013912345678") + b"\x00\x01" + b"\x00\x00"
    with pytest.raises(Jt808Error, match="attribute says 5, got 2") as caught:
        decode_frame(content(wire(raw)))
    assert caught.value.header is not None


@pytest.mark.parametrize(
    ("escaped", "message"),
    [("0002007d03", "bad escape"), ("000200", "too short"), ("0002000001391234567a00010000", "not BCD")],
)
def test_unreadable_frames_have_no_header(escaped: str, message: str) -> None:
    with pytest.raises(Jt808Error, match=message) as caught:
        decode_frame(bytes.fromhex(escaped))
    assert caught.value.header is None


def test_subpackage_index_out_of_range_is_an_error() -> None:
    raw = bytes.fromhex("0200") + b"\x20\x00" + bytes.fromhex("013912345678") + b"\x00\x01" + bytes.fromhex("00020003")
    with pytest.raises(Jt808Error, match="index 3 of 2"):
        decode_frame(content(wire(raw)))


def test_encoder_agrees_with_hand_built_frame() -> None:
    assert encode_frame(0x0200, "013912345678", 42, LOCATION_BODY) == wire(HEADER_2013 + LOCATION_BODY)


@pytest.mark.parametrize("version", ["2013", "2019"])
def test_encode_decode_round_trip_with_subpackage(version: str) -> None:
    frame = decode_frame(
        content(encode_frame(0x0704, "13912345678", 65535, b"\x7e\x7d", version=version, subpackage=(3, 2)))
    )
    assert frame.header.phone.lstrip("0") == "13912345678" and frame.header.version == version
    assert (frame.header.total, frame.header.index, frame.body) == (3, 2, b"\x7e\x7d")


def test_xor_checksum_matches_plain_xor() -> None:
    for data in (b"", b"\x5c", bytes(range(256)), b"\xff" * 1045):
        assert xor_checksum(data) == xor(data)


# ---- stream splitting


def test_splitter_joins_a_frame_cut_into_single_bytes() -> None:
    frame = wire(HEADER_2013 + LOCATION_BODY)
    splitter = FrameSplitter()
    got = [c for byte in frame for c in splitter.feed(bytes([byte]))]
    assert got == [content(frame)] and splitter.pending_bytes == 0


def test_splitter_cuts_frames_joined_in_one_read_and_skips_noise() -> None:
    a, b = wire(HEADER_2013 + LOCATION_BODY), encode_frame(0x0002, "013912345678", 1)
    splitter = FrameSplitter()
    assert splitter.feed(b"noise" + a + b + b[:5]) == [content(a), content(b)]
    assert splitter.feed(b[5:]) == [content(b)]  # the second copy of b, completed across reads
    assert splitter.feed(b"\x7e\x7e\x7e") == []


def test_splitter_bounds_garbage_without_delimiter() -> None:
    splitter = FrameSplitter(max_buffer_bytes=100)
    splitter.feed(b"\x00" * 100)
    with pytest.raises(FrameOverflow, match="101 bytes without a closing 0x7e"):
        splitter.feed(b"\x00")


def test_splitter_bounds_an_unterminated_frame() -> None:
    splitter = FrameSplitter(max_buffer_bytes=100)
    with pytest.raises(FrameOverflow):
        splitter.feed(b"\x7e" + b"\x01" * 200)


def test_frames_from_hex_accepts_spaces_and_optional_delimiters() -> None:
    frame = wire(HEADER_2013 + LOCATION_BODY)
    spaced = " ".join(f"{byte:02X}" for byte in frame)
    assert frames_from_hex(spaced) == [content(frame)]
    assert frames_from_hex(frame[1:-1].hex()) == [content(frame)]
    with pytest.raises(Jt808Error, match="not hex"):
        frames_from_hex("7e0g")


# ---- published frames (tests/fixtures/jt808/SOURCES.md)


def published(key: str):
    (only,) = frames_from_hex(FIXTURES[key])
    return decode_frame(only)


def test_published_location_north_east_with_mileage() -> None:
    frame = published("location_2013_ne_mileage")
    assert (frame.header.phone, frame.header.serial) == ("030300000228", 0x42)
    loc = m.parse_location(frame.body)
    assert (loc.lat, loc.lon, loc.heading_deg, loc.mileage_km) == (23.169716, 113.450696, 5, 114.4)
    assert loc.time == datetime(2018, 9, 21, 8, 14, 57, tzinfo=UTC)
    assert (loc.signal_strength, loc.satellites) == (16, 10)
    assert loc.extras[0xEB].hex().startswith("000c00b2")


def test_published_location_sos_west_keeps_unknown_item() -> None:
    loc = m.parse_location(published("location_2013_sos_west").body)
    assert (loc.alarm, loc.lat, loc.lon, loc.speed_kmh) == (1, 50.871735, -1.255923, 2.0)
    assert loc.extras == {0x36: bytes.fromhex("0002341502cb0c20085c")}


def test_published_batch_location() -> None:
    frame = published("batch_location_2013")
    kind, locations = m.parse_batch_location(frame.body)
    assert (kind, len(locations)) == (1, 8)
    assert (locations[0].lat, locations[0].lon, locations[0].altitude_m) == (22.639634, 114.031952, 370)
    assert [loc.time.second for loc in locations if loc.time] == [24, 53, 27, 56, 30, 0, 33, 2]


def test_published_register_2013_and_2011() -> None:
    r2013 = m.parse_register(published("register_2013").body, "2013")
    assert (r2013["layout"], r2013["terminal_model"], r2013["terminal_id"], r2013["plate"]) == (
        "2013",
        "BSJ-A6-BD",
        "0567872",
        "粤B88888",
    )
    assert (r2013["province_id"], r2013["city_id"]) == (44, 303)
    assert m.parse_register(published("register_2011").body, "2013")["layout"] == "2011"


def test_published_authenticate_heartbeat_and_response() -> None:
    assert m.parse_authenticate(published("authenticate_2013").body, "2013") == {"auth_code": "authentication"}
    assert published("heartbeat_2013").header.serial == 0xB7
    response = published("general_response_8001_bsj_km02")
    assert m.parse_general_response(response.body) == {"reply_serial": 1, "reply_msg_id": 0x0102, "result": 0}


def test_published_frame_with_bad_checksum_is_refused() -> None:
    with pytest.raises(Jt808Error, match="got 0xd0, want 0xf0"):
        published("location_bad_length_and_checksum")


# ---- bodies


def test_additional_items_odd_sizes_and_truncation_never_fail() -> None:
    fixed = LOCATION_BODY[:28]
    loc = m.parse_location(fixed + bytes.fromhex("0102aaaa3105010203"))  # mileage of 2 bytes; truncated item
    assert loc.mileage_km is None and loc.satellites is None
    assert loc.extras == {0x01: b"\xaa\xaa", 0x31: b"\x01\x02\x03"}
    assert m.parse_location(fixed + b"\x99").extras == {0x99: b""}


def test_location_body_shorter_than_28_bytes_is_an_error() -> None:
    with pytest.raises(Jt808Error, match="27 bytes, want at least 28"):
        m.parse_location(LOCATION_BODY[:27])


def test_invalid_bcd_time_is_none_not_a_crash() -> None:
    assert m.parse_bcd_time(bytes(6)) is None
    assert m.parse_bcd_time(bytes.fromhex("2413010000ff")) is None


def test_register_and_authenticate_2019_layouts() -> None:
    body = m.build_register("2019", manufacturer_id="M1", terminal_model="X" * 30, terminal_id="ID9", plate="京A00001")
    assert len(body) == 4 + 11 + 30 + 30 + 1 + len("京A00001".encode("gbk"))
    parsed = m.parse_register(body, "2019")
    assert (parsed["terminal_model"], parsed["terminal_id"], parsed["plate"]) == ("X" * 30, "ID9", "京A00001")
    auth = bytes([4]) + b"abcd" + b"860000000000001" + b"v2.1".ljust(20, b"\x00")
    assert m.parse_authenticate(auth, "2019") == {
        "auth_code": "abcd",
        "imei": "860000000000001",
        "software_version": "v2.1",
    }


def test_build_location_round_trips_signs() -> None:
    when = datetime(2024, 1, 31, 15, 59, 58, tzinfo=UTC)
    loc = m.parse_location(m.build_location(fix(when, -33.8688, -70.6693, speed_kmh=12.3, fuel_l=7.5)))
    assert (loc.lat, loc.lon, loc.speed_kmh, loc.fuel_l) == (-33.8688, -70.6693, 12.3, 7.5)
    assert loc.status & 0b1100 == 0b1100 and loc.time == when


# ---- to the platform


def test_location_lines_values_and_utc_epoch_ms() -> None:
    loc = m.parse_location(LOCATION_BODY)
    lines, alarm = m.location_lines("truck-7", [loc], previous_alarm=0)
    ts = int(datetime(2024, 1, 31, 15, 59, 58, tzinfo=UTC).timestamp() * 1000)
    assert lines[0] == {
        "device": "truck-7",
        "ts": ts,
        "values": {
            "lat": -22.51488,
            "lon": -113.916508,
            "speed_kmh": 85.3,
            "heading_deg": 270,
            "altitude_m": 71,
            "odometer_km": 1234.5,
            "fuel_l": 50.0,
            "acc_on": True,
            "oil_cut": False,
            "circuit_cut": False,
            "doors_locked": False,
        },
    }
    assert lines[1:] == [
        {"device": "truck-7", "ts": ts, "event": "sos", "params": {"lat": -22.51488, "lon": -113.916508}},
        {"device": "truck-7", "ts": ts, "event": "power_cut", "params": {}},
    ]
    assert alarm == 0x101


def test_no_fix_means_no_position_values_not_zero() -> None:
    when = datetime(2024, 1, 1, tzinfo=UTC)
    (line,), _ = m.location_lines("truck-7", [fix(when, 0, 0, positioned=False, acc_on=False)], 0)
    assert line["values"] == {"acc_on": False, "oil_cut": False, "circuit_cut": False, "doors_locked": False}


def test_every_location_carries_the_oil_circuit_and_door_bits_so_the_data_after_a_cut_confirms_it() -> None:
    when = datetime(2024, 1, 1, tzinfo=UTC)
    cut = replace(
        fix(when, 30, 120, acc_on=False), status=m.STATUS_POSITIONED | m.STATUS_OIL_CUT | m.STATUS_CIRCUIT_CUT
    )
    (line,), _ = m.location_lines("truck-7", [cut], 0)
    assert line["values"]["oil_cut"] is True and line["values"]["circuit_cut"] is True
    assert line["values"]["doors_locked"] is False and line["values"]["acc_on"] is False
    locked = replace(cut, status=m.STATUS_POSITIONED | m.STATUS_DOORS_LOCKED)
    (line,), _ = m.location_lines("truck-7", [locked], 0)
    assert (line["values"]["oil_cut"], line["values"]["circuit_cut"], line["values"]["doors_locked"]) == (
        False,
        False,
        True,
    )


def test_events_fire_on_rising_alarm_bits_only() -> None:
    when = datetime(2024, 1, 1, tzinfo=UTC)
    theft, move, ignition = 1 << 26, 1 << 28, 1 << 27
    locations = [fix(when, 30, 120, alarm=a) for a in (theft, theft | move, move | ignition | 2, 0, theft)]
    lines, alarm = m.location_lines("truck-7", locations, previous_alarm=0)
    events = [line["event"] for line in lines if "event" in line]
    assert events == ["theft", "illegal_move", "overspeed", "illegal_ignition", "theft"]
    assert alarm == theft
    overspeed = next(line for line in lines if line.get("event") == "overspeed")
    assert overspeed["params"] == {"speed_kmh": 0.0}
    unfixed, _ = m.location_lines("truck-7", [fix(when, 0, 0, alarm=1, positioned=False)], 0)
    assert unfixed[1] == {"device": "truck-7", "ts": unfixed[0]["ts"], "event": "sos", "params": {}}


def test_timeless_locations_are_skipped() -> None:
    lines, _ = m.location_lines("truck-7", [fix(None, 30, 120, alarm=1)], 0)  # type: ignore[arg-type]
    assert lines == []
