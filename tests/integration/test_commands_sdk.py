"""Commands to devices on the vendors' SDKs, end to end over real sockets: the platform's MQTT front end sends
ThingsBoard server-side RPC (to a device, and through a ThingsBoard gateway) and Alink service invocations and
property sets; the ThingsBoard HTTP long poll hands a command to a polling device. The SDKs run unchanged in their
own processes (tests/integration/vendor_sdk); each case asserts the command's state, its stored answer and its
audit trail."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.integration.mqtt_env import front_with_worker, wait_for
from tests.integration.vendor_sdk.run import SdkProcess
from tests.world import PASSWORD, build_world
from wuxin.commands.model import ANSWER_WINDOW_S
from wuxin.errors import Conflict, Denied, InvalidInput, NotFound
from wuxin.services.access import identity
from wuxin.services.devices import calendars, registry
from wuxin.services.devices import commands as cmd
from wuxin.services.ingest.device_sdk import issue_alink_secret
from wuxin.services.ingest.protocols import attach_sub_device

GPS_TSL = Path(__file__).resolve().parents[2] / "src/wuxin/scenarios/vehicles/thing_models/vehicles.gps_terminal.json"
FRONT_USER, FRONT_PASSWORD = "wuxin-front", "front-secret-for-tests"
PRODUCT_KEY = "a1GpsTrk001"
REASON = "weaving shift change, new threshold"


def who(platform, username: str):
    return identity.principal_for_token(platform, identity.login(platform, username, PASSWORD))


def request(platform, device: str, operation: str, params: dict | None = None, username: str = "admin") -> dict:
    return cmd.request_command(platform, who(platform, username), device, operation, params, REASON)


def command(platform, command_id: int) -> dict:
    return cmd.command_detail(platform, who(platform, "admin"), command_id)


def audit(platform, command_id: int) -> list[str]:
    with platform.uow() as uow:
        return [a["action"] for a in reversed(uow.logs.audit_entries(500)) if a["subject"] == f"command:{command_id}"]


def state_is(platform, command_id: int, state: str) -> None:
    wait_for(lambda: command(platform, command_id)["state"] == state, what=f"command {command_id} {state}")


@pytest.fixture
def env(platform, tmp_path):
    platform.clock.now_ms = int(time.time() * 1000)  # LinkKit signs the wall clock's time; consents start now
    world = build_world(platform)
    with front_with_worker(platform, tmp_path, "cmd-worker", FRONT_USER, FRONT_PASSWORD, command_poll_s=0.1) as (
        _,
        _,
        front,
    ):
        processes: list[SdkProcess] = []

        def sdk(kind: str, **config) -> SdkProcess:
            driver = "linkkit_driver.py" if kind == "linkkit" else "tb_driver.py"
            process = SdkProcess(
                "linkkit" if kind == "linkkit" else "tb", driver, {"host": "127.0.0.1", "port": front.port, **config}
            )
            processes.append(process)
            assert process.hello == {"connected": True}
            return process

        yield world, front, sdk
        for process in processes:
            process.close()


# ---- ThingsBoard MQTT: server-side RPC


def test_thingsboard_device_gets_the_rpc_and_its_answer_closes_the_command(platform, env):
    world, _, sdk = env
    loom = sdk("tb", token=world.device_tokens["loom-01"], rpc_answer={"run_threshold_a": 6.5, "saved": True})
    sent = request(platform, "loom-01", "set_run_threshold", {"run_threshold_a": 6.5})
    assert sent["state"] == "approved" and sent["channel"] == "thingsboard"
    requests = loom.call("rpc_requests", count=1)["requests"]
    assert requests == [{"id": str(sent["id"]), "method": "set_run_threshold", "params": {"run_threshold_a": 6.5}}]
    state_is(platform, sent["id"], "acknowledged")
    assert command(platform, sent["id"])["answer"] == {"response": {"run_threshold_a": 6.5, "saved": True}}
    assert audit(platform, sent["id"]) == ["command.request", "command.send", "command.acknowledge"]
    # the same answer again (a device retrying) changes nothing
    loom.call("rpc_reply", id=sent["id"], answer={"error": "late duplicate"})
    second = request(platform, "loom-01", "set_report_interval", {"interval_s": 60})
    state_is(platform, second["id"], "acknowledged")  # the duplicate was handled before this later command
    assert command(platform, sent["id"])["state"] == "acknowledged"
    assert audit(platform, sent["id"]) == ["command.request", "command.send", "command.acknowledge"]
    assert loom.call("rpc_requests", count=2)["requests"][1]["method"] == "set_report_interval"


def test_a_command_waits_for_the_device_to_connect_and_is_delivered_once(platform, env):
    world, front, sdk = env
    queued = request(platform, "loom-01", "set_run_threshold", {"run_threshold_a": 4.0})
    front.push_commands()
    assert command(platform, queued["id"])["state"] == "approved"  # nobody to send it to
    loom = sdk("tb", token=world.device_tokens["loom-01"], rpc_answer={"ok": True})
    state_is(platform, queued["id"], "acknowledged")
    marker = request(platform, "loom-01", "set_report_interval", {"interval_s": 30})
    state_is(platform, marker["id"], "acknowledged")
    requests = loom.call("rpc_requests", count=2)["requests"]
    assert [r["id"] for r in requests] == [str(queued["id"]), str(marker["id"])]  # the first one once
    assert audit(platform, queued["id"]).count("command.send") == 1


def test_an_unanswered_rpc_expires_and_a_late_answer_is_ignored(platform, env):
    world, _, sdk = env
    loom = sdk("tb", token=world.device_tokens["loom-01"])  # receives, does not answer
    silent = request(platform, "loom-01", "set_run_threshold", {"run_threshold_a": 3.0})
    assert loom.call("rpc_requests", count=1)["requests"][0]["id"] == str(silent["id"])
    state_is(platform, silent["id"], "sent")
    platform.clock.now_ms += (ANSWER_WINDOW_S + 1) * 1000
    assert cmd.expire_commands(platform) == 1
    assert command(platform, silent["id"])["state"] == "expired"
    loom.call("rpc_reply", id=silent["id"], answer={"ok": True})
    marker = request(platform, "loom-01", "set_report_interval", {"interval_s": 30})
    state_is(platform, marker["id"], "sent")  # the late answer was read before this was delivered
    assert command(platform, silent["id"])["state"] == "expired"
    assert command(platform, silent["id"])["answer"] is None


def test_a_device_answering_another_devices_command_is_ignored(platform, env):
    world, _, sdk = env
    loom2 = sdk("tb", token=world.device_tokens["loom-02"])  # silent: its command stays sent
    theirs = request(platform, "loom-02", "set_run_threshold", {"run_threshold_a": 2.0})
    assert loom2.call("rpc_requests", count=1)["requests"]
    state_is(platform, theirs["id"], "sent")
    loom1 = sdk("tb", token=world.device_tokens["loom-01"], rpc_answer={"ok": True})
    loom1.call("rpc_reply", id=theirs["id"], answer={"ok": "forged"})
    mine = request(platform, "loom-01", "set_report_interval", {"interval_s": 30})
    state_is(platform, mine["id"], "acknowledged")  # loom-01's forged answer came before this one
    assert command(platform, theirs["id"])["state"] == "sent" and command(platform, theirs["id"])["answer"] is None


def test_an_error_answer_fails_the_command(platform, env):
    world, _, sdk = env
    sdk("tb", token=world.device_tokens["loom-01"], rpc_answer={"error": "threshold locked by the PLC"})
    failed = request(platform, "loom-01", "set_run_threshold", {"run_threshold_a": 5.5})
    state_is(platform, failed["id"], "failed")
    assert "threshold locked by the PLC" in command(platform, failed["id"])["failure"]


def test_a_command_cancelled_before_the_device_connects_is_never_sent(platform, env):
    world, _, sdk = env
    withdrawn = request(platform, "loom-01", "set_run_threshold", {"run_threshold_a": 4.5}, "integrator")
    cmd.cancel_command(platform, who(platform, "integrator"), withdrawn["id"], "wrong machine")
    kept = request(platform, "loom-01", "set_report_interval", {"interval_s": 10}, "integrator")
    with pytest.raises(NotFound):  # another tenant's command does not exist for a bank
        cmd.cancel_command(platform, who(platform, "other"), kept["id"], "not yours")
    loom = sdk("tb", token=world.device_tokens["loom-01"], rpc_answer={"ok": True})
    marker = request(platform, "loom-01", "set_report_interval", {"interval_s": 30})
    state_is(platform, marker["id"], "acknowledged")
    methods = [(r["method"], r["params"]) for r in loom.call("rpc_requests", count=2)["requests"]]
    assert methods == [("set_report_interval", {"interval_s": 10}), ("set_report_interval", {"interval_s": 30})]
    assert command(platform, withdrawn["id"])["state"] == "cancelled"


# ---- ThingsBoard gateway RPC


def test_a_gateway_gets_its_sub_devices_rpc_and_its_reply_closes_it(platform, env):
    world, _, sdk = env
    attach_sub_device(platform, None, "meter-01", "loom-02")
    sent = request(platform, "loom-02", "set_run_threshold", {"run_threshold_a": 7.0})
    assert sent["channel"] == "thingsboard"
    gateway = sdk("tb", token=world.device_tokens["meter-01"], gateway=True, rpc_answer={"done": 1})
    requests = gateway.call("rpc_requests", count=1)["requests"]
    assert requests == [
        {
            "device": "loom-02",
            "data": {"id": sent["id"], "method": "set_run_threshold", "params": {"run_threshold_a": 7.0}},
        }
    ]
    state_is(platform, sent["id"], "acknowledged")
    assert command(platform, sent["id"])["answer"] == {"response": {"done": 1}}
    # the gateway answering for a device that is not behind it changes nothing
    loom1 = request(platform, "loom-01", "set_run_threshold", {"run_threshold_a": 1.0})
    gateway.call("gw_rpc_reply", device="loom-01", id=loom1["id"], answer={"forged": True})
    marker = request(platform, "loom-02", "set_report_interval", {"interval_s": 20})
    state_is(platform, marker["id"], "acknowledged")
    assert command(platform, loom1["id"])["state"] == "approved"  # loom-01 is not connected at all


# ---- Alibaba Alink: service invocation and property set


def test_linkkit_answers_a_service_call_and_a_property_set(platform, env):
    _, _, sdk = env
    secret = issue_alink_secret(platform, None, "truck-01", PRODUCT_KEY)
    truck = sdk(
        "linkkit",
        product_key=PRODUCT_KEY,
        device_name="truck-01",
        device_secret=secret,
        tsl=str(GPS_TSL),
        service_answers={"set_overspeed_limit": [200, {"limit_kmh": 90}], "locate_now": [460, {}]},
    )
    limit = request(platform, "truck-01", "set_overspeed_limit", {"limit_kmh": 90})
    assert limit["channel"] == "alink"
    state_is(platform, limit["id"], "acknowledged")
    assert command(platform, limit["id"])["answer"] == {"code": 200, "data": {"limit_kmh": 90}, "message": None}
    interval = request(platform, "truck-01", "set_report_interval", {"interval_s": 30})
    state_is(platform, interval["id"], "acknowledged")
    locate = request(platform, "truck-01", "locate_now")
    state_is(platform, locate["id"], "failed")
    assert "code 460" in command(platform, locate["id"])["failure"]
    calls = truck.call("calls", count=3)["calls"]
    assert [(c["kind"], c.get("identifier"), c["params"]) for c in calls] == [
        ("service_call", "set_overspeed_limit", {"limit_kmh": 90}),
        ("prop_set", None, {"report_interval_s": 30}),
        ("service_call", "locate_now", {}),
    ]
    assert calls[0]["id"] == str(limit["id"])
    # the device repeating its answer to the first call changes nothing
    truck.call("answer_service", identifier="set_overspeed_limit", id=str(limit["id"]), code=460)
    marker = request(platform, "truck-01", "set_overspeed_limit", {"limit_kmh": 80})
    state_is(platform, marker["id"], "acknowledged")
    assert command(platform, limit["id"])["state"] == "acknowledged"


# ---- the rules still apply


def test_the_command_rules_apply_to_the_sdk_channels(platform, env):
    world, _, sdk = env
    with pytest.raises(InvalidInput, match="run_threshold_a"):
        request(platform, "loom-01", "set_run_threshold", {"run_threshold_a": 500})
    with pytest.raises(InvalidInput, match="not one of channel thingsboard's"):
        request(platform, "loom-01", "immobilise")
    with pytest.raises(InvalidInput, match="interval_s"):
        request(platform, "loom-01", "set_report_interval", {"interval_s": 1})
    with pytest.raises(Denied):
        request(platform, "loom-01", "set_run_threshold", {"run_threshold_a": 5.0}, username="officer")
    with pytest.raises(Denied):
        request(platform, "loom-01", "set_run_threshold", {"run_threshold_a": 5.0}, username="owner")
    approved = request(platform, "loom-02", "set_run_threshold", {"run_threshold_a": 5.0})
    calendars.set_service_dates(platform, None, "loom-02", None, platform.clock_ms() - 1)
    with pytest.raises(Conflict, match="decommissioned"):
        request(platform, "loom-02", "set_run_threshold", {"run_threshold_a": 5.0})
    sdk("tb", token=world.device_tokens["loom-02"], rpc_answer={"ok": True})  # connects; its token is still live
    marker = request(platform, "loom-01", "set_report_interval", {"interval_s": 30})
    sdk("tb", token=world.device_tokens["loom-01"], rpc_answer={"ok": True})
    state_is(platform, marker["id"], "acknowledged")
    assert command(platform, approved["id"])["state"] == "approved"  # a decommissioned device is sent nothing


@pytest.fixture
def http_env(platform, live):
    world = build_world(platform)
    processes: list[SdkProcess] = []

    def device(token: str) -> SdkProcess:
        processes.append(SdkProcess("tb", "tb_driver.py", {"http": True, "host": live.url, "token": token}))
        return processes[-1]

    yield world, device
    for process in processes:
        process.close()


def test_thingsboard_http_sdk_polls_the_command_and_answers_it(platform, live, http_env):
    world, device = http_env
    queued = request(platform, "loom-01", "set_run_threshold", {"run_threshold_a": 8.0})
    loom = device(world.device_tokens["loom-01"])
    loom.call("serve_rpc", answer={"saved": True})
    requests = loom.call("rpc_requests", count=1)["requests"]
    assert requests == [{"id": queued["id"], "method": "set_run_threshold", "params": {"run_threshold_a": 8.0}}]
    state_is(platform, queued["id"], "acknowledged")
    assert command(platform, queued["id"])["answer"] == {
        "response": {"method": "set_run_threshold", "params": {"saved": True}}
    }
    token = world.device_tokens["loom-01"]
    repeat = live.client.post(f"/api/v1/{token}/rpc/{queued['id']}", json={"again": True})
    assert repeat.status_code == 404 and "awaits no answer" in repeat.text
    assert command(platform, queued["id"])["state"] == "acknowledged"


def test_thingsboard_http_long_poll_and_answer_without_the_sdk(platform, live, http_env):
    world, _ = http_env
    token, other = world.device_tokens["loom-01"], world.device_tokens["loom-02"]
    assert live.client.get(f"/api/v1/{token}/rpc", params={"timeout": 100}).status_code == 408
    queued = request(platform, "loom-01", "set_report_interval", {"interval_s": 120})
    taken = live.client.get(f"/api/v1/{token}/rpc", params={"timeout": 2000})
    assert taken.status_code == 200
    assert taken.json() == {"id": queued["id"], "method": "set_report_interval", "params": {"interval_s": 120}}
    assert live.client.get(f"/api/v1/{token}/rpc", params={"timeout": 100}).status_code == 408  # given once
    forged = live.client.post(f"/api/v1/{other}/rpc/{queued['id']}", json={"ok": True})
    assert forged.status_code == 404 and command(platform, queued["id"])["state"] == "sent"
    assert live.client.post(f"/api/v1/wxd_not-a-token/rpc/{queued['id']}", json={}).status_code == 401
    answered = live.client.post(f"/api/v1/{token}/rpc/{queued['id']}", json={"interval_s": 120})
    assert answered.status_code == 200 and answered.json() == {"command_id": queued["id"], "state": "acknowledged"}
    assert command(platform, queued["id"])["answer"] == {"response": {"interval_s": 120}}


def test_a_device_without_a_command_channel_is_refused(platform, env):
    world, _, _ = env
    registry.register_device(
        platform, None, world.factory, "loom-09", "manufacturing.current_bracelet", "bank_installed"
    )
    with platform.uow() as uow:
        device_id = uow.devices.by_key("loom-09")["id"]
        assert uow.devices.live_token_count(device_id) >= 1
    registry.revoke_device_tokens(platform, None, "loom-09")
    with pytest.raises(Conflict, match="no command channel"):
        request(platform, "loom-09", "set_run_threshold", {"run_threshold_a": 5.0})


def test_a_poll_opened_before_its_token_was_rotated_takes_no_command(platform, live, http_env):
    """Outside review: a long poll checked its token once, so an old token went on taking the device's commands."""
    world, _ = http_env
    old = world.device_tokens["loom-01"]
    answers: list = []
    poll = threading.Thread(
        target=lambda: answers.append(live.client.get(f"/api/v1/{old}/rpc", params={"timeout": 5000}))
    )
    poll.start()
    time.sleep(0.5)  # the poll is waiting
    registry.rotate_device_token(platform, None, "loom-01")
    queued = request(platform, "loom-01", "set_report_interval", {"interval_s": 60})
    poll.join(10)
    assert answers and answers[0].status_code == 401
    assert command(platform, queued["id"])["state"] == "approved"  # kept for the device's new token


