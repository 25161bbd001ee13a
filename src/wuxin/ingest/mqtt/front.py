"""The devices' MQTT front end: the vendors' SDKs connect here unchanged; it forwards to the durable queue.

ThingsBoard's SDK publishes on `v1/devices/me/...` and Alibaba's LinkKit signs its connection with an
HMAC of a timestamp: neither can be told apart on a shared broker topic, nor checked by a broker's
password file. So devices speak to this front end, which asks the platform who they are
(`services.ingest.device_sdk`: token hash, Alink signature), lets each publish only on its own vendor
topics, and forwards to the broker the workers consume (Mosquitto now, RabbitMQ/NATS with the
scale-out) on the internal topics that carry the device key (`topics.py`). A device's QoS 1 publish
is acknowledged only after the broker acknowledged the forwarded copy. Attribute requests and the
device's own RPC calls are answered here from the database; Alink `_reply` answers come back from
the workers through the broker. Refusals are visible: a bad credential gets CONNACK "not
authorized" / "bad user name or password"; a publish on a topic that is not the device's closes the
connection (MQTT 5: DISCONNECT 0x87 first); a ThingsBoard publish with a value the thing model
refuses is forwarded (good points are kept, bad ones quarantined with their reason) and answered
PUBACK 0x99 "payload format invalid" (MQTT 5). Device accounts live in the platform, not the
broker: nothing about them is ever refreshed at the broker, so no connection is dropped by it; a
revoked or rotated credential (ThingsBoard token, Alink DeviceSecret) closes the connections made
with it at the next check (`check_credentials`, every `mqtt_front_credential_check_s`). A client with the username
`provision` is ThingsBoard's device provisioning: it has no credential yet, is no device, may only send one request
on /provision/request and receive the answer on /provision/response (`services.devices.provision_profiles`).

Connection lifecycle: a device's first connection records it online, its last one closing records it
offline (`services.devices.connectivity`, shown in the device list). A device holds at most
`mqtt_front_max_sessions` connections (a new CONNECT with the client id of a live one takes it over, as
MQTT requires); a source address whose CONNECTs failed `mqtt_front_failed_connects_per_minute` times
is answered "server unavailable" without any lookup until its minute is over. MQTTS is a second
listener on `mqtt_front_tls_port` with the PEM certificate chain and key of the settings; the plain
one can be left out (`mqtt_front_tls_only`). Every accepted socket counts against
`mqtt_front_max_connections_per_address` and `mqtt_front_max_connections` before anything is read
(past them it is closed unread), and must finish its TLS handshake and CONNECT within
`mqtt_front_connect_timeout_s`, so a silent socket cannot hold a slot.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import ssl
import threading
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import orjson
import paho.mqtt.client as mqtt

from wuxin.bootstrap import Platform
from wuxin.commands import rpc
from wuxin.domain.thing_model import PointRejected
from wuxin.errors import ConfigError, RateLimited, WuxinError
from wuxin.ingest.mqtt import codec, topics
from wuxin.ingest.mqtt.broker import BrokerError, connect_client
from wuxin.ingest.parse import PayloadError, loads, strict_loads, thingsboard_lines
from wuxin.ingest.stream.jetstream import dedupe_id
from wuxin.services.access.source_limits import FailureLimiter
from wuxin.services.devices import provision_profiles
from wuxin.services.devices.commands import RpcOutbox
from wuxin.services.devices.connectivity import record_device_presence
from wuxin.services.ingest import device_sdk
from wuxin.services.ingest.device_sdk import ConnectRefused, DeviceIdentity

log = logging.getLogger(__name__)
MAX_SUBSCRIPTIONS = 32  # filters one connection may hold: a device needs a handful; more would only cost memory
SESSION_LIMITS = {"rateLimits": {}, "maxInflightMessages": 100, "maxPayloadSize": codec.MAX_PACKET_BYTES}
TB_ME = "v1/devices/me/"
ALINK_EVENT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # a TSL identifier: it becomes a level of the forwarded topic
PROVISION = "provision"  # ThingsBoard's provisioning username and the dialect of such a connection
PROVISION_REQUEST, PROVISION_RESPONSE = "/provision/request", "/provision/response"
PROVISIONING_CLIENT = "(provisioning)"  # how refusals and logs name such a connection: never a device key
QUOTA_EXCEEDED, SERVER_UNAVAILABLE = 0x97, 0x88  # MQTT 5 CONNACK reasons (3.1.1: 5 and 3)
NO_MATCHING_SUBSCRIBERS = 0x10  # MQTT 5 PUBACK: the broker took the forward, and nobody was subscribed to it
FORWARD_DEADLINE_S = 15.0  # a forward nobody is subscribed to is sent again until then; past it the device re-sends


@dataclass
class Action:
    """What to do with one device publish."""

    kind: str  # forward | attribute_request | rpc_request | accept | gateway_attribute_request | command_reply
    #            | gateway_command_reply | provision_request | refuse
    topic: str = ""  # forward: the internal topic; requests: the topic to answer on; others: none
    reason: str = ""


def inbound_action(identity: DeviceIdentity, topic: str) -> Action:
    """Map a device's vendor topic to what the platform does with it; anything else is refused."""
    key = identity.key
    if identity.dialect == PROVISION:  # a device provisioning itself may only ask to be provisioned
        if topic == PROVISION_REQUEST:
            return Action("provision_request", PROVISION_RESPONSE)
        return Action(
            "refuse", reason=f"{topic!r} is not {PROVISION_REQUEST!r}, the only topic of a provisioning client"
        )
    if identity.dialect == "alink":
        prefix = f"/sys/{identity.product_key}/{identity.device_name}/thing/event/"
        parts = topic[len(prefix) :].split("/") if topic.startswith(prefix) else []
        if len(parts) == 2 and parts[1] == "post" and not ALINK_EVENT.match(parts[0]):
            return Action(
                "refuse",
                reason=f"Alink event identifier {parts[0][:100]!r} is not 1-64 letters, digits, _ or - (a TSL identifier)",
            )
        if len(parts) == 2 and parts[0] and parts[1] == "post":
            return Action("forward", f"/sys/{identity.device_type}/{key}/thing/event/{parts[0]}/post")
        if topic.startswith(f"/sys/{identity.product_key}/{identity.device_name}/thing/service/") and topic.endswith(
            "_reply"
        ):
            return Action("command_reply")  # the device answering a service invocation or a property set
        if topic.startswith(f"/sys/{identity.product_key}/{identity.device_name}/") and topic.endswith("_reply"):
            return Action("accept")
        return Action("refuse", reason=f"{topic!r} is not a topic of Alink device {identity.device_name!r}")
    if topic in (TB_ME + "telemetry", TB_ME + "attributes"):
        return Action("forward", f"v1/devices/{key}/{topic[len(TB_ME) :]}")
    for request, response, kind in (
        ("attributes/request/", "attributes/response/", "attribute_request"),
        ("rpc/request/", "rpc/response/", "rpc_request"),
    ):
        if topic.startswith(TB_ME + request) and topic[len(TB_ME + request) :]:
            return Action(kind, TB_ME + response + topic[len(TB_ME + request) :])
    if topic.startswith(TB_ME + "rpc/response/"):
        return Action("command_reply", reason=topic[len(TB_ME + "rpc/response/") :])  # answering a server-side RPC
    if topic in ("v1/gateway/telemetry", "v1/gateway/attributes", "v1/gateway/connect", "v1/gateway/disconnect"):
        return Action("forward", f"v1/gateway/{key}/{topic.rsplit('/', 1)[1]}")
    if topic == "v1/gateway/attributes/request":
        return Action("gateway_attribute_request", "v1/gateway/attributes/response")
    if topic == "v1/gateway/rpc":
        return Action("gateway_command_reply")
    if topic in ("v1/gateway/claim", TB_ME + "claim"):
        return Action("accept")
    return Action("refuse", reason=f"{topic!r} is not a topic device {key!r} may publish on")


