"""EPCIS capture benchmark: events/s through real HTTP (validate, hash, store, ledger) on SQLite,
against the raw GS1 JSON Schema validation rate of the same documents measured in the same run."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import uvicorn

from wuxin.trace.epcis import validate_document

EVENTS_PER_DOCUMENT = 100
PASSWORD = "bench-password-123"


def synthetic_documents(events: int, per_document: int = EVENTS_PER_DOCUMENT) -> list[dict[str, Any]]:
    """Distinct ObjectEvents (commissioning, shipping, with a temperature sensor reading), `per_document` a document."""
    documents, made = [], 0
    while made < events:
        count = min(per_document, events - made)
        documents.append(
            {
                "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
                "type": "EPCISDocument",
                "schemaVersion": "2.0",
                "creationDate": "2026-09-21T10:00:00Z",
                "epcisBody": {"eventList": [_event(made + n) for n in range(count)]},
            }
        )
        made += count
    return documents


def _event(n: int) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": f"2026-09-21T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}.{n % 1000:03d}Z",
        "eventTimeZoneOffset": "+08:00",
        "epcList": [f"https://id.gs1.org/01/06901234567892/21/B-{n}"],
        "action": "OBSERVE",
        "bizStep": "shipping" if n % 2 else "commissioning",
        "disposition": "in_transit",
        "readPoint": {"id": "urn:epc:id:sgln:6901234.00001.0"},
        "sensorElementList": [
            {
                "sensorMetadata": {"time": "2026-09-21T10:00:00Z"},
                "sensorReport": [{"type": "Temperature", "value": 4.0 + n % 10 / 10, "uom": "CEL"}],
            }
        ],
    }


def run_epcis_bench(events: int, echo: Callable[[str], None] = print) -> dict[str, Any]:
    """Capture `events` events over HTTP (100 a document) and compare with raw schema validation; prints the figures."""
    documents = synthetic_documents(events)
    started = time.perf_counter()
    for document in documents:
        validate_document(document)
    validate_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="wuxin-epcis-bench-") as folder:
        capture_s = _capture_over_http(f"sqlite:///{folder}/epcis.db", documents)
    figures = {
        "events": events,
        "documents": len(documents),
        "capture_s": round(capture_s, 3),
        "capture_events_per_s": round(events / capture_s),
        "validate_events_per_s": round(events / validate_s),
        "capture_vs_validate": round(validate_s / capture_s, 3),
    }
    echo(
        f"EPCIS bench, {events:,} events in {len(documents)} documents: capture over HTTP (validate, hash, store, "
        f"ledger; SQLite) {figures['capture_events_per_s']:,} events/s; raw JSON Schema validation "
        f"{figures['validate_events_per_s']:,} events/s; capture/validation = {figures['capture_vs_validate']}\n"
        + json.dumps(figures)
    )
    return figures


def _capture_over_http(url: str, documents: list[dict[str, Any]]) -> float:
    from wuxin.api.app import create_app
    from wuxin.bootstrap import build_platform
    from wuxin.config import Settings
    from wuxin.services.access import identity
    from wuxin.services.devices import registry
    from wuxin.store.migrate import upgrade

    upgrade(url)
    platform = build_platform(Settings(database_url=url, max_body_bytes=64 * 1024 * 1024))
    enterprise = _enterprise(platform, registry)
    identity.create_user(platform, "bench-owner", PASSWORD, "enterprise_user", None, enterprise)
    server, port = _serve(create_app(platform))
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            token = client.post("/api/v1/auth/login", json={"username": "bench-owner", "password": PASSWORD}).json()
            headers = {"Authorization": f"Bearer {token['access_token']}", "Content-Type": "application/ld+json"}
            bodies = [json.dumps(document) for document in documents]
            started = time.perf_counter()
            for body in bodies:
                response = client.post("/epcis/capture", content=body, headers=headers)
                if response.status_code != 202:
                    raise RuntimeError(f"EPCIS capture failed: {response.status_code} {response.text[:300]}")
            return time.perf_counter() - started
    finally:
        server.should_exit = True
        platform.close()


def _enterprise(platform, registry) -> int:
    import random

    from wuxin.sim.spec import make_uscc

    return registry.create_enterprise(
        platform, None, "Bench Foods Co", make_uscc(random.Random(1)), "manufacturing", "江苏省苏州市"
    )


def _serve(app) -> tuple[uvicorn.Server, int]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start for the EPCIS bench")
        time.sleep(0.01)
    return server, port
