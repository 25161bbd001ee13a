"""MQTT through a real Mosquitto (the project's configuration, a free port): dialects, device auth, gateways."""

from __future__ import annotations

import json
import threading

import pytest

from tests.conftest import T0_MS
from tests.integration.mqtt_env import Device, accounts, start_broker, wait_for, worker_url
from tests.integration.poison import POISON_NUM, deep, good, lone_surrogate, refusing_store  # noqa: F401
from tests.world import build_world
from wuxin.errors import NotFound
from wuxin.ingest.mqtt.broker import BrokerError, connect_client
from wuxin.ingest.mqtt.worker import MqttWorker
from wuxin.services.devices import registry
from wuxin.services.ingest.protocols import attach_sub_device, issue_mqtt_credentials, reconcile_broker

BRACELET, GPS = "manufacturing.current_bracelet", "vehicles.gps_terminal"


@pytest.fixture
def mqtt_env(platform, tmp_path):
    world = build_world(platform)
    broker, admin = start_broker(tmp_path / "broker")
    tokens = {
        k: issue_mqtt_credentials(platform, None, k, accounts(admin))
        for k in ("loom-01", "loom-02", "meter-01", "truck-01")
    }
    stop = threading.Event()
    worker = MqttWorker(platform, worker_url(broker), "test-worker", batch_wait_s=0.005)
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    assert worker.subscribed.wait(30)
    devices = {}

    def device(key: str) -> Device:
        devices[key] = devices.get(key) or Device(broker, key, tokens[key])
        return devices[key]

    yield world, broker, admin, tokens, device, worker
    for d in devices.values():
        d.close()
    stop.set()
    thread.join(10)
    admin.close()
    broker.stop()


def _readings(platform, key: str) -> list[tuple]:
    with platform.uow() as uow:
        device = uow.devices.by_key(key)
        return [(r["key"], r["ts_ms"], r["num"]) for r in uow.telemetry.readings([device["id"]], None, 0, 2**62, 100)]


def test_thingsboard_telemetry_and_attributes_are_stored(platform, mqtt_env):
    _, _, _, _, device, worker = mqtt_env
    loom = device("loom-01")
    payload = [
        {"ts": T0_MS - 2000, "values": {"current_a": 12.5, "battery_pct": 80}},
        {"ts": T0_MS - 1000, "values": {"current_a": 13}},
    ]
    assert loom.publish("v1/devices/loom-01/telemetry", json.dumps(payload)).value == 0
    assert loom.publish("v1/devices/loom-01/attributes", json.dumps({"rssi_dbm": -70})).value == 0
    wait_for(lambda: len(_readings(platform, "loom-01")) == 4, what="4 readings")
    assert ("rssi_dbm", T0_MS, -70.0) in _readings(platform, "loom-01")  # attributes at receive time


def test_alink_properties_and_events_are_stored_and_answered_on_the_reply_topic(platform, mqtt_env):
    _, _, _, _, device, _ = mqtt_env
    truck = device("truck-01")
    truck.subscribe(f"/sys/{GPS}/truck-01/thing/event/+/post_reply")
    base = f"/sys/{GPS}/truck-01/thing/event"
    good = {
        "id": "1",
        "version": "1.0",
        "method": "thing.event.property.post",
        "params": {"lat": {"value": 31.23, "time": T0_MS - 5000}, "lon": {"value": 121.47, "time": T0_MS - 5000}},
    }
    bad = {"id": "2", "version": "1.0", "method": "thing.event.property.post", "params": {"speed_kmh": 999}}
    event = {"id": "3", "version": "1.0", "params": {"value": {"lat": 31.2, "lon": 121.4}, "time": T0_MS - 4000}}
    for topic, body in ((f"{base}/property/post", good), (f"{base}/property/post", bad), (f"{base}/sos/post", event)):
        assert truck.publish(topic, json.dumps(body)).value == 0
    wait_for(lambda: len(truck.received) == 3, what="three Alink replies")
    replies = {json.loads(p)["id"]: json.loads(p) for _, p in truck.received}
    assert (
        replies["1"]["code"] == 200 and replies["3"]["code"] == 200 and replies["3"]["method"] == "thing.event.sos.post"
    )
    assert replies["2"]["code"] == 460 and "speed_kmh=999" in replies["2"]["message"]
    assert sorted(_readings(platform, "truck-01")) == [("lat", T0_MS - 5000, 31.23), ("lon", T0_MS - 5000, 121.47)]
    with platform.uow() as uow:
        assert uow.telemetry.count_events(uow.devices.by_key("truck-01")["id"]) == 1
        assert [q["reason"] for q in uow.quarantine.list("open", 10)] == ["out_of_range"]


