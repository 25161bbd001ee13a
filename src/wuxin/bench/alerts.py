"""`wuxin bench alerts`: alarm quality on the simulator's labelled anomalies, and alarm latency.

Quality: a seeded fleet with one labelled anomaly per kind (wuxin.sim.fleet.plan_anomalies) is replayed
through the pure rule engine in time order (stream rules per point; offline and herd checks every 5
simulated minutes; utilization against the borrower's own baseline once a day). Per alarm type: recall
on the labels, precision, false alarms per 1,000 device-days, detection delay. Alarms that echo an event
the simulated device itself raised (a limiter's overload, a housekeeping tamper) are counted apart: the
device said so, they are not the engine's guesses.
Latency: batches at 5,000 points/s through `ingest_lines` into a fresh SQLite database; the time from a
batch's arrival to its commit (alarm stored with it), p50 and p99, for batches that raised an alarm.
"""
from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from wuxin.alerts.catalog import default_rules
from wuxin.alerts.change import band_check
from wuxin.alerts.engine import DeviceInfo, Evaluation, evaluate_device, points_by_device
from wuxin.alerts.rules import STREAM_TYPES
from wuxin.scenarios import builtin_thing_models
from wuxin.sim.fleet import build_fleet, fleet_telemetry, plan_anomalies

DAY_MS, STEP_MS = 86_400_000, 300_000
KIND_OF_ALARM = {"device_tamper": "device_off", "device_offline": "device_off", "utilization_drop": "machine_idle",
                 "generation_above_physics": "pv_above_irradiance", "gps_jump": "gps_jump", "herd_drop": "herd_drop",
                 "crane_overload": "crane_overload"}
KINDS = ["device_off", "machine_idle", "pv_above_irradiance", "gps_jump", "herd_drop", "crane_overload"]
SCENARIOS = ["construction", "dairy", "energy", "manufacturing", "vehicles"]


def run_alerts_bench(days: int, per_scenario: int, seed: int, latency_s: float, console: Console) -> dict:
    quality = measure_quality(days, per_scenario, seed, console)
    latency = measure_latency(latency_s, console)
    return {"quality": quality, "latency": latency}


def _replay(enterprise, lines, start_ms: int, end_ms: int, models) -> list[tuple[str, str, int, bool]]:
    """(alarm_type, device key or '*', at_ms, device_reported) raised for one enterprise."""
    rules = [r for r in default_rules().values() if r.scenario == enterprise.industry and r.type in STREAM_TYPES]
    infos, ids = {}, {}
    for i, d in enumerate(enterprise.devices):
        ids[d.key] = i
        infos[i] = (DeviceInfo(i, d.key, d.device_type, 0, d.attributes),
                    [("platform", r) for r in rules if r.applies_to(d.device_type)])
    watched = {i: frozenset().union(*(r.watched_keys() for _, r in rs)) for i, (_, rs) in infos.items() if rs}
    readings, events = [], []
    for line in lines:
        i = ids[line["device"]]
        if "event" in line:
            events.append((i, line["event"], line["ts"], line["params"]))
        else:
            for k, v in line["values"].items():
                num = float(v) if isinstance(v, (int, float)) else None
                readings.append((i, k, line["ts"], num, None))
    alarms, states = [], {}
    by_time = sorted(readings, key=lambda r: r[2])
    event_names = {(e[0], e[2]) for e in events}
    for t0 in range(start_ms, end_ms, DAY_MS):
        chunk = [r for r in by_time if t0 <= r[2] < t0 + DAY_MS]
        ev = [e for e in events if t0 <= e[2] < t0 + DAY_MS]
        out = Evaluation()
        for device_id, points in points_by_device(chunk, ev, watched).items():
            evaluate_device(infos[device_id][0], infos[device_id][1], points, states, out)
        for s in out.signals:
            if s.action == "raise":
                alarms.append((s.rule.alarm_type, s.detail["device"], s.at_ms, s.rule.type == "event"
                               and (ids[s.detail["device"]], s.at_ms) in event_names))
    alarms += _offline_and_herd(enterprise, by_time, start_ms, end_ms, models)
    alarms += _utilization(enterprise, by_time, start_ms, end_ms)
    return alarms