def may_subscribe(identity: DeviceIdentity, topic_filter: str) -> bool:
    """A device subscribes to its own answers only."""
    if identity.dialect == PROVISION:
        return topic_filter == PROVISION_RESPONSE
    if identity.dialect == "alink":
        return topic_filter.startswith(f"/sys/{identity.product_key}/{identity.device_name}/")
    return topic_filter.startswith(TB_ME) or topic_filter.startswith("v1/gateway/") or topic_filter.startswith("v2/fw/")


def refused_values(platform: Platform, identity: DeviceIdentity, topic: str, payload: bytes, now_ms: int) -> list[str]:
    """ThingsBoard telemetry/attributes of a device: the points its thing model refuses (reason: message)."""
    model = platform.thing_models.get(identity.device_type)
    if model is None or identity.dialect != "thingsboard":
        return []
    try:
        body = loads(payload)
        if topic.endswith("/attributes"):
            if not isinstance(body, dict):
                return [f"wrong_shape: attributes are {type(body).__name__}, expected an object"]
            lines = [{"values": device_sdk.split_attributes(model, body)[0]}]
        else:
            lines = thingsboard_lines(identity.key, body, now_ms)
    except PayloadError as exc:
        return [f"{exc.reason}: {exc}"]
    refused = []
    for line in lines:
        values = line.get("values") if isinstance(line, dict) else None
        for key, value in (values or {}).items() if isinstance(values, dict) else ():
            try:
                model.check(key, value)
            except PointRejected as exc:
                refused.append(f"{exc.reason}: {exc}")
    return refused


@dataclass(eq=False)
class _Connection:
    identity: DeviceIdentity
    level: int
    writer: asyncio.StreamWriter
    credential: str  # the token (ThingsBoard) for the revocation check
    client_id: str = ""
    subscriptions: list[str] = field(default_factory=list)
    source: str = ""  # the peer address
    answered: bool = False  # a provisioning connection asks once

    def send(self, data: bytes | None) -> None:
        if data and not self.writer.is_closing():
            self.writer.write(data)

    def deliver(self, topic: str, payload: bytes) -> None:
        if any(codec.topic_matches(f, topic) for f in self.subscriptions):
            self.send(codec.publish(self.level, topic, payload))

    def close(self, reason: int) -> None:
        self.send(codec.disconnect(self.level, reason))
        self.writer.close()


class _Forwarder(Protocol):
    """Where device messages go: the MQTT broker (_Backend) or the NATS stream (stream.publisher.StreamBackend)."""

    def forward(self, topic: str, payload: bytes, dedupe_id: str | None = None, /) -> Awaitable[Any]: ...

    async def aclose(self) -> None: ...


def _resolve(future: asyncio.Future, value: Any) -> None:
    if not future.done():
        future.set_result(value)


