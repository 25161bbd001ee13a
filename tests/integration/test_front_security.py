"""The MQTT front end's answers to an outside security review, on real sockets: a rotated or revoked credential
closes the sessions made with it and is refused afterwards; an Alink signature must carry a recent timestamp; the
plain port can be left out; sockets are bounded per address and in all; a silent socket is closed in time."""

from __future__ import annotations

import hashlib
import hmac
import logging
import socket
import ssl
import threading
import time

import paho.mqtt.client as mqtt
import pytest

from tests.conftest import free_port
from tests.integration.mqtt_env import start_broker, wait_for
from tests.integration.test_vendor_sdks import GPS_TSL, PRODUCT_KEY, _server_certificate
from tests.integration.vendor_sdk.run import SdkProcess
from tests.world import build_world
from wuxin.cli.ingest import _watch_front, start_front_end
from wuxin.errors import ConfigError
from wuxin.ingest.mqtt.broker import provision_front
from wuxin.ingest.mqtt.front import DeviceFrontEnd, tls_context
from wuxin.services.devices import registry
from wuxin.services.ingest.device_sdk import issue_alink_secret

FRONT_USER, FRONT_PASSWORD = "wuxin-front", "front-secret-for-security"


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    return _server_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def broker_url(tmp_path_factory):
    broker, admin = start_broker(tmp_path_factory.mktemp("broker"))
    provision_front(admin, FRONT_USER, FRONT_PASSWORD)
    yield broker.url(FRONT_USER, FRONT_PASSWORD)
    admin.close()
    broker.stop()


@pytest.fixture
def front_of(platform, broker_url, tls_files):
    """Starts front ends on free ports (plain and TLS) and stops them after the test."""
    platform.clock.now_ms = int(time.time() * 1000)  # LinkKit signs the wall clock's second
    started: list[DeviceFrontEnd] = []

    def start(**options) -> DeviceFrontEnd:
        _, cert, key = tls_files
        options = {"tls_port": 0, "tls_context": tls_context(cert, key), **options}
        front = DeviceFrontEnd(platform, broker_url, **options).start_in_thread()
        started.append(front)
        return front

    yield start
    for front in started:
        front.stop()


def _client(port: int, username: str, password: str | None = None, client_id: str = "", tls_ca: str | None = None):
    """A paho MQTT 5 client; (client, CONNACK reasons, DISCONNECT reasons) as their names."""
    connacks: list[str] = []
    disconnects: list[str] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.username_pw_set(username, password)
    if tls_ca:
        client.tls_set_context(ssl.create_default_context(cadata=tls_ca))
    client.on_connect = lambda _c, _u, _f, reason, _p: connacks.append(reason.getName())
    client.on_disconnect = lambda _c, _u, _f, reason, _p: disconnects.append(reason.getName())
    client.reconnect_delay_set(60, 120)  # stay down: the test reads why
    client.connect("127.0.0.1", port, keepalive=30)
    client.loop_start()
    wait_for(lambda: connacks, what="CONNACK")
    return client, connacks, disconnects


def _close(client: mqtt.Client) -> None:
    client.disconnect()
    client.loop_stop()