def _offline_and_herd(enterprise, readings, start_ms, end_ms, models) -> list:
    """Offline after the thing model's heartbeat timeout; herd share of collars reporting in 2 h."""
    seen: dict[int, list[int]] = defaultdict(list)
    for r in readings:
        seen[r[0]].append(r[2])
    alarms = []
    herd_rule = default_rules().get(f"{enterprise.industry}.herd_drop")
    collars = [i for i, d in enumerate(enterprise.devices) if herd_rule and herd_rule.applies_to(d.device_type)]
    for i, d in enumerate(enterprise.devices):
        ts = np.array(seen.get(i, []), dtype=np.int64)
        timeout = models[d.device_type].heartbeat_timeout_s * 1000
        gaps = np.diff(np.concatenate(([start_ms], ts))) if len(ts) else np.array([end_ms - start_ms])
        starts = np.concatenate(([start_ms], ts))[:-1] if len(ts) else np.array([start_ms])
        for gap, s in zip(gaps, starts):
            if gap > timeout + STEP_MS:
                alarms.append(("device_offline", d.key, int(s + timeout), False))
        if len(ts) and end_ms - ts[-1] > timeout + STEP_MS:
            alarms.append(("device_offline", d.key, int(ts[-1] + timeout), False))
    if collars:
        window = int(herd_rule.params["window_s"] * 1000)
        raised = False
        for t in range(start_ms + window, end_ms, STEP_MS):
            reporting = sum(1 for i in collars if any(t - window <= x < t for x in seen.get(i, [])[-200:])
                            or _any_in(seen.get(i, []), t - window, t))
            low = reporting / len(collars) < herd_rule.params["min_share"]
            if low and not raised:
                alarms.append(("herd_drop", "*", t, False))
            raised = low
    return alarms


def _any_in(sorted_ts: list[int], lo: int, hi: int) -> bool:
    import bisect

    i = bisect.bisect_left(sorted_ts, lo)
    return i < len(sorted_ts) and sorted_ts[i] < hi


