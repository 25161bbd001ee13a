"""Credit decisions as pure functions: score -> PD -> grade, reason codes in words, the product's policy
(approve / refer / decline, `wuxin.risk.policy`), limits on evidence, expected loss.

A `CreditDecision` keeps the model version and the inputs it scored, so it traces back to the
features (and through them to the sensors).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Literal

from wuxin.errors import InvalidInput
from wuxin.risk.money import Money
from wuxin.risk.policy import (
    VERIFICATION_WORDS,
    Finding,
    PolicyFacts,
    evaluate,
    grade_finding,
    limit_finding,
    strictest,
)
from wuxin.risk.products import Outcome, Product
from wuxin.risk.scorecard import FeaturePoints, ScoreBreakdown, Scorecard, ScoreScaling, score_features


@dataclass(frozen=True)
class GradeBand:
    """A grade covers PDs up to and including `max_pd`."""

    grade: str
    max_pd: float


# PD bands, best first; the last band catches everything up to 100%.
DEFAULT_GRADES: tuple[GradeBand, ...] = (
    GradeBand("AAA", 0.001),
    GradeBand("AA", 0.0025),
    GradeBand("A", 0.005),
    GradeBand("BBB", 0.01),
    GradeBand("BB", 0.025),
    GradeBand("B", 0.05),
    GradeBand("CCC", 0.10),
    GradeBand("CC", 0.20),
    GradeBand("C", 1.0),
)


@dataclass(frozen=True)
class ReasonCode:
    """A factor lowering the score: the feature, its value, the points lost against its best bin, in words."""

    feature: str
    value: Any
    points_below_best: float
    text: str


BasisLabel = Literal["iot_verified", "iot_supported", "reported_unverified", "pledge_registry"]
BASIS_LABELS: dict[str, tuple[str, str]] = {  # zh-CN, en
    "iot_verified": ("IoT 独立来源验证的收入", "IoT-verified revenue"),
    "iot_supported": (
        "IoT 佐证的收入（仅企业共享设备，未验证）",
        "IoT-supported revenue (enterprise-shared devices only, not verified)",
    ),
    "reported_unverified": ("申报收入（未经验证）", "reported revenue, not verified"),
    "pledge_registry": ("押品登记簿中的质押物价值", "value of the lots in the pledge registry"),
}


@dataclass(frozen=True)
class LimitEvidence:
    """What a limit rests on. Revenue: the annual revenue reported and the part IoT evidence supports
    (min of reported and evidenced per period), and how far that evidence is verified. Collateral: the
    value of the lots in the pledge registry, each lot said in words."""

    verification: Literal["verified", "supported", "failed", "undecided"] = "undecided"
    reported_revenue: Money | None = None  # annual
    evidenced_revenue: Money | None = None  # annual, IoT-evidenced
    pledged_value: Money | None = None
    pledge_lines: tuple[tuple[str, str], ...] = ()  # (zh, en) per lot valued, or left out


@dataclass(frozen=True)
class CreditLimit:
    """A limit, its basis and its label, and the steps that produced it, in English and Chinese."""

    product_code: str
    basis_label: BasisLabel
    basis_amount: Money
    gross: Money
    haircut_rate: Decimal
    capped: bool
    limit: Money
    steps: tuple[str, ...]
    steps_zh: tuple[str, ...] = ()
    refused: bool = False  # the product does not lend on this basis

    @property
    def basis_words(self) -> tuple[str, str]:
        return BASIS_LABELS[self.basis_label]


@dataclass(frozen=True)
class CreditDecision:
    """One decision: model version, inputs as scored, score, PD, grade, reasons, the policy's findings,
    the outcome (approve / refer / decline) and the findings that decided it, limit and expected loss."""

    product_code: str
    model_version: str
    inputs: Mapping[str, Any]
    score: float
    pd: float
    grade: str
    reasons: tuple[ReasonCode, ...]
    outcome: Outcome
    decided_by: tuple[Finding, ...]
    findings: tuple[Finding, ...]
    limit: CreditLimit | None  # proposed for approve and refer, none for decline
    expected_loss: Money

    @property
    def approved(self) -> bool:
        return self.outcome == "approve"

    @property
    def decline_reason(self) -> str | None:
        return "; ".join(f.text_en for f in self.decided_by) if self.outcome == "decline" else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able record (money as decimal strings) for storage."""
        limit = (
            None
            if self.limit is None
            else {
                "basis_label": self.limit.basis_label,
                "basis_label_zh": self.limit.basis_words[0],
                "basis_label_en": self.limit.basis_words[1],
                "refused": self.limit.refused,
                "basis_amount": str(self.limit.basis_amount.amount),
                "gross": str(self.limit.gross.amount),
                "haircut_rate": str(self.limit.haircut_rate),
                "capped": self.limit.capped,
                "limit": str(self.limit.limit.amount),
                "currency": self.limit.limit.currency,
                "steps": list(self.limit.steps),
                "steps_zh": list(self.limit.steps_zh),
            }
        )
        return {
            "product_code": self.product_code,
            "model_version": self.model_version,
            "inputs": dict(self.inputs),
            "score": self.score,
            "pd": self.pd,
            "grade": self.grade,
            "reasons": [
                {"feature": r.feature, "value": r.value, "points_below_best": r.points_below_best, "text": r.text}
                for r in self.reasons
            ],
            "outcome": self.outcome,
            "decided_by": [f.to_dict() for f in self.decided_by],
            "policy": [f.to_dict() for f in self.findings],
            "approved": self.approved,
            "decline_reason": self.decline_reason,
            "limit": limit,
            "expected_loss": str(self.expected_loss.amount),
            "currency": self.expected_loss.currency,
        }


