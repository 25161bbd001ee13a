"""The stream worker: takes batches from the durable pull consumer, stores them, acks after the commit.

Workers compete on one durable consumer (`jetstream.CONSUMER`): start or stop any number, on any host;
nothing is lost when none runs (the stream keeps the messages). A message is acknowledged only after
the transaction holding its points committed; a worker killed before that leaves its messages
unacknowledged and the stream gives them to another worker after the ack wait. Delivery is therefore
at least once, and storage exactly once: readings are inserted ignoring duplicates on
(device, key, device time), and a message without device time is stamped with the front end's receive
time (a header), not the worker's, so a redelivered copy writes the same rows. While the database is
away the worker retries the same batch with backoff and tells the stream it is still working on it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
from collections.abc import Callable

from wuxin.bootstrap import Platform
from wuxin.ingest.mqtt.worker import WorkerStats, _no_cycle_collection, backoff_s
from wuxin.ingest.stream import jetstream
from wuxin.services.ingest.mqtt import BatchOutcome, Inbound, store_mqtt_batch

log = logging.getLogger(__name__)
FETCH_WAIT_S = 1.0


def inbound_of(message) -> Inbound:
    """A stream message -> the MQTT use case's input (topic and receive time from the headers)."""
    headers = message.headers or {}
    received = headers.get(jetstream.RECEIVED_HEADER) or ""
    # a header that is not a time (a forged or damaged message) is dropped, never a reason to stop: the payload still
    # goes through the use case, which stores or quarantines it like any other
    received_ms = int(received) if received.isdigit() and len(received) <= 15 else None
    return Inbound(headers.get(jetstream.TOPIC_HEADER, ""), message.data or b"", received_ms)


class StreamWorker:
    """Consume the ingestion stream into the database until `stop` is set."""

    def __init__(
        self,
        platform: Platform,
        servers: list[str],
        name: str = "wuxin-stream-worker",
        *,
        batch_max: int = 1000,
        policy: jetstream.StreamPolicy = jetstream.StreamPolicy(),
        store: Callable[[Platform, list[Inbound]], BatchOutcome] = store_mqtt_batch,
    ) -> None:
        self.platform, self.servers, self.name = platform, servers, name
        self.batch_max, self.policy, self.store = batch_max, policy, store
        self.stats = WorkerStats()
        self.ready = threading.Event()  # subscribed to the consumer

    def run(self, stop: threading.Event) -> WorkerStats:
        gc.collect()
        gc.freeze()
        asyncio.run(self._run(stop))
        return self.stats

    async def _run(self, stop: threading.Event) -> None:
        nc = await jetstream.connect(self.servers, self.name)
        try:
            await jetstream.ensure_stream(nc, self.servers, self.policy)
            js = nc.jetstream(timeout=10)
            subscription = await js.pull_subscribe_bind(jetstream.CONSUMER, jetstream.STREAM)
            self.ready.set()
            log.info(
                "stream worker %s consuming %s/%s (start-up CPU %.3f s)",
                self.name,
                jetstream.STREAM,
                jetstream.CONSUMER,
                time.process_time(),
            )
            while not stop.is_set():
                batch = await self._fetch(subscription)
                if batch and await self._store_until_done(nc, batch, stop):
                    await self._acknowledge(batch)
        finally:
            await nc.close()  # acks are sent already; unacked messages go to the others after the ack wait

    async def _fetch(self, subscription) -> list:
        import nats.errors

        try:
            return await subscription.fetch(self.batch_max, timeout=FETCH_WAIT_S)
        except (TimeoutError, nats.errors.TimeoutError):  # nothing waiting
            return []
        except nats.errors.Error as exc:  # the node it asked went away: the client reconnects to another
            log.warning("stream worker %s: fetch failed: %s", self.name, exc)
            await asyncio.sleep(0.2)
            return []

    async def _store_until_done(self, nc, batch: list, stop: threading.Event) -> bool:
        """Commit the batch, retrying with backoff; False only when stopped before it committed."""
        inbound = [inbound_of(m) for m in batch]
        attempt = 0
        while True:
            try:
                outcome = await asyncio.to_thread(self._store, inbound)
                break
            except Exception as exc:  # database down or connection cut: keep the batch, retry
                self.stats.failed_attempts += 1
                self.stats.last_error = f"{type(exc).__name__}: {exc}"[:300]
                log.warning(
                    "stream worker %s: batch of %d not stored (attempt %d): %s",
                    self.name,
                    len(batch),
                    attempt + 1,
                    self.stats.last_error,
                )
                await self._still_working(batch)
                deadline = time.monotonic() + backoff_s(attempt)
                while time.monotonic() < deadline:
                    if stop.is_set():
                        return False  # not acked: the stream gives them to another worker
                    await asyncio.sleep(0.05)
                attempt += 1
        for topic, payload in outcome.replies:
            await nc.publish(jetstream.REPLIES, payload, headers={jetstream.TOPIC_HEADER: topic})
        self.stats.messages_stored += len(batch)
        self.stats.batches += 1
        return True

    def _store(self, inbound: list[Inbound]) -> BatchOutcome:
        with _no_cycle_collection():
            return self.store(self.platform, inbound)

    @staticmethod
    async def _still_working(batch: list) -> None:
        """Push the ack wait out while the batch waits for the database (no redelivery meanwhile)."""
        for message in batch:
            try:
                await message.in_progress()
            except Exception:  # the connection is away too: redelivery later is harmless
                return

    async def _acknowledge(self, batch: list) -> None:
        for message in batch:
            await message.ack()
