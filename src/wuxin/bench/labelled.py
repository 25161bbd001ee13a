"""`wuxin bench alerts --data DIR`: alarm quality on anyone's labelled data set (a bank's own, an independent
generator's), replayed through the real platform like the simulator's (see wuxin.bench.alerts.replay).

DIR holds three files (documented in docs/benchmarks.md, "Labelled data sets"):

  devices.json     {"enterprises": [{"id": "E1", "name": "...", "industry": "<scenario>", "region": "...",
                    "uscc": "<optional>"}], "devices": [{"key": "...", "enterprise": "E1", "device_type": "<type>",
                    "attributes": {...}}]}
  telemetry.jsonl  one line per reading or event in the platform's import format ({"device", "ts", "values"} or
                    {"device", "ts", "event", "params"}; ts epoch ms or ISO 8601 with offset; optional "sent_ms",
                    when the line reached the platform, for a late or skewed device)
  labels.json      {"labels": [{"id": "...", "alarm_types": ["machine_idle"], "enterprise": "E1", "devices": ["..."],
                    "start": ts, "end": ts, "benign": false, "source": "<who labelled it>", "kind": "<free text>"}]}
                    A label with "benign": true marks an event that is not a risk (a weekend, a refuelling stop, a
                    meter replaced, a machine on standby): alarms inside one are counted apart as false alarms in
                    benign events. "devices" empty: the label is on the whole enterprise.

Scored per alarm type: recall on the risk labels naming that type (and per label source), precision, false alarms
per 1,000 device-days (device-days: devices x days with at least one line), false alarms inside benign events, and
the alarms per data-set enterprise (a healthy control firm's count is its false alarms).
An alarm belongs to a label with its type, enterprise and device (or no device) that started between 5 minutes
before the label's start and 2 days after its end (daily rules judge a day after it ends).
"""

from __future__ import annotations

import random
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson
from rich.console import Console

from wuxin.errors import InvalidInput
from wuxin.indicators.days import CN_OFFSET_MS, DAY_MS

MINUTE_MS = 60_000
MATCH_AFTER_END_MS = 2 * DAY_MS


@dataclass(frozen=True)
class Label:
    id: str
    alarm_types: frozenset[str]
    enterprise: str
    devices: frozenset[str]
    start_ms: int
    end_ms: int
    benign: bool
    source: str
    kind: str


