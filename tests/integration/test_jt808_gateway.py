"""The JT/T 808 gateway over a real loopback TCP socket, driven by the terminal simulator."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from wuxin.ingest.jt808 import messages as m
from wuxin.ingest.jt808.codec import Frame, encode_frame
from wuxin.ingest.jt808.gateway import InMemoryDirectory, InMemorySink, Jt808Gateway
from wuxin.ingest.jt808.simulator import SimulatedTerminal, fix

PHONE = "013912345678"
TERMINAL_IDS = {PHONE: "T000001", "013900000002": "T000002"}
CONNECTED_AT = datetime(2024, 5, 1, 0, 0, tzinfo=UTC)
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


class Env:
    def __init__(self, gateway: Jt808Gateway, sink: InMemorySink, directory: InMemoryDirectory, port: int) -> None:
        self.gateway, self.sink, self.directory, self.port = gateway, sink, directory, port

    async def terminal(self, phone: str = PHONE, version: str = "2013", login: bool = True) -> SimulatedTerminal:
        terminal = SimulatedTerminal(phone, version, terminal_id=TERMINAL_IDS.get(phone[-12:], "T000009"))
        await terminal.connect("127.0.0.1", self.port)
        if login:
            await terminal.login()
        return terminal


def run(test: Callable[[Env], Awaitable[None]], idle_timeout_s: float = 5.0, max_buffer_bytes: int = 4096) -> None:
    async def main() -> None:
        directory = InMemoryDirectory({PHONE: ("truck-1", "T000001"), "013900000002": ("truck-2", "T000002")})
        sink = InMemorySink()
        gateway = Jt808Gateway(
            directory, sink, idle_timeout_s=idle_timeout_s, now=lambda: CONNECTED_AT, max_buffer_bytes=max_buffer_bytes
        )
        port = await gateway.start("127.0.0.1", 0)
        try:
            await test(Env(gateway, sink, directory, port))
        finally:
            await gateway.stop()

    asyncio.run(main())


def result(frame: Frame) -> dict[str, Any]:
    assert frame.header.msg_id == m.GENERAL_RESPONSE
    return m.parse_general_response(frame.body)


def test_register_authenticate_heartbeat_location_logout() -> None:
    async def scenario(env: Env) -> None:
        t = await env.terminal(login=False)
        (reg,) = await t.request(t.builder.register("粤B12345"))
        assert reg.header.msg_id == m.REGISTER_RESPONSE and reg.header.phone == PHONE
        reply = m.parse_register_response(reg.body)
        assert reply["result"] == 0 and reply["reply_serial"] == 1 and len(reply["auth_code"]) == 16
        (auth,) = await t.request(t.builder.authenticate(reply["auth_code"]))
        assert result(auth) == {"reply_serial": 2, "reply_msg_id": 0x0102, "result": 0}
        (beat,) = await t.request(t.builder.heartbeat())
        assert result(beat)["result"] == 0
        loc = fix(T0, 31.2304, 121.4737, speed_kmh=60.5, heading_deg=90, mileage_km=1500.2, alarm=1 << 8)
        (ack,) = await t.request(t.builder.location(loc))
        assert result(ack) == {"reply_serial": 4, "reply_msg_id": 0x0200, "result": 0}
        ts = int(T0.timestamp() * 1000)
        assert env.sink.lines == [
            {
                "device": "truck-1",
                "ts": ts,
                "values": {
                    "lat": 31.2304,
                    "lon": 121.4737,
                    "speed_kmh": 60.5,
                    "heading_deg": 90,
                    "altitude_m": 0,
                    "odometer_km": 1500.2,
                    "acc_on": True,
                    "oil_cut": False,  # status bits 10-12: every location says what a cut would have changed
                    "circuit_cut": False,
                    "doors_locked": False,
                },
            },
            {"device": "truck-1", "ts": ts, "event": "power_cut", "params": {}},
        ]
        (state,) = env.gateway.sessions.values()
        assert state.device_key == "truck-1" and state.connected_at == CONNECTED_AT
        (bye,) = await t.request(t.builder.logout())
        assert result(bye)["result"] == 0 and not state.authenticated
        (late,) = await t.request(t.builder.location(loc))
        assert result(late)["result"] == 1 and len(env.sink.lines) == 2
        await t.close()

    run(scenario)


def test_presence_follows_login_heartbeat_logout_and_a_lost_connection() -> None:
    async def scenario(env: Env) -> None:
        t = await env.terminal()  # register + authenticate
        await t.request(t.builder.heartbeat())
        await t.request(t.builder.logout())
        assert env.sink.presence_changes == [
            ("truck-1", "online", "jt808_authenticated"),
            ("truck-1", "online", "jt808_heartbeat"),
            ("truck-1", "offline", "jt808_logout"),
        ]
        await t.close()  # logged out already: closing says nothing more
        other = await env.terminal("013900000002")
        await other.close()  # gone without a logout
        for _ in range(100):
            if len(env.sink.presence_changes) == 5:
                break
            await asyncio.sleep(0.02)
        assert env.sink.presence_changes[3:] == [
            ("truck-2", "online", "jt808_authenticated"),
            ("truck-2", "offline", "jt808_connection_closed"),
        ]

    run(scenario)


def test_an_idle_terminal_goes_offline_and_a_stranger_has_no_presence() -> None:
    async def scenario(env: Env) -> None:
        t = await env.terminal()
        stranger = await env.terminal("013900000009", login=False)
        await stranger.request(stranger.builder.heartbeat())  # not authenticated: answered, no presence
        assert await t.at_eof(timeout_s=3) and await stranger.at_eof(timeout_s=3)
        await asyncio.sleep(0.05)
        assert env.sink.presence_changes == [
            ("truck-1", "online", "jt808_authenticated"),
            ("truck-1", "offline", "jt808_idle_timeout"),
        ]

    run(scenario, idle_timeout_s=0.3)


def test_a_failing_presence_store_never_drops_the_terminal() -> None:
    async def scenario(env: Env) -> None:
        async def broken(*_args) -> None:
            raise RuntimeError("database down")

        env.sink.presence = broken
        t = await env.terminal()
        (beat,) = await t.request(t.builder.heartbeat())
        assert result(beat)["result"] == 0
        (ack,) = await t.request(t.builder.location(fix(T0, 31.0, 121.0)))
        assert result(ack)["result"] == 0 and len(env.sink.lines) == 1
        await t.close()

    run(scenario)


def test_2019_terminal_gets_2019_answers_and_is_stored() -> None:
    async def scenario(env: Env) -> None:
        t = await env.terminal("00000000013900000002", version="2019")
        (ack,) = await t.request(t.builder.location(fix(T0, 22.5, 113.9, fuel_l=33.3)))
        assert ack.header.version == "2019" and ack.header.phone == "00000000013900000002"
        assert result(ack)["result"] == 0
        assert env.sink.lines[0]["device"] == "truck-2" and env.sink.lines[0]["values"]["fuel_l"] == 33.3
        await t.close()

    run(scenario)


def test_unauthenticated_location_is_refused_and_not_stored() -> None:
    async def scenario(env: Env) -> None:
        t = await env.terminal(login=False)
        (ack,) = await t.request(t.builder.location(fix(T0, 30, 120)))
        assert result(ack)["result"] == 1 and env.sink.lines == []
        (auth,) = await t.request(t.builder.authenticate("guessed-code"))
        assert result(auth)["result"] == 1
        await t.close()

    run(scenario)


def test_unknown_terminal_register_gets_result_4() -> None:
    async def scenario(env: Env) -> None:
        t = await env.terminal("013999999999", login=False)
        (reg,) = await t.request(t.builder.register())
        assert m.parse_register_response(reg.body) == {"reply_serial": 1, "result": 4, "auth_code": None}
        await t.close()

    run(scenario)


def test_a_registered_terminal_is_never_registered_again_and_keeps_its_code() -> None:
    async def scenario(env: Env) -> None:
        real = await env.terminal()
        code = real.auth_code
        await real.close()
        impostor = await env.terminal(login=False)  # the same phone and terminal id: still no new code
        assert await impostor.register() == {"reply_serial": 1, "result": m.REGISTER_TERMINAL_TAKEN, "auth_code": None}
        assert (await impostor.register(terminal_id="T999999"))["result"] == m.REGISTER_NO_TERMINAL
        back = await env.terminal(login=False)
        assert await back.authenticate(code)
        await back.close()
        await impostor.close()

    run(scenario)


def test_sink_failure_answers_1_and_the_resend_is_stored_once_with_its_events() -> None:
    async def scenario(env: Env) -> None:
        t = await env.terminal()
        loc = fix(T0, 30, 120, alarm=1)  # SOS
        env.sink.fail_next = 1
        (failed,) = await t.request(t.builder.location(loc))
        assert result(failed)["result"] == 1 and env.sink.lines == []
        (resent,) = await t.request(t.builder.location(loc))
        assert result(resent)["result"] == 0
        assert [line.get("event") for line in env.sink.lines] == [None, "sos"]
        await t.close()

    run(scenario)


def test_bad_checksum_answers_2_and_connection_goes_on() -> None:
    async def scenario(env: Env) -> None:
        t = await env.terminal()
        frame = t.builder.location(fix(T0, 30, 120))[0]
        broken = (
            frame[:-2]
            + bytes([frame[-2] ^ 0x55 if frame[-2] ^ 0x55 not in (0x7E, 0x7D) else frame[-2] ^ 0x11])
            + b"\x7e"
        )
        (ack,) = await t.request([broken])
        assert result(ack)["result"] == 2 and result(ack)["reply_msg_id"] == 0x0200
        (beat,) = await t.request(t.builder.heartbeat())
        assert result(beat)["result"] == 0 and env.sink.lines == []
        await t.close()

    run(scenario)


def test_headerless_garbage_frame_is_dropped_without_answer() -> None:
    async def scenario(env: Env) -> None:
        t = await env.terminal()
        await t.send([b"\x7e\x01\x02\x03\x7e"])
        (beat,) = await t.request(t.builder.heartbeat())  # the next answer is the heartbeat's
        assert result(beat)["reply_msg_id"] == 0x0002
        (state,) = env.gateway.sessions.values()
        assert state.bad_frames == 1
        await t.close()

    run(scenario)


def test_frames_split_across_tcp_writes_and_pipelined() -> None:
    async def scenario(env: Env) -> None:
        t = await env.terminal()
        frames = [f for n in range(50) for f in t.builder.location(fix(T0 + timedelta(seconds=n), 30, 120 + n / 1000))]
        stream = b"".join(frames)
        for start in range(0, len(stream), 7):  # odd-sized writes, frames cut anywhere
            await t.send_raw(stream[start : start + 7])
        answers = [await t.receive() for _ in frames]
        assert [result(a)["reply_serial"] for a in answers] == [3 + n for n in range(50)]
        assert all(result(a)["result"] == 0 for a in answers)
        assert [line["values"]["lon"] for line in env.sink.lines] == [120 + n / 1000 for n in range(50)]
        await t.close()

    run(scenario)


def test_subpackaged_batch_location_is_reassembled() -> None:
    async def scenario(env: Env) -> None:
        t = await env.terminal()
        batch = [fix(T0 + timedelta(seconds=n), 30, 120, mileage_km=n) for n in range(30)]
        parts = t.builder.batch_location(batch, part_bytes=200)
        assert len(parts) > 3
        answers = await t.request(parts)
        assert [result(a)["result"] for a in answers] == [0] * len(parts)
        assert [line["values"]["odometer_km"] for line in env.sink.lines] == [float(n) for n in range(30)]
        assert env.sink.batches == 1
        await t.close()

    run(scenario)


def test_half_frame_then_silence_times_out_cleanly(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(env: Env) -> None:
        t = await env.terminal()
        frame = t.builder.heartbeat()[0]
        await t.send_raw(frame[: len(frame) // 2])
        started = asyncio.get_running_loop().time()
        assert await t.at_eof(timeout_s=3)
        assert asyncio.get_running_loop().time() - started < 2
        await asyncio.sleep(0)  # let the handler's finally run
        assert env.gateway.sessions == {} and env.gateway.closed_sessions == 1

    with caplog.at_level(logging.INFO, logger="wuxin.ingest.jt808.gateway"):
        run(scenario, idle_timeout_s=0.2)
    assert "idle for 0.2 s" in caplog.text


def test_oversize_garbage_closes_only_that_connection() -> None:
    async def scenario(env: Env) -> None:
        good = await env.terminal()
        bad = await env.terminal("013900000002", login=False)
        await bad.send_raw(b"\x00" * 600)
        assert await bad.at_eof(timeout_s=3)
        (beat,) = await good.request(good.builder.heartbeat())
        assert result(beat)["result"] == 0
        await good.close()

    run(scenario, max_buffer_bytes=512)


def test_gateway_stop_closes_open_connections() -> None:
    async def scenario(env: Env) -> None:
        t = await env.terminal()
        await env.gateway.stop()
        assert await t.at_eof(timeout_s=3)
        assert env.gateway.sessions == {}

    run(scenario)


def test_stop_lets_a_closing_connection_finish_and_logs_no_error(caplog: pytest.LogCaptureFixture) -> None:
    """A handler still recording its terminal offline when the gateway stops used to be cancelled
    there; asyncio then logged "Exception in callback StreamReaderProtocol..." at error level."""

    async def scenario(env: Env) -> None:
        recording, release = asyncio.Event(), asyncio.Event()
        record = env.sink.presence

        async def slow_presence(device_key: str, state: str, cause: str) -> None:
            if state == "offline":
                recording.set()
                await release.wait()
            await record(device_key, state, cause)

        env.sink.presence = slow_presence
        t = await env.terminal()
        await t.close()
        await recording.wait()  # the handler is in the middle of recording the terminal offline
        stopping = asyncio.create_task(env.gateway.stop())
        await asyncio.sleep(0)  # stop has begun
        release.set()
        await stopping
        for _ in range(3):
            await asyncio.sleep(0)  # let the connection's done-callbacks run
        assert env.sink.presence_changes[-1] == ("truck-1", "offline", "jt808_connection_closed")

    with caplog.at_level(logging.INFO):
        run(scenario)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_encrypted_and_unknown_messages_get_unsupported() -> None:
    async def scenario(env: Env) -> None:
        t = await env.terminal()
        await t.send([encode_frame(0x0900, PHONE, 77, b"\x01"), encode_frame(0x0002, PHONE, 78, encryption=1)])
        first, second = await t.receive(), await t.receive()
        assert (result(first)["reply_serial"], result(first)["result"]) == (77, 3)
        assert (result(second)["reply_serial"], result(second)["result"]) == (78, 3)
        await t.close()

    run(scenario)
