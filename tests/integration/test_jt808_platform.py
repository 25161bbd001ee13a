"""JT/T 808 on the platform: simulator over real TCP -> gateway -> provisioned terminals and their auth codes -> readings
in the database. Enrolment: a terminal gets an auth code only as provisioned by the integrator, within its window, once."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import orjson

from tests.world import build_world, login
from wuxin.indicators.days import HOUR_MS
from wuxin.ingest.jt808 import messages as m
from wuxin.ingest.jt808.gateway import Jt808Gateway
from wuxin.ingest.jt808.simulator import SimulatedTerminal, fix
from wuxin.services.access import consent
from wuxin.services.devices import registry
from wuxin.services.ingest.jt808 import DatabaseDirectory, PlatformSink, provision_terminal
from wuxin.services.ingest.telemetry import ingest_device_telemetry

PHONE = "013912345678"
TERMINAL_ID = "SZ80801"
PLATE = "粤B12345"
FIX_TIME = datetime(2026, 9, 21, 12, 0, tzinfo=UTC)


def _world(platform, **enrolment):
    """truck-02: a GPS terminal device with its SIM and plate, provisioned by the integrator (window 72 h)."""
    world = build_world(platform)
    _, world.device_tokens["truck-02"] = registry.register_device(
        platform,
        None,
        world.fleet,
        "truck-02",
        "vehicles.gps_terminal",
        "bank_installed",
        attributes={"jt808_phone": PHONE, "plate": PLATE},
    )
    provision_terminal(platform, None, "truck-02", TERMINAL_ID, **enrolment)
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


async def _terminal(port: int, phone: str = PHONE, version: str = "2013", **identity) -> SimulatedTerminal:
    terminal = SimulatedTerminal(phone, version, **{"terminal_id": TERMINAL_ID, **identity})
    await terminal.connect("127.0.0.1", port)
    return terminal


def _result(frame) -> int:
    return m.parse_general_response(frame.body)["result"]


def _count(platform, name: str, outcome: str) -> float:
    return platform.metrics.registry.get_sample_value(f"wuxin_jt808_{name}_total", {"outcome": outcome}) or 0.0


def _http_telemetry_accepted(platform, token: str) -> int:
    body = orjson.dumps({"ts": int(FIX_TIME.timestamp() * 1000) - 60_000, "values": {"lat": 29.0, "lon": 121.0}})
    return ingest_device_telemetry(platform, token, body).accepted


def test_the_provisioned_terminal_registers_authenticates_and_its_locations_and_alarms_are_stored(platform):
    _world(platform)

    async def scenario(port: int) -> None:
        terminal = await _terminal(port)
        auth_code = await terminal.login(PLATE)
        assert auth_code.startswith("wxj_")  # a JT/T 808 auth code, not a device access token ('wxd_')
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
        audit = [a["action"] for a in uow.logs.audit_entries(100)]
    assert readings["lat"] == 29.8683 and readings["speed_kmh"] == 42.0 and readings["odometer_km"] == 12000.5
    assert [e["name"] for e in events] == ["illegal_ignition"]
    assert batch["channel"] == "jt808" and device["last_seen_ms"] == max(
        ts, platform.clock_ms()
    )  # the login is seen too
    assert (
        _count(platform, "registrations", "enrolled") == 1 and _count(platform, "authentications", "authenticated") == 1
    )
    assert {"jt808.provision", "jt808.enrol"} <= set(audit)


def test_a_registration_knowing_only_the_phone_is_refused_and_the_real_terminal_keeps_its_credentials(platform):
    world = _world(platform)

    async def scenario(port: int) -> None:
        real = await _terminal(port)
        auth_code = await real.login(PLATE)
        await real.close()
        attacker = await _terminal(port, terminal_id="T000001")
        for plate in ("", "沪A99999", PLATE):  # the phone right, the terminal id not
            assert (await attacker.register(plate=plate))["result"] == m.REGISTER_NO_TERMINAL
        assert (await attacker.register(plate="", terminal_id=TERMINAL_ID))["result"] == m.REGISTER_NO_VEHICLE
        assert (await attacker.register(plate=PLATE, terminal_id=TERMINAL_ID)) == {  # everything right: still no code
            "reply_serial": 5,
            "result": m.REGISTER_TERMINAL_TAKEN,
            "auth_code": None,
        }
        stranger = await _terminal(port, "013900000009")
        assert (await stranger.register(plate=PLATE))["result"] == m.REGISTER_NO_TERMINAL
        real = await _terminal(port)  # the real terminal comes back with the code it kept
        assert await real.authenticate(auth_code)
        (ack,) = await real.request(real.builder.location(fix(FIX_TIME, 29.8, 121.5)))
        assert _result(ack) == 0

    _run(platform, scenario)
    with platform.uow() as uow:
        assert uow.telemetry.count_readings(uow.devices.by_key("truck-02")["id"]) > 0
    assert _http_telemetry_accepted(platform, world.device_tokens["truck-02"]) == 2  # its HTTP token still works too
    assert _count(platform, "registrations", "vehicle_mismatch") == 1
    assert _count(platform, "registrations", "terminal_mismatch") == 3
    assert _count(platform, "registrations", "already_registered") == 1
    assert _count(platform, "registrations", "unknown_phone") == 1
    assert _count(platform, "registrations", "enrolled") == 1


def test_registration_without_provisioning_or_after_the_window_is_refused_until_the_integrator_reopens_it(platform):
    world = _world(platform, window_s=HOUR_MS // 1000)
    registry.register_device(
        platform,
        None,
        world.fleet,
        "truck-03",
        "vehicles.gps_terminal",
        "bank_installed",
        attributes={"jt808_phone": "013900000003", "plate": "粤B00003"},
    )  # never provisioned
    platform.clock.advance(HOUR_MS + 1)

    async def late(port: int) -> None:
        unprovisioned = await _terminal(port, "013900000003", terminal_id="T000003")
        assert (await unprovisioned.register(plate="粤B00003"))["result"] == m.REGISTER_NO_TERMINAL
        terminal = await _terminal(port)
        assert (await terminal.register(plate=PLATE))["result"] == m.REGISTER_NO_TERMINAL

    _run(platform, late)
    assert _count(platform, "registrations", "enrolment_closed") == 1
    assert _count(platform, "registrations", "unknown_phone") == 1
    provision_terminal(platform, None, "truck-02", TERMINAL_ID)  # the integrator opens a new window

    async def reopened(port: int) -> None:
        terminal = await _terminal(port)
        await terminal.login(PLATE)

    _run(platform, reopened)
    assert _count(platform, "registrations", "enrolled") == 1


def test_an_auth_code_is_not_a_device_token_and_a_device_token_is_not_an_auth_code(platform, live):
    world = _world(platform)
    codes = []

    async def scenario(port: int) -> None:
        terminal = await _terminal(port)
        codes.append(await terminal.login(PLATE))
        other = await _terminal(port)
        assert not await other.authenticate(world.device_tokens["truck-02"])  # its own device's HTTP token
        assert not await other.authenticate(world.device_tokens["truck-01"])

    _run(platform, scenario)
    point = {"ts": int(FIX_TIME.timestamp() * 1000), "values": {"lat": 29.0, "lon": 121.0}}
    refused = live.client.post(f"/api/v1/{codes[0]}/telemetry", json=point)
    assert refused.status_code == 401 and refused.json()["error"] == "unknown_token"
    assert live.client.post(f"/api/v1/{world.device_tokens['truck-02']}/telemetry", json=point).status_code == 200
    assert _count(platform, "authentications", "unknown_auth_code") == 2


def test_revoking_the_device_revokes_its_auth_code_and_a_new_window_enrols_it_again(platform):
    _world(platform)
    codes = []

    async def enrol(port: int) -> None:
        terminal = await _terminal(port)
        codes.append(await terminal.login(PLATE))

    _run(platform, enrol)
    registry.revoke_device_tokens(platform, None, "truck-02")

    async def after_revoke(port: int) -> None:
        terminal = await _terminal(port)
        assert not await terminal.authenticate(codes[0])
        assert (await terminal.register(plate=PLATE))["result"] == m.REGISTER_NO_TERMINAL  # window closed too

    _run(platform, after_revoke)
    provision_terminal(platform, None, "truck-02", TERMINAL_ID)
    _run(platform, enrol)
    assert codes[1] != codes[0]


def test_a_provisioned_imei_binds_the_code_to_the_2019_terminal_sending_it(platform):
    _world(platform, imei="861234567890123")
    codes = []

    async def scenario(port: int) -> None:
        terminal = await _terminal(port, "00000000" + PHONE, "2019", imei="861234567890123")
        codes.append(await terminal.login(PLATE))
        clone = await _terminal(port, "00000000" + PHONE, "2019", imei="869999999999999")
        assert not await clone.authenticate(codes[0])
        old_protocol = await _terminal(port)  # 2013 authentication carries no IMEI
        assert not await old_protocol.authenticate(codes[0])

    _run(platform, scenario)
    assert _count(platform, "authentications", "imei_mismatch") == 2


def test_only_a_device_manager_provisions_a_terminal_and_bad_values_are_named(platform, live):
    world = _world(platform)
    registry.register_device(
        platform,
        None,
        world.fleet,
        "truck-04",
        "vehicles.gps_terminal",
        "bank_installed",
        attributes={"jt808_phone": "0" + PHONE, "plate": "粤B00004"},
    )
    admin, integrator = login(live.client, "admin"), login(live.client, "integrator")
    url = "/api/v1/devices/{}/jt808/enrolment"
    assert (
        live.client.post(url.format("truck-02"), json={"terminal_id": "SZ80802"}, headers=integrator).status_code == 404
    )  # no consent: as if absent
    response = live.client.post(
        url.format("truck-02"), json={"terminal_id": "sz80802", "window_hours": 2}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert (
        response.json()["terminal_id"] == "SZ80802"
        and response.json()["enrol_until_ms"] == platform.clock_ms() + 2 * HOUR_MS
    )
    loom = live.client.post(url.format("loom-01"), json={"terminal_id": "SZ80802"}, headers=admin)
    assert loom.status_code == 422 and "manufacturing.current_bracelet" in loom.json()["message"]
    taken = live.client.post(url.format("truck-04"), json={"terminal_id": "SZ80804"}, headers=admin)
    assert (
        taken.status_code == 409 and "truck-02" in taken.json()["message"]
    )  # the same SIM number (leading zeros aside)
    bad = live.client.post(url.format("truck-02"), json={"terminal_id": "SZ-808"}, headers=admin)
    assert bad.status_code == 422
    with platform.uow() as uow:
        assert uow.jt808.of_device(uow.devices.by_key("truck-02")["id"])["terminal_id"] == "SZ80802"


def test_database_failure_answers_1_and_nothing_is_acknowledged(platform, monkeypatch):
    _world(platform)

    async def scenario(port: int) -> None:
        terminal = await _terminal(port)
        await terminal.login(PLATE)
        monkeypatch.setattr(
            "wuxin.services.ingest.jt808.ingest_lines",
            lambda *a, **k: (_ for _ in ()).throw(ConnectionError("database unreachable")),
        )
        (ack,) = await terminal.request(terminal.builder.location(fix(FIX_TIME, 29.8, 121.5)))
        assert _result(ack) == m.RESULT_FAILURE

    _run(platform, scenario)
    with platform.uow() as uow:
        assert uow.telemetry.count_readings(uow.devices.by_key("truck-02")["id"]) == 0


def _transitions(platform, key: str) -> list:
    with platform.uow() as uow:
        return uow.protocols.transitions([uow.devices.by_key(key)["id"]], 0, 2**62, 10)


def test_a_terminal_connection_records_its_online_and_offline_transitions(platform):
    _world(platform)

    async def scenario(port: int) -> None:
        terminal = await _terminal(port)
        await terminal.login(PLATE)
        await terminal.request(terminal.builder.heartbeat())
        await terminal.close()
        # the gateway notices the closed socket and records it (a stop before that would record nothing)
        deadline = time.monotonic() + 30
        while len(await asyncio.to_thread(_transitions, platform, "truck-02")) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    started_ms = platform.clock_ms()
    _run(platform, scenario)
    transitions = _transitions(platform, "truck-02")
    with platform.uow() as uow:
        device = uow.devices.by_key("truck-02")
    assert [(t["from_state"], t["to_state"], t["cause"]) for t in transitions] == [
        ("unknown", "online", "jt808_authenticated"),
        ("online", "offline", "jt808_connection_closed"),
    ]
    assert device["last_seen_ms"] >= started_ms  # login and heartbeat are signs of life, without any reading


def test_an_enterprise_provisions_only_its_enterprise_shared_terminals(platform, live):
    """Re-provisioning a bank-installed terminal would drop the real terminal's code and let a fake one enrol."""
    world = _world(platform)
    registry.register_device(
        platform,
        None,
        world.fleet,
        "truck-05",
        "vehicles.gps_terminal",
        "enterprise_shared",
        attributes={"jt808_phone": "013900000005", "plate": "粤B00005"},
    )
    owner = login(live.client, "fleetowner")
    url = "/api/v1/devices/{}/jt808/enrolment"
    refused = live.client.post(url.format("truck-02"), json={"terminal_id": "FAKE01"}, headers=owner)
    assert refused.status_code == 403 and "bank_installed" in refused.json()["message"]
    with platform.uow() as uow:
        assert uow.jt808.of_device(uow.devices.by_key("truck-02")["id"])["terminal_id"] == TERMINAL_ID
    assert live.client.post(url.format("truck-05"), json={"terminal_id": "SZ80805"}, headers=owner).status_code == 200


def test_a_taken_sim_number_is_not_traced_to_its_device_for_non_admins(platform, live):
    world = _world(platform)
    consent.grant(
        platform, None, world.fleet, world.operator, "all", [], "maintenance", platform.clock_ms() + 86_400_000
    )
    registry.register_device(
        platform,
        None,
        world.fleet,
        "truck-04",
        "vehicles.gps_terminal",
        "enterprise_shared",
        attributes={"jt808_phone": "0" + PHONE, "plate": "粤B00004"},
    )
    url = "/api/v1/devices/truck-04/jt808/enrolment"
    for user in ("integrator", "fleetowner"):
        taken = live.client.post(url, json={"terminal_id": "SZ80804"}, headers=login(live.client, user))
        assert taken.status_code == 409 and "truck-02" not in taken.text, (user, taken.text)
        assert "already provisioned for another device" in taken.json()["message"]
    admin = live.client.post(url, json={"terminal_id": "SZ80804"}, headers=login(live.client, "admin"))
    assert admin.status_code == 409 and "truck-02" in admin.json()["message"]
