"""Nothing lost, nothing twice: devices publish while two worker processes consume through a broker,
a worker is SIGKILLed and restarted, the broker is restarted, and PostgreSQL is cut off for seconds.

Bounded and loopback only. WUXIN_MQTT_FAILURE_MESSAGES sets the message count (default 200,000;
one point per message); `wuxin bench mqtt` measures speed, this test only correctness.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
import pytest

from tests.conftest import _truncate_postgres
from tests.integration.mqtt_env import WORKER_PASSWORD, WORKER_USER, start_broker, wait_for
from tests.integration.tcp_cut_proxy import CutProxy
from wuxin.bootstrap import build_platform
from wuxin.config import Settings
from wuxin.ingest.mqtt.broker import provision_device
from wuxin.services.devices import registry
from wuxin.sim.spec import make_uscc

MESSAGES = int(os.environ.get("WUXIN_MQTT_FAILURE_MESSAGES", "200000"))
DEVICES = 10
PUBLISH_RATE = 12_000  # messages/s, so the faults happen while devices are still publishing
BASE_TS = 1_700_000_000_000
DEADLINE_S = 170

pytestmark = pytest.mark.postgres


def _worker(url: str, db_url: str, client_id: str, log_path) -> subprocess.Popen:
    env = dict(os.environ, WUXIN_DATABASE_URL=db_url, WUXIN_ENVIRONMENT="test")
    args = [
        sys.executable,
        "-m",
        "wuxin.cli.main",
        "ingest",
        "mqtt",
        "--url",
        url,
        "--client-id",
        client_id,
        "--sweep-interval-s",
        "0",
        "--reconcile-interval-s",
        "0",
        "--batch-max",
        "1000",
    ]
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=open(log_path, "ab"))


def _count_text(path, text: str) -> int:
    return path.read_text(errors="replace").count(text) if path.exists() else 0


def _log_has(path, text: str) -> bool:
    return path.exists() and text in path.read_text(errors="replace")


class Publishers:
    """One persistent-session QoS 1 client per device, paced; counts the broker's PUBACKs."""

    def __init__(self, port: int, tokens: dict[str, str]):
        self.acked = 0
        self.published = 0
        self.running = threading.Event()
        self.running.set()
        self.idle = threading.Event()  # set by the feeder between rounds while paused, and when done
        self._lock = threading.Lock()
        self.clients = {}
        for key, token in tokens.items():
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pub-{key}", clean_session=False)
            client.username_pw_set(key, token)
            client.max_inflight_messages_set(200)
            client.max_queued_messages_set(0)
            client.reconnect_delay_set(0.05, 1)
            client.on_publish = self._on_publish
            client.connect("127.0.0.1", port)
            client.loop_start()
            self.clients[key] = client

    def _on_publish(self, *_args) -> None:
        with self._lock:
            self.acked += 1

    def run(self, per_device: int) -> None:
        started = time.monotonic()
        for i in range(per_device):
            if not self.running.is_set():
                self.idle.set()
                self.running.wait()
                self.idle.clear()
            for key, client in self.clients.items():
                payload = b'{"ts":%d,"values":{"current_a":%d.5}}' % (BASE_TS + i, i % 1000)
                client.publish(f"v1/devices/{key}/telemetry", payload, qos=1)
            self.published += len(self.clients)
            ahead_s = self.published / PUBLISH_RATE - (time.monotonic() - started)
            if ahead_s > 0.01:
                time.sleep(ahead_s)
        self.idle.set()

    def pause(self) -> None:
        """Stop between two rounds: no publish of a round may still be on its way after this returns."""
        self.running.clear()
        wait_for(self.idle.is_set, 30, "the devices paused")

    def close(self) -> None:
        for client in self.clients.values():
            client.disconnect()
            client.loop_stop()


