"""Live devices for `wuxin demo`: after the history, the demo fleet goes on sending, over the
protocols real devices speak, paced at real time by the same seeded simulator.

- JT/T 808 terminals (device types playing the `speaks_jt808` role; JT/T 808-2019: the oil and power cut needs it) are
  provisioned as an integrator would (terminal id, enrolment window), then register and log in to an in-process JT/T 808
  gateway on 127.0.0.1 (`WUXIN_JT808_PORT`, default 7808) and report 0x0200 locations; their alarms travel as alarm bits.
- The other devices are ThingsBoard MQTT clients of the platform's MQTT front end (127.0.0.1, port
  `WUXIN_DEMO_MQTT_FRONT_PORT`, default 1884), each with its own access token, as a device on the vendor's
  SDK would be (`sim/rpc_device.py`): telemetry up, server-side RPC down and answered (a new reporting
  interval changes its cadence). The front end forwards to a Mosquitto the demo starts on a free loopback
  port, which holds only the front end's and the worker's accounts; the platform's MQTT worker consumes it
  and acknowledges after commit. Without a `mosquitto` binary this part is skipped and said so.
- Devices playing the `history_only` role (collars and ear tags, most of the demo's devices) stay history only: in the field
  they report through LoRa gateways, which the demo does not model.

The console then shows last-seen times, connectivity transitions and fresh readings.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from wuxin.bootstrap import Platform
from wuxin.errors import NotFound, WuxinError
from wuxin.ingest.jt808 import messages as m
from wuxin.ingest.jt808.gateway import Jt808Gateway
from wuxin.ingest.jt808.simulator import SimulatedTerminal, fix
from wuxin.ingest.mqtt.broker import BrokerError, DynsecAdmin, MosquittoProcess, provision_front, provision_worker
from wuxin.ingest.mqtt.front import DeviceFrontEnd
from wuxin.ingest.mqtt.worker import MqttWorker
from wuxin.services.bootstrap import device_types_with
from wuxin.services.devices.commands import DatabaseOutbox, command_poll_loop
from wuxin.services.devices.registry import rotate_device_token
from wuxin.services.ingest.jt808 import DatabaseDirectory, PlatformSink, provision_terminal
from wuxin.sim.fleet import fleet_telemetry
from wuxin.sim.rpc_device import RpcDevice, thinned

log = logging.getLogger(__name__)
TICK_S = 2.0
HEARTBEAT_S = 60.0  # JT/T 808 terminals send 0x0002 when they have nothing else to say
COMMAND_POLL_S = 3.0  # as `wuxin jt808 serve --command-poll-s`: an approved command reaches its terminal within this
CHUNK_MS = 30 * 60_000  # simulated ahead, sent when due
EVENT_ALARM_BITS = {name: bit for bit, name in m.ALARM_EVENTS.items()}
WORKER_USER = "wuxin-demo-worker"
FRONT_USER = "wuxin-demo-front"  # the MQTT front end's own broker account
WORKER_SUBSCRIBE_WAIT_S = 15.0  # the front end opens once the worker subscribed (or after this, said as a failure)
ENROL_WINDOW_S = 3600  # the demo's terminals register right after they are provisioned


def demo_terminal_id(device_key: str) -> str:
    """The terminal id the demo's simulated terminal was "made" with (7 characters: fits the 2013 and 2019 layouts)."""
    return "W" + hashlib.sha256(device_key.encode()).hexdigest()[:6].upper()


@dataclass
class LiveCounts:
    jt808_locations: int = 0
    jt808_heartbeats: int = 0
    mqtt_messages: int = 0
    failures: int = 0
    last_error: str | None = None


