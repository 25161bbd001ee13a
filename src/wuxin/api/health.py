"""GET /health, one function per part: database, broker, workers (monitoring sweeper), scheduler (tree-head
task), disk. Each part answers {"status": "ok" | "down" | "low" | "not_configured", ...}; the whole answers 503
when writes cannot succeed (the database does not answer, or the disk is below its minimum), 200 otherwise
("degraded" when a part that does not stop writes is down)."""
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
from wuxin.store.db import ping

log = logging.getLogger("wuxin.api")

BROKER_TIMEOUT_S = 2.0
MIN_FREE_DISK_BYTES = 64 * 1024 * 1024  # below this a write may fail half-way: refuse traffic (503)
WRITE_PARTS = ("database", "disk")  # a part of these down: writes cannot succeed


def health_report(platform: Platform, state: State) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of /health. `database` stays the dialect name or "unreachable" (its first form)."""
    parts = {"database": database(platform), "broker": broker(platform), "workers": workers(state),
             "scheduler": scheduler(state), "disk": disk(platform)}
    healthy = {"ok", "not_configured"}
    writes_fail = any(parts[name]["status"] not in healthy for name in WRITE_PARTS)
    status = "unavailable" if writes_fail else ("ok" if all(p["status"] in healthy for p in parts.values())
                                                else "degraded")
    database_name = platform.engine.dialect.name if parts["database"]["status"] == "ok" else "unreachable"
    body = {"status": status, "database": database_name, "version": __version__, "parts": parts}
    return (503 if writes_fail else 200), body


def database(platform: Platform) -> dict[str, Any]:
    try:
        ping(platform.engine)
    except Exception as exc:  # the database is down: say so, do not crash
        log.error("health check: database unreachable: %s", exc)
        return {"status": "down", "dialect": platform.engine.dialect.name, "error": type(exc).__name__}
    return {"status": "ok", "dialect": platform.engine.dialect.name}


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
    """The task that signs a tree head periodically."""
    task = getattr(state, "tree_head_task", None)
    if task is None:
        return {"status": "down", "tree_head_task": "not started"}
    running = not task.done()
    return {"status": "ok" if running else "down", "tree_head_task": "running" if running else "stopped"}


def disk(platform: Platform) -> dict[str, Any]:
    """Free space where the platform writes: the SQLite file's directory, else var_dir."""
    where = _nearest_existing(_data_dir(platform))
    free = shutil.disk_usage(where).free
    return {"status": "ok" if free >= MIN_FREE_DISK_BYTES else "low", "path": str(where), "free_bytes": free,
            "min_free_bytes": MIN_FREE_DISK_BYTES}


def _data_dir(platform: Platform) -> Path:
    database_file = platform.engine.url.database if platform.engine.dialect.name == "sqlite" else None
    if database_file and database_file != ":memory:":
        return Path(database_file).resolve().parent
    return Path(platform.settings.var_dir).resolve()


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
