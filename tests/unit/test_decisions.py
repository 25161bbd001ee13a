"""Decisions: grades, reason codes in words, limits per product (the tyre case), expected loss."""
from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from wuxin.domain.model import SourceMode
from wuxin.errors import InvalidInput, NotFound
from wuxin.risk.decisions import (
    CreditLimit,
    LimitEvidence,
    credit_limit,
    decide,
    expected_loss,
    grade_for_pd,
    pd_from_score,
    reason_codes,
)
from wuxin.risk.money import Money, cny
from wuxin.risk.products import get_product, load_products
from wuxin.risk.scorecard import FeatureSpec, ScorecardConfig, ScoreScaling, score_features, train_scorecard

EXPLANATIONS = {
    "utilization_rate": "{label} {value:.0%} is below the industry median",
    "overdue_invoices": "{value} overdue invoices in the last 12 months",
}
BANK_EVIDENCE = LimitEvidence(SourceMode.BANK_INSTALLED, cross_verified=False)


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(21)
    utilisation = rng.uniform(0, 1, 1500)
    overdue = rng.poisson(1.5, 1500)
    logit = -1.0 - 4.0 * (utilisation - 0.5) + 0.6 * (overdue - 1.5)
    defaults = (rng.random(1500) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame({"utilization_rate": utilisation, "overdue_invoices": overdue})
    specs = (FeatureSpec("utilization_rate", trend="descending", label="utilisation"),
             FeatureSpec("overdue_invoices", trend="ascending", label="overdue invoices"))
    return train_scorecard(frame, defaults, ScorecardConfig(specs, name="decisions"))


def test_products_from_the_seeds_are_declared_as_data() -> None:
    products = load_products()
    names = {p.name_zh for p in products.values()}
    assert names == {"数字贷(智造)", "养殖贷", "充电站运营贷", "动产质押", "物流运输经营贷"}
    assert products["movable_pledge"].pledge_rate == Decimal("0.50")
    assert products["digital_manufacturing"].basis == "revenue" and products["digital_manufacturing"].pledge_rate is None
    assert all(p.cap.currency == "CNY" for p in products.values())


@pytest.mark.parametrize("change, message", [
    ({"basis": "hope"}, "basis"), ({"pledge_rate": "1.5"}, "within 0-1"), ({"cap": 1e6}, "decimal string"),
    ({"cap": "lots"}, "not a number"), ({"cap": "0"}, "positive"),
])
def test_a_bad_product_file_is_refused_with_the_field(change, message) -> None:
    entry = {"code": "p", "name_zh": "贷", "name_en": "loan", "scenario": "logistics", "basis": "collateral",
             "pledge_rate": "0.5", "cap": "1000", "lgd": "0.4", "max_pd": "0.2", "unverified_haircut": "0.3"}
    with pytest.raises(InvalidInput, match=message):
        load_products(json.dumps({"products": [{**entry, **change}]}))


def test_repeated_product_codes_and_unknown_products_are_refused() -> None:
    entry = {"code": "p", "name_zh": "贷", "name_en": "loan", "scenario": "x", "basis": "revenue",
             "revenue_share": "0.2", "cap": "1000", "lgd": "0.4", "max_pd": "0.2", "unverified_haircut": "0.3"}
    with pytest.raises(InvalidInput, match="repeats"):
        load_products(json.dumps({"products": [entry, entry]}))
    with pytest.raises(NotFound, match="'payday'"):
        get_product("payday")


def test_tyre_case_pledge_of_31m_gives_a_15_5m_line() -> None:
    limit = credit_limit(get_product("movable_pledge"), LimitEvidence(
        SourceMode.BANK_INSTALLED, cross_verified=False, pledged_value=cny("31000000")))
    assert limit.limit == Money(Decimal("15500000.00"), "CNY")
    assert not limit.capped and limit.haircut_rate == 0
    assert "pledged value CNY 31,000,000.00 x 0.50" in limit.steps[0]


def test_unverified_enterprise_shared_evidence_gets_a_haircut_and_verified_does_not() -> None:
    product = get_product("movable_pledge")
    shared = credit_limit(product, LimitEvidence(SourceMode.ENTERPRISE_SHARED, False, pledged_value=cny("31000000")))
    verified = credit_limit(product, LimitEvidence(SourceMode.ENTERPRISE_SHARED, True, pledged_value=cny("31000000")))
    assert shared.limit.amount == Decimal("10850000.00") and "haircut 0.30" in shared.steps[1]
    assert verified.limit.amount == Decimal("15500000.00")


def test_revenue_based_limit_is_capped_by_policy() -> None:
    product = get_product("digital_manufacturing")
    small = credit_limit(product, LimitEvidence(SourceMode.THIRD_PARTY_PLATFORM, False, verified_revenue=cny("4000000")))
    large = credit_limit(product, LimitEvidence(SourceMode.THIRD_PARTY_PLATFORM, False, verified_revenue=cny("100000000")))
    assert small.limit.amount == Decimal("800000.00") and not small.capped
    assert large.gross.amount == Decimal("20000000.00") and large.limit == product.cap and large.capped


def test_a_limit_without_its_basis_or_in_another_currency_is_refused() -> None:
    with pytest.raises(InvalidInput, match="verified annual revenue is missing"):
        credit_limit(get_product("charging_station"), LimitEvidence(SourceMode.BANK_INSTALLED, True,
                                                                    pledged_value=cny("1000")))
    with pytest.raises(InvalidInput, match="USD"):
        credit_limit(get_product("livestock"), LimitEvidence(SourceMode.BANK_INSTALLED, True,
                                                             pledged_value=Money(Decimal("1e9"), "USD")))


def test_money_refuses_floats_and_bad_currencies() -> None:
    with pytest.raises(InvalidInput, match="float"):
        cny(0.1)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="ISO 4217"):
        Money(Decimal(1), "yuan")
    with pytest.raises(InvalidInput, match="finite Decimal"):
        Money(1.5)  # type: ignore[arg-type]


