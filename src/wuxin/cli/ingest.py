"""`wuxin ingest ...`: long-running ingestion services (MQTT) and broker accounts."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import typer

from wuxin.errors import ConfigError

app = typer.Typer(no_args_is_help=True)
log = logging.getLogger(__name__)

URL_HELP = "mqtt://worker:password@host:1883 (WUXIN_MQTT_URL)"
STREAM_HELP = "the NATS JetStream cluster, nats://host:4222[,nats://host2:4222...]"
ADMIN_HELP = "dynamic-security admin, mqtt://wuxin-admin:password@host:1883 (WUXIN_MQTT_ADMIN_URL)"
METRICS_PORT_HELP = (
    "serve this worker's /metrics on this port (0 = off); with --processes N, worker n uses "
    "port + n - 1 (WUXIN_MQTT_METRICS_PORT)"
)
# A worker process has two busy threads (network, database): hand the GIL over sooner than the 5 ms
# default, or each database round trip can wait a whole interval for the network thread.
SWITCH_INTERVAL_S = 0.0005
WORKER_SUBSCRIBE_WAIT_S = 15.0  # `wuxin serve` opens the front end once its worker subscribed, or after this


def _platform():
    from wuxin.bootstrap import build_platform

    return build_platform()


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


@app.command("mqtt")
def mqtt_consume(
    url: str | None = typer.Option(None, envvar="WUXIN_MQTT_URL", help=URL_HELP),
    client_id: str = typer.Option("wuxin-worker-1", help="fixed id: the broker keeps this worker's session"),
    processes: int = typer.Option(1, help="worker processes (client ids get -1, -2 ...)"),
    batch_max: int = typer.Option(2000, help="messages per transaction at most"),
    sweep_interval_s: float = typer.Option(30.0, help="connectivity sweep period (0 = off)"),
    admin_url: str | None = typer.Option(None, envvar="WUXIN_MQTT_ADMIN_URL", help=ADMIN_HELP),
    reconcile_interval_s: float = typer.Option(60.0, help="disable revoked devices' accounts this often"),
    metrics_port: int = typer.Option(0, envvar="WUXIN_MQTT_METRICS_PORT", min=0, max=65535, help=METRICS_PORT_HELP),
    metrics_host: str = typer.Option(
        "127.0.0.1", envvar="WUXIN_MQTT_METRICS_HOST", help="address the workers' /metrics listen on"
    ),
) -> None:
    """Consume device telemetry from the broker into the database (QoS 1, ack after commit)."""
    from wuxin.logs import configure_logging

    configure_logging()
    if not url:
        raise typer.BadParameter("give --url or set WUXIN_MQTT_URL")
    if processes > 1:
        _run_processes(
            url,
            client_id,
            processes,
            batch_max,
            sweep_interval_s,
            admin_url,
            reconcile_interval_s,
            metrics_port,
            metrics_host,
        )
        return
    stop = _stop_on_signals()
    platform = _platform()
    if metrics_port:
        serve_metrics(platform, metrics_host, metrics_port)
    background = start_background(platform, sweep_interval_s, admin_url, reconcile_interval_s, stop)
    from wuxin.ingest.mqtt.worker import MqttWorker

    sys.setswitchinterval(SWITCH_INTERVAL_S)
    stats = MqttWorker(platform, url, client_id, batch_max=batch_max).run(stop)
    for thread in background:
        thread.join(timeout=5)
    typer.echo(f"{client_id}: {stats.messages_stored} messages stored in {stats.batches} batches", err=True)


def serve_metrics(platform, host: str, port: int) -> None:
    """This worker process's own /metrics (its counters live in this process): prometheus_client's
    start_http_server on a daemon thread; one scrape target per worker process."""
    from prometheus_client import start_http_server

    start_http_server(port, addr=host, registry=platform.metrics.registry)
    logging.getLogger("wuxin.ingest").info("worker metrics on http://%s:%s/metrics", host, port)


def _run_processes(
    url,
    client_id,
    processes,
    batch_max,
    sweep_interval_s,
    admin_url,
    reconcile_interval_s,
    metrics_port: int = 0,
    metrics_host: str = "127.0.0.1",
) -> None:
    """One worker per process (the GIL); only the first sweeps and reconciles; worker n serves its /metrics
    on metrics_port + n - 1."""
    stop = _stop_on_signals()  # before the children start: a stop while they start still stops them
    children = []
    for n in range(1, processes + 1):
        args = [
            sys.executable,
            "-m",
            "wuxin.cli.main",
            "ingest",
            "mqtt",
            "--client-id",
            f"{client_id}-{n}",
            "--batch-max",
            str(batch_max),
            "--sweep-interval-s",
            str(sweep_interval_s if n == 1 else 0),
            "--reconcile-interval-s",
            str(reconcile_interval_s if n == 1 else 0),
            "--metrics-port",
            str(metrics_port + n - 1 if metrics_port else 0),
            "--metrics-host",
            metrics_host,
        ]
        env = dict(
            os.environ,
            WUXIN_MQTT_URL=url,  # not an argument: `ps` would show the worker's password
            **({"WUXIN_MQTT_ADMIN_URL": admin_url} if admin_url and n == 1 else {}),
        )
        children.append(subprocess.Popen(args, env=env))
    while not stop.wait(0.5) and all(c.poll() is None for c in children):
        pass
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        child.wait()


def start_background(
    platform,
    sweep_interval_s: float,
    admin_url: str | None,
    reconcile_interval_s: float,
    stop: threading.Event,
) -> list[threading.Thread]:
    """Threads beside the API or a worker: connectivity sweep and broker reconciliation."""
    from wuxin.services.devices.connectivity import sweep_connectivity

    threads = []
    if sweep_interval_s > 0:
        threads.append(_periodic("wuxin-connectivity", sweep_interval_s, stop, lambda: sweep_connectivity(platform)))
    if admin_url and reconcile_interval_s > 0:
        threads.append(
            _periodic("wuxin-broker-reconcile", reconcile_interval_s, stop, lambda: _reconcile(platform, admin_url))
        )
    for thread in threads:
        thread.start()
    return threads


def _periodic(name: str, interval_s: float, stop: threading.Event, job) -> threading.Thread:
    log = logging.getLogger("wuxin.ingest")

    def loop() -> None:
        while not stop.wait(interval_s):
            try:
                job()
            except Exception as exc:  # database or broker down: the next round retries
                log.warning("%s failed: %s", name, exc)

    return threading.Thread(target=loop, name=name, daemon=True)


def _reconcile(platform, admin_url: str) -> dict:
    from wuxin.ingest.mqtt.broker import DynsecAccounts, DynsecAdmin
    from wuxin.services.ingest.protocols import reconcile_broker

    admin = DynsecAdmin(admin_url)
    try:
        return reconcile_broker(platform, DynsecAccounts(admin))
    finally:
        admin.close()


@app.command("mosquitto-config")
def mosquitto_config(
    data_dir: Path = typer.Option(Path("/var/lib/mosquitto"), help="persistence and dynamic-security.json"),
    port: int = typer.Option(1883, help="plain listener for the workers and the admin"),
    bind_address: str = typer.Option("127.0.0.1", help="keep the plain listener on loopback"),
    run_as_user: str = typer.Option("mosquitto", help="Mosquitto drops to this user"),
    log_file: Path | None = typer.Option(None, help="default: stderr (the journal)"),
    tls_port: int | None = typer.Option(None, help="the devices' TLS listener (8883), needs the three files"),
    tls_bind_address: str = typer.Option("0.0.0.0"),
    device_ca: Path | None = typer.Option(None, help="CA that issues device client certificates"),
    server_cert: Path | None = typer.Option(None, help="the broker's certificate (PEM, chain)"),
    server_key: Path | None = typer.Option(None, help="the broker's private key (PEM)"),
) -> None:
    """Print the broker configuration (deploy/mosquitto templates filled); redirect it to mosquitto.conf."""
    from wuxin.ingest.mqtt.broker import BrokerError, TlsListener, render_config

    tls = None
    if tls_port is not None:
        if not (device_ca and server_cert and server_key):
            raise typer.BadParameter("--tls-port needs --device-ca, --server-cert and --server-key")
        tls = TlsListener(tls_port, device_ca, server_cert, server_key, tls_bind_address)
    try:
        typer.echo(
            render_config(
                port, data_dir, bind_address=bind_address, run_as_user=run_as_user, log_file=log_file, tls=tls
            ),
            nl=False,
        )
    except BrokerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command("mqtt-provision")
def mqtt_provision(
    admin_url: str = typer.Option(..., envvar="WUXIN_MQTT_ADMIN_URL", help=ADMIN_HELP),
    worker_username: str = typer.Option("wuxin-worker"),
    worker_password: str = typer.Option(..., envvar="WUXIN_MQTT_WORKER_PASSWORD", prompt=True, hide_input=True),
) -> None:
    """Create the workers' broker account and reconcile device accounts with the registry."""
    from wuxin.ingest.mqtt.broker import DynsecAdmin, provision_worker

    admin = DynsecAdmin(admin_url)
    try:
        provision_worker(admin, worker_username, worker_password)
    finally:
        admin.close()
    typer.echo(f"worker account {worker_username} ready; devices: {_reconcile(_platform(), admin_url)}")


