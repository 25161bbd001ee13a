"""Several hosts on one machine: a 3-node NATS JetStream cluster with the platform's MQTT front ends,
stream workers and simulated devices, each host a network namespace on one bridge (root only).

    bridge wxc<run>  198.18.<n>.1/24 (root namespace: the PostgreSQL proxy listens here)
    wxc-<run>-b1..b3 198.18.<n>.11-13  nats-server (JetStream, own store, routes to the other two)
                                        + `wuxin ingest mqtt-front` on :1884
    wxc-<run>-w1..wN 198.18.<n>.21-    `wuxin ingest stream-worker` process(es)
    wxc-<run>-dev    198.18.<n>.31     the simulated devices (tests/cluster/devices.py)

198.18.0.0/15 is the range set aside for network test labs (RFC 2544): nothing outside this machine.
PostgreSQL is the one on 127.0.0.1:5432, reached through a proxy that can be cut; each run has its own
database, dropped at the end. Every name carries the run's id; a run records its owner's pid, so a
later run removes what a crashed one left (namespaces and their processes, bridge, store, database).

By hand: `python -m tests.cluster.harness up` (docs/operations.md, "The cluster harness").
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tests.integration.tcp_cut_proxy import CutProxy

ROOT = Path(__file__).resolve().parents[2]
STATE_DIR = Path(os.environ.get("WUXIN_CLUSTER_STATE", "/tmp/wuxin-cluster"))
PREFIX = "wxc"
NATS_PORT, ROUTE_PORT, MONITOR_PORT, FRONT_PORT = 4222, 6222, 8222, 1884
NATS_USER = "wuxin"  # the nodes' one account; its password is new each run
STREAM_WORKER_ARGS = ("ingest", "stream-worker")
FRONT_ARGS = ("ingest", "mqtt-front")
SETUP_ARGS = ("ingest", "stream-setup")
STREAM = "WUXIN_INGEST"
ACK_WAIT_S = 5.0  # a message fetched by a worker that died or was cut off goes to another after this
DEVICE_TYPE = "manufacturing.current_bracelet"  # current_a, battery_pct, rssi_dbm: 3 points a message
PG_URL = os.environ.get("WUXIN_TEST_PG_URL", "postgresql://127.0.0.1:5432")


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=check, capture_output=True, text=True, timeout=30)


def wait_until(condition, timeout_s: float, what) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what() if callable(what) else what}")
        time.sleep(0.1)


@dataclass
class Host:
    name: str  # netns name
    address: str
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _server_url(pg_url: str) -> str:
    parts = urlsplit(pg_url)
    return f"{parts.scheme}://{parts.netloc}"


def _drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{_server_url(PG_URL)}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def remove_run(run_id: str) -> None:
    """Everything a run made: its namespaces' processes, the namespaces, its bridge, database and files."""
    for netns in run("ip", "netns", "list", check=False).stdout.split("\n"):
        name = netns.split(" ")[0]
        if name.startswith(f"{PREFIX}-{run_id}-"):
            for pid in run("ip", "netns", "pids", name, check=False).stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            run("ip", "netns", "del", name, check=False)
    run("ip", "link", "del", f"{PREFIX}{run_id}", check=False)
    try:
        _drop_database(f"{PREFIX}_{run_id}")
    except Exception as exc:  # PostgreSQL down: the database stays, said once
        print(f"cluster harness: could not drop database {PREFIX}_{run_id}: {exc}", file=sys.stderr)
    shutil.rmtree(STATE_DIR / run_id, ignore_errors=True)


