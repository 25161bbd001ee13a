"""The few MQTT 3.1.1 / 5.0 packets a device front end needs, read from and written to asyncio streams. Pure.

Read: CONNECT, PUBLISH, PUBACK, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT (properties are skipped:
the front end uses none). Written: CONNACK, PUBLISH (QoS 0), PUBACK, SUBACK, UNSUBACK, PINGRESP,
DISCONNECT (MQTT 5 only, with its reason code)."""

from __future__ import annotations

import asyncio
import re
import struct
from dataclasses import dataclass, field

CONNECT, CONNACK, PUBLISH, PUBACK, SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT = (
    1,
    2,
    3,
    4,
    8,
    9,
    10,
    11,
    12,
    13,
    14,
)
MQTT311, MQTT5 = 4, 5
MAX_PACKET_BYTES = 262_144  # as Mosquitto's message_size_limit

# reason codes (MQTT 5) and their MQTT 3.1.1 CONNACK equivalents
SUCCESS, UNSPECIFIED, PROTOCOL_ERROR, NOT_AUTHORIZED, BAD_CREDENTIALS, TOPIC_INVALID, PAYLOAD_INVALID = (
    0x00,
    0x80,
    0x82,
    0x87,
    0x86,
    0x90,
    0x99,
)
QOS_NOT_SUPPORTED = 0x9B
CONNACK_311 = {SUCCESS: 0, BAD_CREDENTIALS: 4, NOT_AUTHORIZED: 5, UNSPECIFIED: 3, 0x84: 1, 0x88: 3}


# what a PUBLISH topic name may not hold: wildcards, U+0000 and the control characters and non-characters Mosquitto
# refuses as malformed UTF-8 (it closes the connection that sent them: the front end's own, were one forwarded)
NOT_IN_TOPIC = re.compile("[+#\x00-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")


class ProtocolError(Exception):
    """The peer sent something that is not MQTT we speak: the connection is closed."""


@dataclass
class Packet:
    kind: int
    flags: int
    body: bytes


@dataclass
class Connect:
    level: int
    client_id: str
    username: str | None
    password: str | None
    keepalive_s: int
    clean: bool


@dataclass
class Publish:
    topic: str
    qos: int
    packet_id: int | None
    payload: bytes
    retain: bool = False


@dataclass
class Subscribe:
    packet_id: int
    filters: list[tuple[str, int]] = field(default_factory=list)


async def read_packet(reader: asyncio.StreamReader) -> Packet:
    first = await reader.readexactly(1)
    length, multiplier = 0, 1
    for _ in range(4):
        byte = (await reader.readexactly(1))[0]
        length += (byte & 0x7F) * multiplier
        if not byte & 0x80:
            break
        multiplier *= 128
    else:
        raise ProtocolError("remaining length longer than 4 bytes")
    if length > MAX_PACKET_BYTES:
        raise ProtocolError(f"packet of {length} bytes is over the {MAX_PACKET_BYTES} byte limit")
    return Packet(first[0] >> 4, first[0] & 0x0F, await reader.readexactly(length) if length else b"")


class _Cursor:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def take(self, n: int) -> bytes:
        if self.at + n > len(self.data):
            raise ProtocolError("packet shorter than its fields")
        out = self.data[self.at : self.at + n]
        self.at += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack(">H", self.take(2))[0]

    def varint(self) -> int:
        value, multiplier = 0, 1
        for _ in range(4):
            byte = self.u8()
            value += (byte & 0x7F) * multiplier
            if not byte & 0x80:
                return value
            multiplier *= 128
        raise ProtocolError("variable byte integer longer than 4 bytes")

    def binary(self) -> bytes:
        return self.take(self.u16())

    def text(self) -> str:
        try:
            return self.binary().decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("a string is not UTF-8") from None

    def skip_properties(self) -> None:
        self.take(self.varint())

    def rest(self) -> bytes:
        return self.data[self.at :]


def parse_connect(packet: Packet) -> Connect:
    cursor = _Cursor(packet.body)
    name, level = cursor.text(), cursor.u8()
    if name not in ("MQTT", "MQIsdp"):
        raise ProtocolError(f"protocol name {name!r} is not MQTT")
    flags, keepalive = cursor.u8(), cursor.u16()
    if level == MQTT5:
        cursor.skip_properties()
    client_id = cursor.text()
    if flags & 0x04:  # will: properties (5), topic, payload
        if level == MQTT5:
            cursor.skip_properties()
        cursor.text()
        cursor.binary()
    username = cursor.text() if flags & 0x80 else None
    password = cursor.binary().decode("utf-8", errors="replace") if flags & 0x40 else None
    return Connect(level, client_id, username, password, keepalive, bool(flags & 0x02))


