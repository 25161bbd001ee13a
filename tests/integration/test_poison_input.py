"""Poison input on every channel but MQTT (see test_mqtt_ingest.py): refused as bad input with a reason,
and a message the database still refuses is isolated: the rest is stored, it is quarantined."""

from __future__ import annotations

import json

import pytest

from tests.conftest import T0_MS
from tests.integration.poison import POISON_NUM, deep, good, line, lone_surrogate, refusing_store  # noqa: F401
from tests.integration.test_http_ingest import open_quarantine, post, stored
from tests.integration.test_platform_push import _setup, _signed
from tests.world import build_world
from wuxin.services.devices import registry
from wuxin.services.ingest.bulk_import import import_file
from wuxin.services.ingest.telemetry import ingest_lines


@pytest.fixture
def world(platform):
    world = build_world(platform)
    _, world.device_tokens["tag-01"] = registry.register_device(
        platform, None, world.factory, "tag-01", "dairy.ear_tag", "bank_installed"
    )
    return world


def _reasons(platform) -> list[str]:
    return sorted(q["reason"] for q in open_quarantine(platform))


def test_http_refuses_poison_posts_with_reasons_and_keeps_serving(platform, live, world):
    token = world.device_tokens["loom-01"]
    bodies = [
        good(T0_MS - 5, 1.0),
        lone_surrogate(T0_MS - 4),
        good(T0_MS - 3, 2.0),
        deep(T0_MS - 2),
        good(T0_MS - 1, 3.0),
    ]
    responses = [post(live, token, body) for body in bodies]
    assert [r.status_code for r in responses] == [200, 400, 200, 400, 200]
    assert responses[1].json()["error"] == "invalid_unicode" and "U+D800" in responses[1].json()["message"]
    assert "$.values.note" in responses[1].json()["message"]
    assert responses[3].json()["error"] == "too_deep" and "64 levels" in responses[3].json()["message"]
    assert sorted(r["num"] for r in stored(platform, "loom-01")) == [1.0, 2.0, 3.0]
    assert _reasons(platform) == ["invalid_unicode", "too_deep"]


