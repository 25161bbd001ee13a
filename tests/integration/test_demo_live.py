"""The demo's live devices: GPS terminals over a real JT/T 808 socket, the rest over a real Mosquitto with
per-device credentials, consumed by the platform's MQTT worker into the database."""

from __future__ import annotations

import time

from wuxin.services.bootstrap import device_types_with
from wuxin.services.demo.live import LiveDevices, terminal_location
from wuxin.services.devices.onboarding import onboard_enterprise
from wuxin.sim.fleet import build_fleet


def _channels(platform, keys: set[str]) -> dict[str, set[str]]:
    """Device key -> channels its stored readings came in on."""
    out: dict[str, set[str]] = {}
    with platform.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT DISTINCT d.key, b.channel FROM readings r JOIN devices d ON d.id = r.device_id "
            "JOIN batches b ON b.id = r.batch_id"
        ).all()
    for key, channel in rows:
        if key in keys:
            out.setdefault(key, set()).add(channel)
    return out


def test_live_demo_devices_send_over_jt808_and_mqtt_until_stopped(platform, tmp_path):
    fleet = build_fleet(["logistics", "vehicles"], 1, 11)
    for spec in fleet:
        onboard_enterprise(platform, spec, [])
    live = LiveDevices(
        platform, fleet, 11, jt808_port=0, speed=900, heartbeat_s=1, data_dir=tmp_path / "broker", mqtt_front_port=0
    )
    said = live.start()
    try:
        assert "GPS terminals" in said and "MQTT devices" in said
        assert f"MQTT front end for the vendors' SDKs on 127.0.0.1:{live._front.port}" in said and live._front.port
        assert live._front.connected(sorted(live.mqtt_devices)[0]) == 1  # the demo's devices are its clients
        terminals, mqtt_devices = set(live.terminals), set(live.mqtt_devices)
        assert terminals and mqtt_devices
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            seen = _channels(platform, terminals | mqtt_devices)
            if {"jt808"} in seen.values() and {"mqtt"} in seen.values():
                break
            time.sleep(0.5)
    finally:
        live.stop()
    assert live.counts.failures == 0, live.counts.last_error
    assert live.counts.jt808_locations > 0 and live.counts.mqtt_messages > 0 and live.counts.jt808_heartbeats > 0
    assert all(channels == {"jt808"} for key, channels in seen.items() if key in terminals)
    assert any(channels == {"mqtt"} for key, channels in seen.items() if key in mqtt_devices)
    with platform.uow() as uow:
        ids = [uow.devices.by_key(k)["id"] for k in terminals]
        causes = {t["cause"] for t in uow.protocols.transitions(ids, 0, 2**62, 100)}
    assert {"jt808_authenticated", "jt808_connection_closed"} <= causes
    assert all(not t.is_alive() for t in live._threads)


def test_animal_wearables_stay_history_only_and_alarms_become_alarm_bits():
    fleet = build_fleet(["dairy"], 1, 3)
    kept = [d.key for e in fleet for d in e.devices if d.device_type not in device_types_with("history_only")]
    assert kept and len(kept) < sum(len(e.devices) for e in fleet)
    location = terminal_location(
        {"lat": 30.1, "lon": 120.2, "speed_kmh": 61.26, "heading_deg": 370, "odometer_km": 1234.56, "acc_on": False},
        1_790_000_000_000,
        ["power_cut", "geofence_exit"],
    )
    assert location.alarm == 1 << 8 and location.heading_deg == 10 and location.speed_kmh == 61.3
    assert location.mileage_km == 1234.6 and not location.acc_on and location.time.year == 2026


def test_a_taken_jt808_port_is_said_and_the_rest_goes_on(platform, tmp_path):
    import socket

    fleet = build_fleet(["vehicles"], 1, 5)
    for spec in fleet:
        onboard_enterprise(platform, spec, [])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        live = LiveDevices(
            platform, fleet, 5, jt808_port=taken.getsockname()[1], data_dir=tmp_path / "broker", mqtt_front_port=0
        )
        said = live.start()
        live.stop()
    assert "no JT/T 808 gateway" in said and "MQTT devices" in said


