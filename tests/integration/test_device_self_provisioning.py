"""Devices provision themselves as ThingsBoard's do: ThingsBoard's own SDK (`TBDeviceMqttClient.provision`, unchanged)
over real sockets to the platform's MQTT front end, which forwards to a real Mosquitto the worker reads. A provision
profile (made over the API, the CLI or the service) binds a key and secret to one enterprise, site and device type;
every refusal is answered FAILURE with its reason and creates nothing; who may make a profile is who may register
the enterprise's devices, and that right is checked again at each request."""

from __future__ import annotations

import threading
import time

import orjson
import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from tests.integration.mqtt_env import front_with_worker, wait_for
from tests.integration.vendor_sdk.run import SdkProcess
from tests.world import PASSWORD, build_world, login
from wuxin.api.app import create_app
from wuxin.cli.main import app as cli_app
from wuxin.config import get_settings
from wuxin.indicators.days import DAY_MS
from wuxin.security.secrets import token_hash
from wuxin.services.access import consent, identity
from wuxin.services.access.source_limits import FailureLimiter
from wuxin.services.credit.decisions import principal_for_username
from wuxin.services.devices import provision_profiles
from wuxin.store.tables import users

FRONT_USER, FRONT_PASSWORD = "wuxin-front", "front-secret-for-tests"
BRACELET = "manufacturing.current_bracelet"


@pytest.fixture
def env(platform, tmp_path):
    platform.clock.now_ms = int(time.time() * 1000)
    world = build_world(platform)
    with front_with_worker(platform, tmp_path, "provision-worker", FRONT_USER, FRONT_PASSWORD) as (_, _, front):
        processes: list[SdkProcess] = []

        def sdk(**config) -> SdkProcess:
            process = SdkProcess("tb", "tb_driver.py", {"host": "127.0.0.1", "port": front.port, **config})
            processes.append(process)
            return process

        yield world, front, sdk
        for process in processes:
            process.close()


def _site(platform, enterprise_id: int) -> int:
    with platform.uow() as uow:
        return uow.enterprises.sites(enterprise_id)[0]["id"]


def _profile(platform, world, max_devices: int = 5, as_user: str = "integrator", **overrides) -> dict:
    values = {
        "site_id": _site(platform, world.factory),
        "device_type": BRACELET,
        "source_mode": "bank_installed",
        "max_devices": max_devices,
        "expires_ms": platform.clock_ms() + DAY_MS,
        "name": "一号车间 looms",
    } | overrides
    principal = principal_for_username(platform, as_user)
    return provision_profiles.create_profile(platform, principal, world.factory, **values)


def _provision(sdk, key: str, secret: str, device_name: str, **extra) -> dict:
    """ThingsBoard's SDK provisions once, in a process of its own: {"credentials", "log"}."""
    return sdk(provision={"key": key, "secret": secret, "device_name": device_name, **extra}).hello


def _device(platform, key: str):
    with platform.uow() as uow:
        return uow.devices.by_key(key)


def _audit(platform, action: str) -> list[dict]:
    with platform.uow() as uow:
        return [e for e in uow.logs.audit_entries(200) if e["action"] == action]


def _readings(platform, key: str) -> list[tuple]:
    with platform.uow() as uow:
        device = uow.devices.by_key(key)
        return [(r["key"], r["num"]) for r in uow.telemetry.readings([device["id"]], None, 0, 2**62, 100)]