def test_http_refuses_nul_in_text_per_point(platform, live, world):
    body = [
        {"ts": T0_MS - 2, "values": {"animal_id": "cow\u00007"}},
        {"ts": T0_MS - 1, "values": {"animal_id": "cow-8"}},
        {"ts": T0_MS - 1, "values": {"unknown\u0000key": 1}},
    ]
    response = post(live, world.device_tokens["tag-01"], body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["accepted"] == 1
    assert sorted((e["index"], e["reason"]) for e in result["errors"]) == [(0, "invalid_text"), (2, "unknown_property")]
    assert "NUL" in result["errors"][0]["message"]
    assert [r["txt"] for r in stored(platform, "tag-01")] == ["cow-8"]
    entry = [q for q in open_quarantine(platform) if q["reason"] == "invalid_text"][0]
    assert "\x00" not in entry["payload"] and "cow\\u00007" in entry["payload"]


def test_raw_nul_bytes_and_long_unknown_device_keys_are_quarantined_not_crashed(platform, live, world):
    response = post(live, world.device_tokens["loom-01"], b'\x00{"ts": 1, "values": {"current_a": 1}}')
    assert response.status_code == 400 and response.json()["error"] == "malformed_json"
    ghost = "ghost-" + "x" * 200 + "\u0000"  # longer than quarantine.device_key, and a NUL
    result = ingest_lines(
        platform,
        [
            {"device": ghost, "ts": T0_MS - 1, "values": {"current_a": 1.0}},
            {"device": "loom-01", "ts": T0_MS - 1, "values": {"current_a": 4.0}},
        ],
        "http",
    )
    assert result.accepted == 1 and [r.reason for r in result.rejections] == ["unknown_device"]
    entries = {q["reason"]: q for q in open_quarantine(platform)}
    assert entries["malformed_json"]["payload"].startswith("\\u0000{")
    assert len(entries["unknown_device"]["device_key"]) == 100 and "\x00" not in entries["unknown_device"]["payload"]


def test_http_batch_with_a_line_the_database_refuses_stores_the_rest(platform, live, world, refusing_store):
    body = [
        {"ts": T0_MS - 3, "values": {"current_a": 1.0}},
        {"ts": T0_MS - 2, "values": {"current_a": POISON_NUM}},
        {"ts": T0_MS - 1, "values": {"current_a": 3.0}},
    ]
    response = post(live, world.device_tokens["loom-01"], body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["accepted"] == 2 and [(e["index"], e["reason"]) for e in result["errors"]] == [(1, "store_failed")]
    assert "value 666 refused" in result["errors"][0]["message"]
    assert sorted(r["num"] for r in stored(platform, "loom-01")) == [1.0, 3.0]
    [entry] = open_quarantine(platform)
    assert entry["reason"] == "store_failed" and entry["device_key"] == "loom-01"
    assert json.loads(entry["payload"])["values"] == {"current_a": POISON_NUM}  # whole: replayable once fixed


def test_http_database_cut_is_not_quarantined(platform, live, world, refusing_store):
    refusing_store.outages = 1
    response = post(live, world.device_tokens["loom-01"], [{"ts": T0_MS - 1, "values": {"current_a": 1.0}}])
    assert response.status_code == 503 and response.json()["error"] == "unavailable"
    assert open_quarantine(platform) == []
    assert (
        post(live, world.device_tokens["loom-01"], [{"ts": T0_MS - 1, "values": {"current_a": 1.0}}]).status_code == 200
    )


def test_import_keeps_the_good_lines_of_a_chunk_with_poison(platform, world, tmp_path, refusing_store):
    lines = [
        line("loom-01", good(T0_MS - 10, 1.0)),
        line("loom-01", lone_surrogate(T0_MS - 9)),
        line("loom-01", good(T0_MS - 8, 2.0)),
        line("loom-01", deep(T0_MS - 7)),
        line("loom-01", good(T0_MS - 6, 3.0)),
        line("loom-01", good(T0_MS - 5, POISON_NUM)),
        line("tag-01", b'{"ts": %d, "values": {"animal_id": "a\\u0000b"}}' % (T0_MS - 4)),
        line("loom-01", good(T0_MS - 3, 4.0)),
    ]
    path = tmp_path / "poison.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    summary = import_file(platform, path)
    assert (summary.lines, summary.readings, summary.rejected) == (8, 4, 4)
    assert sorted(r["num"] for r in stored(platform, "loom-01")) == [1.0, 2.0, 3.0, 4.0]
    assert _reasons(platform) == ["invalid_text", "invalid_unicode", "store_failed", "too_deep"]
    entries = {q["reason"]: q for q in open_quarantine(platform)}
    assert "line 2" in entries["invalid_unicode"]["message"] and "line 6" in entries["store_failed"]["message"]


def test_platform_push_with_a_line_the_database_refuses_stores_the_rest(live, platform, refusing_store):
    world, secret = _setup(live, platform)
    rows = [
        {"device": "loom-01", "ts": T0_MS - 3, "values": {"current_a": 1.0}},
        {"device": "loom-01", "ts": T0_MS - 2, "values": {"current_a": POISON_NUM}},
        {"device": "truck-01", "ts": T0_MS - 2, "values": {"speed_kmh": 40}},
        {"device": "loom-01", "ts": T0_MS - 1, "values": {"current_a": 3.0}},
    ]
    body = "\n".join(json.dumps(r) for r in rows).encode()
    headers = _signed(secret, body)
    response = live.client.post("/api/v1/platforms/rootcloud/telemetry", content=body, headers=headers)
    assert response.status_code == 200, response.text
    errors = sorted((e["index"], e["reason"]) for e in response.json()["errors"])
    assert errors == [(1, "store_failed"), (2, "not_served_by_platform")]
    assert sorted(r["num"] for r in stored(platform, "loom-01")) == [1.0, 3.0]
    assert _reasons(platform) == ["not_served_by_platform", "store_failed"]
    again = live.client.post("/api/v1/platforms/rootcloud/telemetry", content=body, headers=headers)
    assert again.status_code == 401 and again.json()["error"] == "replayed"  # spent, though the first try rolled back


def test_replay_of_an_entry_the_database_still_refuses_leaves_the_others(platform, world, refusing_store):
    from wuxin.services.ingest.quarantine import replay

    ingest_lines(
        platform,
        [
            {"device": "loom-01", "ts": T0_MS - 2, "values": {"current_a": POISON_NUM}},
            {"device": "loom-03", "ts": T0_MS - 1, "values": {"current_a": 1.0}},
        ],
        "http",
    )
    entries = {q["reason"]: q["id"] for q in open_quarantine(platform)}
    registry.register_device(
        platform, None, world.factory, "loom-03", "manufacturing.current_bracelet", "bank_installed"
    )
    result = replay(platform, None, [entries["store_failed"], entries["unknown_device"]])
    assert result == {"replayed": [entries["unknown_device"]], "still_refused": [entries["store_failed"]]}
    assert [r["num"] for r in stored(platform, "loom-03")] == [1.0]


def test_a_known_device_cannot_fill_the_quarantine_with_rejected_lines(platform, live, world):
    """Each rejected line was kept whole: five 4 MB bodies of unknown properties added 16 MB. Now a request's
    rejected lines keep at most rejected_keep_bytes (64 KiB), the rest as sha256 and length, counted as dropped."""
    keep = platform.settings.rejected_keep_bytes
    assert keep == 64 * 1024
    token = world.device_tokens["loom-01"]
    filler = "x" * 50_000
    points = [{"ts": T0_MS - 1000 * i, "values": {f"unknown_{i}": filler}} for i in range(4)]  # 200 kB refused
    for _ in range(3):
        assert post(live, token, points).status_code == 400
    entries = open_quarantine(platform)
    assert len(entries) == 12  # every rejected line is still named in the quarantine
    assert sum(len(e["payload"].encode()) for e in entries) < 3 * (keep + 4 * 1024)  # was 600 kB
    digests = [json.loads(e["payload"]) for e in entries if e["payload"].startswith('{"body_bytes"')]
    assert len(digests) == 3 * 3  # per request: the first line whole (50 kB), the others as their digest
    assert all(d["body_bytes"] > 50_000 and len(d["body_sha256"]) == 64 for d in digests)
    metrics = live.client.get("/metrics").text
    [dropped] = [
        l.split()[-1]
        for l in metrics.splitlines()
        if l.startswith('wuxin_quarantine_dropped_bytes_total{channel="http"}')
    ]
    total = sum(d["body_bytes"] - len(d["body_prefix"].encode()) for d in digests)
    assert float(dropped) == total