def stamp(value, where: str) -> int:
    """Epoch ms from an int or an ISO 8601 text with offset."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return int(moment.timestamp() * 1000)
    raise InvalidInput(f"{where}: time {value!r} is neither epoch ms nor ISO 8601 with an offset")


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise InvalidInput(f"labelled data set: {path.name} missing in {path.parent}")
    try:
        return orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"labelled data set: {path.name} is not JSON ({exc})") from None


def load_data_set(folder: Path) -> tuple[dict, list[dict], list[Label]]:
    """(devices.json, telemetry lines with int stamps, labels), every file checked with errors naming the place."""
    devices = _read_json(folder / "devices.json")
    if not isinstance(devices.get("enterprises"), list) or not isinstance(devices.get("devices"), list):
        raise InvalidInput("labelled data set: devices.json needs lists 'enterprises' and 'devices'")
    known = {e.get("id") for e in devices["enterprises"]}
    for d in devices["devices"]:
        if d.get("enterprise") not in known:
            raise InvalidInput(
                f"devices.json: device {d.get('key')!r} names enterprise {d.get('enterprise')!r}, not listed"
            )
    path = folder / "telemetry.jsonl"
    if not path.is_file():
        raise InvalidInput(f"labelled data set: telemetry.jsonl missing in {folder}")
    lines = []
    with path.open("rb") as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                line = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise InvalidInput(f"telemetry.jsonl line {n}: not JSON") from None
            line["ts"] = stamp(line.get("ts"), f"telemetry.jsonl line {n}")
            if "sent_ms" in line:
                line["sent_ms"] = stamp(line["sent_ms"], f"telemetry.jsonl line {n} sent_ms")
            lines.append(line)
    labels = []
    for n, doc in enumerate(_read_json(folder / "labels.json").get("labels", []), 1):
        where = f"labels.json label {doc.get('id', n)!r}"
        types = doc.get("alarm_types")
        if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
            raise InvalidInput(f"{where}: alarm_types must be a non-empty list of alarm types, got {types!r}")
        if doc.get("enterprise") not in known:
            raise InvalidInput(f"{where}: enterprise {doc.get('enterprise')!r} is not in devices.json")
        start, end = stamp(doc.get("start"), where), stamp(doc.get("end"), where)
        if end < start:
            raise InvalidInput(f"{where}: end {doc.get('end')!r} before start {doc.get('start')!r}")
        labels.append(
            Label(
                str(doc.get("id", n)),
                frozenset(types),
                doc["enterprise"],
                frozenset(doc.get("devices", [])),
                start,
                end,
                bool(doc.get("benign", False)),
                str(doc.get("source", "-")),
                str(doc.get("kind", ",".join(types))),
            )
        )
    return devices, lines, labels


def register(platform, devices: dict) -> dict[int, str]:
    """Enterprises and devices into the platform; platform enterprise id -> data set enterprise id."""
    from wuxin.services.devices import registry
    from wuxin.sim.spec import make_uscc

    ids = {}
    for n, e in enumerate(devices["enterprises"]):
        uscc = e.get("uscc") or make_uscc(random.Random(f"labelled|{e['id']}|{n}"))
        ids[e["id"]] = registry.create_enterprise(
            platform, None, e.get("name") or f"enterprise {e['id']}", uscc, e["industry"], e.get("region") or "-"
        )
    for d in devices["devices"]:
        registry.register_device(
            platform,
            None,
            ids[d["enterprise"]],
            d["key"],
            d["device_type"],
            d.get("source_mode", "bank_installed"),
            None,
            d.get("attributes") or {},
        )
    return {v: k for k, v in ids.items()}


def matches(alarm: dict, label: Label, enterprise_of: dict[int, str]) -> bool:
    return (
        alarm["alarm_type"] in label.alarm_types
        and enterprise_of.get(alarm["enterprise_id"]) == label.enterprise
        and (alarm["device_key"] is None or not label.devices or alarm["device_key"] in label.devices)
        and label.start_ms - 5 * MINUTE_MS <= alarm["started_ms"] <= label.end_ms + MATCH_AFTER_END_MS
    )


def in_benign(alarm: dict, label: Label, enterprise_of: dict[int, str]) -> bool:
    """The alarm started during a benign event of its enterprise and device (or a whole-enterprise one)."""
    return (
        label.benign
        and enterprise_of.get(alarm["enterprise_id"]) == label.enterprise
        and (alarm["device_key"] is None or not label.devices or alarm["device_key"] in label.devices)
        and label.start_ms - 5 * MINUTE_MS <= alarm["started_ms"] <= label.end_ms + MATCH_AFTER_END_MS
    )


def score_labelled(labels: list[Label], alarms: list[dict], enterprise_of: dict[int, str], device_days: int) -> dict:
    """Per alarm type: recall (and per label source), precision, false per 1k device-days, false in benign events."""
    risks = [l for l in labels if not l.benign]
    types = sorted({a["alarm_type"] for a in alarms} | {t for l in risks for t in l.alarm_types})
    out = {}
    for alarm_type in types:
        mine = [a for a in alarms if a["alarm_type"] == alarm_type]
        wanted = [l for l in risks if alarm_type in l.alarm_types]
        true = [a for a in mine if any(matches(a, l, enterprise_of) for l in wanted)]
        false = [a for a in mine if a not in true]
        benign = [a for a in false if any(in_benign(a, l, enterprise_of) for l in labels)]
        found = [l for l in wanted if any(matches(a, l, enterprise_of) for a in mine)]
        by_enterprise: dict[str, int] = defaultdict(int)
        for a in mine:
            by_enterprise[enterprise_of.get(a["enterprise_id"], "-")] += 1
        by_source: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for l in wanted:
            by_source[l.source][1] += 1
            by_source[l.source][0] += l in found
        out[alarm_type] = {
            "labels": len(wanted),
            "detected": len(found),
            "recall": len(found) / len(wanted) if wanted else None,
            "alarms": len(mine),
            "true": len(true),
            "false": len(false),
            "precision": len(true) / len(mine) if mine else None,
            "false_per_1k_device_days": 1000 * len(false) / device_days if device_days else None,
            "false_in_benign_events": len(benign),
            "recall_by_source": {s: f"{hit}/{n}" for s, (hit, n) in sorted(by_source.items())},
            "alarms_by_enterprise": dict(sorted(by_enterprise.items())),
        }
    return out


def device_days_of(lines: list[dict]) -> int:
    return len({(l["device"], (l["ts"] + CN_OFFSET_MS) // DAY_MS) for l in lines})


def measure_labelled(folder: Path, console: Console, step_min: int = 15) -> dict:
    """Replay the data set through a fresh platform and score its alarms against its labels."""
    from wuxin.bench.alerts import BenchClock, bench_platform, replay, stored_alarms

    devices, lines, labels = load_data_set(Path(folder))
    if not lines:
        raise InvalidInput(f"labelled data set: telemetry.jsonl in {folder} has no line")
    first = min(l.get("sent_ms", l["ts"]) for l in lines)
    last = max(l.get("sent_ms", l["ts"]) for l in lines)
    start_ms = (first + CN_OFFSET_MS) // DAY_MS * DAY_MS - CN_OFFSET_MS  # the local (China) midnight before the data
    end_ms = (last + CN_OFFSET_MS) // DAY_MS * DAY_MS - CN_OFFSET_MS + DAY_MS
    device_days = device_days_of(lines)
    console.print(
        f"labelled data set {folder}: {len(devices['enterprises'])} enterprises, {len(devices['devices'])} "
        f"devices, {device_days:,} device-days, {len(lines):,} lines, {sum(not l.benign for l in labels)} risk "
        f"labels, {sum(l.benign for l in labels)} benign events; replayed in {step_min}-min slices"
    )
    clock = BenchClock(start_ms - DAY_MS)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="wuxin-alerts-labelled-") as tmp:
        platform = bench_platform(tmp, clock)
        enterprise_of = register(platform, devices)
        run = replay(platform, clock, lines, start_ms, end_ms, step_min * MINUTE_MS)
        alarms = stored_alarms(platform)
        platform.close()
    console.print(
        f"replay: {time.perf_counter() - started:.1f} s, {run['rejected']} points rejected, {len(alarms)} alarms"
    )
    figures = score_labelled(labels, alarms, enterprise_of, device_days)
    for alarm_type, f in figures.items():
        recall = f"{f['detected']}/{f['labels']}" if f["labels"] else "no label"
        precision = f"{f['precision']:.3f}" if f["precision"] is not None else "-"
        console.print(
            f"  {alarm_type}: recall {recall} (by source {f['recall_by_source'] or '-'}), precision {precision}, "
            f"alarms {f['alarms']} (true {f['true']}, false {f['false']}, of them in benign events "
            f"{f['false_in_benign_events']}), false/1k device-days {f['false_per_1k_device_days']:.2f}"
        )
    return {"device_days": device_days, "labels": len(labels), "types": figures}
