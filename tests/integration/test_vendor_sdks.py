"""Devices connect unchanged: the vendors' own SDKs (ThingsBoard tb-mqtt-client, Alibaba LinkKit), used as
their documentation shows, over real sockets to the platform's MQTT front end, which forwards to a real
Mosquitto that the ingestion worker reads. Each case asserts what the platform stored or answered."""

from __future__ import annotations

import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from tests.integration.mqtt_env import Device, accounts, front_with_worker, wait_for
from tests.integration.tls_certs import make_ca
from tests.integration.vendor_sdk.run import SdkProcess
from tests.world import build_world
from wuxin.ingest.mqtt.front import tls_context
from wuxin.security.policy import Principal, Role
from wuxin.services.access.data_access import list_devices
from wuxin.services.access.source_limits import FailureLimiter
from wuxin.services.devices import registry
from wuxin.services.devices.connectivity import read_transitions
from wuxin.services.ingest import device_sdk
from wuxin.services.ingest.device_sdk import client_attributes, issue_alink_secret
from wuxin.services.ingest.protocols import attach_sub_device, issue_mqtt_credentials, reconcile_broker

GPS_TSL = Path(__file__).resolve().parents[2] / "src/wuxin/scenarios/vehicles/thing_models/vehicles.gps_terminal.json"
FRONT_USER, FRONT_PASSWORD = "wuxin-front", "front-secret-for-tests"
PRODUCT_KEY = "a1GpsTrk001"


def _server_certificate(directory: Path) -> tuple[str, str, str]:
    """A throwaway CA and a certificate for 127.0.0.1 it signed: (CA PEM, certificate path, key path)."""
    ca = make_ca(directory, "wuxin-test-ca")
    issued = ca.issue(directory, "front", server=True)
    return ca.cert.read_text(), str(issued.cert), str(issued.key)


@pytest.fixture(scope="module")
def server_tls(tmp_path_factory):
    return _server_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def sdk_env(platform, tmp_path, server_tls):
    platform.clock.now_ms = int(time.time() * 1000)  # LinkKit signs the wall clock's time; the consents run from it
    world = build_world(platform)
    _, cert, key = server_tls
    tls = {"tls_port": 0, "tls_context": tls_context(cert, key)}
    with front_with_worker(platform, tmp_path, "sdk-worker", FRONT_USER, FRONT_PASSWORD, **tls) as (
        broker,
        admin,
        front,
    ):
        processes: list[SdkProcess] = []

        def sdk(kind: str, **config) -> SdkProcess:
            driver = "linkkit_driver.py" if kind == "linkkit" else "tb_driver.py"
            process = SdkProcess(
                "linkkit" if kind == "linkkit" else "tb", driver, {"host": "127.0.0.1", "port": front.port, **config}
            )
            processes.append(process)
            return process

        yield world, broker, admin, front, sdk
        for process in processes:
            process.close()


def _readings(platform, key: str) -> list[tuple]:
    with platform.uow() as uow:
        device = uow.devices.by_key(key)
        return [(r["key"], r["num"]) for r in uow.telemetry.readings([device["id"]], None, 0, 2**62, 100)]


def _quarantined(platform) -> list[tuple[str, str]]:
    with platform.uow() as uow:
        return [(q["reason"], q["device_key"]) for q in uow.quarantine.list("open", 50)]


def _attributes(platform, key: str) -> dict:
    with platform.uow() as uow:
        device_id = uow.devices.by_key(key)["id"]
    return client_attributes(platform, device_id, None)


def test_thingsboard_sdk_sends_telemetry_and_attributes_and_gets_answers(platform, sdk_env):
    world, _, _, front, sdk = sdk_env
    loom = sdk("tb", token=world.device_tokens["loom-01"])
    assert loom.hello == {"connected": True}
    assert loom.call("telemetry", values={"current_a": 12.5, "battery_pct": 80})["rc"] == 0
    assert loom.call("attributes", values={"firmware_version": "1.4.2", "rssi_dbm": -70})["rc"] == 0
    wait_for(lambda: len(_readings(platform, "loom-01")) == 3, what="three readings")
    assert sorted(_readings(platform, "loom-01")) == [("battery_pct", 80.0), ("current_a", 12.5), ("rssi_dbm", -70.0)]
    wait_for(lambda: _attributes(platform, "loom-01"), what="the undeclared attribute")
    assert _attributes(platform, "loom-01") == {"firmware_version": "1.4.2"}  # declared rssi_dbm is a reading
    answer = loom.call("request_attributes", client_keys=["firmware_version"], shared_keys=["target_fw"])["answer"]
    assert answer == {"client": {"firmware_version": "1.4.2"}, "shared": {}}
    rpc = loom.call("rpc", method="getCurrentTime")["answer"]
    assert rpc == {"time": platform.clock_ms()}
    unknown = loom.call("rpc", method="reboot")["answer"]
    assert "unknown RPC method 'reboot'" in unknown["error"]
    assert front.connected("loom-01") == 1 and _quarantined(platform) == []


