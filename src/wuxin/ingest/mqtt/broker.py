"""Mosquitto as the platform runs it: the configuration template, a process handle (tests, bench),
and the dynamic-security control API that binds each device account to its own topics."""

from __future__ import annotations

import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from string import Template
from urllib.parse import unquote, urlparse

import paho.mqtt.client as mqtt

from wuxin.ingest.mqtt import topics

TEMPLATE_ENV = "WUXIN_MOSQUITTO_TEMPLATE"
DYNSEC_PLUGIN_CANDIDATES = (
    "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so",
    "/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so",
    "/usr/lib/mosquitto_dynamic_security.so",
    "/usr/local/lib/mosquitto_dynamic_security.so",
)
CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
WORKER_ROLE = "wuxin-worker"
FRONT_ROLE = "wuxin-front"


class BrokerError(RuntimeError):
    """The broker refused a command or could not be reached; the message says which and why."""


@dataclass(frozen=True)
class MqttUrl:
    host: str
    port: int
    username: str | None
    password: str | None


def parse_mqtt_url(url: str) -> MqttUrl:
    """mqtt://user:password@host:port (port 1883 by default)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("mqtt", "tcp") or not parsed.hostname:
        raise ValueError(f"MQTT URL {url!r} must look like mqtt://user:password@host:1883")
    user = unquote(parsed.username) if parsed.username else None
    password = unquote(parsed.password) if parsed.password else None
    return MqttUrl(parsed.hostname, parsed.port or 1883, user, password)


def template_path() -> Path:
    """deploy/mosquitto/mosquitto.conf.template of the source tree (or WUXIN_MOSQUITTO_TEMPLATE)."""
    if os.environ.get(TEMPLATE_ENV):
        return Path(os.environ[TEMPLATE_ENV])
    return Path(__file__).resolve().parents[4] / "deploy" / "mosquitto" / "mosquitto.conf.template"


def dynsec_plugin_path() -> str:
    for candidate in DYNSEC_PLUGIN_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    raise BrokerError(f"mosquitto_dynamic_security.so not found in {DYNSEC_PLUGIN_CANDIDATES}")


@dataclass(frozen=True)
class TlsListener:
    """The devices' listener: TLS with client certificates from the device CA (deploy/mosquitto/tls-listener.conf.template)."""

    port: int
    device_ca_file: Path
    server_cert_file: Path
    server_key_file: Path
    bind_address: str = "0.0.0.0"

    def render(self) -> str:
        for path in (self.device_ca_file, self.server_cert_file, self.server_key_file):
            if not Path(path).is_file():
                raise BrokerError(f"TLS file {path} does not exist")
        template = template_path().with_name("tls-listener.conf.template")
        return Template(template.read_text()).substitute(
            tls_port=self.port,
            tls_bind_address=self.bind_address,
            device_ca_file=Path(self.device_ca_file).resolve(),
            server_cert_file=Path(self.server_cert_file).resolve(),
            server_key_file=Path(self.server_key_file).resolve(),
        )


