"""Console benchmark: the enterprise page with N machines x D days of 1-minute current readings,
rendered in headless Chromium; cold (first open: the in-memory cache empty, the history in the
read model the indicators' update wrote, today's last hours still dirty and read from readings)
and warm, against the raw cost of one SQL pass over the same readings measured in the same run."""
from __future__ import annotations

import random
import sqlite3
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from wuxin.bootstrap import build_platform
from wuxin.cli.core import prepare_database
from wuxin.config import Settings
from wuxin.scenarios import scenario_packs
from wuxin.services import consent, identity, registry
from wuxin.services.bulk_import import chunked, import_lines_chunked
from wuxin.services.indicators import update_indicators
from wuxin.sim.spec import DeviceSpec
from wuxin.web.harness import chromium, serve_in_thread

DAY_MS = 86_400_000
PASSWORD = "bench-console-2026"
LIVE_MS = 2 * 3_600_000  # imported after the indicators' update: still dirty when the page opens


def run_console_bench(machines: int, days: int, warm_runs: int, console: Console) -> dict:
    with tempfile.TemporaryDirectory(prefix="wuxin-bench-console-") as tmp:
        db = Path(tmp) / "bench.db"
        platform = build_platform(Settings(database_url=f"sqlite:///{db}", environment="test", var_dir=Path(tmp)))
        prepare_database(platform)
        started = time.perf_counter()
        enterprise_id, readings, update_s, live = _load(platform, machines, days)
        console.print(f"loaded {machines} machines x {days} days: {readings:,} readings in {time.perf_counter() - started:.0f} s "
                      f"(of which the indicators' update, writing the timeline read model too: {update_s:.1f} s; "
                      f"then {live:,} readings of the last {LIVE_MS // 3_600_000} h left dirty)")
        raw_s = _raw_sql_pass(db, platform.settings.database_url, machines)
        with serve_in_thread(platform) as url, chromium() as browser:
            page = _logged_in_page(browser, url)
            cold = _render(page, url, enterprise_id, days)
            warm = [_render(page, url, enterprise_id, days) for _ in range(warm_runs)]
        platform.close()
    result = {"readings": readings, "update_s": update_s, "raw_sql_s": raw_s, "cold_s": cold, "warm_median_s": statistics.median(warm),
              "warm_max_s": max(warm)}
    console.print(f"raw SQL pass (GROUP BY device, 15-min slot over all readings): {raw_s:.3f} s")
    console.print(f"enterprise page, cold (first open, cache empty): {cold:.3f} s  ({cold / raw_s:.2f}x the raw pass)")
    console.print(f"enterprise page, warm: median {result['warm_median_s']:.3f} s, max {result['warm_max_s']:.3f} s over {warm_runs} opens "
                  f"({result['warm_median_s'] / raw_s:.2f}x the raw pass)")
    return result


def _load(platform, machines: int, days: int) -> tuple[int, int, float, int]:
    """The enterprise and its history; the indicators' update runs as in production, then the last hours arrive."""
    sim = scenario_packs()["manufacturing"].sim()
    spec = sim.build_enterprise(random.Random(50), 1)
    site = spec.sites[0]
    bracelets = tuple(DeviceSpec(f"bench-bracelet-{m:02d}", "manufacturing.current_bracelet", site.name, "bank_installed",
                                 {"rated_current_a": 40.0, "run_threshold_a": 18.0, "machine_id": f"M-{m:02d}"})
                      for m in range(1, machines + 1))
    spec = replace(spec, devices=bracelets)
    bank = identity.create_tenant(platform, "Bench Bank", "bank")
    identity.create_user(platform, "bench-officer", PASSWORD, "credit_officer", bank)
    enterprise_id = registry.create_enterprise(platform, None, spec.name, spec.uscc, spec.industry, spec.region)
    site_id = registry.add_site(platform, None, enterprise_id, site.name, site.region, site.lat, site.lon)
    for d in bracelets:
        registry.register_device(platform, None, enterprise_id, d.key, d.device_type, d.source_mode, site_id, d.attributes)
    now = platform.clock_ms()
    consent.grant(platform, None, enterprise_id, bank, "all", [], "benchmark", now + 365 * DAY_MS)
    history = import_lines_chunked(platform, chunked(sim.telemetry(spec, now - days * DAY_MS, now - LIVE_MS, 7)), "bulk")
    started = time.perf_counter()
    update_indicators(platform)
    update_s = time.perf_counter() - started
    live = import_lines_chunked(platform, chunked(sim.telemetry(spec, now - LIVE_MS, now, 7)), "bulk")
    return enterprise_id, history.readings + live.readings, update_s, live.readings


def _raw_sql_pass(db: Path, _url: str, machines: int) -> float:
    """What a page without a read model pays at least: one aggregate over every current reading."""
    conn = sqlite3.connect(db)
    try:
        started = time.perf_counter()
        rows = conn.execute("SELECT device_id, (ts_ms + 28800000) / 900000, count(*), sum(num >= 18.0) FROM readings "
                            "WHERE key = 'current_a' GROUP BY device_id, (ts_ms + 28800000) / 900000").fetchall()
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
    assert len({r[0] for r in rows}) == machines
    return elapsed


def _logged_in_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/console#/login")
    page.fill("#username", "bench-officer")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("[data-user]")
    return page


def _render(page, url: str, enterprise_id: int, days: int) -> float:
    """Seconds from navigation to the timeline drawn and the devices table shown."""
    page.goto("about:blank")
    started = time.perf_counter()
    page.goto(f"{url}/console#/enterprise/{enterprise_id}?days={days}")
    page.wait_for_selector("[data-timeline-ready]", timeout=120_000)
    page.wait_for_selector("table a[href^='#/device/']", timeout=120_000)
    return time.perf_counter() - started
