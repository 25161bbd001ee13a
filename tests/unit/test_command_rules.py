"""The command state machine and the JT/T 808 channel's rules (pure)."""

from __future__ import annotations

import pytest

from wuxin.commands.jt808 import JT808, judge_answer
from wuxin.commands.model import (
    FINAL_STATES,
    STATES,
    STEPS,
    checked_reason,
    checked_ttl_s,
    loan_refusal,
    moving_refusal,
    next_state,
)
from wuxin.errors import Conflict, InvalidInput


def test_the_happy_path_goes_requested_approved_sent_acknowledged():
    state = "requested"
    for step, want in (("approve", "approved"), ("send", "sent"), ("acknowledge", "acknowledged")):
        state = next_state(state, step, 7)
        assert state == want


@pytest.mark.parametrize("state", sorted(FINAL_STATES))
def test_a_final_state_leads_nowhere(state):
    for step in STEPS:
        with pytest.raises(Conflict, match=f"command 7 is {state}"):
            next_state(state, step, 7)


def test_what_each_step_leaves_from():
    assert next_state("requested", "reject") == "refused"
    assert next_state("approved", "cancel") == "cancelled"
    assert next_state("sent", "fail") == "failed"
    assert next_state("approved", "undeliverable") == "failed"
    assert {next_state(s, "expire") for s in ("requested", "approved", "sent")} == {"expired"}
    with pytest.raises(Conflict, match="cannot cancel"):
        next_state("sent", "cancel", 3)  # it left: too late to call it back
    with pytest.raises(Conflict, match="cannot approve"):
        next_state("approved", "approve", 3)  # approved once
    with pytest.raises(Conflict, match="cannot acknowledge"):
        next_state("approved", "acknowledge", 3)  # an answer to something never sent
    with pytest.raises(InvalidInput, match="'launch'"):
        next_state("requested", "launch")
    assert set(STATES) == {target for _, target in STEPS.values()} | {"requested"}


def test_reason_and_ttl_bounds():
    assert checked_reason("  overdue 90 days ") == "overdue 90 days"
    with pytest.raises(InvalidInput, match="at least 3"):
        checked_reason(" a ")
    assert checked_ttl_s(None) == 86_400
    for bad in (59, 7 * 86_400 + 1, "600"):
        with pytest.raises(InvalidInput, match="ttl_s"):
            checked_ttl_s(bad)


def test_parameters_are_checked_by_name_and_range():
    spec = JT808.operation("set_parameters")
    assert spec.check_params({"heartbeat_interval_s": 30, "report_interval_s": 10}) == {
        "heartbeat_interval_s": 30,
        "report_interval_s": 10,
    }
    for bad, message in (
        ({}, "at least one"),
        ({"apn": 1}, "'apn'"),
        ({"report_interval_s": 0}, "from 1 to 86400"),
        ({"report_interval_s": True}, "whole number"),
        ({"heartbeat_interval_s": 2.5}, "whole number"),
    ):
        with pytest.raises(InvalidInput, match=message):
            spec.check_params(bad)
    with pytest.raises(InvalidInput, match="takes no parameters"):
        JT808.operation("immobilise").check_params({"force": True})
    with pytest.raises(InvalidInput, match="'self_destruct' is not one of channel jt808"):
        JT808.operation("self_destruct")


def test_text_must_be_showable_on_a_terminal():
    spec = JT808.operation("send_text")
    assert spec.check_params({"text": " 请联系银行 "}) == {"text": "请联系银行", "tts": False}
    for bad, message in (
        ({"text": ""}, "1-200"),
        ({"text": "x" * 201}, "1-200"),
        ({"text": "ok", "tts": "yes"}, "tts"),
        ({"text": "🚚"}, "GBK"),
        ({"text": "ok", "colour": 1}, "not \\['colour'\\]"),
    ):
        with pytest.raises(InvalidInput, match=message):
            spec.check_params(bad)


