"""Live devices for `wuxin demo`: after the history, the demo fleet goes on sending, over the
protocols real devices speak, paced at real time by the same seeded simulator.

- GPS terminals (`vehicles.gps_terminal`) are provisioned as an integrator would (terminal id,
  enrolment window), then register and log in to an in-process JT/T 808 gateway on 127.0.0.1
  (`WUXIN_JT808_PORT`, default 7808) and report 0x0200 locations; their alarms travel as alarm bits.
- The other devices publish ThingsBoard MQTT telemetry, each with its own credentials, to a
  Mosquitto the demo starts on a free loopback port (dynamic security: a device can publish only
  as itself); the platform's MQTT worker consumes it and acknowledges after commit. Without a
  `mosquitto` binary this part is skipped and said so.
- Dairy collars and ear tags (most of the demo's devices) stay history only: in the field
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

import orjson
import paho.mqtt.client as mqtt

from wuxin.bootstrap import Platform
from wuxin.errors import NotFound, WuxinError
from wuxin.ingest.jt808 import messages as m
from wuxin.ingest.jt808.gateway import Jt808Gateway
from wuxin.ingest.jt808.simulator import SimulatedTerminal, fix
from wuxin.ingest.mqtt.broker import (BrokerError, DynsecAdmin, MosquittoProcess, provision_device, provision_front,
                                     provision_worker)
from wuxin.ingest.mqtt.front import DeviceFrontEnd
from wuxin.ingest.mqtt.worker import MqttWorker
from wuxin.services.devices.commands import DatabaseOutbox, command_poll_loop
from wuxin.services.ingest.jt808 import TERMINAL_TYPE, DatabaseDirectory, PlatformSink, provision_terminal
from wuxin.services.devices.registry import rotate_device_token
from wuxin.sim.fleet import fleet_telemetry
from wuxin.sim.live import thingsboard_item

log = logging.getLogger(__name__)
TICK_S = 2.0
HEARTBEAT_S = 60.0  # JT/T 808 terminals send 0x0002 when they have nothing else to say
COMMAND_POLL_S = 3.0  # as `wuxin jt808 serve --command-poll-s`: an approved command reaches its terminal within this
CHUNK_MS = 30 * 60_000  # simulated ahead, sent when due
HISTORY_ONLY_TYPES = frozenset({"dairy.collar", "dairy.ear_tag"})
EVENT_ALARM_BITS = {name: bit for bit, name in m.ALARM_EVENTS.items()}
WORKER_USER = "wuxin-demo-worker"
FRONT_USER = "wuxin-demo-front"  # the MQTT front end's own broker account
ENROL_WINDOW_S = 3600  # the demo's terminals register right after they are provisioned


def demo_terminal_id(device_key: str) -> str:
    """The 7-character terminal id (2013 layout) the demo's simulated terminal was 'made' with."""
    return "W" + hashlib.sha256(device_key.encode()).hexdigest()[:6].upper()


@dataclass
class LiveCounts:
    jt808_locations: int = 0
    jt808_heartbeats: int = 0
    mqtt_messages: int = 0
    failures: int = 0
    last_error: str | None = None


def terminal_location(values: dict, ts_ms: int, events: list[str]):
    """A `vehicles.gps_terminal` reading (and its events at that time) as the terminal's 0x0200 location."""
    alarm = sum(1 << EVENT_ALARM_BITS[e] for e in events if e in EVENT_ALARM_BITS)
    return fix(datetime.fromtimestamp(ts_ms / 1000, UTC), float(values.get("lat", 0.0)), float(values.get("lon", 0.0)),
               speed_kmh=round(float(values.get("speed_kmh", 0.0)), 1), heading_deg=int(values.get("heading_deg", 0)) % 360,
               altitude_m=int(values.get("altitude_m", 0)), alarm=alarm, acc_on=bool(values.get("acc_on", True)),
               positioned="lat" in values and "lon" in values,
               mileage_km=round(float(values["odometer_km"]), 1) if "odometer_km" in values else None,
               fuel_l=round(float(values["fuel_l"]), 1) if "fuel_l" in values else None)


PACER_THREAD = "wuxin-demo-devices"


