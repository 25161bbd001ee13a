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