def test_a_device_provisions_itself_with_the_sdk_and_sends_with_the_token_it_got(platform, env):
    world, front, sdk = env
    profile = _profile(platform, world)
    assert profile["state"] == "active" and profile["provisioned"] == 0 and "secret_hash" not in profile
    answer = _provision(sdk, profile["provision_key"], profile["provision_secret"], "loom-77")
    credentials = answer["credentials"]
    assert credentials["status"] == "SUCCESS" and credentials["credentialsType"] == "ACCESS_TOKEN", answer
    token = credentials["credentialsValue"]
    device = _device(platform, "loom-77")
    assert (device["enterprise_id"], device["site_id"], device["device_type"], device["source_mode"]) == (
        world.factory,
        profile["site_id"],
        BRACELET,
        "bank_installed",
    )
    assert device["trust_level"] == _device(platform, "loom-01")["trust_level"]  # bank_installed, as registered
    with platform.uow() as uow:
        assert uow.devices.token_status(token_hash(token))["key"] == "loom-77"  # only the hash is stored
        assert uow.provisioning.get(profile["id"])["provisioned"] == 1
    [audit] = _audit(platform, "device.provision")
    assert audit["subject"] == "loom-77" and audit["detail"]["profile_id"] == profile["id"]
    assert audit["detail"]["profile_created_by"] == world.users["integrator"] and audit["detail"]["source"]
    assert token not in str(audit)
    assert front.connections == {}  # a provisioning connection is no device: nothing was listed as online

    loom = sdk(token=token)  # the device reconnects with the token it was given, as ThingsBoard's devices do
    assert loom.hello == {"connected": True}
    assert loom.call("telemetry", values={"current_a": 12.5})["rc"] == 0
    wait_for(lambda: _readings(platform, "loom-77"), what="the provisioned device's reading")
    assert _readings(platform, "loom-77") == [("current_a", 12.5)]
    assert front.connected("loom-77") == 1


def _withdraw_the_integrators_consent(platform, world) -> None:
    owner = principal_for_username(platform, "owner")
    with platform.uow() as uow:
        [held] = [c for c in uow.consents.for_enterprise(world.factory) if c["tenant_id"] == world.operator]
    consent.revoke(platform, owner, held["id"])


def _narrow_the_integrators_consent(platform, world) -> None:
    """The installer's tenant keeps a consent for one device only (the enterprise withdrew the wider one)."""
    _withdraw_the_integrators_consent(platform, world)
    consent.grant(
        platform, None, world.factory, world.operator, "devices", ["loom-01"], "one loom", platform.clock_ms() + DAY_MS
    )


