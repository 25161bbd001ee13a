"""JT/T 808 on the platform: simulator over real TCP -> gateway -> registry-issued auth codes -> readings in the database."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from wuxin.ingest.jt808 import messages as m
from wuxin.ingest.jt808.gateway import Jt808Gateway
from wuxin.ingest.jt808.simulator import SimulatedTerminal, fix
from wuxin.services import registry
from wuxin.services.jt808_terminals import DatabaseDirectory, PlatformSink

from tests.world import build_world

PHONE = "013912345678"
FIX_TIME = datetime(2026, 9, 21, 12, 0, tzinfo=UTC)


def _world(platform):
    world = build_world(platform)
    registry.register_device(platform, None, world.fleet, "truck-02", "vehicles.gps_terminal", "bank_installed",
                             attributes={"jt808_phone": PHONE, "plate": "粤B12345"})
    return world


def _run(platform, scenario) -> None:
    async def main() -> None:
        gateway = Jt808Gateway(DatabaseDirectory(platform), PlatformSink(platform), idle_timeout_s=10)
        port = await gateway.start("127.0.0.1", 0)
        try:
            await scenario(port)
        finally:
            await gateway.stop()

    asyncio.run(main())


async def _terminal(port: int, phone: str = PHONE) -> SimulatedTerminal:
    terminal = SimulatedTerminal(phone)
    await terminal.connect("127.0.0.1", port)
    return terminal


def _result(frame) -> int:
    return m.parse_general_response(frame.body)["result"]


def test_terminal_registers_authenticates_and_its_locations_and_alarms_are_stored(platform):
    _world(platform)

    async def scenario(port: int) -> None:
        terminal = await _terminal(port)
        auth_code = await terminal.login("粤B12345")
        assert auth_code.startswith("wxd_")  # a device access token issued by the registry
        location = fix(FIX_TIME, 29.8683, 121.544, speed_kmh=42.0, mileage_km=12000.5, alarm=1 << 27)
        (ack,) = await terminal.request(terminal.builder.location(location))
        assert _result(ack) == 0

    _run(platform, scenario)
    ts = int(FIX_TIME.timestamp() * 1000)
    with platform.uow() as uow:
        device = uow.devices.by_key("truck-02")
        readings = {r["key"]: r["num"] for r in uow.telemetry.readings([device["id"]], None, ts, ts + 1, 100)}
        events = uow.telemetry.events([device["id"]], ts, ts + 1, 10)
        batch = uow.telemetry.batch(events[0]["batch_id"])
    assert readings["lat"] == 29.8683 and readings["speed_kmh"] == 42.0 and readings["odometer_km"] == 12000.5
    assert [e["name"] for e in events] == ["illegal_ignition"]
    assert batch["channel"] == "jt808" and device["last_seen_ms"] == max(ts, platform.clock_ms())  # the login is seen too


def test_unknown_phone_wrong_plate_stale_code_and_foreign_token_are_refused(platform):
    world = _world(platform)

    async def scenario(port: int) -> None:
        stranger = await _terminal(port, "013900000009")
        (answer,) = await stranger.request(stranger.builder.register("粤B12345"))
        assert m.parse_register_response(answer.body)["result"] == m.REGISTER_NO_TERMINAL
        terminal = await _terminal(port)
        (answer,) = await terminal.request(terminal.builder.register("沪A99999"))
        assert m.parse_register_response(answer.body)["result"] == m.REGISTER_NO_VEHICLE
        first = await terminal.login("粤B12345")
        second = await terminal.login("粤B12345")  # re-registering revokes the first code
        (stale,) = await terminal.request(terminal.builder.authenticate(first))
        assert _result(stale) == m.RESULT_FAILURE
        (foreign,) = await terminal.request(terminal.builder.authenticate(world.device_tokens["truck-01"]))
        assert _result(foreign) == m.RESULT_FAILURE
        (good,) = await terminal.request(terminal.builder.authenticate(second))
        assert _result(good) == 0

    _run(platform, scenario)


def test_database_failure_answers_1_and_nothing_is_acknowledged(platform, monkeypatch):
    _world(platform)

    async def scenario(port: int) -> None:
        terminal = await _terminal(port)
        await terminal.login("粤B12345")
        monkeypatch.setattr("wuxin.services.jt808_terminals.ingest_lines",
                            lambda *a, **k: (_ for _ in ()).throw(ConnectionError("database unreachable")))
        (ack,) = await terminal.request(terminal.builder.location(fix(FIX_TIME, 29.8, 121.5)))
        assert _result(ack) == m.RESULT_FAILURE

    _run(platform, scenario)
    with platform.uow() as uow:
        assert uow.telemetry.count_readings(uow.devices.by_key("truck-02")["id"]) == 0


def test_a_terminal_connection_records_its_online_and_offline_transitions(platform):
    _world(platform)

    async def scenario(port: int) -> None:
        terminal = await _terminal(port)
        await terminal.login("粤B12345")
        await terminal.request(terminal.builder.heartbeat())
        await terminal.close()
        await asyncio.sleep(0.3)  # the gateway notices the closed socket

    started_ms = platform.clock_ms()
    _run(platform, scenario)
    with platform.uow() as uow:
        device = uow.devices.by_key("truck-02")
        transitions = uow.protocols.transitions([device["id"]], 0, 2**62, 10)
    assert [(t["from_state"], t["to_state"], t["cause"]) for t in transitions] == [
        ("unknown", "online", "jt808_authenticated"), ("online", "offline", "jt808_connection_closed")]
    assert device["last_seen_ms"] >= started_ms  # login and heartbeat are signs of life, without any reading