def test_a_device_cannot_publish_as_another_and_bad_or_revoked_credentials_are_refused(platform, mqtt_env):
    _, broker, admin, tokens, device, worker = mqtt_env
    loom = device("loom-01")
    for topic in (
        "v1/devices/loom-02/telemetry",
        "v1/devices/me/telemetry",
        f"/sys/{BRACELET}/loom-02/thing/event/property/post",
        "v1/gateway/meter-01/telemetry",
        f"/sys/{GPS}/loom-01/thing/event/property/post",
    ):
        assert loom.publish(topic, json.dumps({"current_a": 1})).getName() == "Not authorized", topic
    assert loom.publish("v1/devices/loom-01/telemetry", json.dumps({"current_a": 2})).value == 0  # a barrier
    wait_for(lambda: _readings(platform, "loom-01"), what="the barrier")
    assert _readings(platform, "loom-02") == [] and worker.stats.messages_stored == 1
    with pytest.raises(BrokerError, match="Not authorized"):
        connect_client(broker.url("loom-02", tokens["loom-01"]))
    with pytest.raises(BrokerError, match="Not authorized"):
        connect_client(broker.url("loom-01", "wxd_guess"))
    registry.revoke_device_tokens(platform, None, "loom-02")
    assert reconcile_broker(platform, accounts(admin))["disabled"] == 1
    with pytest.raises(BrokerError, match="Not authorized"):
        connect_client(broker.url("loom-02", tokens["loom-02"]))
    connect_client(broker.url("loom-01", tokens["loom-01"])).disconnect()  # the others still connect


def test_a_gateway_publishes_only_for_sub_devices_registered_behind_it(platform, mqtt_env):
    world, _, _, _, device, _ = mqtt_env
    attach_sub_device(platform, None, "meter-01", "loom-02")
    with pytest.raises(NotFound, match="not a device of the gateway's enterprise"):
        attach_sub_device(platform, None, "meter-01", "truck-01")
    gateway = device("meter-01")
    body = {
        "loom-02": [{"ts": T0_MS - 1000, "values": {"current_a": 7.5}}],
        "loom-01": [{"ts": T0_MS - 1000, "values": {"current_a": 9}}],
    }
    assert gateway.publish("v1/gateway/meter-01/telemetry", json.dumps(body)).value == 0
    assert gateway.publish("v1/gateway/meter-01/connect", json.dumps({"device": "loom-02"})).value == 0
    assert gateway.publish("v1/gateway/meter-01/connect", json.dumps({"device": "loom-01"})).value == 0
    wait_for(lambda: _readings(platform, "loom-02"), what="the sub-device's reading")
    wait_for(lambda: _transitions(platform), what="the connect transition")
    assert _readings(platform, "loom-01") == []
    assert _transitions(platform) == [("loom-02", "unknown", "online", "gateway_connect")]
    with platform.uow() as uow:
        assert [q["reason"] for q in uow.quarantine.list("open", 10)] == ["not_behind_gateway"]


def _transitions(platform) -> list[tuple]:
    with platform.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT d.key, t.from_state, t.to_state, t.cause FROM connectivity_transitions t "
            "JOIN devices d ON d.id = t.device_id ORDER BY t.id"
        ).fetchall()
    return [tuple(r) for r in rows]


def test_malformed_payload_is_quarantined_and_acknowledged_and_a_failing_store_is_retried(platform, mqtt_env):
    _, _, _, _, device, worker = mqtt_env
    loom = device("loom-01")
    assert loom.publish("v1/devices/loom-01/telemetry", b"{not json").value == 0
    wait_for(lambda: worker.stats.messages_stored == 1, what="the malformed message handled")
    with platform.uow() as uow:
        (entry,) = uow.quarantine.list("open", 10)
    assert entry["reason"] == "malformed_json" and entry["channel"] == "mqtt" and "{not json" in entry["payload"]
    original, failures = worker.store, []

    def flaky(platform_, inbound):
        if len(failures) < 2:
            failures.append(1)
            raise ConnectionError("database unreachable")
        return original(platform_, inbound)

    worker.store = flaky
    assert (
        loom.publish("v1/devices/loom-01/telemetry", json.dumps({"ts": T0_MS - 1, "values": {"current_a": 3}})).value
        == 0
    )
    wait_for(lambda: _readings(platform, "loom-01"), what="the retried batch")
    assert worker.stats.failed_attempts == 2 and "database unreachable" in worker.stats.last_error


