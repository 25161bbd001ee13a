"""A device cannot cut the MQTT front end off its broker with a topic name.

Mosquitto closes a connection whose PUBLISH topic holds U+0000 or a control character (malformed UTF-8 to it), and
paho sends an unacknowledged QoS 1 publish again on every reconnect. An Alink event identifier is a level of the
topic the front end forwards, so one such publish from one Alink device used to close the front end's own connection
to the broker again and again, and no device's point reached the workers any more. Such a PUBLISH is refused at the
front end: the device's connection is closed, nothing is forwarded."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt
import pytest

from tests.integration.mqtt_env import start_broker, wait_for, worker_url
from tests.integration.test_front_security import _alink_login, _client
from tests.integration.test_vendor_sdks import PRODUCT_KEY
from tests.world import build_world
from wuxin.ingest.mqtt import codec
from wuxin.ingest.mqtt.broker import provision_front
from wuxin.ingest.mqtt.front import DeviceFrontEnd, inbound_action
from wuxin.ingest.mqtt.worker import MqttWorker
from wuxin.services.ingest.device_sdk import DeviceIdentity, issue_alink_secret

FRONT_USER, FRONT_PASSWORD = "wuxin-front", "front-secret-for-topic-names"


def _readings(platform, key: str) -> list[tuple]:
    with platform.uow() as uow:
        device = uow.devices.by_key(key)
        return [(r["key"], r["num"]) for r in uow.telemetry.readings([device["id"]], None, 0, 2**62, 100)]


@pytest.mark.parametrize("event", ["a\x00b", "gps\x1f"])
def test_an_alink_event_name_with_a_control_character_closes_the_device_not_the_front_end(platform, tmp_path, event):
    platform.clock.now_ms = int(time.time() * 1000)  # LinkKit signs the wall clock's second
    world = build_world(platform)
    broker, admin = start_broker(tmp_path / "broker")
    provision_front(admin, FRONT_USER, FRONT_PASSWORD)
    stop = threading.Event()
    worker = MqttWorker(platform, worker_url(broker), "topic-worker", batch_wait_s=0.005)
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    front = None
    clients: list[mqtt.Client] = []
    try:
        assert worker.subscribed.wait(30)
        front = DeviceFrontEnd(platform, broker.url(FRONT_USER, FRONT_PASSWORD)).start_in_thread()
        secret = issue_alink_secret(platform, None, "truck-01", PRODUCT_KEY)
        client_id, username, password = _alink_login(platform, secret, str(int(time.time())))
        truck, connacks, disconnects = _client(front.port, username, password, client_id=client_id)
        clients.append(truck)
        assert connacks == ["Success"]
        truck.publish(f"/sys/{PRODUCT_KEY}/truck-01/thing/event/{event}/post", b'{"params": {}}', qos=1)
        wait_for(lambda: disconnects or not truck.is_connected(), 30, "the Alink device's connection closed")

        loom, loom_connacks, _ = _client(front.port, world.device_tokens["loom-01"])
        clients.append(loom)
        assert loom_connacks == ["Success"]
        acks: dict = {}
        loom.on_publish = lambda _c, _u, mid, reason, _p: acks.__setitem__(mid, reason)
        mid = loom.publish("v1/devices/me/telemetry", b'{"current_a": 4.25}', qos=1).mid
        wait_for(lambda: ("current_a", 4.25) in _readings(platform, "loom-01"), 30, "another device's point stored")
        wait_for(lambda: mid in acks, 30, "its PUBACK")
        assert not acks[mid].is_failure
        assert front._backend.subscriptions == 1  # the front end's own connection to the broker never dropped
    finally:
        for client in clients:
            client.loop_stop()
            client.disconnect()
        if front is not None:
            front.stop()
        stop.set()
        thread.join(10)
        admin.close()
        broker.stop()


@pytest.mark.parametrize(
    "topic", ["v1/devices/me/telemetry\x00", "v1/devices/+/telemetry", "v1/devices/me/#", "a\x7fb"]
)
def test_a_publish_topic_with_a_wildcard_or_a_control_character_is_a_protocol_error(topic):
    name = topic.encode()
    packet = codec.Packet(codec.PUBLISH, 0, len(name).to_bytes(2, "big") + name + b"{}")
    with pytest.raises(codec.ProtocolError, match="a wildcard or a control character"):
        codec.parse_publish(packet, codec.MQTT311)
    fine = b"v1/devices/me/telemetry"
    assert codec.parse_publish(codec.Packet(codec.PUBLISH, 0, len(fine).to_bytes(2, "big") + fine + b"{}"), 4).topic


def test_an_alink_event_identifier_is_a_tsl_identifier():
    truck = DeviceIdentity(7, "truck-01", "vehicles.gps_terminal", "alink", PRODUCT_KEY, "truck-01")
    prefix = f"/sys/{PRODUCT_KEY}/truck-01/thing/event/"
    assert (
        inbound_action(truck, prefix + "collision/post").topic
        == "/sys/vehicles.gps_terminal/truck-01/thing/event/collision/post"
    )
    for bad in ("a b", "x" * 65, "é", "a.b"):
        action = inbound_action(truck, prefix + bad + "/post")
        assert action.kind == "refuse" and "is not 1-64 letters, digits, _ or -" in action.reason, bad