def leftover_runs() -> set[str]:
    """Runs whose owner died without cleaning up: from the state directory, namespaces and bridges."""
    ids = {p.name for p in STATE_DIR.glob("*") if p.is_dir()}
    ids |= {
        line.split(" ")[0].split("-")[1]
        for line in run("ip", "netns", "list", check=False).stdout.split("\n")
        if line.startswith(f"{PREFIX}-") and line.count("-") >= 2
    }
    ids |= {
        line.split(":")[1].strip().split("@")[0][len(PREFIX) :]
        for line in run("ip", "-o", "link", "show", "type", "bridge", check=False).stdout.split("\n")
        if line.count(":") >= 2 and line.split(":")[1].strip().startswith(PREFIX)
    }
    leftovers = set()
    for run_id in ids:
        owner = STATE_DIR / run_id / "owner.pid"
        if owner.exists():
            if not _alive(int(owner.read_text() or 0)):
                leftovers.add(run_id)
        elif not _just_made(STATE_DIR / run_id):
            leftovers.add(run_id)
    return leftovers


def _just_made(run_dir: Path) -> bool:
    """A run starting right now has made its directory and not yet written its owner: not a leftover."""
    try:
        return time.time() - run_dir.stat().st_mtime < 60
    except FileNotFoundError:
        return False


def remove_leftovers() -> list[str]:
    gone = sorted(leftover_runs())
    for run_id in gone:
        remove_run(run_id)
    return gone


def _free_subnet() -> int:
    used = run("ip", "-4", "-o", "addr").stdout
    for n in range(1 + secrets.randbelow(200), 255):
        if f"198.18.{n}." not in used:
            return n
    raise RuntimeError("no free 198.18.N.0/24 subnet for the cluster bridge")


