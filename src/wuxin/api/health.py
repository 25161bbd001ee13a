"""GET /health, one function per part: database, broker, workers (monitoring sweeper), scheduler (tree-head,
maintenance and indicators tasks), disk. Each part answers {"status": "ok" | "down" | "low" | "not_configured",
...}. The whole answers 503 when writes cannot succeed: "unavailable" when the database does not answer,
"read_only" when it answers but a write would fail (a write failed for want of room lately, or the disk or
SQLite's page limit is nearly full; `writes` says which); otherwise 200, "degraded" when a part that does not stop writes is down."""

from __future__ import annotations

import logging
import shutil
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import State

from wuxin import __version__
from wuxin.bootstrap import Platform
from wuxin.errors import Unavailable
from wuxin.store.db import ping, writes_refused

log = logging.getLogger("wuxin.api")

BROKER_TIMEOUT_S = 2.0


def health_report(platform: Platform, state: State) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(HTTP status, body, headers) of /health. `database` stays the dialect name or "unreachable" (its first form)."""
    parts = {
        "database": database(platform),
        "broker": broker(platform),
        "workers": workers(state),
        "scheduler": scheduler(state),
    }
    parts["disk"] = disk(platform, database_up=parts["database"]["status"] == "ok")
    healthy = {"ok", "not_configured"}
    if parts["database"]["status"] not in healthy:
        status = "unavailable"
    elif parts["disk"]["status"] not in healthy:
        status = "read_only"
    else:
        status = "ok" if all(p["status"] in healthy for p in parts.values()) else "degraded"
    database_name = platform.engine.dialect.name if parts["database"]["status"] == "ok" else "unreachable"
    body = {
        "status": status,
        "database": database_name,
        "writes": parts["disk"].get("writes", "ok"),
        "version": __version__,
        "parts": parts,
    }
    if status in ("unavailable", "read_only"):
        return 503, body, {"Retry-After": str(Unavailable.retry_after_s)}
    return 200, body, {}


def database(platform: Platform) -> dict[str, Any]:
    try:
        ping(platform.engine)
    except Exception as exc:  # the database is down: say so, do not crash
        log.error("health check: database unreachable: %s", exc)
        return {"status": "down", "dialect": platform.engine.dialect.name, "error": type(exc).__name__}
    return {"status": "ok", "dialect": platform.engine.dialect.name}


def public_health(body: dict[str, Any]) -> dict[str, Any]:
    """What /health tells a caller who is not the platform admin: each part's status and whether writes succeed,
    without addresses, paths, sizes or error texts."""
    return {
        **body,
        "writes": "ok" if body["writes"] == "ok" else "refused",
        "parts": {name: {"status": part["status"]} for name, part in body["parts"].items()},
    }


def broker(platform: Platform) -> dict[str, Any]:
    """Whether the configured MQTT broker accepts a TCP connection (the MQTT workers are separate processes)."""
    url = platform.settings.mqtt_url
    if not url:
        return {"status": "not_configured"}
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or (8883 if parts.scheme in ("mqtts", "ssl") else 1883)
    try:
        with socket.create_connection((host, port), timeout=BROKER_TIMEOUT_S):
            pass
    except OSError as exc:
        return {"status": "down", "address": f"{host}:{port}", "error": type(exc).__name__}
    return {"status": "ok", "address": f"{host}:{port}"}


def workers(state: State) -> dict[str, Any]:
    """The monitoring sweeper thread (offline rules, escalation, notifications, daily rules)."""
    sweeper = getattr(state, "monitoring_sweeper", None)
    if sweeper is None:
        return {"status": "down", "sweeper": "not started"}
    return {"status": "ok" if sweeper.alive else "down", "sweeper": "running" if sweeper.alive else "stopped"}


def scheduler(state: State) -> dict[str, Any]:
    """The tasks that sign a tree head, run the telemetry maintenance and recompute the indicators periodically;
    down when one stopped or the indicators job's last run failed (it is retried: `indicators.last_error`)."""
    job = getattr(state, "indicators_job", None)
    found = {name: getattr(state, name, None) for name in ("tree_head_task", "maintenance_task")}
    found["indicators_task"] = job.task if job else None
    shown = {
        name: "not started" if task is None else "running" if not task.done() else "stopped"
        for name, task in found.items()
    }
    up = all(v == "running" for v in shown.values()) and not (job and job.last_error)
    return {"status": "ok" if up else "down", **shown, "indicators": job.view() if job else None}


def disk(platform: Platform, database_up: bool) -> dict[str, Any]:
    """Room to write: free space where the platform writes (the SQLite file's directory, else var_dir), and
    whether the database itself refuses writes (`store.db.writes_refused`: a recent full-disk failure, SQLite's
    page limit)."""
    where = _nearest_existing(_data_dir(platform))
    free, min_free = shutil.disk_usage(where).free, platform.settings.min_free_disk_mb * 2**20
    part = {
        "status": "ok" if free >= min_free else "low",
        "path": str(where),
        "free_bytes": free,
        "min_free_bytes": min_free,
    }
    refused = writes_refused(platform.engine, min_free) if database_up else None
    if refused:
        part |= {"status": "low", "writes": refused}
    elif part["status"] == "low":
        part["writes"] = f"{free // 2**20} MiB free at {where}, under the {min_free // 2**20} MiB kept free"
    return part


def _data_dir(platform: Platform) -> Path:
    database_file = platform.engine.url.database if platform.engine.dialect.name == "sqlite" else None
    if database_file and database_file != ":memory:":
        return Path(database_file).resolve().parent
    return Path(platform.settings.var_dir).resolve()


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