@pytest.mark.parametrize("change", ["rotate", "revoke"])
def test_a_rotated_or_revoked_token_closes_its_sessions_within_the_check_interval(platform, front_of, change):
    world = build_world(platform)
    front = front_of()
    old_token = world.device_tokens["loom-01"]
    client, connacks, disconnects = _client(front.port, old_token, client_id="loom-01-a")
    assert connacks == ["Success"] and front.connected("loom-01") == 1
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_front, args=(front, stop, 0.2))  # what `wuxin serve` runs
    watcher.start()
    try:
        new_token = (
            registry.rotate_device_token(platform, None, "loom-01")
            if change == "rotate"
            else registry.revoke_device_tokens(platform, None, "loom-01")
        )
        started = time.monotonic()
        wait_for(lambda: disconnects, timeout_s=5, what="the session closed")
        assert time.monotonic() - started < 2 and disconnects == ["Not authorized"]
        # the device reads the DISCONNECT before the front end's handler of its connection has ended
        wait_for(lambda: front.connected("loom-01") == 0, what="the front end forgetting the closed session")
        assert ("loom-01", "credential_replaced") in front.refusals
        again, refused, _ = _client(front.port, old_token, client_id="loom-01-b")
        assert refused == ["Not authorized"] and front.connected("loom-01") == 0
        _close(again)
        if change == "rotate":
            fresh, accepted, _ = _client(front.port, new_token, client_id="loom-01-c")
            assert accepted == ["Success"]
            front.check_credentials()
            assert front.connected("loom-01") == 1  # the new token's session stays
            _close(fresh)
    finally:
        _close(client)
        stop.set()
        watcher.join(5)


def test_linkkit_is_disconnected_when_its_secret_is_rotated_and_cannot_reconnect_with_it(platform, front_of):
    build_world(platform)
    front = front_of()
    old_secret = issue_alink_secret(platform, None, "truck-01", PRODUCT_KEY)
    config = {"host": "127.0.0.1", "port": front.port, "product_key": PRODUCT_KEY, "device_name": "truck-01"}
    truck = SdkProcess("linkkit", "linkkit_driver.py", {**config, "device_secret": old_secret, "tsl": str(GPS_TSL)})
    try:
        assert truck.hello == {"connected": True}
        assert front.check_credentials() == 0  # nothing changed: the session stays
        new_secret = issue_alink_secret(platform, None, "truck-01", PRODUCT_KEY)  # as POST .../alink-secret
        assert front.check_credentials() == 1
        wait_for(lambda: any(e["kind"] == "disconnect" for e in truck.call("status")["events"]), what="disconnect")
        # LinkKit reconnects on its own with the old secret's signature: refused, the device stays off
        wait_for(lambda: front.refusals.count(("truck-01", "bad_signature")) >= 1, what="the old signature refused")
        assert front.connected("truck-01") == 0
    finally:
        truck.close()
    renewed = SdkProcess("linkkit", "linkkit_driver.py", {**config, "device_secret": new_secret, "tsl": str(GPS_TSL)})
    try:
        assert renewed.hello == {"connected": True}
        assert front.check_credentials() == 0 and front.connected("truck-01") == 1
    finally:
        renewed.close()


def _alink_login(platform, secret: str, timestamp: str | None) -> tuple[str, str, str]:
    """client id, username, password as LinkKit makes them, with or without the timestamp."""
    stamp = f",timestamp={timestamp}" if timestamp is not None else ""
    client_id = f"{PRODUCT_KEY}&truck-01|securemode=3,signmethod=hmacsha1{stamp}|"
    content = f"clientId{PRODUCT_KEY}&truck-01deviceNametruck-01productKey{PRODUCT_KEY}"
    content += f"timestamp{timestamp}" if timestamp is not None else ""
    password = hmac.new(secret.encode(), content.encode(), hashlib.sha1).hexdigest()
    return client_id, f"truck-01&{PRODUCT_KEY}", password


def test_an_alink_signature_without_a_timestamp_is_refused_unless_allowed(platform, front_of, caplog):
    build_world(platform)
    front = front_of()
    secret = issue_alink_secret(platform, None, "truck-01", PRODUCT_KEY)
    client_id, username, password = _alink_login(platform, secret, None)
    with caplog.at_level(logging.WARNING, logger="wuxin.ingest.mqtt.front"):
        client, refused, _ = _client(front.port, username, password, client_id)
        _close(client)
    assert refused == ["Bad user name or password"] and ("truck-01", "untimed_signature") in front.refusals
    assert any("'truck-01'" in r.getMessage() and "127.0.0.1" in r.getMessage() for r in caplog.records)
    platform.settings = platform.settings.model_copy(update={"alink_allow_untimed_signatures": True})
    client, accepted, _ = _client(front.port, username, password, client_id)
    assert accepted == ["Success"] and front.connected("truck-01") == 1
    _close(client)


