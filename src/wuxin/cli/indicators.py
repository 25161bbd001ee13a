"""`wuxin indicators ...`: update the dirty days, show values and indexes, list the catalog."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(no_args_is_help=True, help="Operating indicators and industry indexes.")
console = Console(stderr=True)


def _platform():
    from wuxin.cli.core import _platform as build

    return build()


def _days(from_day: str, to_day: str) -> tuple[int, int]:
    from wuxin.indicators.days import parse_day

    try:
        return parse_day(from_day), parse_day(to_day)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2)


@app.command("update")
def update(batch: int = typer.Option(5000, min=1, help="device-days per transaction")) -> None:
    """Recompute only the dirty device-days, then the enterprise days, months and indexes they touch."""
    from wuxin.services.indicators import update_indicators

    summary = update_indicators(_platform(), batch)
    print(json.dumps(summary.public()))


@app.command("mark")
def mark(
    from_day: str = typer.Option(..., "--from"),
    to_day: str = typer.Option(..., "--to"),
    enterprise: list[int] = typer.Option([], help="enterprise ids (default: all)"),
) -> None:
    """Mark every device-day of a range dirty (after changing a declaration)."""
    from wuxin.services.indicators import mark_all_dirty

    first, last = _days(from_day, to_day)
    console.print(f"{mark_all_dirty(_platform(), enterprise or None, first, last)} device-days marked")


@app.command("show")
def show(
    enterprise_id: int,
    from_day: str = typer.Option(..., "--from"),
    to_day: str = typer.Option(..., "--to"),
    period: str = typer.Option("day", help="day | month"),
) -> None:
    """An enterprise's values with units and quality (local operator: no consent check)."""
    from wuxin.errors import WuxinError
    from wuxin.services.indicators import enterprise_indicators

    first, last = _days(from_day, to_day)
    try:
        result = enterprise_indicators(_platform(), None, enterprise_id, first, last, period)
    except WuxinError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2)
    table = Table(period, "indicator", "value", "unit", "quality")
    for v in result["values"]:
        value = "unknown" if v["value"] is None else f"{v['value']:.4g}"
        table.add_row(v[period], v["indicator"], value, v["unit"] or "", v["quality"])
    Console().print(table)


@app.command("index")
def index(
    from_day: str = typer.Option(..., "--from"),
    to_day: str = typer.Option(..., "--to"),
    scenario: str | None = None,
    region: str | None = None,
    indicator: str | None = None,
) -> None:
    """Industry indexes (quartiles of peer groups of at least 5 enterprises)."""
    from wuxin.services.indicators import industry_index

    first, last = _days(from_day, to_day)
    table = Table("scenario", "region", "day", "indicator", "n", "p25", "median", "p75")
    for v in industry_index(_platform(), None, scenario, region, indicator, first, last)["values"]:
        table.add_row(
            v["scenario"],
            v["region"],
            v["day"],
            v["indicator"],
            str(v["enterprises"]),
            f"{v['p25']:.4g}",
            f"{v['median']:.4g}",
            f"{v['p75']:.4g}",
        )
    Console().print(table)


@app.command("catalog")
def catalog() -> None:
    """Every declared indicator: unit, label, device type, aggregation."""
    from wuxin.services.indicators import catalog as entries

    table = Table("scenario", "indicator", "unit", "label", "level", "from", "aggregation", "index")
    for e in entries():
        table.add_row(
            e["scenario"],
            e["name"],
            e["unit"],
            f"{e['label']['zh']} / {e['label']['en']}",
            e["level"],
            e["device_type"] or ", ".join(e["inputs"]),
            e["aggregation"] or e["month"],
            "yes" if e["index"] else "",
        )
    Console().print(table)