class Cluster:
    """Start with `start()`, stop with `close()` (always: it also undoes a half-made start)."""

    def __init__(self, worker_hosts: int = 2, workers_per_host: int = 1, python: str = sys.executable):
        self.run_id = secrets.token_hex(2)
        self.dir = STATE_DIR / self.run_id
        self.python = python
        self.nats_password = secrets.token_urlsafe(18)
        self.subnet = _free_subnet()
        self.bridge = f"{PREFIX}{self.run_id}"
        self.gateway = self.address(1)
        self.brokers = [Host(self.netns(f"b{i}"), self.address(10 + i)) for i in (1, 2, 3)]
        self.workers = [Host(self.netns(f"w{i}"), self.address(20 + i)) for i in range(1, worker_hosts + 1)]
        self.device_host = Host(self.netns("dev"), self.address(31))
        self.workers_per_host = workers_per_host
        self.database = f"{PREFIX}_{self.run_id}"
        self.proxy: CutProxy | None = None
        self.killed: set[str] = set()  # labels of processes ended on purpose (kill_broker)

    # names and addresses
    def netns(self, role: str) -> str:
        return f"{PREFIX}-{self.run_id}-{role}"

    def address(self, host: int) -> str:
        return f"198.18.{self.subnet}.{host}"

    @property
    def hosts(self) -> list[Host]:
        return [*self.brokers, *self.workers, self.device_host]

    @property
    def nats_urls(self) -> str:
        return ",".join(self.nats_url(b) for b in self.brokers)

    def nats_url(self, broker: Host) -> str:
        """A broker's NATS URL with the run's credentials: the nodes refuse clients without them."""
        return f"nats://{NATS_USER}:{self.nats_password}@{broker.address}:{NATS_PORT}"

    @property
    def front_addresses(self) -> list[str]:
        return [f"{b.address}:{FRONT_PORT}" for b in self.brokers]

    @property
    def database_url(self) -> str:
        """The run's database as the namespaces reach it: through the proxy on the bridge."""
        return f"postgresql://{self.gateway}:{self.proxy.port}/{self.database}"

    @property
    def local_database_url(self) -> str:
        return f"{_server_url(PG_URL)}/{self.database}"

    # life cycle
    def start(self) -> Cluster:
        remove_leftovers()
        self.dir.mkdir(parents=True)
        (self.dir / "owner.pid").write_text(str(os.getpid()))
        self._network()
        self._database()
        for index in range(len(self.brokers)):
            self.start_nats(index)
        wait_until(self._jetstream_ready, 60, "the JetStream cluster to elect a meta leader")
        self.setup_stream()
        for index in range(len(self.brokers)):
            self.start_front(index)
        for host in self.workers:
            for n in range(1, self.workers_per_host + 1):
                self.start_worker(host, n)
        return self

    def close(self) -> None:
        try:
            processes = [p for host in self.hosts for p in host.processes.values() if p.poll() is None]
            for process in processes:
                process.terminate()
            deadline = time.monotonic() + 10
            for process in processes:
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
            if self.proxy:
                self.proxy.close()
        finally:
            remove_run(self.run_id)  # kills whatever is still in the namespaces

    def _network(self) -> None:
        run("ip", "link", "add", self.bridge, "type", "bridge")
        run("ip", "addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        run("ip", "link", "set", self.bridge, "up")
        for host in self.hosts:
            veth = f"{self.bridge}-{host.name.rsplit('-', 1)[1]}"
            run("ip", "netns", "add", host.name)
            run("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", host.name)
            run("ip", "link", "set", veth, "master", self.bridge, "up")
            for args in (
                ("link", "set", "lo", "up"),
                ("addr", "add", f"{host.address}/24", "dev", "eth0"),
                ("link", "set", "eth0", "up"),
            ):
                run("ip", "-n", host.name, *args)

    def _database(self) -> None:
        from wuxin.store.admin import recreate_postgres_database
        from wuxin.store.migrate import upgrade

        recreate_postgres_database(self.local_database_url)
        upgrade(self.local_database_url)
        pg = urlsplit(PG_URL)
        self.proxy = CutProxy(pg.hostname or "127.0.0.1", pg.port or 5432, listen_host=self.gateway)

    # processes
    def spawn(self, host: Host, label: str, args: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.dir / f"{label}.log", "ab")
        process = subprocess.Popen(
            ["ip", "netns", "exec", host.name, *args],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
        log.close()
        host.processes[label] = process
        return process

    def platform_env(self) -> dict:
        return {
            "WUXIN_DATABASE_URL": self.database_url,
            "WUXIN_ENVIRONMENT": "test",
            "PYTHONUNBUFFERED": "1",
            "WUXIN_MQTT_FRONT_MAX_CONNECTIONS_PER_ADDRESS": "100000",  # every simulated device is on the device host
        }

    def start_nats(self, index: int) -> subprocess.Popen:
        host = self.brokers[index]
        store = self.dir / f"store-b{index + 1}"
        store.mkdir(exist_ok=True)
        routes = ", ".join(f"nats://{b.address}:{ROUTE_PORT}" for b in self.brokers if b is not host)
        config = self.dir / f"nats-b{index + 1}.conf"
        config.write_text(
            f'server_name: "b{index + 1}"\nlisten: "{host.address}:{NATS_PORT}"\n'
            f'http: "{host.address}:{MONITOR_PORT}"\n'
            f'jetstream {{ store_dir: "{store}", max_memory_store: 64MB, max_file_store: 1GB }}\n'
            f'cluster {{ name: "{self.bridge}", listen: "{host.address}:{ROUTE_PORT}", routes: [{routes}] }}\n'
            f'authorization {{ user: "{NATS_USER}", password: "{self.nats_password}" }}\n'
        )
        return self.spawn(host, f"nats-b{index + 1}", ["nats-server", "-c", str(config)])

    def _jetstream_ready(self) -> bool:
        try:
            leaders = {
                httpx.get(f"http://{b.address}:{MONITOR_PORT}/jsz", timeout=1)
                .json()
                .get("meta_cluster", {})
                .get("leader")
                for b in self.brokers
            }
        except (httpx.HTTPError, ValueError):
            return False
        return len(leaders) == 1 and None not in leaders

    def stream_messages(self) -> int | None:
        """Messages in the ingestion stream (work queue: acknowledged ones are removed), from a live node."""
        for broker in self.brokers:
            if broker.processes.get(f"nats-{broker.name.rsplit('-', 1)[1]}").poll() is not None:
                continue
            try:
                jsz = httpx.get(f"http://{broker.address}:{MONITOR_PORT}/jsz?streams=true", timeout=2).json()
            except (httpx.HTTPError, ValueError):
                continue
            for account in jsz.get("account_details") or []:
                for stream in account.get("stream_detail") or []:
                    if stream["name"] == STREAM:
                        return stream["state"]["messages"]
        return None

    def setup_stream(self) -> None:
        """The stream (R3) and the workers' durable consumer, made once before anything uses them."""
        subprocess.run(
            [
                self.python,
                "-m",
                "wuxin.cli.main",
                *SETUP_ARGS,
                "--nats",
                self.nats_urls,
                "--ack-wait-s",
                str(ACK_WAIT_S),
            ],
            cwd=ROOT,
            check=True,
            timeout=60,
            env={**os.environ, **self.platform_env()},
            stdout=open(self.dir / "stream-setup.log", "ab"),
            stderr=subprocess.STDOUT,
        )

    def start_front(self, index: int) -> subprocess.Popen:
        host = self.brokers[index]
        local_first = [self.nats_url(host)] + [self.nats_url(b) for b in self.brokers if b is not host]
        args = [
            self.python,
            "-m",
            "wuxin.cli.main",
            *FRONT_ARGS,
            "--stream-urls",
            ",".join(local_first),
            "--host",
            host.address,
            "--port",
            str(FRONT_PORT),
            "--check-every-s",
            "1",
        ]  # its database checks run during a cut, as they would in a long one
        return self.spawn(host, f"front-b{index + 1}", args, self.platform_env())

    def start_worker(self, host: Host, n: int) -> subprocess.Popen:
        label = f"worker-{host.name.rsplit('-', 1)[1]}-{n}"
        args = [self.python, "-m", "wuxin.cli.main", *STREAM_WORKER_ARGS, "--nats", self.nats_urls, "--name", label]
        return self.spawn(host, label, args, self.platform_env())

    # devices
    def provision_devices(self, count: int) -> list[dict]:
        """Register `count` devices through the platform (each its own access token); home front i mod 3."""
        import random

        from wuxin.bootstrap import build_platform
        from wuxin.config import Settings
        from wuxin.services.devices import registry
        from wuxin.sim.spec import make_uscc

        platform = build_platform(Settings(database_url=self.local_database_url, environment="test"))
        try:
            registry.sync_builtin_thing_models(platform)
            enterprise = registry.create_enterprise(
                platform, None, "无锡织造有限公司", make_uscc(random.Random(21)), "manufacturing", "江苏省无锡市"
            )

            def register(n: int) -> dict:
                key = f"loom-{n:03d}"
                _, token = registry.register_device(platform, None, enterprise, key, DEVICE_TYPE, "bank_installed")
                return {"key": key, "token": token, "home": n % len(self.brokers)}

            with ThreadPoolExecutor(8) as pool:  # each registration mostly waits for its commit
                return list(pool.map(register, range(count)))
        finally:
            platform.close()

    def start_devices(
        self, devices: list[dict], interval_s: float, t0_ms: int, max_s: float = 150, flush_s: float = 30
    ) -> subprocess.Popen:
        config = {
            "fronts": self.front_addresses,
            "devices": devices,
            "interval_s": interval_s,
            "t0_ms": t0_ms,
            "max_s": max_s,
            "flush_s": flush_s,
            "status": str(self.dir / "devices-status.json"),
            "result": str(self.dir / "devices-result.json"),
        }
        path = self.dir / "devices.json"
        path.write_text(json.dumps(config))
        return self.spawn(self.device_host, "devices", [self.python, "-m", "tests.cluster.devices", str(path)])

    def device_status(self) -> dict:
        path = self.dir / "devices-status.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def stop_devices(self, timeout_s: float = 45) -> list[dict]:
        """Stop publishing, let the devices wait for their last PUBACKs; what each device was acknowledged."""
        process = self.device_host.processes["devices"]
        process.terminate()
        process.wait(timeout=timeout_s)
        return json.loads((self.dir / "devices-result.json").read_text())["devices"]

    def log(self, label: str) -> str:
        path = self.dir / f"{label}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs_tail(self, lines: int = 15) -> str:
        return "\n".join(
            f"--- {p.name}\n" + "\n".join(p.read_text(errors="replace").splitlines()[-lines:])
            for p in sorted(self.dir.glob("*.log"))
        )

    def keep_logs(self, into: Path) -> None:
        into.mkdir(parents=True, exist_ok=True)
        for path in self.dir.glob("*.log"):
            shutil.copy(path, into / path.name)

    # faults
    def kill_broker(self, index: int) -> None:
        """kill -9 a broker host's nats-server and front end: the node is gone, its store stays as it was."""
        host = self.brokers[index]
        for label, process in host.processes.items():
            process.send_signal(signal.SIGKILL)
            process.wait()
            self.killed.add(label)

    def unexpected_exits(self) -> dict[str, int]:
        """Processes that ended though no fault was meant to end them (label: exit status)."""
        return {
            label: process.returncode
            for host in self.hosts
            for label, process in host.processes.items()
            if label not in self.killed and label != "devices" and process.poll() is not None
        }

    def partition(self, host: Host) -> None:
        """Cut a host off from the brokers, both ways, and from nothing else (PostgreSQL stays reachable):
        packets between them are dropped, so open connections hang as over a broken link and new ones fail."""
        self._blackholes("add", host)

    def heal(self, host: Host) -> None:
        self._blackholes("del", host)

    def _blackholes(self, verb: str, host: Host) -> None:
        for broker in self.brokers:
            run("ip", "-n", host.name, "route", verb, "blackhole", f"{broker.address}/32")
            run("ip", "-n", broker.name, "route", verb, "blackhole", f"{host.address}/32")

    def restart_worker(self, host: Host, n: int = 1) -> subprocess.Popen:
        """kill -9 a worker process and start it again: what it had fetched and not acknowledged comes back."""
        label = f"worker-{host.name.rsplit('-', 1)[1]}-{n}"
        process = host.processes[label]
        process.send_signal(signal.SIGKILL)
        process.wait()
        return self.start_worker(host, n)

    def cut_database(self) -> None:
        """PostgreSQL unreachable from every host: open connections dropped, new ones refused."""
        self.proxy.cut()

    def restore_database(self) -> None:
        self.proxy.restore()


def main(argv: list[str]) -> int:
    """`up`: start a cluster (and devices) and keep it until Ctrl-C; `clean`: remove crashed runs' leftovers."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.cluster.harness", description=main.__doc__)
    parser.add_argument("action", choices=["up", "clean"])
    parser.add_argument("--worker-hosts", type=int, default=2)
    parser.add_argument("--workers-per-host", type=int, default=1)
    parser.add_argument("--devices", type=int, default=0, help="provision and start this many devices (1 message/s)")
    options = parser.parse_args(argv)
    if options.action == "clean":
        print("removed runs:", " ".join(remove_leftovers()) or "none")
        return 0
    cluster = Cluster(options.worker_hosts, options.workers_per_host)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        cluster.start()
        if options.devices:
            cluster.start_devices(
                cluster.provision_devices(options.devices), 1.0, int(time.time() * 1000) - 3_600_000, max_s=24 * 3600
            )
        print(
            json.dumps(
                {
                    "run": cluster.run_id,
                    "logs": str(cluster.dir),
                    "bridge": cluster.bridge,
                    "nats": cluster.nats_urls,
                    "fronts": cluster.front_addresses,
                    "database": cluster.database_url,
                    "hosts": {h.name: h.address for h in cluster.hosts},
                },
                indent=2,
            )
        )
        print("Ctrl-C stops and removes everything (`ip netns exec NAME ...` to look inside a host)")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})  # a second Ctrl-C: still clean up
        cluster.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
