"""Several hosts, one run, every fault: nothing acknowledged to a device is lost, nothing is stored twice.

A 3-node NATS JetStream cluster (R3 stream) with a front end on each node, two worker hosts and a few
hundred devices, each host a network namespace (tests/cluster/harness.py). While the devices publish
steadily, in turn: a broker node is killed (kill -9 of its nats-server and front end, never restarted),
a worker host is partitioned from the brokers and healed, a worker is killed and restarted, and
PostgreSQL is cut off for seconds. The devices are never held off: those of the dead node move to the
others by themselves. Then the stream drains, and the counts must be exact: every message a device got a
PUBACK for is in the database with its 3 points, once; nothing that was not published is there.

Needs root (namespaces) and nats-server (scripts/test-setup.sh installs it). WUXIN_CLUSTER_DEVICES sets the
device count (default 300, one message a second each).

Also here (one file, so that no other test's cluster start cleans up the fake crashed run meanwhile): what a
crashed run leaves is removed by the next start, and a live run is left alone.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time

import psycopg
import pytest

from tests.cluster import harness
from tests.cluster.harness import PREFIX, STATE_DIR, Cluster, remove_leftovers, remove_run, run

DEVICES = int(os.environ.get("WUXIN_CLUSTER_DEVICES", "300"))
INTERVAL_S = 1.0
POINTS_PER_MESSAGE = 3
KILLED = 2  # the third broker host
PARTITION_S = 6.0
DATABASE_CUT_S = 4.0

pytestmark = pytest.mark.postgres


def wait_for(condition, timeout_s: float, what) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what() if callable(what) else what}"
        time.sleep(0.2)


def phase(started: float, what: str) -> None:
    """A line in the test's output per step, with the time since the start (figures, not assertions)."""
    print(f"[{time.monotonic() - started:6.1f} s] {what}", flush=True)


def stored_points(cluster: Cluster) -> dict[tuple[str, int], int]:
    """Points per message (device key, device time), read straight from PostgreSQL (not through the proxy)."""
    with psycopg.connect(cluster.local_database_url) as conn:
        rows = conn.execute(
            "SELECT d.key, r.ts_ms, count(*) FROM readings r JOIN devices d ON d.id = r.device_id "
            "GROUP BY d.key, r.ts_ms"
        ).fetchall()
    return {(key, ts): n for key, ts, n in rows}


def redelivered_points(cluster: Cluster) -> int:
    """Points that came again (redelivery) and were ignored: accepted by batches minus rows kept."""
    with psycopg.connect(cluster.local_database_url) as conn:
        accepted = conn.execute("SELECT coalesce(sum(points_accepted), 0) FROM batches").fetchone()[0]
        kept = conn.execute("SELECT count(*) FROM readings").fetchone()[0]
    return accepted - kept


