"""Property-based fuzzing of the JT/T 808 frame parser and session: no input crashes or hangs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wuxin.ingest.jt808 import messages as m
from wuxin.ingest.jt808.codec import (
    FrameOverflow,
    FrameSplitter,
    Jt808Error,
    decode_frame,
    encode_frame,
    escape,
    unescape,
)
from wuxin.ingest.jt808.gateway import InMemoryDirectory, InMemorySink, Jt808Gateway, Session
from wuxin.ingest.jt808.simulator import SimulatedTerminal, TerminalSimulator, fix

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PHONE = "013912345678"
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def valid_frames() -> list[bytes]:
    sim = TerminalSimulator(PHONE)
    return [
        *sim.register(),
        *sim.authenticate("x"),
        *sim.heartbeat(),
        *sim.location(
            fix(T0, 30, 120, alarm=0x1C000103, mileage_km=5, fuel_l=2, satellites=7, extras={0xE1: b"\x7e\x7d"})
        ),
        *sim.batch_location([fix(T0, -1, -2), fix(T0, 3, 4)], part_bytes=40),
    ]


VALID = valid_frames()


@FUZZ
@given(st.binary(max_size=1200))
def test_decode_frame_raises_only_jt808_errors(data: bytes) -> None:
    try:
        frame = decode_frame(data)
    except Jt808Error:
        return
    assert len(frame.body) == frame.header.body_length


@FUZZ
@given(st.sampled_from(VALID), st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), min_size=1, max_size=4))
def test_mutated_valid_frames_decode_or_fail_cleanly(frame: bytes, flips: list[tuple[int, int]]) -> None:
    data = bytearray(frame[1:-1])
    for position, value in flips:
        data[position % len(data)] = value
    try:
        decoded = decode_frame(bytes(data))
        m.body_json(decoded)
    except Jt808Error:
        pass


@FUZZ
@given(st.binary(min_size=28, max_size=300))
def test_location_bodies_never_fail_past_the_fixed_part(body: bytes) -> None:
    location = m.parse_location(body)
    assert (location.lat <= 0) if location.status & m.STATUS_SOUTH else (location.lat >= 0)
    assert (location.lon <= 0) if location.status & m.STATUS_WEST else (location.lon >= 0)
    m.location_json(location)


@FUZZ
@given(st.binary(max_size=300))
def test_escape_round_trips_and_hides_delimiters(raw: bytes) -> None:
    escaped = escape(raw)
    assert 0x7E not in escaped and unescape(escaped) == raw


@FUZZ
@given(
    st.integers(0, 0xFFFF),
    st.from_regex(r"[0-9]{1,12}", fullmatch=True),
    st.integers(0, 0xFFFF),
    st.binary(max_size=1023),
    st.sampled_from(["2013", "2019"]),
)
def test_encode_decode_round_trip(msg_id: int, phone: str, serial: int, body: bytes, version: str) -> None:
    frame = decode_frame(encode_frame(msg_id, phone, serial, body, version=version)[1:-1])
    assert (frame.header.msg_id, frame.header.serial, frame.body, frame.header.version) == (
        msg_id,
        serial,
        body,
        version,
    )
    assert int(frame.header.phone) == int(phone)


@FUZZ
@given(st.lists(st.sampled_from(VALID + [b"\x00\x01garbage", b"\x7e", b"\x7d"]), max_size=12), st.data())
def test_splitter_output_does_not_depend_on_read_boundaries(pieces: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(pieces)
    whole = FrameSplitter(max_buffer_bytes=1 << 16).feed(stream)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    splitter = FrameSplitter(max_buffer_bytes=1 << 16)
    chunked = [f for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True) for f in splitter.feed(stream[a:b])]
    assert chunked == whole


@FUZZ
@given(st.lists(st.binary(max_size=600), max_size=20))
def test_splitter_memory_stays_bounded(chunks: list[bytes]) -> None:
    splitter = FrameSplitter(max_buffer_bytes=1000)
    for chunk in chunks:
        try:
            splitter.feed(chunk)
        except FrameOverflow:
            return
        assert splitter.pending_bytes <= 1000


def fresh_session() -> Session:
    directory = InMemoryDirectory({PHONE: ("truck-1", "T000001")})
    return Session(directory, InMemorySink(), now=lambda: T0)


@FUZZ
@given(st.lists(st.one_of(st.binary(max_size=200), st.sampled_from([f[1:-1] for f in VALID])), max_size=10))
def test_session_answers_any_frames_without_raising(contents: list[bytes]) -> None:
    session = fresh_session()
    replies = asyncio.run(session.handle(contents))
    assert len(replies) <= len(contents)
    for reply in replies:
        answer = decode_frame(reply[1:-1])
        assert answer.header.msg_id in (m.GENERAL_RESPONSE, m.REGISTER_RESPONSE)


@FUZZ
@given(st.sampled_from(VALID), st.integers(0, 200), st.integers(0, 255))
def test_session_survives_corrupted_locations_after_login(frame: bytes, position: int, value: int) -> None:
    session = fresh_session()
    sim = TerminalSimulator(PHONE)
    (reg,) = asyncio.run(session.handle([sim.register()[0][1:-1]]))
    code = m.parse_register_response(decode_frame(reg[1:-1]).body)["auth_code"]
    asyncio.run(session.handle([sim.authenticate(code)[0][1:-1]]))
    assert session.authenticated
    data = bytearray(frame[1:-1])
    data[position % len(data)] = value
    replies = asyncio.run(session.handle([bytes(data), sim.heartbeat()[0][1:-1]]))
    last = m.parse_general_response(decode_frame(replies[-1][1:-1]).body)
    assert last["reply_msg_id"] == m.HEARTBEAT and last["result"] == 0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=300), st.sampled_from(VALID)), min_size=1, max_size=8))
def test_gateway_over_tcp_survives_any_bytes(chunks: list[bytes]) -> None:
    async def scenario() -> None:
        gateway = Jt808Gateway(
            InMemoryDirectory({PHONE: ("truck-1", "T000001")}), InMemorySink(), idle_timeout_s=0.5, max_buffer_bytes=512
        )
        port = await gateway.start("127.0.0.1", 0)
        try:
            attacker = SimulatedTerminal("013900000009")
            await attacker.connect("127.0.0.1", port)
            try:
                for chunk in chunks:
                    await attacker.send_raw(chunk)
            except ConnectionError:
                pass  # the gateway may close it (overflow); that is allowed
            honest = SimulatedTerminal(PHONE)
            await honest.connect("127.0.0.1", port)
            (beat,) = await honest.request(honest.builder.heartbeat(), timeout_s=3)
            assert m.parse_general_response(beat.body)["result"] == 0
            await honest.close()
            await attacker.close()
        finally:
            await gateway.stop()

    asyncio.run(scenario())