def _front_lets_in(port: int, token: str) -> bool:
    """Whether the platform's MQTT front end accepts a ThingsBoard CONNECT with this access token."""
    import paho.mqtt.client as mqtt

    result: list[int] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"check-{time.monotonic_ns()}")
    client.username_pw_set(token)
    client.on_connect = lambda _c, _u, _f, reason, _p: result.append(reason.value)
    client.connect("127.0.0.1", port, keepalive=10)
    deadline = time.monotonic() + 10
    while not result and time.monotonic() < deadline:
        client.loop(timeout=0.1)
    client.disconnect()
    assert result, "no CONNACK"
    return result[0] == 0


def test_a_token_rotated_or_revoked_while_the_demo_runs_counts_at_the_front_end_at_once(platform, tmp_path):
    """Device accounts live in the platform: the demo's devices connect to its MQTT front end, never to the broker."""
    from wuxin.services.devices.registry import revoke_device_tokens, rotate_device_token

    fleet = build_fleet(["manufacturing"], 1, 5)
    for spec in fleet:
        onboard_enterprise(platform, spec, [])
    live = LiveDevices(
        platform, fleet, 5, jt808_port=0, speed=60, heartbeat_s=5, data_dir=tmp_path / "broker", mqtt_front_port=0
    )
    live.start()
    try:
        key, other = sorted(live.mqtt_devices)[:2]
        port = live._front.port
        assert live._front.connected(key) == 1  # the demo device itself
        old = rotate_device_token(platform, None, key)  # the token the device now holds
        assert _front_lets_in(port, old)
        new = rotate_device_token(platform, None, key)
        assert _front_lets_in(port, new) and not _front_lets_in(port, old)
        other_token = rotate_device_token(platform, None, other)
        revoke_device_tokens(platform, None, other)
        assert not _front_lets_in(port, other_token)
        assert not _front_lets_in(live._broker.port, new)  # the broker knows no device
    finally:
        live.stop()
    assert platform.settings.mqtt_admin_url is None  # no device account is synchronised to the demo's broker


def _command_state(platform, admin, command_id: int) -> dict:
    from wuxin.services.devices import commands

    return commands.command_detail(platform, admin, command_id)


