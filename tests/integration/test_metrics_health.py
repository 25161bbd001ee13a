"""/metrics for every part (channels, requests, database, jobs, ledger, MQTT workers) and /health per part."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import uvicorn
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import T0_MS, free_port
from tests.world import build_world, login
from wuxin.config import Settings
from wuxin.ingest.jt808.gateway import Jt808Gateway
from wuxin.ingest.jt808.simulator import SimulatedTerminal, fix
from wuxin.services.devices import registry
from wuxin.services.ingest.bulk_import import import_file
from wuxin.services.ingest.jt808 import DatabaseDirectory, PlatformSink, provision_terminal
from wuxin.services.ingest.mqtt import Inbound, store_mqtt_batch
from wuxin.services.ingest.protocols import push_signature
from wuxin.services.monitoring import sweeps

FIX_TIME = datetime(2026, 9, 21, 12, 0, tzinfo=UTC)


def samples(live) -> dict[tuple[str, frozenset], float]:
    """Every sample of /metrics by (name, labels)."""
    text = live.client.get("/metrics").text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: dict, name: str, **labels) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def _push(live, platform, world) -> None:
    admin = login(live.client, "admin")
    secret = live.client.post("/api/v1/platforms", json={"name": "rootcloud"}, headers=admin).json()["secret"]
    assert (
        live.client.post(
            "/api/v1/platforms/rootcloud/enterprises", json={"enterprise_id": world.factory}, headers=admin
        ).status_code
        == 201
    )
    body = b"\n".join(
        json.dumps(r).encode()
        for r in (
            {"device": "loom-01", "ts": T0_MS - 2000, "values": {"current_a": 11.5}},
            {"device": "truck-01", "ts": T0_MS - 2000, "values": {"speed_kmh": 40}},
        )
    )  # not served: refused
    nonce = uuid.uuid4().hex
    headers = {
        "X-Wuxin-Timestamp": str(T0_MS),
        "X-Wuxin-Nonce": nonce,
        "Content-Type": "application/x-ndjson",
        "X-Wuxin-Signature": push_signature(secret, T0_MS, nonce, body),
    }
    response = live.client.post("/api/v1/platforms/rootcloud/telemetry", content=body, headers=headers)
    assert response.status_code == 200 and response.json()["accepted"] == 1, response.text


def _jt808(platform, world) -> int:
    """A provisioned terminal logs in and sends one location through the gateway; returns points stored."""
    registry.register_device(
        platform,
        None,
        world.fleet,
        "truck-02",
        "vehicles.gps_terminal",
        "bank_installed",
        attributes={"jt808_phone": "013912345678", "plate": "粤B12345"},
    )
    provision_terminal(platform, None, "truck-02", "SZ80801")

    async def main() -> None:
        gateway = Jt808Gateway(DatabaseDirectory(platform), PlatformSink(platform), idle_timeout_s=10)
        port = await gateway.start("127.0.0.1", 0)
        try:
            terminal = SimulatedTerminal("013912345678", "2013", terminal_id="SZ80801")
            await terminal.connect("127.0.0.1", port)
            await terminal.login("粤B12345")
            await terminal.request(terminal.builder.location(fix(FIX_TIME, 29.8683, 121.544, speed_kmh=42.0)))
            await terminal.close()
        finally:
            await gateway.stop()

    asyncio.run(main())
    with platform.uow() as uow:
        device = uow.devices.by_key("truck-02")
        return uow.telemetry.count_readings(device["id"]) + len(uow.telemetry.events([device["id"]], 0, 2**62, 100))


def test_every_channel_counts_accepted_rejected_and_quarantined(platform, live, tmp_path):
    world = build_world(platform)
    token = world.device_tokens["loom-01"]
    response = live.client.post(
        f"/api/v1/{token}/telemetry",
        content=orjson.dumps({"ts": T0_MS - 1000, "values": {"current_a": 12.5, "vibration": 3}}),
    )
    assert response.json()["accepted"] == 1
    _push(live, platform, world)
    path = tmp_path / "history.jsonl"
    path.write_bytes(
        b"".join(
            orjson.dumps(line) + b"\n"
            for line in (
                {"device": "meter-01", "ts": T0_MS - 60_000, "values": {"energy_kwh_total": 1000.0, "power_kw": 12.5}},
                {"device": "ghost-99", "ts": T0_MS, "values": {"current_a": 1.0}},
            )
        )
    )
    import_file(platform, path)
    store_mqtt_batch(
        platform,
        [Inbound("v1/devices/loom-01/telemetry", orjson.dumps({"ts": T0_MS - 3000, "values": {"current_a": 9.0}}))],
    )
    jt808_points = _jt808(platform, world)
    found = samples(live)
    counts = {
        channel: (
            value(found, "wuxin_points_accepted_total", channel=channel),
            value(found, "wuxin_channel_quarantined_total", channel=channel),
        )
        for channel in ("http", "platform", "bulk", "mqtt", "jt808")
    }
    assert counts == {"http": (1, 1), "platform": (1, 1), "bulk": (2, 1), "mqtt": (1, 0), "jt808": (jt808_points, 0)}
    assert jt808_points >= 3  # lat, lon, speed at least
    assert value(found, "wuxin_points_rejected_total", channel="platform", reason="not_served_by_platform") == 1
    assert value(found, "wuxin_points_rejected_total", channel="bulk", reason="unknown_device") == 1
    for channel in ("http", "platform", "bulk", "mqtt", "jt808"):  # lag = time() - this
        assert value(found, "wuxin_channel_last_accepted_timestamp_seconds", channel=channel) > 1e9


def test_request_latency_is_labelled_by_route_template_never_the_token(platform, live):
    world = build_world(platform)
    token = world.device_tokens["loom-01"]
    for _ in range(3):
        live.client.post(f"/api/v1/{token}/telemetry", content=orjson.dumps({"current_a": 1.0}))
    live.client.get("/no/such/page")
    found = samples(live)
    assert (
        value(
            found,
            "wuxin_request_duration_seconds_count",
            method="POST",
            route="/api/v1/{device_token}/telemetry",
            status="200",
        )
        == 3
    )
    assert value(found, "wuxin_request_duration_seconds_count", method="GET", route="unmatched", status="404") == 1
    text = live.client.get("/metrics").text
    assert token not in text and "/no/such/page" not in text


def test_database_query_latency_and_pool_are_measured(platform, live):
    build_world(platform)
    found = samples(live)
    assert value(found, "wuxin_db_query_duration_seconds_count", operation="select") > 0
    assert value(found, "wuxin_db_query_duration_seconds_count", operation="insert") > 0
    assert ("wuxin_db_pool_checked_out", frozenset()) in found


def test_ledger_size_and_last_signed_head_after_publishing(platform, live):
    world = build_world(platform)
    live.client.post(f"/api/v1/{world.device_tokens['loom-01']}/telemetry", content=b'{"current_a": 1.0}')
    head = live.client.post("/api/v1/ledger/tree-heads", headers=login(live.client, "admin"))
    assert head.status_code == 201, head.text
    found = samples(live)
    assert value(found, "wuxin_ledger_tree_size") == head.json()["tree_size"] > 0
    assert value(found, "wuxin_ledger_last_head_timestamp_seconds") == head.json()["timestamp_ms"] / 1000


def test_sweep_and_daily_job_durations_and_last_success(platform, live):
    build_world(platform)
    sweeps.sweep(platform)
    found = samples(live)
    for job in ("sweep", "daily"):
        assert value(found, "wuxin_job_duration_seconds_count", job=job) == 1
        assert value(found, "wuxin_job_last_success_timestamp_seconds", job=job) > 1e9


def test_an_mqtt_worker_process_serves_its_own_metrics(platform):
    from wuxin.cli.ingest import serve_metrics

    build_world(platform)
    store_mqtt_batch(platform, [Inbound("v1/devices/loom-01/telemetry", orjson.dumps({"current_a": 2.0}))])
    port = free_port()
    serve_metrics(platform, "127.0.0.1", port)
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    assert 'wuxin_points_accepted_total{channel="mqtt"} 1.0' in text


def test_health_reports_each_part(platform, live):
    build_world(platform)
    response = live.client.get("/health", headers=login(live.client, "admin"))
    assert response.status_code == 200
    parts = response.json()["parts"]
    assert {name: part["status"] for name, part in parts.items()} == {
        "database": "ok",
        "broker": "not_configured",
        "workers": "ok",
        "scheduler": "ok",
        "disk": "ok",
    }
    assert response.json()["status"] == "ok" and parts["disk"]["free_bytes"] > 0


def test_health_tells_anyone_but_the_admin_each_part_s_status_only(platform, live):
    """A probe needs the status; the broker's address, the data directory and its free bytes tell an outsider
    where to aim, so only the platform admin reads them."""
    build_world(platform)
    platform.settings.mqtt_url = f"mqtt://worker:secret@127.0.0.1:{free_port()}"  # down: an address to hide
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, login(live.client, "officer")):
        answer = live.client.get("/health", headers=headers)
        assert answer.status_code == 200 and answer.json()["status"] == "degraded"
        assert {name: set(part) for name, part in answer.json()["parts"].items()} == {
            name: {"status"} for name in ("database", "broker", "workers", "scheduler", "disk")
        }
        assert "127.0.0.1" not in answer.text and "free_bytes" not in answer.text
    detailed = live.client.get("/health", headers=login(live.client, "admin")).json()["parts"]
    assert detailed["broker"]["address"].startswith("127.0.0.1:") and detailed["disk"]["path"]


def test_health_reports_the_configured_broker_up_then_down(platform, live):
    build_world(platform)
    admin = login(live.client, "admin")
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        platform.settings.mqtt_url = f"mqtt://worker:secret@127.0.0.1:{listening.getsockname()[1]}"
        up = live.client.get("/health", headers=admin)
    down = live.client.get("/health", headers=admin)  # the port is closed now
    assert up.json()["parts"]["broker"]["status"] == "ok" and up.json()["status"] == "ok"
    assert down.status_code == 200 and down.json()["status"] == "degraded"  # HTTP writes still succeed
    assert down.json()["parts"]["broker"]["status"] == "down" and "secret" not in down.text


def test_health_answers_503_with_each_part_when_the_database_is_unreachable():
    from wuxin.api.app import create_app
    from wuxin.bootstrap import build_platform

    dead = build_platform(Settings(database_url=f"postgresql://127.0.0.1:{free_port()}/nowhere"))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(dead), host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=30)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert response.status_code == 503 and response.json()["status"] == "unavailable"
    parts = response.json()["parts"]
    assert parts["database"]["status"] == "down"
    assert set(parts) == {"database", "broker", "workers", "scheduler", "disk"}


DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "wuxin.json"


def exposed_names(text: str) -> set[str]:
    """Every series name a query may use: each family's samples, even a labelled family with none yet."""
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_sum", "_count", "_created"),
        "gauge": ("",),
        "summary": ("_sum", "_count", "_created"),
    }
    names = set()
    for family in text_string_to_metric_families(text):
        names.update(family.name + suffix for suffix in suffixes.get(family.type, ("",)))
        names.update(s.name for s in family.samples)
    return names


def test_the_grafana_dashboard_parses_and_queries_only_exposed_metrics(platform, live):
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert (
        dashboard["uid"] and dashboard["schemaVersion"] >= 36 and dashboard["__inputs"][0]["pluginId"] == "prometheus"
    )
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels) and all(
        {"x", "y", "w", "h"} <= set(p["gridPos"]) for p in panels
    )
    queried = {name for p in panels for t in p["targets"] for name in re.findall(r"\bwuxin_[a-z0-9_]+", t["expr"])}
    exposed = exposed_names(live.client.get("/metrics").text)
    assert queried - exposed == set()
    wanted = {
        "wuxin_points_accepted_total",
        "wuxin_channel_quarantined_total",
        "wuxin_request_duration_seconds_bucket",
        "wuxin_db_query_duration_seconds_bucket",
        "wuxin_db_pool_checked_out",
        "wuxin_job_last_success_timestamp_seconds",
        "wuxin_ledger_tree_size",
        "wuxin_ledger_last_head_timestamp_seconds",
        "wuxin_channel_last_accepted_timestamp_seconds",
    }
    assert wanted <= queried