def test_thingsboard_sdk_with_a_wrong_token_is_refused_at_connect(platform, sdk_env):
    _, _, _, front, sdk = sdk_env
    intruder = sdk("tb", token="wxd_not-a-token", connect_timeout_s=3)
    assert intruder.hello == {"connected": False}
    assert ("a ThingsBoard client", "unknown_token") in front.refusals
    assert front.connections == {}


def test_a_value_the_thing_model_refuses_is_refused_visibly_and_quarantined(platform, sdk_env):
    world, _, _, _, sdk = sdk_env
    loom = sdk("tb", token=world.device_tokens["loom-01"])
    answer = loom.call("telemetry", values={"current_a": 99999, "battery_pct": 50})
    assert any("Publish failed with result code 153" in line for line in answer["log"]), answer["log"]  # 0x99
    wait_for(lambda: _quarantined(platform), what="the refused value in quarantine")
    assert _quarantined(platform) == [("out_of_range", "loom-01")]
    assert _readings(platform, "loom-01") == [("battery_pct", 50.0)]  # the good point of the message is kept
    assert answer["connected"] is True


def test_thingsboard_gateway_sdk_speaks_for_its_registered_sub_devices_only(platform, sdk_env):
    world, _, _, _, sdk = sdk_env
    attach_sub_device(platform, None, "meter-01", "loom-02")
    gateway = sdk("tb", token=world.device_tokens["meter-01"], gateway=True)
    assert gateway.hello == {"connected": True}
    assert gateway.call("gw_connect", device="loom-02")["rc"] == 0
    assert gateway.call("gw_telemetry", device="loom-02", values={"current_a": 7.5})["rc"] == 0
    assert gateway.call("gw_attributes", device="loom-02", values={"bay": "B3"})["rc"] == 0
    assert gateway.call("gw_telemetry", device="loom-01", values={"current_a": 9})["rc"] == 0
    wait_for(lambda: _readings(platform, "loom-02") and _quarantined(platform), what="reading and quarantine")
    assert _readings(platform, "loom-02") == [("current_a", 7.5)] and _readings(platform, "loom-01") == []
    assert _quarantined(platform) == [("not_behind_gateway", "loom-01")]
    wait_for(lambda: _attributes(platform, "loom-02"), what="the sub-device's attribute")
    answer = gateway.call("gw_request_client_attributes", device="loom-02", keys=["bay"])["answer"]
    assert answer == {"id": answer["id"], "device": "loom-02", "values": {"bay": "B3"}}, answer


def _linkkit(sdk, secret: str, **config) -> SdkProcess:
    return sdk(
        "linkkit", product_key=PRODUCT_KEY, device_name="truck-01", device_secret=secret, tsl=str(GPS_TSL), **config
    )


def test_linkkit_posts_properties_and_events_and_gets_their_replies(platform, sdk_env):
    _, _, _, front, sdk = sdk_env
    secret = issue_alink_secret(platform, None, "truck-01", PRODUCT_KEY)
    truck = _linkkit(sdk, secret)
    assert truck.hello == {"connected": True}
    good = truck.call("post_property", params={"lat": 31.23, "lon": 121.47})
    assert good["rc"] == 0 and good["reply"]["code"] == 200
    bad = truck.call("post_property", params={"speed_kmh": 999})
    assert bad["reply"]["code"] == 460 and "speed_kmh=999" in bad["reply"]["message"]
    event = truck.call("trigger_event", event="sos", params={"lat": 31.2, "lon": 121.4})
    assert event["reply"]["code"] == 200 and event["reply"]["event"] == "sos"
    assert sorted(_readings(platform, "truck-01")) == [("lat", 31.23), ("lon", 121.47)]
    with platform.uow() as uow:
        assert uow.telemetry.count_events(uow.devices.by_key("truck-01")["id"]) == 1
    assert _quarantined(platform) == [("out_of_range", "truck-01")]
    assert front.connected("truck-01") == 1


