"""`wuxin bench cluster`: 3-point messages device -> MQTT front end -> JetStream -> stream workers -> PostgreSQL,
with 1, 2 and 4 worker processes, on one nats-server and on a 3-node cluster (R3), next to the raw stream
(publish with PubAck -> pull consumer with ack, no front end, no database) measured in the same run.

Throughput is end to end (first publish until the last point is committed, everything running at once on
this machine's cores); CPU per message is per component, from /proc/<pid>/stat (user + system), so that
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

from wuxin.ingest.mqtt.bench import DEVICE_TYPE, _children_cpu_s, _count, _cpu_s, _payload_files, _postgres_cpu_s
from wuxin.ingest.stream import jetstream
from wuxin.ingest.stream.nats_process import NatsCluster

WORKER_COUNTS = (1, 2, 4)
READY_TIMEOUT_S = 60.0


def _publish_through_front(port: int, tokens: dict[str, str], files: dict[str, Path]) -> list[subprocess.Popen]:
    """One mosquitto_pub per device (C, light), ThingsBoard style: token as username, `me` topic, QoS 1."""
    return [subprocess.Popen(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-u", token, "-q", "1",
                              "-i", f"bench-{key}", "-t", "v1/devices/me/telemetry", "-l"],
                             stdin=files[key].open("rb"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for key, token in tokens.items()]


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
        await asyncio.gather(*(js.publish(jetstream.SUBJECT, body, headers=headers)
                               for _ in range(first, min(messages, first + 256))))
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


async def _waiting_pulls(cluster: NatsCluster) -> int:
    nc = await jetstream.connect(cluster.urls, "bench-check")
    try:
        return (await nc.jetstream().consumer_info(jetstream.STREAM, jetstream.CONSUMER)).num_waiting
    finally:
        await nc.close()


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "wuxin.cli.main", *args], env=env, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT)


def _wait(condition, what: str, log_dir: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"cluster bench: {what} did not happen; logs in {log_dir}")
        time.sleep(0.05)


def _end_to_end(cluster: NatsCluster, front: subprocess.Popen, front_port: int, platform, env: dict, workers: int,
                tokens: dict[str, str], files: dict[str, Path], messages: int, log_dir: Path) -> tuple[float, dict]:
    with platform.engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE readings, batches")
    procs = [_start(["ingest", "stream-worker", "--nats", cluster.urls_arg, "--name", f"bench-worker-{n}"], env,
                    log_dir / f"worker-{len(cluster.nodes)}-{workers}-{n}.log") for n in range(workers)]
    try:
        _wait(lambda: asyncio.run(_waiting_pulls(cluster)) >= workers, f"{workers} worker(s) pulling", log_dir)
        pids = {"front end": [front.pid], "nats-server": [n.pid for n in cluster.nodes],
                "workers": [p.pid for p in procs]}

        def cpu() -> dict[str, float]:
            return {**{name: sum(_cpu_s(pid) for pid in group) for name, group in pids.items()},
                    "PostgreSQL": _postgres_cpu_s()}

        before, publishers_before = cpu(), _children_cpu_s()
        started = time.perf_counter()
        publishers = _publish_through_front(front_port, tokens, files)
        while _count(platform.engine) < 3 * messages:
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
        after = cpu()
        for p in publishers:
            p.wait()
        used = {name: after[name] - before[name] for name in before}
        used["devices (mosquitto_pub)"] = _children_cpu_s() - publishers_before
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
    return messages / elapsed, used


def run_cluster_bench(devices: int, messages: int, db_url: str) -> None:
    from wuxin.bootstrap import build_platform
    from wuxin.config import Settings
    from wuxin.services import registry
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
    enterprise = registry.create_enterprise(platform, None, "集群基准织造厂", make_uscc(random.Random(4)),
                                            "manufacturing", "江苏省")
    keys = [f"cluster-{n:04d}" for n in range(devices)]
    tokens = {k: registry.register_device(platform, None, enterprise, k, DEVICE_TYPE, "bank_installed")[1] for k in keys}
    env = dict(os.environ, WUXIN_DATABASE_URL=db_url, WUXIN_ENVIRONMENT="test")
    print(f"cluster bench: {devices} devices (mosquitto_pub, QoS 1) -> `wuxin ingest mqtt-front` -> JetStream -> "
          f"`wuxin ingest stream-worker` x N -> PostgreSQL; {total:,} messages of 3 points per run; "
          f"{os.cpu_count()} cores shared by everything")
    print(f"{'broker':<15}{'workers':>8}{'msg/s':>9}  CPU us per message: front end / nats-server / workers / "
          f"PostgreSQL / devices")
    with tempfile.TemporaryDirectory(prefix="wuxin-bench-cluster-") as tmp:
        work = Path(tmp)
        files = _payload_files(work, keys, per_device)
        for size in (1, 3):
            label = "1 node (R1)" if size == 1 else "3 nodes (R3)"
            cluster = NatsCluster(work / f"nats-{size}", size=size).start()
            front = None
            try:
                raw_rate, raw_cpu = asyncio.run(_raw_stream(cluster, total))
                print(f"{label:<15}{'raw':>8}{raw_rate:>9,.0f}  - / {raw_cpu:.0f} / - / - / -   "
                      f"(publish with PubAck -> pull consumer ack, no front end, no database)")
                front_port = _free_port()
                front = _start(["ingest", "mqtt-front", "--stream-urls", cluster.urls_arg, "--host", "127.0.0.1",
                                "--port", str(front_port), "--check-every-s", "3600"], env, work / f"front-{size}.log")
                _wait(lambda: _listening(front_port), "the front end listening", work)
                for workers in WORKER_COUNTS:
                    rate, used = _end_to_end(cluster, front, front_port, platform, env, workers, tokens, files, total,
                                             work)
                    print(f"{label:<15}{workers:>8}{rate:>9,.0f}  " + " / ".join(
                        f"{seconds / total * 1e6:.0f}" for seconds in used.values()))
            finally:
                if front is not None:
                    front.terminate()
                    front.wait()
                cluster.stop()
    platform.close()
    print(f"(bench took {time.monotonic() - bench_started:.0f} s; throughput is what this machine does with every "
          f"component on the same cores; the per-component CPU is what projects: docs/capacity.md)")


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
