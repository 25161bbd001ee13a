"""JT/T 808 TCP gateway: terminals in, bulk-import lines out.

Each connection has a ``Session`` (pure state plus two injected ports):

- ``TerminalDirectory`` maps a terminal (phone number, auth code) to a platform device key;
- ``ReadingSink`` receives bulk-import line dicts.

A location is answered 0x8001 result 0 only after ``ReadingSink.accept`` returned, so nothing
acknowledged is lost; if accept raises the answer is result 1 and the terminal resends.
Locations that arrive together (pipelined) are handed to the sink in one call.
A bad frame never ends the server or other connections: with a readable header it is answered
result 2, otherwise dropped; a stream with no 0x7e for too long is closed.

Commands (optional third port, ``CommandOutbox``): when a terminal authenticates or sends a heartbeat,
and whenever ``Jt808Gateway.push_commands`` runs, the session asks the outbox for the device's due
commands, claims each (once: the claim fails if it was cancelled or another connection sent it) and
sends it with the serial ``command id & 0xFFFF``; the terminal's answer (0x0001, 0x0104, 0x0201,
0x0500) goes back to the outbox with that serial, for the device of this connection only.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from wuxin.ingest.jt808 import commands as c
from wuxin.ingest.jt808 import messages as m
from wuxin.ingest.jt808.codec import (
    DEFAULT_MAX_BUFFER_BYTES,
    Frame,
    FrameOverflow,
    FrameSplitter,
    Header,
    Jt808Error,
    decode_frame,
    encode_frame,
)
from wuxin.ingest.jt808.enrolment import ProvisionedTerminal, judge_registration

log = logging.getLogger(__name__)

MAX_SUBPACKAGES = 64  # parts per message; 64 x 1023 bytes is plenty for a batch of locations
MAX_PENDING_MESSAGES = 4  # messages being reassembled at once on one connection
LOCATION_MESSAGES = frozenset({m.LOCATION, m.BATCH_LOCATION})


class TerminalDirectory(Protocol):
    """Who a terminal is: registration and authentication against the provisioned terminals."""

    def register(self, phone: str, body: dict[str, Any]) -> tuple[int, str | None]:
        """Result code (0 ok, 1 vehicle taken, 2 no vehicle, 3 terminal taken, 4 no terminal) and auth code.

        Never replaces a live auth code (see `enrolment`)."""
        ...

    def authenticate(self, phone: str, auth_code: str, imei: str | None = None) -> str | None:
        """The platform device key, or None to refuse (imei: what a 2019 terminal sent)."""
        ...

    def header_version(self, phone: str) -> str:
        """How this terminal's header is read: "auto" (bit 14, with the 2013 fallback), "2013" or "2019".
        Optional: a directory without it reads every terminal "auto"."""
        ...


class ReadingSink(Protocol):
    """Where readings and events go, as bulk-import line dicts, and what the connection says of presence."""

    async def accept(self, lines: list[dict[str, Any]]) -> None:
        """Store the lines durably, or raise."""
        ...

    async def presence(self, device_key: str, state: str, cause: str) -> None:
        """The terminal is online (authenticated, heartbeat) or offline (logout, connection gone); best effort."""
        ...


@dataclass(frozen=True, slots=True)
class OutgoingCommand:
    """An approved command due for a device."""

    command_id: int
    operation: str
    params: dict[str, Any]


class CommandOutbox(Protocol):
    """Commands waiting for their terminal, and where its answers go. Synchronous (run in a thread)."""

    def due(self, device_key: str) -> list[OutgoingCommand]:
        """Approved, unexpired, unsent commands of the device that may leave now."""
        ...

    def claim(self, command_id: int, serial: int, msg_id: int) -> bool:
        """Mark the command sent as this serial and message; False if it may no longer be sent."""
        ...

    def undeliverable(self, command_id: int, why: str) -> None:
        """The terminal cannot carry it (a 2013 terminal asked for the oil/power cut): it failed."""
        ...

    def answered(self, device_key: str, serial: int, msg_id: int, answer: dict[str, Any]) -> str | None:
        """The device's answer to the command sent with `serial`; the command's new state, or None if no
        sent command of this device matches (a duplicate, a forged or a stale serial)."""
        ...


def command_serial(command_id: int) -> int:
    """The 808 serial a command is sent with: the same on every connection, so answers find it."""
    return command_id & 0xFFFF


def phone_key(phone: str) -> str:
    """The same SIM number whether sent as BCD[6] (2013) or BCD[10] (2019)."""
    return phone.lstrip("0") or "0"


class InMemoryDirectory:
    """Provisioned terminals kept in memory: phone -> (device key, terminal id), each open for
    enrolment for `window_s` from when it was added; auth codes issued with `secrets`."""

    def __init__(
        self,
        terminals: dict[str, tuple[str, str]] | None = None,
        *,
        window_s: float = 86_400.0,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self._window_ms = int(window_s * 1000)
        self._clock_ms = clock_ms
        self._terminals: dict[str, ProvisionedTerminal] = {}
        self._auth_codes: dict[str, str] = {}
        self._header_versions: dict[str, str] = {}
        for phone, (device_key, terminal_id) in (terminals or {}).items():
            self.add(phone, device_key, terminal_id)

    def add(self, phone: str, device_key: str, terminal_id: str, header_version: str = "auto") -> None:
        """Provision a terminal (again): its enrolment window opens, a code it held is forgotten."""
        key = phone_key(phone)
        self._terminals[key] = ProvisionedTerminal(
            device_key, terminal_id.upper(), enrol_until_ms=self._clock_ms() + self._window_ms
        )
        self._auth_codes.pop(key, None)
        self._header_versions[key] = header_version

    def header_version(self, phone: str) -> str:
        return self._header_versions.get(phone_key(phone), "auto")

    def register(self, phone: str, body: dict[str, Any]) -> tuple[int, str | None]:
        """An auth code when the terminal id matches within the window; never a second one."""
        key = phone_key(phone)
        terminal = self._terminals.get(key)
        if terminal is not None and key in self._auth_codes:
            terminal = replace(terminal, enrolled=True)
        verdict = judge_registration(terminal, body, self._clock_ms())
        if verdict.result != m.REGISTER_OK:
            return verdict.result, None
        self._auth_codes[key] = secrets.token_hex(8)
        return m.REGISTER_OK, self._auth_codes[key]

    def authenticate(self, phone: str, auth_code: str, imei: str | None = None) -> str | None:
        """The device key when the auth code is the one issued to this phone."""
        key = phone_key(phone)
        issued = self._auth_codes.get(key)
        if issued is None or not secrets.compare_digest(issued.encode(), auth_code.encode()):
            return None
        return self._terminals[key].device_key


class InMemorySink:
    """Keeps every accepted line; `fail_next` makes the next accepts raise (for tests)."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []
        self.presence_changes: list[tuple[str, str, str]] = []  # (device key, online|offline, cause)
        self.batches = 0
        self.fail_next = 0

    async def accept(self, lines: list[dict[str, Any]]) -> None:
        """Append the lines, or raise while fail_next > 0."""
        if self.fail_next > 0:
            self.fail_next -= 1
            raise RuntimeError("InMemorySink told to fail")
        self.lines.extend(lines)
        self.batches += 1

    async def presence(self, device_key: str, state: str, cause: str) -> None:
        self.presence_changes.append((device_key, state, cause))


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


