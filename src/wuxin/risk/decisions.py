"""Credit decisions as pure functions: score -> PD -> grade, reason codes in words, limits, expected loss.

A `CreditDecision` keeps the model version and the inputs it scored, so it traces back to the
features (and through them to the sensors).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from wuxin.domain.model import SourceMode
from wuxin.errors import InvalidInput
from wuxin.risk.money import Money
from wuxin.risk.products import Product
from wuxin.risk.scorecard import FeaturePoints, ScoreBreakdown, Scorecard, ScoreScaling, score_features


@dataclass(frozen=True)
class GradeBand:
    """A grade covers PDs up to and including `max_pd`."""

    grade: str
    max_pd: float


# PD bands, best first; the last band catches everything up to 100%.
DEFAULT_GRADES: tuple[GradeBand, ...] = (
    GradeBand("AAA", 0.001), GradeBand("AA", 0.0025), GradeBand("A", 0.005), GradeBand("BBB", 0.01),
    GradeBand("BB", 0.025), GradeBand("B", 0.05), GradeBand("CCC", 0.10), GradeBand("CC", 0.20),
    GradeBand("C", 1.0),
)


@dataclass(frozen=True)
class ReasonCode:
    """A factor lowering the score: the feature, its value, the points lost against its best bin, in words."""

    feature: str
    value: Any
    points_below_best: float
    text: str


@dataclass(frozen=True)
class LimitEvidence:
    """What a limit rests on: verified annual revenue or pledged value, and how the evidence arrived."""

    source_mode: SourceMode
    cross_verified: bool
    verified_revenue: Money | None = None  # annual
    pledged_value: Money | None = None


@dataclass(frozen=True)
class CreditLimit:
    """A limit and the steps that produced it, each in words."""

    product_code: str
    basis_amount: Money
    gross: Money
    haircut_rate: Decimal
    capped: bool
    limit: Money
    steps: tuple[str, ...]


@dataclass(frozen=True)
class CreditDecision:
    """One decision: model version, inputs as scored, score, PD, grade, reasons, limit and expected loss."""

    product_code: str
    model_version: str
    inputs: Mapping[str, Any]
    score: float
    pd: float
    grade: str
    reasons: tuple[ReasonCode, ...]
    approved: bool
    decline_reason: str | None
    limit: CreditLimit | None
    expected_loss: Money

    def to_dict(self) -> dict[str, Any]:
        """JSON-able record (money as decimal strings) for storage."""
        limit = None if self.limit is None else {
            "basis_amount": str(self.limit.basis_amount.amount), "gross": str(self.limit.gross.amount),
            "haircut_rate": str(self.limit.haircut_rate), "capped": self.limit.capped,
            "limit": str(self.limit.limit.amount), "currency": self.limit.limit.currency, "steps": list(self.limit.steps)}
        return {
            "product_code": self.product_code, "model_version": self.model_version, "inputs": dict(self.inputs),
            "score": self.score, "pd": self.pd, "grade": self.grade,
            "reasons": [{"feature": r.feature, "value": r.value, "points_below_best": r.points_below_best,
                         "text": r.text} for r in self.reasons],
            "approved": self.approved, "decline_reason": self.decline_reason, "limit": limit,
            "expected_loss": str(self.expected_loss.amount), "currency": self.expected_loss.currency,
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


def reason_codes(breakdown: ScoreBreakdown, explanations: Mapping[str, str] | None = None,
                 labels: Mapping[str, str] | None = None, top: int = 4) -> tuple[ReasonCode, ...]:
    """The `top` features costing most points against their best bin, in words.

    `explanations` maps a feature to a template using {label} and {value}, e.g.
    {"utilization_rate": "utilisation {value:.0%} is below the industry median"}.
    """
    losing = sorted((c for c in breakdown.contributions if c.points_below_best > 1e-9),
                    key=lambda c: (-c.points_below_best, c.name))
    return tuple(_reason(c, explanations or {}, labels or {}) for c in losing[:top])


def credit_limit(product: Product, evidence: LimitEvidence) -> CreditLimit:
    """Base amount x share (revenue) or pledge rate (collateral), haircut if unverified, capped by policy."""
    basis_amount, rate, basis_words = _basis(product, evidence)
    gross = basis_amount.times(rate)
    steps = [f"{basis_words} {basis_amount} x {rate} = {gross}"]
    haircut = _haircut_rate(product, evidence)
    after_haircut = gross.times(Decimal(1) - haircut)
    if haircut:
        steps.append(f"enterprise-shared evidence not cross-verified: haircut {haircut} -> {after_haircut}")
    capped = after_haircut.amount > product.cap.amount
    limit = after_haircut.min(product.cap).cents_down()
    if capped:
        steps.append(f"capped by product policy at {product.cap}")
    return CreditLimit(product.code, basis_amount, gross, haircut, capped, limit, tuple(steps))


def expected_loss(pd: float | Decimal, lgd: Decimal, ead: Money) -> Money:
    """EL = PD x LGD x EAD, rounded to the cent."""
    pd_decimal = pd if isinstance(pd, Decimal) else Decimal(repr(float(pd)))
    if not Decimal(0) <= pd_decimal <= Decimal(1) or not Decimal(0) <= lgd <= Decimal(1):
        raise InvalidInput(f"expected loss needs PD and LGD within 0-1, got PD {pd_decimal} and LGD {lgd}")
    return ead.times(pd_decimal * lgd).cents()


def decide(model: Scorecard, product: Product, features: Mapping[str, Any], evidence: LimitEvidence,
           explanations: Mapping[str, str] | None = None, bands: Sequence[GradeBand] = DEFAULT_GRADES) -> CreditDecision:
    """Score, grade, explain; approve with a limit when PD is within the product's ceiling, else decline."""
    return decide_scored(model, product, score_features(model, features), evidence, explanations, bands)


