"""`wuxin bench cluster`: 3-point messages device -> MQTT front end -> JetStream -> stream workers -> PostgreSQL,
with 1, 2 and 4 worker processes, on one nats-server and on a 3-node cluster (R3), next to the raw stream
(publish with PubAck -> pull consumer with ack, no front end, no database) measured in the same run.

The stream decouples the two halves, so each run measures them apart: ingress (devices publish through the
front end until every message has its PUBACK, i.e. is in the stream; no worker runs) and drain (N workers
start on the filled stream and store it). CPU per message is per component, from /proc/<pid>/stat (user + system), so that
capacity can be projected to machines with more cores (docs/capacity.md).
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from wuxin.bench.mqtt import DEVICE_TYPE, _children_cpu_s, _cpu_s, payload_files, publish_files
from wuxin.ingest.stream import jetstream
from wuxin.ingest.stream.nats_process import NatsCluster

WORKER_COUNTS = (1, 2, 4)
READY_TIMEOUT_S = 180.0  # a worker process starts in 2-5 s on a quiet machine, in a minute on this loaded one


def _publish_through_front(port: int, tokens: dict[str, str], files: dict[str, Path]) -> list[subprocess.Popen]:
    """ThingsBoard style through the front end: the token as username, the `me` topic."""
    return publish_files(port, files, {key: ["-u", token] for key, token in tokens.items()}, "v1/devices/me/telemetry")


async def _raw_stream(cluster: NatsCluster, messages: int) -> tuple[float, float]:
    """msg/s and nats-server CPU us/msg: pipelined publishes (PubAck each) then a pull consumer acking each."""
    nc = await jetstream.connect(cluster.urls, "bench-raw")
    await jetstream.ensure_stream(nc, cluster.urls)
    js = nc.jetstream(timeout=10)
    body = b'{"ts":1700000000000,"values":{"current_a":12.5,"battery_pct":81.0,"rssi_dbm":-71}}'
    headers = {jetstream.TOPIC_HEADER: "v1/devices/bench-0000/telemetry"}
    cpu_before = sum(_cpu_s(n.pid) for n in cluster.nodes)
    started = time.perf_counter()
    for first in range(0, messages, 256):
        await asyncio.gather(
            *(js.publish(jetstream.SUBJECT, body, headers=headers) for _ in range(first, min(messages, first + 256)))
        )
    subscription = await js.pull_subscribe_bind(jetstream.CONSUMER, jetstream.STREAM)
    consumed = 0
    while consumed < messages:
        for message in await subscription.fetch(1000, timeout=10):
            await message.ack()
            consumed += 1
    elapsed = time.perf_counter() - started
    cpu = sum(_cpu_s(n.pid) for n in cluster.nodes) - cpu_before
    await subscription.unsubscribe()
    await nc.close()
    return messages / elapsed, cpu / messages * 1e6


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "wuxin.cli.main", *args], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


def _wait(condition, what: str, log_dir: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"cluster bench: {what} did not happen; logs in {log_dir}")
        time.sleep(0.05)


def _ingress(
    cluster: NatsCluster,
    front: subprocess.Popen,
    front_port: int,
    tokens: dict[str, str],
    files: dict[str, Path],
    messages: int,
) -> tuple[float, dict]:
    """Devices -> front end -> stream, no worker running: msg/s until the stream holds them all, CPU used."""

    def cpu() -> dict[str, float]:
        return {"front end": _cpu_s(front.pid), "nats-server": sum(_cpu_s(n.pid) for n in cluster.nodes)}

    before, devices_before = cpu(), _children_cpu_s()
    started = time.perf_counter()
    publishers = _publish_through_front(front_port, tokens, files)
    for p in publishers:
        p.wait()  # mosquitto_pub -l ends once every QoS 1 message got its PUBACK, i.e. is in the stream
    elapsed = time.perf_counter() - started
    after = cpu()
    used = {name: after[name] - before[name] for name in before}
    used["devices"] = _children_cpu_s() - devices_before
    return messages / elapsed, used


def _drain(
    cluster: NatsCluster, database: _Database, env: dict, workers: int, messages: int, log_dir: Path
) -> tuple[float, dict]:
    """Stream -> N worker processes -> PostgreSQL: msg/s from the first worker ready until every point is
    committed; worker CPU counted from each one's own start-up figure (its log), so imports are not in it."""
    logs = [log_dir / f"worker-{len(cluster.nodes)}-{workers}-{n}.log" for n in range(workers)]
    nats_before, database_before = sum(_cpu_s(n.pid) for n in cluster.nodes), database.cpu()
    procs = [
        _start(["ingest", "stream-worker", "--nats", cluster.urls_arg, "--name", f"bench-worker-{n}"], env, log)
        for n, log in enumerate(logs)
    ]
    try:
        _wait(lambda: any(_startup_cpu(log) is not None for log in logs), "a worker consuming", log_dir)
        started = time.perf_counter()
        while database.readings() < 3 * messages:
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        worker_cpu = sum(_cpu_s(p.pid) - (_startup_cpu(log) or 0.0) for p, log in zip(procs, logs))
        database_after = database.cpu()
        used = {
            "nats-server": sum(_cpu_s(n.pid) for n in cluster.nodes) - nats_before,
            "workers": worker_cpu,
            "PostgreSQL backends": sum(cpu - database_before.get(pid, 0.0) for pid, cpu in database_after.items()),
        }
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
    return messages / elapsed, used