class _Backend:
    """The broker the workers read: QoS 1 forwards resolved on its PUBACK; Alink replies come back.

    It speaks MQTT 5 to the broker so that a forward nobody is subscribed to shows: Mosquitto answers it PUBACK 0x10
    "no matching subscribers" and drops it (on a fresh broker before a worker's shared subscription exists, and after
    a broker restart before the workers re-subscribed: Mosquitto 2.0 does not restore `$share` subscriptions). Such a
    forward is sent again until a worker took it or FORWARD_DEADLINE_S passed; the device gets its PUBACK only then.
    """

    def __init__(self, url: str, client_id: str, on_reply) -> None:
        self.client = connect_client(url, client_id, protocol=mqtt.MQTTv5)
        self._pending: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Future]] = {}
        self._early: dict[int, Any] = {}  # PUBACKs of forwards not yet listed in _pending (mid -> reason code)
        self._abandoned: set[int] = set()  # mids of forwards failed for want of a connection, that paho still sends
        self._lock = threading.Lock()
        self.unrouted = 0  # forwards the broker had no subscriber for (each was sent again)
        self.subscriptions = 0  # SUBACKs of the Alink replies' subscription, one per connection to the broker
        self.client.on_publish = self._on_publish
        self.client.on_message = lambda _c, _u, message: on_reply(message.topic, message.payload)
        subscribed = threading.Event()

        def on_subscribe(*_args) -> None:
            self.subscriptions += 1
            subscribed.set()

        def on_connect(client, _userdata, _flags, reason_code, _properties) -> None:
            if not reason_code.is_failure:  # a session of ours does not outlive a connection: subscribe again
                client.subscribe(topics.ALINK_REPLY_ALL, qos=0)

        self.client.on_subscribe = on_subscribe
        self.client.on_connect = on_connect
        self.client.subscribe(topics.ALINK_REPLY_ALL, qos=0)
        if not subscribed.wait(10):
            raise BrokerError("the front end could not subscribe to the Alink replies")

    async def forward(self, topic: str, payload: bytes, _dedupe_id: str | None = None) -> Any:
        """Publish QoS 1 and return the broker's PUBACK reason; raises BrokerError when the broker refused it, or
        had no subscriber for it until FORWARD_DEADLINE_S passed."""
        deadline = time.monotonic() + FORWARD_DEADLINE_S
        attempt = 0
        while True:
            reason = await self._publish_once(topic, payload)
            if reason != NO_MATCHING_SUBSCRIBERS:
                if reason.is_failure:
                    raise BrokerError(f"the broker refused the forward to {topic}: {reason}")
                return reason
            self.unrouted += 1
            if time.monotonic() >= deadline:
                raise BrokerError(f"no worker subscribed to {topic} within {FORWARD_DEADLINE_S:.0f} s")
            attempt += 1
            log.info("MQTT front end: no worker subscribed to %s yet; forwarding it again", topic)
            await asyncio.sleep(min(1.0, 0.05 * attempt))

    def _publish_once(self, topic: str, payload: bytes) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        # publish outside our lock: paho calls _on_publish holding its own, so holding ours around publish deadlocked
        # (a broker PUBACK racing the next forward); a PUBACK that comes before we listed the mid waits in _early
        try:
            info = self.client.publish(topic, payload, qos=1)
        except ValueError as exc:  # a topic paho refuses (a wildcard): no device may have it forwarded
            raise BrokerError(f"forward to {topic[:200]!r} refused by the MQTT client: {exc}") from None
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            if info.rc == mqtt.MQTT_ERR_NO_CONN:  # paho keeps it and sends it once connected again: its PUBACK is
                with self._lock:  # nobody's, and left in _early it would answer the next forward given this mid
                    if self._early.pop(info.mid, None) is None:
                        self._abandoned.add(info.mid)
            future.set_exception(BrokerError(f"forward to the broker failed: {mqtt.error_string(info.rc)}"))
            return future
        with self._lock:
            if info.mid in self._early:
                future.set_result(self._early.pop(info.mid))
            else:
                self._pending[info.mid] = (loop, future)
        return future

    def _on_publish(self, _client, _userdata, mid, reason_code, _properties) -> None:
        with self._lock:
            if mid in self._abandoned:  # a forward given up while the broker was away, sent on reconnecting
                self._abandoned.discard(mid)
                return
            pending = self._pending.pop(mid, None)
            if pending is None:
                self._early[mid] = reason_code
        if pending is not None:
            loop, future = pending
            loop.call_soon_threadsafe(_resolve, future, reason_code)

    async def aclose(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def tls_context(cert: str | None, key: str | None) -> ssl.SSLContext:
    """The MQTTS listener's server context (TLS 1.2 or newer) from a PEM certificate chain and its key."""
    if not cert or not key:
        raise ConfigError("the MQTT front end's TLS port needs WUXIN_MQTT_FRONT_TLS_CERT and WUXIN_MQTT_FRONT_TLS_KEY")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"MQTT front end TLS certificate {cert!r} / key {key!r} cannot be loaded: {exc}") from None
    return context


def is_worker_reply(topic: str) -> bool:
    """/sys/{type}/{key}/thing/event/{id}/post_reply: the only answers workers send back to devices (a command or a
    property set never travels this way: those go through the command model, approved and audited)."""
    parts = topic.split("/")
    return (
        len(parts) >= 7 and parts[:2] == ["", "sys"] and parts[4:6] == ["thing", "event"] and parts[-1] == "post_reply"
    )


class _Gate(asyncio.Protocol):
    """An accepted socket, held unread until the front end admits it; then it is served as streams."""

    def __init__(self, front: DeviceFrontEnd, tls: ssl.SSLContext | None) -> None:
        self.front, self.tls = front, tls

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        socket_transport = cast(asyncio.Transport, transport)  # a listening server hands over stream transports
        socket_transport.pause_reading()  # no byte is read before admission, none is lost to the TLS handshake
        self.front._accepted(socket_transport, self.tls)


