"""The validation pipeline with an in-memory device table: no database."""

from __future__ import annotations

import pytest

from wuxin.ingest.parse import PayloadError, loads, parse_ts_ms, thingsboard_lines
from wuxin.ingest.pipeline import DeviceContext, validate_lines
from wuxin.scenarios import builtin_thing_models

NOW = 1_790_000_000_000
MODELS = {m.device_type: m for m in builtin_thing_models()}
DEVICES = {"loom-01": DeviceContext(1, "loom-01", MODELS["manufacturing.current_bracelet"], "bank_installed")}


def run(lines):
    return validate_lines(lines, DEVICES.get, NOW, 24 * 3600_000)


def test_fast_and_careful_paths_agree():
    lines = [{"device": "loom-01", "ts": NOW - i, "values": {"current_a": float(i)}} for i in range(5)]
    iso = [{"device": "loom-01", "ts": "2026-09-21T14:13:19.999+00:00", "values": {"current_a": 1.0}}]
    out = run(lines + iso)
    assert out.readings[-1] == (1, "current_a", NOW - 1, 1.0, None)
    assert len(out.readings) == 6 and out.last_seen_ms == {1: NOW}


def test_timestamps_at_the_edges():
    edges = [NOW + 24 * 3600_000, NOW + 24 * 3600_000 + 1, 946_684_800_000, 946_684_799_999]
    out = run([{"device": "loom-01", "ts": t, "values": {"current_a": 1.0}} for t in edges])
    assert [r[2] for r in out.readings] == [edges[0], edges[2]]
    assert [r.reason for r in out.rejections] == ["timestamp_in_future", "timestamp_too_old"]


@pytest.mark.parametrize(
    "line, reason",
    [
        ({"ts": NOW, "values": {"current_a": 1}}, "wrong_shape"),
        ({"device": 7, "ts": NOW, "values": {}}, "wrong_shape"),
        ({"device": "loom-01", "ts": NOW, "values": {}}, "wrong_shape"),
        ({"device": "loom-01", "ts": NOW}, "wrong_shape"),
        ({"device": "loom-01", "ts": [1], "values": {"current_a": 1}}, "bad_timestamp"),
        ({"device": "loom-01", "ts": "yesterday", "values": {"current_a": 1}}, "bad_timestamp"),
        ({"device": "ghost", "ts": NOW, "values": {"current_a": 1}}, "unknown_device"),
        ([1, 2], "wrong_shape"),
        ("text", "wrong_shape"),
    ],
)
def test_every_bad_line_gets_a_reason(line, reason):
    out = run([line])
    assert [r.reason for r in out.rejections] == [reason] and out.readings == []


def test_thingsboard_forms_and_json_edge_cases():
    assert thingsboard_lines("d", {"a": 1}, 5) == [{"device": "d", "ts": 5, "values": {"a": 1}}]
    assert thingsboard_lines("d", [{"ts": 1, "values": {"a": 1}}], 5) == [{"device": "d", "ts": 1, "values": {"a": 1}}]
    assert loads(b'{"a": NaN}')["a"] != loads(b'{"a": NaN}')["a"]  # NaN parses, to be refused per point
    with pytest.raises(PayloadError):
        loads(b"{")
    with pytest.raises(ValueError):
        parse_ts_ms("2026-01-01T00:00:00")  # no offset: ambiguous device time
    assert parse_ts_ms("2026-01-01T08:00:00+08:00") == parse_ts_ms("2026-01-01T00:00:00Z")


def test_an_empty_thingsboard_object_says_nothing_and_is_not_refused():
    assert thingsboard_lines("d", {}, 5) == []  # ThingsBoard's HTTP client tests its token with {}
    assert thingsboard_lines("d", [{}, {"a": 1}], 5)[0] == {"device": "d", "ts": 5, "values": {}}  # still refused
