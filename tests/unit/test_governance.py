"""Model governance, pure: the lifecycle state machine, the validation gates, and training on any data set."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from wuxin.errors import Conflict, Denied, InvalidInput
from wuxin.risk.dataset import parse_spec, prepare
from wuxin.risk.governance import (
    ModelFacts,
    auc_value,
    bootstrap_interval,
    calibration_findings,
    fitted_direction,
    gate_report,
    next_state,
    psi_band,
    sign_findings,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "credit"
FACTS = ModelFacts("a" * 64, "draft", trained_by=7, simulated=False, tenant_demo=False, validation_passed=False)


def test_the_lifecycle_runs_draft_to_retired_in_order():
    facts = replace(FACTS, state=next_state(FACTS, "validate", 7), validation_passed=True, validated_by=7)
    assert facts.state == "validated"
    facts = replace(facts, state=next_state(facts, "approve", 8))
    assert facts.state == "approved"
    facts = replace(facts, state=next_state(facts, "activate", 7))
    assert facts.state == "active" and next_state(facts, "retire", 8) == "retired"


@pytest.mark.parametrize(
    "state,action,message",
    [
        ("draft", "activate", "is draft: activate needs it approved"),
        ("draft", "approve", "is draft: approve needs it validated"),
        ("validated", "activate", "is validated: activate needs it approved"),
        ("retired", "retire", "is retired: retire needs it draft or validated or approved or active"),
        ("active", "validate", "is active: validate needs it draft or validated"),
    ],
)
def test_a_step_out_of_order_is_refused(state, action, message):
    with pytest.raises(Conflict, match=message):
        next_state(replace(FACTS, state=state, validation_passed=True), action, 8)


def test_the_trainer_may_not_approve_and_a_failed_report_may_not_be_approved():
    validated = replace(FACTS, state="validated", validation_passed=True)
    with pytest.raises(Denied, match="trained by you"):
        next_state(validated, "approve", 7)
    with pytest.raises(Conflict, match="no passing validation report"):
        next_state(replace(validated, validation_passed=False), "approve", 8)
    with pytest.raises(InvalidInput, match="'promote'"):
        next_state(validated, "promote", 8)


def test_the_approver_is_neither_the_trainer_nor_the_validator():
    validated = replace(FACTS, state="validated", validation_passed=True, validated_by=8)
    with pytest.raises(Denied, match="validated by you: a risk manager who neither trained nor validated it"):
        next_state(validated, "approve", 8)  # one person validating and approving alone
    no_trainer = replace(validated, trained_by=None)  # trained by the system (a simulated or imported book)
    with pytest.raises(Denied, match="validated by you"):
        next_state(no_trainer, "approve", 8)
    with pytest.raises(Denied, match="named risk manager"):
        next_state(no_trainer, "approve", None)
    assert next_state(no_trainer, "approve", 9) == "approved"


def test_a_simulated_model_moves_only_in_a_demo_tenant():
    simulated = replace(FACTS, simulated=True)
    for action, state in (("validate", "draft"), ("approve", "validated"), ("activate", "approved")):
        with pytest.raises(Conflict, match="simulated data.*demo tenant"):
            next_state(replace(simulated, state=state, validation_passed=True), action, 8)
    assert next_state(replace(simulated, tenant_demo=True), "validate", 8) == "validated"
    assert next_state(replace(simulated, state="active"), "retire", 8) == "retired"  # retiring is always allowed


def test_the_fitted_direction_is_the_coefficient_times_the_woe_across_bins():
    # WOE falls as the value grows (more bads), the coefficient is negative: the default log-odds rise
    assert fitted_direction([0.8, 0.1, -0.9], -1.0) == "ascending"
    assert fitted_direction([-0.9, 0.1, 0.8], -1.0) == "descending"
    assert fitted_direction([0.3], -1.0) == "flat"
    features = [
        {"name": "leverage", "kind": "numerical", "trend": "auto_asc_desc", "woe": [0.8, -0.9], "coefficient": -1.0},
        {"name": "tenure", "kind": "numerical", "trend": "descending", "woe": [-0.5, 0.5], "coefficient": -0.7},
        {"name": "region", "kind": "categorical", "trend": "auto", "woe": [0.1, -0.1], "coefficient": -1.0},
    ]
    found = {f["feature"]: f for f in sign_findings(features, {"leverage": "descending"})}
    assert set(found) == {"leverage", "tenure"}  # categorical features declare no trend
    assert found["leverage"]["message"] == (
        "feature 'leverage': declared descending default rate as it grows, the fitted model is ascending"
    )
    assert found["tenure"]["passed"] is True


def test_calibration_zones_follow_the_binomial_test():
    rows = [
        {"grade": "A", "rows": 200, "defaults": 2, "predicted_pd": 0.01},  # as predicted
        {"grade": "B", "rows": 200, "defaults": 7, "predicted_pd": 0.015},  # p about 0.03: yellow
        {"grade": "C", "rows": 200, "defaults": 20, "predicted_pd": 0.02},
    ]  # far above: red
    found = {f["grade"]: f for f in calibration_findings(rows)}
    assert [found[g]["zone"] for g in "ABC"] == ["green", "yellow", "red"]
    assert found["C"]["passed"] is False and "20 defaults in 200 rows" in found["C"]["message"]
    assert 0.0001 <= found["B"]["p_value_underestimated"] < 0.05


def test_psi_bands_are_the_standard_ones():
    assert [psi_band(v) for v in (0.05, 0.1, 0.2, 0.25, 0.26, None)] == [
        "stable",
        "watch",
        "watch",
        "watch",
        "shifted",
        "unknown",
    ]


def test_bootstrap_intervals_are_seeded_and_shrink_with_rows():
    rng = np.random.default_rng(3)
    small_flags = rng.integers(0, 2, 200)
    small_pd = np.clip(small_flags * 0.3 + rng.uniform(0, 0.7, 200), 0, 1)
    big_flags = rng.integers(0, 2, 5000)
    big_pd = np.clip(big_flags * 0.3 + rng.uniform(0, 0.7, 5000), 0, 1)
    first = bootstrap_interval(small_flags, small_pd, auc_value, 200)
    assert first == bootstrap_interval(small_flags, small_pd, auc_value, 200)
    assert first[1] < first[0] < first[2]
    big = bootstrap_interval(big_flags, big_pd, auc_value, 200)
    assert big[2] - big[1] < (first[2] - first[1]) / 2


def test_a_gate_report_fails_on_a_chance_auc_and_names_every_failure():
    report = gate_report(
        {"auc": 0.52, "auc_ci95": [0.47, 0.57]},
        [],
        [],
        [],
        [
            {
                "of": "score (grade mix)",
                "psi": 0.4,
                "band": "shifted",
                "passed": False,
                "message": "score (grade mix): population stability index 0.400 > 0.25",
            }
        ],
    )
    assert report["passed"] is False and len(report["failures"]) == 2
    assert "interval starts at 0.470" in report["failures"][0] and "0.400 > 0.25" in report["failures"][1]


@pytest.mark.parametrize(
    "spec,message",
    [
        ({"features": []}, "non-empty `features:`"),
        ({"features": [{"name": "x", "type": "text"}]}, "feature 'x' type must be numeric or categorical, got 'text'"),
        ({"features": [{"name": "x", "trend": "up"}]}, "feature 'x' trend must be one of"),
        (
            {"features": [{"name": "c", "type": "categorical", "trend": "ascending"}]},
            "categorical feature 'c' cannot declare",
        ),
        ({"features": [{"name": "x", "special_values": -1}]}, "special_values must be a list"),
    ],
)
def test_a_bad_spec_is_refused_naming_the_feature_and_value(spec, message):
    with pytest.raises(InvalidInput, match=message):
        parse_spec(spec)


def test_data_is_refused_naming_the_column_and_value_and_special_values_become_missing():
    spec = parse_spec({"features": [{"name": "ratio", "trend": "ascending", "special_values": [-1, 999]}]})
    raw = pd.DataFrame({"ratio": [0.2, -1, 999, 0.5], "bad": [0, 1, 0, 1]})
    data = prepare(raw, "bad", spec)
    assert data.frame["ratio"].isna().tolist() == [False, True, True, False] and data.defaults.tolist() == [0, 1, 0, 1]
    with pytest.raises(InvalidInput, match=r"column\(s\) \['outcome'\] not found"):
        prepare(raw, "outcome", spec)
    with pytest.raises(InvalidInput, match=r"target 'flag' must be 0/1.*\['no', 'yes'\]"):
        prepare(raw.assign(flag=["yes", "no", "no", "yes"]), "flag", spec)
    assert prepare(raw.assign(flag=["yes", "no", "no", "yes"]), "flag", spec, "yes").defaults.tolist() == [1, 0, 0, 1]
    with pytest.raises(InvalidInput, match="feature 'ratio' is numeric, got 'n/a' in row 2"):
        prepare(raw.assign(ratio=[0.1, "n/a", 0.3, 0.4]), "bad", spec)


def test_german_credit_runs_through_the_generic_command_with_baseline_and_challenger():
    from wuxin.cli.main import app

    result = CliRunner().invoke(
        app,
        [
            "credit",
            "validate",
            "--csv",
            str(FIXTURES / "germancredit.csv"),
            "--target",
            "creditability",
            "--bad-value",
            "bad",
            "--spec",
            str(FIXTURES / "german_spec.yaml"),
            "--folds",
            "2",
            "--resamples",
            "50",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("1000 rows, 300 defaults; 2-fold")
    aucs = {line.split(" ")[0]: float(re.search(r"(\d\.\d{3}) \[", line).group(1)) for line in lines[2:]}
    assert set(aucs) == {"scorecard", "optbinning", "gradient"}
    assert all(0.65 < auc < 0.9 for auc in aucs.values()), aucs  # published German Credit AUCs are 0.75-0.80
    assert all("no date column" in line for line in lines[2:])
