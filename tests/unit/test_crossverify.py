"""Cross-verification: ratios, statuses, extrapolation over gaps, findings in words, tolerances measured on
the firm's dispersion, and trust: only independent evidence verifies (the adversarial cases)."""

from __future__ import annotations

import numpy as np
import pytest

from wuxin.risk.crossverify import (
    TOLERANCE_FLOOR,
    ReportedFigure,
    SourceShares,
    check_figure,
    cross_verify,
    enterprise_shared_only,
    evidence_coverage,
    evidenced_annual_revenue,
    is_cross_verified,
    revenue_consistency,
    tolerance,
    verification,
)
from wuxin.risk.features import DailySeries
from wuxin.services.bootstrap import checks

CHECKS = checks()

DAYS = np.arange(20_000, 20_092)  # a 92-day quarter
REVENUE_CHECK = next(c for c in CHECKS if c.name == "revenue_vs_output")


def output(per_day: float = 10_000.0, missing: int = 0) -> DailySeries:
    values = np.full(len(DAYS), per_day)
    values[:missing] = np.nan
    return DailySeries.of(DAYS, values)


def revenue(value: float, label: str = "2024-Q3", source: str = "enterprise_reported") -> ReportedFigure:
    return ReportedFigure("revenue_cny", int(DAYS[0]), int(DAYS[-1]), value, label, source, reference="/api/v1/x")


def modes(**shares: float) -> SourceShares:
    return SourceShares.constant(shares, int(DAYS[0]), int(DAYS[-1]))


BANK = modes(bank_installed=1.0)
SHARED = modes(enterprise_shared=1.0)


def test_an_inflated_quarter_is_overstated_and_the_finding_says_by_how_much() -> None:
    result = check_figure(REVENUE_CHECK, revenue(2.4 * 920_000), output())
    assert result.status == "overstated"
    assert result.ratio == pytest.approx(2.4)
    assert "reported 2024-Q3 revenue CNY 2.21M is 2.4x what the machines' metered output support" in result.finding
    assert "92 of 92 days" in result.finding


def test_an_honest_quarter_is_consistent_and_gaps_are_extrapolated_not_zero() -> None:
    result = check_figure(REVENUE_CHECK, revenue(920_000), output(missing=20))
    assert result.status == "consistent"
    assert result.evidenced == pytest.approx(920_000)  # 72 known days scaled to 92, not 72 days' worth
    assert result.coverage == pytest.approx(72 / 92)


@pytest.mark.parametrize(
    "value, missing, status",
    [
        (500_000, 0, "understated"),
        (920_000, 60, "insufficient_evidence"),
        (1_150_000, 0, "consistent"),
        (1_300_000, 0, "overstated"),
    ],
)
def test_statuses_follow_the_tolerance_and_the_coverage(value, missing, status) -> None:
    assert check_figure(REVENUE_CHECK, revenue(value), output(missing=missing)).status == status


def test_no_device_data_at_all_cannot_be_checked() -> None:
    result = check_figure(REVENUE_CHECK, revenue(920_000), DailySeries.empty())
    assert result.status == "insufficient_evidence" and result.evidenced is None and result.ratio is None
    assert "cannot be checked" in result.finding


def test_checks_apply_only_where_the_enterprise_has_the_indicator() -> None:
    figures = [revenue(920_000), ReportedFigure("electricity_kwh", int(DAYS[0]), int(DAYS[-1]), 9_200.0, "2024-09")]
    results = cross_verify(figures, {"output_value_cny": output(), "energy_kwh": output(100.0)}, CHECKS)
    assert sorted(r.check for r in results) == ["electricity_bill_vs_meter", "revenue_vs_output"]
    assert cross_verify(figures, {}, CHECKS) == []


def test_stock_is_compared_at_the_period_end() -> None:
    check = next(c for c in CHECKS if c.name == "stock_vs_count")
    counted = DailySeries.of(DAYS, np.linspace(1000, 500, len(DAYS)))
    result = check_figure(check, ReportedFigure("stock_units", int(DAYS[-1]), int(DAYS[-1]), 1000.0, "Q3 end"), counted)
    assert result.evidenced == pytest.approx(500) and result.status == "overstated"


def test_one_early_booked_quarter_is_tolerated_a_pattern_is_not() -> None:
    ok = [check_figure(REVENUE_CHECK, revenue(v), output(), BANK) for v in (920_000, 900_000, 1_400_000)]
    bad = ok + [check_figure(REVENUE_CHECK, revenue(2_000_000), output(), BANK)]
    assert is_cross_verified(ok) is True and is_cross_verified(bad) is False
    assert verification(ok) == "verified" and verification(bad) == "failed"
    assert is_cross_verified([]) is False and verification([]) == "undecided"  # nothing checked is not verified
    assert revenue_consistency(bad) == pytest.approx(2_000_000 / 920_000)


def test_verified_revenue_takes_the_lesser_of_reported_and_evidenced() -> None:
    results = [check_figure(REVENUE_CHECK, revenue(v), output()) for v in (900_000, 2_000_000)]
    assert evidenced_annual_revenue(results) == pytest.approx((900_000 + 920_000) * 365 / 184)
    assert evidenced_annual_revenue([]) is None