def test_linkkit_publishing_on_another_devices_topic_is_disconnected(platform, sdk_env):
    _, _, _, front, sdk = sdk_env
    secret = issue_alink_secret(platform, None, "truck-01", PRODUCT_KEY)
    truck = _linkkit(sdk, secret)
    other = f"/sys/{PRODUCT_KEY}/loom-01/thing/event/property/post"
    answer = truck.call("publish_topic", topic=other, payload='{"id": "1", "params": {"lat": 1}}')
    assert answer["disconnects"], answer
    assert ("truck-01", "topic_not_allowed") in front.refusals
    assert _readings(platform, "loom-01") == []


def test_linkkit_with_a_wrong_secret_or_an_unknown_device_is_refused(platform, sdk_env):
    _, _, _, front, sdk = sdk_env
    issue_alink_secret(platform, None, "truck-01", PRODUCT_KEY)
    wrong = _linkkit(sdk, "not-the-secret", connect_timeout_s=3)
    assert wrong.hello == {"connected": False}
    assert ("truck-01", "bad_signature") in front.refusals
    stranger = sdk(
        "linkkit",
        product_key=PRODUCT_KEY,
        device_name="truck-99",
        device_secret="x",
        tsl=str(GPS_TSL),
        connect_timeout_s=3,
    )
    assert stranger.hello == {"connected": False}
    assert ("truck-99", "unknown_device") in front.refusals


def test_connected_devices_stay_connected_across_account_refreshes(platform, sdk_env):
    """The broker-account reconcile ran every minute and Mosquitto's dynamic security kicked every device
    whose role or client it rewrote ('disconnected by administrative action')."""
    world, broker, admin, front, sdk = sdk_env
    loom = sdk("tb", token=world.device_tokens["loom-01"])
    token = issue_mqtt_credentials(platform, None, "loom-02", accounts(admin))  # a device straight on Mosquitto
    direct = Device(broker, "loom-02", token)
    drops: list = []
    direct.client.on_disconnect = lambda *args: drops.append(args)
    for _ in range(3):
        assert reconcile_broker(platform, accounts(admin))["refreshed"] >= 1
    assert direct.publish("v1/devices/loom-02/telemetry", '{"current_a": 3}').value == 0  # after the refreshes
    assert drops == []
    assert loom.call("telemetry", values={"current_a": 4})["connected"] is True
    wait_for(lambda: _readings(platform, "loom-01") and _readings(platform, "loom-02"), what="both readings")
    assert front.connected("loom-01") == 1
    direct.close()


def test_a_revoked_token_closes_the_devices_connection(platform, sdk_env):
    world, _, _, front, sdk = sdk_env
    loom = sdk("tb", token=world.device_tokens["loom-01"])
    assert loom.hello == {"connected": True}
    assert front.check_credentials() == 0
    registry.revoke_device_tokens(platform, None, "loom-01")
    assert front.check_credentials() == 1
    assert loom.call("wait_disconnected")["disconnected"] is True


@pytest.fixture
def http_sdk(platform, live):
    world = build_world(platform)
    platform.clock.now_ms = int(time.time() * 1000)  # the HTTP client stamps telemetry with the wall clock
    processes: list[SdkProcess] = []

    def device(token: str) -> SdkProcess:
        processes.append(SdkProcess("tb", "tb_driver.py", {"http": True, "host": live.url, "token": token}))
        return processes[-1]

    yield world, device
    for process in processes:
        process.close()


def test_thingsboard_http_sdk_telemetry_attributes_and_rpc(platform, live, http_sdk):
    world, device = http_sdk
    loom = device(world.device_tokens["loom-01"])
    assert loom.hello == {"connected": True}
    assert "error" not in loom.call("telemetry", values={"current_a": 11.0})  # the SDK returns nothing on success
    assert "error" not in loom.call("attributes", values={"firmware_version": "2.0.1", "battery_pct": 64})
    assert sorted(_readings(platform, "loom-01")) == [("battery_pct", 64.0), ("current_a", 11.0)]
    assert _attributes(platform, "loom-01") == {"firmware_version": "2.0.1"}
    answer = loom.call("request_attributes", client_keys=["firmware_version"], shared_keys=["target_fw"])["answer"]
    assert answer == {"client": {"firmware_version": "2.0.1"}, "shared": {}}
    assert loom.call("rpc", method="getCurrentTime")["answer"] == {"time": platform.clock_ms()}
    refused = loom.call("attributes", values={"battery_pct": 640})
    assert refused["status"] == 400 and _quarantined(platform) == [("out_of_range", "loom-01")]


