"""The front end forwards a device's point only to a broker where a worker is subscribed to it.

Mosquitto acknowledges a publish nobody is subscribed to and drops it: on a fresh broker before the workers' shared
subscription exists, and after a broker restart before they re-subscribed (Mosquitto 2.0 does not restore `$share`
subscriptions). The front end speaks MQTT 5 to the broker, which says so (PUBACK 0x10), and sends the point again
until a worker takes it; the device gets its PUBACK only then. Its own subscription to the workers' Alink replies
is made again on every connection to the broker."""

from __future__ import annotations

import asyncio
import json
import logging
import threading

import paho.mqtt.client as mqtt
import pytest

from tests.integration.mqtt_env import start_broker, wait_for, worker_url
from tests.world import build_world
from wuxin.ingest.mqtt import front as front_module
from wuxin.ingest.mqtt.broker import BrokerError, connect_client, provision_front
from wuxin.ingest.mqtt.front import DeviceFrontEnd, _Backend
from wuxin.ingest.mqtt.worker import MqttWorker

FRONT_USER, FRONT_PASSWORD = "wuxin-front", "front-secret-for-order"


def _readings(platform, key: str) -> list[tuple]:
    with platform.uow() as uow:
        device = uow.devices.by_key(key)
        return [(r["key"], r["num"]) for r in uow.telemetry.readings([device["id"]], None, 0, 2**62, 100)]


class _Device:
    """A ThingsBoard device (paho, MQTT 5) on the front end: its PUBACK reasons and whether it was disconnected."""

    def __init__(self, port: int, token: str) -> None:
        self.acks: dict[int, mqtt.ReasonCode] = {}
        self.disconnected = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="loom-01-order", protocol=mqtt.MQTTv5)
        self.client.username_pw_set(token)
        self.client.on_publish = lambda _c, _u, mid, reason, _p: self.acks.__setitem__(mid, reason)
        self.client.on_disconnect = lambda *_args: self.disconnected.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        wait_for(self.client.is_connected, what="the front end's CONNACK")

    def publish(self, value: float) -> int:
        return self.client.publish("v1/devices/me/telemetry", json.dumps({"current_a": value}), qos=1).mid

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def test_a_point_sent_before_any_worker_subscribed_is_stored_once_one_has(platform, tmp_path, monkeypatch):
    monkeypatch.setattr(front_module, "FORWARD_DEADLINE_S", 120.0)  # the worker below may be slow to start
    world = build_world(platform)
    broker, admin = start_broker(tmp_path / "broker")  # fresh: no worker has ever subscribed
    provision_front(admin, FRONT_USER, FRONT_PASSWORD)
    front = DeviceFrontEnd(platform, broker.url(FRONT_USER, FRONT_PASSWORD)).start_in_thread()
    stop, thread, device = threading.Event(), None, None
    try:
        device = _Device(front.port, world.device_tokens["loom-01"])
        mid = device.publish(12.5)
        wait_for(lambda: front._backend.unrouted >= 1, what="the broker saying nobody is subscribed")
        assert mid not in device.acks  # not acknowledged while nobody can store it
        worker = MqttWorker(platform, worker_url(broker), "order-worker", batch_wait_s=0.005)
        thread = threading.Thread(target=worker.run, args=(stop,))
        thread.start()
        wait_for(lambda: ("current_a", 12.5) in _readings(platform, "loom-01"), 60, "the point stored")
        wait_for(lambda: mid in device.acks, what="the device's PUBACK")
        assert not device.acks[mid].is_failure
        assert not device.disconnected.is_set()
    finally:
        if device is not None:
            device.close()
        front.stop()
        stop.set()
        if thread is not None:
            thread.join(10)
        admin.close()
        broker.stop()


def test_with_no_worker_the_device_is_not_acknowledged_and_its_connection_closes(platform, tmp_path, monkeypatch):
    """Past FORWARD_DEADLINE_S the front end gives up as when the broker is away: no PUBACK, the connection closes,
    and the device sends the point again after it reconnects."""
    monkeypatch.setattr(front_module, "FORWARD_DEADLINE_S", 0.3)
    world = build_world(platform)
    broker, admin = start_broker(tmp_path / "broker")
    provision_front(admin, FRONT_USER, FRONT_PASSWORD)
    front = DeviceFrontEnd(platform, broker.url(FRONT_USER, FRONT_PASSWORD)).start_in_thread()
    device = None
    try:
        device = _Device(front.port, world.device_tokens["loom-01"])
        device.client.reconnect_delay_set(60, 120)  # it stays away: what it was told before it went is what counts
        mid = device.publish(7.5)
        assert device.disconnected.wait(30), "the front end kept the connection open"
        assert mid not in device.acks
        assert front._backend.unrouted >= 2  # sent again before it gave up
        assert ("current_a", 7.5) not in _readings(platform, "loom-01")
    finally:
        if device is not None:
            device.close()
        front.stop()
        admin.close()
        broker.stop()


