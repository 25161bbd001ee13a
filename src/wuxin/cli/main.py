"""`wuxin`: the platform's command line. Run `wuxin --help` to see what it does."""

from __future__ import annotations

import sys

import typer

from wuxin.cli import bench, core, credit, onboarding, simulate
from wuxin.cli import calendars as calendars_cli
from wuxin.cli import indicators as indicators_cli
from wuxin.cli.epcis import app as epcis_app
from wuxin.cli.ingest import app as ingest_app
from wuxin.cli.jt808 import app as jt808_app
from wuxin.cli.ledger import app as ledger_app
from wuxin.cli.monitoring import app as monitoring_app

app = typer.Typer(
    no_args_is_help=True,
    help="Wuxin (物信): IoT evidence for credit. Start with `wuxin demo`, or `wuxin db upgrade` then `wuxin serve`.",
)
core.register(app)
credit.register(app)
onboarding.register(app)
app.add_typer(bench.app, name="bench", help="Benchmarks that print their figures (ratios against a raw baseline).")
app.add_typer(ledger_app, name="ledger", help="The evidence ledger: verify exported proofs offline.")
app.add_typer(epcis_app, name="epcis", help="GS1 EPCIS 2.0 documents: validate, print event hash IDs.")
app.add_typer(ingest_app, name="ingest", help="Ingestion services: MQTT consumers.")
app.add_typer(jt808_app, name="jt808", help="JT/T 808 vehicle terminals: provisioning, gateway and frame decoder.")
app.command("simulate")(simulate.simulate)
app.add_typer(indicators_cli.app, name="indicators", help="Operating indicators and industry indexes.")
app.add_typer(monitoring_app, name="monitoring", help="Post-loan monitoring: rules, sweep, daily evaluation.")
app.add_typer(
    calendars_cli.app,
    name="calendars",
    help="Calendars: official PRC holidays, declared shutdowns and maintenance, site time zones, device service dates.",
)


def one_line_error(exc: BaseException) -> str | None:
    """The one line an operator needs for an expected error; None for a bug (the traceback is wanted)."""
    from pydantic import ValidationError

    from wuxin.config import settings_problems
    from wuxin.errors import WuxinError
    from wuxin.store.db import unreachable_database

    if isinstance(exc, WuxinError):
        return str(exc)
    if isinstance(exc, ValidationError) and exc.title == "Settings":  # Settings built directly, not by load_settings
        return settings_problems(exc)
    return unreachable_database(exc)  # raised before a unit of work could wrap it (migrations)


def main() -> None:
    """The `wuxin` entry point: expected errors print one line `error: ...` and exit 2."""
    try:
        app()
    except Exception as exc:
        line = one_line_error(exc)
        if line is None:
            raise
        print(f"error: {line}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
