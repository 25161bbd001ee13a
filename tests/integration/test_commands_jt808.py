"""Commands to a JT/T 808 terminal end to end: the terminal simulator over real TCP, the gateway with the database
outbox, the rules of who may ask and approve, the audit log and the evidence ledger."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from tests.world import DAY_MS, PASSWORD, build_world
from wuxin.errors import Conflict, Denied, InvalidInput, NotFound
from wuxin.ingest.jt808 import commands as c
from wuxin.ingest.jt808 import messages as m
from wuxin.ingest.jt808.gateway import Jt808Gateway, command_serial
from wuxin.ingest.jt808.simulator import SimulatedTerminal
from wuxin.services.access import consent, identity
from wuxin.services.credit import loans
from wuxin.services.devices import calendars, registry
from wuxin.services.devices import commands as cmd
from wuxin.services.ingest.jt808 import DatabaseDirectory, PlatformSink, provision_terminal

PHONE, PHONE_B = "013912345678", "013912340002"
VIN = "LFV2A21K6A3000001"
FIX_TIME = datetime(2026, 9, 21, 12, 0, tzinfo=UTC)  # before the tests' "now" (14:13:20 UTC)


class Commands:
    """The world of these tests: the bank's auto loan on the fleet, its GPS terminal truck-02, principals by name."""

    def __init__(self, platform, loan_state: str = "warning"):
        self.platform = platform
        self.world = world = build_world(platform)
        expires = platform.clock_ms() + 30 * DAY_MS
        for tenant in (world.bank, world.operator, world.other_bank):
            consent.grant(platform, None, world.fleet, tenant, "all", [], "credit monitoring", expires)
        for key, phone, terminal_id in (("truck-02", PHONE, "SZ80801"), ("truck-03", PHONE_B, "SZ80802")):
            registry.register_device(
                platform,
                None,
                world.fleet,
                key,
                "vehicles.gps_terminal",
                "bank_installed",
                attributes={"jt808_phone": phone, "plate": "粤B12345", "vin": VIN if key == "truck-02" else ""},
            )
            provision_terminal(platform, None, key, terminal_id)
        self.loan_id = loans.create_loan(platform, self.who("officer"), world.fleet, "auto", "300000")["id"]
        self.set_loan(loan_state, ["truck-02"])

    def who(self, username: str):
        return identity.principal_for_token(self.platform, identity.login(self.platform, username, PASSWORD))

    def set_loan(self, state: str, plan: list[str]) -> None:
        """Put the loan where a test needs it (its own lifecycle is tested in test_loans_api)."""
        with self.platform.uow() as uow:
            uow.monitoring.set_loan(self.loan_id, state=state, monitoring_plan={"devices": plan})
            uow.commit()

    def request(self, username: str, operation: str, params: dict | None = None, **kw) -> dict:
        return cmd.request_command(
            self.platform,
            self.who(username),
            kw.pop("device", "truck-02"),
            operation,
            params,
            kw.pop("reason", "borrower 90 days overdue, recovery decided"),
            **kw,
        )

    def state(self, command_id: int) -> str:
        return cmd.command_detail(self.platform, self.who("admin"), command_id)["state"]

    def audit(self, command_id: int) -> list[str]:
        with self.platform.uow() as uow:
            return [
                a["action"] for a in reversed(uow.logs.audit_entries(500)) if a["subject"] == f"command:{command_id}"
            ]

    def ledger(self, command_id: int) -> list[dict]:
        import json

        with self.platform.uow() as uow:
            rows = uow.ledger.entries_by_subjects([f"command:{command_id}"])
        return [json.loads(r["leaf_data"])["data"] for r in rows]


def _run(platform, scenario) -> None:
    async def main() -> None:
        gateway = Jt808Gateway(
            DatabaseDirectory(platform), PlatformSink(platform), idle_timeout_s=10, outbox=cmd.DatabaseOutbox(platform)
        )
        port = await gateway.start("127.0.0.1", 0)
        try:
            await scenario(gateway, port)
        finally:
            await gateway.stop()

    asyncio.run(main())


