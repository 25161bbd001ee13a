"""Messages a person reads, as a code plus parameters, rendered in zh-CN or English from one catalogue (pure).

Cross-verification findings: each check result carries `finding_code` (its status, or `no_evidence`) and
`finding_params` (the numbers behind it and where its evidence came from); `render_finding` turns them into a
sentence in either language, and GET /api/v1/labels serves the templates (kinds `check` and `finding`) so any
client can render them too. Reason codes: a decision's reasons carry the feature and its value; `reason_text`
says them in either language from features.EXPLANATIONS / EXPLANATIONS_ZH, the one place their words live.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wuxin.risk.features import (
    EXPLANATIONS,
    EXPLANATIONS_ZH,
    EXTRA_FEATURE_LABELS_EN,
    FEATURE_LABELS_ZH,
    IOT_FEATURES,
    STATEMENT_FEATURES,
)
from wuxin.risk.pv_messages import PV_FINDING_TEMPLATES, render_pv_finding

Lang = str  # "zh" (zh-CN) or "en"
FEATURE_LABELS_EN = {f.name: f.label for f in IOT_FEATURES + STATEMENT_FEATURES} | EXTRA_FEATURE_LABELS_EN

# Each check's name, the reported figure it checks and the evidence that must support it, (zh, en): declared by the
# scenario packs (checks.json `words`) and made known here by the composition (wuxin.services.bootstrap).
CHECK_WORDS: dict[str, dict[str, tuple[str, str]]] = {}


def know_check_words(words: Mapping[str, Mapping[str, tuple[str, str]]]) -> None:
    """Add the packs' check words (check -> name / what / evidence -> (zh, en)) to the catalogue."""
    CHECK_WORDS.update({check: dict(w) for check, w in words.items()})


# Templates, (zh, en). {said} and {basis} are themselves templates filled first; the others are formatted values.
FINDING_TEMPLATES: dict[str, tuple[str, str]] = {
    "said": ("申报的 {period} {what} {reported}", "reported {period} {what} {reported}"),
    "basis": ("按 {known_days}/{days} 天的设备数据推算为 {evidenced}", "{evidenced} over {known_days} of {days} days"),
    "consistent": (
        "{said}，与{evidence}一致（比值 {ratio}，在容差 {tolerance} 以内；{basis}）",
        "{said} agrees with {evidence} (ratio {ratio} within {tolerance}; {basis})",
    ),
    "overstated": (
        "{said}，是{evidence}所支持数值的 {ratio} 倍（{basis}；容差 {tolerance}）",
        "{said} is {ratio}x what {evidence} support ({basis}; tolerance {tolerance})",
    ),
    "understated": (
        "{said}，仅为{evidence}所支持数值的 {ratio} 倍（{basis}）：少报，或动用库存销售",
        "{said} is only {ratio}x what {evidence} support ({basis}): under-reported or sold from stock",
    ),
    "insufficient_evidence": (
        "{said}，无法核对：{evidence}仅覆盖了 {coverage} 的天数（{basis}）",
        "{said} cannot be checked: {evidence} covered only {coverage} of the days ({basis})",
    ),
    "no_evidence": (
        "{said}，无法核对：{evidence}仅覆盖了 {coverage} 的天数",
        "{said} cannot be checked: {evidence} covered only {coverage} of the days",
    ),
    # where the evidence came from, appended to the finding
    "evidence_verified_devices": (
        "；证据来源：{sources}：由独立设备验证",
        "; evidence from {sources}: verified by independent devices",
    ),
    "evidence_verified_figure": (
        "；证据来源：{sources}：由{figure_source}数据验证",
        "; evidence from {sources}: verified by {figure_source} figure",
    ),
    "evidence_supported": (
        "；证据来源：{sources}：仅为佐证，未经验证（无独立来源）",
        "; evidence from {sources}: supported only, not verified (no independent source)",
    ),
    "evidence_from": ("；证据来源：{sources}", "; evidence from {sources}"),
}
# How a check's tolerance was measured (a tooltip): over the firm's periods, or the prior before it has enough.
TOLERANCE_TEMPLATES: dict[str, tuple[str, str]] = {
    "measured": (
        "按 {periods} 个期间测得的对数比值离散度 {between}，抽样误差 {sample}",
        "dispersion of ln(ratio) over {periods} periods {between}, sampling {sample}",
    ),
    "prior": (
        "先验离散度 {between}（已测期间少于 {min_periods} 个），抽样误差 {sample}",
        "prior dispersion {between} (fewer than {min_periods} periods measured), sampling {sample}",
    ),
}
FINDING_CODES = ("consistent", "overstated", "understated", "insufficient_evidence", "no_evidence")
PROVENANCE_CODES = ("evidence_verified_devices", "evidence_verified_figure", "evidence_supported", "evidence_from")
SOURCE_WORDS = {
    "bank_installed": ("银行自装", "bank-installed"),
    "third_party_platform": ("第三方平台", "third-party-platform"),
    "enterprise_shared": ("企业共享", "enterprise-shared"),
    "unknown": ("来源不明", "unknown"),
}
FIGURE_SOURCE_WORDS = {
    "bank": ("银行", "a bank"),
    "third_party": ("第三方", "a third-party"),
    "enterprise_reported": ("企业申报", "an enterprise-reported"),
}
UNIT_WORDS = {
    "CNY": ("元", "CNY"),
    "units": ("件", "units"),
    "kWh": ("kWh", "kWh"),
    "km": ("km", "km"),
    "kg": ("kg", "kg"),
}


