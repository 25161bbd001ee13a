"""The enrolment rules of JT/T 808 registrations (pure): identity, vehicle, window, once."""

from __future__ import annotations

from dataclasses import replace

from wuxin.ingest.jt808 import messages as m
from wuxin.ingest.jt808.enrolment import ProvisionedTerminal, authentication_refusal, judge_registration

NOW_MS = 1_790_000_000_000
TERMINAL = ProvisionedTerminal(
    "truck-1",
    "SZ80801",
    manufacturer_id="70111",
    terminal_model="JT-701",
    plate="粤B12345",
    vin="LZZ1CCND5MB123456",
    enrol_until_ms=NOW_MS + 1000,
)
BODY = {
    "manufacturer_id": "70111",
    "terminal_model": "JT-701",
    "terminal_id": "SZ80801",
    "plate_color": 1,
    "plate": "粤B12345",
}


def judge(terminal=TERMINAL, now_ms=NOW_MS, **fields) -> tuple[int, str]:
    verdict = judge_registration(terminal, {**BODY, **fields}, now_ms)
    return verdict.result, verdict.reason


def test_the_provisioned_terminal_in_its_window_enrols() -> None:
    assert judge() == (m.REGISTER_OK, "enrolled")
    assert judge(terminal_id="sz80801") == (m.REGISTER_OK, "enrolled")  # terminal ids are capitals
    assert judge(plate_color=0, plate="LZZ1CCND5MB123456") == (m.REGISTER_OK, "enrolled")  # colour 0: the VIN
    assert (
        judge(replace(TERMINAL, manufacturer_id=None, terminal_model=None), manufacturer_id="X", terminal_model="Y")[0]
        == 0
    )


def test_each_provisioned_fact_must_match() -> None:
    assert judge(None) == (m.REGISTER_NO_TERMINAL, "unknown_phone")
    assert judge(terminal_id="") == (m.REGISTER_NO_TERMINAL, "terminal_mismatch")
    assert judge(manufacturer_id="70112") == (m.REGISTER_NO_TERMINAL, "terminal_mismatch")
    assert judge(terminal_model="JT-702") == (m.REGISTER_NO_TERMINAL, "terminal_mismatch")
    assert judge(plate="") == (m.REGISTER_NO_VEHICLE, "vehicle_mismatch")
    assert judge(plate_color=0, plate="粤B12345") == (m.REGISTER_NO_VEHICLE, "vehicle_mismatch")
    assert judge(replace(TERMINAL, vin=None), plate_color=0, plate="") == (m.REGISTER_NO_VEHICLE, "vehicle_mismatch")
    assert judge(replace(TERMINAL, plate=None, vin=None), plate="")[0] == m.REGISTER_OK  # nothing to check against


def test_a_closed_window_or_a_live_code_gives_no_code() -> None:
    assert judge(now_ms=NOW_MS + 1001) == (m.REGISTER_NO_TERMINAL, "enrolment_closed")
    assert judge(replace(TERMINAL, enrol_until_ms=None)) == (m.REGISTER_NO_TERMINAL, "enrolment_closed")
    assert judge(replace(TERMINAL, enrolled=True)) == (m.REGISTER_TERMINAL_TAKEN, "already_registered")


def test_authentication_wants_the_phone_and_a_provisioned_imei() -> None:
    assert authentication_refusal(TERMINAL, True, None) is None
    assert authentication_refusal(TERMINAL, False, None) == "phone_mismatch"
    bound = replace(TERMINAL, imei="861234567890123")
    assert authentication_refusal(bound, True, "861234567890123") is None
    assert authentication_refusal(bound, True, "869999999999999") == "imei_mismatch"
    assert authentication_refusal(bound, True, None) == "imei_mismatch"