REFUSALS = {
    # case: (what happens after the profile is made, the device name, what the SDK is told, its reason)
    "wrong secret": (None, "loom-90", "provisionDeviceKey or provisionDeviceSecret is wrong", "bad_provision_secret"),
    "unknown key": (None, "loom-90", "provisionDeviceKey or provisionDeviceSecret is wrong", "bad_provision_secret"),
    "revoked": ("revoke", "loom-90", "was revoked", "profile_revoked"),
    "expired": ("expire", "loom-90", "expired", "profile_expired"),
    "exhausted": ("exhaust", "loom-90", "has no devices left (all 1 provisioned)", "profile_exhausted"),
    "taken key": (None, "loom-01", "device key 'loom-01' is already registered", "key_taken"),
    "consent withdrawn": ("withdraw", "loom-90", "may no longer register devices", "maker_not_allowed"),
    "maker disabled": ("disable", "loom-90", "may no longer register devices", "maker_not_allowed"),
    "device-chosen token": (None, "loom-90", "the platform issues the device's access token", "device_credentials"),
    "outside the consent": ("narrow", "loom-90", "is not covered by the consent under which", "not_consented"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_each_refusal_is_answered_failure_with_its_reason_and_creates_nothing(platform, env, case):
    world, front, sdk = env
    after, device_name, told, reason = REFUSALS[case]
    profile = _profile(platform, world, max_devices=1)
    key, secret, extra = profile["provision_key"], profile["provision_secret"], {}
    if case == "wrong secret":
        secret = secret[:-4] + "AAAA"
    elif case == "unknown key":
        key = "wxpk_no-such-profile"
    elif case == "device-chosen token":
        extra = {"access_token": "my-own-weak-token"}
    elif after == "revoke":
        provision_profiles.revoke_profile(platform, principal_for_username(platform, "integrator"), profile["id"])
    elif after == "expire":
        platform.clock.advance(DAY_MS)
    elif after == "exhaust":
        assert _provision(sdk, key, secret, "loom-89")["credentials"]["status"] == "SUCCESS"
    elif after == "withdraw":
        _withdraw_the_integrators_consent(platform, world)
    elif after == "narrow":
        _narrow_the_integrators_consent(platform, world)
    elif after == "disable":
        with platform.uow() as uow:  # no command disables a user yet: the column is what login checks
            uow.conn.execute(update(users).where(users.c.username == "integrator").values(disabled=True))
            uow.commit()
    answer = _provision(sdk, key, secret, device_name, **extra)
    assert answer["credentials"] is None, answer  # the SDK returns no credentials and logs the platform's errorMsg
    assert any("FAILURE" in line and told in line for line in answer["log"]), answer["log"]
    assert ("(provisioning)", reason) in front.refusals
    assert device_name == "loom-01" or _device(platform, device_name) is None
    with platform.uow() as uow:
        assert uow.provisioning.get(profile["id"])["provisioned"] == (1 if after == "exhaust" else 0)
    refused = _audit(platform, "device.provision_refused")
    if reason == "bad_provision_secret":  # no profile to tell: counted and logged, like a failed CONNECT
        assert refused == []
    else:
        assert [(e["detail"]["profile_id"], e["detail"]["reason"]) for e in refused] == [(profile["id"], reason)]


def _raw_provisioner(port: int) -> tuple[mqtt.Client, list, list]:
    """A plain MQTT 3.1.1 client with username `provision`: (client, CONNACK codes, messages received)."""
    codes: list = []
    messages: list = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.username_pw_set("provision")
    client.on_connect = lambda _c, _u, _f, reason, _p: codes.append(reason.value)
    client.on_message = lambda _c, _u, message: messages.append((message.topic, message.payload))
    client.reconnect_delay_set(60, 120)
    client.connect("127.0.0.1", port, keepalive=30)
    client.loop_start()
    wait_for(lambda: codes, what="CONNACK")
    return client, codes, messages


def test_a_provisioning_client_may_only_ask_once_on_its_own_topic(platform, env):
    world, front, _ = env
    profile = _profile(platform, world)
    client, codes, messages = _raw_provisioner(front.port)
    granted: list = []
    client.on_subscribe = lambda _c, _u, _m, reasons, _p: granted.extend(r.value for r in reasons)
    client.subscribe([("v1/devices/me/rpc/request/+", 0), ("/provision/response", 0)])
    wait_for(lambda: granted, what="SUBACK")
    assert codes == [0] and granted == [0x80, 0]  # another device's answers are not for a provisioning client
    request = {
        "deviceName": "loom-78",
        "provisionDeviceKey": profile["provision_key"],
        "provisionDeviceSecret": profile["provision_secret"],
    }
    client.publish("/provision/request", orjson.dumps(request))
    wait_for(lambda: messages, what="the provision response")
    assert messages[0][0] == "/provision/response" and b'"status":"SUCCESS"' in messages[0][1]
    gone = threading.Event()
    client.on_disconnect = lambda *_: gone.set()
    client.publish("/provision/request", b'{"deviceName": "loom-79"}')  # a second request closes the connection
    assert gone.wait(10)
    assert ("(provisioning)", "second_provision_request") in front.refusals and _device(platform, "loom-79") is None
    client.loop_stop()

    other, _, _ = _raw_provisioner(front.port)
    gone = threading.Event()
    other.on_disconnect = lambda *_: gone.set()
    other.publish("v1/devices/me/telemetry", b'{"current_a": 1}')  # it is no device: closed
    assert gone.wait(10)
    assert ("(provisioning)", "topic_not_allowed") in front.refusals
    other.loop_stop()


def test_failed_provision_requests_are_throttled_per_address_like_failed_connects(platform, env):
    world, front, sdk = env
    front.connect_failures = FailureLimiter(2)
    profile = _profile(platform, world)
    for attempt in range(2):
        answer = _provision(sdk, profile["provision_key"], f"wxs_guess-{attempt}", "loom-80")
        assert answer["credentials"] is None
    client, codes, _ = _raw_provisioner(front.port)  # the address used its failures: refused before any lookup
    assert codes == [0x88]  # "server unavailable" (paho gives 3.1.1 return code 3 its MQTT 5 reason code)
    client.loop_stop()
    client.disconnect()
    assert ("127.0.0.1", "throttled") in front.refusals and _device(platform, "loom-80") is None


# ---------------------------------------------------------------- who may make a profile (API, CLI)


def _body(platform, world, **overrides) -> dict:
    return {
        "site_id": _site(platform, world.factory),
        "device_type": BRACELET,
        "source_mode": "bank_installed",
        "max_devices": 10,
        "expires_ms": platform.clock_ms() + 7 * DAY_MS,
    } | overrides


def test_who_may_make_list_and_revoke_a_profile_over_the_api(platform):
    world = build_world(platform)
    stranger_tenant = identity.create_tenant(platform, "Other Installer Co", "operator")
    identity.create_user(platform, "stranger", PASSWORD, "integrator", stranger_tenant, None)
    url = f"/api/v1/enterprises/{world.factory}/provision-profiles"
    with TestClient(create_app(platform)) as client:
        made = client.post(url, json=_body(platform, world), headers=login(client, "integrator"))
        assert made.status_code == 201, made.text
        profile = made.json()
        assert profile["provision_secret"].startswith("wxs_") and profile["state"] == "active"
        with platform.uow() as uow:
            assert uow.provisioning.get(profile["id"])["secret_hash"] == token_hash(profile["provision_secret"])
        officer = client.post(url, json=_body(platform, world), headers=login(client, "officer"))  # a consented bank
        assert officer.status_code == 403 and "may not manage devices of enterprise" in officer.json()["detail"]
        assert officer.headers["content-type"] == "application/problem+json"
        for outsider in ("fleetowner", "stranger", "other"):  # another enterprise, an unconsented installer, a bank
            refused = client.post(url, json=_body(platform, world), headers=login(client, outsider))
            assert refused.status_code == 404, (outsider, refused.text)
            assert refused.json()["detail"] == f"enterprise {world.factory} does not exist"
        owner = login(client, "owner")
        own = client.post(url, json=_body(platform, world), headers=owner)
        assert own.status_code == 403 and "enterprise_shared" in own.json()["detail"]
        shared = client.post(url, json=_body(platform, world, source_mode="enterprise_shared"), headers=owner)
        assert shared.status_code == 201, shared.text
        for bad, field in (
            ({"site_id": 99}, "site 99"),
            ({"device_type": "no.such_type"}, "no.such_type"),
            ({"expires_ms": platform.clock_ms() - 1}, "expires_ms"),
            ({"expires_ms": platform.clock_ms() + 400 * DAY_MS}, "expires_ms"),
        ):
            answer = client.post(url, json=_body(platform, world, **bad), headers=login(client, "integrator"))
            assert answer.status_code == 422 and field in answer.json()["detail"], answer.text
        listed = client.get(url, headers=owner).json()  # the enterprise sees every profile made for it
        assert [p["id"] for p in listed] == [shared.json()["id"], profile["id"]]
        installer = client.get(url, headers=login(client, "integrator")).json()
        assert [p["id"] for p in installer] == [profile["id"]]  # an installer, its own tenant's
        assert all("provision_secret" not in p and "secret_hash" not in p for p in listed)
        assert client.get(url, headers=login(client, "officer")).status_code == 403
        revoke = f"/api/v1/provision-profiles/{profile['id']}/revoke"
        assert client.post(revoke, headers=login(client, "other")).status_code == 404  # not its borrower
        assert client.post(revoke, headers=login(client, "officer")).status_code == 403
        revoked = client.post(revoke, headers=login(client, "integrator"))
        assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    actions = [e["action"] for e in _audit(platform, "device_provision_profile.add")]
    assert len(actions) == 2 and len(_audit(platform, "device_provision_profile.revoke")) == 1


def test_consent_withdrawn_after_the_profile_was_made_stops_it(platform):
    world = build_world(platform)
    profile = _profile(platform, world)
    request = {
        "provisionDeviceKey": profile["provision_key"],
        "provisionDeviceSecret": profile["provision_secret"],
        "deviceName": "loom-81",
    }
    assert provision_profiles.provision_device(platform, request, "10.0.0.1")[0] == "loom-81"
    _withdraw_the_integrators_consent(platform, world)
    with pytest.raises(provision_profiles.ProvisionRefused, match="may no longer register devices"):
        provision_profiles.provision_device(platform, {**request, "deviceName": "loom-82"}, "10.0.0.1")
    assert _device(platform, "loom-82") is None
    integrator = principal_for_username(platform, "integrator")
    with pytest.raises(Exception, match=f"enterprise {world.factory} does not exist"):
        provision_profiles.list_profiles(platform, integrator, world.factory)  # nor may it see the profile now


def test_the_cli_makes_lists_and_revokes_profiles(platform, monkeypatch):
    monkeypatch.setenv("WUXIN_DATABASE_URL", platform.settings.database_url)
    get_settings.cache_clear()
    platform.clock.now_ms = int(time.time() * 1000)  # the CLI runs on the real clock: the consents must be live
    world = build_world(platform)
    runner = CliRunner()

    def cli(*args):
        return runner.invoke(cli_app, ["device", "provision-profile", *[str(a) for a in args]])

    try:
        args = ["--site", "一号车间", "--type", BRACELET, "--source-mode", "bank_installed", "--max-devices", 3]
        refused = cli("add", world.factory, *args, "--as", "officer")
        assert refused.exit_code == 2 and "may not manage devices of enterprise" in refused.output
        made = cli("add", world.factory, *args, "--days", 7, "--name", "looms", "--as", "integrator")
        assert made.exit_code == 0, made.output
        assert '"provision_secret": "wxs_' in made.output and '"state": "active"' in made.output
        listed = cli("list", world.factory, "--as", "integrator")
        assert listed.exit_code == 0 and "\tactive\t0/3\t" in listed.output and "wxs_" not in listed.output
        revoked = cli("revoke", 1, "--as", "integrator")
        assert revoked.exit_code == 0 and "provision profile 1 revoked" in revoked.output
        assert "\trevoked\t0/3\t" in cli("list", world.factory, "--as", "integrator").output
    finally:
        get_settings.cache_clear()


def test_an_integrators_profile_makes_only_devices_its_consent_covers(platform):
    """A consent for one scenario (or some devices) lets the installer make a profile, and provision the devices it
    covers; a device outside it is refused at the request, as the installer could not manage it afterwards."""
    world = build_world(platform)
    profile = _profile(platform, world)
    request = {"provisionDeviceKey": profile["provision_key"], "provisionDeviceSecret": profile["provision_secret"]}
    _withdraw_the_integrators_consent(platform, world)
    owner = principal_for_username(platform, "owner")
    expires = platform.clock_ms() + DAY_MS
    vehicles = consent.grant(platform, None, world.factory, world.operator, "scenarios", ["vehicles"], "gps", expires)
    with pytest.raises(provision_profiles.ProvisionRefused, match="'loom-84' of type manufacturing.current_bracelet"):
        provision_profiles.provision_device(platform, {**request, "deviceName": "loom-84"}, "10.0.0.1")
    assert _device(platform, "loom-84") is None
    consent.revoke(platform, owner, vehicles)
    consent.grant(platform, None, world.factory, world.operator, "scenarios", ["manufacturing"], "looms", expires)
    assert (
        provision_profiles.provision_device(platform, {**request, "deviceName": "loom-84"}, "10.0.0.1")[0] == "loom-84"
    )


def test_a_refusal_names_an_oversized_value_without_echoing_it_whole(platform):
    world = build_world(platform)
    profile = _profile(platform, world)
    request = {"provisionDeviceKey": profile["provision_key"], "provisionDeviceSecret": profile["provision_secret"]}
    for extra, told in (
        ({"deviceName": "x" * 200_000}, "deviceName 'xxx"),
        ({"deviceName": "loom-85", "credentialsType": ["y" * 100_000]}, "credentialsType ['yyy"),
    ):
        with pytest.raises(provision_profiles.ProvisionRefused) as refused:
            provision_profiles.provision_device(platform, {**request, **extra}, "10.0.0.1")
        message = str(refused.value)
        assert told in message and "characters)" in message and len(message) < 400, message[:500]


BAD_REQUESTS = {
    # case: (the request, its reason, what the refusal says)
    "not an object": (["loom-86"], "bad_request", "the provision request is list, expected an object"),
    "no secret": ({"deviceName": "loom-86", "provisionDeviceSecret": None}, "bad_request", "provisionDeviceSecret is"),
    "key too long": ({"deviceName": "loom-86", "provisionDeviceKey": "k" * 201}, "bad_request", "of 201 characters"),
    "NUL in the secret": ({"provisionDeviceSecret": "wxs_\x00"}, "bad_request", "provisionDeviceSecret of 5 char"),
    "no name": ({}, "bad_device_name", "deviceName None is not a device key"),
    "a path as name": ({"deviceName": "../loom"}, "bad_device_name", "deviceName '../loom' is not a device key"),
    "a one-letter name": ({"deviceName": "l"}, "bad_device_name", "deviceName 'l' is not a device key"),
    "MQTT_BASIC": (
        {"deviceName": "loom-86", "credentialsType": "MQTT_BASIC", "username": "u", "password": "p"},
        "device_credentials",
        "credentialsType 'MQTT_BASIC' is not accepted",
    ),
    "X509": ({"deviceName": "loom-86", "credentialsType": "X509_CERTIFICATE"}, "device_credentials", "X509"),
    "a gateway": ({"deviceName": "loom-86", "gateway": True}, "gateway", "a gateway does not provision itself"),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_each_malformed_request_is_refused_by_name_and_creates_nothing(platform, case):
    world = build_world(platform)
    profile = _profile(platform, world)
    body, reason, told = BAD_REQUESTS[case]
    request = body
    if isinstance(body, dict):
        request = {"provisionDeviceKey": profile["provision_key"], "provisionDeviceSecret": profile["provision_secret"]}
        request |= body
    with pytest.raises(provision_profiles.ProvisionRefused) as refused:
        provision_profiles.provision_device(platform, request, "10.0.0.1")
    assert refused.value.reason == reason and told in str(refused.value), str(refused.value)
    with platform.uow() as uow:
        assert uow.provisioning.get(profile["id"])["provisioned"] == 0
    assert _device(platform, "loom-86") is None


def test_requests_racing_for_a_profiles_last_devices_get_exactly_its_count(platform):
    """Twelve devices ask at once under a profile for three: three are made, the count says 3, the others are told
    the profile is used up (whether they lost the check or the compare-and-set)."""
    world = build_world(platform)
    profile = _profile(platform, world, max_devices=3)
    request = {"provisionDeviceKey": profile["provision_key"], "provisionDeviceSecret": profile["provision_secret"]}
    made: list[str] = []
    refused: list[str] = []
    start = threading.Barrier(12)

    def ask(index: int) -> None:
        start.wait()
        try:
            made.append(
                provision_profiles.provision_device(platform, {**request, "deviceName": f"race-{index}"}, "x")[0]
            )
        except provision_profiles.ProvisionRefused as exc:
            refused.append(exc.reason)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 3 and refused == ["profile_exhausted"] * 9, (made, refused)
    with platform.uow() as uow:
        assert uow.provisioning.get(profile["id"])["provisioned"] == 3
    assert all(_device(platform, key) is not None for key in made)


def test_another_installer_of_the_same_enterprise_neither_sees_nor_revokes_a_profile(platform):
    """Two installers' tenants hold consents from the same enterprise: each sees and revokes its own profiles only (a
    rival could otherwise stop the other's roll-out); the enterprise and the admin see both."""
    world = build_world(platform)
    profile = _profile(platform, world)
    rival_tenant = identity.create_tenant(platform, "Rival Installer Co", "operator")
    identity.create_user(platform, "rival", PASSWORD, "integrator", rival_tenant, None)
    consent.grant(platform, None, world.factory, rival_tenant, "all", [], "other looms", platform.clock_ms() + DAY_MS)
    url = f"/api/v1/enterprises/{world.factory}/provision-profiles"
    with TestClient(create_app(platform)) as client:
        rival = login(client, "rival")
        assert client.get(url, headers=rival).json() == []
        revoke = client.post(f"/api/v1/provision-profiles/{profile['id']}/revoke", headers=rival)
        assert (
            revoke.status_code == 404 and revoke.json()["detail"] == f"provision profile {profile['id']} does not exist"
        )
        own = client.post(url, json=_body(platform, world), headers=rival)
        assert own.status_code == 201, own.text
        assert [p["id"] for p in client.get(url, headers=rival).json()] == [own.json()["id"]]
        assert [p["id"] for p in client.get(url, headers=login(client, "integrator")).json()] == [profile["id"]]
        for everyone in ("owner", "admin"):
            listed = client.get(url, headers=login(client, everyone)).json()
            assert [p["id"] for p in listed] == [own.json()["id"], profile["id"]], everyone
    with platform.uow() as uow:
        assert uow.provisioning.get(profile["id"])["revoked_ms"] is None