def test_long_polls_per_device_are_capped(platform, live, http_env):
    world, _ = http_env
    token = world.device_tokens["loom-01"]
    waiting = [
        threading.Thread(target=lambda: live.client.get(f"/api/v1/{token}/rpc", params={"timeout": 2000}))
        for _ in range(2)
    ]
    for thread in waiting:
        thread.start()
    time.sleep(0.5)
    third = live.client.get(f"/api/v1/{token}/rpc", params={"timeout": 100})
    assert third.status_code == 409 and "long polls open" in third.json()["detail"]
    for thread in waiting:
        thread.join(10)
    assert live.client.get(f"/api/v1/{token}/rpc", params={"timeout": 100}).status_code == 408  # freed


def test_an_answer_that_is_not_json_is_refused_and_the_command_waits(platform, live, http_env):
    world, _ = http_env
    token = world.device_tokens["loom-01"]
    queued = request(platform, "loom-01", "set_report_interval", {"interval_s": 90})
    assert live.client.get(f"/api/v1/{token}/rpc", params={"timeout": 2000}).status_code == 200
    nan = live.client.post(
        f"/api/v1/{token}/rpc/{queued['id']}", content=b'{"ok": NaN}', headers={"content-type": "application/json"}
    )
    assert nan.status_code == 400 and "NaN" in nan.json()["detail"]
    assert token not in nan.json()["instance"]  # the path's token is not echoed
    assert command(platform, queued["id"])["state"] == "sent"
    fine = live.client.post(f"/api/v1/{token}/rpc/{queued['id']}", json={"ok": True})
    assert fine.json()["state"] == "acknowledged"


