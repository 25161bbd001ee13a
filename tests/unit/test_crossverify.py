"""Cross-verification: ratios, statuses, extrapolation over gaps, findings in words, the verified flag."""
from __future__ import annotations

import numpy as np
import pytest

from wuxin.risk.crossverify import (
    CHECKS,
    ReportedFigure,
    check_figure,
    cross_verify,
    evidenced_annual_revenue,
    is_cross_verified,
    revenue_consistency,
)
from wuxin.risk.features import DailySeries

DAYS = np.arange(20_000, 20_092)  # a 92-day quarter
REVENUE_CHECK = next(c for c in CHECKS if c.name == "revenue_vs_output")


def output(per_day: float = 10_000.0, missing: int = 0) -> DailySeries:
    values = np.full(len(DAYS), per_day)
    values[:missing] = np.nan
    return DailySeries.of(DAYS, values)


def revenue(value: float, label: str = "2024-Q3") -> ReportedFigure:
    return ReportedFigure("revenue_cny", int(DAYS[0]), int(DAYS[-1]), value, label, reference="/api/v1/x")


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


@pytest.mark.parametrize("value, missing, status", [
    (500_000, 0, "understated"), (920_000, 60, "insufficient_evidence"), (1_150_000, 0, "consistent"),
    (1_300_000, 0, "overstated"),
])
def test_statuses_follow_the_tolerance_and_the_coverage(value, missing, status) -> None:
    assert check_figure(REVENUE_CHECK, revenue(value), output(missing=missing)).status == status


def test_no_device_data_at_all_cannot_be_checked() -> None:
    result = check_figure(REVENUE_CHECK, revenue(920_000), DailySeries.empty())
    assert result.status == "insufficient_evidence" and result.evidenced is None and result.ratio is None
    assert "cannot be checked" in result.finding


def test_checks_apply_only_where_the_enterprise_has_the_indicator() -> None:
    figures = [revenue(920_000), ReportedFigure("electricity_kwh", int(DAYS[0]), int(DAYS[-1]), 9_200.0, "2024-09")]
    results = cross_verify(figures, {"output_value_cny": output(), "energy_kwh": output(100.0)})
    assert sorted(r.check for r in results) == ["electricity_bill_vs_meter", "revenue_vs_output"]
    assert cross_verify(figures, {}) == []


def test_stock_is_compared_at_the_period_end() -> None:
    check = next(c for c in CHECKS if c.name == "stock_vs_count")
    counted = DailySeries.of(DAYS, np.linspace(1000, 500, len(DAYS)))
    result = check_figure(check, ReportedFigure("stock_units", int(DAYS[-1]), int(DAYS[-1]), 1000.0, "Q3 end"), counted)
    assert result.evidenced == pytest.approx(500) and result.status == "overstated"


def test_one_early_booked_quarter_is_tolerated_a_pattern_is_not() -> None:
    ok = [check_figure(REVENUE_CHECK, revenue(v), output()) for v in (920_000, 900_000, 1_400_000)]
    bad = ok + [check_figure(REVENUE_CHECK, revenue(2_000_000), output())]
    assert is_cross_verified(ok) is True and is_cross_verified(bad) is False
    assert is_cross_verified([]) is False  # nothing checked is not verified
    assert revenue_consistency(bad) == pytest.approx(2_000_000 / 920_000)


def test_verified_revenue_takes_the_lesser_of_reported_and_evidenced() -> None:
    results = [check_figure(REVENUE_CHECK, revenue(v), output()) for v in (900_000, 2_000_000)]
    assert evidenced_annual_revenue(results) == pytest.approx((900_000 + 920_000) * 365 / 184)
    assert evidenced_annual_revenue([]) is None
