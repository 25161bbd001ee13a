"""Everyday commands: database, serving, importing, thing models, users, quarantine, demo."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from wuxin.errors import WuxinError

console = Console(stderr=True)
db_app = typer.Typer(no_args_is_help=True, help="Database schema (Alembic migrations).")
tm_app = typer.Typer(no_args_is_help=True, help="Thing models (物模型, Alibaba TSL JSON), one per device type.")
users_app = typer.Typer(no_args_is_help=True, help="Tenants and users.")
q_app = typer.Typer(no_args_is_help=True, help="Rejected data kept for inspection and replay.")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.add_typer(tm_app, name="thing-model")
    app.add_typer(users_app, name="users")
    app.add_typer(q_app, name="quarantine")
    app.command("serve")(serve)
    app.command("import")(import_cmd)
    app.command("demo")(demo)


def _platform():
    from wuxin.bootstrap import build_platform

    return build_platform()


def _fail(exc: Exception | str) -> NoReturn:
    console.print(f"[red]error:[/red] {exc}", soft_wrap=True)  # one line, however long
    raise typer.Exit(2)


def prepare_database(platform) -> None:
    """Migrate to the newest schema and add the built-in thing models."""
    from wuxin.services.devices.registry import sync_builtin_thing_models
    from wuxin.store.migrate import upgrade

    upgrade(platform.settings.database_url)
    sync_builtin_thing_models(platform)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema in place (WUXIN_DATABASE_URL; SQLite file by default)."""
    from wuxin.store.migrate import current

    platform = _platform()
    prepare_database(platform)
    console.print(
        f"database {platform.engine.url.render_as_string(hide_password=True)} at revision {current(platform.settings.database_url)}"
    )


@db_app.command("current")
def db_current() -> None:
    """Print the database's schema revision and the newest this code knows; exit 1 when behind."""
    from wuxin.config import get_settings
    from wuxin.store.migrate import head, revision

    url = get_settings().database_url
    at, newest = revision(url), head()
    state = "up to date" if at == newest else "behind: run `wuxin db upgrade`"
    print(f"database {_shown(url)} at revision {at or 'none (no schema)'}; head {newest}: {state}")
    if at != newest:
        raise typer.Exit(1)


@db_app.command("backup")
def db_backup(
    file: Path = typer.Argument(..., dir_okay=False, help="where to write the backup (must not exist)"),
) -> None:
    """Copy the whole database (WUXIN_DATABASE_URL) into FILE: pg_dump -Fc for PostgreSQL, SQLite's online backup."""
    from wuxin.config import get_settings
    from wuxin.store.backup import backup

    url = get_settings().database_url
    try:
        size = backup(url, file)
    except WuxinError as exc:
        _fail(exc)
    typer.echo(f"backed up {_shown(url)} to {file} ({size} bytes)")


@db_app.command("restore")
def db_restore(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="a file written by `wuxin db backup`"),
) -> None:
    """Load FILE into the empty database WUXIN_DATABASE_URL, then check its ledger recomputes its signed tree head."""
    from wuxin.services.evidence.ledger import verify_log
    from wuxin.store.backup import restore
    from wuxin.store.migrate import head, revision

    platform = _platform()
    url = platform.settings.database_url
    try:
        restore(url, file)
        at, newest = revision(url), head()
        ledger = verify_log(platform)
    except WuxinError as exc:
        _fail(exc)
    typer.echo(
        f"restored {file} into {_shown(url)} at revision {at} (head {newest}); ledger: "
        f"{ledger['verified_tree_size']} of {ledger['tree_size']} entries recompute the newest signed tree head"
    )
    if at != newest:
        typer.echo("the backup is of an older schema: run `wuxin db upgrade`")


retention_app = typer.Typer(no_args_is_help=True, help="How long raw readings and their hourly aggregates are kept.")
db_app.add_typer(retention_app, name="retention")


@db_app.command("maintain")
def db_maintain() -> None:
    """Telemetry lifecycle, once: month partitions ahead (PostgreSQL), hourly aggregates of closed hours,
    retention per tenant policy (dropping old partitions or deleting rows). `wuxin serve` runs it hourly."""
    from wuxin.services.ingest.retention import maintain

    try:
        report = maintain(_platform())
    except WuxinError as exc:
        _fail(exc)
    typer.echo(json.dumps(report, ensure_ascii=False))


