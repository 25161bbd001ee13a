"""Decisions: grades, reason codes in words, the product policy (approve / refer / decline, each condition),
limits on evidence with their basis labels (the tyre case), expected loss."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

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
from wuxin.risk.policy import PolicyFacts
from wuxin.risk.products import CONDITIONS, load_products
from wuxin.risk.scorecard import FeatureSpec, ScorecardConfig, ScoreScaling, score_features, train_scorecard
from wuxin.services.bootstrap import product as get_product
from wuxin.services.bootstrap import products as pack_products

EXPLANATIONS = {
    "utilization_rate": "{label} {value:.0%} is below the industry median",
    "overdue_invoices": "{value} overdue invoices in the last 12 months",
}
POLICY = {
    "grades": {"approve": ["AAA", "AA", "A", "BBB", "BB", "B"], "refer": ["CCC"], "decline": ["CC", "C"]},
    "conditions": [{"condition": "iot_coverage_below", "threshold": "0.6", "outcome": "refer"}],
}
CLEAR = PolicyFacts(
    "verified",
    evidence_days=400,
    iot_coverage=1.0,
    missing_features=0,
    scored_features=2,
    open_alarms={},
    devices_installed=10,
    devices_offline=0,
    enterprise_shared_only=False,
)


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(21)
    utilisation = rng.uniform(0, 1, 1500)
    overdue = rng.poisson(1.5, 1500)
    logit = -1.0 - 4.0 * (utilisation - 0.5) + 0.6 * (overdue - 1.5)
    defaults = (rng.random(1500) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame({"utilization_rate": utilisation, "overdue_invoices": overdue})
    specs = (
        FeatureSpec("utilization_rate", trend="descending", label="utilisation"),
        FeatureSpec("overdue_invoices", trend="ascending", label="overdue invoices"),
    )
    return train_scorecard(frame, defaults, ScorecardConfig(specs, name="decisions"))


def test_products_from_the_seeds_are_declared_as_data() -> None:
    products = pack_products()
    names = {p.name_zh for p in products.values()}
    assert names >= {
        "数字贷(智造)",
        "养殖贷",
        "充电站运营贷",
        "动产质押",
        "物流运输经营贷",
    }  # the seeds' five, at least
    assert products["movable_pledge"].pledge_rate == Decimal("0.50")
    assert (
        products["digital_manufacturing"].basis == "revenue" and products["digital_manufacturing"].pledge_rate is None
    )
    assert all(p.cap.currency == "CNY" for p in products.values())


@pytest.mark.parametrize(
    "change, message",
    [
        ({"basis": "hope"}, "basis"),
        ({"pledge_rate": "1.5"}, "within 0-1"),
        ({"cap": 1e6}, "decimal string"),
        ({"cap": "lots"}, "not a number"),
        ({"cap": "0"}, "positive"),
        ({"policy": None}, "policy must be an object"),
        ({"policy": {**POLICY, "grades": {"approve": ["AAA"], "decline": ["C"]}}}, r"leave out \['A', 'AA'"),
        ({"policy": {**POLICY, "grades": {"maybe": ["AAA"]}}}, "'maybe'"),
        (
            {"policy": {**POLICY, "conditions": [{"condition": "moon_phase", "outcome": "refer"}]}},
            "'moon_phase' is unknown",
        ),
        (
            {
                "policy": {
                    **POLICY,
                    "conditions": [{"condition": "iot_coverage_below", "threshold": "60", "outcome": "refer"}],
                }
            },
            "iot_coverage_below threshold must be within 0-1",
        ),
        (
            {
                "policy": {
                    **POLICY,
                    "conditions": [{"condition": "tamper_alarms_open", "threshold": "0.5", "outcome": "refer"}],
                }
            },
            "whole number",
        ),
        (
            {
                "policy": {
                    **POLICY,
                    "conditions": [{"condition": "cross_verification_failed", "threshold": 1, "outcome": "decline"}],
                }
            },
            "takes no threshold",
        ),
        (
            {"policy": {**POLICY, "conditions": [{"condition": "cross_verification_failed", "outcome": "approve"}]}},
            "must refer or decline",
        ),
        ({"basis": "revenue", "revenue_share": "0.2", "unevidenced_revenue": {"action": "guess"}}, "refuse or haircut"),
    ],
)
def test_a_bad_product_file_is_refused_with_the_field(change, message) -> None:
    entry = {
        "code": "p",
        "name_zh": "贷",
        "name_en": "loan",
        "scenario": "logistics",
        "basis": "collateral",
        "pledge_rate": "0.5",
        "cap": "1000",
        "lgd": "0.4",
        "max_pd": "0.2",
        "unverified_haircut": "0.3",
        "policy": POLICY,
    }
    with pytest.raises(InvalidInput, match=message):
        load_products(json.dumps({"products": [{**entry, **change}]}))


def test_repeated_product_codes_and_unknown_products_are_refused() -> None:
    entry = {
        "code": "p",
        "name_zh": "贷",
        "name_en": "loan",
        "scenario": "x",
        "basis": "revenue",
        "revenue_share": "0.2",
        "cap": "1000",
        "lgd": "0.4",
        "max_pd": "0.2",
        "unverified_haircut": "0.3",
        "policy": POLICY,
    }
    with pytest.raises(InvalidInput, match="repeats"):
        load_products(json.dumps({"products": [entry, entry]}))
    with pytest.raises(NotFound, match="'payday'"):
        get_product("payday")


def test_tyre_case_pledge_of_31m_gives_a_15_5m_line() -> None:
    lots = (("质押物 lot:A：...", "lot lot:A (tyres, loan #1): 73809.52 x CNY 600 x (1 - 0.3) = CNY 31,000,000.00"),)
    limit = credit_limit(
        get_product("movable_pledge"), LimitEvidence("verified", pledged_value=cny("31000000"), pledge_lines=lots)
    )
    assert limit.limit == Money(Decimal("15500000.00"), "CNY")
    assert not limit.capped and limit.haircut_rate == 0 and limit.basis_label == "pledge_registry"
    assert limit.steps[0].startswith("lot lot:A (tyres, loan #1)")  # the lots valued come first, in words
    assert "value of the lots in the pledge registry CNY 31,000,000.00 x 0.50" in limit.steps[1]
    assert "押品登记簿中的质押物价值" in limit.steps_zh[1]


def test_collateral_watched_by_unverified_evidence_is_haircut_and_verified_is_not() -> None:
    product = get_product("movable_pledge")
    shared = credit_limit(product, LimitEvidence("supported", pledged_value=cny("31000000")))
    verified = credit_limit(product, LimitEvidence("verified", pledged_value=cny("31000000")))
    assert shared.limit.amount == Decimal("10850000.00") and "haircut 0.30" in shared.steps[-1]
    assert "not verified by an independent source" in shared.steps[-1] and "折扣 0.30" in shared.steps_zh[-1]
    assert verified.limit.amount == Decimal("15500000.00")


def test_revenue_verified_by_an_independent_source_is_labelled_verified_and_takes_the_lesser() -> None:
    limit = credit_limit(get_product("charging_station"), LimitEvidence("verified", cny("5000000"), cny("4000000")))
    assert limit.basis_label == "iot_verified" and limit.basis_amount == cny("4000000") and limit.haircut_rate == 0
    assert limit.limit == cny("1200000.00") and "IoT-verified revenue CNY 4,000,000.00 x 0.30" in limit.steps[1]
    assert (
        "reported annual revenue CNY 5,000,000.00, IoT-evidenced CNY 4,000,000.00: the lower counts" == limit.steps[0]
    )
    lower_reported = credit_limit(
        get_product("charging_station"), LimitEvidence("verified", cny("3000000"), cny("4000000"))
    )
    assert lower_reported.basis_amount == cny("3000000")


def test_revenue_only_supported_by_enterprise_shared_devices_is_labelled_so_and_haircut() -> None:
    limit = credit_limit(get_product("charging_station"), LimitEvidence("supported", cny("4000000"), cny("4000000")))
    assert limit.basis_label == "iot_supported" and limit.haircut_rate == Decimal("0.30")
    assert limit.limit == cny("840000.00")
    assert "not verified" in limit.basis_words[1] and "未验证" in limit.basis_words[0]
    assert not any("IoT-verified" in step for step in limit.steps)


@pytest.mark.parametrize("verification", ["undecided", "failed"])
def test_unevidenced_revenue_is_reported_not_verified_under_the_stated_haircut_or_refused(verification) -> None:
    haircut = credit_limit(get_product("charging_station"), LimitEvidence(verification, cny("4000000"), None))
    assert haircut.basis_label == "reported_unverified" and haircut.basis_words == (
        "申报收入（未经验证）",
        "reported revenue, not verified",
    )
    assert haircut.haircut_rate == Decimal("0.50") and haircut.limit == cny("600000.00")
    assert "reported revenue, not verified CNY 4,000,000.00 x 0.30" in haircut.steps[1]
    refused = credit_limit(get_product("digital_manufacturing"), LimitEvidence(verification, cny("4000000"), None))
    assert refused.refused and refused.limit == cny("0.00") and refused.basis_label == "reported_unverified"
    assert "lends only on IoT-evidenced revenue" in refused.steps[-1] and "申报收入不予授信" in refused.steps_zh[-1]
    assert "digital_manufacturing" not in refused.steps[-1]  # a code in the officer's words (zh said 本产品)


def test_failed_evidence_never_lends_more_than_the_devices_measured() -> None:
    limit = credit_limit(get_product("charging_station"), LimitEvidence("failed", cny("8000000"), cny("4000000")))
    assert limit.basis_label == "reported_unverified" and limit.basis_amount == cny("4000000")


def test_revenue_based_limit_is_capped_by_policy() -> None:
    product = get_product("digital_manufacturing")
    small = credit_limit(product, LimitEvidence("verified", evidenced_revenue=cny("4000000")))
    large = credit_limit(product, LimitEvidence("verified", evidenced_revenue=cny("100000000")))
    assert small.limit.amount == Decimal("800000.00") and not small.capped
    assert large.gross.amount == Decimal("20000000.00") and large.limit == product.cap and large.capped


def test_a_limit_without_its_basis_or_in_another_currency_is_refused() -> None:
    with pytest.raises(InvalidInput, match="neither reported nor evidenced revenue"):
        credit_limit(get_product("charging_station"), LimitEvidence("verified", pledged_value=cny("1000")))
    with pytest.raises(InvalidInput, match="pledge registry value is missing"):
        credit_limit(get_product("livestock"), LimitEvidence("verified", reported_revenue=cny("1000")))
    with pytest.raises(InvalidInput, match="USD"):
        credit_limit(get_product("livestock"), LimitEvidence("verified", pledged_value=Money(Decimal("1e9"), "USD")))


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


@pytest.mark.parametrize(
    "pd_value, grade",
    [(0.0, "AAA"), (0.001, "AAA"), (0.0011, "AA"), (0.01, "BBB"), (0.07, "CCC"), (0.2, "CC"), (0.21, "C"), (1.0, "C")],
)
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
    missing = reason_codes(
        score_features(model, {"utilization_rate": 0.99}), EXPLANATIONS, {"overdue_invoices": "overdue invoices"}
    )
    assert missing[0].text.startswith("overdue invoices is not reported (scored as its worst band)")


def test_a_template_that_cannot_format_the_value_names_the_feature(model) -> None:
    breakdown = score_features(model, {"utilization_rate": 0.2, "overdue_invoices": 5})
    with pytest.raises(InvalidInput, match="overdue_invoices"):
        reason_codes(breakdown, {"overdue_invoices": "{value:%Y}"})


def test_decision_keeps_model_version_inputs_limit_and_expected_loss(model) -> None:
    evidence = LimitEvidence("verified", pledged_value=cny("31000000"))
    applicant = {"utilization_rate": 0.95, "overdue_invoices": 0}
    decision = decide(model, get_product("movable_pledge"), applicant, evidence, CLEAR, EXPLANATIONS)
    assert decision.outcome == "approve" and decision.approved and decision.decline_reason is None
    assert decision.decided_by == () and all(not f.holds for f in decision.findings)
    assert decision.model_version == model.version and decision.inputs == applicant
    assert isinstance(decision.limit, CreditLimit) and decision.limit.limit == cny("15500000.00")
    expected = expected_loss(decision.pd, Decimal("0.35"), cny("15500000"))
    assert decision.expected_loss == expected and decision.expected_loss.amount > 0
    assert grade_for_pd(decision.pd) == decision.grade
    record = json.loads(json.dumps(decision.to_dict(), ensure_ascii=False))
    assert record["limit"]["limit"] == "15500000.00" and record["model_version"] == model.version
    assert record["outcome"] == "approve" and record["limit"]["basis_label"] == "pledge_registry"
    assert {f["code"] for f in record["policy"]} == {"grade_band", "no_limit"} | {
        c.condition for c in get_product("movable_pledge").policy.conditions
    }


def test_a_pd_above_the_product_ceiling_is_declined_with_zero_exposure(model) -> None:
    evidence = LimitEvidence("verified", evidenced_revenue=cny("5000000"))
    decision = decide(
        model,
        get_product("logistics_transport"),
        {"utilization_rate": 0.02, "overdue_invoices": 9},
        evidence,
        CLEAR,
        EXPLANATIONS,
    )
    assert decision.outcome == "decline" and decision.limit is None and decision.expected_loss == cny("0.00")
    assert "above the product's ceiling of 20.00%" in (decision.decline_reason or "")
    assert (
        decision.decided_by[0].code == "pd_above_ceiling" and "高于本产品上限 20.00%" in decision.decided_by[0].text_zh
    )
    assert decision.reasons and decision.model_version == model.version


GOOD = {"utilization_rate": 0.95, "overdue_invoices": 0}


@pytest.mark.parametrize(
    "change, code, outcome, words_en, words_zh",
    [
        (
            {"verification": "failed"},
            "cross_verification_failed",
            "decline",
            "cross-verification failed (the reports exceed what the devices measured)",
            "交叉验证未通过",
        ),
        (
            {"verification": "undecided"},
            "cross_verification_undecided",
            "refer",
            "cross-verification undecided (too little device evidence",
            "交叉验证无法判定",
        ),
        (
            {"evidence_days": 7},
            "evidence_days_below",
            "refer",
            "device evidence spans 7 days, below the product's 180",
            "设备证据覆盖 7 天，低于本产品要求的 180 天",
        ),
        (
            {"iot_coverage": 0.0},
            "iot_coverage_below",
            "refer",
            "IoT coverage 0% below the product's 60%",
            "IoT 覆盖率 0%，低于本产品要求的 60%",
        ),
        (
            {"iot_coverage": None},
            "iot_coverage_below",
            "refer",
            "no reported period to cover: IoT coverage unknown",
            "IoT 覆盖率未知",
        ),
        (
            {"open_alarms": {"device_tamper": 1}},
            "tamper_alarms_open",
            "refer",
            "1 open tamper alarms, more than the product's 0",
            "未解除的防拆报警 1 个",
        ),
        (
            {"open_alarms": {"fabricated_data": 2}},
            "fabricated_data_alarms_open",
            "refer",
            "2 open fabricated-data alarms",
            "疑似造假数据报警 2 个",
        ),
        (
            {"open_alarms": {"clock_skew": 1}},
            "clock_alarms_open",
            "refer",
            "1 open clock alarms",
            "设备时钟偏差报警 1 个",
        ),
        (
            {"devices_offline": 6},
            "devices_offline_above",
            "refer",
            "60% of the devices (6 of 10) sent nothing in the last 7 days, above the product's 50%",
            "近 7 天未上报",
        ),
        (
            {"enterprise_shared_only": True},
            "enterprise_shared_evidence_only",
            "refer",
            "the evidence comes only from enterprise-shared devices",
            "证据仅来自企业共享设备",
        ),
    ],
)
def test_each_policy_condition_decides_in_words_with_the_measured_value_and_threshold(
    model, change, code, outcome, words_en, words_zh
) -> None:
    product = get_product("digital_manufacturing")
    decision = decide(
        model,
        product,
        GOOD,
        LimitEvidence("verified", evidenced_revenue=cny("5000000")),
        replace(CLEAR, **change),
        EXPLANATIONS,
    )
    assert decision.outcome == outcome and not decision.approved
    assert [f.code for f in decision.decided_by] == [code]
    finding = decision.decided_by[0]
    assert words_en in finding.text_en and words_zh in finding.text_zh
    assert (decision.limit is None) == (outcome == "decline")  # a referral keeps the proposed limit for the person
    assert (decision.decline_reason is not None) == (outcome == "decline")


@pytest.mark.parametrize("verification", ["verified", "supported", "failed", "undecided"])
def test_the_two_cross_verification_conditions_never_read_alike_when_one_holds_and_the_other_is_clear(
    model, verification
) -> None:
    """The product lists cross_verification_failed and cross_verification_undecided; the console showed both as
    "交叉验证无法判定…" (one clear, one referring), and a verified borrower's twice as "交叉验证已由独立来源验证"."""
    decision = decide(
        model,
        get_product("digital_manufacturing"),
        GOOD,
        LimitEvidence("verified", evidenced_revenue=cny("5000000")),
        replace(CLEAR, verification=verification),
        EXPLANATIONS,
    )
    cross = {f.code: f for f in decision.findings if f.code.startswith("cross_verification_")}
    assert set(cross) == {"cross_verification_failed", "cross_verification_undecided"}
    assert [c for c, f in cross.items() if f.holds] == [c for c in cross if c.endswith(verification)]
    failed, undecided = cross["cross_verification_failed"], cross["cross_verification_undecided"]
    assert failed.text_zh != undecided.text_zh and failed.text_en != undecided.text_en
    for f in cross.values():  # a clear condition says it is clear, then what was found
        if not f.holds:
            assert f.text_en.startswith(("cross-verification did not fail:", "cross-verification is decided:"))
            assert f.text_zh.startswith(("交叉验证未判定为不通过：", "交叉验证已有结论："))