def test_thingsboard_http_with_a_wrong_token_is_refused(platform, live, http_sdk):
    _, device = http_sdk
    intruder = device("wxd_not-a-token")
    assert intruder.hello == {"connected": False}
    assert intruder.call("attributes", values={"firmware_version": "x"})["status"] == 401
    assert live.client.get("/api/v1/wxd_not-a-token/attributes").status_code == 401
    assert live.client.get("/api/v1/wxd_not-a-token/rpc", params={"timeout": 1}).status_code == 401


def test_the_rpc_long_poll_answers_408_when_nothing_is_pending(platform, live, http_sdk):
    world, _ = http_sdk
    token = world.device_tokens["loom-01"]
    answer = live.client.get(f"/api/v1/{token}/rpc", params={"timeout": 200})
    assert answer.status_code == 408 and answer.content == b""
    assert live.client.get(f"/api/v1/{token}/rpc", params={"timeout": -1}).status_code == 422


def test_an_mqtt5_client_hears_why_the_front_end_closes_it(platform, sdk_env):
    """Beyond the SDKs: a plain MQTT 5 client sees the reason code of the DISCONNECT (0x87, 0x9B)."""
    import paho.mqtt.client as mqtt

    from wuxin.ingest.mqtt.broker import connect_client

    world, _, _, front, _ = sdk_env
    reasons: dict[str, list] = {}
    for case, topic, qos in (("foreign", "v1/devices/loom-02/telemetry", 1), ("qos2", "v1/devices/me/telemetry", 2)):
        client = connect_client(f"mqtt://{world.device_tokens['loom-01']}@127.0.0.1:{front.port}", protocol=mqtt.MQTTv5)
        reasons[case] = []
        client.on_disconnect = lambda _c, _u, _f, reason, _p, case=case: reasons[case].append(reason.getName())
        client.reconnect_delay_set(60, 120)  # stay down: the test reads why it went down
        client.publish(topic, '{"current_a": 1}', qos=qos)
        wait_for(lambda case=case: reasons[case], what=f"the {case} disconnect")
        client.loop_stop()
    assert reasons == {"foreign": ["Not authorized"], "qos2": ["QoS not supported"]}
    assert _readings(platform, "loom-02") == [] and _readings(platform, "loom-01") == []


def test_linkkit_connects_over_tls_with_securemode_2(platform, sdk_env, server_tls):
    """LinkKit's default (secure="TLS", securemode=2), trusting the platform's CA as its docs show with cadata."""
    _, _, _, front, sdk = sdk_env
    secret = issue_alink_secret(platform, None, "truck-01", PRODUCT_KEY)
    truck = _linkkit(sdk, secret, port=front.tls_port, cadata=server_tls[0])
    assert truck.hello == {"connected": True}
    good = truck.call("post_property", params={"lat": 31.23, "lon": 121.47})
    assert good["rc"] == 0 and good["reply"]["code"] == 200
    assert sorted(_readings(platform, "truck-01")) == [("lat", 31.23), ("lon", 121.47)]
    (connection,) = front.connections["truck-01"]
    assert connection.writer.get_extra_info("ssl_object").version() in ("TLSv1.2", "TLSv1.3")
    assert "securemode=2" in connection.client_id


def test_linkkit_refuses_a_front_end_it_does_not_trust(platform, sdk_env, tmp_path):
    """The TLS is real: a CA that did not sign the front end's certificate fails the handshake."""
    _, _, _, front, sdk = sdk_env
    secret = issue_alink_secret(platform, None, "truck-01", PRODUCT_KEY)
    stranger_ca, _, _ = _server_certificate(tmp_path / "other")
    truck = _linkkit(sdk, secret, port=front.tls_port, cadata=stranger_ca, connect_timeout_s=3)
    assert truck.hello == {"connected": False}
    assert front.connections == {}


def _officer(world) -> Principal:
    return Principal(world.users["officer"], "officer", Role.CREDIT_OFFICER, world.bank, None)


def _listed_state(platform, world, key: str) -> str:
    return {d["key"]: d["connectivity"] for d in list_devices(platform, _officer(world), world.factory)}[key]


def _transitions(platform, world) -> list[tuple]:
    return [
        (t["device"], t["from"], t["to"], t["cause"])
        for t in read_transitions(platform, _officer(world), world.factory, 0, 2**62)
    ]


