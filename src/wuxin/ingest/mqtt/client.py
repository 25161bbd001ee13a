"""paho-mqtt's client, made to read and acknowledge in bulk for the ingestion worker.

paho reads a packet with three or more `recv` calls (command byte, length bytes, body) and
returns to `select` after every packet; each `ack` is one write to the wake-up socket pair and
one `send`. At tens of thousands of QoS 1 messages a second those system calls were most of the
worker's time. This client reads 64 KiB at a time and serves paho's small reads from that buffer,
draining whole buffered packets before going back to `select` (and, when the last read was small,
waits a few milliseconds first so that one read takes many messages), skips the per-topic callback matcher
(unused here), and acknowledges a whole committed batch with one write. Protocol handling stays
paho's (pinned version in pyproject.toml; the MQTT tests and the failure test exercise these
overrides).
"""
from __future__ import annotations

import struct
import time

import paho.mqtt.client as mqtt

READ_CHUNK_BYTES = 64 * 1024
COALESCE_BELOW_BYTES = 16 * 1024
COALESCE_S = 0.005
_PUBACK = 0x40


class BulkClient(mqtt.Client):
    _read_socket = None
    _read_buffer = b""
    _read_pos = 0

    def _buffered_bytes(self) -> int:
        return len(self._read_buffer) - self._read_pos if self._read_socket is self._sock else 0

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._buffered_bytes() == 0:  # empty, or left from an earlier connection
            self._read_socket = self._sock
            self._read_buffer = super()._sock_recv(READ_CHUNK_BYTES)  # BlockingIOError when nothing waits
            self._read_pos = 0
        start = self._read_pos
        self._read_pos = min(len(self._read_buffer), start + bufsize)
        return self._read_buffer[start:self._read_pos]

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        """paho reads one packet per call; keep going while whole packets sit in the buffer."""
        if self._buffered_bytes() == 0 and len(self._read_buffer) < COALESCE_BELOW_BYTES:
            time.sleep(COALESCE_S)  # the last read was small: let more arrive, then read it in one go
        rc = super().loop_read(max_packets)
        while rc == mqtt.MQTT_ERR_SUCCESS and self._sock is not None and self._buffered_bytes() > 0:
            rc = super().loop_read(max_packets)
        return rc

    def _handle_on_message(self, message: mqtt.MQTTMessage) -> None:
        """Straight to on_message: the worker adds no per-topic callbacks, so paho's topic matcher is skipped."""
        with self._in_callback_mutex:
            self.on_message(self, self._userdata, message)

    def ack_many(self, mids: list[int]) -> None:
        """PUBACK every QoS 1 message id in one queued write (MQTT 3.1.1 PUBACK: 0x40 0x02 mid)."""
        if mids:
            packet = b"".join(struct.pack("!BBH", _PUBACK, 2, mid) for mid in mids)
            self._packet_queue(_PUBACK, packet, 0, 0)