async def _online(
    port: int,
    phone: str = PHONE,
    version: str = "2019",
    terminal_id: str = "SZ80801",
    speed_kmh: float = 0.0,
    acc_on: bool = False,
) -> SimulatedTerminal:
    """A terminal logged in that has reported one location (the speed and ignition the rules read)."""
    terminal = SimulatedTerminal(phone, version, terminal_id=terminal_id)
    terminal.clock = lambda: FIX_TIME
    terminal.vehicle.speed_kmh, terminal.vehicle.acc_on = speed_kmh, acc_on
    await terminal.connect("127.0.0.1", port)
    await terminal.login("粤B12345")
    await _report(terminal)
    return terminal


async def _report(terminal: SimulatedTerminal, at: datetime = FIX_TIME) -> None:
    (ack,) = await terminal.request(terminal.builder.location(terminal.vehicle.fix(at)))
    assert m.parse_general_response(ack.body)["result"] == m.RESULT_OK


def test_immobilise_is_approved_by_a_second_person_sent_once_and_acknowledged_and_the_vehicle_stands_still(platform):
    world = Commands(platform)
    out = {}

    async def scenario(gateway, port):
        terminal = await _online(port)
        command = world.request("officer", "immobilise", loan_id=world.loan_id)
        assert command["state"] == "requested" and command["four_eyes"]
        with pytest.raises(Denied, match="four eyes"):
            cmd.approve_command(platform, world.who("officer"), command["id"])
        assert await gateway.push_commands() == 0  # nothing leaves before approval
        cmd.approve_command(platform, world.who("risk"), command["id"], "checked the overdue file")
        terminal.clock = lambda: FIX_TIME.replace(minute=5)  # it answers five minutes after its last report
        assert await gateway.push_commands("truck-02") == 1
        (frame,) = await terminal.await_commands(1)
        await terminal.request(terminal.builder.heartbeat())  # the 0x8001 to its 0x0500 has come back by now
        assert await gateway.push_commands() == 0  # delivered once
        out.update(frame=frame, id=command["id"])
        terminal.vehicle.speed_kmh, terminal.vehicle.acc_on = 50.0, True  # the driver tries to leave
        track = terminal.vehicle.track(FIX_TIME, 120)
        out["track"] = {(f.lat, f.lon, f.speed_kmh, f.acc_on) for f in track}
        out["status"] = track[-1].status

    _run(platform, scenario)
    frame = out["frame"]
    assert (frame.header.msg_id, frame.header.serial, frame.body.hex()) == (
        0x8500,
        command_serial(out["id"]),
        "0001f00101",
    )
    detail = cmd.command_detail(platform, world.who("officer"), out["id"])
    assert detail["state"] == "acknowledged" and detail["msg_id"] == "0x8500"
    assert detail["answer"]["vehicle"]["oil_cut"] and detail["answer"]["vehicle"]["circuit_cut"]
    assert out["track"] == {(29.8683, 121.544, 0.0, False)}  # stands in its track, ignition dead
    assert out["status"] & c.STATUS_OIL_CUT and out["status"] & c.STATUS_CIRCUIT_CUT
    assert world.audit(out["id"]) == ["command.request", "command.approve", "command.send", "command.acknowledge"]
    entries = world.ledger(out["id"])
    assert [e["step"] for e in entries] == ["request", "approve", "send", "acknowledge"]
    assert entries[1]["by_user_id"] == world.world.users["risk"] and entries[0]["loan_id"] == world.loan_id
    with platform.uow() as uow:  # the 0x0500's location is stored as a reading like any report
        device_id = uow.devices.by_key("truck-02")["id"]
        at_ms = int(FIX_TIME.replace(minute=5).timestamp() * 1000)
        answered = {r["key"]: r["num"] for r in uow.telemetry.readings([device_id], None, at_ms, at_ms + 1, 100)}
    assert answered["speed_kmh"] == 0.0 and answered["acc_on"] == 0.0
    counted = platform.metrics.registry.get_sample_value
    assert counted("wuxin_commands_total", {"operation": "immobilise", "step": "acknowledge"}) == 1
    # the borrower sees what was done to its vehicle; the loan lists it
    assert [r["id"] for r in cmd.device_commands(platform, world.who("fleetowner"), "truck-02")] == [out["id"]]
    assert [r["id"] for r in cmd.loan_commands(platform, world.who("risk"), world.loan_id)] == [out["id"]]


