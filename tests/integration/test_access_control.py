"""Every denial path: tenant, role, consent (expired, revoked, narrowed), enterprise, device token."""

from __future__ import annotations

import orjson
import pytest

from tests.conftest import T0_MS
from tests.world import DAY_MS, build_world, login


@pytest.fixture
def world(platform, live):
    world = build_world(platform)
    body = orjson.dumps([{"ts": T0_MS - 1000, "values": {"current_a": 9.0}}])
    for key in ("loom-01", "loom-02"):
        live.client.post(f"/api/v1/{world.device_tokens[key]}/telemetry", content=body)
    return world


def telemetry_url(world, device="loom-01", enterprise=None) -> str:
    return f"/api/v1/enterprises/{enterprise or world.factory}/devices/{device}/telemetry"


def access_log(platform) -> list[dict]:
    with platform.uow() as uow:
        return uow.logs.access_entries()


def test_no_token_and_bad_token_are_unauthenticated(live, world):
    assert live.client.get("/api/v1/enterprises").status_code == 401
    response = live.client.get("/api/v1/enterprises", headers={"Authorization": "Bearer wxu_forged"})
    assert response.status_code == 401 and response.json()["error"] == "unauthenticated"


def test_wrong_password_gives_one_answer_for_every_failure(live, world):
    for username, password in [("officer", "wrong-password-123"), ("nobody", "correct-horse-battery")]:
        response = live.client.post("/api/v1/auth/login", json={"username": username, "password": password})
        assert response.status_code == 401 and response.json()["message"] == "wrong username or password"


def test_passwords_and_tokens_are_stored_hashed(platform, world):
    with platform.uow() as uow:
        user = uow.identity.user_by_username("officer")
        assert user["password_hash"].startswith("$argon2id$")
        assert uow.devices.token_status(world.device_tokens["loom-01"]) is None  # the raw token is not a key


def test_bank_officer_reads_under_consent_and_the_read_is_logged(platform, live, world):
    headers = login(live.client, "officer")
    response = live.client.get(telemetry_url(world), headers=headers)
    assert response.status_code == 200
    assert [r["value"] for r in response.json()["readings"]] == [9.0]
    assert response.json()["provenance"] == {"device": "loom-01", "source_mode": "bank_installed", "trust_level": 0.9}
    [entry] = [e for e in access_log(platform) if e["action"] == "telemetry.read"]
    assert entry["user_id"] == world.users["officer"] and entry["consent_id"] == world.consent_bank_factory
    assert entry["rows"] == 1


def test_another_banks_officer_is_denied_everything(live, world):
    headers = login(live.client, "other")
    assert live.client.get("/api/v1/enterprises", headers=headers).json() == []
    for url in (
        telemetry_url(world),
        f"/api/v1/enterprises/{world.factory}",
        f"/api/v1/enterprises/{world.factory}/devices",
    ):
        response = live.client.get(url, headers=headers)  # without consent the enterprise does not exist for it
        assert response.status_code == 404, url
        assert response.json()["message"] == f"enterprise {world.factory} does not exist"


def test_expired_consent_denies(platform, live, world):
    headers = login(live.client, "officer")
    platform.clock.advance(31 * DAY_MS)
    headers = login(live.client, "officer")
    assert live.client.get(telemetry_url(world), headers=headers).status_code == 404


def test_revoked_consent_denies_and_only_the_enterprise_can_revoke(platform, live, world):
    officer = login(live.client, "officer")
    response = live.client.post(f"/api/v1/consents/{world.consent_bank_factory}/revoke", headers=officer)
    assert response.status_code == 403
    other_owner = login(live.client, "fleetowner")
    assert (
        live.client.post(f"/api/v1/consents/{world.consent_bank_factory}/revoke", headers=other_owner).status_code
        == 404
    )
    owner = login(live.client, "owner")
    response = live.client.post(f"/api/v1/consents/{world.consent_bank_factory}/revoke", headers=owner)
    assert response.status_code == 200 and response.json()["revoked_ms"] == T0_MS
    assert live.client.get(telemetry_url(world), headers=officer).status_code == 404  # at once
    assert live.client.get("/api/v1/enterprises", headers=officer).json() == []