def terminal_location(values: dict, ts_ms: int, events: list[str]):
    """A JT/T 808 terminal's reading (and its events at that time) as the terminal's 0x0200 location."""
    alarm = sum(1 << EVENT_ALARM_BITS[e] for e in events if e in EVENT_ALARM_BITS)
    return fix(
        datetime.fromtimestamp(ts_ms / 1000, UTC),
        float(values.get("lat", 0.0)),
        float(values.get("lon", 0.0)),
        speed_kmh=round(float(values.get("speed_kmh", 0.0)), 1),
        heading_deg=int(values.get("heading_deg", 0)) % 360,
        altitude_m=int(values.get("altitude_m", 0)),
        alarm=alarm,
        acc_on=bool(values.get("acc_on", True)),
        positioned="lat" in values and "lon" in values,
        mileage_km=round(float(values["odometer_km"]), 1) if "odometer_km" in values else None,
        fuel_l=round(float(values["fuel_l"]), 1) if "fuel_l" in values else None,
    )


PACER_THREAD = "wuxin-demo-devices"


class LiveDevices:
    """Start with `start()` (returns what runs where), stop with `stop()`."""

    def __init__(
        self,
        platform: Platform,
        fleet: list,
        seed: int,
        *,
        jt808_port: int = 7808,
        speed: float = 1.0,
        heartbeat_s: float = HEARTBEAT_S,
        command_poll_s: float = COMMAND_POLL_S,
        data_dir: Path | None = None,
        mqtt_front_port: int = 1884,
    ) -> None:
        self.platform, self.seed, self.speed, self.heartbeat_s = platform, seed, speed, heartbeat_s
        self.command_poll_s = command_poll_s
        self.fleet = fleet
        self.jt808_port = jt808_port
        self.mqtt_front_port = mqtt_front_port  # the vendors' SDKs connect here (ingest/mqtt/front.py)
        self._front: DeviceFrontEnd | None = None
        self.data_dir = data_dir or platform.settings.var_dir / "demo-broker"
        self.counts = LiveCounts()
        self.stop_event = threading.Event()
        history_only, terminals = device_types_with("history_only"), device_types_with("speaks_jt808")
        devices = [d for e in fleet for d in e.devices if d.device_type not in history_only]
        self.terminals = {d.key: d for d in devices if d.device_type in terminals}
        self.mqtt_devices = {d.key: d for d in devices if d.device_type not in terminals}
        self._loop = asyncio.new_event_loop()
        self._threads: list[threading.Thread] = []
        self._sessions: dict[str, SimulatedTerminal] = {}
        self._terminal_locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)  # one reader per connection
        self._poller: asyncio.Task | None = None
        self._publishers: dict[str, RpcDevice] = {}
        self._last_report_ms: dict[str, int | None] = {}  # per terminal: its last location (its cadence)
        self._wheel: dict[str, dict] = {}  # per truck taken off its seeded speed and ACC (take_wheel)
        self._last_fix_ms: dict[str, int] = {}  # per terminal: the time of its latest location sent
        self._gateway: Jt808Gateway | None = None
        self._broker: MosquittoProcess | None = None

    # ---- start and stop

    def start(self) -> str:
        self._thread(self._loop.run_forever, "wuxin-demo-jt808")
        try:
            enrolling = self._provision_terminals()
            self.jt808_port = self._await(self._start_jt808(enrolling))
            said = [f"JT/T 808 gateway on 127.0.0.1:{self.jt808_port} with {len(self._sessions)} GPS terminals"]
        except OSError as exc:  # the port is taken
            self._gateway = None
            said = [f"no JT/T 808 gateway ({exc}; set WUXIN_JT808_PORT)"]
        if shutil.which("mosquitto"):
            said.append(self._start_mqtt())
        else:
            said.append("no mosquitto binary: MQTT devices are not live (apt install mosquitto)")
        self._thread(self._pace, PACER_THREAD)
        return "live devices: " + "; ".join(said)

    def stop(self) -> None:
        self.stop_event.set()
        try:
            for thread in self._threads:  # the pacer first: it ends its tick, then nothing sends on what closes next
                if thread.name == PACER_THREAD:
                    thread.join(timeout=60)
            for device in self._publishers.values():
                device.disconnect()
            if self._gateway is not None:
                self._await(self._stop_jt808())
            self._loop.call_soon_threadsafe(self._loop.stop)
            for thread in self._threads:
                thread.join(timeout=10)
            if self._front is not None:
                self._front.stop()
        finally:  # whatever failed above, the broker process this started does not outlive it
            if self._broker is not None:
                self._broker.stop()

    def _thread(self, target, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _await(self, coroutine, timeout_s: float = 30.0):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout_s)

    # ---- JT/T 808

    def _provision_terminals(self) -> list[str]:
        """Provision every terminal afresh (a new enrolment window): the simulated terminals keep no auth code
        from an earlier run. Returns the keys provisioned."""
        provisioned = []
        for key in self.terminals:
            try:  # a demo loaded with other options has other devices
                provision_terminal(self.platform, None, key, demo_terminal_id(key), window_s=ENROL_WINDOW_S)
            except WuxinError as exc:
                self._failed(str(exc))
                continue
            provisioned.append(key)
        return provisioned

    async def _start_jt808(self, keys: list[str]) -> int:
        outbox = DatabaseOutbox(self.platform)
        self._gateway = Jt808Gateway(DatabaseDirectory(self.platform), PlatformSink(self.platform), outbox=outbox)
        port = await self._gateway.start("127.0.0.1", self.jt808_port)
        self._poller = asyncio.create_task(
            command_poll_loop(self.platform, outbox, self._push_commands, self.command_poll_s)
        )
        for key in keys:
            device = self.terminals[key]
            terminal = SimulatedTerminal(device.attributes["jt808_phone"], "2019", terminal_id=demo_terminal_id(key))
            try:
                await terminal.connect("127.0.0.1", port)
                await terminal.login(device.attributes.get("plate", ""))
            except (ConnectionError, OSError, TimeoutError) as exc:
                self._failed(f"JT/T 808 terminal {key}: {exc}")
                await terminal.close()
                continue
            terminal.vehicle.lat, terminal.vehicle.lon = await asyncio.to_thread(
                self._last_position, key, terminal.vehicle
            )
            self._sessions[key] = terminal
        return port

    def _last_position(self, key: str, vehicle) -> tuple[float, float]:
        """Where the truck's history left it (before its first live report), else where the simulator starts."""
        now_ms = self.platform.clock_ms()
        with self.platform.uow() as uow:
            device = uow.devices.by_key(key)
            if device is None:
                raise NotFound(f"device {key!r} is not registered")
            device_id = device["id"]
            lat = uow.monitoring.latest_value([device_id], "lat", now_ms).get(device_id)
            lon = uow.monitoring.latest_value([device_id], "lon", now_ms).get(device_id)
        return (lat, lon) if lat is not None and lon is not None else (vehicle.lat, vehicle.lon)

    async def _push_commands(self, device_keys: set[str]) -> int:
        """The poll's push: the gateway sends each due terminal its commands, and the simulated terminal (which
        otherwise reads only when it reports) takes and answers them at once, as a real one listening would."""
        if self._gateway is None:  # JT/T 808 is not started: nothing to push
            return 0
        sent = 0
        for key in sorted(device_keys & self._sessions.keys()):
            terminal = self._sessions[key]
            async with self._terminal_locks[key]:
                taken = len(terminal.commands)
                frames = await self._gateway.push_commands(key)
                if frames:
                    try:
                        await terminal.await_commands(taken + frames)
                    except (ConnectionError, OSError, TimeoutError) as exc:
                        self._failed(f"JT/T 808 terminal {key} taking commands: {exc}")
                sent += frames
        return sent

    async def _stop_jt808(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
        for terminal in self._sessions.values():
            await terminal.close()
        if self._gateway is not None:
            await self._gateway.stop()

    async def _send_locations(self, key: str, lines: list[dict], at_once: bool = False) -> None:
        events_at = defaultdict(list)
        for line in lines:
            if "event" in line:
                events_at[line["ts"]].append(line["event"])
        terminal = self._sessions[key]
        async with self._terminal_locks[key]:  # at the terminal's report interval (0x0029), which a command may change
            if not at_once:
                lines, self._last_report_ms[key] = thinned(
                    lines, terminal.vehicle.report_interval_s, self._last_report_ms.get(key)
                )
            await self._report(key, terminal, lines, events_at)

    async def _report(self, key: str, terminal: SimulatedTerminal, lines: list[dict], events_at: dict) -> None:
        for line in lines:
            if "values" in line:
                values = {**line["values"], **self._wheel.get(key, {})}
                if values.get("speed_kmh") == 0 and key in self._wheel:  # the driver parked it: it stays where it is
                    values.update(lat=terminal.vehicle.lat, lon=terminal.vehicle.lon)
                location = terminal.vehicle.constrain(  # a vehicle the bank cut stands still
                    terminal_location(values, line["ts"], events_at.get(line["ts"], []))
                )
                (answer,) = await terminal.request(terminal.builder.location(location))
                self._last_fix_ms[key] = max(self._last_fix_ms.get(key, 0), line["ts"])
                if m.parse_general_response(answer.body)["result"] != m.RESULT_OK:
                    raise ConnectionError(f"location of {key} at {line['ts']} answered {answer.body.hex()}")
                self.counts.jt808_locations += 1

    def take_wheel(self, key: str, speed_kmh: float, acc_on: bool) -> None:
        """The driver of demo truck `key` drives at speed_kmh with the ignition as said (instead of its seeded
        track's speed and ACC; its position still follows the track) and its terminal reports so at once (in the
        next whole second after its last report, which may be a moment ahead of the clock). A truck
        the bank cut stays standing whatever the driver does: its report says so. For the presenter and the tests:
        whether a seeded truck is parked when the cut is asked cannot be known beforehand."""
        terminal = self._sessions[key]
        self._wheel[key] = {"speed_kmh": speed_kmh, "acc_on": acc_on}
        # a location's time has whole seconds: a second report within the same second would be the same reading
        at_ms = max(self.platform.clock_ms(), self._last_fix_ms.get(key, 0) // 1000 * 1000 + 1000)
        now = {
            "device": key,
            "ts": at_ms,
            "values": {
                "lat": terminal.vehicle.lat,
                "lon": terminal.vehicle.lon,
                "heading_deg": terminal.vehicle.heading_deg,
            },
        }
        self._await(self._send_locations(key, [now], at_once=True))  # as a terminal reports an ACC change

    async def _heartbeats(self) -> None:
        for key, terminal in self._sessions.items():
            try:
                async with self._terminal_locks[key]:
                    await terminal.request(terminal.builder.heartbeat())
                self.counts.jt808_heartbeats += 1
            except (ConnectionError, OSError, TimeoutError) as exc:
                self._failed(f"JT/T 808 heartbeat of {key}: {exc}")

    # ---- MQTT

    def _start_mqtt(self) -> str:
        shutil.rmtree(self.data_dir, ignore_errors=True)  # the demo broker's accounts are made afresh each run
        self._broker = broker = MosquittoProcess(self.data_dir).start()
        worker_password, front_password = uuid.uuid4().hex, uuid.uuid4().hex
        admin = DynsecAdmin(broker.admin_url)
        try:  # the broker is the platform's own: devices never connect to it, only to the front end
            provision_worker(admin, WORKER_USER, worker_password)
            provision_front(admin, FRONT_USER, front_password)
        finally:
            admin.close()
        worker = MqttWorker(self.platform, broker.url(WORKER_USER, worker_password), "wuxin-demo-worker")
        self._thread(lambda: worker.run(self.stop_event), "wuxin-demo-mqtt-worker")
        # the broker is fresh: a point forwarded before the worker's shared subscription exists has nobody to go to
        if not worker.subscribed.wait(WORKER_SUBSCRIBE_WAIT_S):
            self._failed(f"the MQTT worker did not subscribe within {WORKER_SUBSCRIBE_WAIT_S:.0f} s")
        front = self._start_front(broker.url(FRONT_USER, front_password))
        if self._front is None:
            return f"Mosquitto on 127.0.0.1:{broker.port}, no MQTT devices live: " + front
        self._connect_devices()
        return f"Mosquitto on 127.0.0.1:{broker.port}; {front} with {len(self._publishers)} MQTT devices"

    def _start_front(self, broker_url: str) -> str:
        """The MQTT front end devices connect to (ThingsBoard token as user name, or LinkKit's signature)."""
        try:
            self._front = DeviceFrontEnd(self.platform, broker_url, "127.0.0.1", self.mqtt_front_port).start_in_thread()
        except (OSError, BrokerError) as exc:  # the port is taken
            self._front = None
            return f"no MQTT front end ({exc}; set WUXIN_DEMO_MQTT_FRONT_PORT)"
        return f"MQTT front end for the vendors' SDKs on 127.0.0.1:{self._front.port}"

    def _connect_devices(self) -> None:
        """Each MQTT device with a fresh token of its own, connected to the front end and listening for RPC."""
        assert self._front is not None and self._front.port is not None  # the demo's front end has a plain port
        for key, device in self.mqtt_devices.items():
            try:  # a demo loaded with other options has other devices
                token = rotate_device_token(self.platform, None, key)
            except NotFound as exc:
                self._failed(str(exc))
                continue
            model = self.platform.thing_models.get(device.device_type)
            services = (
                frozenset(s["identifier"] for s in (model.source.get("services") or [])) if model else frozenset()
            )
            self._publishers[key] = RpcDevice(key, token, "127.0.0.1", self._front.port, services)
        self._await_connected()

    def _await_connected(self, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        waiting = dict(self._publishers)
        while waiting and time.monotonic() < deadline:
            for key, device in list(waiting.items()):
                device.loop()
                if device.connected():
                    del waiting[key]
        for key in waiting:
            self._failed(f"MQTT device {key} was not let in by the front end")
            self._publishers.pop(key).disconnect()

    def _publish(self, key: str, lines: list[dict]) -> None:
        if self._publishers[key].publish(lines):
            self.counts.mqtt_messages += 1

    # ---- pacing

    def _pace(self) -> None:
        """Every tick, send what the simulator says each live device measured since the last tick."""
        began, start_ms = time.monotonic(), self.platform.clock_ms()
        pending, chunk_end_ms, beat_at = [], start_ms, began
        while not self.stop_event.wait(TICK_S):
            if time.monotonic() - beat_at >= self.heartbeat_s:
                self._await(self._heartbeats())
                beat_at = time.monotonic()
            now_ms = start_ms + int((time.monotonic() - began) * self.speed * 1000)
            while chunk_end_ms <= now_ms:
                pending += self._simulate(chunk_end_ms, chunk_end_ms + CHUNK_MS)
                chunk_end_ms += CHUNK_MS
            due = [l for l in pending if l["ts"] <= now_ms]
            pending = [l for l in pending if l["ts"] > now_ms]
            self._send(due)
            for device in self._publishers.values():
                device.loop()  # write, read PUBACKs and RPC requests (answered at once), keep alive

    def _simulate(self, from_ms: int, to_ms: int) -> list[dict]:
        live = self.terminals.keys() | self.mqtt_devices.keys()
        return [l for l in fleet_telemetry(self.fleet, from_ms, to_ms, self.seed) if l["device"] in live]

    def _send(self, lines: list[dict]) -> None:
        by_device: dict[str, list[dict]] = defaultdict(list)
        for line in sorted(lines, key=lambda l: l["ts"]):
            by_device[line["device"]].append(line)
        for key, device_lines in by_device.items():
            if self.stop_event.is_set():
                return
            try:
                if key in self._sessions:
                    self._await(self._send_locations(key, device_lines))
                elif key in self._publishers:
                    self._publish(key, device_lines)
            except Exception as exc:  # one device failing must not stop the others
                self._failed(f"{key}: {type(exc).__name__}: {exc}")

    def _failed(self, message: str) -> None:
        self.counts.failures += 1
        self.counts.last_error = message
        log.warning("demo device %s", message)