def test_restore_goes_the_same_way_after_the_loan_closed(platform):
    world = Commands(platform, loan_state="closed")
    out = {}

    async def scenario(gateway, port):
        terminal = await _online(port)
        terminal.vehicle.oil_cut = terminal.vehicle.circuit_cut = True
        with pytest.raises(Conflict, match="loan .* is closed"):
            world.request("officer", "immobilise", loan_id=world.loan_id)
        command = world.request("officer", "restore", loan_id=world.loan_id, reason="loan repaid in full")
        cmd.approve_command(platform, world.who("risk"), command["id"])
        await gateway.push_commands()
        await terminal.await_commands(1)
        await terminal.request(terminal.builder.heartbeat())
        out.update(id=command["id"], cut=terminal.vehicle.immobilised)

    _run(platform, scenario)
    assert world.state(out["id"]) == "acknowledged" and out["cut"] is False


@pytest.mark.parametrize("speed_kmh, acc_on, refusal", [(12.0, False, "12.0 km/h"), (0.0, True, "ACC on")])
def test_a_moving_or_running_vehicle_is_not_cut(platform, speed_kmh, acc_on, refusal):
    world = Commands(platform)

    async def scenario(gateway, port):
        await _online(port, speed_kmh=speed_kmh, acc_on=acc_on)
        with pytest.raises(Conflict, match=refusal):
            world.request("officer", "immobilise", loan_id=world.loan_id)

    _run(platform, scenario)
    with platform.uow() as uow:
        assert uow.commands.listed(device_id=uow.devices.by_key("truck-02")["id"]) == []


def test_an_approved_cut_waits_while_the_vehicle_moves_and_leaves_when_it_stands(platform):
    world = Commands(platform)
    out = {}

    async def scenario(gateway, port):
        terminal = await _online(port)
        command = world.request("officer", "immobilise", loan_id=world.loan_id)
        cmd.approve_command(platform, world.who("risk"), command["id"])
        terminal.vehicle.speed_kmh, terminal.vehicle.acc_on = 30.0, True
        await _report(terminal, FIX_TIME.replace(minute=1))  # it drove off between approval and delivery
        assert await gateway.push_commands() == 0
        out["held"] = world.state(command["id"])
        terminal.vehicle.speed_kmh, terminal.vehicle.acc_on = 0.0, False
        await _report(terminal, FIX_TIME.replace(minute=2))
        assert await gateway.push_commands() == 1
        await terminal.await_commands(1)
        await terminal.request(terminal.builder.heartbeat())
        out["id"] = command["id"]

    _run(platform, scenario)
    assert out["held"] == "approved" and world.state(out["id"]) == "acknowledged"


def test_who_may_not_ask_for_the_cut(platform):
    world = Commands(platform)

    async def scenario(gateway, port):
        await _online(port)
        with pytest.raises(Denied, match="only the lending bank's"):
            world.request("integrator", "immobilise", loan_id=world.loan_id)
        with pytest.raises(Denied, match="enterprise_user may not command"):
            world.request("fleetowner", "immobilise", loan_id=world.loan_id)
        with pytest.raises(NotFound, match=f"loan {world.loan_id} does not exist"):  # another bank's loan
            world.request("other", "immobilise", loan_id=world.loan_id)
        with pytest.raises(Conflict, match="needs a loan of your bank"):
            world.request("other", "immobilise")
        with pytest.raises(Conflict, match="needs a loan of your bank"):
            world.request("officer", "lock_doors")
        with pytest.raises(Denied, match="integrator managing the device"):
            world.request("officer", "set_parameters", {"report_interval_s": 10})
        world.set_loan("monitoring", ["truck-02"])  # performing: no recovery
        with pytest.raises(Conflict, match="loan .* is monitoring"):
            world.request("officer", "immobilise", loan_id=world.loan_id)
        world.set_loan("warning", [])  # the vehicle is not (or no longer) its collateral ...
        with pytest.raises(Conflict, match="not on the collateral"):
            world.request("officer", "immobilise", loan_id=world.loan_id)
        with platform.uow() as uow:  # ... unless pledged by its VIN
            uow.monitoring.add_items(
                [
                    dict(
                        tenant_id=world.world.bank,
                        loan_id=world.loan_id,
                        enterprise_id=world.world.fleet,
                        pledged_ms=platform.clock_ms(),
                        identity=f"serial:{VIN}",
                        sku="vehicle",
                        quantity=1,
                        unit="unit",
                        zone_id=None,
                        haircut=0,
                    )
                ]
            )
            uow.commit()
        assert world.request("officer", "immobilise", loan_id=world.loan_id)["state"] == "requested"

    _run(platform, scenario)