def test_the_alink_replies_subscription_is_made_again_after_a_broker_restart(tmp_path):
    broker, admin = start_broker(tmp_path / "broker")
    provision_front(admin, FRONT_USER, FRONT_PASSWORD)
    admin.close()
    replies: list[tuple[str, bytes]] = []
    backend = _Backend(broker.url(FRONT_USER, FRONT_PASSWORD), "front-replies", lambda t, p: replies.append((t, p)))
    worker = None
    try:
        assert backend.subscriptions == 1
        broker.restart()  # the front end's session does not survive its connection
        wait_for(lambda: backend.subscriptions >= 2, 60, "the front end subscribed again after reconnecting")
        worker = connect_client(worker_url(broker), "reply-sender")
        topic = "/sys/vehicles.gps_terminal/truck-01/thing/event/property/post_reply"
        worker.publish(topic, b'{"code":200}', qos=1).wait_for_publish(20)
        wait_for(lambda: (topic, b'{"code":200}') in replies, what="the worker's reply at the front end")
    finally:
        if worker is not None:
            worker.loop_stop()
            worker.disconnect()
        backend.client.loop_stop()
        backend.client.disconnect()
        broker.stop()


def test_a_worker_whose_subscription_the_broker_refuses_is_not_taken_as_subscribed(platform, tmp_path, caplog):
    """`wuxin serve` and the demo open the front end once the worker says it subscribed: a SUBACK that refuses the
    filters (an account without the worker's ACL) must not say so."""
    broker, admin = start_broker(tmp_path / "broker")
    provision_front(admin, FRONT_USER, FRONT_PASSWORD)  # may publish device topics, not subscribe to them
    stop = threading.Event()
    worker = MqttWorker(platform, broker.url(FRONT_USER, FRONT_PASSWORD), "not-a-worker")
    thread = threading.Thread(target=worker.run, args=(stop,))
    try:
        with caplog.at_level(logging.ERROR, logger="wuxin.ingest.mqtt.worker"):
            thread.start()
            wait_for(lambda: "refused its subscription" in caplog.text, what="the worker saying it was refused")
        assert not worker.subscribed.is_set()
    finally:
        stop.set()
        thread.join(10)
        admin.close()
        broker.stop()


def test_a_forward_given_up_while_the_broker_was_away_leaves_no_puback_for_a_later_one(tmp_path):
    """paho keeps a QoS 1 publish made while it is disconnected and sends it once connected again; the front end had
    already failed that forward, so the broker's PUBACK for it is nobody's. Kept, it would answer the next forward
    paho gives the same mid (after the 65,535 others): the device acknowledged before the broker has its point, or,
    as here, a stale "no subscribers" sending a delivered point twice."""
    broker, admin = start_broker(tmp_path / "broker")
    provision_front(admin, FRONT_USER, FRONT_PASSWORD)
    admin.close()
    backend = _Backend(broker.url(FRONT_USER, FRONT_PASSWORD), "front-given-up", lambda _t, _p: None)
    consumer = None
    topic = "v1/devices/loom-01/telemetry"
    try:
        broker.stop()
        wait_for(lambda: not backend.client.is_connected(), 30, "the front end seeing the broker gone")
        with pytest.raises(BrokerError, match="forward to the broker failed"):
            asyncio.run(backend.forward(topic, b'{"current_a": 1.0}'))
        given_up = backend.client._last_mid  # paho's: the mid of the publish it still holds
        broker.start()
        wait_for(lambda: backend.subscriptions >= 2, 60, "the front end connected again")
        wait_for(lambda: not backend.client._out_messages, 30, "the held publish sent and acknowledged")
        assert backend._early == {}  # its PUBACK (0x10: no worker yet) answered nobody and was not kept

        received: list[bytes] = []
        subscribed = threading.Event()
        consumer = connect_client(worker_url(broker), "given-up-reader")
        consumer.on_message = lambda _c, _u, message: received.append(message.payload)
        consumer.on_subscribe = lambda *_args: subscribed.set()
        consumer.subscribe(topic, qos=1)
        assert subscribed.wait(30)
        backend.client._last_mid = given_up - 1  # the next forward gets that mid again, as after a wrap
        unrouted = backend.unrouted
        asyncio.run(backend.forward(topic, b'{"current_a": 2.0}'))
        wait_for(lambda: received, 30, "the point at the reader")
        wait_for(lambda: not backend.client._out_messages, 30, "the forward acknowledged")
        assert backend.unrouted == unrouted and backend._early == {}
        assert received == [b'{"current_a": 2.0}']  # once: a stale "no subscribers" would have sent it again
    finally:
        if consumer is not None:
            consumer.loop_stop()
            consumer.disconnect()
        backend.client.loop_stop()
        backend.client.disconnect()
        broker.stop()
