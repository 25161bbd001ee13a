"""The front end's side of the stream: publish a device's message and return only once the stream has it."""

from __future__ import annotations

import asyncio
import logging
import time

from wuxin.ingest.mqtt.broker import BrokerError
from wuxin.ingest.stream import jetstream

log = logging.getLogger(__name__)
PUBLISH_DEADLINE_S = 15.0  # a leader election after a node loss takes a few seconds; past this the device retries


class StreamBackend:
    """Same role as the front end's MQTT backend: `forward` resolves on the stream's PubAck; Alink
    replies from the workers come back through `on_reply(topic, payload)`."""

    def __init__(self, nc, clock_ms) -> None:
        self.nc, self.clock_ms = nc, clock_ms
        self.js = nc.jetstream(timeout=5)

    @classmethod
    async def open(
        cls,
        servers: list[str],
        name: str,
        on_reply,
        clock_ms,
        policy: jetstream.StreamPolicy = jetstream.StreamPolicy(),
    ) -> StreamBackend:
        try:
            nc = await jetstream.connect(servers, name)
        except Exception as exc:
            raise BrokerError(
                f"the front end could not reach NATS at {jetstream.shown_servers(servers)}: {exc}"
            ) from exc
        await jetstream.ensure_stream(nc, servers, policy)

        async def reply(message) -> None:
            topic = (message.headers or {}).get(jetstream.TOPIC_HEADER)
            if topic:
                on_reply(topic, message.data)

        await nc.subscribe(jetstream.REPLIES, cb=reply)
        return cls(nc, clock_ms)

    async def forward(self, topic: str, payload: bytes, dedupe_id: str | None = None):
        """Put the message on the stream; returns its PubAck, raises BrokerError when no quorum took it in time."""
        import nats.errors

        headers = {jetstream.TOPIC_HEADER: topic, jetstream.RECEIVED_HEADER: str(self.clock_ms())}
        if dedupe_id:
            headers[jetstream.DEDUPE_HEADER] = dedupe_id
        deadline = time.monotonic() + PUBLISH_DEADLINE_S
        attempt = 0
        while True:
            try:  # the same Nats-Msg-Id on every attempt: a retry after a lost PubAck is not stored twice
                return await self.js.publish(jetstream.SUBJECT, payload, headers=headers)
            except (TimeoutError, nats.errors.Error) as exc:
                if time.monotonic() >= deadline:
                    raise BrokerError(f"the stream did not acknowledge {topic}: {type(exc).__name__} {exc}") from exc
                attempt += 1
                log.info("front end: publish of %s not acknowledged yet (%s); retrying", topic, exc)
                await asyncio.sleep(min(1.0, 0.1 * attempt))

    async def aclose(self) -> None:
        await self.nc.drain()