def test_four_eyes_needs_another_person_of_the_same_bank(platform):
    world = Commands(platform)

    async def scenario(gateway, port):
        await _online(port)
        command = world.request("officer", "lock_doors", loan_id=world.loan_id)
        with pytest.raises(Denied, match="four eyes"):
            cmd.approve_command(platform, world.who("officer"), command["id"])
        with pytest.raises(NotFound, match=f"command {command['id']} does not exist"):
            cmd.approve_command(platform, world.who("other"), command["id"])  # another bank: not theirs to see
        with pytest.raises(Denied, match="decided by a credit officer or risk manager"):
            cmd.approve_command(platform, world.who("admin"), command["id"])
        with pytest.raises(InvalidInput, match="reason"):
            cmd.reject_command(platform, world.who("risk"), command["id"], "")
        assert (
            cmd.reject_command(platform, world.who("risk"), command["id"], "not yet: call first")["state"] == "refused"
        )
        with pytest.raises(Conflict, match="is refused: it cannot approve"):
            cmd.approve_command(platform, world.who("risk"), command["id"])
        second = world.request("officer", "lock_doors", loan_id=world.loan_id)
        with pytest.raises(NotFound, match=f"command {second['id']} does not exist"):
            cmd.cancel_command(platform, world.who("integrator"), second["id"], "mine now")
        with pytest.raises(Denied, match="only the requesting tenant"):  # the borrower sees it, may not call it back
            cmd.cancel_command(platform, world.who("fleetowner"), second["id"], "leave my car")
        assert cmd.cancel_command(platform, world.who("officer"), second["id"], "borrower paid")["state"] == "cancelled"
        out["ids"] = (command["id"], second["id"])

    out = {}
    _run(platform, scenario)
    first, second = out["ids"]
    assert world.audit(first) == ["command.request", "command.reject"]
    assert world.audit(second) == ["command.request", "command.cancel"]


def test_a_decommissioned_device_takes_no_command(platform):
    world = Commands(platform)
    calendars.set_service_dates(platform, None, "truck-02", None, platform.clock_ms() - 1)
    with pytest.raises(Conflict, match="decommissioned"):
        world.request("integrator", "query_location")
    stranger = _stranger(platform)
    with pytest.raises(NotFound, match="'truck-02' is not registered"):  # a firm without consent does not see it
        cmd.request_command(platform, stranger, "truck-02", "query_location", {}, "curious")


def _stranger(platform):
    tenant = identity.create_tenant(platform, "Stranger Co", "operator")
    identity.create_user(platform, "stranger", PASSWORD, "integrator", tenant)
    return identity.principal_for_token(platform, identity.login(platform, "stranger", PASSWORD))


def test_a_command_approved_while_offline_is_delivered_when_the_terminal_logs_in(platform):
    world = Commands(platform)
    out = {}

    async def scenario(gateway, port):
        command = world.request("integrator", "query_location", reason="installation check")
        assert command["state"] == "approved"  # no second person for a query
        assert cmd.DatabaseOutbox(platform).devices_due() == {"truck-02"}  # what the periodic push asks about
        assert await gateway.push_commands(device_keys={"truck-02"}) == 0  # nobody online
        terminal = SimulatedTerminal(PHONE, "2019", terminal_id="SZ80801")
        terminal.clock = lambda: FIX_TIME
        await terminal.connect("127.0.0.1", port)
        await terminal.login("粤B12345")
        (frame,) = await terminal.await_commands(1)
        await terminal.request(terminal.builder.heartbeat())
        out.update(id=command["id"], msg=frame.header.msg_id)

    _run(platform, scenario)
    detail = cmd.command_detail(platform, world.who("integrator"), out["id"])
    assert out["msg"] == 0x8201 and detail["state"] == "acknowledged"
    assert cmd.DatabaseOutbox(platform).devices_due() == set()
    assert detail["answer"]["vehicle"]["lat"] == 29.8683 and detail["answer"]["msg_id"] == "0x0201"


