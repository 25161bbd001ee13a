"""`wuxin serve`'s background tasks start the vendors' SDKs' MQTT front end when WUXIN_MQTT_FRONT_PORT is set:
a plain paho MQTT 5 client with a device token as username publishes through it and the point is stored."""
from __future__ import annotations

import json

import paho.mqtt.client as mqtt
import pytest

from wuxin.errors import ConfigError
from wuxin.cli.ingest import serve_background, start_front_end
from wuxin.ingest.mqtt.broker import provision_front

from tests.integration.mqtt_env import start_broker, wait_for, worker_url
from tests.world import build_world
from tests.conftest import free_port

FRONT_USER, FRONT_PASSWORD = "wuxin-front", "front-secret-for-serve"


def _readings(platform, key: str) -> list[tuple]:
    with platform.uow() as uow:
        device = uow.devices.by_key(key)
        return [(r["key"], r["num"]) for r in uow.telemetry.readings([device["id"]], None, 0, 2**62, 100)]


def test_serve_starts_the_front_end_and_a_paho_mqtt5_device_is_stored(platform, tmp_path):
    world = build_world(platform)
    broker, admin = start_broker(tmp_path / "broker")
    provision_front(admin, FRONT_USER, FRONT_PASSWORD)
    platform.settings = platform.settings.model_copy(update={
        "mqtt_url": worker_url(broker), "mqtt_front_url": broker.url(FRONT_USER, FRONT_PASSWORD),
        "mqtt_front_port": free_port()})
    stop = serve_background(platform)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="loom-01-sdk", protocol=mqtt.MQTTv5)
    try:
        client.username_pw_set(world.device_tokens["loom-01"])
        client.connect("127.0.0.1", platform.settings.mqtt_front_port)
        client.loop_start()
        wait_for(client.is_connected, what="the front end's CONNACK")
        client.publish("v1/devices/me/telemetry", json.dumps({"current_a": 12.5}), qos=1).wait_for_publish(10)
        wait_for(lambda: ("current_a", 12.5) in _readings(platform, "loom-01"), what="the point stored")
    finally:
        client.loop_stop()
        client.disconnect()
        stop.set()
        admin.close()
        broker.stop()


def test_a_front_port_without_a_broker_is_refused(platform):
    import threading

    platform.settings = platform.settings.model_copy(update={"mqtt_url": None, "mqtt_front_url": None,
                                                             "mqtt_front_port": free_port()})
    with pytest.raises(ConfigError, match="WUXIN_MQTT_FRONT_PORT"):
        start_front_end(platform, threading.Event())
