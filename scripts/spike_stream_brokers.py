"""Issue 21 spike: the same 3-point messages through RabbitMQ 3.10 (MQTT plugin -> quorum queue -> AMQP
consumer) and NATS 2.9 JetStream (R1 single node, R3 cluster -> durable pull consumer): PUBACK latency,
publish throughput, consumer throughput per core (no database: the broker's side only), node loss.

    .venv/bin/pip install amqp==5.3.1          # the AMQP consumer of the RabbitMQ side (spike only)
    .venv/bin/python scripts/spike_stream_brokers.py nats
    .venv/bin/python scripts/spike_stream_brokers.py rabbit --mqtt-port P --amqp-port Q --pid PID

The RabbitMQ node is one of our own (see docs/design.md for how it is started); nothing on the
machine's own brokers is touched.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from wuxin.ingest.stream import jetstream
from wuxin.ingest.stream.nats_process import NatsCluster

MESSAGES = 20_000
LATENCY_SAMPLES = 500
BASE_TS = 1_700_000_000_000


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def payload(i: int) -> bytes:
    return json.dumps(
        {"ts": BASE_TS + i, "values": {"current_a": 12.5 + i % 10, "battery_pct": 81.0, "rssi_dbm": -71}}
    ).encode()


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    return f"p50 {statistics.median(ordered) * 1000:.2f} ms, p99 {ordered[int(len(ordered) * 0.99)] * 1000:.2f} ms"


# ---- NATS JetStream


async def nats_phase(cluster: NatsCluster, label: str) -> None:
    nc = await jetstream.connect(cluster.urls, "spike")
    replicas, _ = await jetstream.ensure_stream(nc, cluster.urls)
    js = nc.jetstream(timeout=10)
    latencies = []
    for i in range(LATENCY_SAMPLES):
        started = time.perf_counter()
        await js.publish(jetstream.SUBJECT, payload(i), headers={jetstream.TOPIC_HEADER: "v1/devices/d1/telemetry"})
        latencies.append(time.perf_counter() - started)
    cpu_before, own_before = sum(cpu_s(n.pid) for n in cluster.nodes), time.process_time()
    started = time.perf_counter()
    window = 256
    for first in range(0, MESSAGES, window):
        await asyncio.gather(
            *(
                js.publish(
                    jetstream.SUBJECT,
                    payload(i),
                    headers={
                        jetstream.TOPIC_HEADER: "v1/devices/d1/telemetry",
                        jetstream.DEDUPE_HEADER: f"{label}-{i}",
                    },
                )
                for i in range(first, min(MESSAGES, first + window))
            )
        )
    publish_s = time.perf_counter() - started
    broker_cpu_publish = sum(cpu_s(n.pid) for n in cluster.nodes) - cpu_before
    publisher_cpu = time.process_time() - own_before
    subscription = await js.pull_subscribe_bind(jetstream.CONSUMER, jetstream.STREAM)
    consumed = 0
    cpu_before, own_before = sum(cpu_s(n.pid) for n in cluster.nodes), time.process_time()
    started = time.perf_counter()
    while consumed < MESSAGES + LATENCY_SAMPLES:
        for message in await subscription.fetch(1000, timeout=5):
            await message.ack()
            consumed += 1
    consume_s = time.perf_counter() - started
    consumer_cpu = time.process_time() - own_before
    broker_cpu_consume = sum(cpu_s(n.pid) for n in cluster.nodes) - cpu_before
    print(
        f"NATS {label} (R{replicas}): PubAck latency {percentiles(latencies)}; publish {MESSAGES / publish_s:,.0f} msg/s "
        f"(256 in flight), broker CPU {broker_cpu_publish / MESSAGES * 1e6:.0f} us/msg, publisher "
        f"{publisher_cpu / MESSAGES * 1e6:.0f} us/msg; pull consumer "
        f"{consumed / consume_s:,.0f} msg/s at {consumer_cpu / consumed * 1e6:.0f} us CPU/msg "
        f"({consumed / consumer_cpu:,.0f} msg/s per consumer core), broker CPU {broker_cpu_consume / consumed * 1e6:.0f} us/msg"
    )
    await nc.jetstream().delete_stream(jetstream.STREAM)
    await nc.close()


async def nats_node_loss(cluster: NatsCluster, duration_s: float = 8.0) -> None:
    """A publisher acking each message (retrying with the same Nats-Msg-Id, as the front end) while the stream
    leader is killed with SIGKILL: longest wait for a PubAck, acked vs stored, duplicates."""
    nc = await jetstream.connect(cluster.urls, "spike-loss")
    await jetstream.ensure_stream(nc, cluster.urls)
    js = nc.jetstream(timeout=2)
    leader = (await js.stream_info(jetstream.STREAM)).cluster.leader
    acked, errors, longest, i = 0, 0, 0.0, 0
    killed_at = time.monotonic() + 2.0
    end = time.monotonic() + duration_s
    while time.monotonic() < end:
        if killed_at and time.monotonic() >= killed_at:
            cluster.kill_node(next(n for n in cluster.nodes if n.name == leader))
            killed_at = 0
        started = time.perf_counter()
        while True:
            try:
                await js.publish(jetstream.SUBJECT, payload(i), headers={jetstream.DEDUPE_HEADER: f"loss-{i}"})
                break
            except Exception:
                errors += 1
                await asyncio.sleep(0.1)
        longest = max(longest, time.perf_counter() - started)
        acked += 1
        i += 1
    info = await js.stream_info(jetstream.STREAM)
    print(
        f"NATS R3 node loss: leader {leader} killed (-9); {acked} published and acked, {info.state.messages} in the "
        f"stream, new leader {info.cluster.leader}; {errors} publish attempts failed and were retried, longest wait "
        f"for a PubAck {longest:.2f} s"
    )
    await nc.close()


def run_nats() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for size, label in ((1, "single node"), (3, "3-node cluster")):
            cluster = NatsCluster(Path(tmp) / f"c{size}", size=size).start()
            try:
                asyncio.run(nats_phase(cluster, label))
                if size == 3:
                    asyncio.run(nats_node_loss(cluster))
            finally:
                cluster.stop()


# ---- RabbitMQ 3.10: MQTT plugin in, quorum queue, AMQP consumer


def run_rabbit(mqtt_port: int, amqp_port: int, pid: int) -> None:
    import amqp

    connection = amqp.Connection(f"127.0.0.1:{amqp_port}", userid="guest", password="guest")
    connection.connect()
    channel = connection.channel()
    channel.queue_delete("wuxin-spike")
    channel.queue_declare("wuxin-spike", durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"})
    channel.queue_bind("wuxin-spike", "amq.topic", "v1.devices.*.telemetry")
    acked = threading.Condition()
    done: set[int] = set()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="spike-pub", protocol=mqtt.MQTTv311)
    client.max_inflight_messages_set(256)
    client.max_queued_messages_set(0)

    def on_publish(_c, _u, mid, _rc, _p):
        with acked:
            done.add(mid)
            acked.notify_all()

    client.on_publish = on_publish
    client.connect("127.0.0.1", mqtt_port)
    client.loop_start()
    latencies = []
    for i in range(LATENCY_SAMPLES):
        started = time.perf_counter()
        mid = client.publish("v1/devices/d1/telemetry", payload(i), qos=1).mid
        with acked:
            acked.wait_for(lambda: mid in done, 10)
        latencies.append(time.perf_counter() - started)
    cpu_before, own_before = cpu_s(pid), time.process_time()
    started = time.perf_counter()
    infos = [client.publish("v1/devices/d1/telemetry", payload(i), qos=1) for i in range(MESSAGES)]
    for info in infos:
        info.wait_for_publish(60)
    publish_s = time.perf_counter() - started
    broker_publish = cpu_s(pid) - cpu_before
    publisher_cpu = time.process_time() - own_before
    client.loop_stop()
    client.disconnect()
    channel.basic_qos(0, 1000, False)
    consumed = 0

    def on_message(message):
        nonlocal consumed
        consumed += 1
        channel.basic_ack(message.delivery_tag)

    cpu_before, own_before = cpu_s(pid), time.process_time()
    started = time.perf_counter()
    tag = channel.basic_consume("wuxin-spike", callback=on_message)
    while consumed < MESSAGES + LATENCY_SAMPLES:
        connection.drain_events(timeout=10)
    consume_s = time.perf_counter() - started
    own = time.process_time() - own_before
    print(
        f"RabbitMQ 3.10 MQTT -> quorum queue (1 node): PUBACK latency {percentiles(latencies)}; publish "
        f"{MESSAGES / publish_s:,.0f} msg/s (256 in flight), broker CPU {broker_publish / MESSAGES * 1e6:.0f} us/msg, "
        f"publisher {publisher_cpu / MESSAGES * 1e6:.0f} us/msg; "
        f"AMQP consumer {consumed / consume_s:,.0f} msg/s at {own / consumed * 1e6:.0f} us CPU/msg, broker CPU "
        f"{(cpu_s(pid) - cpu_before) / consumed * 1e6:.0f} us/msg"
    )
    channel.basic_cancel(tag)
    channel.queue_delete("wuxin-spike")
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("engine", choices=["nats", "rabbit"])
    parser.add_argument("--mqtt-port", type=int)
    parser.add_argument("--amqp-port", type=int)
    parser.add_argument("--pid", type=int, help="the RabbitMQ node's beam.smp")
    args = parser.parse_args()
    if args.engine == "nats":
        run_nats()
    else:
        run_rabbit(args.mqtt_port, args.amqp_port, args.pid)


if __name__ == "__main__":
    main()