def decide_scored(model: Scorecard, product: Product, breakdown: ScoreBreakdown, evidence: LimitEvidence,
                  explanations: Mapping[str, str] | None = None,
                  bands: Sequence[GradeBand] = DEFAULT_GRADES) -> CreditDecision:
    """`decide` for a score already computed (e.g. by `wuxin.risk.batch.score_rows` for many at once)."""
    grade = grade_for_pd(breakdown.pd, bands)
    reasons = reason_codes(breakdown, explanations, {f.name: f.label for f in model.features})
    limit = credit_limit(product, evidence)
    decline = _decline_reason(product, breakdown.pd, grade, limit)
    ead = limit.limit if decline is None else Money(Decimal(0), limit.limit.currency)
    return CreditDecision(product.code, breakdown.model_version, breakdown.inputs, breakdown.score, breakdown.pd,
                          grade, reasons, decline is None, decline, limit if decline is None else None,
                          expected_loss(breakdown.pd, product.lgd, ead))


def _reason(contribution: FeaturePoints, explanations: Mapping[str, str], labels: Mapping[str, str]) -> ReasonCode:
    label = labels.get(contribution.name) or contribution.name.replace("_", " ")
    lost = contribution.points_below_best
    if contribution.value is None:
        text = f"{label} is not reported"
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


def _basis(product: Product, evidence: LimitEvidence) -> tuple[Money, Decimal, str]:
    if product.basis == "revenue":
        if evidence.verified_revenue is None or product.revenue_share is None:
            raise InvalidInput(f"product {product.code!r} lends on revenue: verified annual revenue is missing")
        return _positive(evidence.verified_revenue, "verified revenue"), product.revenue_share, "verified revenue"
    if evidence.pledged_value is None or product.pledge_rate is None:
        raise InvalidInput(f"product {product.code!r} lends on collateral: pledged value is missing")
    return _positive(evidence.pledged_value, "pledged value"), product.pledge_rate, "pledged value"


def _positive(amount: Money, what: str) -> Money:
    if amount.amount < 0:
        raise InvalidInput(f"{what} cannot be negative, got {amount}")
    return amount


def _haircut_rate(product: Product, evidence: LimitEvidence) -> Decimal:
    shared = SourceMode(evidence.source_mode) == SourceMode.ENTERPRISE_SHARED
    return product.unverified_haircut if shared and not evidence.cross_verified else Decimal(0)


def _decline_reason(product: Product, pd: float, grade: str, limit: CreditLimit) -> str | None:
    if Decimal(repr(pd)) > product.max_pd:
        return f"PD {pd:.2%} (grade {grade}) is above the {product.code} ceiling of {product.max_pd:.2%}"
    if limit.limit.amount <= 0:
        return f"the {product.code} limit is zero: {'; '.join(limit.steps)}"
    return None