def test_narrowed_consent_covers_only_the_kept_devices(platform, live, world):
    owner = login(live.client, "owner")
    response = live.client.post(
        f"/api/v1/enterprises/{world.factory}/consents",
        headers=owner,
        json={
            "tenant_id": world.bank,
            "scope": "devices",
            "scope_items": ["loom-01", "loom-02"],
            "purpose": "line check",
            "expires_ms": T0_MS + DAY_MS,
        },
    )
    assert response.status_code == 201
    narrow_id = response.json()["id"]
    live.client.post(f"/api/v1/consents/{world.consent_bank_factory}/revoke", headers=owner)
    widened = live.client.patch(f"/api/v1/consents/{narrow_id}", headers=owner, json={"scope_items": ["meter-01"]})
    assert widened.status_code == 422
    assert (
        live.client.patch(f"/api/v1/consents/{narrow_id}", headers=owner, json={"scope_items": ["loom-02"]}).status_code
        == 200
    )
    officer = login(live.client, "officer")
    assert live.client.get(telemetry_url(world, "loom-02"), headers=officer).status_code == 200
    assert (
        live.client.get(telemetry_url(world, "loom-01"), headers=officer).status_code == 404
    )  # outside it: as if absent
    devices = live.client.get(f"/api/v1/enterprises/{world.factory}/devices", headers=officer).json()
    assert [d["key"] for d in devices] == ["loom-02"]


def test_enterprise_user_reads_own_data_but_not_another_enterprise(live, world):
    owner = login(live.client, "owner")
    assert live.client.get(telemetry_url(world), headers=owner).status_code == 200
    fleet_owner = login(live.client, "fleetowner")
    assert live.client.get(telemetry_url(world), headers=fleet_owner).status_code == 404
    assert live.client.get(f"/api/v1/enterprises/{world.factory}", headers=fleet_owner).status_code == 404
    assert [e["id"] for e in live.client.get("/api/v1/enterprises", headers=fleet_owner).json()] == [world.fleet]


def test_platform_admin_reads_no_telemetry_without_consent(live, world):
    admin = login(live.client, "admin")
    assert live.client.get(telemetry_url(world), headers=admin).status_code == 403


def test_device_of_another_enterprise_is_not_found_through_this_one(live, world):
    officer = login(live.client, "officer")
    assert live.client.get(telemetry_url(world, "truck-01"), headers=officer).status_code == 404


def test_roles_guard_operations(live, world):
    officer = login(live.client, "officer")
    assert live.client.get("/api/v1/quarantine", headers=officer).status_code == 403
    assert (
        live.client.post("/api/v1/tenants", headers=officer, json={"name": "X Bank", "kind": "bank"}).status_code == 403
    )
    assert live.client.post("/api/v1/thing-models", headers=officer, content=b"{}").status_code == 403
    admin = login(live.client, "admin")
    assert live.client.get("/api/v1/quarantine", headers=admin).status_code == 200


def test_device_registration_needs_the_right_party(live, world):
    device = {"key": "loom-09", "device_type": "manufacturing.current_bracelet", "source_mode": "bank_installed"}
    officer = login(live.client, "officer")
    assert (
        live.client.post(f"/api/v1/enterprises/{world.factory}/devices", headers=officer, json=device).status_code
        == 403
    )
    integrator = login(live.client, "integrator")
    assert (
        live.client.post(f"/api/v1/enterprises/{world.fleet}/devices", headers=integrator, json=device).status_code
        == 404
    )
    response = live.client.post(f"/api/v1/enterprises/{world.factory}/devices", headers=integrator, json=device)
    assert response.status_code == 201 and response.json()["access_token"].startswith("wxd_")
    owner = login(live.client, "owner")
    mine = {**device, "key": "loom-10"}
    assert live.client.post(f"/api/v1/enterprises/{world.factory}/devices", headers=owner, json=mine).status_code == 403
    shared = {**mine, "source_mode": "enterprise_shared"}
    response = live.client.post(f"/api/v1/enterprises/{world.factory}/devices", headers=owner, json=shared)
    assert response.status_code == 201
    devices = {
        d["key"]: d for d in live.client.get(f"/api/v1/enterprises/{world.factory}/devices", headers=owner).json()
    }
    assert devices["loom-10"]["trust_level"] < devices["loom-09"]["trust_level"]