def parse_publish(packet: Packet, level: int) -> Publish:
    cursor = _Cursor(packet.body)
    qos = (packet.flags >> 1) & 0x03
    if qos == 3:
        raise ProtocolError("PUBLISH with QoS 3")
    topic = cursor.text()
    bad = NOT_IN_TOPIC.search(topic)
    if bad:  # MQTT-3.3.2-2, MQTT-1.5.4-2; forwarded, such a name would make the broker drop the front end itself
        raise ProtocolError(f"PUBLISH topic {topic[:200]!r} holds {bad.group()!r} (a wildcard or a control character)")
    packet_id = cursor.u16() if qos else None
    if level == MQTT5:
        cursor.skip_properties()
    return Publish(topic, qos, packet_id, cursor.rest(), bool(packet.flags & 0x01))


def parse_subscribe(packet: Packet, level: int) -> Subscribe:
    cursor = _Cursor(packet.body)
    out = Subscribe(cursor.u16())
    if level == MQTT5:
        cursor.skip_properties()
    while cursor.at < len(cursor.data):
        out.filters.append((cursor.text(), cursor.u8() & 0x03))
    if not out.filters:
        raise ProtocolError("SUBSCRIBE without a topic filter")
    return out


def parse_unsubscribe(packet: Packet, level: int) -> tuple[int, list[str]]:
    cursor = _Cursor(packet.body)
    packet_id = cursor.u16()
    if level == MQTT5:
        cursor.skip_properties()
    filters = []
    while cursor.at < len(cursor.data):
        filters.append(cursor.text())
    return packet_id, filters


def packet_id_of(packet: Packet) -> int:
    return _Cursor(packet.body).u16()


# ---- writing


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value % 128, value // 128
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _packet(first: int, body: bytes) -> bytes:
    return bytes([first]) + _varint(len(body)) + body


def _text(value: str) -> bytes:
    raw = value.encode("utf-8")
    return struct.pack(">H", len(raw)) + raw


def connack(level: int, reason: int) -> bytes:
    if level == MQTT5:
        return _packet(CONNACK << 4, bytes([0, reason, 0]))
    return _packet(CONNACK << 4, bytes([0, CONNACK_311.get(reason, 5)]))


def publish(level: int, topic: str, payload: bytes) -> bytes:
    """A QoS 0 PUBLISH to the device."""
    return _packet(PUBLISH << 4, _text(topic) + (b"\x00" if level == MQTT5 else b"") + payload)


def puback(level: int, packet_id: int, reason: int = SUCCESS) -> bytes:
    if level == MQTT5 and reason != SUCCESS:
        return _packet(PUBACK << 4, struct.pack(">HB", packet_id, reason) + b"\x00")
    return _packet(PUBACK << 4, struct.pack(">H", packet_id))


def suback(level: int, packet_id: int, codes: list[int]) -> bytes:
    if level != MQTT5:  # 3.1.1 has only "granted QoS n" and 0x80 failure
        codes = [c if c <= 2 else 0x80 for c in codes]
    return _packet(SUBACK << 4 | 0, struct.pack(">H", packet_id) + (b"\x00" if level == MQTT5 else b"") + bytes(codes))


def unsuback(level: int, packet_id: int, count: int) -> bytes:
    if level == MQTT5:
        return _packet(UNSUBACK << 4, struct.pack(">H", packet_id) + b"\x00" + bytes([SUCCESS] * count))
    return _packet(UNSUBACK << 4, struct.pack(">H", packet_id))


def pingresp() -> bytes:
    return _packet(PINGRESP << 4, b"")


def disconnect(level: int, reason: int) -> bytes | None:
    """MQTT 5 lets the server say why it closes; 3.1.1 only closes."""
    return _packet(DISCONNECT << 4, bytes([reason, 0])) if level == MQTT5 else None


def topic_matches(topic_filter: str, topic: str) -> bool:
    """MQTT wildcard match (+ one level, # the rest)."""
    f_parts, t_parts = topic_filter.split("/"), topic.split("/")
    for index, part in enumerate(f_parts):
        if part == "#":
            return True
        if index >= len(t_parts) or (part != "+" and part != t_parts[index]):
            return False
    return len(f_parts) == len(t_parts)
