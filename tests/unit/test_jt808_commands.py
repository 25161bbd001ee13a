"""JT/T 808 command bodies and their answers, byte by byte (2013 and 2019)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wuxin.ingest.jt808 import commands as c
from wuxin.ingest.jt808 import messages as m
from wuxin.ingest.jt808.codec import Jt808Error, decode_frame, encode_frame
from wuxin.ingest.jt808.simulator import SimulatedVehicle

WHEN = datetime(2026, 9, 21, 12, 0, tzinfo=UTC)


def test_set_parameters_body():
    body = c.build_set_parameters({"report_interval_s": 10, "heartbeat_interval_s": 30})
    assert body.hex() == "02" + "00000001040000001e" + "00000029040000000a"
    assert c.parse_set_parameters(body) == {0x0001: bytes.fromhex("0000001e"), 0x0029: bytes.fromhex("0000000a")}


def test_parameters_reply_names_known_ids_and_keeps_others():
    body = c.build_parameters_reply(0x1234, {0x0001: 60, 0x0029: 30}) + bytes.fromhex("0000001303616263")
    body = body[:2] + bytes([3]) + body[3:]  # three items now
    serial, values = c.parse_parameters_reply(body)
    assert serial == 0x1234 and values == {"heartbeat_interval_s": 60, "report_interval_s": 30, "0x0013": "616263"}
    with pytest.raises(Jt808Error, match="truncated at item 3 of 3"):
        c.parse_parameters_reply(body[:-1])


def test_text_body_in_both_versions():
    assert c.build_text("还款", "2013").hex() == "04" + "还款".encode("gbk").hex()
    assert c.build_text("还款", "2019", tts=True).hex() == "0c01" + "还款".encode("gbk").hex()
    assert c.parse_text(c.build_text("还款", "2019"), "2019") == "还款"


def test_vehicle_control_2013_locks_doors_only():
    assert c.build_vehicle_control("2013", doors_locked=True) == b"\x01"
    assert c.build_vehicle_control("2013", doors_locked=False) == b"\x00"
    with pytest.raises(Jt808Error, match="needs a 2019 terminal"):
        c.build_vehicle_control("2013", oil_power_cut=True)


def test_vehicle_control_2019_lists_control_types():
    body = c.build_vehicle_control("2019", oil_power_cut=True)
    assert body.hex() == "0001f00101"
    assert c.build_vehicle_control("2019", doors_locked=True).hex() == "0001000101"
    assert c.parse_vehicle_control(
        c.build_vehicle_control("2019", doors_locked=False, oil_power_cut=False), "2019"
    ) == {"doors_locked": False, "oil_power_cut": False}
    with pytest.raises(Jt808Error, match="0x0002 is not known"):
        c.parse_vehicle_control(bytes.fromhex("0001000201"), "2019")


def test_a_cut_vehicle_answers_with_status_bits_and_stands_still():
    vehicle = SimulatedVehicle(speed_kmh=0.0, acc_on=False)
    msg_id, body = c.command_message("immobilise", {}, "2019")
    frame = decode_frame(encode_frame(msg_id, "013912345678", 77, body, version="2019")[1:-1])
    reply_id, reply = vehicle.obey(frame, WHEN)
    assert reply_id == c.VEHICLE_CONTROL_REPLY
    serial, answer = c.parse_reply(reply_id, reply)
    assert serial == 77 and answer["vehicle"]["oil_cut"] and answer["vehicle"]["circuit_cut"]
    vehicle.speed_kmh, vehicle.acc_on = 60.0, True  # the driver tries
    fixes = vehicle.track(WHEN, 120)
    assert {(f.lat, f.lon, f.speed_kmh) for f in fixes} == {(29.8683, 121.544, 0.0)}
    assert all(f.status & c.STATUS_OIL_CUT and not f.acc_on for f in fixes)


def test_a_new_report_interval_changes_the_cadence():
    vehicle = SimulatedVehicle(speed_kmh=36.0, acc_on=True)
    assert len(vehicle.track(WHEN, 300)) == 10  # every 30 s
    frame = decode_frame(
        encode_frame(c.SET_PARAMETERS, "013912345678", 5, c.build_set_parameters({"report_interval_s": 10}))[1:-1]
    )
    reply_id, reply = vehicle.obey(frame, WHEN)
    assert (reply_id, m.parse_general_response(reply)) == (
        m.TERMINAL_RESPONSE,
        {"reply_serial": 5, "reply_msg_id": 0x8103, "result": 0},
    )
    fixes = vehicle.track(WHEN, 300)
    assert len(fixes) == 30 and fixes[1].lon > fixes[0].lon  # driving east


def test_every_operation_has_a_message():
    for operation, params in (
        ("query_parameters", {}),
        ("set_parameters", {"report_interval_s": 5}),
        ("query_location", {}),
        ("send_text", {"text": "hi"}),
        ("lock_doors", {}),
        ("unlock_doors", {}),
        ("immobilise", {}),
        ("restore", {}),
    ):
        msg_id, _ = c.command_message(operation, params, "2019")
        assert msg_id in (c.QUERY_PARAMETERS, c.SET_PARAMETERS, c.QUERY_LOCATION, c.TEXT_MESSAGE, c.VEHICLE_CONTROL)
    with pytest.raises(Jt808Error, match="no message for operation 'reboot'"):
        c.command_message("reboot", {}, "2019")