def pd_from_score(score: float, scaling: ScoreScaling) -> float:
    """Probability of default implied by a score under the model's scaling."""
    return scaling.pd_from_score(score)


def grade_for_pd(pd: float, bands: Sequence[GradeBand] = DEFAULT_GRADES) -> str:
    """The first band whose `max_pd` is at least `pd`."""
    if not 0.0 <= pd <= 1.0:
        raise InvalidInput(f"probability of default must be within 0-1, got {pd}")
    for band in bands:
        if pd <= band.max_pd:
            return band.grade
    raise InvalidInput(f"no grade band covers PD {pd}: the last band ends at {bands[-1].max_pd}")


def reason_codes(
    breakdown: ScoreBreakdown,
    explanations: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    top: int = 4,
) -> tuple[ReasonCode, ...]:
    """The `top` features costing most points against their best bin, in words.

    `explanations` maps a feature to a template using {label} and {value}, e.g.
    {"utilization_rate": "utilisation {value:.0%} is below the industry median"}.
    """
    losing = sorted(
        (c for c in breakdown.contributions if c.points_below_best > 1e-9), key=lambda c: (-c.points_below_best, c.name)
    )
    return tuple(_reason(c, explanations or {}, labels or {}) for c in losing[:top])


def credit_limit(product: Product, evidence: LimitEvidence) -> CreditLimit:
    """Basis x share (revenue) or pledge rate (collateral), less the haircut the evidence calls for,
    capped by the product. Revenue: the IoT-evidenced revenue (min of reported and evidenced) when a
    check decided it, labelled verified only when an independent source verified it; otherwise the
    product refuses, or takes the reported revenue under its stated haircut, labelled "reported, not
    verified". Collateral: the lots in the pledge registry; unverified monitoring evidence is haircut."""
    label, basis_amount, rate, haircut, steps = _basis(product, evidence)
    zh_label, en_label = BASIS_LABELS[label]
    gross = basis_amount.times(rate)
    en = [*(line for _, line in steps), f"{en_label} {basis_amount} x {rate} = {gross}"]
    zh = [*(line for line, _ in steps), f"{zh_label} {basis_amount} x {rate} = {gross}"]
    refused = (
        label == "reported_unverified" and product.basis == "revenue" and product.unevidenced_revenue.action == "refuse"
    )
    after_haircut = Money(Decimal(0), gross.currency) if refused else gross.times(Decimal(1) - haircut)
    if refused:
        en.append("this product lends only on IoT-evidenced revenue: no limit on reported revenue")  # as zh: 本产品
        zh.append("本产品仅按 IoT 证据支持的收入授信：申报收入不予授信")
    elif haircut:
        why_en, why_zh = _haircut_words(label, evidence)
        en.append(f"{why_en}: haircut {haircut} -> {after_haircut}")
        zh.append(f"{why_zh}：折扣 {haircut} -> {after_haircut}")
    capped = after_haircut.amount > product.cap.amount
    limit = after_haircut.min(product.cap).cents_down()
    if capped:
        en.append(f"capped by product policy at {product.cap}")
        zh.append(f"按产品政策封顶 {product.cap}")
    return CreditLimit(
        product.code,
        label,
        basis_amount,
        gross,
        Decimal(0) if refused else haircut,
        capped,
        limit,
        tuple(en),
        tuple(zh),
        refused,
    )


