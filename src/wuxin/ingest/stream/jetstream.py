"""The replicated ingestion stream on NATS JetStream: its names, its set-up, and how a message is put on it.

The front end publishes every accepted device message to the subject `wuxin.ingest.mqtt` of the stream
`WUXIN_INGEST` (file storage, R3 on a cluster of three or more nodes) and PUBACKs the device only after the
stream's PubAck, i.e. after a quorum of nodes wrote it. The device's internal topic (`topics.py`) and the
front end's receive time travel as headers; `Nats-Msg-Id` (device, packet id, topic, payload) lets the
stream drop the copy a device re-sends (DUP) when its PUBACK was lost, within the duplicate window.
Workers share the durable pull consumer `wuxin-workers` (explicit ack after the commit). Alink `_reply`
answers go back on core NATS `wuxin.replies` (at most once, as on the broker before).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

STREAM = "WUXIN_INGEST"
SUBJECT = "wuxin.ingest.mqtt"
CONSUMER = "wuxin-workers"
REPLIES = "wuxin.replies"
TOPIC_HEADER = "Wuxin-Topic"
RECEIVED_HEADER = "Wuxin-Received-Ms"
DEDUPE_HEADER = "Nats-Msg-Id"


@dataclass(frozen=True)
class StreamPolicy:
    """How the stream and its consumer are made (`wuxin ingest stream-setup`)."""

    replicas: int = 0  # 0: 3 when the cluster has three or more nodes, else 1
    ack_wait_s: float = 30.0  # a message a worker took and did not ack is given to another after this
    duplicate_window_s: float = 120.0  # a device's re-sent publish within this is dropped by the stream
    max_ack_pending: int = 50_000  # messages out at workers, all workers together
    max_age_s: float = 7 * 86400.0  # kept at most this long when no worker reads (a week of outage)


def parse_urls(urls: str | list[str]) -> list[str]:
    """ "nats://a:4222,nats://b:4222" -> a list; a bare host:port gets nats://; none is an error naming the value."""
    items = urls if isinstance(urls, list) else urls.split(",")
    servers = [u.strip() if "://" in u else f"nats://{u.strip()}" for u in items if u and u.strip()]
    if not servers:
        raise ValueError(f"NATS URLs {shown_servers(items)!r}: give nats://host:4222[,nats://host2:4222...]")
    return servers


def shown_servers(servers: list[str]) -> str:
    """The servers for a message or a log line: a password in a URL shows as ***."""
    return ",".join(re.sub(r"//([^:/@]+):[^@/]*@", r"//\1:***@", url) for url in servers)


def dedupe_id(device_key: str, packet_id: int | None, topic: str, payload: bytes) -> str:
    """The same publish re-sent by the device (same packet id, topic and bytes) gets the same id."""
    digest = hashlib.sha256(f"{device_key}\0{packet_id}\0{topic}\0".encode() + payload).hexdigest()
    return digest[:40]


async def connect(servers: list[str], name: str, **options):
    """A NATS connection that keeps reconnecting (to any node of the cluster) rather than giving up."""
    import nats

    async def error(exc: Exception) -> None:  # one line, not nats-py's traceback per failed reconnect
        log.warning("NATS connection %s: %s %s", name, type(exc).__name__, exc)

    defaults = dict(
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=5,
        allow_reconnect=True,
        error_cb=error,
    )
    return await nats.connect(servers=servers, **{**defaults, **options})


def cluster_size(nc, servers: list[str]) -> int:
    """Nodes known to the client: those given plus those the server announced (its cluster's connect_urls)."""
    known = {_host_port(s) for s in servers}
    known |= {_host_port(u) for u in getattr(nc, "discovered_servers", []) or []}
    known |= {_host_port(str(u)) for u in (nc._server_info or {}).get("connect_urls", []) or []}
    return len(known)


def _host_port(url) -> str:
    """host:port of a server URL (a string with or without scheme and credentials, or a parsed URL)."""
    parsed = url if hasattr(url, "hostname") else urlsplit(url if "://" in url else f"nats://{url}")
    return f"{parsed.hostname}:{parsed.port or 4222}"


async def ensure_stream(nc, servers: list[str], policy: StreamPolicy = StreamPolicy()) -> tuple[int, int]:
    """Create the stream and the workers' consumer when missing (an existing one is left as it is);
    returns (replicas, messages waiting)."""
    from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, RetentionPolicy, StorageType, StreamConfig
    from nats.js.errors import NotFoundError

    js = nc.jetstream(timeout=10)
    replicas = policy.replicas or (3 if cluster_size(nc, servers) >= 3 else 1)
    try:
        info = await js.stream_info(STREAM)
    except NotFoundError:
        info = await js.add_stream(
            StreamConfig(
                name=STREAM,
                subjects=[SUBJECT],
                storage=StorageType.FILE,
                num_replicas=replicas,
                retention=RetentionPolicy.WORK_QUEUE,
                duplicate_window=policy.duplicate_window_s,
                max_age=policy.max_age_s,
            )
        )
    try:
        await js.consumer_info(STREAM, CONSUMER)
    except NotFoundError:
        await js.add_consumer(
            STREAM,
            ConsumerConfig(
                durable_name=CONSUMER,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=policy.ack_wait_s,
                max_deliver=-1,
                max_ack_pending=policy.max_ack_pending,
                max_waiting=512,
                num_replicas=0,
            ),
        )
    return info.config.num_replicas, info.state.messages