@retention_app.command("show")
def retention_show() -> None:
    """The defaults (WUXIN_RAW_RETENTION_DAYS, WUXIN_HOURLY_RETENTION_DAYS) and each tenant's own policy."""
    from wuxin.services.ingest.retention import list_policies

    typer.echo(json.dumps(list_policies(_platform()), ensure_ascii=False))


@retention_app.command("set")
def retention_set(
    tenant_id: int,
    raw_days: int = typer.Option(..., help="days raw readings are kept (>= 31)"),
    hourly_days: int = typer.Option(..., help="days hourly aggregates are kept (>= raw days)"),
) -> None:
    """Give a tenant its own retention (an enterprise keeps the longest of its consented tenants' policies)."""
    from wuxin.services.ingest.retention import set_policy

    try:
        set_policy(_platform(), tenant_id, raw_days, hourly_days)
    except WuxinError as exc:
        _fail(exc)
    typer.echo(f"tenant {tenant_id}: raw readings kept {raw_days} days, hourly aggregates {hourly_days} days")


@retention_app.command("clear")
def retention_clear(tenant_id: int) -> None:
    """Return a tenant to the default retention."""
    from wuxin.services.ingest.retention import clear_policy

    try:
        clear_policy(_platform(), tenant_id)
    except WuxinError as exc:
        _fail(exc)
    typer.echo(f"tenant {tenant_id}: default retention")


def _shown(url: str) -> str:
    """A database URL without its password."""
    from wuxin.store.db import shown_url

    return shown_url(url)


@tm_app.command("import")
def thing_model_import(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="TSL JSON file"),
    device_type: str | None = typer.Option(
        None, help="'<scenario>.<type>' for an Alibaba export (remembered for its productKey)"
    ),
) -> None:
    """Validate a thing model file and add (or replace) its device type."""
    from wuxin.services.devices.registry import import_thing_model

    try:
        device_type = import_thing_model(_platform(), file.read_bytes(), device_type=device_type)
    except WuxinError as exc:
        _fail(exc)
    console.print(f"imported thing model {device_type}")


@tm_app.command("list")
def thing_model_list() -> None:
    """List the device types the platform knows."""
    platform = _platform()
    table = Table("device type", "scenario", "version", "properties", "events")
    with platform.uow() as uow:
        rows = uow.devices.thing_models()
    for row in rows:
        model = platform.thing_models.get(row["device_type"])
        table.add_row(
            row["device_type"], row["scenario"], row["version"], ", ".join(model.properties), ", ".join(model.events)
        )
    Console().print(table)


@users_app.command("add-tenant")
def add_tenant(name: str, kind: str = typer.Option("bank", help="bank | operator | regulator")) -> None:
    """Create a tenant (a bank or a platform operator)."""
    from wuxin.services.access.identity import create_tenant

    try:
        console.print(f"tenant {create_tenant(_platform(), name, kind)} created")
    except WuxinError as exc:
        _fail(exc)


@users_app.command("add")
def add_user(
    username: str,
    role: str = typer.Option(
        ..., help="platform_admin | credit_officer | risk_manager | enterprise_user | integrator | regulator"
    ),
    tenant_id: int | None = None,
    enterprise_id: int | None = None,
    password_file: Path | None = typer.Option(
        None, dir_okay=False, help="read the password from the first line of this file ('-': standard input)"
    ),
) -> None:
    """Create a user; the password is stored as an Argon2id hash.

    The password is asked for twice at a terminal, or read from --password-file or piped standard
    input; never from the command line, where `ps` and the shell history would keep it."""
    from wuxin.services.access.identity import create_user

    password = _read_password(password_file)
    try:
        console.print(f"user {create_user(_platform(), username, password, role, tenant_id, enterprise_id)} created")
    except WuxinError as exc:
        _fail(exc)


def _read_password(password_file: Path | None) -> str:
    """From the file ('-' = stdin), else a hidden prompt with confirmation at a terminal, else stdin's first line."""
    if password_file is None and sys.stdin.isatty():
        return typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if password_file is None or str(password_file) == "-":
        text, source = sys.stdin.readline(), "standard input"
    else:
        try:
            text, source = password_file.read_text(encoding="utf-8").split("\n", 1)[0], str(password_file)
        except OSError as exc:
            _fail(f"cannot read the password file {password_file}: {exc.strerror}")
    password = text.rstrip("\r\n")
    if not password:
        _fail(f"no password on the first line of {source}")
    return password


