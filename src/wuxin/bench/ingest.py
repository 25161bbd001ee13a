"""Ingestion benchmark: bulk import and HTTP against the database's raw write speed."""

from __future__ import annotations

import random
import socket
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import orjson
import uvicorn
from rich.console import Console
from rich.table import Table

from wuxin.bootstrap import build_platform
from wuxin.config import Settings
from wuxin.services.devices import registry
from wuxin.services.ingest.bulk_import import import_file
from wuxin.store import bulk
from wuxin.store.admin import recreate_postgres_database
from wuxin.store.migrate import upgrade

DEVICES = 200
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
HTTP_BATCH_POINTS = 1000


def run_ingest_bench(points: int, http_points: int, databases: list[str], pg_url: str, console: Console) -> dict:
    results = {}
    with tempfile.TemporaryDirectory(prefix="wuxin-bench-") as tmp:
        jsonl, raw_rows = _workload(Path(tmp), points)
        console.print(
            f"workload: {points:,} points in {jsonl.stat().st_size / 1e6:.0f} MB of JSON Lines, {DEVICES} devices"
        )
        for db in databases:
            url = f"sqlite:///{tmp}/bench.db" if db == "sqlite" else pg_url
            results[db] = _bench_database(db, url, jsonl, raw_rows, http_points, console)
    _print(results, points, http_points, console)
    return results


def _workload(folder: Path, points: int) -> tuple[Path, list[tuple]]:
    """Bracelets (1 point a line) and energy meters (2 points a line), 1-minute readings."""
    rng = random.Random(7)
    path = folder / "bench.jsonl"
    raw_rows: list[tuple] = []
    written, minute = 0, 0
    with path.open("wb") as out:
        while written < points:
            for d in range(DEVICES):
                ts = START_MS + minute * 60_000
                values = (
                    {"current_a": round(rng.uniform(0, 80), 2)}
                    if d % 2
                    else {"energy_kwh_total": round(minute * 0.5 + d, 3), "power_kw": round(rng.uniform(0, 30), 2)}
                )
                values = dict(list(values.items())[: points - written])
                out.write(orjson.dumps({"device": f"bench-{d:04d}", "ts": ts, "values": values}) + b"\n")
                raw_rows.extend((d + 1, k, ts, float(v), None, 1, ts) for k, v in values.items())
                written += len(values)
                if written >= points:
                    break
            minute += 1
    return path, raw_rows


def _fresh_platform(db: str, url: str):
    if db == "postgresql":
        recreate_postgres_database(url)
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    settings = Settings(database_url=url, max_future_skew_s=10 * 365 * 86400)
    platform = build_platform(settings)
    upgrade(url)
    registry.sync_builtin_thing_models(platform)
    enterprise = _enterprise(platform)
    tokens = {}
    for d in range(DEVICES):
        device_type = "manufacturing.current_bracelet" if d % 2 else "manufacturing.energy_meter"
        _, tokens[f"bench-{d:04d}"] = registry.register_device(
            platform, None, enterprise, f"bench-{d:04d}", device_type, "bank_installed"
        )
    return platform, tokens


def _enterprise(platform) -> int:
    from wuxin.sim.spec import make_uscc

    return registry.create_enterprise(
        platform, None, "基准测试纺织有限公司", make_uscc(random.Random(1)), "manufacturing", "江苏省苏州市吴江区"
    )


def _bench_database(db: str, url: str, jsonl: Path, raw_rows: list[tuple], http_points: int, console: Console) -> dict:
    platform, tokens = _fresh_platform(db, url)
    raw_s = _time_raw(platform, raw_rows)
    console.print(f"{db}: raw {len(raw_rows) / raw_s:,.0f} rows/s")
    start = time.perf_counter()
    summary = import_file(platform, jsonl)
    bulk_s = time.perf_counter() - start
    assert summary.readings == len(raw_rows) and summary.rejected == 0, summary
    console.print(f"{db}: bulk {summary.readings / bulk_s:,.0f} points/s")
    platform.close()
    platform, tokens = _fresh_platform(db, url)
    http_s, http_stored = _time_http(platform, tokens, jsonl, http_points)
    console.print(f"{db}: http {http_stored / http_s:,.0f} points/s")
    platform.close()
    return {"raw": len(raw_rows) / raw_s, "bulk": summary.readings / bulk_s, "http": http_stored / http_s}


def _time_raw(platform, rows: list[tuple]) -> float:
    with platform.engine.connect() as conn:
        table = bulk.raw_baseline_table(conn)
        conn.commit()
        start = time.perf_counter()
        bulk.raw_write(conn, table, rows)
        conn.commit()
        elapsed = time.perf_counter() - start
        bulk.drop_table(conn, table)
        conn.commit()
    return elapsed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _time_http(platform, tokens: dict[str, str], jsonl: Path, points: int) -> tuple[float, int]:
    """Real HTTP on loopback: ThingsBoard batches of ~1000 points per device token, 4 clients."""
    from wuxin.api.app import create_app

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(platform), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    batches = _http_batches(jsonl, points)
    start = time.perf_counter()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client, ThreadPoolExecutor(4) as pool:
        stored = sum(pool.map(lambda b: _post(client, tokens[b[0]], b[1]), batches))
    elapsed = time.perf_counter() - start
    server.should_exit = True
    thread.join()
    return elapsed, stored


def _http_batches(jsonl: Path, points: int) -> list[tuple[str, bytes]]:
    by_device: dict[str, list] = {}
    taken = 0
    with jsonl.open("rb") as handle:
        for raw in handle:
            line = orjson.loads(raw)
            by_device.setdefault(line["device"], []).append({"ts": line["ts"], "values": line["values"]})
            taken += len(line["values"])
            if taken >= points:
                break
    batches: list[tuple[str, bytes]] = []  # (device key, JSON body)
    for device, items in by_device.items():
        per_batch = max(1, HTTP_BATCH_POINTS // max(1, len(items[0]["values"])))
        batches.extend((device, orjson.dumps(items[i : i + per_batch])) for i in range(0, len(items), per_batch))
    return batches


def _post(client: httpx.Client, token: str, body: bytes) -> int:
    response = client.post(f"/api/v1/{token}/telemetry", content=body, headers={"content-type": "application/json"})
    response.raise_for_status()
    return response.json()["accepted"]


def _print(results: dict, points: int, http_points: int, console: Console) -> None:
    table = Table("database", "raw rows/s", "bulk points/s", "bulk/raw", "HTTP points/s", "HTTP/raw")
    for db, r in results.items():
        table.add_row(
            db,
            f"{r['raw']:,.0f}",
            f"{r['bulk']:,.0f}",
            f"{r['bulk'] / r['raw']:.2f}",
            f"{r['http']:,.0f}",
            f"{r['http'] / r['raw']:.2f}",
        )
    console.print(table)
    console.print(f"({points:,} points bulk, {http_points:,} points over HTTP; target bulk/raw >= 0.50)")
    print(
        "ratios: "
        + " ".join(
            f"{db} bulk/raw={r['bulk'] / r['raw']:.2f} http/raw={r['http'] / r['raw']:.2f}" for db, r in results.items()
        )
    )
