"""Device SDK credentials without a network: the Alink signature and its refusals, the DeviceSecret at rest,
the topic rules of the MQTT front end, the broker refresh that must not rewrite what did not change."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from tests.world import build_world
from wuxin.errors import Conflict, Denied, InvalidInput, NotFound
from wuxin.ingest.mqtt import codec
from wuxin.ingest.mqtt.front import inbound_action, may_subscribe
from wuxin.services.credit.decisions import principal_for_username
from wuxin.services.devices import registry
from wuxin.services.ingest.device_sdk import (
    AlinkConnect,
    ConnectRefused,
    DeviceIdentity,
    alink_device,
    issue_alink_secret,
    parse_alink_connect,
    thingsboard_device,
)

PK = "a1GpsTrk001"


def _connect(platform, secret: str, method: str = "hmacsha1", mode: str = "3", offset_s: int = 0) -> tuple:
    timestamp = str(platform.clock_ms() // 1000 + offset_s)
    client_id = f"{PK}&truck-01|securemode={mode},signmethod={method},ext=1,_ss=1,timestamp={timestamp}|"
    content = f"clientId{PK}&truck-01deviceNametruck-01productKey{PK}timestamp{timestamp}"
    digest = {"hmacsha1": hashlib.sha1, "hmacsha256": hashlib.sha256}.get(method, hashlib.sha1)
    password = hmac.new(secret.encode(), content.encode(), digest).hexdigest()
    return parse_alink_connect(client_id, f"truck-01&{PK}"), password


def test_a_linkkit_client_id_is_read_as_alibaba_documents_it():
    connect = parse_alink_connect(f"{PK}&dev|securemode=2,signmethod=hmacsha256,timestamp=1790000000|", f"dev&{PK}")
    assert connect == AlinkConnect(f"{PK}&dev", PK, "dev", "hmacsha256", "2", "1790000000", False)
    assert parse_alink_connect("tb-client-1", "wxd_token") is None  # a ThingsBoard client


@pytest.mark.parametrize("method,mode", [("hmacsha1", "3"), ("hmacsha256", "2")])
def test_an_alink_signature_from_the_device_secret_connects(platform, method, mode):
    build_world(platform)
    secret = issue_alink_secret(platform, None, "truck-01", PK)
    connect, password = _connect(platform, secret, method, mode)
    identity = alink_device(platform, connect, password)
    assert (identity.key, identity.device_type, identity.product_key) == ("truck-01", "vehicles.gps_terminal", PK)


@pytest.mark.parametrize(
    "change,reason",
    [
        (dict(method="hmacmd5"), "bad_signmethod"),
        (dict(mode="1"), "bad_securemode"),
        (dict(offset_s=-16 * 60), "stale_signature"),
        (dict(offset_s=16 * 60), "stale_signature"),
    ],
)
def test_an_alink_connection_outside_the_rules_is_refused(platform, change, reason):
    build_world(platform)
    secret = issue_alink_secret(platform, None, "truck-01", PK)
    connect, password = _connect(platform, secret, **change)
    with pytest.raises(ConnectRefused) as refused:
        alink_device(platform, connect, password)
    assert refused.value.reason == reason


def test_an_untimed_alink_signature_is_refused_unless_allowed_and_the_window_is_a_setting(platform):
    """Without a timestamp the password is the same at every CONNECT: a captured one would never expire."""
    build_world(platform)
    secret = issue_alink_secret(platform, None, "truck-01", PK)
    connect = parse_alink_connect(f"{PK}&truck-01|securemode=2,signmethod=hmacsha1|", f"truck-01&{PK}")
    content = f"clientId{PK}&truck-01deviceNametruck-01productKey{PK}"
    password = hmac.new(secret.encode(), content.encode(), hashlib.sha1).hexdigest()
    with pytest.raises(ConnectRefused) as refused:
        alink_device(platform, connect, password)
    assert refused.value.reason == "untimed_signature"
    platform.settings = platform.settings.model_copy(update={"alink_allow_untimed_signatures": True})
    assert alink_device(platform, connect, password).key == "truck-01"
    platform.settings = platform.settings.model_copy(update={"alink_signature_window_s": 60})
    with pytest.raises(ConnectRefused) as stale:
        alink_device(platform, *_connect(platform, secret, offset_s=-90))
    assert stale.value.reason == "stale_signature" and "60 s" in str(stale.value)
    assert alink_device(platform, *_connect(platform, secret, offset_s=-50)).key == "truck-01"


def test_over_tls_an_old_signature_is_accepted_only_where_no_plain_port_could_have_shown_it(platform):
    """LinkKit's reconnects resend its first signature. The signature does not cover the transport, so one read
    off a plain port must not be good over TLS: only a TLS-only deployment skips the age check."""
    build_world(platform)
    secret = issue_alink_secret(platform, None, "truck-01", PK)
    connect, password = _connect(platform, secret, offset_s=-7 * 86_400)  # signed a week ago
    for over_tls in (False, True):  # plain port open: a sniffed signature replayed on the TLS port is refused
        with pytest.raises(ConnectRefused) as stale:
            alink_device(platform, connect, password, over_tls=over_tls)
        assert stale.value.reason == "stale_signature"
    platform.settings = platform.settings.model_copy(update={"mqtt_front_tls_only": True})
    assert alink_device(platform, connect, password, over_tls=True).key == "truck-01"
    with pytest.raises(ConnectRefused) as wrong:  # of any age, the signature must still be the secret's
        alink_device(platform, connect, "0" * 40, over_tls=True)
    assert wrong.value.reason == "bad_signature"
    platform.settings = platform.settings.model_copy(update={"alink_signature_window_over_tls": True})
    with pytest.raises(ConnectRefused) as checked:
        alink_device(platform, connect, password, over_tls=True)
    assert checked.value.reason == "stale_signature"


def test_a_wrong_secret_or_revoked_device_is_refused_and_the_secret_is_kept_encrypted(platform):
    build_world(platform)
    secret = issue_alink_secret(platform, None, "truck-01", PK)
    with platform.uow() as uow:
        stored = uow.protocols.alink_identity(PK, "truck-01")["secret_ciphertext"]
    assert secret not in stored
    connect, _ = _connect(platform, secret)
    with pytest.raises(ConnectRefused, match="does not match"):
        alink_device(platform, connect, "0" * 40)
    connect, password = _connect(platform, secret)
    platform.settings.secret_key = "another-key-" + "x" * 40
    with pytest.raises(ConnectRefused) as unreadable:
        alink_device(platform, connect, password)
    assert unreadable.value.reason == "secret_unreadable"


def test_a_revoked_device_cannot_connect_with_either_sdk(platform):
    world = build_world(platform)
    secret = issue_alink_secret(platform, None, "truck-01", PK)
    registry.revoke_device_tokens(platform, None, "truck-01")
    connect, password = _connect(platform, secret)
    with pytest.raises(ConnectRefused) as refused:
        alink_device(platform, connect, password)
    assert refused.value.reason == "revoked_token"
    with pytest.raises(ConnectRefused) as tb_refused:
        thingsboard_device(platform, world.device_tokens["truck-01"])
    assert tb_refused.value.reason == "revoked_token"
    with pytest.raises(ConnectRefused, match="no access token"):
        thingsboard_device(platform, None)


def test_alink_names_are_checked_and_one_name_is_one_device(platform):
    build_world(platform)
    with pytest.raises(InvalidInput, match="productKey 'a b'"):
        issue_alink_secret(platform, None, "truck-01", "a b")
    issue_alink_secret(platform, None, "truck-01", PK, "gps-7")
    with pytest.raises(Conflict, match="already 'truck-01'"):
        issue_alink_secret(platform, None, "loom-01", PK, "gps-7")


def test_the_front_end_maps_vendor_topics_to_the_devices_own_and_refuses_the_rest():
    tb = DeviceIdentity(1, "loom-01", "manufacturing.current_bracelet", "thingsboard")
    assert inbound_action(tb, "v1/devices/me/telemetry").topic == "v1/devices/loom-01/telemetry"
    assert inbound_action(tb, "v1/gateway/telemetry").topic == "v1/gateway/loom-01/telemetry"
    assert inbound_action(tb, "v1/devices/me/attributes/request/7").topic == "v1/devices/me/attributes/response/7"
    assert inbound_action(tb, "v1/devices/me/rpc/request/3").kind == "rpc_request"
    answer = inbound_action(tb, "v1/devices/me/rpc/response/41")
    assert (answer.kind, answer.reason) == ("command_reply", "41")
    assert inbound_action(tb, "v1/gateway/rpc").kind == "gateway_command_reply"
    for topic in (
        "v1/devices/loom-02/telemetry",
        "v1/gateway/loom-02/telemetry",
        "/sys/x/loom-01/thing/event/property/post",
        "v1/devices/me/attributes/request/",
        "#",
    ):
        assert inbound_action(tb, topic).kind == "refuse", topic
    alink = DeviceIdentity(2, "truck-01", "vehicles.gps_terminal", "alink", PK, "truck-01")
    assert (
        inbound_action(alink, f"/sys/{PK}/truck-01/thing/event/sos/post").topic
        == "/sys/vehicles.gps_terminal/truck-01/thing/event/sos/post"
    )
    for topic in (
        f"/sys/{PK}/truck-02/thing/event/property/post",
        "/sys/vehicles.gps_terminal/truck-01/thing/event/property/post",
        "v1/devices/me/telemetry",
    ):
        assert inbound_action(alink, topic).kind == "refuse", topic
    for topic in ("thing/service/locate_now_reply", "thing/service/property/set_reply"):
        assert inbound_action(alink, f"/sys/{PK}/truck-01/{topic}").kind == "command_reply", topic
    assert inbound_action(alink, f"/sys/{PK}/truck-02/thing/service/locate_now_reply").kind == "refuse"
    assert may_subscribe(alink, f"/sys/{PK}/truck-01/thing/#") and not may_subscribe(alink, f"/sys/{PK}/truck-02/#")
    assert not may_subscribe(tb, "/sys/#") and not may_subscribe(tb, "#")


def test_topic_filters_match_as_mqtt_says():
    assert codec.topic_matches("/sys/a/b/thing/event/+/post_reply", "/sys/a/b/thing/event/sos/post_reply")
    assert codec.topic_matches("v1/devices/me/#", "v1/devices/me/rpc/request/1")
    assert not codec.topic_matches("v1/devices/me/+", "v1/devices/me/rpc/request/1")


def test_only_a_manager_of_the_device_may_give_it_an_alink_secret(platform):
    build_world(platform)
    with pytest.raises(Denied):  # a bank officer reads under consent, never manages credentials
        issue_alink_secret(platform, principal_for_username(platform, "officer"), "loom-01", PK)
    with pytest.raises(
        NotFound
    ):  # the fleet did not consent to the integrator's tenant: truck-01 does not exist for it
        issue_alink_secret(platform, principal_for_username(platform, "integrator"), "truck-01", PK)
    with pytest.raises(Denied):  # an enterprise user manages only its enterprise_shared devices
        issue_alink_secret(platform, principal_for_username(platform, "owner"), "loom-01", PK)
    assert issue_alink_secret(platform, principal_for_username(platform, "integrator"), "loom-01", PK)
    with platform.uow() as uow:
        assert uow.protocols.alink_identity(PK, "loom-01")["key"] == "loom-01"
