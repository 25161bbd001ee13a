"""`wuxin business ...` and `wuxin credit ...`: business-data imports, scorecards, decisions, credit reports."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from wuxin.errors import WuxinError

console = Console(stderr=True)
business_app = typer.Typer(no_args_is_help=True, help="Business data: statements, invoices, bills, bank flows, WMS, prices, loan outcomes.")
credit_app = typer.Typer(no_args_is_help=True, help="Credit: train scorecards, decide, credit reports (HTML and PDF).")


def register(app: typer.Typer) -> None:
    app.add_typer(business_app, name="business")
    app.add_typer(credit_app, name="credit")


def _platform():
    from wuxin.bootstrap import build_platform

    return build_platform()


def _fail(exc: Exception) -> None:
    console.print(f"[red]error:[/red] {exc}")
    raise typer.Exit(2)


@business_app.command("import")
def business_import(file: Path = typer.Argument(..., exists=True, dir_okay=False, help=".csv, .json (a list) or .jsonl"),
                    kind: str = typer.Option(..., help="statements | tax_invoices | electricity_bills | bank_flows | "
                                                       "wms_movements | price_index | loan_outcomes"),
                    source: str = typer.Option("enterprise_reported", help="enterprise_reported | bank | third_party")) -> None:
    """Validate and store rows; refused rows are printed with the field and value and kept for inspection."""
    from wuxin.services.business_data import import_file

    try:
        result = import_file(_platform(), None, file, kind, source)
    except WuxinError as exc:
        _fail(exc)
    for error in result["errors"][:50]:
        console.print(f"[yellow]refused[/yellow] {error['message']}")
    typer.echo(f"import {result['import_id']}: {result['accepted']} accepted, {result['duplicate']} already stored, "
               f"{result['rejected']} refused ({result['kind']}, source {result['source']}, trust {result['trust_level']})")


@credit_app.command("train")
def credit_train(simulated: Optional[int] = typer.Option(None, help="train on a simulated book of this many enterprises"),
                 seed: int = 2024) -> None:
    """Train and register a platform scorecard (on all imported loan outcomes, or a simulated book)."""
    from wuxin.services.credit import train_model

    try:
        result = train_model(_platform(), None, simulated, seed)
    except WuxinError as exc:
        _fail(exc)
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))


@credit_app.command("decide")
def credit_decide(enterprise: str = typer.Argument(..., help="enterprise id or USCC"),
                  product: str = typer.Option(..., help="product code, e.g. digital_manufacturing"),
                  as_user: str = typer.Option(..., "--as", help="the credit officer or risk manager deciding"),
                  pledged_value_cny: Optional[str] = typer.Option(
                      None, help="collateral products: a declared value, which can only lower the pledge registry's")) -> None:
    """Decide for one enterprise and product as a bank user; prints the stored decision."""
    from decimal import Decimal

    from wuxin.services.credit import decide_credit, enterprise_id_of, principal_for_username

    try:
        platform = _platform()
        result = decide_credit(platform, principal_for_username(platform, as_user), enterprise_id_of(platform, enterprise), product,
                               Decimal(pledged_value_cny) if pledged_value_cny else None)
    except WuxinError as exc:
        _fail(exc)
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))


@credit_app.command("report")
def credit_report(enterprise: str = typer.Argument(..., help="enterprise id or USCC"),
                  as_user: str = typer.Option(..., "--as", help="the credit officer or risk manager reading"),
                  pdf: Optional[Path] = typer.Option(None, help="write the PDF here"),
                  html: Optional[Path] = typer.Option(None, help="write the HTML here"),
                  base_url: str = typer.Option("http://127.0.0.1:8000", help="API address the report's links point to")) -> None:
    """The credit report of an enterprise as PDF and/or HTML (JSON on stdout when neither is asked)."""
    from wuxin.risk.report import render_html, render_pdf
    from wuxin.services.credit import credit_report as build, enterprise_id_of, principal_for_username

    try:
        platform = _platform()
        data = build(platform, principal_for_username(platform, as_user), enterprise_id_of(platform, enterprise),
                     output="pdf" if pdf else "html" if html else "json")
    except WuxinError as exc:
        _fail(exc)
    if pdf:
        pdf.write_bytes(render_pdf(data, base_url))
        typer.echo(f"wrote {pdf}")
    if html:
        html.write_text(render_html(data, base_url), encoding="utf-8")
        typer.echo(f"wrote {html}")
    if not pdf and not html:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
