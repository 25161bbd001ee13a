"""The credit experiments' generator and the checks the bench's figures rest on (small sizes)."""

from __future__ import annotations

import numpy as np
import pytest

from wuxin.bench.credit import COHORT_1_DAY, fraud_figures, lift_at, scored, wilson
from wuxin.bench.credit_latent import LatentConfig, generate_cohort, quarters_until
from wuxin.errors import InvalidInput
from wuxin.risk.crossverify import verification


def test_the_correlation_of_health_and_activity_is_the_parameter() -> None:
    for rho in (0.0, 0.8):
        firms = generate_cohort(600, 3, COHORT_1_DAY, LatentConfig(rho=rho, fraud_share=0.0))
        measured = np.corrcoef([f.health for f in firms], [f.activity_factor for f in firms])[0, 1]
        assert abs(measured - rho) < 0.1


def test_default_rate_is_a_few_percent_and_falls_with_health() -> None:
    firms = generate_cohort(2000, 4, COHORT_1_DAY, LatentConfig(fraud_share=0.0))
    defaulted = np.array([f.defaulted for f in firms])
    health = np.array([f.health for f in firms])
    assert 0.03 <= defaulted.mean() <= 0.09
    assert health[defaulted].mean() < health[~defaulted].mean() - 0.5


def test_statements_are_quarters_and_the_checked_ones_are_the_last_four() -> None:
    firm = generate_cohort(20, 5, COHORT_1_DAY, LatentConfig())[0]
    quarters = quarters_until(COHORT_1_DAY - 92, 8)
    assert [s.label for s in firm.statements] == [q[2] for q in quarters] and quarters[-1][2] == "2024-Q2"
    assert [r.label for r in firm.reported] == [q[2] for q in quarters[-4:]]


def test_a_bad_correlation_or_a_tiny_cohort_is_refused() -> None:
    with pytest.raises(InvalidInput, match="rho"):
        LatentConfig(rho=1.5)
    with pytest.raises(InvalidInput, match="at least 20"):
        generate_cohort(5, 1, COHORT_1_DAY, LatentConfig())


def test_no_lift_when_the_sensors_see_nothing_of_health() -> None:
    """rho = 0: the IoT features carry no information on default, so the out-of-time lift's CI covers 0."""
    row, _ = lift_at(0.0, 1500, 11, 400, LatentConfig())
    assert row["lift_ci"][0] <= 0.0 <= row["lift_ci"][1]
    assert row["auc_statements"] > 0.6  # the statements do see health: the experiment is not blind


def test_the_sensors_see_health_only_through_rho() -> None:
    """The activity trend the platform computes ranks defaults when rho is high and does not when rho is 0."""
    from sklearn.metrics import roc_auc_score

    def trend_auc(rho: float) -> float:
        book = scored(generate_cohort(1500, 12, COHORT_1_DAY, LatentConfig(rho=rho, fraud_share=0.0)))
        pairs = [
            (f.defaulted, row["activity_trend_per_year"])
            for f, row, _ in book
            if row["activity_trend_per_year"] is not None
        ]
        return roc_auc_score([d for d, _ in pairs], [-t for _, t in pairs])

    assert trend_auc(0.9) > 0.62
    assert abs(trend_auc(0.0) - 0.5) < 0.08


def test_statements_inflated_with_the_borrowers_own_device_are_never_verified() -> None:
    config = LatentConfig(fraud_share=1.0)
    book = scored(generate_cohort(600, 8, COHORT_1_DAY, config))
    own = [(f, r) for f, _, r in book if f.fraud == "statements_and_own_shared_device"]
    assert len(own) > 50
    labels = [verification(r) for _, r in own]
    assert "verified" not in labels
    assert labels.count("supported") > len(labels) / 2  # consistent with itself: supported, not caught
    assert all(set(r.sources) <= {"enterprise_shared"} for _, results in own for r in results)


def test_statements_inflated_alone_are_caught_more_often_than_honest_firms_are_flagged() -> None:
    book = scored(generate_cohort(800, 9, COHORT_1_DAY, LatentConfig(fraud_share=0.5)))
    figures = fraud_figures(book)
    caught = figures["fraud:statements_only"]["failed"]
    honest = figures["honest:all"]["failed"]
    assert caught["n"] > 50 and honest["n"] > 200
    assert caught["ci"][0] > honest["ci"][1]


def test_wilson_interval_brackets_the_share() -> None:
    w = wilson(30, 100)
    assert w["share"] == 0.3 and w["ci"][0] < 0.3 < w["ci"][1]
    assert 0.21 < w["ci"][0] < 0.22 and 0.39 < w["ci"][1] < 0.40
    assert wilson(0, 0)["share"] is None


@pytest.mark.parametrize(
    ("rhos", "said"),
    [
        ("0,1.5", "rho must be a correlation in [-1, 1], got 1.5"),
        ("0,high", "--rhos must be comma-separated numbers, got '0,high'"),
    ],
)
def test_the_bench_command_refuses_a_bad_rho_naming_it(rhos: str, said: str) -> None:
    from typer.testing import CliRunner

    from wuxin.cli.main import app

    result = CliRunner().invoke(app, ["bench", "credit", "--rhos", rhos])
    assert result.exit_code == 2
    assert said in " ".join(result.output.replace("│", " ").split())
