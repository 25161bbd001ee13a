"""The MQTT ingestion worker: shared subscription, batches, acknowledge only after commit.

A message is acknowledged (PUBACK) only after the transaction holding its points committed;
while the database is unreachable the worker stops acknowledging and retries the same batch
with backoff, so the broker keeps (and after a crash redelivers) everything unacknowledged.
Redelivery is harmless: readings are idempotent on (device, key, device time). A message the
database refuses on its data does not hold the batch: the store quarantines it (store_failed) and
commits the others, so only a database that is away makes the worker retry.
Several workers share the load through `$share/{group}/...`; each keeps a persistent session
(clean_session False, a fixed client id) so a restarted worker gets back its in-flight messages.
"""

from __future__ import annotations

import gc
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import paho.mqtt.client as mqtt

from wuxin.bootstrap import Platform
from wuxin.ingest.mqtt import topics
from wuxin.ingest.mqtt.broker import parse_mqtt_url
from wuxin.ingest.mqtt.client import BulkClient
from wuxin.services.ingest.mqtt import BatchOutcome, Inbound, store_mqtt_batch

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 5.0


@dataclass
class WorkerStats:
    messages_stored: int = 0
    batches: int = 0
    failed_attempts: int = 0
    last_error: str | None = None
    started_at: float = field(default_factory=time.monotonic)


class _Received(NamedTuple):  # a tuple: tens of thousands a second pass through here
    generation: int  # which connection it came on: a mid means nothing on another connection
    mid: int
    qos: int
    topic: str
    payload: bytes


class _no_cycle_collection:
    """A batch allocates some twenty objects a message that live until it is stored; the cyclic
    collector walking them again and again took a third of the store's time. Reference counting
    frees them when the batch ends; the collector runs again between batches."""

    def __enter__(self) -> None:
        gc.disable()

    def __exit__(self, *_exc) -> None:
        gc.enable()


def backoff_s(attempt: int) -> float:
    """0.1 s, 0.2 s, 0.4 s ... capped at 5 s."""
    return min(MAX_BACKOFF_S, 0.1 * 2 ** min(attempt, 10))


class MqttWorker:
    """Consume device topics from the broker into the database until `stop` is set."""

    def __init__(
        self,
        platform: Platform,
        url: str,
        client_id: str,
        *,
        share_group: str = "wuxin",
        batch_max: int = 2000,
        batch_wait_s: float = 0.02,
        store: Callable[[Platform, list[Inbound]], BatchOutcome] = store_mqtt_batch,
    ) -> None:
        self.platform, self.url, self.client_id = platform, url, client_id
        self.share_group, self.batch_max, self.batch_wait_s = share_group, batch_max, batch_wait_s
        self.store = store
        self.stats = WorkerStats()
        self._inbox: queue.SimpleQueue[_Received] = queue.SimpleQueue()
        self._generation = 0
        self.subscribed = threading.Event()
        self.client = self._client()

    def _client(self) -> BulkClient:
        target = parse_mqtt_url(self.url)
        client = BulkClient(
            mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=False, protocol=mqtt.MQTTv311
        )
        if target.username:
            client.username_pw_set(target.username, target.password)
        client.manual_ack_set(True)
        client.reconnect_delay_set(0.1, 2)  # type: ignore[arg-type]  # paho annotates int, sleeps any float: 0.1 s
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_publish_raw = self._on_publish
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = lambda _c, _u, _f, reason, _p: log.warning(
            "MQTT worker %s disconnected: %s", self.client_id, reason
        )
        return client

    def _on_connect(self, client, _userdata, _flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            log.error("MQTT worker %s refused by the broker: %s", self.client_id, reason_code)
            return
        self._generation += 1
        client.subscribe([(f"$share/{self.share_group}/{f}", 1) for f in topics.worker_filters()])
        log.info("MQTT worker %s connected (connection %d)", self.client_id, self._generation)

    def _on_subscribe(self, _client, _userdata, _mid, reason_codes, _properties) -> None:
        refused = [f for f, r in zip(topics.worker_filters(), reason_codes) if r.is_failure]
        if refused:  # not ready: what the front end forwarded on these would reach nobody
            log.error(
                "MQTT worker %s: the broker refused its subscription to %s under $share/%s (the account's ACL)",
                self.client_id,
                refused,
                self.share_group,
            )
            return
        log.info("MQTT worker %s subscribed: %s", self.client_id, [str(r) for r in reason_codes])
        self.subscribed.set()

    def _on_publish(self, topic: str, mid: int, qos: int, payload: bytes) -> None:
        self._inbox.put(_Received(self._generation, mid, qos, topic, payload))

    # ---- the loop

    def run(self, stop: threading.Event) -> WorkerStats:
        """Connect, then store batches until stop; returns the counters."""
        target = parse_mqtt_url(self.url)
        gc.collect()  # start-up's garbage goes now; what lives on lives as long as the worker:
        gc.freeze()  # no collector passes over it again
        self.client.connect_async(target.host, target.port, keepalive=30)
        self.client.loop_start()
        try:
            while not stop.is_set():
                batch = self._collect(stop)
                if batch and self._store_until_done(batch, stop):
                    self._acknowledge(batch)
        finally:
            self.client.disconnect()
            self.client.loop_stop()
        return self.stats

    def _collect(self, stop: threading.Event) -> list[_Received]:
        """The next batch: wait for one message, then take what arrives within batch_wait_s."""
        try:
            batch = [self._inbox.get(timeout=0.2)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.batch_wait_s
        while len(batch) < self.batch_max and not stop.is_set():
            try:
                batch.append(self._inbox.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
        return batch

    def _store_until_done(self, batch: list[_Received], stop: threading.Event) -> bool:
        """Commit the batch, retrying with backoff; False only when stopped before it committed."""
        attempt = 0
        inbound = [Inbound(m.topic, m.payload) for m in batch]
        while True:
            try:
                with _no_cycle_collection():
                    outcome = self.store(self.platform, inbound)
                break
            except Exception as exc:  # database down, connection cut: keep the batch, retry
                self.stats.failed_attempts += 1
                self.stats.last_error = f"{type(exc).__name__}: {exc}"[:300]
                log.warning(
                    "MQTT worker %s: batch of %d not stored (attempt %d): %s",
                    self.client_id,
                    len(batch),
                    attempt + 1,
                    self.stats.last_error,
                )
                if stop.wait(backoff_s(attempt)):
                    return False
                attempt += 1
        for topic, payload in outcome.replies:
            self.client.publish(topic, payload, qos=0)
        self.stats.messages_stored += len(batch)
        self.stats.batches += 1
        return True

    def _acknowledge(self, batch: list[_Received]) -> None:
        """PUBACK in arrival order; messages of an older connection are redelivered and acked then.
        The worker subscribes at QoS 1, so the broker sends nothing at QoS 2."""
        self.client.ack_many([m.mid for m in batch if m.generation == self._generation and m.qos == 1])