def test_a_service_call_needs_every_declared_input(platform, http_env):
    with pytest.raises(InvalidInput, match="needs"):
        request(platform, "loom-01", "set_run_threshold", {})


# ---- lender operations on the RPC channels: the rules of the JT/T 808 cut hold for an MQTT GPS tracker


def _pledged_tracker(platform, world, loan_state: str = "warning") -> int:
    """truck-01 (a ThingsBoard MQTT tracker) pledged on a loan of the bank; consents of both banks and the
    integrator; its last report says standing, ignition off."""
    from tests.world import DAY_MS
    from wuxin.services.access import consent
    from wuxin.services.credit import loans

    expires = platform.clock_ms() + 30 * DAY_MS
    for tenant in (world.bank, world.other_bank, world.operator):
        consent.grant(platform, None, world.fleet, tenant, "all", [], "credit monitoring", expires)
    loan = loans.create_loan(platform, who(platform, "officer"), world.fleet, "auto", "300000")
    with platform.uow() as uow:
        uow.monitoring.set_loan(loan["id"], state=loan_state, monitoring_plan={"devices": ["truck-01"]})
        uow.commit()
    _tracker_reports(platform, speed_kmh=0.0, acc_on=False)
    return loan["id"]


def _tracker_reports(platform, speed_kmh: float, acc_on: bool) -> None:
    from wuxin.services.ingest.telemetry import ingest_lines

    platform.clock.now_ms += 1000
    ingest_lines(
        platform,
        [
            {
                "device": "truck-01",
                "ts": platform.clock_ms() - 500,
                "values": {"speed_kmh": speed_kmh, "acc_on": acc_on, "lat": 29.87, "lon": 121.54},
            }
        ],
        "http",
    )