def test_more_missing_features_than_the_product_allows_is_referred_and_missing_scores_low(model) -> None:
    product = load_products(
        json.dumps(
            {
                "products": [
                    {
                        "code": "p",
                        "name_zh": "贷",
                        "name_en": "loan",
                        "scenario": "x",
                        "basis": "revenue",
                        "revenue_share": "0.2",
                        "cap": "1000000",
                        "lgd": "0.4",
                        "max_pd": "1",
                        "unverified_haircut": "0.3",
                        "policy": {
                            "grades": {
                                "approve": ["AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C"]
                            },  # the grade never decides
                            "conditions": [{"condition": "missing_features_above", "threshold": 1, "outcome": "refer"}],
                        },
                    }
                ]
            }
        )
    )["p"]
    evidence = LimitEvidence("verified", evidenced_revenue=cny("100000"))
    one = decide(model, product, {"utilization_rate": 0.95}, evidence, CLEAR, EXPLANATIONS)
    none = decide(model, product, {}, evidence, CLEAR, EXPLANATIONS)
    assert one.outcome == "approve"  # one missing is within the policy
    assert none.outcome == "refer" and [f.code for f in none.decided_by] == ["missing_features_above"]
    assert "2 of 2 scoring features are missing, more than the product's 1" in none.decided_by[0].text_en
    best = decide(model, product, GOOD, evidence, CLEAR, EXPLANATIONS)
    assert none.score < one.score < best.score  # missing is never average: each missing value costs points


