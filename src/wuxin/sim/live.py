"""Live streaming of a simulated fleet to a running platform, as its devices would send it.

Each device posts its own readings and events with its own access token to ThingsBoard's HTTP
device API (`POST /api/v1/{token}/telemetry`), paced by the simulated clock: `speed` simulated
seconds pass per wall-clock second. Bounded in time; it stops by itself.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import httpx
import orjson

TICK_S = 1.0  # one batch per device per wall-clock second


@dataclass
class LiveSummary:
    posts: int = 0
    points: int = 0
    refused_points: int = 0
    failed_posts: int = 0
    errors: list[str] = field(default_factory=list)


def thingsboard_item(line: dict) -> dict:
    """A bulk-format line as a ThingsBoard telemetry item (events use the platform's extension)."""
    if "event" in line:
        return {"ts": line["ts"], "event": line["event"], "params": line.get("params", {})}
    return {"ts": line["ts"], "values": line["values"]}


def ticks(lines: Iterable[dict], start_ms: int, speed: float) -> Iterable[tuple[float, dict[str, list[dict]]]]:
    """(wall seconds after start, lines per device) for each tick, in time order."""
    ordered = sorted(lines, key=lambda l: l["ts"])
    batch: dict[str, list[dict]] = defaultdict(list)
    tick_end_ms = start_ms + TICK_S * speed * 1000
    for line in ordered:
        while line["ts"] >= tick_end_ms:
            yield (tick_end_ms - start_ms) / speed / 1000, batch
            batch, tick_end_ms = defaultdict(list), tick_end_ms + TICK_S * speed * 1000
        batch[line["device"]].append(thingsboard_item(line))
    if batch:
        yield (tick_end_ms - start_ms) / speed / 1000, batch


def stream_http(
    base_url: str,
    tokens: dict[str, str],
    lines: Iterable[dict],
    start_ms: int,
    speed: float,
    duration_s: float,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> LiveSummary:
    """Post each tick's lines when its wall-clock time comes; stop after `duration_s`."""
    summary = LiveSummary()
    began = monotonic()
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for due_s, batch in ticks(lines, start_ms, speed):
            if due_s > duration_s:
                break
            wait_s = due_s - (monotonic() - began)
            if wait_s > 0:
                sleep(wait_s)
            for device, items in batch.items():
                _post(client, tokens[device], device, items, summary)
    return summary


def _post(client: httpx.Client, token: str, device: str, items: list[dict], summary: LiveSummary) -> None:
    try:
        response = client.post(
            f"/api/v1/{token}/telemetry", content=orjson.dumps(items), headers={"content-type": "application/json"}
        )
    except httpx.HTTPError as exc:
        summary.failed_posts += 1
        summary.errors.append(f"{device}: {exc}")
        return
    summary.posts += 1
    if response.status_code >= 500 or response.status_code in (401, 413):
        summary.failed_posts += 1
        summary.errors.append(f"{device}: HTTP {response.status_code} {response.text[:200]}")
        return
    body = response.json()
    summary.points += body.get("accepted", 0) + body.get("events", 0)
    summary.refused_points += body.get("rejected", 0)