def _lender_request(platform, username: str, operation: str, loan_id: int | None) -> dict:
    return cmd.request_command(
        platform,
        who(platform, username),
        "truck-01",
        operation,
        None,
        "default: recover the pledged truck",
        loan_id=loan_id,
    )


def test_an_mqtt_trackers_immobilise_needs_the_lending_bank_four_eyes_and_a_standing_truck(platform, env):
    world, _, sdk = env
    loan_id = _pledged_tracker(platform, world)
    truck = sdk("tb", token=world.device_tokens["truck-01"], rpc_answer={"immobilised": True})
    operations = {o["operation"]: o for o in cmd.device_operations(platform, who(platform, "officer"), "truck-01")}
    assert operations["immobilise"]["channel"] == "thingsboard" and operations["immobilise"]["four_eyes"]
    assert operations["immobilise"]["lender"] and operations["immobilise"]["stationary"]
    cut = _lender_request(platform, "officer", "immobilise", loan_id)
    assert cut["state"] == "requested" and cut["four_eyes"]
    with pytest.raises(Denied, match="four eyes"):
        cmd.approve_command(platform, who(platform, "officer"), cut["id"])
    with pytest.raises(NotFound):  # another bank does not even see it
        cmd.approve_command(platform, who(platform, "other"), cut["id"])
    _tracker_reports(platform, speed_kmh=35.0, acc_on=True)
    with pytest.raises(Conflict, match="35.0 km/h"):  # the approver's check: the truck drives again
        cmd.approve_command(platform, who(platform, "risk"), cut["id"])
    _tracker_reports(platform, speed_kmh=0.0, acc_on=False)
    assert cmd.approve_command(platform, who(platform, "risk"), cut["id"], "confirmed")["state"] == "approved"
    state_is(platform, cut["id"], "acknowledged")
    assert truck.call("rpc_requests", count=1)["requests"] == [
        {"id": str(cut["id"]), "method": "immobilise", "params": {}}
    ]
    assert command(platform, cut["id"])["answer"] == {"response": {"immobilised": True}}
    assert audit(platform, cut["id"]) == ["command.request", "command.approve", "command.send", "command.acknowledge"]