def _database_cpu(database: str, exclude: set[int]) -> dict[int, float]:
    """CPU seconds of the PostgreSQL backends serving `database` (their process title names it), by pid: other
    work on the same server (other databases) is not counted. Shared processes (WAL writer, checkpointer)
    are not in it either."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in exclude:
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if title.startswith("postgres:") and f" {database} " in title:
                found[int(entry.name)] = _cpu_s(int(entry.name))
        except OSError:  # gone meanwhile
            continue
    return found


class _Database:
    """The bench database's row count (on a connection of its own, left out of the CPU) and its backends' CPU."""

    def __init__(self, platform) -> None:
        self.conn = platform.engine.connect()
        self.name = self.conn.exec_driver_sql("SELECT current_database()").scalar()
        self.own_pid = self.conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        self.conn.commit()

    def readings(self) -> int:
        count = self.conn.exec_driver_sql("SELECT count(*) FROM readings").scalar()
        self.conn.commit()
        return count

    def cpu(self) -> dict[int, float]:
        return _database_cpu(self.name, {self.own_pid})

    def close(self) -> None:
        self.conn.close()


def _startup_cpu(log: Path) -> float | None:
    """The CPU seconds a worker had used when it began consuming (it logs them), None before that."""
    import re

    found = re.search(r"start-up CPU ([0-9.]+) s", log.read_text(errors="replace")) if log.exists() else None
    return float(found.group(1)) if found else None


def run_cluster_bench(devices: int, messages: int, db_url: str) -> None:
    from wuxin.bootstrap import build_platform
    from wuxin.config import Settings
    from wuxin.services.devices import registry
    from wuxin.sim.spec import make_uscc
    from wuxin.store.admin import recreate_postgres_database
    from wuxin.store.migrate import upgrade

    bench_started = time.monotonic()
    per_device = max(1, messages // devices)
    total = per_device * devices
    recreate_postgres_database(db_url)
    upgrade(db_url)
    platform = build_platform(Settings(database_url=db_url, environment="test"))
    registry.sync_builtin_thing_models(platform)
    enterprise = registry.create_enterprise(
        platform, None, "集群基准织造厂", make_uscc(random.Random(4)), "manufacturing", "江苏省"
    )
    keys = [f"cluster-{n:04d}" for n in range(devices)]
    tokens = {
        k: registry.register_device(platform, None, enterprise, k, DEVICE_TYPE, "bank_installed")[1] for k in keys
    }
    env = dict(os.environ, WUXIN_DATABASE_URL=db_url, WUXIN_ENVIRONMENT="test")
    database = _Database(platform)
    print(
        f"cluster bench: {devices} devices (mosquitto_pub, QoS 1) -> `wuxin ingest mqtt-front` -> JetStream -> "
        f"`wuxin ingest stream-worker` x N -> PostgreSQL; {total:,} messages of 3 points per run; "
        f"{os.cpu_count()} cores shared by everything"
    )
    print(
        "ingress = devices -> front end -> stream (no worker running); drain = stream -> workers -> PostgreSQL;\n"
        "CPU in microseconds per 3-point message, per component, from /proc/<pid>/stat"
    )
    print(f"{'broker':<14}{'run':<12}{'msg/s':>8}   CPU us/msg")
    with tempfile.TemporaryDirectory(prefix="wuxin-bench-cluster-") as tmp:
        work = Path(tmp)
        for size in (1, 3):
            label = "1 node (R1)" if size == 1 else "3 nodes (R3)"
            cluster = NatsCluster(work / f"nats-{size}", size=size).start()
            front = None
            try:
                raw_rate, raw_cpu = asyncio.run(_raw_stream(cluster, total))
                print(
                    f"{label:<14}{'raw stream':<12}{raw_rate:>8,.0f}   nats-server {raw_cpu:.0f} (publish with PubAck, "
                    f"pull and ack; no front end, no database)"
                )
                front_port = _free_port()
                front = _start(
                    [
                        "ingest",
                        "mqtt-front",
                        "--stream-urls",
                        cluster.urls_arg,
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(front_port),
                        "--check-every-s",
                        "3600",
                    ],
                    env,
                    work / f"front-{size}.log",
                )
                _wait(lambda: _listening(front_port), "the front end listening", work)
                for workers in WORKER_COUNTS:
                    with platform.engine.begin() as conn:
                        conn.exec_driver_sql("TRUNCATE readings, batches")
                    files = payload_files(work, keys, per_device, run=10 * size + workers)
                    rate, used = _ingress(cluster, front, front_port, tokens, files, total)
                    print(f"{label:<14}{'ingress':<12}{rate:>8,.0f}   " + _cpu_line(used, total))
                    rate, used = _drain(cluster, database, env, workers, total, work)
                    print(f"{label:<14}{f'drain {workers}w':<12}{rate:>8,.0f}   " + _cpu_line(used, total))
            finally:
                if front is not None:
                    front.terminate()
                    front.wait()
                cluster.stop()
    database.close()
    platform.close()
    print(
        f"(bench took {time.monotonic() - bench_started:.0f} s; throughput is what this machine does with every "
        f"component on the same cores; the per-component CPU is what projects: docs/capacity.md)"
    )


def _cpu_line(used: dict[str, float], messages: int) -> str:
    return ", ".join(f"{name} {seconds / messages * 1e6:.0f}" for name, seconds in used.items())


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False
