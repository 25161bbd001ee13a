"""`wuxin bench mqtt`: 3-point messages through Mosquitto into PostgreSQL (QoS 1), one and two workers,
next to the broker's own ceiling (mosquitto_pub -> mosquitto_sub, QoS 1) measured in the same run."""

from __future__ import annotations

import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from wuxin.ingest.mqtt.broker import DynsecAdmin, MosquittoProcess, provision_device, provision_worker

DEVICE_TYPE = "manufacturing.current_bracelet"
BASE_TS = 1_700_000_000_000
WORKER_USER, WORKER_PASSWORD = "bench-worker", "bench-worker-password"


def payload_files(directory: Path, keys: list[str], per_device: int, run: int = 0) -> dict[str, Path]:
    """One file per device, one 3-point ThingsBoard message a line (mosquitto_pub -l sends each line); each run
    has device times and values of its own (a stream drops a publish it has seen within its duplicate window)."""
    rng = random.Random(7 + run)
    files = {}
    for key in keys:
        path = directory / f"{key}-{run}.jsonl"
        with path.open("w") as out:
            for i in range(per_device):
                out.write(
                    '{"ts":%d,"values":{"current_a":%.2f,"battery_pct":%.1f,"rssi_dbm":%d}}\n'
                    % (BASE_TS + run * 10_000_000 + i, rng.uniform(0, 50), rng.uniform(20, 100), rng.randint(-110, -40))
                )
        files[key] = path
    return files


def publish_files(
    port: int, files: dict[str, Path], logins: dict[str, list[str]], topic: str
) -> list[subprocess.Popen]:
    """One mosquitto_pub per device (C, light) sending its file's lines at QoS 1, logged in with that device's
    `logins` arguments (-u, -P) on `topic` ({key} is the device's key)."""
    return [
        subprocess.Popen(
            ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), *login, "-q", "1", "-i", f"bench-{key}"]
            + ["-t", topic.format(key=key), "-l"],
            stdin=files[key].open("rb"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for key, login in logins.items()
    ]


def _publish_all(port: int, credentials: dict[str, str], files: dict[str, Path]) -> list[subprocess.Popen]:
    """The broker's own accounts: key as username, token as password, each on its device's topic."""
    logins = {key: ["-u", key, "-P", token] for key, token in credentials.items()}
    return publish_files(port, files, logins, "v1/devices/{key}/telemetry")