def test_connecting_and_disconnecting_at_the_front_end_is_the_devices_connectivity(platform, sdk_env):
    world, _, _, front, sdk = sdk_env
    assert _listed_state(platform, world, "loom-01") == "unknown"
    loom = sdk("tb", token=world.device_tokens["loom-01"])
    assert loom.hello == {"connected": True}
    assert _listed_state(platform, world, "loom-01") == "online"  # before it sent anything
    loom.close()
    wait_for(lambda: front.connected("loom-01") == 0, what="the front end noticing the closed connection")
    wait_for(lambda: _listed_state(platform, world, "loom-01") == "offline", what="offline in the device list")
    assert _transitions(platform, world) == [
        ("loom-01", "unknown", "online", "mqtt_connect"),
        ("loom-01", "online", "offline", "mqtt_disconnect"),
    ]


def _raw_connect(port: int, username: str, client_id: str | None = None) -> tuple[int, mqtt.Client]:
    """A plain MQTT 3.1.1 CONNECT; (CONNACK return code, the client to close)."""
    outcome: list = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or "")
    client.username_pw_set(username)
    client.on_connect = lambda _c, _u, _f, reason, _p: outcome.append(reason)
    client.reconnect_delay_set(60, 120)
    client.connect("127.0.0.1", port, keepalive=30)
    client.loop_start()
    wait_for(lambda: outcome, what="CONNACK")
    return CONNACK_CODES[outcome[0].getName()], client


CONNACK_CODES = {"Success": 0, "Server unavailable": 3, "Bad user name or password": 4, "Not authorized": 5}


def test_a_device_holds_at_most_max_sessions_and_its_own_client_id_takes_over(platform, sdk_env):
    world, _, _, front, _ = sdk_env
    front.max_sessions = 2
    token = world.device_tokens["loom-01"]
    clients = []
    for client_id in ("loom-a", "loom-b", "loom-c"):
        code, client = _raw_connect(front.port, token, client_id)
        clients.append((code, client))
    assert [code for code, _ in clients] == [0, 0, 5]  # the third is refused (MQTT 5: 0x97 quota exceeded)
    assert front.connected("loom-01") == 2 and ("loom-01", "too_many_sessions") in front.refusals
    code, again = _raw_connect(front.port, token, "loom-a")  # the same client id replaces its stale session
    assert code == 0 and front.connected("loom-01") == 2
    for _, client in clients + [(0, again)]:
        client.loop_stop()
        client.disconnect()


def test_a_flood_of_bad_connects_from_one_address_is_refused_without_lookups(platform, sdk_env, monkeypatch):
    world, _, _, front, _ = sdk_env
    front.connect_failures = FailureLimiter(3)
    lookups: list[str] = []
    real_lookup = device_sdk.thingsboard_device
    monkeypatch.setattr(
        device_sdk, "thingsboard_device", lambda platform, token: lookups.append(token) or real_lookup(platform, token)
    )
    codes = []
    for attempt in range(8):
        code, client = _raw_connect(front.port, f"wxd_guess-{attempt}")
        codes.append(code)
        client.loop_stop()
        client.disconnect()
    assert codes == [4, 4, 4, 3, 3, 3, 3, 3]  # bad credentials, then "server unavailable" unread
    assert len(lookups) == 3 and front.refusals.count(("127.0.0.1", "throttled")) == 5
    code, client = _raw_connect(front.port, world.device_tokens["loom-01"])  # the address waits out its minute
    assert code == 3 and front.connected("loom-01") == 0
    client.loop_stop()
    client.disconnect()


def test_a_device_holds_at_most_32_subscriptions(platform, sdk_env):
    """Each SUBSCRIBE once appended its filters without limit (every command poll scans them): now a connection
    keeps at most MAX_SUBSCRIPTIONS distinct filters; past them the broker answers 'not authorised' per filter."""
    import paho.mqtt.client as mqtt

    from wuxin.ingest.mqtt.broker import connect_client
    from wuxin.ingest.mqtt.front import MAX_SUBSCRIPTIONS

    world, _, _, front, _ = sdk_env
    granted: list = []
    client = connect_client(f"mqtt://{world.device_tokens['loom-01']}@127.0.0.1:{front.port}", protocol=mqtt.MQTTv5)
    client.on_subscribe = lambda _c, _u, _mid, codes, _p: granted.append([c.is_failure for c in codes])
    again = [("v1/devices/me/rpc/request/+", 1)] * 3  # the same filter again costs nothing
    client.subscribe(again)
    client.subscribe([(f"v1/devices/me/attributes/response/{n}", 1) for n in range(MAX_SUBSCRIPTIONS + 8)])
    wait_for(lambda: len(granted) == 2, what="both SUBACKs")
    client.disconnect()
    client.loop_stop()
    assert granted[0] == [False, False, False]
    assert granted[1].count(False) == MAX_SUBSCRIPTIONS - 1 and granted[1][-1] is True