@dataclass(slots=True)
class _Pending:
    """Location messages waiting for one sink call, with the frames to answer."""

    lines: list[dict[str, Any]] = field(default_factory=list)
    answers: list[tuple[int, Header, int]] = field(default_factory=list)  # (reply index, header, result)
    done_parts: list[tuple[str, int]] = field(default_factory=list)  # reassemblies to forget on success
    alarm_before: int = 0


@dataclass(slots=True)
class _Parts:
    """The subpackages of one message received so far."""

    total: int
    bodies: dict[int, bytes] = field(default_factory=dict)


HEADER_VERSIONS_KEPT = 8  # phones whose provisioned header version a connection remembers (one terminal uses one)


class Session:
    """One terminal connection: who it is, its alarm state, subpackages being reassembled."""

    def __init__(
        self,
        directory: TerminalDirectory,
        sink: ReadingSink,
        now: Callable[[], datetime],
        peer: str = "?",
        outbox: CommandOutbox | None = None,
    ) -> None:
        self.directory = directory
        self.outbox = outbox
        self.version = "2013"  # header version of the authenticating frame: commands are sent in it
        self.protocol_version = 1
        self.sink = sink
        self.now = now
        self.peer = peer
        self.connected_at = now()
        self.last_frame_at: datetime | None = None
        self.phone: str | None = None  # set once authenticated
        self.device_key: str | None = None
        self.alarm = 0  # last stored alarm word, for rising-edge events
        self.frames = 0
        self.bad_frames = 0
        self._serial = 0
        self._parts: dict[tuple[str, int], _Parts] = {}
        self._header_versions: dict[str, str] = {}  # phone key -> the provisioned header version, asked once (bounded)

    @property
    def authenticated(self) -> bool:
        """True after a successful 0x0102."""
        return self.device_key is not None

    async def handle(self, contents: list[bytes]) -> list[bytes]:
        """Answer a run of frame contents in order; consecutive locations share one sink call."""
        replies: list[bytes | None] = []
        pending = _Pending(alarm_before=self.alarm)
        self.last_frame_at = self.now()
        for content in contents:
            self.frames += 1
            try:
                frame = await self._decode(content)
            except Jt808Error as exc:
                replies.append(self._bad_frame(exc))
                continue
            try:
                message = self._reassemble(frame, replies)
                if message is None:
                    continue
                if message.header.msg_id in LOCATION_MESSAGES:
                    self._queue_locations(message, frame.header, pending, replies)
                    continue
                pending = await self._flush(pending, replies)
                replies.append(await self._answer(message, frame.header))
                if message.header.msg_id in (m.AUTHENTICATE, m.HEARTBEAT) and self._is_current(frame.header):
                    replies.extend(await self.command_frames())
            except Exception:  # one bad message must not end the connection
                log.exception(
                    "JT808 error handling msg 0x%04x from terminal %s", frame.header.msg_id, frame.header.phone
                )
                replies.append(self._general(frame.header, m.RESULT_FAILURE))
        await self._flush(pending, replies)
        return [reply for reply in replies if reply is not None]

    # ---- frames and subpackages

    async def _decode(self, content: bytes) -> Frame:
        """The frame read by bit 14 (with the 2013 fallback), or in the header version provisioned for its
        terminal; a terminal provisioned "2019" may leave bit 14 clear."""
        try:
            frame = decode_frame(content)
        except Jt808Error as exc:
            try:
                frame = decode_frame(content, "2019")
            except Jt808Error:
                raise exc from None
            if await self._header_version(frame.header.phone, frame.header.msg_id) != "2019":
                raise exc from None
            return frame
        forced = await self._header_version(frame.header.phone, frame.header.msg_id)
        if forced not in ("auto", frame.header.version):
            frame = decode_frame(content, forced)
        return frame

    async def _header_version(self, phone: str, msg_id: int) -> str:
        """The provisioned header version, asked of the directory (maybe a database) only for the phone of a
        register or authenticate, or the phone this connection authenticated; any other frame reads "auto".
        At most HEADER_VERSIONS_KEPT phones are remembered per connection (the oldest forgotten)."""
        key = phone_key(phone)
        if key in self._header_versions:
            return self._header_versions[key]
        own = self.phone is not None and phone_key(self.phone) == key
        if msg_id not in (m.REGISTER, m.AUTHENTICATE) and not own:
            return "auto"
        ask = getattr(self.directory, "header_version", None)
        version = "auto" if ask is None else await asyncio.to_thread(ask, phone)
        if len(self._header_versions) >= HEADER_VERSIONS_KEPT:
            self._header_versions.pop(next(iter(self._header_versions)))
        self._header_versions[key] = version
        return version

    def _bad_frame(self, exc: Jt808Error) -> bytes | None:
        """Answer result 2 when the header was read, else drop."""
        self.bad_frames += 1
        log.warning("JT808 bad frame from %s: %s", self.peer, exc)
        return self._general(exc.header, m.RESULT_MESSAGE_ERROR) if exc.header else None

    def _reassemble(self, frame: Frame, replies: list[bytes | None]) -> Frame | None:
        """The whole message, or None while parts are missing (each part answered result 0)."""
        header = frame.header
        if header.total is None or header.total == 1:
            return frame
        key = (header.phone, header.msg_id)
        if header.total > MAX_SUBPACKAGES or (key not in self._parts and len(self._parts) >= MAX_PENDING_MESSAGES):
            log.warning("JT808 subpackage refused from terminal %s: %s parts", header.phone, header.total)
            replies.append(self._general(header, m.RESULT_MESSAGE_ERROR))
            return None
        parts = self._parts.get(key)
        if parts is None or parts.total != header.total:  # a new message, or a restarted one
            parts = self._parts[key] = _Parts(header.total)
        parts.bodies[header.index or 0] = frame.body
        if len(parts.bodies) < header.total:
            replies.append(self._general(header, m.RESULT_OK))
            return None
        return Frame(header, b"".join(parts.bodies[index] for index in range(1, header.total + 1)))

    def _forget_parts(self, header: Header) -> None:
        self._parts.pop((header.phone, header.msg_id), None)

    # ---- locations

    def _queue_locations(self, message: Frame, header: Header, pending: _Pending, replies: list[bytes | None]) -> None:
        """Parse and add to the pending sink call; the answer is decided at flush."""
        if not self._is_current(header):
            log.warning("JT808 location from terminal %s refused: not authenticated", header.phone)
            self._forget_parts(header)
            replies.append(self._general(header, m.RESULT_FAILURE))
            return
        try:
            locations = self._parse_locations(message)
        except Jt808Error as exc:
            self.bad_frames += 1
            log.warning("JT808 bad location from terminal %s: %s", header.phone, exc)
            self._forget_parts(header)
            replies.append(self._general(header, m.RESULT_MESSAGE_ERROR))
            return
        assert self.device_key is not None
        lines, self.alarm = m.location_lines(self.device_key, locations, self.alarm)
        timeless = sum(1 for location in locations if location.time is None)
        if timeless:
            log.warning("JT808 %d location(s) without a valid time from terminal %s dropped", timeless, header.phone)
        result = m.RESULT_MESSAGE_ERROR if timeless == len(locations) and timeless else m.RESULT_OK
        pending.lines.extend(lines)
        pending.answers.append((len(replies), header, result))
        if header.subpackaged:
            pending.done_parts.append((header.phone, header.msg_id))
        replies.append(None)  # placeholder, filled at flush

    @staticmethod
    def _parse_locations(message: Frame) -> list[m.Location]:
        if message.header.msg_id == m.LOCATION:
            return [m.parse_location(message.body)]
        return m.parse_batch_location(message.body)[1]

    async def _flush(self, pending: _Pending, replies: list[bytes | None]) -> _Pending:
        """One sink call for the pending locations; fill in their answers."""
        if not pending.answers:
            return pending
        stored = True
        if pending.lines:
            try:
                await self.sink.accept(pending.lines)
            except Exception:
                log.exception("JT808 sink refused %d lines from terminal %s", len(pending.lines), self.phone)
                stored = False
        for index, header, result in pending.answers:
            replies[index] = self._general(header, result if stored else m.RESULT_FAILURE)
        if stored:
            for key in pending.done_parts:
                self._parts.pop(key, None)
        else:
            self.alarm = pending.alarm_before  # so the resent frames raise the same events
        return _Pending(alarm_before=self.alarm)

    # ---- everything else

    async def _answer(self, message: Frame, header: Header) -> bytes | None:
        """Answer a non-location message."""
        self._forget_parts(header)
        msg_id = message.header.msg_id
        if header.encryption:
            log.warning("JT808 encrypted message 0x%04x from terminal %s not supported", msg_id, header.phone)
            return self._general(header, m.RESULT_UNSUPPORTED)
        if msg_id == m.REGISTER:
            return await self._register(message)
        if msg_id == m.AUTHENTICATE:
            return await self._authenticate(message)
        if msg_id == m.HEARTBEAT:
            if self._is_current(header):
                await self._presence("online", "jt808_heartbeat")
            return self._general(header, m.RESULT_OK)
        if msg_id == m.LOGOUT:
            log.info("JT808 terminal %s logged out", header.phone)
            if self._is_current(header):
                await self._presence("offline", "jt808_logout")
                self.phone = self.device_key = None
            return self._general(header, m.RESULT_OK)
        if msg_id in c.REPLIES:
            return await self._command_reply(message, header)
        log.info("JT808 unsupported message 0x%04x from terminal %s", msg_id, header.phone)
        return self._general(header, m.RESULT_UNSUPPORTED)

    async def _register(self, message: Frame) -> bytes:
        header = message.header
        try:
            body = m.parse_register(message.body, header.version)
        except Jt808Error as exc:
            log.warning("JT808 bad register from terminal %s (%s): %s", header.phone, self.peer, exc)
            return self._general(header, m.RESULT_MESSAGE_ERROR)
        result, auth_code = await asyncio.to_thread(self.directory.register, header.phone, body)  # may hit a database
        if result == m.REGISTER_OK:
            log.info(
                "JT808 terminal %s (%s) registered, terminal id %r, plate %r",
                header.phone,
                self.peer,
                body["terminal_id"],
                body["plate"],
            )
        else:
            log.warning(
                "JT808 terminal %s (%s) register refused with result %d: terminal id %r, plate %r",
                header.phone,
                self.peer,
                result,
                body["terminal_id"],
                body["plate"],
            )
        response = m.build_register_response(header.serial, result, auth_code)
        return self._send(m.REGISTER_RESPONSE, header, response)

    async def _authenticate(self, message: Frame) -> bytes:
        header = message.header
        try:
            body = m.parse_authenticate(message.body, header.version)
        except Jt808Error as exc:
            log.warning("JT808 bad authenticate from terminal %s (%s): %s", header.phone, self.peer, exc)
            return self._general(header, m.RESULT_MESSAGE_ERROR)
        device_key = await asyncio.to_thread(
            self.directory.authenticate, header.phone, body["auth_code"], body.get("imei")
        )
        if device_key is None:
            log.warning("JT808 terminal %s (%s) authentication refused", header.phone, self.peer)
            return self._general(header, m.RESULT_FAILURE)
        if self.device_key != device_key:
            self.alarm = 0
        self.phone, self.device_key = header.phone, device_key
        self.version, self.protocol_version = header.version, header.protocol_version or 1
        log.info("JT808 terminal %s authenticated as device %s", header.phone, device_key)
        await self._presence("online", "jt808_authenticated")
        return self._general(header, m.RESULT_OK)

    # ---- commands

    async def command_frames(self) -> list[bytes]:
        """Frames of the device's due commands, each claimed first (sent once); none without an outbox."""
        if self.outbox is None or self.device_key is None:
            return []
        try:
            due = await asyncio.to_thread(self.outbox.due, self.device_key)
        except Exception:
            log.exception("JT808 commands of device %s not read", self.device_key)
            return []
        frames = []
        for command in due:
            frame = await self._command_frame(command)
            if frame is not None:
                frames.append(frame)
        return frames

    async def _command_frame(self, command: OutgoingCommand) -> bytes | None:
        assert self.outbox is not None and self.phone is not None
        try:
            msg_id, body = c.command_message(command.operation, command.params, self.version)
        except Jt808Error as exc:
            await asyncio.to_thread(self.outbox.undeliverable, command.command_id, str(exc))
            return None
        serial = command_serial(command.command_id)
        if not await asyncio.to_thread(self.outbox.claim, command.command_id, serial, msg_id):
            return None
        log.info(
            "JT808 command %d (%s) to terminal %s as 0x%04x serial %d",
            command.command_id,
            command.operation,
            self.phone,
            msg_id,
            serial,
        )
        return encode_frame(
            msg_id, self.phone, serial, body, version=self.version, protocol_version=self.protocol_version
        )

    async def _command_reply(self, message: Frame, header: Header) -> bytes | None:
        """Hand a command answer to the outbox (this connection's device only); 0x0001 itself is not answered."""
        needs_answer = header.msg_id != m.TERMINAL_RESPONSE
        if not self._is_current(header):
            return self._general(header, m.RESULT_FAILURE) if needs_answer else None
        try:
            serial, answer = c.parse_reply(header.msg_id, message.body)
        except Jt808Error as exc:
            log.warning("JT808 bad command reply from terminal %s: %s", header.phone, exc)
            return self._general(header, m.RESULT_MESSAGE_ERROR) if needs_answer else None
        if self.outbox is not None:
            assert self.device_key is not None
            state = await asyncio.to_thread(self.outbox.answered, self.device_key, serial, header.msg_id, answer)
            if state is None:
                log.warning(
                    "JT808 reply 0x%04x serial %d from terminal %s matches no sent command (ignored)",
                    header.msg_id,
                    serial,
                    header.phone,
                )
        if header.msg_id in (c.QUERY_LOCATION_REPLY, c.VEHICLE_CONTROL_REPLY):
            await self._store_reply_location(message)
        return self._general(header, m.RESULT_OK) if needs_answer else None

    async def _store_reply_location(self, message: Frame) -> None:
        """The location a 0x0201 / 0x0500 carries is a reading like a 0x0200's (the vehicle as it answered)."""
        assert self.device_key is not None
        _, location = c.parse_location_reply(message.body)
        lines, alarm = m.location_lines(self.device_key, [location], self.alarm)
        try:
            await self.sink.accept(lines)
            self.alarm = alarm
        except Exception:  # the answer is recorded with the command; the reading is evidence, not the answer
            log.exception(
                "JT808 location of reply 0x%04x from terminal %s not stored", message.header.msg_id, self.phone
            )

    async def _presence(self, state: str, cause: str) -> None:
        """Tell the sink; a failure there is logged and never ends the session."""
        if self.device_key is None:
            return
        try:
            await self.sink.presence(self.device_key, state, cause)
        except Exception as exc:  # presence is evidence, not a reason to drop a terminal
            log.warning("JT808 presence %s (%s) of %s not recorded: %s", state, cause, self.device_key, exc)

    async def closed(self, cause: str) -> None:
        """The connection is gone without a logout: the terminal is offline."""
        await self._presence("offline", cause)
        self.phone = self.device_key = None

    def _is_current(self, header: Header) -> bool:
        """The frame comes from the terminal that authenticated on this connection."""
        return self.device_key is not None and header.phone == self.phone

    def _general(self, header: Header, result: int) -> bytes:
        """0x8001 answering the frame with this header."""
        return self._send(m.GENERAL_RESPONSE, header, m.build_general_response(header.serial, header.msg_id, result))

    def _send(self, msg_id: int, to: Header, body: bytes) -> bytes:
        """A platform frame in the terminal's own header version."""
        self._serial = (self._serial + 1) & 0xFFFF
        return encode_frame(
            msg_id, to.phone, self._serial, body, version=to.version, protocol_version=to.protocol_version or 1
        )