def test_node_kill_partition_worker_restart_and_database_cut_lose_nothing_store_nothing_twice(tmp_path):
    assert os.geteuid() == 0, "the cluster test makes network namespaces: run it as root"
    cluster = Cluster(worker_hosts=2, workers_per_host=1)
    started = time.monotonic()
    try:
        cluster.start()
        phase(started, f"cluster up: run {cluster.run_id}, NATS {cluster.nats_urls}")
        devices = cluster.provision_devices(DEVICES)
        phase(started, f"{DEVICES} devices provisioned")
        wait_for(
            lambda: all("MQTT front end: MQTT on" in cluster.log(f"front-b{i}") for i in (1, 2, 3)),
            150,
            "the three front ends listening",
        )  # slow only on a busy machine
        wait_for(lambda: all("consuming" in cluster.log(f"worker-w{i}-1") for i in (1, 2)), 150, "workers consuming")
        t0_ms = int(time.time() * 1000) - 3_600_000  # device time: an hour ago plus the message's sequence number
        cluster.start_devices(devices, INTERVAL_S, t0_ms)
        status = cluster.device_status
        stored = lambda: len(stored_points(cluster))  # noqa: E731
        wait_for(
            lambda: sum(status().get("connected_by_front", {}).values()) == DEVICES,
            60,
            lambda: f"all devices connected ({status()})",
        )
        phase(started, "devices connected")
        wait_for(lambda: stored() >= DEVICES * 3, 60, lambda: f"3 rounds stored (have {stored()})")
        phase(started, "devices connected and storing")

        on_killed = status()["connected_by_front"].get(str(KILLED), 0)  # about a third; more if a front was slow
        cluster.kill_broker(KILLED)  # nats-server and front end, kill -9
        wait_for(
            lambda: (
                status().get("connected_by_front", {}).keys() <= {"0", "1"}
                and sum(status()["connected_by_front"].values()) == DEVICES
            ),
            60,
            lambda: f"every device on a surviving front end ({status()})",
        )
        phase(started, "broker 3 killed; its devices moved to the others")
        before = stored()
        wait_for(lambda: stored() >= before + DEVICES * 2, 120, "storing after the node loss")

        cluster.partition(cluster.workers[0])
        time.sleep(PARTITION_S)  # the other worker host carries everything meanwhile
        cluster.heal(cluster.workers[0])
        phase(started, f"worker host 1 partitioned for {PARTITION_S} s, healed")
        before = stored()
        wait_for(lambda: stored() >= before + DEVICES * 2, 120, "storing after the partition healed")

        cluster.restart_worker(cluster.workers[1])  # kill -9, start again
        wait_for(lambda: cluster.log("worker-w2-1").count("consuming") >= 2, 150, "the restarted worker consuming")
        phase(started, "worker on host 2 killed and consuming again")

        cluster.cut_database()
        time.sleep(DATABASE_CUT_S)
        cluster.restore_database()
        before = stored()
        wait_for(lambda: stored() >= before + DEVICES * 2, 120, "storing after the database came back")
        phase(started, f"PostgreSQL cut for {DATABASE_CUT_S} s; storing again")

        assert cluster.unexpected_exits() == {}, "a process died that no fault was meant to end"
        results = cluster.stop_devices()
        acked = {(d["key"], t0_ms + seq) for d in results for seq in d["acked"]}
        published = {(d["key"], t0_ms + seq) for d in results for seq in range(d["published"])}
        wait_for(
            lambda: acked <= stored_points(cluster).keys() and cluster.stream_messages() == 0,
            90,
            lambda: (
                f"drain: {len(acked - stored_points(cluster).keys())} acknowledged messages not stored, "
                f"{cluster.stream_messages()} in the stream"
            ),
        )
        points = stored_points(cluster)
        phase(started, "devices stopped, stream drained")

        assert len(published) == sum(d["published"] for d in results)
        assert acked == published, f"{len(published - acked)} published messages never acknowledged"
        assert points.keys() == acked, f"stored but never published: {sorted(points.keys() - acked)[:5]}"
        assert set(points.values()) == {POINTS_PER_MESSAGE}, "a message's points stored other than once each"
        moved = [d for d in results if d["connects"][0][0] == KILLED]
        assert len(moved) == on_killed > 0, f"{len(moved)} devices began on the killed node, {on_killed} were on it"
        for device in moved:
            later = [c for c in device["connects"][1:] if c[0] != KILLED]
            assert later and len(device["acked"]) > later[0][1], f"{device['key']} did not carry on elsewhere"
        assert "not stored" in cluster.log("worker-w1-1") + cluster.log("worker-w2-1"), "no worker saw the cut"
        print(
            f"\ncluster: {len(published)} messages from {DEVICES} devices, all acknowledged and stored once "
            f"({len(points) * POINTS_PER_MESSAGE} points); {redelivered_points(cluster)} points redelivered "
            f"and ignored; {len(moved)} devices moved off the killed node"
        )
    except BaseException:
        print(f"\ncluster logs (kept in {tmp_path / 'cluster-logs'}), their ends:\n{cluster.logs_tail()}")
        raise
    finally:
        cluster.keep_logs(tmp_path / "cluster-logs")
        cluster.close()


def fake_run(owner_pid: int) -> tuple[str, subprocess.Popen]:
    """A run as a crash leaves it: state dir, namespace with a process in it, bridge, database."""
    run_id = secrets.token_hex(2)
    (STATE_DIR / run_id).mkdir(parents=True)
    (STATE_DIR / run_id / "owner.pid").write_text(str(owner_pid))
    run("ip", "netns", "add", f"{PREFIX}-{run_id}-b1")
    run("ip", "link", "add", f"{PREFIX}{run_id}", "type", "bridge")
    sleeper = subprocess.Popen(["ip", "netns", "exec", f"{PREFIX}-{run_id}-b1", "sleep", "60"])
    with psycopg.connect(f"{harness._server_url(harness.PG_URL)}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{PREFIX}_{run_id}"')
    return run_id, sleeper


def leftovers_of(run_id: str) -> list[str]:
    found = []
    if f"{PREFIX}-{run_id}-" in run("ip", "netns", "list").stdout:
        found.append("namespace")
    if run("ip", "link", "show", f"{PREFIX}{run_id}", check=False).returncode == 0:
        found.append("bridge")
    if (STATE_DIR / run_id).exists():
        found.append("state dir")
    with psycopg.connect(f"{harness._server_url(harness.PG_URL)}/postgres") as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (f"{PREFIX}_{run_id}",)).fetchone():
            found.append("database")
    return found


def test_a_crashed_runs_leftovers_are_removed_and_a_live_run_is_kept():
    assert os.geteuid() == 0, "the cluster harness makes network namespaces: run it as root"
    dead = subprocess.Popen(["true"])
    dead.wait()
    crashed, crashed_sleeper = fake_run(dead.pid)
    live, live_sleeper = fake_run(os.getpid())
    try:
        assert leftovers_of(crashed) == ["namespace", "bridge", "state dir", "database"]
        assert crashed in remove_leftovers()
        assert leftovers_of(crashed) == []
        assert crashed_sleeper.wait(timeout=10) == -9  # the process in its namespace was killed
        assert leftovers_of(live) == ["namespace", "bridge", "state dir", "database"]
        assert live_sleeper.poll() is None
    finally:
        for run_id in (crashed, live):
            remove_run(run_id)
        for sleeper in (crashed_sleeper, live_sleeper):
            sleeper.kill()
            sleeper.wait()
