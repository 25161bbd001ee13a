"""`wuxin business ...` and `wuxin credit ...`: business-data imports, scorecards, decisions, credit reports."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from wuxin.errors import WuxinError

console = Console(stderr=True)
business_app = typer.Typer(
    no_args_is_help=True, help="Business data: statements, invoices, bills, bank flows, WMS, prices, loan outcomes."
)
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
def business_import(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help=".csv, .json (a list) or .jsonl"),
    kind: str = typer.Option(..., help="a business-data kind: `wuxin business kinds` lists them"),
    source: str = typer.Option("enterprise_reported", help="enterprise_reported | bank | third_party"),
) -> None:
    """Validate and store rows; refused rows are printed with the field and value and kept for inspection."""
    from wuxin.services.credit.business_data import import_file

    try:
        result = import_file(_platform(), None, file, kind, source)
    except WuxinError as exc:
        _fail(exc)
    for error in result["errors"][:50]:
        console.print(f"[yellow]refused[/yellow] {error['message']}")
    typer.echo(
        f"import {result['import_id']}: {result['accepted']} accepted, {result['duplicate']} already stored, "
        f"{result['rejected']} refused ({result['kind']}, source {result['source']}, trust {result['trust_level']})"
    )


@business_app.command("kinds")
def business_kinds() -> None:
    """The business-data kinds this platform imports: every firm's and those the scenario packs add."""
    from wuxin.services.bootstrap import business_kinds as composed_kinds

    for kind in composed_kinds():
        typer.echo(kind)


@credit_app.command("train")
def credit_train(
    simulated: int | None = typer.Option(None, help="train on a simulated book of this many enterprises"),
    seed: int = 2024,
    csv: Path | None = typer.Option(None, exists=True, dir_okay=False, help="train on this CSV (any data set)"),
    target: str | None = typer.Option(None, help="--csv: the outcome column (1 = default, or --bad-value)"),
    spec: Path | None = typer.Option(
        None, exists=True, dir_okay=False, help="--csv: feature spec YAML (types, declared trends, special values)"
    ),
    bad_value: str | None = typer.Option(None, help="--csv: the target value meaning default, e.g. bad"),
    as_user: str | None = typer.Option(None, "--as", help="a risk manager: the model is a draft of their bank"),
) -> None:
    """Train and register a scorecard: on a CSV under a spec, on imported loan outcomes, or on a simulated book.
    It starts as a draft: validate, approve (another risk manager), activate before it decides."""
    from wuxin.services.credit.decisions import principal_for_username, train_model
    from wuxin.services.credit.governance import train_from_file

    try:
        platform = _platform()
        principal = principal_for_username(platform, as_user) if as_user else None
        if csv is not None:
            if not target or spec is None:
                raise typer.BadParameter("--csv needs --target and --spec")
            result = train_from_file(platform, principal, csv, target, spec, bad_value)
        else:
            result = train_model(platform, principal, simulated, seed)
    except WuxinError as exc:
        _fail(exc)
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))


@credit_app.command("validate")
def credit_validate(
    csv: Path | None = typer.Option(None, exists=True, dir_okay=False, help="the data set (CSV)"),
    target: str | None = typer.Option(None, help="the outcome column"),
    spec: Path | None = typer.Option(None, exists=True, dir_okay=False, help="feature spec YAML"),
    bad_value: str | None = typer.Option(None, help="the target value meaning default"),
    model: str | None = typer.Option(
        None, help="also validate this registered model (out of time) and record the report in the --as user's bank"
    ),
    as_user: str | None = typer.Option(None, "--as", help="the risk manager validating --model"),
    folds: int = typer.Option(5, min=2, max=20),
    resamples: int = typer.Option(500, min=50, max=5000),
) -> None:
    """k-fold and out-of-time AUC/KS with 95% bootstrap intervals of the scorecard, a plain optbinning + logistic
    baseline and a gradient-boosting challenger; with --model, the governance gates of a registered model."""
    from wuxin.risk.dataset import evaluate, format_evaluation, load_csv, load_spec
    from wuxin.services.credit.decisions import principal_for_username
    from wuxin.services.credit.governance import validate_from_file, validate_model

    try:
        if csv is not None:
            if not target or spec is None:
                raise typer.BadParameter("--csv needs --target and --spec")
            data_spec = load_spec(spec)
            typer.echo(
                format_evaluation(
                    evaluate(data_spec, load_csv(csv, target, data_spec, bad_value), folds, resamples=resamples)
                )
            )
        if model is not None:
            if not as_user:
                raise typer.BadParameter("--model needs --as (the risk manager validating)")
            platform = _platform()
            principal = principal_for_username(platform, as_user)
            view = (
                validate_from_file(platform, principal, model, csv, target, spec, bad_value)
                if csv is not None and target is not None  # --csv came with --target (checked above)
                else validate_model(platform, principal, model)
            )
            _print_validation(view)
    except WuxinError as exc:
        _fail(exc)


