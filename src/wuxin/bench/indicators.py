"""Indicator benchmark: accuracy against the simulators' ground truth, and throughput.

Prints (1) how closely indicators recover what the simulators know (run hours, distance, herd
count, PV expected generation against pvlib run directly), (2) compute-only throughput on
arrays in memory against a bare numpy pass over the same points, (3) end-to-end throughput of
`update_indicators` on a database (read, compute, write, aggregate, index), and (4) the time to
bring one late day up to date.
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from wuxin.bench import DEFAULT_BENCH_PG
from wuxin.indicators.days import CHINA_TZ as CN
from wuxin.indicators.days import DAY_MS, day_start_ms, local_day
from wuxin.indicators.engine import compute_device_days
from wuxin.indicators.memory import collect, device_days
from wuxin.indicators.series import DeviceDays, Series
from wuxin.scenarios import scenario_packs
from wuxin.services.bootstrap import indicator_packs

QUALITY_START = int(dt.datetime(2025, 10, 13, tzinfo=CN).timestamp() * 1000)  # a Monday, clear of holidays
BRACELET = "manufacturing.current_bracelet"
WORKLOAD_DAY0 = 20_400  # 2025-11-09 local
MACHINES_PER_ENTERPRISE = 10


def run_indicators_bench(
    devices: int = 200,
    days: int = 30,
    databases: tuple[str, ...] = ("sqlite",),
    pg_url: str = DEFAULT_BENCH_PG,
    console: Console | None = None,
    quality_days: int = 7,
) -> dict:
    console = console or Console()
    results = {"quality": _quality(quality_days, console)}
    results["compute"] = _compute_only(devices, days, console)
    for db in databases:
        results[db] = _end_to_end(db, devices, days, pg_url, console)
    return results


# ---------------------------------------------------------------- accuracy


def _sim_rows(scenario: str, n: int, quality_days: int, pick=lambda e: True, seed: int = 11):
    sim, pack = scenario_packs()[scenario].sim(), indicator_packs()[scenario]
    rng = random.Random(f"bench|{scenario}")
    end = QUALITY_START + quality_days * DAY_MS
    out: list[tuple] = []  # (enterprise, truth, [(device key, indicator row)])
    i = 0
    while len(out) < n:
        i += 1
        e = sim.build_enterprise(rng, i)
        if not pick(e):
            continue
        truth: dict = {}
        values, events = collect(sim.telemetry(e, QUALITY_START, end, seed, truth=truth))
        days = np.arange(local_day(QUALITY_START), local_day(end - 1) + 1)
        siblings = [(d.device_type, d.attributes) for d in e.devices]
        rows = []
        for d in e.devices:
            decls = pack.for_type(d.device_type)
            if decls:
                data = device_days(
                    d.key, d.device_type, d.attributes, values.get(d.key, {}), events.get(d.key, {}), days, siblings
                )
                rows += [(d.key, r) for r in compute_device_days(decls, data)]
        out.append((e, truth, rows))
    return out


def _rel_errors(pairs) -> np.ndarray:
    pairs = [(a, b) for a, b in pairs if b > 0]
    return np.array([abs(a - b) / b for a, b in pairs]) if pairs else np.zeros(0)


def _quality(quality_days: int, console: Console) -> dict:
    table = Table(
        "check", "cases", "within target", "median error", "worst error", "target", title="indicators vs ground truth"
    )
    out = {}
    run = [
        (r.value, truth[(k, r.day)] / 3600)
        for e, truth, rows in _sim_rows("manufacturing", 4, quality_days)
        for k, r in rows
        if r.name == "run_hours" and r.value is not None and (k, r.day) in truth and truth[(k, r.day)] >= 1800
    ]
    out["run_hours"] = _row(table, "run hours per machine-day", _rel_errors(run), 0.02)
    fleets = _sim_rows("vehicles", 4, quality_days)
    for name in ("distance_gps_km", "distance_odometer_km"):
        pairs = [
            (r.value, truth[(k, r.day)])
            for e, truth, rows in fleets
            for k, r in rows
            if r.name == name and r.value is not None and r.quality == "complete" and truth.get((k, r.day), 0) >= 1
        ]
        out[name] = _row(table, f"{name} per vehicle-day", _rel_errors(pairs), 0.02)
    herd = []
    for e, truth, rows in _sim_rows("dairy", 2, min(quality_days, 4)):
        per_day: dict[int, float] = {}
        for _, r in rows:
            if r.name == "herd_count" and r.value is not None:
                per_day[r.day] = per_day.get(r.day, 0) + r.value
        herd += [(per_day.get(d, 0), n) for (u, d), n in truth.items() if u == e.uscc]
    exact = sum(1 for a, b in herd if a == b)
    table.add_row(
        "herd count per farm-day (every tag reports)", str(len(herd)), f"{exact}/{len(herd)} exact", "", "", "exact"
    )
    out["herd_count"] = {"cases": len(herd), "exact": exact}
    out["pv_expected"] = _pv_quality(table, quality_days)
    console.print(table)
    return out


def _pv_quality(table: Table, quality_days: int) -> dict:
    """expected_kwh from stored (noisy, rounded) station readings vs pvlib on the sim's own arrays."""
    from wuxin.scenarios.energy import indicators as E

    pairs = []
    for e, truth, rows in _sim_rows(
        "energy", 3, quality_days, pick=lambda e: any(d.device_type == E.INVERTER for d in e.devices)
    ):
        kwp = sum(float(d.attributes["capacity_kwp"]) for d in e.devices if d.device_type == E.INVERTER)
        for key, raw in truth.items():
            kw = E.expected_ac_kw(raw["poa_wm2"], raw["module_temp_c"], kwp)  # pvlib directly, every 5-minute sample
            step_h = float(np.median(np.diff(raw["ts"]))) / 3_600_000
            day = local_day(raw["ts"])
            direct = {int(d): float(kw[day == d].sum() * step_h) for d in np.unique(day)}
            pairs += [
                (r.value, direct[r.day])
                for k, r in rows
                if k == key and r.name == "expected_kwh" and r.value is not None and direct.get(r.day, 0) > 0
            ]
    return _row(table, "PV expected kWh per plant-day vs pvlib direct", _rel_errors(pairs), 0.05)