def test_expected_loss_is_pd_times_lgd_times_ead_in_cents() -> None:
    assert expected_loss(0.02, Decimal("0.35"), cny("15500000")) == cny("108500.00")
    assert expected_loss(Decimal("0.0333"), Decimal("0.6"), cny("1000.01")).amount == Decimal("19.98")
    with pytest.raises(InvalidInput, match="PD 1.5"):
        expected_loss(1.5, Decimal("0.4"), cny("1"))


@pytest.mark.parametrize("pd_value, grade", [(0.0, "AAA"), (0.001, "AAA"), (0.0011, "AA"), (0.01, "BBB"),
                                             (0.07, "CCC"), (0.2, "CC"), (0.21, "C"), (1.0, "C")])
def test_pd_maps_to_grade_bands(pd_value, grade) -> None:
    assert grade_for_pd(pd_value) == grade


def test_grade_refuses_a_pd_outside_0_1() -> None:
    with pytest.raises(InvalidInput, match="-0.1"):
        grade_for_pd(-0.1)


def test_score_to_pd_follows_the_scaling() -> None:
    assert pd_from_score(600, ScoreScaling()) == pytest.approx(1 / 51)


def test_reasons_name_the_costliest_features_in_words(model) -> None:
    breakdown = score_features(model, {"utilization_rate": 0.41, "overdue_invoices": 6})
    reasons = reason_codes(breakdown, EXPLANATIONS, {"utilization_rate": "utilisation"})
    lost = {c.name: c.points_below_best for c in breakdown.contributions}
    assert [r.feature for r in reasons] == sorted(lost, key=lambda name: -lost[name])
    texts = {r.feature: r.text for r in reasons}
    assert texts["utilization_rate"].startswith("utilisation 41% is below the industry median (-")
    assert texts["overdue_invoices"].startswith("6 overdue invoices in the last 12 months")
    assert all(r.points_below_best > 0 for r in reasons)


def test_an_applicant_in_every_best_bin_gets_no_reasons_and_missing_is_said(model) -> None:
    best = score_features(model, {"utilization_rate": 0.99, "overdue_invoices": 0})
    assert reason_codes(best, EXPLANATIONS) == ()
    missing = reason_codes(score_features(model, {"utilization_rate": 0.99}), EXPLANATIONS,
                           {"overdue_invoices": "overdue invoices"})
    assert missing[0].text.startswith("overdue invoices is not reported")


def test_a_template_that_cannot_format_the_value_names_the_feature(model) -> None:
    breakdown = score_features(model, {"utilization_rate": 0.2, "overdue_invoices": 5})
    with pytest.raises(InvalidInput, match="overdue_invoices"):
        reason_codes(breakdown, {"overdue_invoices": "{value:%Y}"})


def test_decision_keeps_model_version_inputs_limit_and_expected_loss(model) -> None:
    evidence = LimitEvidence(SourceMode.BANK_INSTALLED, False, pledged_value=cny("31000000"))
    applicant = {"utilization_rate": 0.95, "overdue_invoices": 0}
    decision = decide(model, get_product("movable_pledge"), applicant, evidence, EXPLANATIONS)
    assert decision.approved and decision.decline_reason is None
    assert decision.model_version == model.version and decision.inputs == applicant
    assert isinstance(decision.limit, CreditLimit) and decision.limit.limit == cny("15500000.00")
    expected = expected_loss(decision.pd, Decimal("0.35"), cny("15500000"))
    assert decision.expected_loss == expected and decision.expected_loss.amount > 0
    assert grade_for_pd(decision.pd) == decision.grade
    record = json.loads(json.dumps(decision.to_dict(), ensure_ascii=False))
    assert record["limit"]["limit"] == "15500000.00" and record["model_version"] == model.version


def test_a_pd_above_the_product_ceiling_is_declined_with_zero_exposure(model) -> None:
    evidence = LimitEvidence(SourceMode.BANK_INSTALLED, False, verified_revenue=cny("5000000"))
    decision = decide(model, get_product("logistics_transport"), {"utilization_rate": 0.02, "overdue_invoices": 9},
                      evidence, EXPLANATIONS)
    assert not decision.approved and decision.limit is None and decision.expected_loss == cny("0.00")
    assert "above the logistics_transport ceiling of 20.00%" in (decision.decline_reason or "")
    assert decision.reasons and decision.model_version == model.version