def test_set_parameters_changes_the_cadence_and_a_duplicate_reply_acknowledges_once(platform):
    world = Commands(platform)
    out = {}

    async def scenario(gateway, port):
        terminal = await _online(port)
        terminal.duplicate_replies = True
        command = world.request(
            "integrator",
            "set_parameters",
            {"report_interval_s": 10, "heartbeat_interval_s": 30},
            reason="denser track for recovery",
        )
        await gateway.push_commands()
        await terminal.await_commands(1)
        await terminal.request(terminal.builder.heartbeat())
        terminal.duplicate_replies = False
        query = world.request("integrator", "query_parameters", reason="confirm")
        await gateway.push_commands()
        await terminal.await_commands(2)
        await terminal.request(terminal.builder.heartbeat())
        out.update(id=command["id"], query=query["id"], cadence=len(terminal.vehicle.track(FIX_TIME, 300)))

    _run(platform, scenario)
    assert world.state(out["id"]) == "acknowledged"
    assert world.audit(out["id"]).count("command.acknowledge") == 1
    assert out["cadence"] == 30  # a report every 10 s now
    answer = cmd.command_detail(platform, world.who("integrator"), out["query"])["answer"]
    assert answer["parameters"]["report_interval_s"] == 10 and answer["parameters"]["heartbeat_interval_s"] == 30


def test_a_text_message_is_shown_and_acknowledged(platform):
    world = Commands(platform)
    out = {}

    async def scenario(gateway, port):
        terminal = await _online(port)
        command = world.request("officer", "send_text", {"text": "请尽快联系银行"}, reason="overdue notice")
        await gateway.push_commands()
        await terminal.await_commands(1)
        await terminal.request(terminal.builder.heartbeat())
        out.update(id=command["id"], texts=terminal.vehicle.texts)

    _run(platform, scenario)
    assert out["texts"] == ["请尽快联系银行"] and world.state(out["id"]) == "acknowledged"


def test_an_unanswered_command_expires_and_so_does_one_never_sent(platform):
    world = Commands(platform)
    out = {}

    async def scenario(gateway, port):
        terminal = await _online(port)
        terminal.answers_commands = False
        command = world.request("integrator", "query_parameters", reason="check")
        await gateway.push_commands()
        await terminal.await_commands(1)
        out["id"] = command["id"]

    _run(platform, scenario)
    late = world.request("officer", "lock_doors", loan_id=world.loan_id, ttl_s=600)
    assert cmd.expire_commands(platform) == 0
    platform.clock.advance(301_000)
    assert cmd.expire_commands(platform) == 1
    platform.clock.advance(300_000)
    assert cmd.expire_commands(platform) == 1
    sent, unsent = (cmd.command_detail(platform, world.who("admin"), i) for i in (out["id"], late["id"]))
    assert sent["state"] == "expired" and "no answer" in sent["failure"]
    assert unsent["state"] == "expired" and "not approved and delivered" in unsent["failure"]
    assert world.audit(out["id"]) == ["command.request", "command.send", "command.expire"]
    with pytest.raises(Conflict, match="is expired: it cannot approve"):
        cmd.approve_command(platform, world.who("risk"), late["id"])


