"""A 2013 terminal that sets bit 14 (the 2019 flag) over real TCP through the gateway: it registers, authenticates and
its location is stored, whether the terminal is provisioned "auto" (the 2013 fallback) or forced to "2013"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.integration.test_jt808_platform import PHONE, PLATE, TERMINAL_ID, _run
from tests.world import build_world, login
from wuxin.errors import InvalidInput
from wuxin.ingest.jt808 import messages as m
from wuxin.ingest.jt808.simulator import SimulatedTerminal, fix
from wuxin.services.devices import registry
from wuxin.services.ingest.jt808 import provision_terminal

FIX_TIME = datetime(2026, 9, 21, 12, 0, tzinfo=UTC)


def _truck(platform):
    world = build_world(platform)
    registry.register_device(
        platform,
        None,
        world.fleet,
        "truck-02",
        "vehicles.gps_terminal",
        "bank_installed",
        attributes={"jt808_phone": PHONE, "plate": PLATE},
    )
    return world


@pytest.mark.parametrize("header_version", ["auto", "2013"])
def test_a_bit_14_2013_terminal_registers_authenticates_and_its_location_is_stored(platform, header_version):
    _truck(platform)
    enrolment = provision_terminal(platform, None, "truck-02", TERMINAL_ID, header_version=header_version)
    assert enrolment["header_version"] == header_version
    answers = {}

    async def scenario(port: int) -> None:
        terminal = SimulatedTerminal(PHONE, "2013", terminal_id=TERMINAL_ID, bit14_quirk=True)
        await terminal.connect("127.0.0.1", port)
        answers["auth_code"] = await terminal.login(PLATE)
        (ack,) = await terminal.request(terminal.builder.location(fix(FIX_TIME, 29.8683, 121.544, speed_kmh=42.0)))
        answers["ack"] = ack
        await terminal.close()

    _run(platform, scenario)
    assert answers["auth_code"].startswith("wxj_")
    ack = answers["ack"]
    assert ack.header.version == "2013" and m.parse_general_response(ack.body)["result"] == m.RESULT_OK
    ts = int(FIX_TIME.timestamp() * 1000)
    with platform.uow() as uow:
        device = uow.devices.by_key("truck-02")
        readings = {r["key"]: r["num"] for r in uow.telemetry.readings([device["id"]], None, ts, ts + 1, 100)}
        audit = [a for a in uow.logs.audit_entries(100) if a["action"] == "jt808.provision"]
    assert readings["lat"] == 29.8683 and readings["speed_kmh"] == 42.0
    assert audit[0]["detail"]["header_version"] == header_version


def test_a_terminal_forced_to_2019_refuses_the_bit_14_2013_frames(platform):
    _truck(platform)
    provision_terminal(platform, None, "truck-02", TERMINAL_ID, header_version="2019")
    results = {}

    async def scenario(port: int) -> None:
        terminal = SimulatedTerminal(PHONE, "2013", terminal_id=TERMINAL_ID, bit14_quirk=True)
        await terminal.connect("127.0.0.1", port)
        await terminal.send(terminal.builder.register(PLATE, **terminal.identity))
        try:
            results["answer"] = await terminal.receive(timeout_s=2)
        except (TimeoutError, ConnectionError, EOFError):
            results["answer"] = None
        await terminal.close()

    _run(platform, scenario)
    answer = results["answer"]  # no 2019 header fits: dropped, or a general response "message error"
    assert answer is None or (
        answer.header.msg_id == m.GENERAL_RESPONSE
        and m.parse_general_response(answer.body)["result"] == m.RESULT_MESSAGE_ERROR
    )
    with platform.uow() as uow:
        assert uow.jt808.of_device(uow.devices.by_key("truck-02")["id"])["auth_code_hash"] is None


def test_the_header_version_is_checked_at_provisioning_and_over_the_api(live, platform):
    _truck(platform)
    with pytest.raises(InvalidInput, match="header version '2011' is not one of auto, 2013, 2019"):
        provision_terminal(platform, None, "truck-02", TERMINAL_ID, header_version="2011")
    admin = login(live.client, "admin")
    url = "/api/v1/devices/truck-02/jt808/enrolment"
    bad = live.client.post(url, json={"terminal_id": TERMINAL_ID, "header_version": "2011"}, headers=admin)
    assert bad.status_code == 422 and "header_version" in bad.text
    ok = live.client.post(url, json={"terminal_id": TERMINAL_ID, "header_version": "2013"}, headers=admin)
    assert ok.status_code == 200 and ok.json()["header_version"] == "2013"
    assert (
        live.client.post(
            url, json={"terminal_id": TERMINAL_ID, "header_version": "2013"}, headers=login(live.client, "fleetowner")
        ).status_code
        == 403
    )  # a bank-installed device
