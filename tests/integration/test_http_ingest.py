"""ThingsBoard-compatible HTTP ingestion over a real socket: valid, partly invalid, replayed, hostile."""

from __future__ import annotations

import httpx
import orjson
import pytest

from tests.conftest import T0_MS
from tests.world import build_world


@pytest.fixture
def world(platform):
    return build_world(platform)


def post(live, token: str, body) -> httpx.Response:
    data = body if isinstance(body, (bytes, str)) else orjson.dumps(body)
    return live.client.post(f"/api/v1/{token}/telemetry", content=data, headers={"content-type": "application/json"})


def stored(platform, device_key: str) -> list[dict]:
    with platform.uow() as uow:
        device = uow.devices.by_key(device_key)
        return uow.telemetry.readings([device["id"]], None, 0, 2**62, 10_000)


def open_quarantine(platform) -> list[dict]:
    with platform.uow() as uow:
        return uow.quarantine.list("open", 1000)


def test_three_thingsboard_forms_are_stored_with_device_and_server_time(platform, live, world):
    token = world.device_tokens["loom-01"]
    assert post(live, token, {"ts": T0_MS - 60_000, "values": {"current_a": 12.5}}).status_code == 200
    assert (
        post(live, token, [{"ts": T0_MS - 30_000, "values": {"current_a": 13.0, "battery_pct": 88}}]).status_code == 200
    )
    assert post(live, token, {"current_a": 0.4}).status_code == 200
    rows = {(r["key"], r["ts_ms"]): r["num"] for r in stored(platform, "loom-01")}
    assert rows == {
        ("current_a", T0_MS - 60_000): 12.5,
        ("current_a", T0_MS - 30_000): 13.0,
        ("battery_pct", T0_MS - 30_000): 88.0,
        ("current_a", T0_MS): 0.4,
    }
    assert open_quarantine(platform) == []


def test_partly_invalid_batch_keeps_good_points_and_explains_each_bad_one(platform, live, world):
    body = (
        b'[{"ts": %d, "values": {"current_a": 10.0, "vibration": 3, "battery_pct": "full", "rssi_dbm": -70}},'
        b' {"ts": %d, "values": {"current_a": 2500}},'
        b' {"ts": %d, "values": {"current_a": NaN}},'
        b' {"ts": %d, "values": {"current_a": Infinity}},'
        b' {"ts": %d, "values": {"current_a": 1.0}},'
        b' {"ts": 900000000000, "values": {"current_a": 1.0}},'
        b' {"ts": "2026-09-21T21:00:00+08:00", "values": {"current_a": 7.5}}]'
        % (T0_MS - 1000, T0_MS - 2000, T0_MS - 3000, T0_MS - 4000, T0_MS + 25 * 3600_000)
    )
    response = post(live, world.device_tokens["loom-01"], body)
    assert response.status_code == 200
    result = response.json()
    assert result["accepted"] == 3 and result["rejected"] == 7
    reasons = sorted((e["index"], e["key"], e["reason"]) for e in result["errors"])
    assert reasons == [
        (0, "battery_pct", "wrong_type"),
        (0, "vibration", "unknown_property"),
        (1, "current_a", "out_of_range"),
        (2, "current_a", "not_finite"),
        (3, "current_a", "not_finite"),
        (4, None, "timestamp_in_future"),
        (5, None, "timestamp_too_old"),
    ]
    assert any("2500" in e["message"] and "current_a" in e["message"] for e in result["errors"])
    keys = sorted((r["key"], r["num"]) for r in stored(platform, "loom-01"))
    assert keys == [("current_a", 7.5), ("current_a", 10.0), ("rssi_dbm", -70.0)]
    quarantined = open_quarantine(platform)
    assert sorted(q["reason"] for q in quarantined) == sorted(r for _, _, r in reasons)
    nan_entry = next(q for q in quarantined if q["reason"] == "not_finite" and "NaN" in q["payload"])
    assert nan_entry["device_key"] == "loom-01"


def test_resending_the_same_points_is_idempotent(platform, live, world):
    body = [{"ts": T0_MS - i * 1000, "values": {"current_a": float(i), "battery_pct": 50}} for i in range(50)]
    for _ in range(4):
        assert post(live, world.device_tokens["loom-01"], body).json()["accepted"] == 100
    with platform.uow() as uow:
        assert uow.telemetry.count_readings() == 100


def test_events_are_stored_as_events_not_numbers(platform, live, world):
    response = post(
        live,
        world.device_tokens["loom-01"],
        [{"ts": T0_MS - 5, "event": "tamper", "params": {}}, {"ts": T0_MS - 4, "event": "explode", "params": {}}],
    )
    assert response.json()["events"] == 1 and response.json()["errors"][0]["reason"] == "unknown_event"
    with platform.uow() as uow:
        device = uow.devices.by_key("loom-01")
        assert [e["name"] for e in uow.telemetry.events([device["id"]], 0, 2**62, 10)] == ["tamper"]
        assert uow.telemetry.count_readings() == 0


