"""paho-mqtt's client, made to read and acknowledge in bulk for the ingestion worker.

paho reads a packet with three or more `recv` calls (command byte, length bytes, body), builds
a message object with a lock in it for every PUBLISH and returns to `select` after every packet;
each `ack` is one write to the wake-up socket pair and one `send`. At tens of thousands of QoS 1
messages a second that was most of the worker's time. This client reads 64 KiB at a time and
serves paho's small reads from that buffer; when paho is between packets, every whole QoS 0/1
PUBLISH at the head of the buffer goes straight to `on_publish_raw(topic, mid, qos, payload)`
(MQTT 3.1.1 layout, section 3.3; anything else, or anything odd, is left to paho). When the last
read was small it waits a few milliseconds first, so that one read takes many messages, and it
acknowledges a whole committed batch with one write. Connection, subscription, keepalive and
every other packet stay paho's (pinned version in pyproject.toml; tests/unit/test_mqtt_bulk_client.py,
the MQTT tests and the failure test exercise these overrides).
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt

READ_CHUNK_BYTES = 64 * 1024
COALESCE_BELOW_BYTES = 16 * 1024
COALESCE_S = 0.005
_PUBACK = 0x40
_PUBLISH = 0x30

RawPublish = Callable[[str, int, int, bytes], None]  # topic, message id, QoS, payload


class BulkClient(mqtt.Client):
    _read_socket = None
    _read_buffer = b""
    _read_pos = 0
    on_publish_raw: RawPublish | None = None

    def _buffered_bytes(self) -> int:
        return len(self._read_buffer) - self._read_pos if self._read_socket is self._sock else 0

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._buffered_bytes() == 0:  # empty, or left from an earlier connection
            self._read_socket = self._sock
            self._read_buffer = super()._sock_recv(READ_CHUNK_BYTES)  # BlockingIOError when nothing waits
            self._read_pos = 0
        start = self._read_pos
        self._read_pos = min(len(self._read_buffer), start + bufsize)
        return self._read_buffer[start : self._read_pos]

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        """paho reads one packet per call; keep going while whole packets sit in the buffer."""
        if self._buffered_bytes() == 0 and len(self._read_buffer) < COALESCE_BELOW_BYTES:
            time.sleep(COALESCE_S)  # the last read was small: let more arrive, then read it in one go
        rc = super().loop_read(max_packets)
        while rc == mqtt.MQTT_ERR_SUCCESS and self._sock is not None and self._buffered_bytes() > 0:
            if self._between_packets() and self._take_publishes() and self._buffered_bytes() == 0:
                break
            rc = super().loop_read(max_packets)
        return rc

    def _between_packets(self) -> bool:
        return self.on_publish_raw is not None and self._protocol == mqtt.MQTTv311 and self._in_packet["command"] == 0

    def _take_publishes(self) -> int:
        """Hand every whole QoS 0/1 PUBLISH at the head of the buffer to on_publish_raw; how many."""
        handler = self.on_publish_raw
        if handler is None:
            return 0
        buffer, position, end = self._read_buffer, self._read_pos, len(self._read_buffer)
        taken = 0
        while position < end:
            command = buffer[position]
            if command & 0xF0 != _PUBLISH or command & 0x06 > 0x02:  # not PUBLISH, or QoS 2/3: paho's
                break
            body, length = _remaining_length(buffer, position + 1, end)
            packet_end = body + length
            if body < 0 or packet_end > end or length < 2:
                break
            topic_end = body + 2 + (buffer[body] << 8 | buffer[body + 1])
            qos = (command >> 1) & 0x03
            payload_start = topic_end + 2 if qos else topic_end
            if payload_start > packet_end:
                break  # malformed: paho says so
            try:
                topic = buffer[body + 2 : topic_end].decode("utf-8")
            except UnicodeDecodeError:
                break
            mid = buffer[topic_end] << 8 | buffer[topic_end + 1] if qos else 0
            handler(topic, mid, qos, buffer[payload_start:packet_end])
            position, taken = packet_end, taken + 1
        if taken:
            self._read_pos = position
            with self._msgtime_mutex:
                self._last_bytes_received = time.monotonic()
        return taken

    def _handle_on_message(self, message: mqtt.MQTTMessage) -> None:
        """Straight to the handler: the worker adds no per-topic callbacks, so paho's topic matcher is skipped."""
        with self._in_callback_mutex:
            handler, on_message = self.on_publish_raw, self.on_message
            if handler is not None:
                handler(message.topic, message.mid, message.qos, bytes(message.payload))
            elif on_message is not None:  # as paho: no handler, the message is dropped
                on_message(self, self._userdata, message)

    def ack_many(self, mids: list[int]) -> None:
        """PUBACK every QoS 1 message id in one queued write (MQTT 3.1.1 PUBACK: 0x40 0x02 mid)."""
        if mids:
            packet = b"".join(struct.pack("!BBH", _PUBACK, 2, mid) for mid in mids)
            self._packet_queue(_PUBACK, packet, 0, 0)


def _remaining_length(buffer: bytes, start: int, end: int) -> tuple[int, int]:
    """(where the variable header starts, remaining length) of the fixed header at start; (-1, 0) if cut short."""
    length, shift = 0, 0
    for position in range(start, min(start + 4, end)):
        byte = buffer[position]
        length |= (byte & 0x7F) << shift
        if byte < 0x80:
            return position + 1, length
        shift += 7
    return -1, 0