def _utilization(enterprise, readings, start_ms, end_ms) -> list:
    """Daily utilization (share of bracelet samples at or above the run threshold) against the own baseline."""
    rule = default_rules().get(f"{enterprise.industry}.utilization_drop")
    if rule is None:
        return []
    thresholds = {i: d.attributes.get("run_threshold_a") for i, d in enumerate(enterprise.devices)
                  if d.device_type == "manufacturing.current_bracelet"}
    per_day: dict[int, list[float]] = defaultdict(list)
    for device_id, key, ts, num, _ in readings:
        if key == "current_a" and device_id in thresholds and num is not None:
            per_day[(ts + 8 * 3_600_000) // DAY_MS].append(num >= thresholds[device_id])
    series = sorted((d, float(np.mean(v))) for d, v in per_day.items() if len(v) > 100)
    alarms, raised = [], False
    for day, value in series:
        check = band_check(series, day, value, rule.params["z"], rule.params["min_rel_change"], rule.params["min_days"])
        low = check is not None and check.direction == "below"
        if low and not raised:
            alarms.append(("utilization_drop", "*", (day + 1) * DAY_MS - 8 * 3_600_000, False))
        raised = low
    return alarms


def measure_quality(days: int, per_scenario: int, seed: int, console: Console) -> dict:
    end_ms = 1_790_000_000_000 // DAY_MS * DAY_MS - 8 * 3_600_000
    start_ms = end_ms - days * DAY_MS
    fleet = build_fleet(SCENARIOS, per_scenario, seed)
    labels = plan_anomalies(fleet, KINDS, start_ms + min(8, days - 2) * DAY_MS, end_ms, seed)
    models = {m.device_type: m for m in builtin_thing_models()}
    device_days = sum(len(e.devices) for e in fleet) * days
    console.print(f"quality: {len(fleet)} enterprises, {device_days:,} device-days, {len(labels)} labelled anomalies")
    found: dict[str, list] = defaultdict(list)
    alarms_by_type: dict[str, list] = defaultdict(list)
    for enterprise in fleet:
        mine = [a for a in labels if a.enterprise_uscc == enterprise.uscc]
        lines = list(fleet_telemetry([enterprise], start_ms, end_ms, seed, mine))
        for alarm_type, key, at, echoed in _replay(enterprise, lines, start_ms, end_ms, models):
            match = next((a for a in mine if KIND_OF_ALARM.get(alarm_type) == a.kind and (key == "*" or key in a.devices)
                          and a.start_ms - STEP_MS <= at <= max(a.end_ms, a.start_ms) + 2 * DAY_MS), None)
            alarms_by_type[alarm_type].append((match is not None, echoed))
            if match is not None:
                found[match.kind].append(at - match.start_ms)
    return _report(labels, found, alarms_by_type, device_days, console)


def _report(labels, found, alarms_by_type, device_days, console: Console) -> dict:
    table = Table(title="alarm quality on labelled anomalies")
    for col in ("alarm type", "alarms", "true", "device-reported", "false", "precision", "false/1k dev-days"):
        table.add_column(col)
    out = {}
    for alarm_type, rows in sorted(alarms_by_type.items()):
        true = sum(1 for t, _ in rows if t)
        echoed = sum(1 for t, e in rows if not t and e)
        false = len(rows) - true - echoed
        precision = true / (true + false) if true + false else float("nan")
        out[alarm_type] = {"alarms": len(rows), "true": true, "device_reported": echoed, "false": false,
                           "precision": precision, "false_per_1k_device_days": 1000 * false / device_days}
        table.add_row(alarm_type, str(len(rows)), str(true), str(echoed), str(false), f"{precision:.3f}",
                      f"{1000 * false / device_days:.2f}")
    console.print(table)
    recall = Table(title="recall and detection delay per labelled kind")
    for col in ("kind", "labelled", "detected", "recall", "delay (min)"):
        recall.add_column(col)
    for kind in KINDS:
        n = sum(1 for a in labels if a.kind == kind)
        delays = found.get(kind, [])
        detected = 1 if delays else 0
        recall.add_row(kind, str(n), str(detected), f"{detected / n:.2f}" if n else "-",
                       f"{max(min(delays), 0) / 60_000:.1f}" if delays else "-")
        out[f"recall:{kind}"] = detected / n if n else None
    console.print(recall)
    return out


def measure_latency(seconds: float, console: Console) -> dict:
    """Batches of 100 points every 20 ms (5,000 points/s) from 50 cranes; every 10th point over the limit."""
    from wuxin.bootstrap import build_platform
    from wuxin.config import Settings
    from wuxin.services import registry
    from wuxin.services.ingest import ingest_lines
    from wuxin.sim.spec import make_uscc
    from wuxin.store.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="wuxin-alerts-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'alerts.db'}"
        upgrade(url)
        platform = build_platform(Settings(database_url=url))
        registry.sync_builtin_thing_models(platform)
        eid = registry.create_enterprise(platform, None, "基准建设工程有限公司", make_uscc(random.Random(3)), "construction", "江苏省苏州市")
        for c in range(50):
            registry.register_device(platform, None, eid, f"crane-{c:02d}", "construction.tower_crane", "bank_installed")
        t = platform.clock_ms() - 3_600_000
        latencies, points, started = [], 0, time.perf_counter()
        n = 0
        while time.perf_counter() - started < seconds:
            tick = time.perf_counter()
            batch = []
            for i in range(100):
                n += 1
                over = n % 10 == 0
                batch.append({"device": f"crane-{n % 50:02d}", "ts": t + n, "values": {"moment_pct": 150.0 if over else 60.0}})
            arrived = time.perf_counter()
            ingest_lines(platform, batch, "http")
            latencies.append(time.perf_counter() - arrived)
            points += len(batch)
            time.sleep(max(0.0, 0.02 - (time.perf_counter() - tick)))
        elapsed = time.perf_counter() - started
        with platform.uow() as uow:
            stored = uow.monitoring.count_alarms()
        platform.close()
    p50, p99 = float(np.percentile(latencies, 50)) * 1000, float(np.percentile(latencies, 99)) * 1000
    console.print(f"latency: {points:,} points in {elapsed:.1f} s ({points / elapsed:,.0f} points/s offered 5,000), "
                  f"{stored} alarms stored; arrival -> alarm stored p50 {p50:.1f} ms, p99 {p99:.1f} ms (target p99 < 1000 ms)")
    return {"points_per_s": points / elapsed, "p50_ms": p50, "p99_ms": p99, "alarms": stored,
            "mean_ms": statistics.fmean(latencies) * 1000}