def test_the_strictest_outcome_wins_and_every_finding_asking_it_is_said(model) -> None:
    facts = replace(CLEAR, verification="failed", iot_coverage=0.1, open_alarms={"device_tamper": 3})
    decision = decide(
        model,
        get_product("digital_manufacturing"),
        GOOD,
        LimitEvidence("failed", cny("9000000"), cny("3000000")),
        facts,
        EXPLANATIONS,
    )
    assert decision.outcome == "decline" and [f.code for f in decision.decided_by] == [
        "cross_verification_failed",
        "no_limit",
    ]
    held = {f.code for f in decision.findings if f.holds}
    assert {"iot_coverage_below", "tamper_alarms_open", "cross_verification_failed"} <= held
    refer = decide(
        model,
        get_product("digital_manufacturing"),
        GOOD,
        LimitEvidence("verified", evidenced_revenue=cny("5000000")),
        replace(CLEAR, iot_coverage=0.1, open_alarms={"device_tamper": 3}),
        EXPLANATIONS,
    )
    assert refer.outcome == "refer" and [f.code for f in refer.decided_by] == [
        "iot_coverage_below",
        "tamper_alarms_open",
    ]


def test_a_refused_basis_declines_for_a_zero_limit(model) -> None:
    decision = decide(
        model,
        get_product("digital_manufacturing"),
        GOOD,
        LimitEvidence("undecided", cny("5000000")),
        CLEAR,
        EXPLANATIONS,
    )
    assert decision.outcome == "decline" and decision.decided_by[-1].code == "no_limit"
    assert "lends only on IoT-evidenced revenue" in (decision.decline_reason or "")


