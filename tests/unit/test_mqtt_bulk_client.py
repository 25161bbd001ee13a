"""The worker's paho client: buffered reads serve paho's small reads, one write acknowledges a batch."""

import socket

import paho.mqtt.client as mqtt
import pytest

from wuxin.ingest.mqtt.client import BulkClient


@pytest.fixture
def wired():
    """A BulkClient whose socket is one end of a real socket pair; the test holds the other end."""
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    client = BulkClient(mqtt.CallbackAPIVersion.VERSION2, client_id="unit")
    client._sock = ours
    yield client, theirs
    client._sock = None
    ours.close()
    theirs.close()


def test_small_reads_are_served_from_one_buffered_receive(wired):
    client, broker = wired
    broker.sendall(b"\x30\x05abcde\x30\x02xy")
    assert client._sock_recv(1) == b"\x30"
    assert client._sock_recv(1) == b"\x05"
    assert client._sock_recv(100) == b"abcde\x30\x02xy"[:100]
    with pytest.raises(BlockingIOError):  # nothing buffered, nothing waiting
        client._sock_recv(1)


def test_a_packet_split_across_receives_is_joined(wired):
    client, broker = wired
    broker.sendall(b"\x30\x05ab")
    assert client._sock_recv(1) + client._sock_recv(1) + client._sock_recv(5) == b"\x30\x05ab"
    broker.sendall(b"cde")
    assert client._sock_recv(3) == b"cde"


def test_a_new_connection_never_reads_bytes_left_from_the_old_one(wired):
    client, broker = wired
    broker.sendall(b"\x30\x05abcde")
    assert client._sock_recv(1) == b"\x30"
    fresh, other = socket.socketpair()
    fresh.setblocking(False)
    client._sock = fresh
    other.sendall(b"\x20\x02\x00\x00")
    assert client._sock_recv(4) == b"\x20\x02\x00\x00"
    fresh.close()
    other.close()


def test_ack_many_writes_every_puback_in_order_at_once(wired):
    client, broker = wired
    client.ack_many([1, 258, 65535])  # no network thread here: paho writes at once
    broker.settimeout(2)
    assert broker.recv(100) == b"\x40\x02\x00\x01" + b"\x40\x02\x01\x02" + b"\x40\x02\xff\xff"
    client.ack_many([])
    broker.setblocking(False)
    with pytest.raises(BlockingIOError):
        broker.recv(100)


@pytest.fixture
def device(wired):
    """paho itself encoding PUBLISH packets onto the wire the worker's client reads."""
    _client, theirs = wired
    sender = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="device")
    sender.max_inflight_messages_set(0)  # no broker here to acknowledge
    sender._sock = theirs
    sender._state = mqtt._ConnectionState.MQTT_CS_CONNECTED
    yield sender
    sender._sock = None


def _drain(client, received, expected: int) -> None:
    for _ in range(200):
        if len(received) >= expected:
            return
        assert client.loop_read() == mqtt.MQTT_ERR_SUCCESS
    raise AssertionError(f"{len(received)} of {expected} messages read")


def test_whole_publishes_reach_the_handler_in_order_without_paho_per_packet(wired, device, monkeypatch):
    client, _ = wired
    received, by_paho = [], []
    client.on_publish_raw = lambda *message: received.append(message)
    original = mqtt.Client._handle_publish
    monkeypatch.setattr(mqtt.Client, "_handle_publish", lambda self: by_paho.append(1) or original(self))
    sent = []
    for n in range(600):
        topic, payload, qos = f"v1/devices/设备-{n % 7}/telemetry", b"x" * (n % 301), n % 2
        info = device.publish(topic, payload, qos=qos)
        sent.append((topic, info.mid if qos else 0, qos, payload))
        if n % 100 == 99:  # the socket pair holds only so much
            _drain(client, received, len(sent))
    assert received == sent
    assert len(by_paho) < 30  # only the first packet of each buffered read goes through paho


def test_a_publish_cut_across_reads_is_finished_by_paho_once(wired):
    client, broker = wired
    received = []
    client.on_publish_raw = lambda *message: received.append(message)
    packet = b'\x32\x0e\x00\x03a/b\x00\x07{"t":1}'
    broker.sendall(packet[:6])
    assert client.loop_read() == mqtt.MQTT_ERR_SUCCESS and received == []
    broker.sendall(packet[6:] + b"\x30\x04\x00\x01cd")
    _drain(client, received, 2)
    assert received == [("a/b", 7, 1, b'{"t":1}'), ("c", 0, 0, b"d")]


@pytest.mark.parametrize(
    "packet",
    [
        b"\x32\x05\x00\x09abc",  # topic longer than the packet
        b"\x32\x03\x00\x01a",  # QoS 1 with no room for the message id
        b"\x30\xff\xff\xff\xff\x01",  # remaining length of five bytes
    ],
    ids=["topic_overruns", "no_message_id", "length_too_long"],
)
def test_a_malformed_publish_is_left_to_paho_which_drops_the_connection(wired, packet):
    client, broker = wired
    received = []
    client.on_publish_raw = lambda *message: received.append(message)
    broker.sendall(b"\x30\x04\x00\x01cd" + packet)
    rc = mqtt.MQTT_ERR_SUCCESS
    for _ in range(5):
        rc = client.loop_read()
        if rc != mqtt.MQTT_ERR_SUCCESS:
            break
    assert rc != mqtt.MQTT_ERR_SUCCESS
    assert received == [("c", 0, 0, b"d")]  # the good one before it still arrived
