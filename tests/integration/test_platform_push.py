"""Third-party platforms push signed batches; bad signatures, replays and foreign devices are refused."""

from __future__ import annotations

import json
import uuid

from tests.conftest import T0_MS
from tests.world import build_world, login
from wuxin.services.ingest.protocols import push_signature
from wuxin.store.tables_protocols import push_platforms


def _signed(secret: str, body: bytes, ts: int = T0_MS, nonce: str | None = None) -> dict:
    nonce = nonce or uuid.uuid4().hex
    return {
        "X-Wuxin-Timestamp": str(ts),
        "X-Wuxin-Nonce": nonce,
        "X-Wuxin-Signature": push_signature(secret, ts, nonce, body),
        "Content-Type": "application/x-ndjson",
    }


def _setup(live, platform):
    world = build_world(platform)
    admin = login(live.client, "admin")
    response = live.client.post("/api/v1/platforms", json={"name": "rootcloud"}, headers=admin)
    assert response.status_code == 201, response.text
    secret = response.json()["secret"]
    response = live.client.post(
        "/api/v1/platforms/rootcloud/enterprises", json={"enterprise_id": world.factory}, headers=admin
    )
    assert response.status_code == 201, response.text
    return world, secret


def _lines(*rows) -> bytes:
    return "\n".join(json.dumps(r) for r in rows).encode()


def test_signed_push_stores_served_devices_as_third_party_and_refuses_others(live, platform):
    world, secret = _setup(live, platform)
    body = _lines(
        {"device": "loom-01", "ts": T0_MS - 1000, "values": {"current_a": 11.5}},
        {"device": "meter-01", "ts": T0_MS - 1000, "values": {"power_kw": 3.25}},
        {"device": "truck-01", "ts": T0_MS - 1000, "values": {"speed_kmh": 40}},
    )
    response = live.client.post("/api/v1/platforms/rootcloud/telemetry", content=body, headers=_signed(secret, body))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["accepted"] == 2 and [e["reason"] for e in result["errors"]] == ["not_served_by_platform"]
    with platform.uow() as uow:
        batch = uow.telemetry.batch(result["batch_id"])
        truck = uow.devices.by_key("truck-01")
        assert uow.telemetry.count_readings(truck["id"]) == 0
        assert [q["reason"] for q in uow.quarantine.list("open", 10)] == ["not_served_by_platform"]
    assert batch["source_mode"] == "third_party_platform" and batch["channel"] == "platform"


def test_wrong_signature_stale_timestamp_and_replayed_nonce_are_refused(live, platform):
    world, secret = _setup(live, platform)
    body = _lines({"device": "loom-01", "ts": T0_MS - 1000, "values": {"current_a": 11.5}})
    url = "/api/v1/platforms/rootcloud/telemetry"
    wrong = _signed("wxp_not-the-secret", body)
    assert live.client.post(url, content=body, headers=wrong).json()["error"] == "bad_signature"
    tampered = _signed(secret, body)
    response = live.client.post(url, content=body.replace(b"11.5", b"99.5"), headers=tampered)
    assert response.status_code == 401 and response.json()["error"] == "bad_signature"
    stale = _signed(secret, body, ts=T0_MS - 301_000)
    assert live.client.post(url, content=body, headers=stale).json()["error"] == "replayed"
    headers = _signed(secret, body)
    assert live.client.post(url, content=body, headers=headers).status_code == 200
    replay = live.client.post(url, content=body, headers=headers)
    assert replay.status_code == 401 and replay.json()["error"] == "replayed"
    unknown = live.client.post("/api/v1/platforms/nobody/telemetry", content=body, headers=_signed(secret, body))
    assert unknown.status_code == 401
    with platform.uow() as uow:
        assert uow.telemetry.count_readings() == 1


def test_nonce_is_refused_after_a_restart_and_the_secret_is_stored_encrypted(live, platform):
    import pytest

    from wuxin.bootstrap import build_platform
    from wuxin.errors import AuthError
    from wuxin.services.ingest.protocols import push_telemetry

    world, secret = _setup(live, platform)
    body = _lines({"device": "loom-01", "ts": T0_MS - 1000, "values": {"current_a": 1.5}})
    headers = _signed(secret, body, nonce="n" * 20)
    assert live.client.post("/api/v1/platforms/rootcloud/telemetry", content=body, headers=headers).status_code == 200
    restarted = build_platform(platform.settings, clock_ms=platform.clock)
    with pytest.raises(AuthError, match="already used"):
        push_telemetry(
            restarted, "rootcloud", headers["X-Wuxin-Timestamp"], "n" * 20, headers["X-Wuxin-Signature"], body
        )
    restarted.close()
    with platform.engine.connect() as conn:
        stored = conn.execute(push_platforms.select()).first()._mapping["secret_ciphertext"]
    assert secret not in stored and secret[4:] not in stored


def test_only_the_admin_registers_platforms_and_only_admin_or_owner_links_an_enterprise(live, platform):
    world, _ = _setup(live, platform)
    officer, owner, fleetowner = (login(live.client, u) for u in ("officer", "owner", "fleetowner"))
    denied = live.client.post("/api/v1/platforms", json={"name": "casicloud"}, headers=officer)
    assert denied.status_code == 403
    assert live.client.post("/api/v1/platforms", json={"name": "casicloud"}).status_code == 401
    url = "/api/v1/platforms/rootcloud/enterprises"
    assert live.client.post(url, json={"enterprise_id": world.factory}, headers=fleetowner).status_code == 404
    assert live.client.post(url, json={"enterprise_id": world.fleet}, headers=officer).status_code == 404
    assert live.client.post(url, json={"enterprise_id": world.fleet}, headers=fleetowner).status_code == 201
    assert live.client.post(url, json={"enterprise_id": world.factory}, headers=owner).status_code == 201