def test_grade_bands_come_from_the_product_file() -> None:
    product = get_product("digital_manufacturing")
    assert [product.policy.outcome_of_grade(g) for g in ("AAA", "B", "CCC", "CC", "C")] == [
        "approve",
        "approve",
        "refer",
        "decline",
        "decline",
    ]
    every = {c.condition for p in pack_products().values() for c in p.policy.conditions}
    assert every == set(CONDITIONS)  # every product states every condition (thresholds its own)


def test_a_score_on_mostly_missing_features_refers_instead_of_declining_on_imputed_points(model) -> None:
    """Missing values score their worst bins, so a borrower with no evidence gets a very high PD; that PD
    measures the missing evidence, not the borrower: the application goes to a person."""
    product = load_products(
        json.dumps(
            {
                "products": [
                    {
                        "code": "p",
                        "name_zh": "贷",
                        "name_en": "loan",
                        "scenario": "x",
                        "basis": "revenue",
                        "revenue_share": "0.2",
                        "cap": "1000000",
                        "lgd": "0.4",
                        "max_pd": "0.2",
                        "unverified_haircut": "0.3",
                        "policy": {
                            **POLICY,
                            "conditions": [{"condition": "missing_features_above", "threshold": 1, "outcome": "refer"}],
                        },
                    }
                ]
            }
        )
    )["p"]
    decision = decide(
        model, product, {}, LimitEvidence("verified", evidenced_revenue=cny("100000")), CLEAR, EXPLANATIONS
    )
    assert decision.pd > 0.2 and decision.outcome == "refer"
    assert [f.code for f in decision.decided_by] == ["missing_features_above"]
    ceiling = next(f for f in decision.findings if f.code == "pd_above_ceiling")
    assert not ceiling.holds and ceiling.text_en.endswith("(not decisive: the score rests on mostly missing features)")
    assert decision.limit is not None  # proposed to the person who decides


def test_a_pledged_lot_in_the_limit_steps_reads_as_the_console_says_it() -> None:
    """The officer read '质押物 lot:DEMO-1-R1（…）：157 x CNY 39900.0000 x (1 - 0.3000)' on a zh page."""
    import re

    from wuxin.loans.pledge import Holding, item_value_cny
    from wuxin.services.credit.decisions import lot_line

    lot = Holding("lot:DEMO-1-R1", "sku-R1", Decimal("157.000"), Decimal("39900.0000"), Decimal("0.3000"))
    zh, en = lot_line(lot, 1, item_value_cny(lot))
    assert "批号 DEMO-1-R1" in zh and "Lot DEMO-1-R1" in en and "lot:" not in zh + en
    expected = f"157 x CNY 39,900.00 x (1 - 0.3) = {Money(item_value_cny(lot) or Decimal(0))}"
    assert zh.endswith(expected) and en.endswith(expected) and not re.search(r"[\u4e00-\u9fff]", en)
    tag = Holding("rfid:E280", "sku-T", Decimal(1), None, Decimal(0))
    assert lot_line(tag, 2, None) == (
        "质押物 RFID 标签 E280（sku-T）无价格指数：不计入",
        "RFID tag E280 (sku-T) has no price index: left out",
    )