@app.command("mqtt-credentials")
def mqtt_credentials(
    device_key: str, admin_url: str = typer.Option(..., envvar="WUXIN_MQTT_ADMIN_URL", help=ADMIN_HELP)
) -> None:
    """Rotate a device's access token and set it as its MQTT password (username = device key); printed once."""
    from wuxin.errors import WuxinError
    from wuxin.ingest.mqtt.broker import DynsecAccounts, DynsecAdmin
    from wuxin.services.ingest.protocols import issue_mqtt_credentials

    admin = DynsecAdmin(admin_url)
    try:
        token = issue_mqtt_credentials(_platform(), None, device_key, DynsecAccounts(admin))
    except WuxinError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        admin.close()
    typer.echo(token)


@app.command("mqtt-front")
def mqtt_front(
    broker_url: str | None = typer.Option(
        None,
        envvar="WUXIN_MQTT_FRONT_BROKER_URL",
        help="the front end's broker account, mqtt://wuxin-front:password@host:1883",
    ),
    stream_urls: str | None = typer.Option(
        None,
        "--stream-urls",
        envvar="WUXIN_STREAM_URLS",
        help=STREAM_HELP + "; given, the front end publishes there instead of to the broker",
    ),
    host: str = typer.Option("0.0.0.0", help="where devices connect"),
    port: int = typer.Option(1884, help="the devices' MQTT port"),
    tls_port: int | None = typer.Option(
        None,
        envvar="WUXIN_MQTT_FRONT_TLS_PORT",
        help="the devices' MQTTS port (8883), with the certificate and key of WUXIN_MQTT_FRONT_TLS_CERT / _KEY",
    ),
    tls_only: bool = typer.Option(
        False, envvar="WUXIN_MQTT_FRONT_TLS_ONLY", help="no plain MQTT port: devices connect on the TLS port only"
    ),
    check_every_s: float | None = typer.Option(
        None,
        help="close connections of revoked or rotated credentials and expire overdue commands this often "
        "(default WUXIN_MQTT_FRONT_CREDENTIAL_CHECK_S, 30 s)",
    ),
    command_poll_s: float = typer.Option(
        1.0, help="how often approved commands are sent to connected devices (and at once when one connects)"
    ),
) -> None:
    """The devices' MQTT front end: ThingsBoard SDKs (token as username) and Alibaba LinkKit (signed) connect
    here unchanged; it forwards to the broker the workers read (`wuxin ingest mqtt`) and sends them the commands
    approved for them (ThingsBoard RPC, Alink services)."""
    from wuxin.ingest.mqtt.front import DeviceFrontEnd
    from wuxin.services.devices.commands import expire_commands

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not broker_url and not stream_urls:
        raise typer.BadParameter("give --broker-url (WUXIN_MQTT_FRONT_BROKER_URL) or --stream-urls (WUXIN_STREAM_URLS)")
    if tls_only and tls_port is None:
        raise typer.BadParameter("--tls-only (WUXIN_MQTT_FRONT_TLS_ONLY) needs --tls-port (WUXIN_MQTT_FRONT_TLS_PORT)")
    stop = _stop_on_signals()
    platform = _platform()
    if tls_only:  # as WUXIN_MQTT_FRONT_TLS_ONLY: the Alink signature check knows no signature crosses in clear
        platform.settings = platform.settings.model_copy(update={"mqtt_front_tls_only": True})
    check_every_s = check_every_s or platform.settings.mqtt_front_credential_check_s
    front = DeviceFrontEnd(
        platform,
        broker_url,
        host,
        None if tls_only else port,
        command_poll_s=command_poll_s,
        stream_urls=_stream_servers(stream_urls) if stream_urls else None,
        **_front_tls(platform.settings, tls_port),
    ).start_in_thread()
    plain = f"MQTT on {host}:{front.port}" if front.port is not None else "no plain MQTT"
    typer.echo(f"MQTT front end: {plain}" + (f", MQTTS on {host}:{front.tls_port}" if front.tls_port else ""))
    while not stop.wait(check_every_s):
        try:
            closed = front.check_credentials()
            if closed:
                log.info("closed %d connection(s) whose credential was revoked or rotated", closed)
            expired = expire_commands(platform)
            if expired:
                log.info("expired %d overdue command(s)", expired)
        except Exception:  # the database away for a while must not end the front end (the cluster test cuts it)
            log.exception("MQTT front end: the periodic check failed; again in %.0f s", check_every_s)
    front.stop()