def test_no_loss_no_duplicates_through_worker_kill_broker_restart_and_database_cut(pg_database, tmp_path):
    platform = build_platform(Settings(database_url=pg_database, environment="test"))
    _truncate_postgres(platform)
    registry.sync_builtin_thing_models(platform)
    enterprise = registry.create_enterprise(
        platform, None, "无锡织造有限公司", make_uscc(random.Random(9)), "manufacturing", "江苏省无锡市"
    )
    tokens = {}
    for n in range(DEVICES):
        key = f"loom-{n:02d}"
        _, tokens[key] = registry.register_device(
            platform, None, enterprise, key, "manufacturing.current_bracelet", "bank_installed"
        )
    broker, admin = start_broker(tmp_path / "broker", autosave_interval_s=3600)
    for key, token in tokens.items():
        provision_device(admin, key, "manufacturing.current_bracelet", token)
    admin.close()
    pg = urlparse(pg_database)
    proxy = CutProxy(pg.hostname, pg.port or 5432)
    proxied_url = f"postgresql://127.0.0.1:{proxy.port}{pg.path}"
    worker_url = broker.url(WORKER_USER, WORKER_PASSWORD)
    logs = {n: tmp_path / f"worker-{n}.log" for n in (1, 2)}
    workers = {n: _worker(worker_url, proxied_url, f"w-{n}", logs[n]) for n in (1, 2)}
    publishers = None
    per_device = MESSAGES // DEVICES
    total = per_device * DEVICES
    try:
        wait_for(lambda: all(_log_has(logs[n], "subscribed") for n in (1, 2)), 30, "both workers subscribed")
        publishers = Publishers(broker.port, tokens)
        feeder = threading.Thread(target=publishers.run, args=(per_device,))
        feeder.start()
        stored = lambda: _count(platform)  # noqa: E731

        wait_for(lambda: publishers.published >= total * 0.2, 60, "20% published")
        workers[1].send_signal(signal.SIGKILL)
        workers[1].wait()
        workers[1] = _worker(worker_url, proxied_url, "w-1", logs[1])

        wait_for(lambda: publishers.published >= total * 0.45, 60, "45% published")
        # Mosquitto 2.0.11 (Debian 12) restores persistent sessions but not their $share subscriptions
        # after a restart (checked with mosquitto_sub -c: a plain subscription gets the message published
        # after the restart, a shared one does not), so a message published before the workers have
        # re-subscribed has no subscriber and is dropped. Devices therefore pause over the restart here;
        # docs/design.md says what this means in production.
        publishers.pause()  # a publish racing the restart would reach no subscriber (the limit above)
        wait_for(lambda: publishers.acked >= publishers.published, 60, "in-flight publishes acknowledged")
        subscribed_before = {n: _count_text(logs[n], "subscribed") for n in (1, 2)}
        broker.restart()
        wait_for(
            lambda: all(_count_text(logs[n], "subscribed") > subscribed_before[n] for n in (1, 2)),
            60,
            "both workers re-subscribed after the broker restart",
        )
        publishers.running.set()

        wait_for(lambda: publishers.published >= total * 0.7, 60, "70% published")
        proxy.cut()
        time.sleep(3)  # PostgreSQL unreachable for the workers for 3 s
        proxy.restore()

        feeder.join(timeout=DEADLINE_S)
        wait_for(lambda: publishers.acked >= total, 60, "every publish acknowledged by the broker")
        wait_for(lambda: stored() >= total, DEADLINE_S, lambda: f"{total} points stored (have {stored()})")
        time.sleep(0.5)  # redeliveries still in flight must not add anything
        assert stored() == total
        with platform.engine.connect() as conn:
            per_device_rows = conn.exec_driver_sql(
                "SELECT count(*), count(DISTINCT ts_ms), min(ts_ms), max(ts_ms) FROM readings GROUP BY device_id"
            ).fetchall()
            quarantined = conn.exec_driver_sql("SELECT count(*) FROM quarantine").scalar()
        assert sorted(per_device_rows) == [(per_device, per_device, BASE_TS, BASE_TS + per_device - 1)] * DEVICES
        assert quarantined == 0
        assert any(_log_has(logs[n], "not stored") for n in (1, 2)), "no worker saw the database cut"
    finally:
        if publishers:
            publishers.close()
        for process in workers.values():
            process.terminate()
        for process in workers.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        proxy.close()
        broker.stop()
        platform.close()


def _count(platform) -> int:
    with platform.engine.connect() as conn:
        return conn.exec_driver_sql("SELECT count(*) FROM readings").scalar()
