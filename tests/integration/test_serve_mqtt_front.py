"""`wuxin serve`'s background tasks start the vendors' SDKs' MQTT front end when WUXIN_MQTT_FRONT_PORT is set:
a plain paho MQTT 5 client with a device token as username publishes through it and the point is stored."""

from __future__ import annotations

import json

import paho.mqtt.client as mqtt
import pytest

from tests.conftest import free_port
from tests.integration.mqtt_env import start_broker, wait_for, worker_url
from tests.world import build_world
from wuxin.cli.ingest import serve_background, start_front_end
from wuxin.errors import ConfigError
from wuxin.ingest.mqtt.broker import provision_front

FRONT_USER, FRONT_PASSWORD = "wuxin-front", "front-secret-for-serve"


def _readings(platform, key: str) -> list[tuple]:
    with platform.uow() as uow:
        device = uow.devices.by_key(key)
        return [(r["key"], r["num"]) for r in uow.telemetry.readings([device["id"]], None, 0, 2**62, 100)]


def test_serve_starts_the_front_end_and_a_paho_mqtt5_device_is_stored(platform, tmp_path):
    world = build_world(platform)
    broker, admin = start_broker(tmp_path / "broker")
    provision_front(admin, FRONT_USER, FRONT_PASSWORD)
    platform.settings = platform.settings.model_copy(
        update={
            "mqtt_url": worker_url(broker),
            "mqtt_front_url": broker.url(FRONT_USER, FRONT_PASSWORD),
            "mqtt_front_port": free_port(),
        }
    )
    stop = serve_background(platform)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="loom-01-sdk", protocol=mqtt.MQTTv5)
    try:
        client.username_pw_set(world.device_tokens["loom-01"])
        client.connect("127.0.0.1", platform.settings.mqtt_front_port)
        client.loop_start()
        wait_for(client.is_connected, what="the front end's CONNACK")
        client.publish("v1/devices/me/telemetry", json.dumps({"current_a": 12.5}), qos=1).wait_for_publish(30)
        wait_for(lambda: ("current_a", 12.5) in _readings(platform, "loom-01"), what="the point stored")
    finally:
        client.loop_stop()
        client.disconnect()
        stop.set()
        admin.close()
        broker.stop()


def test_a_front_port_without_a_broker_is_refused(platform):
    import threading

    platform.settings = platform.settings.model_copy(
        update={"mqtt_url": None, "mqtt_front_url": None, "mqtt_front_port": free_port()}
    )
    with pytest.raises(ConfigError, match="WUXIN_MQTT_FRONT_PORT"):
        start_front_end(platform, threading.Event())


def test_many_devices_publishing_qos1_at_once_are_all_acknowledged(platform, tmp_path):
    """The front end forwards each QoS 1 publish and PUBACKs the device once the broker PUBACKed the copy. It used to
    hold its own lock around paho's publish while paho called back holding paho's: with several devices publishing
    at once the two threads waited on each other and the front end stopped (found with the demo's devices on it)."""
    import threading

    from wuxin.ingest.mqtt.front import DeviceFrontEnd
    from wuxin.ingest.mqtt.worker import MqttWorker

    world = build_world(platform)
    broker, admin = start_broker(tmp_path / "broker")
    provision_front(admin, FRONT_USER, FRONT_PASSWORD)
    stop = threading.Event()
    worker = MqttWorker(platform, worker_url(broker), "burst-worker")  # the front end forwards only what goes somewhere
    worker_thread = threading.Thread(target=worker.run, args=(stop,))
    worker_thread.start()
    assert worker.subscribed.wait(20)
    front = DeviceFrontEnd(platform, broker.url(FRONT_USER, FRONT_PASSWORD)).start_in_thread()
    per_device, acked, lock = 300, {}, threading.Lock()
    clients = []
    try:
        for key in ("loom-01", "loom-02", "meter-01"):
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{key}-burst", protocol=mqtt.MQTTv5)
            client.username_pw_set(world.device_tokens[key])
            client.max_inflight_messages_set(100)
            client.max_queued_messages_set(0)

            def on_publish(_c, _u, _mid, reason, _p, key=key) -> None:
                with lock:
                    acked[key] = acked.get(key, 0) + (not reason.is_failure)

            client.on_publish = on_publish
            client.connect("127.0.0.1", front.port)
            client.loop_start()
            clients.append(client)
            wait_for(client.is_connected, what=f"{key} connected")
        for n in range(per_device):
            for client, key in zip(clients, ("loom-01", "loom-02", "meter-01")):
                body = {"current_a": n % 50} if key.startswith("loom") else {"energy_kwh_total": n}
                client.publish("v1/devices/me/telemetry", json.dumps(body), qos=1)
        wait_for(
            lambda: sum(acked.values()) == 3 * per_device,
            timeout_s=120,
            what=lambda: f"all {3 * per_device} publishes acknowledged (got {sum(acked.values())})",
        )
    finally:
        for client in clients:
            client.loop_stop()
            client.disconnect()
        front.stop()
        stop.set()
        worker_thread.join(10)
        admin.close()
        broker.stop()
    assert acked == {"loom-01": per_device, "loom-02": per_device, "meter-01": per_device}