def test_the_alink_signature_window_is_a_setting(platform, front_of):
    build_world(platform)
    front = front_of()
    platform.settings = platform.settings.model_copy(update={"alink_signature_window_s": 60})
    secret = issue_alink_secret(platform, None, "truck-01", PRODUCT_KEY)
    now_s = platform.clock_ms() // 1000
    client, refused, _ = _client(front.port, *_rotate(_alink_login(platform, secret, str(now_s - 120))))
    _close(client)
    assert refused == ["Bad user name or password"] and ("truck-01", "stale_signature") in front.refusals
    client, accepted, _ = _client(front.port, *_rotate(_alink_login(platform, secret, str(now_s - 30))))
    assert accepted == ["Success"]
    _close(client)


def _rotate(login: tuple[str, str, str]) -> tuple[str, str, str]:
    """(client id, username, password) -> the order _client takes: username, password, client id."""
    client_id, username, password = login
    return username, password, client_id


def test_tls_only_leaves_the_plain_port_closed(platform, broker_url, tls_files):
    world = build_world(platform)
    ca, cert, key = tls_files
    plain_port, tls_port = free_port(), free_port()
    settings = {
        "mqtt_front_url": broker_url,
        "mqtt_front_port": plain_port,
        "mqtt_front_tls_port": tls_port,
        "mqtt_front_tls_cert": cert,
        "mqtt_front_tls_key": key,
        "mqtt_front_tls_only": True,
    }
    platform.settings = platform.settings.model_copy(update=settings)
    stop = threading.Event()
    front = start_front_end(platform, stop)
    try:
        assert front.port is None and front.tls_port == tls_port
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", plain_port), timeout=2)
        client, accepted, _ = _client(tls_port, world.device_tokens["loom-01"], tls_ca=ca)
        assert accepted == ["Success"]
        _close(client)
    finally:
        stop.set()
        front.stop()
    platform.settings = platform.settings.model_copy(update={"mqtt_front_tls_port": None})
    with pytest.raises(ConfigError, match="WUXIN_MQTT_FRONT_TLS_PORT"):
        start_front_end(platform, threading.Event())


def _silent_socket(port: int, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket()
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    sock.settimeout(5)
    return sock


def _closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, ssl.SSLError):  # closed without a TLS close_notify
        return True


def test_sockets_are_bounded_per_address_and_in_all(platform, front_of, caplog):
    front = front_of(connect_timeout_s=30)
    front.max_connections_per_address, front.max_connections = 2, 3
    held = [_silent_socket(front.port), _silent_socket(front.tls_port)]
    try:
        wait_for(lambda: front.sockets == {"127.0.0.1": 2}, what="two sockets held")
        with caplog.at_level(logging.WARNING, logger="wuxin.ingest.mqtt.front"):
            third = _silent_socket(front.port)
            assert _closed_by_server(third)  # the address's third socket is closed unread
            third.close()
            held.append(_silent_socket(front.port, "127.0.0.2"))  # another address still gets in
            wait_for(lambda: front.sockets == {"127.0.0.1": 2, "127.0.0.2": 1}, what="the other address")
            fourth = _silent_socket(front.tls_port, "127.0.0.3")
            assert _closed_by_server(fourth)  # the total is reached
            fourth.close()
        assert front.refusals.count(("127.0.0.1", "too_many_connections")) == 1
        assert ("127.0.0.3", "too_many_connections") in front.refusals
        assert any("127.0.0.3" in r.getMessage() for r in caplog.records)
    finally:
        for sock in held:
            sock.close()
    wait_for(lambda: front.sockets == {} and front.socket_count == 0, what="the slots released")


