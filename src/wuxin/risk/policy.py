"""Decision policy (pure): a product's grade bands and conditions evaluated into findings in words.

Every condition of the product (`products.json`, `policy.conditions`) is evaluated on `PolicyFacts`
into a `Finding`: whether it holds, the measured value against the threshold, and zh-CN and English
text ("IoT coverage 0% is below the product's 60%"). The grade gives the band's outcome; the PD
ceiling and a zero limit decline. The decision is the strictest outcome asked (decline > refer >
approve), and the findings that asked for it are the ones that decided it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from wuxin.risk.products import OUTCOMES, Condition, Outcome, Product

Verification = Literal["verified", "supported", "failed", "undecided"]
ALARMS = {
    "tamper_alarms_open": "device_tamper",
    "fabricated_data_alarms_open": "fabricated_data",
    "clock_alarms_open": "clock_skew",
}
ALARM_WORDS = {
    "device_tamper": ("防拆报警", "tamper alarms"),
    "fabricated_data": ("疑似造假数据报警", "fabricated-data alarms"),
    "clock_skew": ("设备时钟偏差报警", "clock alarms"),
}
VERIFICATION_WORDS = {
    "verified": ("已由独立来源验证", "verified by an independent source"),
    "supported": ("仅有企业共享设备佐证，未验证", "supported by enterprise-shared devices only, not verified"),
    "failed": ("未通过（申报数据高于设备实测）", "failed (the reports exceed what the devices measured)"),
    "undecided": (
        "无法判定（申报期间设备证据不足）",
        "undecided (too little device evidence over the reported periods)",
    ),
}


@dataclass(frozen=True)
class PolicyFacts:
    """What the policy conditions are measured on, as of the decision."""

    verification: Verification
    evidence_days: int  # days from the first day with device evidence to the as-of day (0: none)
    iot_coverage: float | None  # share of the latest reported periods' days the devices covered; None: nothing reported
    missing_features: int
    scored_features: int
    open_alarms: Mapping[str, int] = field(default_factory=dict)  # alarm type -> open (active or acknowledged)
    devices_installed: int = 0
    devices_offline: int = 0  # installed but silent for the last 7 days
    enterprise_shared_only: bool = False  # no independent source behind the evidence


@dataclass(frozen=True)
class Finding:
    """One rule evaluated: does it hold, what it asks for then, measured against what, in words."""

    code: str
    outcome: Outcome  # what it asks for when it holds
    holds: bool
    measured: Any
    threshold: Any
    text_zh: str
    text_en: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "outcome": self.outcome,
            "holds": self.holds,
            "measured": _plain(self.measured),
            "threshold": _plain(self.threshold),
            "text_zh": self.text_zh,
            "text_en": self.text_en,
        }


def evaluate(product: Product, facts: PolicyFacts) -> list[Finding]:
    """Every condition of the product's policy, in the order the product lists them."""
    return [_EVALUATORS[c.condition](c, facts) for c in product.policy.conditions]


def grade_finding(product: Product, grade: str, pd: float, decisive: bool = True) -> Finding:
    """The grade band's outcome, declined outright above the product's PD ceiling. Not `decisive` when the
    score rests on mostly missing features: then it is said but does not hold."""
    note_zh, note_en = (
        ("", "")
        if decisive
        else ("（评分主要基于缺失特征，不作为决定依据）", " (not decisive: the score rests on mostly missing features)")
    )
    if Decimal(repr(pd)) > product.max_pd:
        return Finding(
            "pd_above_ceiling",
            "decline",
            decisive,
            pd,
            product.max_pd,
            f"违约概率 {pd:.2%}（等级 {grade}）高于本产品上限 {product.max_pd:.2%}{note_zh}",
            f"PD {pd:.2%} (grade {grade}) is above the product's ceiling of {product.max_pd:.2%}{note_en}",
        )
    outcome = product.policy.outcome_of_grade(grade)
    zh = {"approve": "可批准", "refer": "须人工审批", "decline": "拒绝"}[outcome]
    en = {"approve": "approves", "refer": "refers to a person", "decline": "declines"}[outcome]
    return Finding(
        "grade_band",
        outcome,
        decisive and outcome != "approve",
        grade,
        [g for g, o in product.policy.grade_outcomes if o == outcome],
        f"等级 {grade}：本产品对该等级{zh}{note_zh}",
        f"grade {grade}: the product {en} at this grade{note_en}",
    )


def limit_finding(limit_amount: Decimal, why_zh: str, why_en: str) -> Finding:
    """A limit of zero declines: there is nothing to lend on."""
    zero = limit_amount <= 0
    return Finding(
        "no_limit",
        "decline",
        zero,
        str(limit_amount),
        "0",
        f"额度为零：{why_zh}" if zero else "额度大于零",
        f"the limit is zero: {why_en}" if zero else "the limit is above zero",
    )


def strictest(findings: Sequence[Finding]) -> tuple[Outcome, list[Finding]]:
    """The strictest outcome asked by a finding that holds (approve when none does) and the findings asking it."""
    asked = [f for f in findings if f.holds]
    outcome: Outcome = max((f.outcome for f in asked), key=OUTCOMES.index, default="approve")
    return outcome, [f for f in asked if f.outcome == outcome]


def _cross_failed(c: Condition, facts: PolicyFacts) -> Finding:
    return _cross(c, facts, "failed", ("交叉验证未判定为不通过", "cross-verification did not fail"))