def _print_validation(view: dict) -> None:
    report = view["validation"]
    label = view.get("label")
    typer.echo(
        f"model {view['version'][:12]} ({view['name']}): {view['state']}"
        + (f" [{label['zh']} · {label['en']}]" if label else "")
    )
    oot = report["out_of_time"]
    typer.echo(
        f"  {report['sample']}: AUC {oot['auc']:.3f} [{oot['auc_ci95'][0]:.3f}, {oot['auc_ci95'][1]:.3f}], "
        f"KS {oot['ks']:.3f} [{oot['ks_ci95'][0]:.3f}, {oot['ks_ci95'][1]:.3f}]"
    )
    for warning in report["warnings"]:
        typer.echo(f"  warning: {warning}")


def _step(action: str, version: str, as_user: str) -> None:
    from wuxin.services.credit import governance as model_governance
    from wuxin.services.credit.decisions import principal_for_username

    try:
        platform = _platform()
        view = getattr(model_governance, f"{action}_model")(
            platform, principal_for_username(platform, as_user), version
        )
    except WuxinError as exc:
        _fail(exc)
    typer.echo(f"model {view['version'][:12]} ({view['name']}): {view['state']}")


@credit_app.command("approve")
def credit_approve(
    version: str, as_user: str = typer.Option(..., "--as", help="a risk manager who did not train it")
) -> None:
    """Approve a validated model."""
    _step("approve", version, as_user)


@credit_app.command("activate")
def credit_activate(version: str, as_user: str = typer.Option(..., "--as", help="a risk manager of the bank")) -> None:
    """Make an approved model the bank's active one (the previous active model is retired)."""
    _step("activate", version, as_user)


@credit_app.command("retire")
def credit_retire(version: str, as_user: str = typer.Option(..., "--as", help="a risk manager of the bank")) -> None:
    _step("retire", version, as_user)


@credit_app.command("models")
def credit_models(as_user: str = typer.Option(..., "--as", help="a credit officer or risk manager")) -> None:
    """The bank's and the platform's models with their lifecycle state, who trained, validated and approved them."""
    from wuxin.services.credit.decisions import list_models, principal_for_username

    try:
        platform = _platform()
        rows = list_models(platform, principal_for_username(platform, as_user))
    except WuxinError as exc:
        _fail(exc)
    for r in rows:
        label = f"  [{r['label']['zh']} · {r['label']['en']}]" if r["label"] else ""
        passed = (r["validation"] or {}).get("passed")
        typer.echo(
            f"{r['version'][:12]}  {r['name']:<24} {r['state']:<9} trained by {r['trained_by_name'] or 'platform'}, "
            f"validated by {r['validated_by_name'] or '-'} ({'passed' if passed else 'not passed' if passed is False else '-'}), "
            f"approved by {r['approved_by_name'] or '-'}{label}"
        )


@credit_app.command("decide")
def credit_decide(
    enterprise: str = typer.Argument(..., help="enterprise id or USCC"),
    product: str = typer.Option(..., help="product code, e.g. digital_manufacturing"),
    as_user: str = typer.Option(..., "--as", help="the credit officer or risk manager deciding"),
    pledged_value_cny: str | None = typer.Option(
        None, help="collateral products: a declared value, which can only lower the pledge registry's"
    ),
) -> None:
    """Decide for one enterprise and product as a bank user; prints the stored decision."""
    from decimal import Decimal

    from wuxin.services.credit.decisions import decide_credit, enterprise_id_of, principal_for_username

    try:
        platform = _platform()
        result = decide_credit(
            platform,
            principal_for_username(platform, as_user),
            enterprise_id_of(platform, enterprise),
            product,
            Decimal(pledged_value_cny) if pledged_value_cny else None,
        )
    except WuxinError as exc:
        _fail(exc)
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))


@credit_app.command("report")
def credit_report(
    enterprise: str = typer.Argument(..., help="enterprise id or USCC"),
    as_user: str = typer.Option(..., "--as", help="the credit officer or risk manager reading"),
    pdf: Path | None = typer.Option(None, help="write the PDF here"),
    html: Path | None = typer.Option(None, help="write the HTML here"),
    base_url: str = typer.Option("http://127.0.0.1:8000", help="API address the report's links point to"),
) -> None:
    """The credit report of an enterprise as PDF and/or HTML (JSON on stdout when neither is asked)."""
    from wuxin.risk.report import render_html, render_pdf
    from wuxin.services.credit.decisions import credit_report as build
    from wuxin.services.credit.decisions import enterprise_id_of, principal_for_username

    try:
        platform = _platform()
        data = build(
            platform,
            principal_for_username(platform, as_user),
            enterprise_id_of(platform, enterprise),
            output="pdf" if pdf else "html" if html else "json",
        )
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