def broker_ceiling(broker: MosquittoProcess, credentials: dict[str, str], files: dict[str, Path], total: int) -> float:
    """Messages/s from mosquitto_pub to mosquitto_sub through the same broker, QoS 1, no database."""
    sub = subprocess.Popen(
        [
            "mosquitto_sub",
            "-h",
            "127.0.0.1",
            "-p",
            str(broker.port),
            "-u",
            WORKER_USER,
            "-P",
            WORKER_PASSWORD,
            "-q",
            "1",
            "-t",
            "v1/devices/+/telemetry",
            "-C",
            str(total),
        ],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    started = time.perf_counter()
    publishers = _publish_all(broker.port, credentials, files)
    sub.wait()
    elapsed = time.perf_counter() - started
    for p in publishers:
        p.wait()
    return total / elapsed


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _postgres_cpu_s() -> float:
    """CPU seconds of every PostgreSQL process on this machine (the bench's database is the busy one)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "postgres":
                total += _cpu_s(int(entry.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return total


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # children waited for so far
    return usage.ru_utime + usage.ru_stime


def _count(engine) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT count(*) FROM readings").scalar()


def database_run(
    broker, platform, db_url: str, workers: int, credentials, files, total_points: int, log_dir: Path
) -> tuple[float, dict[str, float]]:
    """Data points/s from the first publish until every point is committed, with `workers` processes,
    and the CPU seconds the workers, the broker, PostgreSQL and the publishers used meanwhile (robust
    where wall time is noisy, and it shows where a shared machine's cores went)."""
    with platform.engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE readings, batches")
    env = dict(os.environ, WUXIN_DATABASE_URL=db_url)
    logs = [log_dir / f"bench-worker-{workers}-{n}.log" for n in range(workers)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "wuxin.cli.main",
                "ingest",
                "mqtt",
                "--url",
                broker.url(WORKER_USER, WORKER_PASSWORD),
                "--client-id",
                f"bench-{n}",  # same ids: a shared session left behind keeps its share
                "--sweep-interval-s",
                "0",
                "--reconcile-interval-s",
                "0",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log.open("wb"),
        )
        for n, log in enumerate(logs)
    ]
    try:
        deadline = time.monotonic() + 60
        while not all("subscribed" in log.read_text(errors="replace") for log in logs):
            if time.monotonic() > deadline:
                raise RuntimeError(f"bench workers did not subscribe; see {log_dir}")
            time.sleep(0.05)
        before = {
            "workers": sum(_cpu_s(p.pid) for p in procs),
            "broker": _cpu_s(broker.process.pid),
            "PostgreSQL": _postgres_cpu_s(),
            "publishers": _children_cpu_s(),
        }
        started = time.perf_counter()
        publishers = _publish_all(broker.port, credentials, files)
        while _count(platform.engine) < total_points:
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        after = {
            "workers": sum(_cpu_s(p.pid) for p in procs),
            "broker": _cpu_s(broker.process.pid),
            "PostgreSQL": _postgres_cpu_s(),
        }
        for p in publishers:
            p.wait()
        after["publishers"] = _children_cpu_s()  # only the publishers were waited for meanwhile
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
    return total_points / elapsed, {name: after[name] - before[name] for name in before}


def run_mqtt_bench(devices: int, messages: int) -> None:
    from wuxin.bench import DEFAULT_BENCH_PG
    from wuxin.bootstrap import build_platform
    from wuxin.config import Settings
    from wuxin.services.devices import registry
    from wuxin.sim.spec import make_uscc
    from wuxin.store.admin import recreate_postgres_database
    from wuxin.store.migrate import upgrade

    per_device = max(1, messages // devices)
    total = per_device * devices
    db_url = os.environ.get("WUXIN_BENCH_MQTT_PG_URL", DEFAULT_BENCH_PG + "_mqtt")  # its own database
    recreate_postgres_database(db_url)
    upgrade(db_url)
    platform = build_platform(Settings(database_url=db_url, environment="test"))
    registry.sync_builtin_thing_models(platform)
    enterprise = registry.create_enterprise(
        platform, None, "基准测试织造厂", make_uscc(random.Random(3)), "manufacturing", "江苏省"
    )
    keys = [f"bench-{n:04d}" for n in range(devices)]
    tokens = {
        k: registry.register_device(platform, None, enterprise, k, DEVICE_TYPE, "bank_installed")[1] for k in keys
    }
    with tempfile.TemporaryDirectory(prefix="wuxin-bench-mqtt-") as tmp:
        work = Path(tmp)
        files = payload_files(work, keys, per_device)
        with MosquittoProcess(work / "broker") as broker:
            admin = DynsecAdmin(broker.admin_url)
            provision_worker(admin, WORKER_USER, WORKER_PASSWORD)
            for key, token in tokens.items():
                provision_device(admin, key, DEVICE_TYPE, token)
            admin.close()
            print(
                f"MQTT bench: {devices} devices, {total:,} messages of 3 data points, QoS 1, Mosquitto on :{broker.port}"
            )
            ceiling = broker_ceiling(broker, tokens, files, total)
            print(
                f"  broker alone (mosquitto_pub -> mosquitto_sub):  {ceiling:>10,.0f} msg/s = {3 * ceiling:>10,.0f} data points/s"
            )
            for workers in (1, 2):
                rate, cpu_s = database_run(broker, platform, db_url, workers, tokens, files, 3 * total, work)
                print(
                    f"  {workers} worker(s) -> PostgreSQL (ack after commit): {rate / 3:>10,.0f} msg/s = {rate:>10,.0f} "
                    f"data points/s ({rate / (3 * ceiling):.0%} of the broker's ceiling)"
                )
                print(
                    "      CPU per message: "
                    + ", ".join(f"{name} {seconds / total * 1e6:.0f} us" for name, seconds in cpu_s.items())
                )
    platform.close()