def expected_loss(pd: float | Decimal, lgd: Decimal, ead: Money) -> Money:
    """EL = PD x LGD x EAD, rounded to the cent."""
    pd_decimal = pd if isinstance(pd, Decimal) else Decimal(repr(float(pd)))
    if not Decimal(0) <= pd_decimal <= Decimal(1) or not Decimal(0) <= lgd <= Decimal(1):
        raise InvalidInput(f"expected loss needs PD and LGD within 0-1, got PD {pd_decimal} and LGD {lgd}")
    return ead.times(pd_decimal * lgd).cents()


def decide(
    model: Scorecard,
    product: Product,
    features: Mapping[str, Any],
    evidence: LimitEvidence,
    facts: PolicyFacts,
    explanations: Mapping[str, str] | None = None,
    bands: Sequence[GradeBand] = DEFAULT_GRADES,
) -> CreditDecision:
    """Score, grade, explain, then apply the product's policy: approve, refer to a person or decline."""
    return decide_scored(model, product, score_features(model, features), evidence, facts, explanations, bands)


def decide_scored(
    model: Scorecard,
    product: Product,
    breakdown: ScoreBreakdown,
    evidence: LimitEvidence,
    facts: PolicyFacts,
    explanations: Mapping[str, str] | None = None,
    bands: Sequence[GradeBand] = DEFAULT_GRADES,
) -> CreditDecision:
    """`decide` for a score already computed (e.g. by `wuxin.risk.batch.score_rows` for many at once).

    The facts' missing-feature count is taken from the breakdown (what was scored as missing). When more
    features are missing than the product allows, the score (its missing values at their worst bins) does
    not decide: the application goes to a person for lack of evidence, not to a decline on imputed points."""
    grade = grade_for_pd(breakdown.pd, bands)
    reasons = reason_codes(breakdown, explanations, {f.name: f.label for f in model.features})
    limit = credit_limit(product, evidence)
    missing = sum(1 for c in breakdown.contributions if c.value is None)
    facts = replace(facts, missing_features=missing, scored_features=len(breakdown.contributions))
    conditions = evaluate(product, facts)
    mostly_missing = any(f.code == "missing_features_above" and f.holds for f in conditions)
    why = 0 if not limit.refused else -1  # what explains a zero limit: the refusal, else the basis
    findings = [
        grade_finding(product, grade, breakdown.pd, decisive=not mostly_missing),
        *conditions,
        limit_finding(limit.limit.amount, limit.steps_zh[why] if limit.steps_zh else "", limit.steps[why]),
    ]
    outcome, decided_by = strictest(findings)
    kept = None if outcome == "decline" else limit
    ead = kept.limit if kept is not None else Money(Decimal(0), limit.limit.currency)
    return CreditDecision(
        product.code,
        breakdown.model_version,
        breakdown.inputs,
        breakdown.score,
        breakdown.pd,
        grade,
        reasons,
        outcome,
        tuple(decided_by),
        tuple(findings),
        kept,
        expected_loss(breakdown.pd, product.lgd, ead),
    )


