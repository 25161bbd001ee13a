"""POST /api/v1/devices/{key}/alink-secret: an Alibaba LinkKit DeviceSecret issued over the API by who may manage the
device, shown once and kept encrypted; every other caller refused, and a refused call changes nothing."""

from __future__ import annotations

import time

import pytest

from tests.world import build_world, login
from wuxin.services.ingest.device_sdk import AlinkConnect, ConnectRefused, alink_device, alink_sign

PRODUCT_KEY = "a1Loom00001"


@pytest.fixture
def env(platform, live):
    platform.clock.now_ms = int(time.time() * 1000)  # before the world: its consents run from now
    world = build_world(platform)
    return world, live.client


def _connect(device_name: str, timestamp_s: int) -> AlinkConnect:
    return AlinkConnect(
        f"{PRODUCT_KEY}.{device_name}", PRODUCT_KEY, device_name, "hmacsha256", "2", str(timestamp_s * 1000)
    )


def _signs_in(platform, secret: str, device_name: str = "loom-01") -> bool:
    connect = _connect(device_name, platform.clock_ms() // 1000)
    try:
        return alink_device(platform, connect, alink_sign(secret, connect)).key == "loom-01"
    except ConnectRefused:
        return False


def test_a_consented_integrator_issues_and_reissues_a_secret(platform, env):
    _, client = env
    headers = login(client, "integrator")
    answer = client.post("/api/v1/devices/loom-01/alink-secret", headers=headers, json={"product_key": PRODUCT_KEY})
    assert answer.status_code == 200, answer.text
    first = answer.json()
    assert {k: first[k] for k in ("key", "product_key", "device_name")} == {
        "key": "loom-01",
        "product_key": PRODUCT_KEY,
        "device_name": "loom-01",
    }
    assert _signs_in(platform, first["device_secret"])
    again = client.post("/api/v1/devices/loom-01/alink-secret", headers=headers, json={"product_key": PRODUCT_KEY})
    assert again.status_code == 200
    assert _signs_in(platform, again.json()["device_secret"]) and not _signs_in(platform, first["device_secret"])
    with platform.uow() as uow:  # stored encrypted, never as issued
        row = uow.protocols.alink_identity(PRODUCT_KEY, "loom-01")
    assert again.json()["device_secret"] not in row["secret_ciphertext"]


@pytest.mark.parametrize(
    "username,device,status,words",
    [
        ("officer", "loom-01", 403, "may not manage devices of enterprise"),  # a bank user reads, never manages
        ("owner", "loom-01", 403, "bank_installed"),  # the borrower may not hold a bank-installed device's secret
        ("other", "loom-01", 404, "is not registered"),  # a bank without consent does not learn the device exists
        ("integrator", "truck-01", 404, "is not registered"),  # the fleet never consented to the integrator's tenant
        ("integrator", "no-such-device", 404, "is not registered"),
    ],
)
def test_everyone_else_is_refused_and_nothing_changes(platform, env, username, device, status, words):
    _, client = env
    answer = client.post(
        f"/api/v1/devices/{device}/alink-secret", headers=login(client, username), json={"product_key": PRODUCT_KEY}
    )
    assert answer.status_code == status, answer.text
    assert words in answer.json()["detail"]
    with platform.uow() as uow:
        assert uow.protocols.alink_identity(PRODUCT_KEY, device) is None


def test_without_a_login_or_with_bad_names_or_a_taken_name(platform, env):
    _, client = env
    assert client.post("/api/v1/devices/loom-01/alink-secret", json={"product_key": PRODUCT_KEY}).status_code == 401
    headers = login(client, "integrator")
    bad = client.post("/api/v1/devices/loom-01/alink-secret", headers=headers, json={"product_key": "a1 bad/key"})
    assert bad.status_code == 422 and "'a1 bad/key'" in bad.json()["detail"]
    assert (
        client.post(
            "/api/v1/devices/loom-01/alink-secret",
            headers=headers,
            json={"product_key": PRODUCT_KEY, "device_name": "shared-name"},
        ).status_code
        == 200
    )
    taken = client.post(
        "/api/v1/devices/loom-02/alink-secret",
        headers=headers,
        json={"product_key": PRODUCT_KEY, "device_name": "shared-name"},
    )
    assert taken.status_code == 409 and taken.json()["detail"] == (
        f"Alink device 'shared-name' of product '{PRODUCT_KEY}' is already another device's"
    )  # the holder's key is another tenant's business: only the platform admin is told it
    as_admin = client.post(
        "/api/v1/devices/loom-02/alink-secret",
        headers=login(client, "admin"),
        json={"product_key": PRODUCT_KEY, "device_name": "shared-name"},
    )
    assert as_admin.status_code == 409 and "is already 'loom-01'" in as_admin.json()["detail"]


def test_an_integrator_consented_for_one_device_manages_no_other(platform, env):
    """A consent covering loom-02 alone is no key to loom-01: no secret (an identity takeover), nothing changed."""
    world, client = env
    from wuxin.services.access import consent

    with platform.uow() as uow:
        for row in uow.consents.for_enterprise(world.factory):
            if row["tenant_id"] == world.operator:
                uow.consents.update(row["id"], revoked_ms=platform.clock_ms())
        uow.commit()
    expires = platform.clock_ms() + 30 * 86_400_000
    consent.grant(platform, None, world.factory, world.operator, "devices", ["loom-02"], "one loom", expires)
    headers = login(client, "integrator")
    refused = client.post("/api/v1/devices/loom-01/alink-secret", headers=headers, json={"product_key": PRODUCT_KEY})
    assert refused.status_code == 403 and "no valid consent" in refused.text and "loom-01" in refused.text
    with platform.uow() as uow:
        assert uow.protocols.alink_identity(PRODUCT_KEY, "loom-01") is None
    allowed = client.post("/api/v1/devices/loom-02/alink-secret", headers=headers, json={"product_key": PRODUCT_KEY})
    assert allowed.status_code == 200, allowed.text