class LiveDevices:
    """Start with `start()` (returns what runs where), stop with `stop()`."""

    def __init__(self, platform: Platform, fleet: list, seed: int, *, jt808_port: int = 7808, speed: float = 1.0,
                 heartbeat_s: float = HEARTBEAT_S, command_poll_s: float = COMMAND_POLL_S,
                 data_dir: Path | None = None, mqtt_front_port: int = 1884) -> None:
        self.platform, self.seed, self.speed, self.heartbeat_s = platform, seed, speed, heartbeat_s
        self.command_poll_s = command_poll_s
        self.fleet = fleet
        self.jt808_port = jt808_port
        self.mqtt_front_port = mqtt_front_port  # the vendors' SDKs connect here (ingest/mqtt/front.py)
        self._front: DeviceFrontEnd | None = None
        self.data_dir = data_dir or platform.settings.var_dir / "demo-broker"
        self.counts = LiveCounts()
        self.stop_event = threading.Event()
        devices = [d for e in fleet for d in e.devices if d.device_type not in HISTORY_ONLY_TYPES]
        self.terminals = {d.key: d for d in devices if d.device_type == TERMINAL_TYPE}
        self.mqtt_devices = {d.key: d for d in devices if d.device_type != TERMINAL_TYPE}
        self._loop = asyncio.new_event_loop()
        self._threads: list[threading.Thread] = []
        self._sessions: dict[str, SimulatedTerminal] = {}
        self._terminal_locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)  # one reader per connection
        self._poller: asyncio.Task | None = None
        self._publishers: dict[str, mqtt.Client] = {}
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
        for thread in self._threads:  # the pacer first: it ends its tick, then nothing sends on what closes next
            if thread.name == PACER_THREAD:
                thread.join(timeout=60)
        for client in self._publishers.values():
            client.disconnect()
        if self._gateway is not None:
            self._await(self._stop_jt808())
        self._loop.call_soon_threadsafe(self._loop.stop)
        for thread in self._threads:
            thread.join(timeout=10)
        if self._front is not None:
            self._front.stop()
        if self._broker is not None:
            self.platform.settings.mqtt_admin_url = None
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
        self._poller = asyncio.create_task(command_poll_loop(self.platform, outbox, self._push_commands,
                                                             self.command_poll_s))
        for key in keys:
            device = self.terminals[key]
            terminal = SimulatedTerminal(device.attributes["jt808_phone"], terminal_id=demo_terminal_id(key))
            try:
                await terminal.connect("127.0.0.1", port)
                await terminal.login(device.attributes.get("plate", ""))
            except (ConnectionError, OSError, TimeoutError) as exc:
                self._failed(f"JT/T 808 terminal {key}: {exc}")
                await terminal.close()
                continue
            self._sessions[key] = terminal
        return port

    async def _push_commands(self, device_keys: set[str]) -> int:
        """The poll's push: the gateway sends each due terminal its commands, and the simulated terminal (which
        otherwise reads only when it reports) takes and answers them at once, as a real one listening would."""
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
        await self._gateway.stop()

    async def _send_locations(self, key: str, lines: list[dict]) -> None:
        events_at = defaultdict(list)
        for line in lines:
            if "event" in line:
                events_at[line["ts"]].append(line["event"])
        terminal = self._sessions[key]
        async with self._terminal_locks[key]:
            await self._report(key, terminal, lines, events_at)

    async def _report(self, key: str, terminal: SimulatedTerminal, lines: list[dict], events_at: dict) -> None:
        for line in lines:
            if "values" in line:
                location = terminal.vehicle.constrain(  # a vehicle the bank cut stands still
                    terminal_location(line["values"], line["ts"], events_at.get(line["ts"], [])))
                (answer,) = await terminal.request(terminal.builder.location(location))
                if m.parse_general_response(answer.body)["result"] != m.RESULT_OK:
                    raise ConnectionError(f"location of {key} at {line['ts']} answered {answer.body.hex()}")
                self.counts.jt808_locations += 1

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
        self._broker = MosquittoProcess(self.data_dir).start()
        worker_password, front_password = uuid.uuid4().hex, uuid.uuid4().hex
        admin = DynsecAdmin(self._broker.admin_url)
        try:
            provision_worker(admin, WORKER_USER, worker_password)
            provision_front(admin, FRONT_USER, front_password)
            for key, device in self.mqtt_devices.items():
                try:  # a demo loaded with other options has other devices
                    token = rotate_device_token(self.platform, None, key)
                except NotFound as exc:
                    self._failed(str(exc))
                    continue
                provision_device(admin, key, device.device_type, token)
                self._publishers[key] = self._device_client(key, token)
        finally:
            admin.close()
        self._await_connected()
        # From now on token rotations and revocations (API, CLI) reach this broker at once; the settings object
        # is the process's one (get_settings), so the API served beside the demo sees it too.
        self.platform.settings.mqtt_admin_url = self._broker.admin_url
        worker = MqttWorker(self.platform, self._broker.url(WORKER_USER, worker_password), "wuxin-demo-worker")
        self._thread(lambda: worker.run(self.stop_event), "wuxin-demo-mqtt-worker")
        return (f"Mosquitto on 127.0.0.1:{self._broker.port} with {len(self._publishers)} MQTT devices; "
                + self._start_front(front_password))

    def _start_front(self, front_password: str) -> str:
        """The MQTT front end a ThingsBoard or LinkKit SDK device connects to (device token as username)."""
        try:
            self._front = DeviceFrontEnd(self.platform, self._broker.url(FRONT_USER, front_password), "127.0.0.1",
                                         self.mqtt_front_port).start_in_thread()
        except (OSError, BrokerError) as exc:  # the port is taken
            self._front = None
            return f"no MQTT front end for the vendors' SDKs ({exc}; set WUXIN_DEMO_MQTT_FRONT_PORT)"
        return f"MQTT front end for the vendors' SDKs on 127.0.0.1:{self._front.port}"

    def _device_client(self, key: str, token: str) -> mqtt.Client:
        """The device's own connection; its network I/O runs on the pacing thread (no thread per device)."""
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"demo-{key}")
        client.username_pw_set(key, token)
        client.connect("127.0.0.1", self._broker.port, keepalive=60)
        return client

    def _await_connected(self, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        waiting = dict(self._publishers)
        while waiting and time.monotonic() < deadline:
            for key, client in list(waiting.items()):
                client.loop(timeout=0.01)
                if client.is_connected():
                    del waiting[key]
        for key in waiting:
            self._failed(f"MQTT device {key} was not let in by the broker")
            self._publishers.pop(key).disconnect()

    def _publish(self, key: str, lines: list[dict]) -> None:
        client = self._publishers[key]
        client.publish(f"v1/devices/{key}/telemetry", orjson.dumps([thingsboard_item(l) for l in lines]), qos=1)
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
            for client in self._publishers.values():
                client.loop(timeout=0)  # write, read PUBACKs, keep alive

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