def test_token_rotation_and_revocation_reach_the_broker_at_once(platform, mqtt_env):
    _, broker, admin, tokens, device, worker = mqtt_env
    platform.settings.mqtt_admin_url = broker.admin_url
    try:
        new = registry.rotate_device_token(platform, None, "loom-01")
        with pytest.raises(BrokerError, match="Not authorized"):
            connect_client(broker.url("loom-01", tokens["loom-01"]))  # the old token no longer opens MQTT
        connect_client(broker.url("loom-01", new)).disconnect()
        registry.revoke_device_tokens(platform, None, "loom-01")
        with pytest.raises(BrokerError, match="Not authorized"):
            connect_client(broker.url("loom-01", new))
    finally:
        platform.settings.mqtt_admin_url = None


def test_rotation_is_refused_whole_when_the_broker_is_unreachable(platform, mqtt_env):
    from wuxin.errors import Unavailable
    from wuxin.ingest.mqtt.broker import free_port

    _, broker, admin, tokens, device, worker = mqtt_env
    platform.settings.mqtt_admin_url = f"mqtt://wuxin-admin:x@127.0.0.1:{free_port()}"
    try:
        with pytest.raises(Unavailable, match="loom-01"):
            registry.rotate_device_token(platform, None, "loom-01")
    finally:
        platform.settings.mqtt_admin_url = None
    connect_client(broker.url("loom-01", tokens["loom-01"])).disconnect()  # nothing changed


def _record_acks(worker) -> list[int]:
    acked: list[int] = []
    send_acks = worker.client.ack_many

    def ack_many(mids):
        acked.extend(mids)
        return send_acks(mids)

    worker.client.ack_many = ack_many
    return acked


def test_poison_messages_are_quarantined_and_acknowledged_and_the_good_ones_behind_them_stored(platform, mqtt_env):
    _, _, _, _, device, worker = mqtt_env
    acked = _record_acks(worker)
    loom = device("loom-01")
    topic = "v1/devices/loom-01/telemetry"
    messages = [
        good(T0_MS - 5, 1.0),
        lone_surrogate(T0_MS - 4),
        good(T0_MS - 3, 2.0),
        deep(T0_MS - 2),
        good(T0_MS - 1, 3.0),
    ]
    for payload in messages:
        assert loom.publish(topic, payload).value == 0
    wait_for(
        lambda: len(acked) == 5,
        what=lambda: f"5 acknowledgements, {len(acked)} so far, {worker.stats.failed_attempts} failed attempts",
    )
    assert sorted(num for _, _, num in _readings(platform, "loom-01")) == [1.0, 2.0, 3.0]
    with platform.uow() as uow:
        entries = uow.quarantine.list("open", 10)
    assert sorted(q["reason"] for q in entries) == ["invalid_unicode", "too_deep"]
    assert all(q["channel"] == "mqtt" and q["device_key"] == "loom-01" for q in entries)
    assert worker.stats.failed_attempts == 0
    assert loom.publish(topic, good(T0_MS, 4.0)).value == 0  # and it keeps going
    wait_for(lambda: len(_readings(platform, "loom-01")) == 4, what="the message after the poison")


def test_a_message_the_database_refuses_is_isolated_but_a_cut_database_is_retried(platform, mqtt_env, refusing_store):
    _, _, _, _, device, worker = mqtt_env
    acked = _record_acks(worker)
    loom = device("loom-01")
    topic = "v1/devices/loom-01/telemetry"
    for payload in (good(T0_MS - 3, 1.0), good(T0_MS - 2, POISON_NUM), good(T0_MS - 1, 3.0)):
        assert loom.publish(topic, payload).value == 0
    wait_for(lambda: len(acked) == 3, what=lambda: f"3 acknowledgements, {len(acked)} so far")
    assert sorted(num for _, _, num in _readings(platform, "loom-01")) == [1.0, 3.0]
    with platform.uow() as uow:
        [entry] = uow.quarantine.list("open", 10)
    assert entry["reason"] == "store_failed" and "666" in entry["payload"] and "value 666 refused" in entry["message"]
    refusing_store.outages = 2  # now the database is cut twice: the batch waits, nothing is quarantined
    assert loom.publish(topic, good(T0_MS, 4.0)).value == 0
    wait_for(lambda: len(_readings(platform, "loom-01")) == 3, what="the message stored after the outage")
    assert worker.stats.failed_attempts == 2 and "server closed the connection" in worker.stats.last_error
    with platform.uow() as uow:
        assert len(uow.quarantine.list("open", 10)) == 1
    wait_for(lambda: len(acked) == 4, what="the acknowledgement after the outage")
