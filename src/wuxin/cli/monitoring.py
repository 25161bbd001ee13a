"""`wuxin monitoring ...`: the warning rules, the periodic sweep, daily evaluation, notification delivery."""

from __future__ import annotations

import json

import typer
from rich.console import Console

app = typer.Typer(no_args_is_help=True)
console = Console()


def _platform():
    from wuxin.bootstrap import build_platform

    return build_platform()


@app.command("rules")
def rules(scenario: str | None = None) -> None:
    """Print the default rules the scenario packs declare."""
    from wuxin.services.monitoring.overrides import list_rules

    for r in list_rules(scenario):
        console.print(
            f"{r['id']:45} {r['type']:16} {r['severity']:9} {json.dumps(r['params'], ensure_ascii=False)[:80]}"
        )


@app.command("sweep")
def sweep() -> None:
    """Offline devices, herd counts, escalation, pledge coverage, then deliver due notifications (once)."""
    from wuxin.services.credit import pledges
    from wuxin.services.monitoring import notifications, sweeps

    platform = _platform()
    result = sweeps.sweep(platform)
    result["margin_calls"] = pledges.check_coverage(platform)
    result["notifications"] = notifications.deliver_due(platform)
    console.print(result)


@app.command("daily")
def daily(day: int | None = typer.Option(None, help="China local day number (default: yesterday)")) -> None:
    """Baseline-change rules on the daily indicators (computed by the indicators part)."""
    from wuxin.services.monitoring.daily import evaluate_daily

    console.print({"signals": evaluate_daily(_platform(), day)})