def _stream_servers(urls: str) -> list[str]:
    from wuxin.ingest.stream.jetstream import parse_urls

    try:
        return parse_urls(urls)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _stream_policy(replicas: int, ack_wait_s: float):
    from wuxin.ingest.stream.jetstream import StreamPolicy

    return StreamPolicy(replicas=replicas, ack_wait_s=ack_wait_s)


@app.command("stream-setup")
def stream_setup(
    nats: str = typer.Option(..., "--nats", envvar="WUXIN_STREAM_URLS", help=STREAM_HELP),
    replicas: int = typer.Option(0, min=0, max=5, help="0: 3 on a cluster of 3 or more nodes, else 1"),
    ack_wait_s: float = typer.Option(30.0, min=0.5, help="an unacked message goes to another worker after this"),
) -> None:
    """Create the ingestion stream and the workers' durable consumer (nothing changes when they exist)."""
    import asyncio

    from wuxin.ingest.stream import jetstream

    servers = _stream_servers(nats)

    async def setup() -> tuple[int, int]:
        nc = await jetstream.connect(servers, "wuxin-stream-setup", max_reconnect_attempts=3)
        try:
            return await jetstream.ensure_stream(nc, servers, _stream_policy(replicas, ack_wait_s))
        finally:
            await nc.close()

    made, waiting = asyncio.run(setup())
    typer.echo(
        f"stream {jetstream.STREAM}: {made} replica(s), {waiting} message(s) waiting; consumer {jetstream.CONSUMER}"
    )