def _cross_undecided(c: Condition, facts: PolicyFacts) -> Finding:
    return _cross(c, facts, "undecided", ("交叉验证已有结论", "cross-verification is decided"))


def _cross(c: Condition, facts: PolicyFacts, asked: Verification, clear: tuple[str, str]) -> Finding:
    """The verification is `asked`: the condition holds, said as the verification; otherwise it is clear, said as
    what it asks about and the verification it found (two conditions once both read "cross-verification undecided",
    one held and one clear)."""
    zh, en = VERIFICATION_WORDS[facts.verification]
    holds = facts.verification == asked
    return Finding(
        c.condition,
        c.outcome,
        holds,
        facts.verification,
        asked,
        f"交叉验证{zh}" if holds else f"{clear[0]}：{zh}",
        f"cross-verification {en}" if holds else f"{clear[1]}: {en}",
    )


def _evidence_days(c: Condition, facts: PolicyFacts) -> Finding:
    need = int(c.threshold or 0)
    holds = facts.evidence_days < need
    return Finding(
        c.condition,
        c.outcome,
        holds,
        facts.evidence_days,
        need,
        f"设备证据覆盖 {facts.evidence_days} 天，{'低于' if holds else '达到'}本产品要求的 {need} 天",
        f"device evidence spans {facts.evidence_days} days, {'below' if holds else 'meeting'} the product's {need}",
    )


def _coverage(c: Condition, facts: PolicyFacts) -> Finding:
    need = float(c.threshold or 0)
    if facts.iot_coverage is None:
        return Finding(
            c.condition,
            c.outcome,
            True,
            None,
            need,
            f"没有可核对的申报期间，IoT 覆盖率未知（本产品要求 {need:.0%}）",
            f"no reported period to cover: IoT coverage unknown (the product needs {need:.0%})",
        )
    holds = facts.iot_coverage < need
    return Finding(
        c.condition,
        c.outcome,
        holds,
        facts.iot_coverage,
        need,
        f"IoT 覆盖率 {facts.iot_coverage:.0%}，{'低于' if holds else '达到'}本产品要求的 {need:.0%}",
        f"IoT coverage {facts.iot_coverage:.0%} {'below' if holds else 'meets'} the product's {need:.0%}",
    )


def _missing(c: Condition, facts: PolicyFacts) -> Finding:
    most = int(c.threshold or 0)
    holds = facts.missing_features > most
    return Finding(
        c.condition,
        c.outcome,
        holds,
        facts.missing_features,
        most,
        f"{facts.scored_features} 项评分特征缺失 {facts.missing_features} 项，{'超过' if holds else '未超过'}本产品允许的 {most} 项"
        "（缺失按最差分箱计分）",
        f"{facts.missing_features} of {facts.scored_features} scoring features are missing, "
        f"{'more than' if holds else 'within'} the product's {most} (missing scores as the worst bin)",
    )


def _alarm(c: Condition, facts: PolicyFacts) -> Finding:
    kind = ALARMS[c.condition]
    count, most = int(facts.open_alarms.get(kind, 0)), int(c.threshold or 0)
    zh, en = ALARM_WORDS[kind]
    holds = count > most
    return Finding(
        c.condition,
        c.outcome,
        holds,
        count,
        most,
        f"未解除的{zh} {count} 个，{'超过' if holds else '未超过'}本产品允许的 {most} 个",
        f"{count} open {en}, {'more than' if holds else 'within'} the product's {most}",
    )


def _offline(c: Condition, facts: PolicyFacts) -> Finding:
    most = float(c.threshold or 0)
    if facts.devices_installed <= 0:
        return Finding(c.condition, c.outcome, True, None, most, "没有安装任何设备", "no device is installed")
    share = facts.devices_offline / facts.devices_installed
    holds = share > most
    return Finding(
        c.condition,
        c.outcome,
        holds,
        share,
        most,
        f"{share:.0%} 的设备（{facts.devices_offline}/{facts.devices_installed}）近 7 天未上报，"
        f"{'高于' if holds else '未高于'}本产品允许的 {most:.0%}",
        f"{share:.0%} of the devices ({facts.devices_offline} of {facts.devices_installed}) sent nothing in the last "
        f"7 days, {'above' if holds else 'within'} the product's {most:.0%}",
    )


def _shared_only(c: Condition, facts: PolicyFacts) -> Finding:
    holds = facts.enterprise_shared_only
    return Finding(
        c.condition,
        c.outcome,
        holds,
        holds,
        False,
        "证据仅来自企业共享设备（无银行安装或第三方平台来源）" if holds else "证据包含独立来源（银行安装或第三方平台）",
        "the evidence comes only from enterprise-shared devices (no bank-installed or third-party source)"
        if holds
        else "the evidence includes an independent source (bank-installed or third-party)",
    )


_EVALUATORS: dict[str, Callable[[Condition, PolicyFacts], Finding]] = {
    "cross_verification_failed": _cross_failed,
    "cross_verification_undecided": _cross_undecided,
    "evidence_days_below": _evidence_days,
    "iot_coverage_below": _coverage,
    "missing_features_above": _missing,
    "tamper_alarms_open": _alarm,
    "fabricated_data_alarms_open": _alarm,
    "clock_alarms_open": _alarm,
    "devices_offline_above": _offline,
    "enterprise_shared_evidence_only": _shared_only,
}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return round(value, 6)
    return value
