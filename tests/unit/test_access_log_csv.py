"""CSV export of the access log: every formula-like text cell defused, numbers and plain text untouched."""

from __future__ import annotations

import csv
import io

from wuxin.services.access.access_log import CSV_COLUMNS, safe_cell, to_csv


def test_text_starting_like_a_formula_gets_an_apostrophe_and_nothing_else_does() -> None:
    for text in ("=1+1", "+86 139", "-2", "@SUM(A1)", "\t=x", "\r=x"):
        assert safe_cell(text) == "'" + text
    assert [safe_cell(v) for v in ("王芳", "a=b", -5, 0, None)] == ["王芳", "a=b", "-5", "0", ""]


def test_the_csv_round_trips_through_a_reader_with_quotes_commas_and_newlines() -> None:
    entry = {
        "id": 7,
        "at_ms": 1_790_000_000_000,
        "user_id": 3,
        "username": "o,fficer",
        "display_name": 'say "hi"\nthere',
        "role": "credit_officer",
        "tenant_id": 2,
        "tenant_name": "-cmd|' /C calc'!A0",
        "action": "devices.list",
        "device_key": None,
        "consent_id": None,
        "rows": 3,
    }
    text = to_csv([entry])
    assert text.startswith("\ufeff") and text.endswith("\r\n")
    (header, row) = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert header == CSV_COLUMNS
    got = dict(zip(header, row))
    assert (got["username"], got["display_name"], got["tenant_name"]) == (
        "o,fficer",
        'say "hi"\nthere',
        "'-cmd|' /C calc'!A0",
    )
    assert (got["at_ms"], got["device_key"], got["consent_id"], got["at_china_time"]) == (
        "1790000000000",
        "",
        "",
        "2026-09-21T22:13:20+08:00",
    )
