"""`wuxin simulate`: a seeded fleet of simulated enterprises, backfilled into the store or written
as JSON Lines for `wuxin import`, with the ground truth of any injected anomalies."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import typer
from rich.console import Console

from wuxin.indicators.days import DAY_MS

console = Console(stderr=True)


def simulate(
    scenarios: str = typer.Option("all", help="comma-separated scenario packs, or all"),
    per_scenario: int = typer.Option(2, min=1, help="enterprises per scenario"),
    days: int = typer.Option(7, min=1, help="days of history, ending at --end"),
    end: str | None = typer.Option(None, help="last local day simulated (YYYY-MM-DD); default yesterday"),
    seed: int = typer.Option(2026, help="same seed, same fleet and data"),
    anomalies: str = typer.Option(
        "",
        help="comma-separated anomaly kinds to inject, one each, or all (every kind "
        "the fleet supports): device_off, clock_skew, fabricated_copy, "
        "fabricated_smooth, machine_idle, gps_jump, geofence_exit, herd_drop, "
        "sick_animals, pv_above_irradiance, unauthorised_outbound, "
        "stock_below_pledge, crane_overload",
    ),
    out: Path | None = typer.Option(None, help="write JSON Lines here instead of storing"),
    truth: Path | None = typer.Option(
        None, help="ground truth of the injected anomalies (JSON); default next to --out"
    ),
    onboard: bool = typer.Option(
        True, "--onboard/--no-onboard", help="create the enterprises and devices in the database"
    ),
    consent_tenant: list[int] = typer.Option([], help="tenant ids granted an all-device consent (repeatable)"),
    live: str | None = typer.Option(
        None,
        help="stream from now on to this running platform over HTTP "
        "(e.g. http://127.0.0.1:8000) instead of backfilling",
    ),
    speed: float = typer.Option(1.0, min=0.001, help="with --live: simulated seconds per wall-clock second"),
    duration_s: float = typer.Option(60.0, min=0.1, help="with --live: stop after this many seconds"),
) -> None:
    """Simulate a fleet: onboard it, then import its telemetry, write it to a file, or stream it live."""
    from wuxin.cli.core import _platform, prepare_database
    from wuxin.errors import WuxinError
    from wuxin.indicators.days import day_start_ms, local_day, parse_day
    from wuxin.scenarios import scenario_packs
    from wuxin.sim.fleet import anomaly_kinds, build_fleet, collide, fleet_telemetry, plan_anomalies

    names = sorted(scenario_packs()) if scenarios == "all" else [s.strip() for s in scenarios.split(",") if s.strip()]
    try:
        last_day = parse_day(end) if end else None
        fleet = build_fleet(names, per_scenario, seed)
    except (KeyError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2)
    platform = _platform()
    last_day = last_day if last_day is not None else local_day(platform.clock_ms()) - 1
    end_ms = day_start_ms(last_day + 1)
    start_ms = end_ms - days * DAY_MS
    kinds = [k.strip() for k in anomalies.split(",") if k.strip()]
    if kinds == ["all"]:
        kinds = sorted(
            {
                k
                for e in fleet
                for k, spec in anomaly_kinds(e).items()
                if any(spec.device_type in ("*", d.device_type) for d in e.devices)
            }
        )
    try:
        records = plan_anomalies(fleet, kinds, start_ms, end_ms, seed) if kinds else []
    except KeyError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2)
    overlaps = [f"{a.kind}/{b.kind}" for i, a in enumerate(records) for b in records[:i] if collide(a, b)]
    if overlaps:
        console.print(
            f"[yellow]warning:[/yellow] anomalies share devices within a day ({', '.join(overlaps)}): "
            "more enterprises (--per-scenario) or days keep labels apart"
        )
    if onboard:
        prepare_database(platform)
        try:
            _onboard(platform, fleet, consent_tenant)
        except WuxinError as exc:
            console.print(f"[red]error:[/red] {exc} (already simulated with this seed? use --no-onboard)")
            raise typer.Exit(2)
    devices = sum(len(e.devices) for e in fleet)
    if live is not None:
        _stream_live(platform, fleet, live, speed, duration_s, seed)
        return
    lines = fleet_telemetry(fleet, start_ms, end_ms, seed, anomalies=records)
    if out is not None:
        count = _write(out, lines)
        console.print(
            f"wrote {count} lines for {len(fleet)} enterprises ({devices} devices) to {out}; load with `wuxin import {out}`"
        )
    else:
        from wuxin.services.ingest.bulk_import import chunked, import_lines_chunked

        summary = import_lines_chunked(platform, chunked(lines), "bulk")
        console.print(
            f"stored {summary.readings} readings and {summary.events} events for {len(fleet)} enterprises "
            f"({devices} devices), {summary.rejected} rejected; run `wuxin indicators update`"
        )
    truth_path = truth or (out.with_suffix(".truth.json") if out else None)
    if truth_path is not None:
        truth_path.write_text(
            json.dumps(
                {"seed": seed, "start_ms": start_ms, "end_ms": end_ms, "anomalies": [r.as_dict() for r in records]},
                ensure_ascii=False,
                indent=1,
            )
        )
        console.print(f"ground truth of {len(records)} injected anomalies in {truth_path}")
    elif records:
        print(json.dumps([r.as_dict() for r in records], ensure_ascii=False))


def _onboard(platform, fleet, tenants: list[int]) -> None:
    from wuxin.services.devices.onboarding import onboard_enterprise

    for spec in fleet:
        onboard_enterprise(platform, spec, [(t, "simulated credit assessment") for t in tenants])


def _write(path: Path, lines) -> int:
    count = 0
    with path.open("wb") as handle:
        for line in lines:
            handle.write(orjson.dumps(line) + b"\n")
            count += 1
    return count


def _stream_live(platform, fleet, base_url: str, speed: float, duration_s: float, seed: int) -> None:
    """Issue each simulated device a fresh token and stream its data from now on, paced by --speed."""
    from wuxin.services.devices.registry import rotate_device_token
    from wuxin.sim.fleet import fleet_telemetry
    from wuxin.sim.live import stream_http

    tokens = {d.key: rotate_device_token(platform, None, d.key) for e in fleet for d in e.devices}
    start_ms = platform.clock_ms()
    lines = fleet_telemetry(fleet, start_ms, start_ms + int(duration_s * speed * 1000) + 1, seed)
    console.print(f"streaming {len(tokens)} devices to {base_url} at {speed:g}x for {duration_s:g} s ...")
    summary = stream_http(base_url, tokens, lines, start_ms, speed, duration_s)
    console.print(
        f"{summary.posts} posts, {summary.points} points and events accepted, {summary.refused_points} refused, "
        f"{summary.failed_posts} failed posts"
    )
    for error in summary.errors[:5]:
        console.print(f"[yellow]{error}[/yellow]")
    if summary.failed_posts:
        raise typer.Exit(1)