class DeviceFrontEnd:
    """An asyncio MQTT server for devices: plain TCP on `port` (None: none), MQTTS on `tls_port` when given."""

    def __init__(
        self,
        platform: Platform,
        backend_url: str | None,
        host: str = "127.0.0.1",
        port: int | None = 0,
        client_id: str | None = None,
        connect_timeout_s: float | None = None,
        command_poll_s: float = 1.0,
        tls_port: int | None = None,
        tls_context: ssl.SSLContext | None = None,
        stream_urls: list[str] | None = None,
    ) -> None:
        """Forwards to the MQTT broker at backend_url, or, given stream_urls, to the NATS JetStream stream."""
        if not backend_url and not stream_urls:
            raise ValueError("the MQTT front end needs a broker URL or the NATS stream URLs to forward to")
        if port is None and tls_port is None:
            raise ConfigError("the MQTT front end needs a plain port or a TLS port to listen on")
        if tls_port is not None and tls_context is None:
            raise ConfigError("the MQTT front end's TLS port needs a certificate and key")
        settings = platform.settings
        self.platform, self.backend_url, self.host, self.port = platform, backend_url, host, port
        self.stream_urls = stream_urls
        self.tls_port, self._tls_context = tls_port, tls_context
        self.max_sessions = settings.mqtt_front_max_sessions
        self.max_connections = settings.mqtt_front_max_connections
        self.max_connections_per_address = settings.mqtt_front_max_connections_per_address
        self.connect_failures = FailureLimiter(settings.mqtt_front_failed_connects_per_minute)
        self.connect_timeout_s = connect_timeout_s or settings.mqtt_front_connect_timeout_s
        self.sockets: dict[str, int] = {}  # open sockets per source address, admitted and not yet closed
        self.socket_count = 0  # their sum
        self._tasks: set[asyncio.Task] = set()
        self._tls_server: asyncio.Server | None = None
        self._presence_lock = asyncio.Lock()  # presence is recorded in the order it happened
        self.outbox = RpcOutbox(platform)
        self.command_poll_s = command_poll_s
        self._wake = asyncio.Event()  # binds to the front end's loop on first use
        self.client_id = client_id or f"wuxin-front-{uuid.uuid4().hex[:8]}"
        self.connections: dict[str, set[_Connection]] = {}
        self.refusals: list[tuple[str, str]] = []  # (device or peer, reason) of recent refusals, for operators
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._backend: _Forwarder | None = None
        self._commands_task: asyncio.Task | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    # ---- running it

    def start_in_thread(self) -> DeviceFrontEnd:
        """Start the server on its own thread and event loop (CLI, tests); returns once it listens."""
        self._thread = threading.Thread(target=self._run_loop, name="wuxin-mqtt-front", daemon=True)
        self._thread.start()
        if not self._started.wait(15) or (self._server is None and self._tls_server is None):
            raise BrokerError("the MQTT front end did not start")
        return self

    def _run_loop(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._start())
        finally:
            self._started.set()
        loop.run_forever()

    async def _start(self) -> None:
        if self.stream_urls:
            from wuxin.ingest.stream.publisher import StreamBackend

            self._backend = await StreamBackend.open(
                self.stream_urls, self.client_id, self._on_reply, self.platform.clock_ms
            )
        elif self.backend_url:
            self._backend = _Backend(self.backend_url, self.client_id, self._on_reply)
        loop = asyncio.get_running_loop()
        if self.port is not None:
            self._server = await loop.create_server(lambda: _Gate(self, None), self.host, self.port)
            self.port = self._server.sockets[0].getsockname()[1]
            log.info("MQTT front end listening on %s:%d, forwarding to the broker", self.host, self.port)
        if self.tls_port is not None:
            tls = self._tls_context
            self._tls_server = await loop.create_server(lambda: _Gate(self, tls), self.host, self.tls_port)
            self.tls_port = self._tls_server.sockets[0].getsockname()[1]
            log.info("MQTT front end listening for MQTTS on %s:%d", self.host, self.tls_port)
        self._commands_task = loop.create_task(self._command_loop())

    def stop(self) -> None:
        loop, self._loop = self._loop, None
        if loop is None:
            return

        async def _close() -> None:
            if self._commands_task is not None:
                self._commands_task.cancel()
                await asyncio.gather(self._commands_task, return_exceptions=True)
            for server in (self._server, self._tls_server):
                if server is not None:
                    server.close()
            for connection in [c for group in self.connections.values() for c in group]:
                connection.writer.close()
            for task in self._tasks:
                task.cancel()
            if self._tasks:  # each records its device offline as it ends; a database away costs at most 5 s
                await asyncio.wait(list(self._tasks), timeout=5)
            if self._backend is not None:
                await self._backend.aclose()
            loop.stop()

        asyncio.run_coroutine_threadsafe(_close(), loop)
        if self._thread is not None:
            self._thread.join(10)

    def connected(self, device_key: str) -> int:
        return len(self.connections.get(device_key, ()))

    def check_credentials(self) -> int:
        """Close the connections whose credential was revoked or replaced since they connected; returns how many.
        Run every mqtt_front_credential_check_s by `wuxin serve` and `wuxin ingest mqtt-front`."""
        loop = self._loop
        if loop is None:
            return 0
        stale = [c for group in list(self.connections.values()) for c in list(group) if not self._still_valid(c)]
        for connection in stale:
            identity = connection.identity
            self._refused(identity.key, "credential_replaced")
            log.warning(
                "MQTT front end: the %s credential of %s was revoked or replaced; its connection %r is closed",
                identity.dialect,
                identity.key,
                connection.client_id,
            )
            loop.call_soon_threadsafe(connection.close, codec.NOT_AUTHORIZED)
        return len(stale)

    def _still_valid(self, connection: _Connection) -> bool:
        identity = connection.identity
        if identity.dialect == "thingsboard":
            return device_sdk.token_is_live(self.platform, connection.credential)
        return device_sdk.alink_secret_is_live(self.platform, identity.device_id, identity.secret_tag)

    # ---- admitting a socket

    def _accepted(self, transport: asyncio.Transport, tls: ssl.SSLContext | None) -> None:
        """Count the socket against its address and the total, or close it unread; then serve it."""
        address = _peer_address(transport.get_extra_info("peername"))
        held, total = self.sockets.get(address, 0), self.socket_count
        if held >= self.max_connections_per_address or total >= self.max_connections:
            self._refused(address, "too_many_connections")
            log.warning(
                "MQTT front end: %s holds %d of %d sockets per address (%d of %d in all); one more closed unread",
                address,
                held,
                self.max_connections_per_address,
                total,
                self.max_connections,
            )
            transport.abort()
            return
        self.sockets[address] = held + 1
        self.socket_count += 1
        task = asyncio.get_running_loop().create_task(self._open(transport, address, tls))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _open(self, transport: asyncio.Transport, address: str, tls: ssl.SSLContext | None) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.connect_timeout_s
        try:
            reader = asyncio.StreamReader()
            protocol = asyncio.StreamReaderProtocol(reader)
            if tls is None:
                transport.set_protocol(protocol)
                transport.resume_reading()
            else:
                try:
                    upgraded = await loop.start_tls(
                        transport, protocol, tls, server_side=True, ssl_handshake_timeout=self.connect_timeout_s
                    )
                except OSError as exc:  # ssl.SSLError, and ConnectionAbortedError past the handshake timeout
                    self._refused(address, "tls_handshake")
                    log.warning("MQTT front end: TLS handshake with %s failed: %s", address, exc)
                    transport.abort()
                    return
                if upgraded is None:  # the socket closed during the handshake
                    return
                transport = cast(asyncio.Transport, upgraded)
            protocol.connection_made(transport)
            await self._serve(reader, asyncio.StreamWriter(transport, protocol, reader, loop), address, deadline)
        finally:
            transport.close()
            self._release(address)

    def _release(self, address: str) -> None:
        self.socket_count -= 1
        left = self.sockets.get(address, 1) - 1
        if left > 0:
            self.sockets[address] = left
        else:
            self.sockets.pop(address, None)

    # ---- one device connection

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, source: str, deadline: float
    ) -> None:
        connection = None
        try:
            remaining_s = max(0.0, deadline - asyncio.get_running_loop().time())
            try:
                packet = await asyncio.wait_for(codec.read_packet(reader), remaining_s)
            except TimeoutError:
                self._refused(source, "connect_timeout")
                log.warning("MQTT front end: %s sent no CONNECT within %.1f s; closed", source, self.connect_timeout_s)
                return
            if packet.kind != codec.CONNECT:
                raise codec.ProtocolError("the first packet is not CONNECT")
            connect = codec.parse_connect(packet)
            if connect.level not in (codec.MQTT311, codec.MQTT5):
                log.warning("MQTT front end: %s asked for MQTT protocol level %d; refused", source, connect.level)
                writer.write(codec.connack(codec.MQTT311, 0x84))
                return
            if self.connect_failures.blocked(source):  # a flood of bad CONNECTs costs no lookup
                self._refused(source, "throttled")
                log.warning("MQTT front end: %s failed too many CONNECTs this minute; refused unread", source)
                writer.write(codec.connack(connect.level, SERVER_UNAVAILABLE))
                await writer.drain()
                return
            connection = await self._authenticate(connect, writer, source)
            if connection is None:
                return
            keepalive = connect.keepalive_s * 1.5 if connect.keepalive_s else None
            loop = asyncio.get_running_loop()
            # a provisioning client connects, asks and goes: its socket is held connect_timeout_s at most
            ends = loop.time() + self.connect_timeout_s if connection.identity.dialect == PROVISION else None
            while not writer.is_closing():
                wait_s = keepalive if ends is None else max(0.0, ends - loop.time())
                packet = await asyncio.wait_for(codec.read_packet(reader), wait_s)
                if packet.kind == codec.DISCONNECT:
                    break
                await self._handle(connection, packet)
                await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass
        except codec.ProtocolError as exc:
            log.info("MQTT front end: %s closed: %s", connection.identity.key if connection else source, exc)
        except BrokerError as exc:  # not acknowledged downstream: no PUBACK, the device re-sends after reconnecting
            log.warning(
                "MQTT front end: %s closed unacknowledged: %s", connection.identity.key if connection else source, exc
            )
        finally:
            writer.close()
            if connection is not None:
                await self._disconnected(connection)

    async def _disconnected(self, connection: _Connection) -> None:
        """Forget the connection; the device's last one closing records it offline."""
        if connection.identity.dialect == PROVISION:
            return  # no device yet: nothing was listed, nothing is online
        group = self.connections.get(connection.identity.key, set())
        group.discard(connection)
        if not group:
            self.connections.pop(connection.identity.key, None)
            await self._presence(connection.identity.key, "offline", "mqtt_disconnect")

    async def _presence(self, device_key: str, state: str, cause: str) -> None:
        try:
            async with self._presence_lock:
                await asyncio.to_thread(record_device_presence, self.platform, device_key, state, cause)
        except Exception:  # the database may be down: the heartbeat sweep corrects the state later
            log.exception("MQTT front end: recording %s %s failed", device_key, state)

    async def _authenticate(
        self, connect: codec.Connect, writer: asyncio.StreamWriter, source: str
    ) -> _Connection | None:
        alink = device_sdk.parse_alink_connect(connect.client_id, connect.username)
        if alink is None and connect.username == PROVISION:  # ThingsBoard's device provisioning: no credential yet
            identity = DeviceIdentity(0, PROVISIONING_CLIENT, "", PROVISION)
            writer.write(codec.connack(connect.level, codec.SUCCESS))
            return _Connection(identity, connect.level, writer, "", client_id=connect.client_id, source=source)
        try:
            if alink is not None:
                over_tls = writer.get_extra_info("ssl_object") is not None
                identity = await asyncio.to_thread(
                    functools.partial(device_sdk.alink_device, over_tls=over_tls),
                    self.platform,
                    alink,
                    connect.password,
                )
            else:
                identity = await asyncio.to_thread(device_sdk.thingsboard_device, self.platform, connect.username)
        except ConnectRefused as exc:
            who = f"Alink device {alink.device_name!r}" if alink else "a ThingsBoard client"
            self._refused(alink.device_name if alink else "a ThingsBoard client", exc.reason)
            log.warning("MQTT front end refused %s from %s (%s): %s", who, source, exc.reason, exc)
            try:
                self.connect_failures.failed(source)
            except RateLimited as limited:
                log.warning("MQTT front end: %s", limited)
            writer.write(
                codec.connack(
                    connect.level,
                    codec.NOT_AUTHORIZED
                    if exc.reason in ("revoked_token", "secret_unreadable")
                    else codec.BAD_CREDENTIALS,
                )
            )
            await writer.drain()
            return None
        if not self._admit(identity.key, connect.client_id):
            self._refused(identity.key, "too_many_sessions")
            log.warning(
                "MQTT front end: %s already holds %d connections; another was refused", identity.key, self.max_sessions
            )
            writer.write(codec.connack(connect.level, QUOTA_EXCEEDED))
            await writer.drain()
            return None
        connection = _Connection(
            identity, connect.level, writer, connect.username or "", client_id=connect.client_id, source=source
        )
        if identity.server_subscribe:  # LinkKit's _ss=1: Alibaba subscribes the device to its replies itself
            connection.subscriptions.append(
                f"/sys/{identity.product_key}/{identity.device_name}/thing/event/+/post_reply"
            )
            connection.subscriptions.append(f"/sys/{identity.product_key}/{identity.device_name}/thing/service/+")
            connection.subscriptions.append(
                f"/sys/{identity.product_key}/{identity.device_name}/thing/service/property/set"
            )
        first = not self.connections.get(identity.key)
        self.connections.setdefault(identity.key, set()).add(connection)
        if first:
            await self._presence(identity.key, "online", "mqtt_connect")
        writer.write(codec.connack(connect.level, codec.SUCCESS))
        self._wake.set()  # commands that waited for this device go now
        return connection

    def _admit(self, device_key: str, client_id: str) -> bool:
        """Room for one more connection of this device: a live one with the same client id is taken over
        (MQTT 3.1.4-2), else at most max_sessions."""
        group = self.connections.get(device_key, set())
        for old in [c for c in group if client_id and c.client_id == client_id]:
            group.discard(old)  # its _serve ends on the closed socket; the device stays online
            old.close(0x8E)  # MQTT 5 "session taken over"
        return len(group) < self.max_sessions

    def _refused(self, who: str, reason: str) -> None:
        self.refusals = (self.refusals + [(who, reason)])[-1000:]
        self.platform.metrics.unauthenticated.labels("mqtt", reason).inc()

    async def _handle(self, connection: _Connection, packet: codec.Packet) -> None:
        if packet.kind == codec.PUBLISH:
            await self._publish(connection, codec.parse_publish(packet, connection.level))
        elif packet.kind == codec.SUBSCRIBE:
            request = codec.parse_subscribe(packet, connection.level)
            codes = []
            for topic_filter, qos in request.filters:
                allowed = may_subscribe(connection.identity, topic_filter) and (
                    topic_filter in connection.subscriptions or len(connection.subscriptions) < MAX_SUBSCRIPTIONS
                )
                if allowed and topic_filter not in connection.subscriptions:
                    connection.subscriptions.append(topic_filter)
                codes.append(min(qos, 1) if allowed else codec.NOT_AUTHORIZED)
            connection.send(codec.suback(connection.level, request.packet_id, codes))
            self._wake.set()  # a device now listening for commands gets those waiting for it
        elif packet.kind == codec.UNSUBSCRIBE:
            packet_id, filters = codec.parse_unsubscribe(packet, connection.level)
            connection.subscriptions = [f for f in connection.subscriptions if f not in filters]
            connection.send(codec.unsuback(connection.level, packet_id, len(filters)))
        elif packet.kind == codec.PINGREQ:
            connection.send(codec.pingresp())
        elif packet.kind == codec.PUBACK:
            pass  # the device acknowledging a QoS 1 message; the front end sends QoS 0 only
        else:
            raise codec.ProtocolError(f"packet type {packet.kind} is not expected from a device")

    async def _publish(self, connection: _Connection, message: codec.Publish) -> None:
        identity = connection.identity
        if message.qos == 2:  # exactly-once would need PUBREC/PUBREL state: refused, not half-done
            log.warning("MQTT front end: %s published at QoS 2; connection closed", identity.key)
            connection.close(codec.QOS_NOT_SUPPORTED)
            return
        action = inbound_action(identity, message.topic)
        if action.kind == "refuse":
            self._refused(identity.key, "topic_not_allowed")
            log.warning("MQTT front end: %s; connection of %s closed", action.reason, identity.key)
            connection.close(codec.NOT_AUTHORIZED)
            return
        reason = codec.SUCCESS
        if action.kind == "forward":
            now_ms = self.platform.clock_ms()
            refused = await asyncio.to_thread(
                refused_values, self.platform, identity, message.topic, message.payload, now_ms
            )
            dedupe = dedupe_id(identity.key, message.packet_id, action.topic, message.payload) if message.qos else None
            await self._forwarder().forward(action.topic, message.payload, dedupe)  # good kept, bad quarantined
            if refused:
                reason = codec.PAYLOAD_INVALID
                log.info(
                    "MQTT front end: %s sent values its thing model refuses: %s", identity.key, "; ".join(refused)[:500]
                )
        elif action.kind in ("command_reply", "gateway_command_reply"):
            await asyncio.to_thread(self._command_reply, identity, action, message.topic, message.payload)
        elif action.kind == "provision_request":
            if connection.answered:  # one request per connection: each guess costs a CONNECT, which is throttled
                self._refused(PROVISIONING_CLIENT, "second_provision_request")
                log.warning("MQTT front end: a provisioning client from %s asked twice; closed", connection.source)
                connection.close(codec.NOT_AUTHORIZED)
                return
            connection.answered = True
            answer = await self._provision(connection.source, message.payload)
            connection.send(codec.publish(connection.level, action.topic, orjson.dumps(answer)))
        elif action.kind in ("attribute_request", "rpc_request", "gateway_attribute_request"):
            answer = await asyncio.to_thread(self._answer, identity, action.kind, message.payload)
            connection.deliver(action.topic, orjson.dumps(answer))
        if message.packet_id is not None:  # QoS 1
            if reason != codec.SUCCESS and connection.level != codec.MQTT5:
                connection.close(reason)  # 3.1.1 has no way to refuse a publish but closing
                return
            connection.send(codec.puback(connection.level, message.packet_id, reason))

    async def _provision(self, source: str, payload: bytes) -> dict:
        """ThingsBoard's provisioning answer: SUCCESS with the new device's token, or FAILURE with errorMsg; a
        failure counts against the address as a failed CONNECT does."""
        if self.connect_failures.blocked(source):
            self._refused(PROVISIONING_CLIENT, "throttled")
            return {"status": "FAILURE", "errorMsg": f"{source} failed too often this minute; try again later"}
        try:
            body = strict_loads(payload)
            key, token, profile_id = await asyncio.to_thread(
                provision_profiles.provision_device, self.platform, body, source
            )
        except (PayloadError, provision_profiles.ProvisionRefused) as exc:
            reason = exc.reason if isinstance(exc, provision_profiles.ProvisionRefused) else "bad_request"
            self._refused(PROVISIONING_CLIENT, reason)
            log.warning("MQTT front end refused a provision request from %s (%s): %s", source, reason, exc)
            try:
                self.connect_failures.failed(source)
            except RateLimited as limited:
                log.warning("MQTT front end: %s", limited)
            return {"status": "FAILURE", "errorMsg": str(exc)}
        except WuxinError as exc:  # the database away: the device's fault it is not, so it is not counted
            log.warning("MQTT front end: a provision request from %s could not be served: %s", source, exc)
            return {"status": "FAILURE", "errorMsg": f"the platform cannot provision devices now ({exc}); try again"}
        log.info("MQTT front end: device %s provisioned itself from %s under profile %d", key, source, profile_id)
        return {"status": "SUCCESS", "credentialsType": "ACCESS_TOKEN", "credentialsValue": token}

    def _forwarder(self) -> _Forwarder:
        if self._backend is None:
            raise BrokerError("the MQTT front end is not connected to its broker or stream")
        return self._backend

    def _answer(self, identity: DeviceIdentity, kind: str, payload: bytes) -> Any:
        try:
            body = strict_loads(payload) if payload else {}
        except PayloadError as exc:
            return {"error": str(exc)}
        body = body if isinstance(body, dict) else {}
        if kind == "attribute_request":
            return device_sdk.attribute_response(
                self.platform,
                identity.device_id,
                device_sdk.keys_param(body.get("clientKeys")),
                device_sdk.keys_param(body.get("sharedKeys")),
            )
        if kind == "gateway_attribute_request":
            return self._gateway_attributes(identity, body)
        if body.get("method") == "getSessionLimits":
            return SESSION_LIMITS
        return device_sdk.answer_rpc(self.platform, body.get("method"), body.get("params"))

    def _gateway_attributes(self, identity: DeviceIdentity, body: dict) -> dict:
        """ThingsBoard gateway: {"id", "device", "client", "key" | "keys"} -> {"id", "device", "value" | "values"}."""
        child = body.get("device")
        with self.platform.uow() as uow:
            allowed = uow.protocols.children_by_gateway_key().get(identity.key, set())
            row = uow.devices.by_key(child) if child in allowed else None
        if row is None:
            return {"id": body.get("id"), "device": child, "error": f"{child!r} is not behind gateway {identity.key!r}"}
        listed = body.get("keys")
        keys = listed if isinstance(listed, list) else [body.get("key")]
        values = (
            device_sdk.client_attributes(self.platform, row["id"], [k for k in keys if isinstance(k, str)])
            if body.get("client")
            else {}
        )
        if "key" in body:
            return {"id": body.get("id"), "device": child, "value": values.get(body["key"])}
        return {"id": body.get("id"), "device": child, "values": values}

    def _on_reply(self, topic: str, payload: bytes) -> None:
        """An Alink answer from the workers (/sys/{type}/{key}/...): to that device's connections, in its names."""
        parts = topic.split("/")
        loop = self._loop
        if not is_worker_reply(topic) or loop is None:
            return  # the workers answer only event and property posts; anything else on the reply subject is dropped
        for connection in list(self.connections.get(parts[3], ())):
            identity = connection.identity
            if identity.dialect == "alink":
                vendor = "/".join([f"/sys/{identity.product_key}/{identity.device_name}"] + parts[4:])
                loop.call_soon_threadsafe(connection.deliver, vendor, payload)

    # ---- commands to devices (server-side RPC, Alink services)

    def push_commands(self) -> None:
        """Deliver waiting commands now (the loop also does every command_poll_s)."""
        loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(self._wake.set)

    async def _command_loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.command_poll_s)
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self._push_commands()
            except Exception:  # a database hiccup must not end delivery for good
                log.exception("MQTT front end: delivering commands failed; retrying")

    async def _push_commands(self) -> None:
        if not self.connections:
            return
        keys = await asyncio.to_thread(self.outbox.devices_due)
        if not keys:
            return
        children = await asyncio.to_thread(self._children_by_gateway)
        for key in keys:
            routes = self._routes(key, children)
            if not routes:
                continue  # not connected (or not listening): it stays approved until it is
            for command in await asyncio.to_thread(self.outbox.due, key):
                delivery = self._delivery(routes, key, command)
                if delivery is None:
                    continue
                connection, topic, payload, via = delivery
                if await asyncio.to_thread(self.outbox.claim, command["id"], via):
                    connection.send(codec.publish(connection.level, topic, payload))

    def _children_by_gateway(self) -> dict[str, set[str]]:
        with self.platform.uow() as uow:
            return uow.protocols.children_by_gateway_key()

    def _routes(self, key: str, children: dict[str, set[str]]) -> list[tuple[_Connection, str | None]]:
        """(connection, None) for the device's own connections, (connection, key) for its gateways'."""
        routes: list[tuple[_Connection, str | None]] = [(c, None) for c in self.connections.get(key, ())]
        for gateway, kids in children.items():
            if key in kids:
                routes += [(c, key) for c in self.connections.get(gateway, ())]
        return routes

    @staticmethod
    def _delivery(routes, key: str, command: dict) -> tuple[_Connection, str, bytes, str] | None:
        """The first route listening on the command's topic: (connection, topic, payload, via)."""
        for connection, child in routes:
            identity = connection.identity
            if child is not None and command["channel"] == rpc.THINGSBOARD:
                topic = "v1/gateway/rpc"
                body = rpc.gateway_request(child, command["id"], command["operation"], command["params"])
                via = f"mqtt gateway {identity.key}"
            elif child is not None:
                continue
            elif identity.dialect == "alink" and command["channel"] == rpc.ALINK:
                suffix, body = rpc.alink_request(command["id"], command["operation"], command["params"])
                topic = f"/sys/{identity.product_key}/{identity.device_name}/{suffix}"
                via = "mqtt alink"
            elif identity.dialect == "thingsboard" and command["channel"] == rpc.THINGSBOARD:
                topic = f"{TB_ME}rpc/request/{command['id']}"
                body = rpc.thingsboard_request(command["id"], command["operation"], command["params"])
                via = "mqtt"
            else:
                continue
            if any(codec.topic_matches(f, topic) for f in connection.subscriptions):
                return connection, topic, orjson.dumps(body), via
        return None

    def _command_reply(self, identity: DeviceIdentity, action: Action, topic: str, payload: bytes) -> None:
        """A device's answer to a command: it closes the command of that device with that id, or nothing."""
        try:
            body = strict_loads(payload) if payload else {}
        except PayloadError as exc:
            log.info("MQTT front end: %s answered a command with %s", identity.key, exc)
            return
        if action.kind == "gateway_command_reply":
            if not isinstance(body, dict) or "id" not in body or not isinstance(body.get("device"), str):
                return  # a sub-device calling the platform (client-side RPC through a gateway): not served
            child = body["device"]
            if child not in self._children_by_gateway().get(identity.key, set()):
                log.info("MQTT front end: gateway %s answered for %r, which is not behind it", identity.key, child)
                return
            step, failure = rpc.thingsboard_outcome(body.get("data"))
            self.outbox.answered(child, rpc.command_id_of(body["id"]), {"response": body.get("data")}, step, failure)
        elif identity.dialect == "alink":
            body = body if isinstance(body, dict) else {}
            step, failure = rpc.alink_outcome(body)
            answer = {"code": body.get("code"), "data": body.get("data"), "message": body.get("message")}
            self.outbox.answered(identity.key, rpc.command_id_of(body.get("id")), answer, step, failure)
        else:
            step, failure = rpc.thingsboard_outcome(body)
            self.outbox.answered(identity.key, rpc.command_id_of(action.reason), {"response": body}, step, failure)


def _peer_address(peer: Any) -> str:
    """The source address of a socket's peername (host, port[, ...]), without the port."""
    return str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"
