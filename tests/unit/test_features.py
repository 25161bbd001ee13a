"""Features from daily indicators and statements: trends, volatility, index-relative change, completeness;
absent stays None; and the simulated book behaves (deterministic, inflators caught, IoT adds lift)."""

from __future__ import annotations

import numpy as np
import pytest

from wuxin.risk.features import (
    DailySeries,
    DeviceFacts,
    EvidenceInputs,
    StatementPeriod,
    activity_trend_per_year,
    activity_volatility,
    change_against_index,
    data_completeness,
    evidence_features,
    level_against_index,
    statement_features,
)
from wuxin.services.bootstrap import finance_profiles
from wuxin.sim.finance import borrower_row, quarter_of, simulate_book

AS_OF = 20_000
DAYS = np.arange(AS_OF - 199, AS_OF + 1)


def series(values) -> DailySeries:
    return DailySeries.of(DAYS, np.asarray(values, dtype=float))


def test_a_steady_decline_gives_a_negative_trend_per_year() -> None:
    falling = 100.0 - 0.1 * np.arange(len(DAYS))  # -0.1 a day
    trend = activity_trend_per_year(series(falling), AS_OF)
    assert trend == pytest.approx(-0.1 * 365 / falling[-180:].mean(), rel=1e-6)


def test_too_few_known_days_make_a_feature_unknown_not_zero() -> None:
    sparse = np.full(len(DAYS), np.nan)
    sparse[-10:] = 5.0
    assert activity_trend_per_year(series(sparse), AS_OF) is None
    assert activity_volatility(series(sparse), AS_OF) is None
    assert level_against_index(series(sparse), series(np.full(len(DAYS), 5.0)), AS_OF) is None
    assert data_completeness(series(sparse), AS_OF) == pytest.approx(10 / 90)


def test_the_common_season_cancels_against_the_index() -> None:
    season = 1.0 + 0.3 * np.sin(np.arange(len(DAYS)) / 30.0)
    firm, peers = series(20.0 * season), series(10.0 * season)
    assert change_against_index(firm, peers, AS_OF) == pytest.approx(0.0, abs=1e-9)
    assert level_against_index(firm, peers, AS_OF) == pytest.approx(2.0)
    halved = 20.0 * season * np.where(np.arange(len(DAYS)) >= len(DAYS) - 90, 0.5, 1.0)
    assert change_against_index(series(halved), peers, AS_OF) == pytest.approx(-0.5)


def test_weekly_volatility_ignores_the_weekly_rhythm() -> None:
    weekly = np.tile([10, 10, 10, 10, 10, 2, 2], 30)[: len(DAYS)].astype(float)
    assert activity_volatility(series(weekly), AS_OF) == pytest.approx(0.0, abs=0.02)


def test_a_holiday_every_peer_shares_is_not_the_firms_volatility() -> None:
    holiday = np.where((np.arange(len(DAYS)) // 7) % 10 == 3, 0.15, 1.0)  # a week in ten closed, for everyone
    firm, peers = series(12.0 * holiday), series(9.0 * holiday)
    assert activity_volatility(firm, AS_OF) > 0.15
    assert activity_volatility(firm, AS_OF, index=peers) == pytest.approx(0.0, abs=1e-9)
    own = series(
        12.0 * holiday * np.where((np.arange(len(DAYS)) - len(DAYS) % 7) // 7 % 2 == 0, 1.2, 0.8)
    )  # its own stay
    assert activity_volatility(own, AS_OF, index=peers) == pytest.approx(0.2, abs=0.02)
    sparse_index = series(np.where(np.arange(len(DAYS)) % 2 == 0, 9.0 * holiday, np.nan))  # index on half the days
    assert activity_volatility(firm, AS_OF, index=sparse_index) == activity_volatility(firm, AS_OF)


def test_evidence_features_count_devices_and_source_modes() -> None:
    inputs = EvidenceInputs(
        AS_OF,
        "run_hours",
        series(np.full(len(DAYS), 10.0)),
        DailySeries.empty(),
        DeviceFacts(10, 7, 2, {"bank_installed": 6, "enterprise_shared": 4}),
    )
    features = evidence_features(inputs)
    assert features["device_health_rate"] == pytest.approx(0.7)
    assert features["share_enterprise_shared"] == pytest.approx(0.4) and features["share_third_party"] == 0.0
    assert features["utilization_vs_index"] is None  # no published index: unknown
    assert features["tamper_events_90d"] == 2.0


def test_statement_features_compare_the_last_four_quarters_with_the_four_before() -> None:
    quarters, day = [], AS_OF
    for _ in range(8):
        first, last, label = quarter_of(day)
        quarters.insert(0, (first, last, label))
        day = first - 1
    periods = [
        StatementPeriod(f, l, lab, 100.0 if i < 4 else 120.0, 6.0, 1000.0, 550.0)
        for i, (f, l, lab) in enumerate(quarters)
    ]
    features = statement_features(periods)
    assert features["reported_revenue_growth"] == pytest.approx(0.2)
    assert features["net_margin"] == pytest.approx(24 / 480)
    assert features["debt_to_assets"] == pytest.approx(0.55)
    assert statement_features([]) == {"reported_revenue_growth": None, "net_margin": None, "debt_to_assets": None}


def test_the_simulated_book_is_deterministic_and_inflators_are_caught() -> None:
    first, again = simulate_book(60, 3, 20_726, finance_profiles()), simulate_book(60, 3, 20_726, finance_profiles())
    assert [b.statements for b in first] == [b.statements for b in again]
    assert {b.health for b in first} <= {"growing", "stable", "declining", "failing"}
    inflated = [b for b in first if b.inflated]
    honest = [b for b in first if not b.inflated]
    ratio = lambda b: borrower_row(b)[0]["revenue_consistency_ratio"]  # noqa: E731
    assert inflated and np.median([ratio(b) for b in inflated if ratio(b) is not None]) > 1.3
    assert np.median([ratio(b) for b in honest if ratio(b) is not None]) == pytest.approx(1.0, abs=0.15)