def test_an_approved_rpc_cut_waits_while_the_tracker_moves(platform, env):
    world, front, sdk = env
    loan_id = _pledged_tracker(platform, world)
    cut = _lender_request(platform, "officer", "immobilise", loan_id)
    cmd.approve_command(platform, who(platform, "risk"), cut["id"], "confirmed")
    _tracker_reports(platform, speed_kmh=0.0, acc_on=True)  # the engine started after the approval
    truck = sdk("tb", token=world.device_tokens["truck-01"], rpc_answer={"immobilised": True})
    marker = request(platform, "truck-01", "set_report_interval", {"interval_s": 30}, username="integrator")
    state_is(platform, marker["id"], "acknowledged")  # the front end delivered what it could
    assert command(platform, cut["id"])["state"] == "approved"  # held: ACC on
    _tracker_reports(platform, speed_kmh=0.0, acc_on=False)
    front.push_commands()
    state_is(platform, cut["id"], "acknowledged")
    assert [r["method"] for r in truck.call("rpc_requests", count=2)["requests"]] == [
        "set_report_interval",
        "immobilise",
    ]


@pytest.mark.parametrize(
    "username, loan_state, error, match",
    [
        ("integrator", "warning", Denied, "only the lending bank"),  # the integrator sets intervals, never cuts
        ("admin", "warning", Denied, "only the lending bank"),
        ("fleetowner", "warning", Denied, "may not command"),
        ("owner", "warning", NotFound, "truck-01"),  # another enterprise's user does not know the device
        ("officer", "monitoring", Conflict, "allowed only while it is disposal or warning"),  # a loan in good standing
    ],
)
def test_who_may_not_immobilise_an_mqtt_tracker(platform, env, username, loan_state, error, match):
    world, _, _ = env
    loan_id = _pledged_tracker(platform, world, loan_state)
    with pytest.raises(error, match=match):
        _lender_request(platform, username, "immobilise", loan_id if username == "officer" else None)


def test_another_bank_and_a_bank_without_a_pledging_loan_may_not_immobilise(platform, env):
    world, _, _ = env
    loan_id = _pledged_tracker(platform, world)
    with pytest.raises(NotFound):  # the loan is not the other bank's
        _lender_request(platform, "other", "immobilise", loan_id)
    with pytest.raises(Conflict, match="needs a loan of your bank"):
        _lender_request(platform, "other", "immobilise", None)
    with pytest.raises(Denied, match="only the lending bank"):
        _lender_request(platform, "integrator", "restore", None)


def test_the_report_interval_is_the_integrators_and_not_the_banks(platform, env):
    world, _, sdk = env
    _pledged_tracker(platform, world)
    sdk("tb", token=world.device_tokens["truck-01"], rpc_answer={"ok": True})
    set_by_integrator = request(platform, "truck-01", "set_report_interval", {"interval_s": 60}, username="integrator")
    assert set_by_integrator["state"] == "approved" and not set_by_integrator["four_eyes"]
    state_is(platform, set_by_integrator["id"], "acknowledged")
    for banker in ("officer", "risk"):
        with pytest.raises(Denied, match="integrator managing the device"):
            request(platform, "truck-01", "set_report_interval", {"interval_s": 60}, username=banker)
