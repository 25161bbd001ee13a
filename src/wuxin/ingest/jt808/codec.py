"""JT/T 808 framing: 0x7e delimiters, escaping, XOR checksum, headers (2011/2013 and 2019).

A frame on the wire is ``7e | header | body | checksum | 7e`` where everything between the
delimiters is escaped (0x7e -> 7d 02, 0x7d -> 7d 01) and the checksum is the XOR of the
unescaped header and body. The 2011 and 2013 headers are identical (6-byte BCD phone); the
2019 header sets body-attribute bit 14 and adds a protocol-version byte and a 10-byte phone.

Some 2013 terminals set bit 14 too (a known device quirk). With header version "auto" a frame
with bit 14 whose 2019 header does not parse (phone not BCD, body length not matching) is read
again with the 2013 header; the two cannot both fit, since they differ by five bytes. A
terminal's header version may also be forced ("2013" ignores bit 14, "2019" reads the 2019
header whatever bit 14 says), per terminal at provisioning.

Pure code: bytes in, values out. Errors are ``Jt808Error`` (an ``InvalidInput``); when the
header could be read the error carries it, so the gateway can still answer the terminal.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from wuxin.errors import InvalidInput

FLAG = 0x7E
ESCAPE = 0x7D
MAX_BODY_BYTES = 0x3FF  # body length is a 10-bit field
MAX_RAW_FRAME_BYTES = 21 + MAX_BODY_BYTES + 1  # longest header + body + checksum
MAX_ESCAPED_FRAME_BYTES = 2 * MAX_RAW_FRAME_BYTES  # every byte escaped
DEFAULT_MAX_BUFFER_BYTES = 4096

ATTR_LENGTH_MASK = 0x03FF
ATTR_ENCRYPTION_SHIFT = 10
ATTR_SUBPACKAGE = 0x2000
ATTR_VERSION_2019 = 0x4000
HEADER_VERSIONS = ("auto", "2013", "2019")  # how a terminal's header is read; "auto" follows bit 14

_WORD2 = struct.Struct(">HH")
_WORD = struct.Struct(">H")


class Jt808Error(InvalidInput):
    """A JT/T 808 frame or message that cannot be read; carries the header when it was read."""

    code = "invalid_jt808_frame"

    def __init__(self, message: str, header: Header | None = None) -> None:
        super().__init__(message)
        self.header = header


class FrameOverflow(Jt808Error):
    """More bytes without a closing 0x7e than any legal frame can hold."""


@dataclass(frozen=True, slots=True)
class Header:
    """A decoded message header."""

    msg_id: int
    body_length: int
    encryption: int  # bits 10-12; 0 = none, 1 = RSA
    version_2019: bool
    protocol_version: int | None  # 2019 only
    phone: str  # BCD digits as sent: 12 (2011/2013) or 20 (2019)
    serial: int
    total: int | None = None  # subpackage count, when bit 13 is set
    index: int | None = None  # 1-based subpackage number
    bit14_quirk: bool = False  # read as 2013 although bit 14 (the 2019 flag) was set

    @property
    def version(self) -> str:
        """'2019', or '2013' for the identical 2011/2013 header."""
        return "2019" if self.version_2019 else "2013"

    @property
    def subpackaged(self) -> bool:
        """True when the body is one part of a larger message."""
        return self.total is not None


@dataclass(frozen=True, slots=True)
class Frame:
    """One unescaped, checksum-verified message."""

    header: Header
    body: bytes


def escape(raw: bytes) -> bytes:
    """Escape 0x7d then 0x7e so the content never contains a delimiter."""
    return raw.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")


def unescape(content: bytes) -> bytes:
    """Undo escaping; every 0x7d must be followed by 0x01 or 0x02."""
    escapes = content.count(b"\x7d")
    if escapes == 0:
        return content
    if escapes != content.count(b"\x7d\x01") + content.count(b"\x7d\x02"):
        raise Jt808Error(f"JT808 bad escape: 0x7d not followed by 0x01/0x02 in {content[:32].hex()}")
    return content.replace(b"\x7d\x02", b"\x7e").replace(b"\x7d\x01", b"\x7d")


def xor_checksum(data: bytes) -> int:
    """XOR of all bytes, by folding the bytes as one integer (fast in CPython)."""
    folded = int.from_bytes(data, "little")
    width = len(data)
    while width > 1:
        half = (width + 1) // 2
        folded = (folded & ((1 << (half * 8)) - 1)) ^ (folded >> (half * 8))
        width = half
    return folded


def decode_bcd(data: bytes, what: str = "BCD") -> str:
    """BCD bytes to a digit string; raises on nibbles above 9."""
    digits = data.hex()
    if not digits.isdigit():
        raise Jt808Error(f"JT808 {what} is not BCD: {digits}")
    return digits


def encode_bcd(digits: str, size_bytes: int) -> bytes:
    """Left-pad a digit string with zeros to size_bytes of BCD."""
    if not digits.isdigit() or len(digits) > size_bytes * 2:
        raise Jt808Error(f"JT808 cannot encode {digits!r} as BCD[{size_bytes}]")
    return bytes.fromhex(digits.zfill(size_bytes * 2))


def parse_header(raw: bytes, version: str = "auto") -> tuple[Header, int]:
    """Read the header at the start of an unescaped frame; returns it and its length.

    version "auto" follows bit 14; "2013" and "2019" read that header whatever bit 14 says."""
    if version not in HEADER_VERSIONS:
        raise Jt808Error(f"JT808 header version {version!r} is not one of {', '.join(HEADER_VERSIONS)}")
    if len(raw) < 12:
        raise Jt808Error(f"JT808 frame too short for a header: {len(raw)} bytes")
    msg_id, attr = _WORD2.unpack_from(raw)
    version_2019 = bool(attr & ATTR_VERSION_2019) if version == "auto" else version == "2019"
    protocol_version = raw[4] if version_2019 else None
    phone_at, offset = (5, 15) if version_2019 else (4, 10)
    if len(raw) < offset + 2:
        raise Jt808Error(f"JT808 frame too short for a 2019 header: {len(raw)} bytes")
    phone = decode_bcd(raw[phone_at:offset], "terminal phone")
    (serial,) = _WORD.unpack_from(raw, offset)
    offset += 2
    total = index = None
    if attr & ATTR_SUBPACKAGE:
        if len(raw) < offset + 4:
            raise Jt808Error(f"JT808 frame from terminal {phone} too short for subpackage fields")
        total, index = _WORD2.unpack_from(raw, offset)
        offset += 4
    header = Header(
        msg_id,
        attr & ATTR_LENGTH_MASK,
        (attr >> ATTR_ENCRYPTION_SHIFT) & 0x7,
        version_2019,
        protocol_version,
        phone,
        serial,
        total,
        index,
        bit14_quirk=bool(attr & ATTR_VERSION_2019) and not version_2019,
    )
    return header, offset


def decode_frame(content: bytes, version: str = "auto") -> Frame:
    """Decode the escaped bytes between two 0x7e delimiters into a verified Frame.

    With version "auto", a frame with bit 14 set that does not read as 2019 is read as 2013 (the quirk); when
    neither reads, the error of the reading whose header was read is raised (so the terminal can be answered),
    the 2019 one when both or neither were."""
    if len(content) > MAX_ESCAPED_FRAME_BYTES:
        raise Jt808Error(f"JT808 frame too long: {len(content)} bytes")
    raw = unescape(content)
    try:
        return _verified(raw, version)
    except Jt808Error as as_2019:
        if version != "auto" or len(raw) < 3 or not raw[2] & (ATTR_VERSION_2019 >> 8):
            raise
        try:
            return _verified(raw, "2013")
        except Jt808Error as as_2013:
            raise (as_2013 if as_2013.header and not as_2019.header else as_2019) from None


def _verified(raw: bytes, version: str) -> Frame:
    header, offset = parse_header(raw, version)
    _check_frame(raw, header, offset)
    return Frame(header, raw[offset:-1])


def _check_frame(raw: bytes, header: Header, offset: int) -> None:
    """Checksum, body length and subpackage numbering; errors carry the header."""
    got, want = raw[-1], xor_checksum(raw[:-1])
    if got != want:
        raise Jt808Error(
            f"JT808 checksum mismatch from terminal {header.phone}: got 0x{got:02x}, want 0x{want:02x}",
            header,
        )
    body_bytes = len(raw) - offset - 1
    if body_bytes != header.body_length:
        raise Jt808Error(
            f"JT808 body length mismatch from terminal {header.phone} (msg 0x{header.msg_id:04x}): "
            f"attribute says {header.body_length}, got {body_bytes}",
            header,
        )
    if header.total is not None and not (header.total >= 1 and 1 <= (header.index or 0) <= header.total):
        raise Jt808Error(
            f"JT808 bad subpackage numbering from terminal {header.phone}: index {header.index} of {header.total}",
            header,
        )


def encode_frame(
    msg_id: int,
    phone: str,
    serial: int,
    body: bytes = b"",
    *,
    version: str = "2013",
    protocol_version: int = 1,
    subpackage: tuple[int, int] | None = None,
    encryption: int = 0,
    bit14_quirk: bool = False,
) -> bytes:
    """Build one complete frame, delimiters included. subpackage is (total, index); bit14_quirk sets bit 14 on a
    2013 header, as some 2013 terminals do."""
    if len(body) > MAX_BODY_BYTES:
        raise Jt808Error(f"JT808 body too long for one frame: {len(body)} bytes, max {MAX_BODY_BYTES}")
    attr = len(body) | (encryption & 0x7) << ATTR_ENCRYPTION_SHIFT
    if subpackage is not None:
        attr |= ATTR_SUBPACKAGE
    if version == "2019":
        head = _WORD2.pack(msg_id, attr | ATTR_VERSION_2019) + bytes([protocol_version]) + encode_bcd(phone, 10)
    else:
        head = _WORD2.pack(msg_id, attr | (ATTR_VERSION_2019 if bit14_quirk else 0)) + encode_bcd(phone, 6)
    head += _WORD.pack(serial & 0xFFFF)
    if subpackage is not None:
        head += _WORD2.pack(*subpackage)
    raw = head + body
    return b"\x7e" + escape(raw + bytes([xor_checksum(raw)])) + b"\x7e"


class FrameSplitter:
    """Cuts a TCP byte stream into frame contents, across reads, with a bounded buffer.

    Every 0x7e is a boundary; the bytes between two boundaries are one candidate frame
    (empty ones, from back-to-back delimiters, are skipped). Bytes before the first 0x7e
    ever seen are noise. More than max_buffer_bytes pending raises FrameOverflow.
    """

    def __init__(self, max_buffer_bytes: int = DEFAULT_MAX_BUFFER_BYTES) -> None:
        self._buffer = bytearray()
        self._synced = False
        self._max_buffer_bytes = max_buffer_bytes

    @property
    def pending_bytes(self) -> int:
        """Bytes held while waiting for a closing 0x7e."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes from the socket; return the complete frame contents (still escaped)."""
        buffer = self._buffer
        buffer += data
        if not self._synced:
            first = buffer.find(FLAG)
            if first < 0:
                self._check_bound()
                return []
            del buffer[: first + 1]
            self._synced = True
        frames: list[bytes] = []
        start = 0
        view = memoryview(buffer)
        try:
            while (end := buffer.find(FLAG, start)) >= 0:
                if end > start:
                    frames.append(bytes(view[start:end]))
                start = end + 1
        finally:
            view.release()
        del buffer[:start]
        self._check_bound()
        return frames

    def _check_bound(self) -> None:
        if len(self._buffer) > self._max_buffer_bytes:
            raise FrameOverflow(
                f"JT808 stream sent {len(self._buffer)} bytes without a closing 0x7e (limit {self._max_buffer_bytes})"
            )


def frames_from_hex(text: str) -> list[bytes]:
    """Frame contents from a hex dump; spaces and 0x7e delimiters optional."""
    cleaned = "".join(text.split()).lower().removeprefix("0x")
    if len(cleaned) % 2:
        raise Jt808Error(f"JT808 input has an odd number of hex digits: {len(cleaned)}")
    try:
        data = bytes.fromhex(cleaned)
    except ValueError as exc:
        raise Jt808Error(f"JT808 input is not hex: {text[:40]!r} ({exc})") from None
    if not data:
        raise Jt808Error("JT808 input is empty")
    if FLAG not in data:
        return [data]
    data = (b"" if data[0] == FLAG else b"\x7e") + data + (b"" if data[-1] == FLAG else b"\x7e")
    frames = FrameSplitter(max_buffer_bytes=len(data) + 1).feed(data)
    if not frames:
        raise Jt808Error(f"JT808 input holds no frame between 0x7e delimiters: {cleaned[:40]}")
    return frames