def test_a_reply_from_another_terminal_naming_the_command_serial_is_ignored(platform):
    world = Commands(platform)
    out = {}

    async def scenario(gateway, port):
        terminal = await _online(port)
        terminal.answers_commands = False
        command = world.request("integrator", "set_parameters", {"heartbeat_interval_s": 30}, reason="tune")
        await gateway.push_commands()
        (frame,) = await terminal.await_commands(1)
        intruder = await _online(port, PHONE_B, terminal_id="SZ80802")
        forged = m.build_general_response(frame.header.serial, 0x8103, m.RESULT_OK)
        await intruder.send(intruder.builder.frames(m.TERMINAL_RESPONSE, forged))
        await intruder.request(intruder.builder.heartbeat())
        out["after_forgery"] = world.state(command["id"])
        wrong = m.build_general_response(frame.header.serial, 0x8300, m.RESULT_OK)  # answers another message
        await terminal.send(terminal.builder.frames(m.TERMINAL_RESPONSE, wrong))
        await terminal.request(terminal.builder.heartbeat())
        out["after_wrong"] = world.state(command["id"])
        real = m.build_general_response(frame.header.serial, 0x8103, m.RESULT_UNSUPPORTED)
        await terminal.send(terminal.builder.frames(m.TERMINAL_RESPONSE, real))
        await terminal.request(terminal.builder.heartbeat())
        out["id"] = command["id"]

    _run(platform, scenario)
    assert out["after_forgery"] == "sent" and out["after_wrong"] == "sent"
    detail = cmd.command_detail(platform, world.who("integrator"), out["id"])
    assert detail["state"] == "failed" and "result 3 (not supported)" in detail["failure"]


def test_a_2013_terminal_cannot_be_cut_and_the_command_fails_saying_so(platform):
    world = Commands(platform)
    out = {}

    async def scenario(gateway, port):
        terminal = await _online(port, version="2013")
        command = world.request("officer", "immobilise", loan_id=world.loan_id)
        cmd.approve_command(platform, world.who("risk"), command["id"])
        assert await gateway.push_commands() == 0
        out["id"], out["received"] = command["id"], list(terminal.commands)

    _run(platform, scenario)
    detail = cmd.command_detail(platform, world.who("officer"), out["id"])
    assert detail["state"] == "failed" and "needs a 2019 terminal" in detail["failure"] and out["received"] == []


def test_approval_checks_the_loan_and_the_expiry_again(platform):
    world = Commands(platform)
    command = world.request("officer", "lock_doors", loan_id=world.loan_id, ttl_s=600)
    world.set_loan("monitoring", ["truck-02"])  # the borrower caught up meanwhile
    with pytest.raises(Conflict, match="cannot be approved now: loan .* is monitoring"):
        cmd.approve_command(platform, world.who("risk"), command["id"])
    world.set_loan("warning", ["truck-02"])
    platform.clock.advance(601_000)  # past its expiry, before any sweep
    with pytest.raises(Conflict, match="expired at"):
        cmd.approve_command(platform, world.who("risk"), command["id"])
    assert world.state(command["id"]) == "requested" and cmd.expire_commands(platform) == 1


def test_the_gateway_service_sends_a_command_approved_while_the_terminal_is_connected(platform, monkeypatch):
    """`wuxin jt808 serve` on the platform: its poll loop delivers without waiting for the terminal's heartbeat."""
    import os
    import subprocess
    import sys
    import time

    from tests.conftest import free_port

    platform.clock.now_ms = int(time.time() * 1000)  # the gateway process runs on the real clock
    world = Commands(platform)
    monkeypatch.setenv("WUXIN_DATABASE_URL", platform.settings.database_url)
    port = free_port()
    gateway = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wuxin.cli.main",
            "jt808",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--command-poll-s",
            "0.2",
        ],
        env={**os.environ},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "JT808 gateway listening" in gateway.stderr.readline()

        async def scenario() -> tuple[int, int]:
            terminal = SimulatedTerminal(PHONE, "2019", terminal_id="SZ80801")
            await terminal.connect("127.0.0.1", port)
            await terminal.login("粤B12345")
            command = world.request("integrator", "query_location", reason="installation check")
            (frame,) = await terminal.await_commands(1, timeout_s=60)
            await terminal.request(terminal.builder.heartbeat())  # its answer has been handled by now
            await terminal.close()
            return command["id"], frame.header.msg_id

        command_id, msg_id = asyncio.run(scenario())
        assert msg_id == 0x8201 and world.state(command_id) == "acknowledged"
    finally:
        gateway.send_signal(15)
        gateway.wait(timeout=60)