class Jt808Gateway:
    """The asyncio TCP server; one Session per connection."""

    def __init__(
        self,
        directory: TerminalDirectory,
        sink: ReadingSink,
        *,
        idle_timeout_s: float = 180.0,
        now: Callable[[], datetime] = utc_now,
        max_buffer_bytes: int = DEFAULT_MAX_BUFFER_BYTES,
        read_bytes: int = 65536,
        outbox: CommandOutbox | None = None,
    ) -> None:
        self.directory = directory
        self.outbox = outbox
        self.sink = sink
        self.idle_timeout_s = idle_timeout_s
        self.now = now
        self.max_buffer_bytes = max_buffer_bytes
        self.read_bytes = read_bytes
        self.sessions: dict[asyncio.Task[Any], Session] = {}
        self.closed_sessions = 0
        self._server: asyncio.Server | None = None
        self._writers: dict[asyncio.Task[Any], asyncio.StreamWriter] = {}
        self._stopping = False

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen; returns the bound port (port 0 picks a free one)."""
        self._server = await asyncio.start_server(self._serve, host, port)
        bound = self._server.sockets[0].getsockname()[1]
        log.info("JT808 gateway listening on %s:%d", host, bound)
        return int(bound)

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stop listening, close every connection and wait for its handler to finish (a sink call in
        flight completes); handlers still busy after grace_s are cancelled. Nothing is left running
        for the event loop to complain about when it closes."""
        self._stopping = True
        if self._server is not None:
            self._server.close()
        for writer in self._writers.values():
            writer.close()  # the handler reads EOF and ends as if the terminal had hung up
        tasks = list(self.sessions)
        if tasks:
            _done, late = await asyncio.wait(tasks, timeout=grace_s)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def push_commands(self, device_key: str | None = None, *, device_keys: set[str] | None = None) -> int:
        """Send the due commands of the connected terminals (of one device, or of device_keys, when given); returns
        frames sent. Run on approval and from a periodic loop, so an online terminal need not wait for its heartbeat."""
        if device_key is not None:
            device_keys = {device_key}
        sent = 0
        for task, session in list(self.sessions.items()):
            writer = self._writers.get(task)
            if (
                writer is None
                or session.device_key is None
                or (device_keys is not None and session.device_key not in device_keys)
            ):
                continue
            frames = await session.command_frames()
            if frames:
                writer.write(b"".join(frames))
                await writer.drain()
                sent += len(frames)
        return sent

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One connection's handler. It never ends cancelled: asyncio (3.11) logs a cancelled
        connection handler as an error ("Exception in callback StreamReaderProtocol...")."""
        peer = _peer_name(writer)
        session = Session(self.directory, self.sink, self.now, peer, self.outbox)
        task = asyncio.current_task()
        assert task is not None
        self.sessions[task] = session
        self._writers[task] = writer
        log.info("JT808 connection from %s", peer)
        cause = await self._pump_until_closed(reader, writer, session, peer)
        try:
            if cause is not None and not self._stopping:  # stopping: the terminal reconnects elsewhere
                await session.closed(cause)
            writer.close()
            await writer.wait_closed()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.sessions.pop(task, None)
            self._writers.pop(task, None)
            self.closed_sessions += 1

    async def _pump_until_closed(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, session: Session, peer: str
    ) -> str | None:
        """Serve the connection until it ends; returns why (None: the gateway cancelled it)."""
        try:
            await self._pump(reader, writer, session)
        except TimeoutError:
            log.info("JT808 connection %s idle for %.1f s, closing", peer, self.idle_timeout_s)
            return "jt808_idle_timeout"
        except FrameOverflow as exc:
            log.warning("JT808 connection %s closed: %s", peer, exc)
            return "jt808_garbage_stream"
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            log.info("JT808 connection %s lost: %s", peer, exc)
            return "jt808_connection_lost"
        except asyncio.CancelledError:
            return None  # the gateway is stopping; the terminal reconnects elsewhere
        except Exception:
            log.exception("JT808 connection %s failed", peer)
        return "jt808_connection_closed"

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, session: Session) -> None:
        """Read, split, answer, until EOF, idle timeout or overflow."""
        splitter = FrameSplitter(self.max_buffer_bytes)
        while True:
            async with asyncio.timeout(self.idle_timeout_s):
                data = await reader.read(self.read_bytes)
            if not data:
                return
            contents = splitter.feed(data)
            if not contents:
                continue
            replies = await session.handle(contents)
            if replies:
                writer.write(b"".join(replies))
                await writer.drain()


def _peer_name(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
