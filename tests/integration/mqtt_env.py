"""Helpers for the MQTT tests: a Mosquitto with the project's configuration, device clients, waiting."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import paho.mqtt.client as mqtt

from wuxin.ingest.mqtt.broker import DynsecAccounts, DynsecAdmin, MosquittoProcess, connect_client, provision_worker

WORKER_USER, WORKER_PASSWORD = "wuxin-worker", "worker-" + uuid.uuid4().hex


def start_broker(data_dir, **config) -> tuple[MosquittoProcess, DynsecAdmin]:
    broker = MosquittoProcess(data_dir, **config).start()
    admin = DynsecAdmin(broker.admin_url)
    provision_worker(admin, WORKER_USER, WORKER_PASSWORD)
    return broker, admin


def accounts(admin: DynsecAdmin) -> DynsecAccounts:
    return DynsecAccounts(admin)


def worker_url(broker: MosquittoProcess) -> str:
    return broker.url(WORKER_USER, WORKER_PASSWORD)


class Device:
    """A device's MQTT v5 client: publishes QoS 1 and records each PUBACK's reason code."""

    def __init__(self, broker: MosquittoProcess, key: str, token: str):
        self.key = key
        self.acks: dict[int, mqtt.ReasonCode] = {}
        self.received: list[tuple[str, bytes]] = []
        self._acked = threading.Condition()
        self.client = connect_client(broker.url(key, token), f"dev-{key}-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv5)
        self.client.on_publish = self._on_publish
        self.client.on_message = lambda _c, _u, m: self.received.append((m.topic, m.payload))

    def _on_publish(self, _client, _userdata, mid, reason_code, _properties) -> None:
        with self._acked:
            self.acks[mid] = reason_code
            self._acked.notify_all()

    def publish(self, topic: str, payload: bytes | str) -> mqtt.ReasonCode:
        """Publish QoS 1 and return the broker's PUBACK reason code."""
        mid = self.client.publish(topic, payload, qos=1).mid
        with self._acked:
            assert self._acked.wait_for(lambda: mid in self.acks, timeout=30), f"no PUBACK for {topic}"
            return self.acks[mid]

    def subscribe(self, topic_filter: str) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda *args: done.set()
        self.client.subscribe(topic_filter, qos=1)
        assert done.wait(30), f"no SUBACK for {topic_filter}"

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def wait_for(
    condition: Callable[[], bool], timeout_s: float = 20.0, what: str | Callable[[], str] = "condition"
) -> None:
    """Poll until true (the worker is another thread or process: there is nothing to join on);
    `what` may be a function, to say how things stand when the time is up."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what() if callable(what) else what}"
        time.sleep(0.02)


@contextmanager
def front_with_worker(
    platform, data_dir, client_id: str, front_user: str, front_password: str, **front_options
) -> Iterator[tuple[MosquittoProcess, DynsecAdmin, object]]:
    """The vendor SDK tests' stack: a broker, a worker subscribed to it, and the MQTT front end forwarding to it
    (`front_options` for DeviceFrontEnd, e.g. TLS or the command poll); all stopped on leaving."""
    from wuxin.ingest.mqtt.broker import provision_front
    from wuxin.ingest.mqtt.front import DeviceFrontEnd
    from wuxin.ingest.mqtt.worker import MqttWorker

    broker, admin = start_broker(data_dir / "broker")
    provision_front(admin, front_user, front_password)
    stop = threading.Event()
    worker = MqttWorker(platform, worker_url(broker), client_id, batch_wait_s=0.005)
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    front = None
    try:
        assert worker.subscribed.wait(30)
        front = DeviceFrontEnd(platform, broker.url(front_user, front_password), **front_options).start_in_thread()
        yield broker, admin, front
    finally:
        if front is not None:
            front.stop()
        stop.set()
        thread.join(10)
        admin.close()
        broker.stop()
