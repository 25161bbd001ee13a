"""Scorecard engine: bins as optbinning fits them, declared trends, scaling, round-trip, versions, validation."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from wuxin.errors import InvalidInput, NotFound
from wuxin.risk.registry import InMemoryModelRegistry
from wuxin.risk.scorecard import (
    FeatureSpec,
    ScorecardConfig,
    ScoreScaling,
    default_flags,
    model_from_dict,
    model_to_dict,
    predict_pd,
    score_features,
    score_table,
    train_scorecard,
)
from wuxin.risk.validation import auc, calibration_by_grade, feature_psi, ks, psi, validation_report

SPECS = (
    FeatureSpec("utilization_rate", "numerical", "descending", "utilisation"),
    FeatureSpec("overdue_invoices", "numerical", "ascending", "overdue invoices"),
    FeatureSpec("power_kwh_per_day", "numerical", "auto", "power use"),
    FeatureSpec("industry", "categorical", "auto", "industry"),
)
INDUSTRY_RISK = {"textiles": 0.4, "machining": -0.3, "chemicals": 0.8, "electronics": -0.6}


def synthetic_loans(rows: int, seed: int, utilisation_shift: float = 0.0) -> tuple[pd.DataFrame, np.ndarray]:
    """Applicants whose default odds fall with utilisation and rise with overdue invoices."""
    rng = np.random.default_rng(seed)
    utilisation = np.clip(rng.beta(4, 3, rows) + utilisation_shift, 0, 1)
    overdue = rng.poisson(1.5, rows)
    power = rng.normal(800, 150, rows)
    industry = rng.choice(list(INDUSTRY_RISK), rows)
    logit = -1.2 - 4.0 * (utilisation - 0.55) + 0.5 * (overdue - 1.5) + np.vectorize(INDUSTRY_RISK.get)(industry)
    defaults = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame(
        {"utilization_rate": utilisation, "overdue_invoices": overdue, "power_kwh_per_day": power, "industry": industry}
    )
    return frame, defaults


@pytest.fixture(scope="module")
def loans() -> tuple[pd.DataFrame, np.ndarray]:
    return synthetic_loans(1200, seed=7)


@pytest.fixture(scope="module")
def model(loans):
    frame, defaults = loans
    return train_scorecard(frame, defaults, ScorecardConfig(SPECS, name="synthetic"))


def test_our_bins_apply_exactly_as_optbinning_transforms(model, loans) -> None:
    from optbinning import OptimalBinning

    frame, defaults = loans
    for spec in SPECS:
        kwargs = {"monotonic_trend": spec.trend} if spec.kind == "numerical" else {}
        reference = OptimalBinning(name=spec.name, dtype=spec.kind, solver="cp", **kwargs)
        reference.fit(frame[spec.name].to_numpy(), defaults)
        bins = model.feature(spec.name)
        ours = bins.woe_of_bins(bins.bin_indices(frame[spec.name]))
        assert np.allclose(ours, reference.transform(frame[spec.name].to_numpy(), metric="woe"), atol=1e-12)


def test_declared_trends_hold_even_against_the_data() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 10, 3000)
    u_shaped = (rng.random(3000) < 0.1 + 0.04 * (x - 5) ** 2 / 2.5).astype(int)  # riskiest at both ends
    frame = pd.DataFrame({"x": x})
    rising = train_scorecard(frame, u_shaped, ScorecardConfig((FeatureSpec("x", trend="ascending"),))).feature("x")
    falling = train_scorecard(frame, u_shaped, ScorecardConfig((FeatureSpec("x", trend="descending"),))).feature("x")
    assert len(rising.woe) > 1 and len(falling.woe) > 1
    assert all(a > b for a, b in zip(rising.woe, rising.woe[1:]))  # default rate up = WOE down
    assert all(a < b for a, b in zip(falling.woe, falling.woe[1:]))


def test_trained_model_learns_the_direction_of_each_feature(model) -> None:
    points = {f.name: f.bin_points(model.scaling)[:-1] for f in model.features}
    assert points["utilization_rate"][-1] > points["utilization_rate"][0]  # busier factories score higher
    assert points["overdue_invoices"][-1] < points["overdue_invoices"][0]
    industry = model.feature("industry")
    chemicals = industry.bin_points(model.scaling)[industry.bin_index("chemicals")]
    electronics = industry.bin_points(model.scaling)[industry.bin_index("electronics")]
    assert chemicals < electronics


def test_scaling_puts_base_score_at_base_odds_and_pdo_doubles_them() -> None:
    scaling = ScoreScaling(base_score=600, base_odds=50, pdo=20)
    assert scaling.pd_from_score(600) == pytest.approx(1 / 51)
    assert scaling.pd_from_score(620) == pytest.approx(1 / 101)
    assert scaling.pd_from_score(580) == pytest.approx(1 / 26)


def test_one_applicant_score_is_base_plus_feature_points_and_matches_the_batch(model, loans) -> None:
    frame, _ = loans
    row = frame.iloc[5].to_dict()
    breakdown = score_features(model, row)
    assert breakdown.score == pytest.approx(breakdown.base_points + sum(c.points for c in breakdown.contributions))
    assert breakdown.score == pytest.approx(score_table(model, frame)[5])
    assert breakdown.pd == pytest.approx(predict_pd(model, frame)[5])
    assert breakdown.model_version == model.version and breakdown.inputs["industry"] == row["industry"]


def test_absent_and_unseen_values_score_as_missing_not_zero(model) -> None:
    breakdown = score_features(model, {"utilization_rate": 0.7, "industry": "shipbuilding"})
    by_name = {c.name: c for c in breakdown.contributions}
    assert by_name["overdue_invoices"].value is None and by_name["overdue_invoices"].bin == "missing"
    assert by_name["industry"].bin == "missing"
    zero = score_features(model, {"utilization_rate": 0.7, "overdue_invoices": 0, "industry": "shipbuilding"})
    assert {c.name: c.bin for c in zero.contributions}["overdue_invoices"] != "missing"


def test_a_text_value_for_a_numerical_feature_is_refused_by_name(model) -> None:
    with pytest.raises(InvalidInput, match="utilization_rate.*'high'"):
        score_features(model, {"utilization_rate": "high"})
    with pytest.raises(InvalidInput, match="utilization_rate"):
        score_table(model, [{"utilization_rate": "high"}])


def test_model_round_trips_through_json_exactly(model, loans) -> None:
    frame, _ = loans
    data = json.loads(json.dumps(model_to_dict(model)))
    loaded = model_from_dict(data)
    assert loaded == model
    assert loaded.version == model.version == data["version"]
    assert np.array_equal(score_table(loaded, frame), score_table(model, frame))


def test_a_tampered_or_malformed_model_is_refused(model) -> None:
    data = model_to_dict(model)
    tampered = json.loads(json.dumps(data))
    tampered["features"][0]["coefficient"] *= 2
    with pytest.raises(InvalidInput, match="version mismatch"):
        model_from_dict(tampered)
    with pytest.raises(InvalidInput, match="schema"):
        model_from_dict({**data, "schema": "other/9"})
    short = json.loads(json.dumps(data))
    short["features"][0]["woe"] = short["features"][0]["woe"][:-1]
    del short["version"]
    with pytest.raises(InvalidInput, match="malformed"):
        model_from_dict(short)


def test_training_is_deterministic_and_the_version_follows_content(model, loans) -> None:
    frame, defaults = loans
    again = train_scorecard(frame, defaults, ScorecardConfig(SPECS, name="synthetic"))
    assert again.version == model.version and len(model.version) == 64
    other = train_scorecard(frame.iloc[:900], defaults[:900], ScorecardConfig(SPECS, name="synthetic"))
    assert other.version != model.version


def test_min_iv_drops_noise_features_and_says_so(loans) -> None:
    frame, defaults = loans
    noisy = frame.assign(noise=np.random.default_rng(11).normal(size=len(frame)))
    specs = (*SPECS, FeatureSpec("noise"))
    trained = train_scorecard(noisy, defaults, ScorecardConfig(specs, min_iv=0.2))
    assert [f.name for f in trained.features] == ["utilization_rate", "overdue_invoices", "industry"]
    assert trained.trained["dropped_low_iv"] == ["power_kwh_per_day", "noise"]
    with pytest.raises(InvalidInput, match="min_iv 5"):
        train_scorecard(noisy, defaults, ScorecardConfig(specs, min_iv=5))


@pytest.mark.parametrize(
    "flags, message",
    [
        ([0, 1, 2], "0 or 1"),
        ([1, 1, 1], "both outcomes"),
        ([0, 1], "expected 3"),
    ],
)
def test_bad_default_flags_are_refused(flags, message) -> None:
    table = [{"utilization_rate": v} for v in (0.1, 0.5, 0.9)]
    with pytest.raises(InvalidInput, match=message):
        train_scorecard(table, flags, ScorecardConfig(SPECS[:1]))


def test_bad_configs_name_the_problem() -> None:
    with pytest.raises(InvalidInput, match="trend"):
        FeatureSpec("industry", "categorical", "ascending")
    with pytest.raises(InvalidInput, match="sideways"):
        FeatureSpec("x", trend="sideways")
    with pytest.raises(InvalidInput, match="repeats"):
        ScorecardConfig((FeatureSpec("x"), FeatureSpec("x")))
    with pytest.raises(InvalidInput, match="pdo"):
        ScoreScaling(pdo=0)


def test_loan_outcomes_become_flags_at_90_days_past_due() -> None:
    assert default_flags([0, 30, 89, 90, 365]).tolist() == [0, 0, 0, 1, 1]


def test_registry_saves_idempotently_and_loads_exactly(model) -> None:
    registry = InMemoryModelRegistry()
    assert registry.save(model) == registry.save(model) == model.version
    assert registry.versions() == [model.version]
    assert registry.load(model.version) == model
    with pytest.raises(NotFound, match="deadbeef"):
        registry.load("deadbeef")


def test_auc_and_ks_on_known_orderings() -> None:
    flags = [0, 0, 1, 1]
    assert auc(flags, [0.1, 0.2, 0.8, 0.9]) == 1.0 and ks(flags, [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert auc(flags, [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert auc(flags, [0.1, 0.8, 0.2, 0.9]) == 0.75


def test_psi_is_zero_for_the_same_mix_and_matches_the_formula() -> None:
    assert psi([10, 20, 70], [20, 40, 140]) == pytest.approx(0.0)
    expected = (0.5 - 0.2) * math.log(0.5 / 0.2) + (0.5 - 0.8) * math.log(0.5 / 0.8)
    assert psi([20, 80], [50, 50]) == pytest.approx(expected)
    with pytest.raises(InvalidInput, match="PSI"):
        psi([1, 2], [1, 2, 3])


def test_feature_psi_flags_a_shifted_sample_on_frozen_bins(model, loans) -> None:
    frame, _ = loans
    same, _ = synthetic_loans(1200, seed=8)
    shifted, _ = synthetic_loans(1200, seed=8, utilisation_shift=-0.3)
    assert feature_psi(model, frame, same)["utilization_rate"] < 0.05
    assert feature_psi(model, frame, shifted)["utilization_rate"] > 0.25
    assert feature_psi(model, frame, shifted)["industry"] < 0.05


def test_validation_report_on_a_later_sample(model, loans) -> None:
    frame, _ = loans
    later, later_defaults = synthetic_loans(800, seed=9)
    report = validation_report(model, later, later_defaults, reference=frame)
    assert report.model_version == model.version and report.rows == 800
    assert 0.7 < report.auc < 1.0 and report.gini == pytest.approx(2 * report.auc - 1)
    assert 0.2 < report.ks < 1.0 and report.score_psi is not None and report.score_psi < 0.1
    assert sum(c.rows for c in report.calibration) == 800
    assert sum(c.defaults for c in report.calibration) == int(later_defaults.sum())
    worst = report.calibration[-1]
    assert worst.observed_default_rate == pytest.approx(worst.predicted_pd, abs=0.1)
    json.dumps(report.to_dict())


def test_calibration_groups_rows_by_grade() -> None:
    rows = calibration_by_grade([0, 1, 0, 1], [0.0005, 0.0008, 0.5, 0.7])
    assert [(c.grade, c.rows, c.defaults) for c in rows] == [("AAA", 2, 1), ("C", 2, 1)]
    assert rows[1].predicted_pd == pytest.approx(0.6) and rows[1].observed_default_rate == 0.5


def test_a_missing_value_scores_the_worst_bin_never_the_average(model) -> None:
    """The training data had no missing values, so optbinning's missing WOE is 0 (the book's average):
    scored as such, an applicant with nothing reported would look average. It scores the worst bin."""
    for bins in model.features:
        points = bins.bin_points(model.scaling)
        assert bins.missing_woe == 0.0  # what the library fitted
        assert points[-1] == pytest.approx(min(points[:-1]))  # what a missing value scores
    empty = score_features(model, {})
    worst = sum(min(b.bin_points(model.scaling)[:-1]) for b in model.features)
    assert empty.score == pytest.approx(model.base_points + worst)
    assert empty.pd > predict_pd(model, synthetic_loans(400, seed=3)[0]).max() * 0.99


def test_a_wrong_sign_feature_is_dropped_and_said() -> None:
    """x2 follows x1, so on its own a higher x2 looks safer (its WOE rises); given x1, though, a higher x2
    raises the default odds: the regression gives x2's WOE a positive coefficient, a safer bin scoring
    fewer points. Such a feature is dropped, said, and the rest refitted."""
    rng = np.random.default_rng(5)
    x1 = rng.normal(0, 1, 3000)
    x2 = x1 + rng.normal(0, 0.5, 3000)
    defaults = (rng.random(3000) < 1 / (1 + np.exp(-(-1.0 - 3.0 * x1 + 1.8 * x2)))).astype(int)
    specs = (FeatureSpec("x1", "numerical", "descending"), FeatureSpec("x2", "numerical", "descending"))
    model = train_scorecard(pd.DataFrame({"x1": x1, "x2": x2}), defaults, ScorecardConfig(specs, name="collinear"))
    assert model.trained["dropped_wrong_sign"] == ["x2"]
    assert [f.name for f in model.features] == ["x1"] and model.features[0].coefficient < 0