@app.command("stream-worker")
def stream_worker(
    nats: str = typer.Option(..., "--nats", envvar="WUXIN_STREAM_URLS", help=STREAM_HELP),
    name: str = typer.Option("wuxin-stream-worker", help="connection name (shows in the NATS monitor)"),
    batch_max: int = typer.Option(1000, min=1, help="messages per transaction at most"),
    replicas: int = typer.Option(0, min=0, max=5, help="when it creates the stream: as stream-setup"),
    ack_wait_s: float = typer.Option(30.0, min=0.5, help="when it creates the consumer: as stream-setup"),
) -> None:
    """Store the ingestion stream into the database (WUXIN_DATABASE_URL): a competing consumer, ack after commit.
    Start as many as needed, on any host; stop any at any time (its unacked messages go to the others)."""
    from wuxin.ingest.stream.worker import StreamWorker
    from wuxin.logs import configure_logging

    configure_logging()
    servers = _stream_servers(nats)
    stop = _stop_on_signals()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    worker = StreamWorker(_platform(), servers, name, batch_max=batch_max, policy=_stream_policy(replicas, ack_wait_s))
    stats = worker.run(stop)
    typer.echo(f"{name}: {stats.messages_stored} messages stored in {stats.batches} batches", err=True)


@app.command("mqtt-front-account")
def mqtt_front_account(
    admin_url: str = typer.Option(..., envvar="WUXIN_MQTT_ADMIN_URL", help=ADMIN_HELP),
    username: str = typer.Option("wuxin-front"),
    password: str = typer.Option(..., envvar="WUXIN_MQTT_FRONT_PASSWORD", prompt=True, hide_input=True),
) -> None:
    """Create the front end's broker account: it may publish on every device's internal topics."""
    from wuxin.ingest.mqtt.broker import DynsecAdmin, provision_front

    admin = DynsecAdmin(admin_url)
    try:
        provision_front(admin, username, password)
    finally:
        admin.close()
    typer.echo(f"front end account {username} ready")