def test_unknown_and_revoked_tokens_are_refused_and_kept(platform, live, world):
    response = post(live, "wxd_not-a-token", {"current_a": 1.0})
    assert response.status_code == 401 and response.json()["error"] == "unknown_token"
    old = world.device_tokens["loom-01"]
    from wuxin.services.devices.registry import rotate_device_token

    new = rotate_device_token(platform, None, "loom-01")
    response = post(live, old, {"current_a": 1.0})
    assert response.status_code == 401 and response.json()["error"] == "revoked_token"
    assert post(live, new, {"current_a": 1.0}).status_code == 200
    reasons = sorted(q["reason"] for q in open_quarantine(platform))
    assert reasons == ["revoked_token", "unknown_token"]
    with platform.uow() as uow:
        assert uow.telemetry.count_readings() == 1


def test_a_device_token_writes_only_as_its_own_device(platform, live, world):
    response = post(live, world.device_tokens["loom-01"], {"device": "loom-02", "current_a": 3.0})
    assert response.json()["accepted"] == 1 and response.json()["errors"][0]["key"] == "device"
    assert stored(platform, "loom-02") == []
    assert [r["key"] for r in stored(platform, "loom-01")] == ["current_a"]


def test_malformed_json_is_refused_and_quarantined_whole(platform, live, world):
    response = post(live, world.device_tokens["loom-01"], b'{"ts": 1, "values": {"current_a": 1.0')
    assert response.status_code == 400 and response.json()["error"] == "malformed_json"
    entry = open_quarantine(platform)[0]
    assert entry["reason"] == "malformed_json" and entry["payload"].startswith('{"ts": 1')


def test_wrong_shapes_are_refused_not_crashed(platform, live, world):
    for body in [b"42", b'"text"', b"[1, 2]", b'{"ts": 1, "values": []}']:
        response = post(live, world.device_tokens["loom-01"], body)
        assert response.status_code == 400, (body, response.text)
    assert live.client.get("/health").status_code == 200


def test_oversize_body_is_refused_with_its_size(platform, live, world):
    body = orjson.dumps([{"ts": T0_MS - i, "values": {"current_a": 1.0}} for i in range(20_000)])
    response = post(live, world.device_tokens["loom-01"], body)
    assert response.status_code == 413 and str(len(body)) in response.json()["message"]


def test_quarantined_points_replay_after_the_thing_model_is_fixed(platform, live, world):
    post(live, world.device_tokens["loom-01"], {"ts": T0_MS - 10, "values": {"current_a": 1.0, "vibration_mm_s": 4.2}})
    [entry] = open_quarantine(platform)
    assert entry["reason"] == "unknown_property"
    from wuxin.services.devices.registry import import_thing_model
    from wuxin.services.ingest.quarantine import replay

    assert replay(platform, None, [entry["id"]]) == {"replayed": [], "still_refused": [entry["id"]]}
    model = platform.thing_models.get("manufacturing.current_bracelet").source
    model = {
        **model,
        "profile": {**model["profile"], "version": "2"},
        "properties": model["properties"]
        + [
            {
                "identifier": "vibration_mm_s",
                "name": "振动",
                "accessMode": "r",
                "dataType": {"type": "float", "specs": {"min": "0", "max": "100", "unit": "mm/s"}},
            }
        ],
    }
    import_thing_model(platform, orjson.dumps(model))
    assert replay(platform, None, [entry["id"]]) == {"replayed": [entry["id"]], "still_refused": []}
    assert ("vibration_mm_s", 4.2) in [(r["key"], r["num"]) for r in stored(platform, "loom-01")]
    assert open_quarantine(platform) == []
    assert replay(platform, None, [entry["id"]]) == {"replayed": [], "still_refused": []}  # once only


def test_metrics_count_accepted_rejected_and_quarantined(platform, live, world):
    post(live, world.device_tokens["loom-01"], {"ts": T0_MS, "values": {"current_a": 1.0, "current_b": 2}})
    text = live.client.get("/metrics").text
    assert 'wuxin_points_accepted_total{channel="http"} 1.0' in text
    assert 'wuxin_points_rejected_total{channel="http",reason="unknown_property"} 1.0' in text
    assert 'wuxin_quarantined_total{reason="unknown_property"} 1.0' in text


def test_health_reports_the_database(platform, live):
    body = live.client.get("/health").json()
    assert body["status"] == "ok" and body["database"] in ("sqlite", "postgresql")