def test_a_silent_socket_is_closed_after_the_connect_timeout_on_either_port(platform, front_of, tls_files):
    front = front_of(connect_timeout_s=0.5)
    plain, tls = _silent_socket(front.port), _silent_socket(front.tls_port)
    started = time.monotonic()
    assert _closed_by_server(plain) and _closed_by_server(tls)  # no CONNECT; no TLS ClientHello
    assert time.monotonic() - started < 3
    plain.close()
    tls.close()
    # a finished TLS handshake without a CONNECT is closed by the same deadline
    raw = socket.create_connection(("127.0.0.1", front.tls_port), timeout=5)
    wrapped = ssl.create_default_context(cadata=tls_files[0]).wrap_socket(raw, server_hostname="127.0.0.1")
    assert _closed_by_server(wrapped)
    wrapped.close()
    assert ("127.0.0.1", "connect_timeout") in front.refusals and ("127.0.0.1", "tls_handshake") in front.refusals
    wait_for(lambda: front.sockets == {} and front.socket_count == 0, what="the slots released")


def test_linkkit_reconnecting_past_the_window_resends_its_first_signature_and_is_refused(platform, front_of):
    """What docs/onboarding.md says of LinkKit 1.2.13: it signs once per connect_async() and reconnects with it."""
    build_world(platform)
    front = front_of()
    secret = issue_alink_secret(platform, None, "truck-01", PRODUCT_KEY)
    config = {"host": "127.0.0.1", "port": front.port, "product_key": PRODUCT_KEY, "device_name": "truck-01"}
    truck = SdkProcess("linkkit", "linkkit_driver.py", {**config, "device_secret": secret, "tsl": str(GPS_TSL)})
    try:
        assert truck.hello == {"connected": True}
        # the short window only now: the SDK's process may take longer than 2 s to start and sign on a loaded machine
        platform.settings = platform.settings.model_copy(update={"alink_signature_window_s": 2})
        time.sleep(3)  # past the window
        platform.clock.now_ms = int(time.time() * 1000)
        (connection,) = front.connections["truck-01"]
        assert front._loop is not None
        front._loop.call_soon_threadsafe(connection.close, 0x8B)  # the front end going away, say
        wait_for(lambda: ("truck-01", "stale_signature") in front.refusals, what="the reconnect refused as stale")
        assert front.connected("truck-01") == 0
    finally:
        truck.close()


def test_linkkit_in_a_tls_only_deployment_reconnects_past_the_window_with_its_first_signature(
    platform, front_of, tls_files
):
    """The same reconnect over TLS (securemode=2) where no plain port exists: no signature ever crossed in clear."""
    build_world(platform)
    front = front_of(port=None)
    platform.settings = platform.settings.model_copy(update={"mqtt_front_tls_only": True})
    secret = issue_alink_secret(platform, None, "truck-01", PRODUCT_KEY)
    config = {"host": "127.0.0.1", "port": front.tls_port, "product_key": PRODUCT_KEY, "device_name": "truck-01"}
    truck = SdkProcess(
        "linkkit",
        "linkkit_driver.py",
        {**config, "device_secret": secret, "tsl": str(GPS_TSL), "cadata": tls_files[0]},
    )
    try:
        assert truck.hello == {"connected": True}
        platform.settings = platform.settings.model_copy(update={"alink_signature_window_s": 2})  # as above
        time.sleep(3)  # past the window
        platform.clock.now_ms = int(time.time() * 1000)
        (connection,) = front.connections["truck-01"]
        assert front._loop is not None
        front._loop.call_soon_threadsafe(connection.close, 0x8B)
        wait_for(
            lambda: [c for c in front.connections.get("truck-01", ()) if c is not connection],
            timeout_s=30,
            what="LinkKit back over TLS with its first signature",
        )
        assert ("truck-01", "stale_signature") not in front.refusals
    finally:
        truck.close()
