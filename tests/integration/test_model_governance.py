"""Credit model governance on SQLite and PostgreSQL: the lifecycle gates (wrong sign refused, simulated
model refused outside a demo tenant, approval by the trainer refused, activation without validation
refused), the denials (roles, another tenant), decisions only by the active approved model, the label of
a simulated model, the daily population stability record, and the command line on any data set."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.integration.credit_world import put_indicators, statement_rows
from tests.integration.loan_dataset import write_book, write_spec
from tests.world import PASSWORD, build_world, login
from wuxin.cli.main import app
from wuxin.config import get_settings
from wuxin.indicators.days import local_day
from wuxin.services.access import identity
from wuxin.services.credit.decisions import principal_for_username
from wuxin.services.credit.governance import daily_stability, train_from_file

MODELS = "/api/v1/credit/models"


def _more_users(platform, world) -> None:
    identity.create_user(platform, "risk2", PASSWORD, "risk_manager", world.bank)
    identity.create_user(platform, "other-risk", PASSWORD, "risk_manager", world.other_bank)


def _set_demo(platform, tenant_id: int) -> None:
    with platform.uow() as uow:
        uow.credit.set_tenant_demo(tenant_id, True)
        uow.commit()


def test_simulated_model_lifecycle_gates_denials_label_and_stability(live, platform):
    world = build_world(platform)
    _more_users(platform, world)
    put_indicators(platform, world.factory)
    risk, risk2, officer = (login(live.client, u) for u in ("risk", "risk2", "officer"))
    with platform.uow() as uow:
        uscc = uow.enterprises.get(world.factory)["uscc"]
    imported = live.client.post(
        "/api/v1/business-data/statements", content=json.dumps(statement_rows(uscc, platform)), headers=officer
    )
    assert imported.json()["accepted"] == 4, imported.text
    trained = live.client.post(MODELS, headers=risk, json={"simulated": 300, "seed": 2024})
    assert trained.status_code == 201, trained.text
    version = trained.json()["version"]
    assert trained.json()["state"] == "draft" and trained.json()["label"]["en"] == "simulated — demo only"
    decide = f"/api/v1/enterprises/{world.factory}/credit/decisions"
    no_model = live.client.post(decide, headers=officer, json={"product_code": "digital_manufacturing"})
    assert no_model.status_code == 404 and "no active approved credit model" in no_model.json()["message"]

    activate = live.client.post(f"{MODELS}/{version}/activate", headers=risk)  # activation without validation
    assert activate.status_code == 409 and "is draft: activate needs it approved" in activate.json()["message"]
    approve = live.client.post(f"{MODELS}/{version}/approve", headers=risk2)
    assert approve.status_code == 409 and "approve needs it validated" in approve.json()["message"]
    refused = live.client.post(f"{MODELS}/{version}/validate", headers=risk)  # a bank, not a demo tenant
    assert refused.status_code == 409 and "simulated data" in refused.json()["message"]

    for user, status in (("officer", 403), ("admin", 403), ("owner", 403), ("integrator", 403), ("other-risk", 404)):
        headers = login(live.client, user)
        for action in ("validate", "approve", "activate", "retire"):
            response = live.client.post(f"{MODELS}/{version}/{action}", headers=headers)
            assert response.status_code == status, (user, action, response.text)
    hidden = live.client.get(f"{MODELS}/{version}", headers=login(live.client, "other-risk"))
    unknown = live.client.get(f"{MODELS}/{'0' * 64}", headers=login(live.client, "other-risk"))
    assert hidden.status_code == unknown.status_code == 404  # the same answer as a model that does not exist
    assert hidden.json()["message"].replace(version, "0" * 64) == unknown.json()["message"]
    assert version not in {m["version"] for m in live.client.get(MODELS, headers=login(live.client, "other")).json()}

    _set_demo(platform, world.bank)
    validated = live.client.post(f"{MODELS}/{version}/validate", headers=risk)
    assert validated.status_code == 200, validated.text
    report = validated.json()["validation"]
    assert validated.json()["state"] == "validated" and report["passed"] is True
    assert report["out_of_time"]["auc_ci95"][0] > 0.5 and report["out_of_time"]["resamples"] == 500
    assert {c["zone"] for c in report["calibration"]} <= {"green", "yellow"} and report["signs"]
    by_trainer = live.client.post(f"{MODELS}/{version}/approve", headers=risk)
    assert by_trainer.status_code == 403 and "trained by you" in by_trainer.json()["message"]
    assert live.client.post(f"{MODELS}/{version}/activate", headers=risk).status_code == 409  # validated, not approved
    assert live.client.post(f"{MODELS}/{version}/approve", headers=risk2).json()["state"] == "approved"
    active = live.client.post(f"{MODELS}/{version}/activate", headers=risk).json()
    assert active["state"] == "active" and active["approved_by_name"] == "risk2" and active["trained_by_name"] == "risk"

    decision = live.client.post(decide, headers=officer, json={"product_code": "digital_manufacturing"})
    assert decision.status_code == 201, decision.text
    assert decision.json()["model_version"] == version
    assert decision.json()["model_label"] == {"zh": "模拟数据训练 — 仅限演示", "en": "simulated — demo only"}
    report_url = f"/api/v1/enterprises/{world.factory}/credit/report"
    assert (
        "模拟数据训练 — 仅限演示" in live.client.get(report_url, headers=officer).text
    )  # the reader's language: zh-CN
    assert "simulated — demo only" in live.client.get(report_url + "?lang=en", headers=officer).text
    listed = {m["version"]: m for m in live.client.get(MODELS, headers=officer).json()}
    assert listed[version]["state"] == "active" and listed[version]["label"]["zh"] == "模拟数据训练 — 仅限演示"
    detail = live.client.get(f"{MODELS}/{version}", headers=officer)
    assert detail.status_code == 200, detail.text
    assert detail.json()["state"] == "active" and detail.json()["validation"]["passed"] is True
    assert [f["name"] for f in detail.json()["features"]] == trained.json()["features"]

    day = int(local_day(platform.clock_ms()))
    records = daily_stability(platform, day)
    assert [(r["tenant_id"], r["version"], r["rows"]) for r in records] == [(world.bank, version, 1)]
    assert records[0]["score_psi"] > 0.25 and records[0]["band"] == "shifted"  # one borrower is one grade, not a book
    metrics = live.client.get("/metrics").text  # aggregates only: /metrics names no tenant
    assert f"wuxin_model_stability_psi_max {records[0]['score_psi']}" in metrics
    assert "wuxin_model_stability_shifted_tenants 1.0" in metrics and "tenant=" not in metrics
    shown = live.client.get("/api/v1/credit/model-stability", headers=officer).json()
    assert shown[0]["warning"] is True and shown[0]["version"] == version
    assert live.client.get("/api/v1/credit/model-stability", headers=login(live.client, "other")).json() == []
    assert live.client.get("/api/v1/credit/model-stability", headers=login(live.client, "owner")).status_code == 403

    retired = live.client.post(f"{MODELS}/{version}/retire", headers=risk2).json()
    assert retired["state"] == "retired" and retired["retired_by_name"] == "risk2"
    after = live.client.post(decide, headers=officer, json={"product_code": "digital_manufacturing"})
    assert after.status_code == 404 and "no active approved credit model" in after.json()["message"]
    with platform.uow() as uow:
        actions = [a["action"] for a in uow.logs.audit_entries() if a["subject"] == f"credit_model:{version}"]
    assert actions[::-1] == [
        "credit.train",
        "credit.model.validate",
        "credit.model.approve",
        "credit.model.activate",
        "credit.model.retire",
    ]  # a refused step changes nothing and is not a step


@pytest.fixture
def cli(platform, monkeypatch):
    monkeypatch.setenv("WUXIN_DATABASE_URL", platform.settings.database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_any_data_set_wrong_sign_refused_then_a_right_model_goes_live_by_the_command_line(platform, cli, tmp_path):
    world = build_world(platform)
    _more_users(platform, world)
    book = write_book(tmp_path)
    wrong = write_spec(tmp_path, "descending", "sme-book-wrong")  # the business claims debt lowers the risk
    common = ["--csv", str(book), "--target", "defaulted"]

    result = cli.invoke(app, ["credit", "train", *common, "--spec", str(wrong), "--as", "risk"])
    assert result.exit_code == 0, result.output
    wrong_version = _version(result.output)
    result = cli.invoke(
        app,
        [
            "credit",
            "validate",
            "--model",
            wrong_version,
            "--as",
            "risk",
            *common,
            "--spec",
            str(wrong),
            "--folds",
            "2",
            "--resamples",
            "50",
        ],
    )
    assert result.exit_code == 2
    assert (
        "failed validation: feature 'debt_ratio': declared descending default rate as it grows, the fitted model is "
        "ascending"
    ) in _flat(result.output)
    for action, needs in (("approve", "validated"), ("activate", "approved")):  # a failed validation leaves a draft
        result = cli.invoke(app, ["credit", action, wrong_version, "--as", "risk2"])
        assert result.exit_code == 2 and f"is draft: {action} needs it {needs}" in _flat(result.output)

    right = write_spec(tmp_path, "ascending")
    result = cli.invoke(app, ["credit", "train", *common, "--spec", str(right), "--as", "risk"])
    version = _version(result.output)
    result = cli.invoke(
        app,
        [
            "credit",
            "validate",
            *common,
            "--spec",
            str(right),
            "--model",
            version,
            "--as",
            "risk",
            "--folds",
            "2",
            "--resamples",
            "50",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = {line.split("  ")[0]: line for line in result.output.splitlines()}
    assert any(k.startswith("scorecard (declared trends)") for k in rows) and any(
        k.startswith("gradient boosting") for k in rows
    )
    assert "optbinning + logistic baseline" in result.output and "out-of-time: " in result.output
    assert f"model {version[:12]} (sme-book): validated" in result.output
    result = cli.invoke(app, ["credit", "approve", version, "--as", "risk"])
    assert result.exit_code == 2 and "trained by you" in _flat(result.output)
    assert "approved" in cli.invoke(app, ["credit", "approve", version, "--as", "risk2"]).output
    assert "active" in cli.invoke(app, ["credit", "activate", version, "--as", "risk"]).output
    listing = cli.invoke(app, ["credit", "models", "--as", "officer"]).output
    line = next(x for x in listing.splitlines() if x.startswith(version[:12]))
    assert "active" in line and "trained by risk" in line and "approved by risk2" in line and "(passed)" in line
    wrong_line = next(x for x in listing.splitlines() if x.startswith(wrong_version[:12]))
    assert "draft" in wrong_line and "(not passed)" in wrong_line
    other = cli.invoke(app, ["credit", "models", "--as", "other"]).output
    assert version[:12] not in other and wrong_version[:12] not in other
    denied = cli.invoke(app, ["credit", "approve", version, "--as", "other-risk"])
    assert denied.exit_code == 2 and "does not exist" in _flat(denied.output)


def test_a_second_activation_retires_the_first_and_a_demo_tenant_alone_may_run_a_simulated_file(platform, tmp_path):
    world = build_world(platform)
    _more_users(platform, world)
    from wuxin.services.credit.governance import activate_model, approve_model, list_models, validate_from_file

    risk, risk2 = principal_for_username(platform, "risk"), principal_for_username(platform, "risk2")
    book = write_book(tmp_path)
    versions = []
    for name in ("first", "second"):
        spec = write_spec(tmp_path, "ascending", name)
        versions.append(train_from_file(platform, risk, book, "defaulted", spec)["version"])
        validate_from_file(platform, risk, versions[-1], book, "defaulted", spec)
        approve_model(platform, risk2, versions[-1])
        activate_model(platform, risk2, versions[-1])
    states = {m["version"]: m["state"] for m in list_models(platform, risk)}
    assert [states[v] for v in versions] == ["retired", "active"]

    simulated = tmp_path / "simulated.yaml"
    simulated.write_text(
        write_spec(tmp_path, "ascending", "simulated-book").read_text() + "simulated: true\n", encoding="utf-8"
    )
    version = train_from_file(platform, risk, book, "defaulted", simulated)["version"]
    from wuxin.errors import Conflict

    with pytest.raises(Conflict, match="simulated data"):
        validate_from_file(platform, risk, version, book, "defaulted", simulated)
    _set_demo(platform, world.bank)
    assert validate_from_file(platform, risk, version, book, "defaulted", simulated)["state"] == "validated"


def _version(output: str) -> str:
    return json.loads(output[output.index("{") :])["version"]


def _flat(output: str) -> str:
    return " ".join(output.split())  # the console wraps long lines


def test_one_risk_manager_may_not_validate_and_approve_a_platform_model_alone(platform, tmp_path):
    world = build_world(platform)
    _more_users(platform, world)
    from wuxin.errors import Denied
    from wuxin.services.credit.governance import activate_model, approve_model, validate_from_file

    risk, risk2 = principal_for_username(platform, "risk"), principal_for_username(platform, "risk2")
    book, spec = write_book(tmp_path), write_spec(tmp_path, "ascending", "platform-book")
    version = train_from_file(platform, None, book, "defaulted", spec)["version"]  # no trainer recorded
    assert validate_from_file(platform, risk, version, book, "defaulted", spec)["state"] == "validated"
    with pytest.raises(Denied, match="validated by you"):
        approve_model(platform, risk, version)
    assert approve_model(platform, risk2, version)["state"] == "approved"
    assert activate_model(platform, risk, version)["state"] == "active"