@app.command("alink-secret")
def alink_secret(
    device_key: str,
    product_key: str = typer.Option(..., help="the productKey LinkKit is configured with"),
    device_name: str | None = typer.Option(None, help="LinkKit's deviceName (default: the device key)"),
) -> None:
    """Give a device an Alibaba LinkKit identity and a new DeviceSecret (printed once, kept encrypted)."""
    from wuxin.errors import WuxinError
    from wuxin.services.ingest.device_sdk import issue_alink_secret

    try:
        typer.echo(issue_alink_secret(_platform(), None, device_key, product_key, device_name))
    except WuxinError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def serve_background(platform) -> threading.Event:
    """For `wuxin serve`: the MQTT worker when WUXIN_MQTT_URL is set, broker reconciliation, and the front end.

    The front end opens its ports once the worker has subscribed (or WORKER_SUBSCRIBE_WAIT_S passed): on a fresh
    broker a point forwarded before the worker's shared subscription exists has nobody to go to and is dropped.
    The connectivity sweep is not started here: the monitoring sweeper in the app's lifespan
    runs it (with the offline rules), and two sweeps at once could record a transition twice.
    """
    stop = threading.Event()
    settings = platform.settings
    start_background(platform, 0.0, settings.mqtt_admin_url, 60.0, stop)
    if settings.mqtt_url:
        from wuxin.ingest.mqtt.worker import MqttWorker

        worker = MqttWorker(platform, settings.mqtt_url, os.environ.get("WUXIN_MQTT_CLIENT_ID", "wuxin-serve-1"))
        threading.Thread(target=worker.run, args=(stop,), name="wuxin-mqtt", daemon=True).start()
        if not worker.subscribed.wait(WORKER_SUBSCRIBE_WAIT_S):
            logging.getLogger("wuxin.ingest").warning(
                "MQTT worker not subscribed after %.0f s; the front end opens anyway", WORKER_SUBSCRIBE_WAIT_S
            )
    start_front_end(platform, stop)
    return stop


def start_front_end(platform, stop: threading.Event):
    """The vendors' SDKs' MQTT front end when WUXIN_MQTT_FRONT_PORT or _TLS_PORT is set (plain port left out with
    WUXIN_MQTT_FRONT_TLS_ONLY); it stops when `stop` is set."""
    settings = platform.settings
    if settings.mqtt_front_port is None and settings.mqtt_front_tls_port is None:
        return None
    if settings.mqtt_front_tls_only and settings.mqtt_front_tls_port is None:
        raise ConfigError("WUXIN_MQTT_FRONT_TLS_ONLY is set but WUXIN_MQTT_FRONT_TLS_PORT is not")
    backend_url = settings.mqtt_front_url or settings.mqtt_url
    if not backend_url and not settings.stream_urls:
        raise ConfigError(
            "WUXIN_MQTT_FRONT_PORT is set but none of WUXIN_STREAM_URLS, WUXIN_MQTT_FRONT_URL and "
            "WUXIN_MQTT_URL names where the front end forwards to"
        )
    from wuxin.ingest.mqtt.front import DeviceFrontEnd

    streams = _stream_servers(settings.stream_urls) if settings.stream_urls else None
    front = DeviceFrontEnd(
        platform,
        backend_url,
        settings.host,
        None if settings.mqtt_front_tls_only else settings.mqtt_front_port,
        stream_urls=streams,
        **_front_tls(settings, settings.mqtt_front_tls_port),
    ).start_in_thread()
    logging.getLogger("wuxin.ingest").info(
        "MQTT front end for the vendors' SDKs on %s (MQTT: %s, MQTTS: %s)", settings.host, front.port, front.tls_port
    )
    threading.Thread(
        target=_watch_front,
        args=(front, stop, settings.mqtt_front_credential_check_s),
        name="wuxin-mqtt-front-check",
        daemon=True,
    ).start()
    return front


def _front_tls(settings, tls_port: int | None) -> dict:
    """The front end's MQTTS listener arguments: none without a TLS port; a port without a readable
    certificate and key is a ConfigError naming them."""
    if tls_port is None:
        return {}
    from wuxin.ingest.mqtt.front import tls_context

    cert, key = settings.mqtt_front_tls_cert, settings.mqtt_front_tls_key
    return {"tls_port": tls_port, "tls_context": tls_context(cert and str(cert), key and str(key))}


def _watch_front(front, stop: threading.Event, check_interval_s: float) -> None:
    """Close the connections of revoked or rotated credentials every check_interval_s (as `wuxin ingest
    mqtt-front`); stop with `stop`."""
    while not stop.wait(check_interval_s):
        try:
            front.check_credentials()
        except Exception:  # the database may be down for a while: log, keep checking
            log.exception("MQTT front end: checking the connected devices' credentials failed")
    front.stop()
