"""GS1 identity: check digits, SGTIN <-> Digital Link, and the published EPC/DL normaliser vectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wuxin.trace.gs1 import (
    Gs1Error,
    canonical_digital_link,
    digital_link_to_sgtin,
    gs1_check_digit,
    gtin14,
    is_valid_gtin,
    sgtin_to_digital_link,
)

VECTORS = json.loads((Path(__file__).parents[1] / "fixtures" / "epcis" / "epc_dl_vectors.json").read_text())


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["input"][:60])
def test_normaliser_matches_published_vectors(case: dict) -> None:
    assert canonical_digital_link(case["input"]) == case["expected"]


def test_vectors_cover_both_recognised_and_rejected_inputs() -> None:
    expected = [case["expected"] for case in VECTORS["cases"]]
    assert None in expected and len([e for e in expected if e]) > 50


@pytest.mark.parametrize("gtin", ["4012345123456", "09780345418913", "80614141123458", "96385074", "614141000036"])
def test_known_gtins_have_valid_check_digits(gtin: str) -> None:
    assert is_valid_gtin(gtin)
    assert gs1_check_digit(gtin[:-1]) == gtin[-1]


@given(st.from_regex(r"[0-9]{13}", fullmatch=True), st.integers(1, 9))
def test_any_wrong_check_digit_is_rejected(body: str, shift: int) -> None:
    good = body + gs1_check_digit(body)
    bad = body + str((int(good[-1]) + shift) % 10)
    assert is_valid_gtin(good) and not is_valid_gtin(bad)
    with pytest.raises(Gs1Error, match="check digit"):
        gtin14(bad)


def test_digits_of_other_scripts_are_not_gtin_digits() -> None:
    assert not is_valid_gtin("401234512345\u0666")
    assert canonical_digital_link("https://id.gs1.org/01/0401234512345\u0666") is None


def test_gtin_lengths_are_padded_to_14() -> None:
    assert gtin14("96385074") == "00000096385074"
    with pytest.raises(Gs1Error, match="'12345'"):
        gtin14("12345")


def test_sgtin_examples_convert_both_ways() -> None:
    epc = "urn:epc:id:sgtin:0614141.812345.6789%2F%26%25%22!%3F()"
    dl = "https://id.gs1.org/01/80614141123458/21/6789%2F%26%25%22%21%3F%28%29"
    assert sgtin_to_digital_link(epc) == dl
    assert digital_link_to_sgtin(dl, company_prefix_digits=7) == epc
    assert (
        digital_link_to_sgtin("https://example.com/gtin/80614141123458/ser/6789?x=1", 7)
        == "urn:epc:id:sgtin:0614141.812345.6789"
    )


_SERIAL = st.text(
    alphabet="!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz",
    min_size=1,
    max_size=20,
)


@given(prefix_digits=st.integers(6, 12), digits=st.from_regex(r"[0-9]{13}", fullmatch=True), serial=_SERIAL)
def test_sgtin_round_trips_through_digital_link(prefix_digits: int, digits: str, serial: str) -> None:
    company_prefix, item = digits[1 : 1 + prefix_digits], digits[0] + digits[1 + prefix_digits :]
    escaped = "".join(
        {'"': "%22", "%": "%25", "&": "%26", "/": "%2F", "<": "%3C", ">": "%3E", "?": "%3F"}.get(c, c) for c in serial
    )
    epc = f"urn:epc:id:sgtin:{company_prefix}.{item}.{escaped}"
    dl = sgtin_to_digital_link(epc)
    assert is_valid_gtin(dl.split("/")[4])
    assert digital_link_to_sgtin(dl, prefix_digits) == epc


@pytest.mark.parametrize(
    "epc, reason",
    [
        ("urn:epc:id:sgtin:0614141.81234.6789", "13 digits"),
        ("urn:epc:id:sscc:0614141.1234567890", "sgtin"),
        ("urn:epc:id:sgtin:0614141.812345.", "sgtin"),
        ("urn:epc:id:sgtin:0614141.812345.ABCDEFGHIJKLMNOPQRSTU", "1-20 characters"),
        ("urn:epc:id:sgtin:0614141.812345.a%7Eb", "character set 82"),
    ],
)
def test_bad_sgtin_uris_are_rejected_with_the_uri(epc: str, reason: str) -> None:
    with pytest.raises(Gs1Error, match=reason):
        sgtin_to_digital_link(epc)


@pytest.mark.parametrize(
    "dl, prefix_digits, reason",
    [
        ("https://id.gs1.org/01/80614141123458", 7, "serial"),
        ("https://id.gs1.org/01/80614141123457/21/1", 7, "check digit"),
        ("https://id.gs1.org/00/340123451111111111", 7, "GTIN"),
        ("https://id.gs1.org/01/80614141123458/21/1", 13, "6..12"),
    ],
)
def test_bad_digital_links_are_rejected(dl: str, prefix_digits: int, reason: str) -> None:
    with pytest.raises(Gs1Error, match=reason):
        digital_link_to_sgtin(dl, prefix_digits)