def test_who_the_operations_need():
    danger = {name for name, op in JT808.operations.items() if op.four_eyes}
    assert danger == {"lock_doors", "unlock_doors", "immobilise", "restore"}
    assert {name for name, op in JT808.operations.items() if op.lender} == danger
    assert [name for name, op in JT808.operations.items() if op.stationary] == ["immobilise"]
    assert JT808.operation("restore").loan_states is None  # the undo is allowed whatever the loan became


def test_the_cut_needs_a_standing_vehicle_with_the_ignition_off():
    assert moving_refusal(0.0, 0.0, "truck-02") is None
    assert "42.0 km/h" in moving_refusal(42.0, 0.0, "truck-02")
    assert "ACC on" in moving_refusal(0.0, 1.0, "truck-02")
    assert "no speed and ignition" in moving_refusal(None, 0.0, "truck-02")
    assert "no speed and ignition" in moving_refusal(0.0, None, "truck-02")


def test_the_loan_must_allow_it():
    immobilise, restore = JT808.operation("immobilise"), JT808.operation("restore")
    assert "needs a loan of your bank" in loan_refusal(immobilise, None, "truck-02")
    assert loan_refusal(immobilise, {"id": 4, "state": "warning"}, "truck-02") is None
    assert loan_refusal(immobilise, {"id": 4, "state": "disposal"}, "truck-02") is None
    for state in ("monitoring", "closed", "application"):
        assert f"loan 4 is {state}" in loan_refusal(immobilise, {"id": 4, "state": state}, "truck-02")
    assert loan_refusal(restore, {"id": 4, "state": "closed"}, "truck-02") is None


def test_answers_close_only_what_they_answer():
    assert judge_answer("set_parameters", 0x8103, 0x0001, {"reply_msg_id": 0x8103, "result": 0}) == (
        "acknowledge",
        None,
    )
    step, why = judge_answer("set_parameters", 0x8103, 0x0001, {"reply_msg_id": 0x8103, "result": 3})
    assert step == "fail" and "result 3 (not supported)" in why
    assert judge_answer("set_parameters", 0x8103, 0x0001, {"reply_msg_id": 0x8300, "result": 0}) == (None, None)
    assert judge_answer("query_location", 0x8201, 0x0001, {"reply_msg_id": 0x8201, "result": 0}) == ("wait", None)
    assert judge_answer("query_location", 0x8201, 0x0500, {"vehicle": {}}) == (None, None)
    cut = {"vehicle": {"oil_cut": True, "circuit_cut": True, "doors_locked": False}}
    assert judge_answer("immobilise", 0x8500, 0x0500, cut) == ("acknowledge", None)
    step, why = judge_answer("restore", 0x8500, 0x0500, cut)
    assert step == "fail" and "circuit_cut=True, oil_cut=True" in why


def test_a_thing_models_services_become_operations_checked_by_their_input_data():
    from wuxin.commands.tsl import tsl_operations

    doc = {
        "services": [
            {
                "identifier": "set_run_threshold",
                "name": "设置运行阈值",
                "callType": "async",
                "inputData": [
                    {
                        "identifier": "run_threshold_a",
                        "name": "阈值",
                        "dataType": {"type": "float", "specs": {"min": "0", "max": "50"}},
                    }
                ],
            }
        ]
    }
    operations = tsl_operations("manufacturing.current_bracelet", doc)
    spec = operations["set_run_threshold"]
    assert spec.check_params({"run_threshold_a": 5.0}) == {"run_threshold_a": 5.0}
    assert spec.label["zh"] == "设置运行阈值" and not spec.four_eyes
    with pytest.raises(InvalidInput, match="run_threshold_a"):
        spec.check_params({"run_threshold_a": 500.0})
    with pytest.raises(InvalidInput, match="not \\['colour'\\]"):
        spec.check_params({"colour": "red"})
    assert tsl_operations("vehicles.gps_terminal", {"services": []}) == {}
    with pytest.raises(InvalidInput, match="wuxin_command must be an object"):
        tsl_operations("vehicles.gps_terminal", {"services": [{"identifier": "x", "wuxin_command": {"boss": True}}]})
    lender = tsl_operations("t.x", {"services": [{"identifier": "x", "wuxin_command": {"lender": True}}]})["x"]
    assert lender.lender and lender.four_eyes  # a lender operation always needs a second person