def render_config(
    port: int,
    data_dir: Path,
    *,
    bind_address: str = "127.0.0.1",
    max_inflight_messages: int = 10_000,
    max_queued_messages: int = 5_000_000,
    autosave_interval_s: int = 60,
    log_file: Path | None = None,
    run_as_user: str | None = None,
    tls: TlsListener | None = None,
) -> str:
    """The project's template filled for one broker, with the devices' TLS listener when given."""
    return Template(template_path().read_text()).substitute(
        port=port,
        bind_address=bind_address,
        dynsec_plugin=dynsec_plugin_path(),
        dynsec_file=data_dir / "dynamic-security.json",
        data_dir=data_dir,
        autosave_interval_s=autosave_interval_s,
        max_inflight_messages=max_inflight_messages,
        max_queued_messages=max_queued_messages,
        log_dest=f"file {log_file}" if log_file else "stderr",
        connection_messages="true" if log_file else "false",
        run_as_user=run_as_user or getpass.getuser(),
    ) + (tls.render() if tls else "")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MosquittoProcess:
    """A Mosquitto started from the project's template on a loopback port, with dynsec initialised."""

    def __init__(self, data_dir: Path, port: int | None = None, admin_password: str | None = None, **config) -> None:
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.admin_user = "wuxin-admin"
        self.admin_password = admin_password or uuid.uuid4().hex
        self._config = config
        self.process: subprocess.Popen | None = None

    @property
    def admin_url(self) -> str:
        return f"mqtt://{self.admin_user}:{self.admin_password}@127.0.0.1:{self.port}"

    def url(self, username: str, password: str) -> str:
        return f"mqtt://{username}:{password}@127.0.0.1:{self.port}"

    def start(self) -> MosquittoProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        conf = self.data_dir / "mosquitto.conf"
        conf.write_text(
            render_config(self.port, self.data_dir, log_file=self.data_dir / "mosquitto.log", **self._config)
        )
        dynsec = self.data_dir / "dynamic-security.json"
        if not dynsec.exists():
            subprocess.run(
                [
                    shutil.which("mosquitto_ctrl") or "mosquitto_ctrl",
                    "dynsec",
                    "init",
                    str(dynsec),
                    self.admin_user,
                    self.admin_password,
                ],
                check=True,
                capture_output=True,
            )
        self.process = subprocess.Popen(
            ["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )  # a Ctrl-C reaches us; we stop it in order
        self._wait_listening()
        return self

    def _wait_listening(self, timeout_s: float = 10.0) -> None:
        process = self.process
        if process is None:
            raise BrokerError("mosquitto was not started")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise BrokerError(f"mosquitto exited with {process.returncode}; see {self.data_dir}/mosquitto.log")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise BrokerError(f"mosquitto did not listen on port {self.port} within {timeout_s} s")

    def stop(self) -> None:
        """Graceful stop: Mosquitto writes its persistence file (queued QoS 1 messages) on SIGTERM."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> MosquittoProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def connect_client(
    url: str,
    client_id: str | None = None,
    *,
    clean_session: bool = True,
    protocol: mqtt.MQTTProtocolVersion = mqtt.MQTTv311,
    timeout_s: float = 10.0,
) -> mqtt.Client:
    """A connected paho client with its network loop running; raises BrokerError if refused."""
    target = parse_mqtt_url(url)
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id or f"wuxin-{uuid.uuid4().hex[:12]}",
        clean_session=None if protocol == mqtt.MQTTv5 else clean_session,  # MQTT 5 has clean start instead
        protocol=protocol,
    )
    if target.username:
        client.username_pw_set(target.username, target.password)
    connected = threading.Event()
    outcome: list = []

    def on_connect(_client, _userdata, _flags, reason_code, _properties):
        outcome.append(reason_code)
        connected.set()

    client.on_connect = on_connect
    try:
        client.connect(target.host, target.port, keepalive=30)
    except OSError as exc:
        raise BrokerError(f"MQTT broker {target.host}:{target.port} unreachable: {exc}") from None
    client.loop_start()
    if not connected.wait(timeout_s) or outcome[0].is_failure:
        client.loop_stop()
        client.disconnect()
        raise BrokerError(
            f"MQTT connect to {target.host}:{target.port} as {target.username!r} refused: "
            f"{outcome[0] if outcome else 'timeout'}"
        )
    client.on_connect = None
    return client


class DynsecAdmin:
    """The dynamic-security control API ($CONTROL/dynamic-security/v1), one command batch at a time."""

    def __init__(self, admin_url: str, timeout_s: float = 10.0) -> None:
        self.timeout_s = timeout_s
        self._responses: dict[str, dict] = {}
        self._arrived = threading.Condition()
        self.client = connect_client(admin_url)
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *args: subscribed.set()
        self.client.subscribe(CONTROL_TOPIC + "/response", qos=1)
        if not subscribed.wait(timeout_s):
            raise BrokerError("dynamic-security response topic could not be subscribed")

    def _on_message(self, _client, _userdata, message) -> None:
        for response in json.loads(message.payload).get("responses", []):
            with self._arrived:
                self._responses[response.get("correlationData", "")] = response
                self._arrived.notify_all()

    def run(self, commands: list[dict], *, tolerate: tuple[str, ...] = ()) -> list[dict]:
        """Send commands, wait for every answer; an error not in `tolerate` raises BrokerError."""
        ids = []
        for command in commands:
            command["correlationData"] = uuid.uuid4().hex
            ids.append(command["correlationData"])
        self.client.publish(CONTROL_TOPIC, json.dumps({"commands": commands}), qos=1)
        deadline = time.monotonic() + self.timeout_s
        with self._arrived:
            while not all(i in self._responses for i in ids):
                if not self._arrived.wait(max(0.0, deadline - time.monotonic())) and time.monotonic() >= deadline:
                    raise BrokerError(f"dynamic-security did not answer {[c['command'] for c in commands]}")
            responses = [self._responses.pop(i) for i in ids]
        for command, response in zip(commands, responses):
            error = response.get("error")
            if error and not any(t in error for t in tolerate):
                raise BrokerError(
                    f"dynamic-security {command['command']} "
                    f"{command.get('username') or command.get('rolename') or ''}: {error}"
                )
        return responses

    def ensure_role(self, rolename: str, acls: list[dict]) -> None:
        """Create the role, or replace its ACLs when they differ. Dynamic security disconnects every client
        of a role whose ACLs change, so an unchanged role is left alone (a refresh must not drop devices)."""
        responses = self.run(
            [{"command": "createRole", "rolename": rolename, "acls": acls}], tolerate=("already exists",)
        )
        if responses[0].get("error"):
            current = self.run([{"command": "getRole", "rolename": rolename}])[0]["data"]["role"].get("acls", [])
            if _acl_set(current) == _acl_set(acls):
                return
            self.run(
                [
                    {"command": "removeRoleACL", "rolename": rolename, "acltype": a["acltype"], "topic": a["topic"]}
                    for a in current
                ]
                + [{"command": "addRoleACL", "rolename": rolename, **a} for a in acls]
            )

    def ensure_client(self, username: str, password: str | None, roles: list[str], enabled: bool = True) -> None:
        """Create or update a client account (password None keeps the current one). Dynamic security
        disconnects a client it modifies, so only what differs is sent: a refresh leaves connections be."""
        create = {"command": "createClient", "username": username, "roles": [{"rolename": r} for r in roles]}
        if password is not None:
            create["password"] = password
        responses = self.run([create], tolerate=("already exists",))
        if not responses[0].get("error"):
            if not enabled:
                self.run([{"command": "disableClient", "username": username}])
            return
        current = self.run([{"command": "getClient", "username": username}])[0]["data"]["client"]
        update = []
        if sorted(r["rolename"] for r in current.get("roles", [])) != sorted(roles):
            update.append({"command": "modifyClient", "username": username, "roles": [{"rolename": r} for r in roles]})
        if password is not None:
            update.append({"command": "setClientPassword", "username": username, "password": password})
        if bool(current.get("disabled")) == enabled:
            update.append({"command": "enableClient" if enabled else "disableClient", "username": username})
        if update:
            self.run(update)

    def disable_client(self, username: str) -> None:
        """Refuse the account and disconnect it if connected."""
        self.run([{"command": "disableClient", "username": username}], tolerate=("not found",))

    def client_names(self) -> set[str]:
        data = self.run([{"command": "listClients", "verbose": False}])[0].get("data", {})
        return set(data.get("clients", []))

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _acl_set(acls: list[dict]) -> set[tuple]:
    return {(a["acltype"], a["topic"], bool(a.get("allow")), int(a.get("priority", 0))) for a in acls}


def _acl(acltype: str, topic: str, allow: bool = True, priority: int = 0) -> dict:
    return {"acltype": acltype, "topic": topic, "allow": allow, "priority": priority}


def device_role(device_key: str) -> str:
    return f"wuxin-device-{device_key}"


def device_acls(device_key: str, device_type: str) -> list[dict]:
    """A device may publish to its own topics only, and subscribe to its own Alink replies."""
    acls = [_acl("publishClientSend", topic) for topic in topics.device_publish_topics(device_key, device_type)]
    reply = topics.alink_reply_filter(device_key, device_type)
    return acls + [_acl("subscribePattern", reply), _acl("publishClientReceive", reply)]


def worker_acls(share_group: str) -> list[dict]:
    """Workers subscribe (shared) to every device topic and publish Alink replies."""
    filters = topics.worker_filters()
    subscribe = [_acl("subscribePattern", f) for f in filters]
    subscribe += [_acl("subscribePattern", f"$share/{share_group}/{f}") for f in filters]
    receive = [_acl("publishClientReceive", f) for f in filters]
    return subscribe + receive + [_acl("publishClientSend", topics.ALINK_REPLY_ALL)]


def front_acls() -> list[dict]:
    """The device front end publishes on every device's internal topics and hears the Alink replies."""
    return [_acl("publishClientSend", f) for f in topics.worker_filters()] + [
        _acl("subscribePattern", topics.ALINK_REPLY_ALL),
        _acl("publishClientReceive", topics.ALINK_REPLY_ALL),
    ]


def provision_front(admin: DynsecAdmin, username: str, password: str) -> None:
    admin.ensure_role(FRONT_ROLE, front_acls())
    admin.ensure_client(username, password, [FRONT_ROLE])


def provision_worker(admin: DynsecAdmin, username: str, password: str, share_group: str = "wuxin") -> None:
    admin.ensure_role(WORKER_ROLE, worker_acls(share_group))
    admin.ensure_client(username, password, [WORKER_ROLE])


def provision_device(admin: DynsecAdmin, device_key: str, device_type: str, token: str | None) -> None:
    """The device's account: username = key, password = its access token, its own role."""
    admin.ensure_role(device_role(device_key), device_acls(device_key, device_type))
    admin.ensure_client(device_key, token, [device_role(device_key)])


class DynsecAccounts:
    """The platform's BrokerAccounts port over Mosquitto's dynamic security."""

    def __init__(self, admin: DynsecAdmin) -> None:
        self.admin = admin

    def provision_device(self, device_key: str, device_type: str, token: str | None) -> None:
        provision_device(self.admin, device_key, device_type, token)

    def disable_device(self, device_key: str) -> None:
        self.admin.disable_client(device_key)

    def known_devices(self) -> set[str]:
        return {name for name in self.admin.client_names()}