def _reason(contribution: FeaturePoints, explanations: Mapping[str, str], labels: Mapping[str, str]) -> ReasonCode:
    label = labels.get(contribution.name) or contribution.name.replace("_", " ")
    lost = contribution.points_below_best
    if contribution.value is None:
        text = f"{label} is not reported (scored as its worst band)"
    elif contribution.name in explanations:
        text = _fill(contribution.name, explanations[contribution.name], label, contribution.value)
    else:
        text = f"{label} {contribution.value} falls in a weaker band"
    return ReasonCode(contribution.name, contribution.value, lost, f"{text} (-{lost:.0f} points)")


def _fill(feature: str, template: str, label: str, value: Any) -> str:
    try:
        return template.format(label=label, value=value)
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        raise InvalidInput(f"explanation for {feature!r} cannot format value {value!r}: {template!r} ({exc})") from exc


def _basis(
    product: Product, evidence: LimitEvidence
) -> tuple[BasisLabel, Money, Decimal, Decimal, list[tuple[str, str]]]:
    """(label, basis amount, share or pledge rate, haircut, steps before the product of basis and rate)."""
    if product.basis == "collateral":
        if evidence.pledged_value is None or product.pledge_rate is None:
            raise InvalidInput(f"product {product.code!r} lends on collateral: the pledge registry value is missing")
        haircut = Decimal(0) if evidence.verification == "verified" else product.unverified_haircut
        return (
            "pledge_registry",
            _positive(evidence.pledged_value, "pledged value"),
            product.pledge_rate,
            haircut,
            list(evidence.pledge_lines),
        )
    if product.revenue_share is None:
        raise InvalidInput(f"product {product.code!r} lends on revenue but states no revenue_share")
    reported, evidenced = evidence.reported_revenue, evidence.evidenced_revenue
    if evidenced is not None and evidence.verification in ("verified", "supported"):
        basis = evidenced if reported is None else evidenced.min(reported)
        steps = (
            []
            if reported is None
            else [
                (
                    f"申报年收入 {reported}，IoT 证据支持 {evidenced}：取较低者",
                    f"reported annual revenue {reported}, IoT-evidenced {evidenced}: the lower counts",
                )
            ]
        )
        if evidence.verification == "verified":
            return "iot_verified", _positive(basis, "revenue"), product.revenue_share, Decimal(0), steps
        return "iot_supported", _positive(basis, "revenue"), product.revenue_share, product.unverified_haircut, steps
    if evidenced is not None:
        basis = evidenced if reported is None else evidenced.min(reported)
    elif reported is not None:
        basis = reported
    else:
        raise InvalidInput(
            f"product {product.code!r} lends on revenue: neither reported nor evidenced revenue is known"
        )
    zh, en = _verification_words(evidence.verification)
    return (
        "reported_unverified",
        _positive(basis, "revenue"),
        product.revenue_share,
        product.unevidenced_revenue.haircut,
        [(f"交叉验证{zh}", f"cross-verification {en}")],
    )


def _verification_words(verification: str) -> tuple[str, str]:
    return VERIFICATION_WORDS[verification]


def _haircut_words(label: BasisLabel, evidence: LimitEvidence) -> tuple[str, str]:
    if label == "iot_supported":
        return (
            "evidence from enterprise-shared devices only supports the revenue, it does not verify it",
            "证据仅来自企业共享设备，只能佐证、不能验证收入",
        )
    if label == "reported_unverified":
        return "reported revenue not verified by IoT evidence", "申报收入未经 IoT 证据验证"
    zh, en = _verification_words(evidence.verification)
    return (
        f"the monitoring evidence is not verified by an independent source (cross-verification {en})",
        f"监控证据未经独立来源验证（交叉验证{zh}）",
    )


def _positive(amount: Money, what: str) -> Money:
    if amount.amount < 0:
        raise InvalidInput(f"{what} cannot be negative, got {amount}")
    return amount