def test_the_sdk_channels_carry_the_thing_models_services_and_the_standard_operations():
    import json
    from pathlib import Path

    from wuxin.commands import rpc

    root = Path(__file__).resolve().parents[2] / "src/wuxin/scenarios"
    gps = json.loads((root / "vehicles/thing_models/vehicles.gps_terminal.json").read_text(encoding="utf-8"))
    channel = rpc.rpc_channel(rpc.ALINK, "vehicles.gps_terminal", gps)
    assert sorted(channel.operations) == [
        "immobilise",
        "locate_now",
        "restore",
        "set_overspeed_limit",
        "set_report_interval",
    ]
    assert channel.operation("set_overspeed_limit").check_params({"limit_kmh": 90}) == {"limit_kmh": 90}
    with pytest.raises(InvalidInput, match="limit_kmh"):
        channel.operation("set_overspeed_limit").check_params({"limit_kmh": 10})
    with pytest.raises(InvalidInput, match="interval_s must be a whole number"):
        channel.operation("set_report_interval").check_params({"interval_s": 2.5})
    with pytest.raises(InvalidInput, match="not one of channel alink's"):
        channel.operation("lock_doors")
    cut, undo = channel.operation("immobilise"), channel.operation("restore")  # the tracker's relay: lender only
    assert (cut.lender, cut.four_eyes, cut.stationary, cut.loan_states) == (
        True,
        True,
        True,
        frozenset({"warning", "disposal"}),
    )
    assert (undo.lender, undo.four_eyes, undo.stationary, undo.loan_states) == (True, True, False, None)
    assert (
        not channel.operation("set_report_interval").lender and not channel.operation("set_report_interval").four_eyes
    )
    assert rpc.alink_request(7, "set_report_interval", {"interval_s": 30}) == (
        "thing/service/property/set",
        {"id": "7", "version": "1.0", "method": "thing.service.property.set", "params": {"report_interval_s": 30}},
    )
    assert rpc.alink_request(8, "locate_now", {})[0] == "thing/service/locate_now"
    meter = json.loads(
        (root / "manufacturing/thing_models/manufacturing.energy_meter.json").read_text(encoding="utf-8")
    )
    relay = rpc.rpc_channel(rpc.THINGSBOARD, "manufacturing.energy_meter", meter).operation("relay_control")
    assert relay.check_params({"closed": False}) == {"closed": False} and not relay.lender
    with pytest.raises(InvalidInput, match="closed"):
        relay.check_params({"closed": "off"})
    assert rpc.gateway_request("loom-02", 9, "m", {}) == {
        "device": "loom-02",
        "data": {"id": 9, "method": "m", "params": {}},
    }


def test_the_sdk_channels_judge_answers_and_read_ids_strictly():
    from wuxin.commands import rpc

    assert rpc.alink_outcome({"id": "1", "code": 200}) == ("acknowledge", None)
    step, why = rpc.alink_outcome({"id": "1", "code": 460, "message": "busy"})
    assert step == "fail" and "code 460: busy" in why
    assert rpc.thingsboard_outcome({"saved": True}) == ("acknowledge", None)
    assert rpc.thingsboard_outcome("ok") == ("acknowledge", None)
    assert rpc.thingsboard_outcome({"error": "locked"})[0] == "fail"
    assert [rpc.command_id_of(v) for v in (12, "12", "1e3", True, None, "x", "9" * 30)] == [
        12,
        12,
        None,
        None,
        None,
        None,
        None,
    ]