def test_the_live_demo_polls_for_approved_commands_and_its_terminal_answers_without_a_heartbeat(platform, tmp_path):
    """An approved command reaches a live demo terminal through the gateway's poll loop (the one `wuxin jt808 serve`
    runs), not on a heartbeat: the terminals here send none, so without the poll it would wait forever."""
    from wuxin.domain.model import Role
    from wuxin.security.policy import Principal
    from wuxin.services.access import identity
    from wuxin.services.devices import commands

    fleet = build_fleet(["vehicles"], 1, 11)
    for spec in fleet:
        onboard_enterprise(platform, spec, [])
    admin_id = identity.create_user(platform, "cmd-admin", "a-long-password-1", "platform_admin", None, None)
    admin = Principal(admin_id, "cmd-admin", Role.PLATFORM_ADMIN, None, None)
    live = LiveDevices(
        platform, fleet, 11, jt808_port=0, speed=1, heartbeat_s=10_000, command_poll_s=0.2, data_dir=tmp_path / "broker"
    )
    live.start()
    try:
        key = sorted(live._sessions)[0]
        asked = commands.request_command(
            platform, admin, key, "set_parameters", {"report_interval_s": 30}, "demo: report every 30 s"
        )
        assert asked["state"] == "approved"
        deadline = time.monotonic() + 60
        while (
            _command_state(platform, admin, asked["id"])["state"] in ("approved", "sent")
            and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        terminal = live._sessions[key]
    finally:
        live.stop()
    done = _command_state(platform, admin, asked["id"])
    assert done["state"] == "acknowledged", done
    assert live.counts.jt808_heartbeats == 0  # delivered by the poll, not on a heartbeat
    assert terminal.vehicle.parameters[0x0029] == 30  # the terminal carried it out
    assert live.counts.failures == 0, live.counts.last_error


def _reading_times(platform, key: str, after_ms: int) -> list[int]:
    from sqlalchemy import text

    with platform.engine.connect() as conn:
        return [
            ts
            for (ts,) in conn.execute(
                text(
                    "SELECT DISTINCT r.ts_ms FROM readings r JOIN devices d ON d.id = r.device_id WHERE d.key = :key "
                    "AND r.ts_ms > :after ORDER BY r.ts_ms"
                ),
                {"key": key, "after": after_ms},
            ).all()
        ]


def test_a_live_demo_mqtt_device_answers_rpc_and_its_cadence_follows_the_new_interval(platform, tmp_path):
    """The whole loop over real sockets: an integrator's set_report_interval is delivered by the front end on
    v1/devices/me/rpc/request/{id}, the demo device answers on .../response/{id}, the command is acknowledged,
    and the device's readings that follow are at least that far apart."""
    from wuxin.domain.model import Role
    from wuxin.security.policy import Principal
    from wuxin.services.access import identity
    from wuxin.services.devices import commands

    fleet = build_fleet(["manufacturing"], 1, 5)
    for spec in fleet:
        onboard_enterprise(platform, spec, [])
    admin = Principal(
        identity.create_user(platform, "rpc-admin", "a-long-password-1", "platform_admin", None, None),
        "rpc-admin",
        Role.PLATFORM_ADMIN,
        None,
        None,
    )
    live = LiveDevices(
        platform, fleet, 5, jt808_port=0, speed=600, heartbeat_s=10_000, data_dir=tmp_path / "broker", mqtt_front_port=0
    )
    live.start()
    try:
        key = sorted(live.mqtt_devices)[0]
        asked = commands.request_command(
            platform, admin, key, "set_report_interval", {"interval_s": 3600}, "demo: report hourly"
        )
        deadline = time.monotonic() + 60
        while (
            _command_state(platform, admin, asked["id"])["state"] in ("approved", "sent")
            and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        sent_before = live._publishers[key].last_sent_ms or 0
        deadline = time.monotonic() + 90
        while len(stamps := _reading_times(platform, key, sent_before)) < 3 and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        live.stop()
    done = _command_state(platform, admin, asked["id"])
    assert done["state"] == "acknowledged", done
    assert done["answer"] == {"response": {"report_interval_s": 3600}}
    assert live._publishers[key].report_interval_s == 3600
    assert len(stamps) >= 3, stamps
    assert min(b - a for a, b in zip(stamps, stamps[1:])) >= 3_600_000  # hourly now, not the simulator's step
    assert live.counts.failures == 0, live.counts.last_error


def test_the_demo_front_end_opens_once_its_worker_has_subscribed(platform, tmp_path, monkeypatch):
    """The demo's broker is fresh: a point the front end forwarded before the worker's shared subscription existed
    would have nobody to go to. Here the worker is slow to subscribe, as on a loaded machine."""
    from wuxin.ingest.mqtt.front import DeviceFrontEnd
    from wuxin.ingest.mqtt.worker import MqttWorker

    workers: list[MqttWorker] = []
    subscribed_at_front_start: list[list[bool]] = []
    original_init, original_connect = MqttWorker.__init__, MqttWorker._on_connect
    original_start = DeviceFrontEnd.start_in_thread

    def init(self, *args, **kwargs) -> None:
        original_init(self, *args, **kwargs)
        workers.append(self)

    def slow_connect(self, *args) -> None:
        time.sleep(1.0)  # the worker's network thread is late to subscribe
        original_connect(self, *args)

    def start(self):
        subscribed_at_front_start.append([w.subscribed.is_set() for w in workers])
        return original_start(self)

    monkeypatch.setattr(MqttWorker, "__init__", init)
    monkeypatch.setattr(MqttWorker, "_on_connect", slow_connect)
    monkeypatch.setattr(DeviceFrontEnd, "start_in_thread", start)
    fleet = build_fleet(["manufacturing"], 1, 5)
    for spec in fleet:
        onboard_enterprise(platform, spec, [])
    live = LiveDevices(platform, fleet, 5, jt808_port=0, data_dir=tmp_path / "broker", mqtt_front_port=0)
    said = live.start()
    live.stop()
    assert "MQTT devices" in said, said
    assert subscribed_at_front_start == [[True]]
    assert live.counts.failures == 0, live.counts.last_error