def _pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[1] if lang == "en" else pair[0]


def amount(value: float | None, unit: str, lang: Lang) -> str:
    """An amount as a reader of `lang` writes it: CNY 2.21M / 221.00 万元, 1,234 kWh."""
    if value is None:
        return "unknown" if lang == "en" else "未知"
    if unit == "CNY":
        if lang == "en":
            return f"CNY {value / 1e6:,.2f}M" if abs(value) >= 1e6 else f"CNY {value:,.0f}"
        return f"{value / 1e4:,.2f} 万元" if abs(value) >= 1e4 else f"{value:,.0f} 元"
    return f"{value:,.0f} {_pick(UNIT_WORDS.get(unit, (unit, unit)), lang)}"


def render_finding(code: str, params: Mapping[str, Any], lang: Lang) -> str:
    """A cross-verification finding in `lang` ("zh" or "en") from its code and parameters."""
    if code in PV_FINDING_TEMPLATES:  # the PV checks word their own bounds (risk/pv_sales.py)
        return render_pv_finding(code, params, lang) + _provenance_text(params, lang)
    words = CHECK_WORDS.get(params.get("check", ""), {})
    unit = params.get("unit", "")
    ratio = params.get("ratio")
    values = {
        "period": params.get("period", ""),
        "what": _pick(words.get("what", (params.get("check", ""),) * 2), lang),
        "evidence": _pick(words.get("evidence", (params.get("indicator", ""),) * 2), lang),
        "reported": amount(params.get("reported"), unit, lang),
        "evidenced": amount(params.get("evidenced"), unit, lang),
        "known_days": params.get("known_days", 0),
        "days": params.get("days", 0),
        "coverage": f"{float(params.get('coverage') or 0):.0%}",
        "ratio": "" if ratio is None else f"{ratio:.1f}" if code == "overstated" else f"{ratio:.2f}",
        "tolerance": f"{float(params.get('tolerance') or 0):.2f}",
    }
    values["said"] = _pick(FINDING_TEMPLATES["said"], lang).format(**values)
    values["basis"] = _pick(FINDING_TEMPLATES["basis"], lang).format(**values)
    return _pick(FINDING_TEMPLATES[code], lang).format(**values) + _provenance_text(params, lang)


def _provenance_text(params: Mapping[str, Any], lang: Lang) -> str:
    """Where a finding's evidence came from, in `lang`, appended to it ("" when it had none)."""
    provenance = params.get("provenance")
    if not provenance:
        return ""
    shares = sorted((params.get("sources") or {}).items(), key=lambda x: -x[1])
    sep = "、" if lang != "en" else ", "
    sources = sep.join(f"{_pick(SOURCE_WORDS.get(m, (m, m)), lang)} {s:.0%}" for m, s in shares)
    figure = _pick(
        FIGURE_SOURCE_WORDS.get(params.get("figure_source", ""), (params.get("figure_source", ""),) * 2), lang
    )
    return _pick(FINDING_TEMPLATES[provenance], lang).format(sources=sources, figure_source=figure)


def tolerance_basis(periods: int, between: float, sample: float, min_periods: int, lang: Lang) -> str:
    """How a tolerance was measured, in `lang`: over `periods` of the firm's periods (0: the prior)."""
    template = _pick(TOLERANCE_TEMPLATES["measured" if periods else "prior"], lang)
    return template.format(periods=periods, between=f"{between:.3f}", sample=f"{sample:.3f}", min_periods=min_periods)


def finding_texts(code: str, params: Mapping[str, Any]) -> dict[str, str]:
    """The finding, and how its tolerance was measured when the parameters say, in zh-CN and English."""
    texts = {"finding_zh": render_finding(code, params, "zh"), "finding_en": render_finding(code, params, "en")}
    if "sigma_between" in params:
        periods, between = params.get("periods") or 0, params["sigma_between"]
        sample, min_periods = params.get("sigma_sample") or 0.0, params.get("min_periods") or 0
        texts |= {
            "tolerance_basis_zh": tolerance_basis(periods, between, sample, min_periods, "zh"),
            "tolerance_basis_en": tolerance_basis(periods, between, sample, min_periods, "en"),
        }
    return texts


def reason_text(reason: Mapping[str, Any], lang: Lang) -> str:
    """A decision's reason (feature, value, points below the best band) in `lang`, from the features' templates:
    English is the stored `text` when the reason has one (it was said with the model's own labels)."""
    feature, value = str(reason.get("feature", "")), reason.get("value")
    points = f"{float(reason.get('points_below_best') or 0):.0f}"
    if lang == "en" and reason.get("text"):
        return str(reason["text"])
    label = (FEATURE_LABELS_EN if lang == "en" else FEATURE_LABELS_ZH).get(feature, feature)
    template = (EXPLANATIONS if lang == "en" else EXPLANATIONS_ZH).get(feature)
    if value is None or template is None:
        words = (
            f"{label} is not reported (scored as its worst band)" if lang == "en" else f"{label}未报告（按最差档计分）"
        )
    else:
        try:
            words = template.format(value=value)
        except (ValueError, TypeError):
            words = f"{label} {value}"
    return f"{words} (-{points} points)" if lang == "en" else f"{words}（−{points} 分）"


def reason_texts(reason: Mapping[str, Any]) -> dict[str, str]:
    return {"text_zh": reason_text(reason, "zh"), "text_en": reason_text(reason, "en")}