def _row(table: Table, name: str, errors: np.ndarray, target: float) -> dict:
    if not len(errors):
        table.add_row(name, "0", "-", "-", "-", f"{target:.0%}")
        return {"cases": 0}
    within = int(np.sum(errors <= target))
    table.add_row(
        name,
        str(len(errors)),
        f"{within}/{len(errors)}",
        f"{np.median(errors):.3%}",
        f"{errors.max():.3%}",
        f"{target:.0%}",
    )
    return {"cases": len(errors), "within": within, "median": float(np.median(errors)), "worst": float(errors.max())}


# ---------------------------------------------------------------- throughput workload


def _workload_device(d: int, days: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    """One bracelet's 1-minute current over `days`: shifts with stoppages, threshold 5 A."""
    start = day_start_ms(WORKLOAD_DAY0)
    ts = start + np.arange(days * 1440, dtype=np.int64) * 60_000
    minute = np.arange(days * 1440) % 1440
    on = (minute >= 480 + (d % 4) * 30) & (minute < 1320) & (rng.random(len(ts)) > 0.05)
    current = np.round(np.where(on, rng.uniform(8, 14, len(ts)), rng.uniform(0, 2, len(ts))), 2)
    return ts, current, 5.0


def _compute_only(devices: int, days: int, console: Console) -> dict:
    decls = indicator_packs()["manufacturing"].for_type(BRACELET)
    rng = np.random.default_rng(5)
    work = [_workload_device(d, days, rng) for d in range(devices)]
    points = sum(len(ts) for ts, _, _ in work)
    day_range = np.arange(WORKLOAD_DAY0, WORKLOAD_DAY0 + days)
    t0 = time.perf_counter()
    for ts, current, threshold in work:  # the bare numpy pass: threshold, durations, per-day sums
        dur = np.minimum(np.diff(ts, append=ts[-1] + 60_000), 300_000)
        np.bincount((ts + 28_800_000) // DAY_MS - WORKLOAD_DAY0, weights=dur * (current >= threshold), minlength=days)
    raw_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for d, (ts, current, threshold) in enumerate(work):
        data = DeviceDays(
            f"bench-{d}", BRACELET, {"run_threshold_a": threshold}, day_range, {"current_a": Series(ts, current)}
        )
        compute_device_days(decls, data)
    engine_s = time.perf_counter() - t0
    table = Table(
        "path",
        "points",
        "seconds",
        "points/s",
        "vs bare numpy",
        title=f"compute only: {devices} devices x {days} days of 1-minute data, in memory (no database)",
    )
    table.add_row("bare numpy (run seconds only)", f"{points:,}", f"{raw_s:.2f}", f"{points / raw_s:,.0f}", "1.00")
    table.add_row(
        f"engine ({', '.join(d.name for d in decls)})",
        f"{points:,}",
        f"{engine_s:.2f}",
        f"{points / engine_s:,.0f}",
        f"{raw_s / engine_s:.2f}",
    )
    console.print(table)
    return {"points": points, "raw_pps": points / raw_s, "engine_pps": points / engine_s}


def _end_to_end(db: str, devices: int, days: int, pg_url: str, console: Console) -> dict:
    from wuxin.bootstrap import build_platform
    from wuxin.config import Settings
    from wuxin.indicators.days import dirty_device_days
    from wuxin.services.devices import registry
    from wuxin.services.indicators import update_indicators
    from wuxin.services.ingest.telemetry import ingest_lines
    from wuxin.sim.spec import make_uscc
    from wuxin.store import bulk
    from wuxin.store.admin import recreate_postgres_database
    from wuxin.store.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="wuxin-ind-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}" if db == "sqlite" else pg_url
        if db == "postgresql":
            recreate_postgres_database(url)
        upgrade(url)
        now = day_start_ms(WORKLOAD_DAY0 + days) + 3_600_000
        platform = build_platform(Settings(database_url=url, environment="test"), clock_ms=lambda: now)
        registry.sync_builtin_thing_models(platform)
        rng, urng = np.random.default_rng(5), random.Random(5)
        ids: list[int] = []
        for e in range(-(-devices // MACHINES_PER_ENTERPRISE)):
            eid = registry.create_enterprise(
                platform,
                None,
                f"基准纺织{e:03d}有限公司",
                make_uscc(urng, "320509"),
                "manufacturing",
                "江苏省苏州市吴江区盛泽镇",
            )
            for m in range(min(MACHINES_PER_ENTERPRISE, devices - len(ids))):
                ids.append(
                    registry.register_device(
                        platform,
                        None,
                        eid,
                        f"bench-{len(ids):04d}",
                        BRACELET,
                        "bank_installed",
                        None,
                        {"run_threshold_a": 5.0},
                    )[0]
                )
        t0 = time.perf_counter()
        points = 0
        for device_id in ids:
            ts, current, _ = _workload_device(device_id, days, rng)
            rows = [(device_id, "current_a", t, c, None, 1, now) for t, c in zip(ts.tolist(), current.tolist())]
            with platform.uow() as uow:
                bulk.write_readings(uow.conn, rows)
                uow.indicators.mark_dirty(
                    dirty_device_days([(device_id, None, int(ts[0])), (device_id, None, int(ts[-1]))], [])
                    | {(device_id, d) for d in range(WORKLOAD_DAY0, WORKLOAD_DAY0 + days)},
                    now,
                )
                uow.commit()
            points += len(rows)
        load_s = time.perf_counter() - t0
        summary = update_indicators(platform)
        late_day = WORKLOAD_DAY0 + days // 2
        t0 = time.perf_counter()
        ingest_lines(
            platform,
            [
                {
                    "device": "bench-0003",
                    "ts": day_start_ms(late_day) + 12 * 3_600_000 + 30_000,
                    "values": {"current_a": 0.5},
                }
            ],
            "http",
        )
        late = update_indicators(platform)
        late_s = time.perf_counter() - t0
        platform.close()
    table = Table(
        "step",
        "seconds",
        "points/s",
        "detail",
        title=f"end to end on {db}: {devices} devices x {days} days ({points:,} points)",
    )
    table.add_row(
        "load readings (COPY / executemany, not measured as indicators)", f"{load_s:.1f}", f"{points / load_s:,.0f}", ""
    )
    table.add_row(
        "update_indicators: read + compute + write + aggregates + index",
        f"{summary.seconds:.2f}",
        f"{points / summary.seconds:,.0f}",
        f"{summary.device_days} device-days, {summary.enterprise_days} enterprise-days, "
        + ", ".join(f"{k} {v:.2f}s" for k, v in summary.timings.items()),
    )
    table.add_row(
        "one late point: ingest + update",
        f"{late_s:.3f}",
        "",
        f"{late.device_days} device-day(s), {late.enterprise_days} enterprise-day(s), {late.points:,} points re-read",
    )
    console.print(table)
    return {
        "points": points,
        "update_s": summary.seconds,
        "e2e_pps": points / summary.seconds,
        "late_s": late_s,
        "late_device_days": late.device_days,
    }