def test_bad_registration_input_names_the_thing(live, world):
    admin = login(live.client, "admin")
    bad_type = {"key": "x-1", "device_type": "manufacturing.teleporter", "source_mode": "bank_installed"}
    response = live.client.post(f"/api/v1/enterprises/{world.factory}/devices", headers=admin, json=bad_type)
    assert response.status_code == 422 and "manufacturing.teleporter" in response.json()["message"]
    bad_attr = {
        "key": "x-2",
        "device_type": "manufacturing.current_bracelet",
        "source_mode": "bank_installed",
        "attributes": {"run_threshold_a": "high"},
    }
    response = live.client.post(f"/api/v1/enterprises/{world.factory}/devices", headers=admin, json=bad_attr)
    assert response.status_code == 422 and "run_threshold_a" in response.json()["message"]
    bad_uscc = {"name": "假公司", "uscc": "91320509MA1XXXXXX1", "industry": "manufacturing", "region": "江苏"}
    response = live.client.post("/api/v1/enterprises", headers=admin, json=bad_uscc)
    assert response.status_code == 422 and "91320509MA1XXXXXX1" in response.json()["message"]


def test_logout_revokes_the_bearer_token(live, world):
    headers = login(live.client, "officer")
    assert live.client.get("/api/v1/me", headers=headers).json()["role"] == "credit_officer"
    assert live.client.post("/api/v1/auth/logout", headers=headers).status_code == 200
    assert live.client.get("/api/v1/me", headers=headers).status_code == 401


def test_sessions_expire(platform, live, world):
    headers = login(live.client, "officer")
    platform.clock.advance(13 * 3600_000)
    assert live.client.get("/api/v1/me", headers=headers).status_code == 401


def test_an_enterprise_manages_only_its_enterprise_shared_devices(live, world):
    """A borrower holding a bank-installed device's credential could send readings the bank trusts at 0.9."""
    owner, admin, integrator = (login(live.client, u) for u in ("owner", "admin", "integrator"))
    for action in ("rotate", "revoke"):
        refused = live.client.post(f"/api/v1/devices/loom-01/token/{action}", headers=owner)
        assert refused.status_code == 403 and "bank_installed" in refused.json()["message"], refused.text
    body = orjson.dumps([{"ts": T0_MS - 500, "values": {"current_a": 8.0}}])
    assert live.client.post(f"/api/v1/{world.device_tokens['loom-01']}/telemetry", content=body).status_code == 200
    for key in ("gw-01", "loom-11"):
        shared = {"key": key, "device_type": "manufacturing.current_bracelet", "source_mode": "enterprise_shared"}
        assert (
            live.client.post(f"/api/v1/enterprises/{world.factory}/devices", headers=owner, json=shared).status_code
            == 201
        )
    assert live.client.post("/api/v1/devices/gw-01/token/rotate", headers=owner).status_code == 200
    attach = "/api/v1/gateways/gw-01/children"
    refused = live.client.post(attach, headers=owner, json={"device_key": "loom-01"})
    assert refused.status_code == 403 and "bank_installed" in refused.json()["message"]
    above = live.client.post(attach, headers=admin, json={"device_key": "loom-01"})  # trust 0.9 behind trust 0.5
    assert above.status_code == 422 and "gw-01" in above.json()["message"] and "loom-01" in above.json()["message"]
    assert live.client.post(attach, headers=owner, json={"device_key": "loom-11"}).status_code == 201
    assert live.client.post("/api/v1/devices/loom-01/token/rotate", headers=integrator).status_code == 200
