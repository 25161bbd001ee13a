"""The durable path of issue 21 on real nats-server processes (one node, and a 3-node JetStream cluster on
loopback): device -> the platform's MQTT front end -> replicated stream (PubAck before PUBACK) -> competing
stream workers -> SQLite / PostgreSQL, at least once on the wire and exactly once in storage."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import threading

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import T0_MS
from tests.integration.mqtt_env import wait_for
from tests.world import build_world
from wuxin.ingest.mqtt.front import DeviceFrontEnd
from wuxin.ingest.stream import jetstream
from wuxin.ingest.stream.nats_process import NatsCluster
from wuxin.ingest.stream.worker import StreamWorker

SHORT_ACK_WAIT = jetstream.StreamPolicy(ack_wait_s=2.0)


@pytest.fixture(scope="module", params=[1, 3], ids=["single-node", "3-node-cluster"])
def nats_cluster(request, tmp_path_factory):
    cluster = NatsCluster(tmp_path_factory.mktemp(f"nats{request.param}"), size=request.param).start()
    yield cluster
    cluster.stop()


def _run(coroutine_function, cluster: NatsCluster):
    async def call():
        nc = await jetstream.connect(cluster.urls, "wuxin-test", max_reconnect_attempts=5)
        try:
            return await coroutine_function(nc)
        finally:
            await nc.close()

    return asyncio.run(call())


@pytest.fixture
def stream(nats_cluster):
    """A fresh stream and consumer (ack wait 2 s) for each test; removed afterwards."""
    _run(lambda nc: jetstream.ensure_stream(nc, nats_cluster.urls, SHORT_ACK_WAIT), nats_cluster)
    yield nats_cluster
    _run(lambda nc: nc.jetstream().delete_stream(jetstream.STREAM), nats_cluster)


def _stream_info(cluster: NatsCluster):
    return _run(lambda nc: nc.jetstream().stream_info(jetstream.STREAM), cluster)


def _consumer_info(cluster: NatsCluster):
    return _run(lambda nc: nc.jetstream().consumer_info(jetstream.STREAM, jetstream.CONSUMER), cluster)


def _reading_count(platform, key: str) -> int:
    with platform.uow() as uow:
        device = uow.devices.by_key(key)
        return len(uow.telemetry.readings([device["id"]], None, 0, 2**62, 100_000))


class _Workers:
    """Stream workers on threads of this process."""

    def __init__(self, platform, cluster: NatsCluster, count: int) -> None:
        self.stop = threading.Event()
        self.workers = [
            StreamWorker(platform, cluster.urls, f"test-worker-{n}", batch_max=50, policy=SHORT_ACK_WAIT)
            for n in range(count)
        ]
        self.threads = [threading.Thread(target=w.run, args=(self.stop,), daemon=True) for w in self.workers]
        for thread in self.threads:
            thread.start()
        for worker in self.workers:
            assert worker.ready.wait(20), "a stream worker did not bind to the consumer"

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(15)


def _device(port: int, token: str, client_id: str) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.username_pw_set(token)
    client.connect("127.0.0.1", port)
    client.loop_start()
    wait_for(client.is_connected, what="the front end's CONNACK")
    return client


def _message(i: int) -> str:
    return json.dumps(
        {"ts": T0_MS - 60_000 * i, "values": {"current_a": 10 + i % 7, "battery_pct": 80.0, "rssi_dbm": -70}}
    )


def test_devices_through_the_front_end_are_stored_once_by_competing_workers(platform, stream):
    world = build_world(platform)
    front = DeviceFrontEnd(platform, None, stream_urls=stream.urls).start_in_thread()
    workers = _Workers(platform, stream, 2)
    devices = [_device(front.port, world.device_tokens[key], f"sdk-{key}") for key in ("loom-01", "loom-02")]
    try:
        published = [
            device.publish("v1/devices/me/telemetry", _message(i), qos=1) for i in range(40) for device in devices
        ]
        for info in published:
            info.wait_for_publish(20)  # the PUBACK came after the stream's PubAck
        assert all(info.is_published() for info in published)
        wait_for(
            lambda: _reading_count(platform, "loom-01") == 120 and _reading_count(platform, "loom-02") == 120,
            what=lambda: f"readings {_reading_count(platform, 'loom-01')}, {_reading_count(platform, 'loom-02')}",
        )
        wait_for(lambda: _stream_info(stream).state.messages == 0, what="the stream emptied by the acks")
        assert sum(w.stats.messages_stored for w in workers.workers) == 80
        assert _stream_info(stream).config.num_replicas == (3 if len(stream.nodes) == 3 else 1)
    finally:
        for device in devices:
            device.loop_stop()
            device.disconnect()
        workers.close()
        front.stop()


def _mqtt311_publish_dup(port: int, token: str, packet_id: int, topic: str, payload: bytes) -> list[bytes]:
    """A device that re-sends the same QoS 1 PUBLISH (DUP set the second time, as after a lost PUBACK);
    returns the two PUBACKs it got."""

    def packet(first: int, body: bytes) -> bytes:
        return bytes([first, len(body)]) + body  # bodies here are under 128 bytes

    def text_field(value: str) -> bytes:
        return struct.pack(">H", len(value)) + value.encode()

    connect = (
        text_field("MQTT") + bytes([4, 0x80]) + struct.pack(">H", 30) + text_field("dup-device") + text_field(token)
    )
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(packet(0x10, connect))
        assert sock.recv(4) == b"\x20\x02\x00\x00"  # CONNACK accepted
        acks = []
        for first in (0x32, 0x3A):  # QoS 1, then QoS 1 + DUP
            sock.sendall(packet(first, text_field(topic) + struct.pack(">H", packet_id) + payload))
            ack = sock.recv(4)
            assert ack, "no PUBACK: the front end closed the connection"
            acks.append(ack)
        return acks


def test_a_device_resending_its_publish_is_kept_once_by_the_stream(platform, stream):
    world = build_world(platform)
    front = DeviceFrontEnd(platform, None, stream_urls=stream.urls).start_in_thread()
    try:
        payload = json.dumps({"current_a": 21.5}).encode()  # no device time: stamped on receipt
        acks = _mqtt311_publish_dup(front.port, world.device_tokens["loom-01"], 7, "v1/devices/me/telemetry", payload)
        assert acks == [b"\x40\x02\x00\x07", b"\x40\x02\x00\x07"]  # both PUBACKed
        assert _stream_info(stream).state.messages == 1  # Nats-Msg-Id: the copy was dropped
    finally:
        front.stop()
    workers = _Workers(platform, stream, 1)
    try:
        wait_for(lambda: _reading_count(platform, "loom-01") == 1, what="the reading stored")
    finally:
        workers.close()
    assert _reading_count(platform, "loom-01") == 1


def _publish_raw(cluster: NatsCluster, messages: list[tuple[str, bytes, str]]) -> None:
    """Straight onto the stream, as the front end does: (topic, payload, Nats-Msg-Id)."""

    async def publish(nc):
        js = nc.jetstream()
        for topic, payload, msg_id in messages:
            await js.publish(
                jetstream.SUBJECT,
                payload,
                headers={
                    jetstream.TOPIC_HEADER: topic,
                    jetstream.RECEIVED_HEADER: str(T0_MS),
                    jetstream.DEDUPE_HEADER: msg_id,
                },
            )

    _run(publish, cluster)


def test_a_message_delivered_again_is_stored_once(platform, stream):
    """Past the duplicate window (another id) the stream keeps both copies: storage keeps one, with or
    without device time (a message without is stamped with the front end's receive time)."""
    build_world(platform)
    with_time = json.dumps({"ts": T0_MS - 5000, "values": {"current_a": 3.0, "battery_pct": 50.0}}).encode()
    without_time = json.dumps({"current_a": 4.0}).encode()
    _publish_raw(
        stream,
        [
            ("v1/devices/loom-01/telemetry", with_time, "a1"),
            ("v1/devices/loom-01/telemetry", with_time, "a2"),
            ("v1/devices/loom-02/telemetry", without_time, "b1"),
            ("v1/devices/loom-02/telemetry", without_time, "b2"),
        ],
    )
    assert _stream_info(stream).state.messages == 4
    workers = _Workers(platform, stream, 1)
    try:
        wait_for(lambda: _stream_info(stream).state.messages == 0, what="all four acknowledged")
    finally:
        workers.close()
    assert (_reading_count(platform, "loom-01"), _reading_count(platform, "loom-02")) == (2, 1)


class _DatabaseLock:
    """Holds the readings table locked so that a worker's batch waits mid-transaction (not acked)."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite"):
            self.conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=5)
            self.conn.execute("BEGIN EXCLUSIVE")
            self.release = lambda: (self.conn.execute("ROLLBACK"), self.conn.close())
        else:
            self.engine = create_engine(url)
            self.conn = self.engine.connect()
            self.transaction = self.conn.begin()
            self.conn.execute(text("LOCK TABLE readings IN ACCESS EXCLUSIVE MODE"))
            self.release = self._release_postgres

    def _release_postgres(self) -> None:
        self.transaction.rollback()
        self.conn.close()
        self.engine.dispose()


def test_a_worker_killed_mid_batch_leaves_its_messages_to_another_and_they_are_stored_once(platform, stream):
    build_world(platform)
    _publish_raw(stream, [("v1/devices/loom-01/telemetry", _message(i).encode(), f"m{i}") for i in range(30)])
    lock = _DatabaseLock(platform.settings.database_url)
    env = dict(os.environ, WUXIN_DATABASE_URL=platform.settings.database_url, WUXIN_ENVIRONMENT="test")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wuxin.cli.main",
            "ingest",
            "stream-worker",
            "--nats",
            stream.urls_arg,
            "--batch-max",
            "100",
            "--name",
            "doomed-worker",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(
            lambda: _consumer_info(stream).num_ack_pending == 30,
            timeout_s=60,
            what="the doomed worker holding the batch",
        )
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
        lock.release()
    assert _reading_count(platform, "loom-01") == 0  # nothing of the killed worker's batch committed
    workers = _Workers(platform, stream, 1)
    try:
        wait_for(
            lambda: _stream_info(stream).state.messages == 0,
            timeout_s=30,
            what="the batch redelivered after the ack wait and acknowledged",
        )
    finally:
        workers.close()
    assert _reading_count(platform, "loom-01") == 90
    assert workers.workers[0].stats.messages_stored == 30


def test_a_publish_the_stream_does_not_acknowledge_gets_no_puback(platform, tmp_path, monkeypatch):
    """The only node is gone: the front end retries until its deadline, then closes the connection without a
    PUBACK, so that the device keeps the message and re-sends it after reconnecting."""
    from wuxin.ingest.stream import publisher

    monkeypatch.setattr(publisher, "PUBLISH_DEADLINE_S", 1.0)
    world = build_world(platform)
    cluster = NatsCluster(tmp_path / "nats", size=1).start()
    front = DeviceFrontEnd(platform, None, stream_urls=cluster.urls).start_in_thread()
    try:
        cluster.kill_node(cluster.nodes[0])
        with pytest.raises(AssertionError, match="no PUBACK"):
            _mqtt311_publish_dup(front.port, world.device_tokens["loom-01"], 3, "v1/devices/me/telemetry", b'{"a":1}')
    finally:
        front.stop()
        cluster.stop()


def test_a_client_without_the_stream_credentials_is_refused(stream):
    """The workers trust the device key a message carries: only the front ends, which authenticated the device, may
    publish to the stream. A client without the nodes' credentials is refused at CONNECT, before any publish."""
    import nats

    async def publish_without_credentials():
        bare = [f"nats://{node.host}:{node.client_port}" for node in stream.nodes]
        nc = await nats.connect(bare, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2)
        await nc.publish(jetstream.SUBJECT, b"{}")

    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        asyncio.run(publish_without_credentials())
    assert "***" in jetstream.shown_servers(stream.urls) and stream.password not in jetstream.shown_servers(stream.urls)


def test_a_damaged_message_on_the_stream_blocks_nothing(platform, stream):
    """A message whose receive-time header is not a number once stopped every worker for good (each restarted
    worker was handed it again). Now its header is dropped, the message is judged like any other, and the good
    message behind it is stored."""
    build_world(platform)
    good = json.dumps({"ts": T0_MS - 5000, "values": {"current_a": 3.0}}).encode()

    async def publish(nc):
        js = nc.jetstream()
        for topic, payload, received in (
            ("v1/devices/loom-02/telemetry", b'{"current_a": 4.0}', "abc"),
            ("v1/devices/loom-01/telemetry", good, str(T0_MS)),
        ):
            await js.publish(
                jetstream.SUBJECT,
                payload,
                headers={jetstream.TOPIC_HEADER: topic, jetstream.RECEIVED_HEADER: received},
            )

    _run(publish, stream)
    workers = _Workers(platform, stream, 1)
    try:
        wait_for(lambda: _stream_info(stream).state.messages == 0, what="both messages acknowledged")
        assert all(t.is_alive() for t in workers.threads)
    finally:
        workers.close()
    assert _reading_count(platform, "loom-01") == 1