@q_app.command("list")
def quarantine_list(status: str = "open", limit: int = 50, reason: str | None = None) -> None:
    """Show quarantined entries with their reasons."""
    from wuxin.services.ingest.quarantine import list_entries

    table = Table("id", "channel", "device", "reason", "message")
    for row in list_entries(_platform(), None, status, limit, 0, reason):
        table.add_row(str(row["id"]), row["channel"], row["device_key"] or "-", row["reason"], row["message"][:100])
    Console().print(table)


@q_app.command("replay")
def quarantine_replay(ids: list[int]) -> None:
    """Run entries through validation again (after fixing a thing model or registering a device)."""
    from wuxin.services.ingest.quarantine import replay

    print(json.dumps(replay(_platform(), None, ids)))


def import_cmd(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSON Lines, one reading or event a line"),
) -> None:
    """Bulk-import history: {"device", "ts", "values"} or {"device", "ts", "event", "params"} per line."""
    from wuxin.services.ingest.bulk_import import import_file

    platform = _platform()
    total = sum(1 for _ in file.open("rb"))
    columns = [TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("lines", total=total)
        summary = import_file(platform, file, lambda n: progress.advance(task, n))
    console.print(
        f"{summary.lines} lines: {summary.readings} readings and {summary.events} events stored, "
        f"{summary.rejected} rejected (see `wuxin quarantine list`)"
    )
    if summary.rejected and not (summary.readings or summary.events):
        raise typer.Exit(1)


def serve(host: str | None = None, port: int | None = None) -> None:
    """Serve the HTTP API on WUXIN_HOST:WUXIN_PORT (127.0.0.1:8000)."""
    import uvicorn

    from wuxin.api.app import create_app
    from wuxin.logs import configure_logging

    configure_logging()
    platform = _platform()
    prepare_database(platform)
    from wuxin.cli.ingest import serve_background

    stop = serve_background(platform)  # MQTT consumer when WUXIN_MQTT_URL is set
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again: with this handler that
    # unwinds like Ctrl+C, so what the caller started (the demo's broker) is stopped, not orphaned
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        uvicorn.run(
            create_app(platform),
            host=host or platform.settings.host,
            port=port or platform.settings.port,
            log_config=None,
        )
    finally:
        stop.set()


def _exit_on_sigterm(signum: int, _frame) -> None:
    raise SystemExit(128 + signum)


def demo(
    days: int = typer.Option(7, help="days of simulated history"),
    per_scenario: int = typer.Option(2, help="enterprises per scenario"),
    seed: int = 2026,
    serve_api: bool = typer.Option(True, "--serve/--no-serve"),
    live: bool = typer.Option(
        True, "--live/--no-live", help="while serving, devices go on sending over JT/T 808 and MQTT"
    ),
    jt808_port: int = typer.Option(7808, envvar="WUXIN_JT808_PORT", help="the live demo's JT/T 808 gateway"),
    mqtt_front_port: int = typer.Option(
        1884, envvar="WUXIN_DEMO_MQTT_FRONT_PORT", help="the live demo's MQTT front end for the vendors' SDKs"
    ),
) -> None:
    """Load the demo bank with simulated borrowers of every scenario pack, then serve with live devices."""
    from wuxin.services.demo.people import DEMO_USERS
    from wuxin.services.demo.setup import demo_fleet, load_demo

    platform = _platform()
    prepare_database(platform)
    report = load_demo(platform, days=days, per_scenario=per_scenario, seed=seed, progress=console.print)
    console.print(report)
    base = f"http://{platform.settings.host}:{platform.settings.port}"
    console.print(
        f"\n[bold]Wuxin demo[/bold] — console {base}/console · API docs {base}/docs · health {base}/health · "
        f"metrics {base}/metrics"
    )
    table = Table("user", "password", "role")
    for username, password, role in DEMO_USERS:
        table.add_row(username, password, role)
    console.print(table)
    if not serve_api:
        return
    devices = None
    if live:
        from wuxin.services.demo.live import LiveDevices

        devices = LiveDevices(
            platform, demo_fleet(per_scenario, seed), seed, jt808_port=jt808_port, mqtt_front_port=mqtt_front_port
        )
        console.print(devices.start())
    try:
        serve(None, None)
    finally:
        if devices is not None:
            devices.stop()