def test_each_check_carries_the_source_modes_and_trust_behind_its_evidence() -> None:
    result = check_figure(REVENUE_CHECK, revenue(920_000), output(), modes(bank_installed=0.75, enterprise_shared=0.25))
    assert result.sources == pytest.approx({"bank_installed": 0.75, "enterprise_shared": 0.25})
    assert result.trust == pytest.approx(0.75 * 0.9 + 0.25 * 0.4) and result.independent_share == pytest.approx(0.75)
    assert result.level == "verified" and "verified by independent devices" in result.finding
    unknown = check_figure(REVENUE_CHECK, revenue(920_000), output())  # no lineage: not independent
    assert unknown.sources == {"unknown": 1.0} and unknown.level == "supported"


def test_daily_lineage_weighs_each_day_by_its_value() -> None:
    """A bank device behind the first half of the quarter at a tenth of the volume, a shared one behind all."""
    per_day = np.where(np.arange(len(DAYS)) < 46, 11_000.0, 10_000.0)
    bank = np.where(np.arange(len(DAYS)) < 46, 1_000 / 11_000, 0.0)
    sources = SourceShares.of(DAYS, {"bank_installed": bank, "enterprise_shared": 1 - bank})
    result = check_figure(REVENUE_CHECK, revenue(float(per_day.sum())), DailySeries.of(DAYS, per_day), sources)
    assert result.independent_share == pytest.approx(46_000 / per_day.sum())
    assert result.level == "supported"  # under half the evidence is independent


def test_adversarial_statements_and_own_shared_device_inflated_together_are_not_verified() -> None:
    """The borrower doubles its statements and its own enterprise-shared meter: the ratio is 1.0, the
    report agrees with itself, and nothing independent stands behind it. Supported, never verified."""
    inflated_meter = output(2 * 10_000.0)
    figures = [ReportedFigure("revenue_cny", int(DAYS[0]), int(DAYS[-1]), 2 * 920_000.0, "2024-Q3")]
    results = cross_verify(figures, {"output_value_cny": inflated_meter}, CHECKS, sources={"output_value_cny": SHARED})
    assert [r.status for r in results] == ["consistent"] and results[0].ratio == pytest.approx(1.0)
    assert (
        results[0].level == "supported" and "supported only, not verified (no independent source)" in results[0].finding
    )
    assert verification(results) == "supported" and not is_cross_verified(results)
    assert enterprise_shared_only(results) is True
    honest_bank = cross_verify(figures[:1], {"output_value_cny": output()}, CHECKS, sources={"output_value_cny": BANK})
    assert verification(honest_bank) == "failed"  # the same report against a bank-installed meter is caught


def test_an_independent_figure_agreeing_with_shared_devices_is_verified() -> None:
    """Two independent sources agreeing: the grid's bill (a third party) and the enterprise's own meter."""
    result = check_figure(REVENUE_CHECK, revenue(920_000, source="third_party"), output(), SHARED)
    assert result.level == "verified" and "verified by a third-party figure" in result.finding
    assert enterprise_shared_only([result]) is False


def test_a_firm_inflating_by_the_same_factor_every_quarter_has_a_tight_measured_tolerance() -> None:
    """1.2x every quarter passed the old constant 1.3; its ratios barely vary, so the measured
    tolerance is the floor and every quarter is overstated."""
    quarters = [
        ReportedFigure(
            "revenue_cny", int(DAYS[0]) + 92 * q, int(DAYS[-1]) + 92 * q, 1.2 * 920_000 * (1 + 0.005 * q), f"Q{q + 1}"
        )
        for q in range(4)
    ]
    long = DailySeries.of(np.arange(DAYS[0], DAYS[0] + 92 * 4), np.full(92 * 4, 10_000.0))
    results = cross_verify(quarters, {"output_value_cny": long}, CHECKS)
    assert all(r.tolerance == pytest.approx(TOLERANCE_FLOOR) for r in results)
    assert [r.status for r in results] == ["overstated"] * 4 and "tolerance 1.10" in results[0].finding
    assert "dispersion of ln(ratio) over 4 periods" in results[0].tolerance_basis


def test_tolerance_follows_the_measured_dispersion_with_a_floor_and_the_prior_before_three_periods() -> None:
    assert tolerance([]).ratio == pytest.approx(1.3) and tolerance([0.0, 0.1]).periods == 0  # the prior
    honest = np.log([0.92, 1.0, 1.08, 0.97, 1.05])
    measured = tolerance(honest)
    sigma = 1.4826 * np.median(np.abs(honest - np.median(honest)))
    assert measured.ratio == pytest.approx(np.exp(2 * sigma)) and measured.periods == 5
    assert tolerance(np.log([1.0, 1.0, 1.0])).ratio == pytest.approx(TOLERANCE_FLOOR)
    wider = tolerance(honest, daily_cv=0.6, coverage=0.7, known_days=64)
    assert wider.sigma_sample == pytest.approx(0.6 * np.sqrt(0.3 / 64)) and wider.ratio > measured.ratio


def test_evidence_coverage_is_day_weighted_over_the_latest_periods() -> None:
    results = [
        check_figure(REVENUE_CHECK, revenue(920_000), output(missing=46)),
        check_figure(REVENUE_CHECK, revenue(920_000), output(missing=0)),
    ]
    assert evidence_coverage(results) == pytest.approx(0.75)
    assert evidence_coverage([]) is None
