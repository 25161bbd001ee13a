"""The PV cross-checks' words (risk/pv_sales.py): check names and findings in zh-CN and English, rendered from a
finding's code and parameters. Kept apart from pv_sales so that risk/messages.py can render every finding without an
import loop (messages <- crossverify <- pv_sales)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FEED_IN, REVENUE = "feed_in_vs_generation", "pv_revenue_vs_generation"
PV_CHECK_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    FEED_IN: {
        "name": ("上网电量对逆变器发电量", "feed-in vs generation"),
        "what": ("上网结算电量", "grid feed-in"),
        "evidence": ("逆变器计量的发电量", "the inverters' metered generation"),
    },
    REVENUE: {
        "name": ("收入对发电量乘电价", "revenue vs generation x tariff"),
        "what": ("营业收入", "revenue"),
        "evidence": ("逆变器计量发电量乘电价", "the inverters' metered generation x tariff"),
    },
}
PV_FINDING_TEMPLATES: dict[str, tuple[str, str]] = {
    "pv_bound": (
        "容差 {tolerance} = 计量 {meter} (电网表 {meter_class}% + 逆变器 {inverter}%) x 抄表日错位 ±{shift_days} 天 {timing}"
        " x 电价 {tariff_part} x 缺测推算 {sampling}; 弃光与线损只会使售电量偏低",
        "tolerance {tolerance} = metering {meter} (grid meter {meter_class}% + inverters {inverter}%) x billing "
        "period off by up to {shift_days} days {timing} x tariff {tariff_part} x gaps {sampling}; curtailment "
        "and losses only lower the sales",
    ),
    "pv_consistent": (
        "申报的 {period} {what} {reported}，与{evidence}相符（比值 {ratio}，不超过 {tolerance}；{basis}）",
        "reported {period} {what} {reported} agrees with {evidence} (ratio {ratio}, at most {tolerance}; {basis})",
    ),
    "pv_overstated": (
        "申报的 {period} {what} {reported}，是{evidence}的 {ratio} 倍，超出物理上限（{basis}）",
        "reported {period} {what} {reported} is {ratio}x {evidence}, above what the plant can have sold ({basis})",
    ),
    "pv_understated": (
        "申报的 {period} {what} {reported}，仅为{evidence}的 {ratio} 倍（{basis}）：自用、线损、弃光或少报",
        "reported {period} {what} {reported} is only {ratio}x {evidence} ({basis}): own use, losses, "
        "curtailment or under-reporting",
    ),
    "pv_insufficient_evidence": (
        "申报的 {period} {what} {reported}，无法核对：{evidence}仅覆盖了 {coverage} 的天数",
        "reported {period} {what} {reported} cannot be checked: {evidence} covered only {coverage} of the days",
    ),
    "pv_basis": (
        "按 {known_days}/{days} 天的设备数据推算为 {evidenced}；{bound}{unbilled}",
        "{evidenced} over {known_days} of {days} days; {bound}{unbilled}",
    ),
    "pv_unbilled": (
        "；含此前未出账的 {unbilled_days} 天（补开账单）",
        "; with the {unbilled_days} unbilled days before it (a catch-up bill)",
    ),
    "pv_tariff_bills": ("电网账单电价 {tariff} 元/kWh", "billed tariff CNY {tariff}/kWh"),
    "pv_tariff_declared": ("申报电价 {tariff} 元/kWh", "declared tariff CNY {tariff}/kWh"),
}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def _amount(value: float | None, unit: str, lang: str) -> str:
    if value is None:
        return "unknown" if lang == "en" else "未知"
    if unit == "CNY":
        if lang == "en":
            return f"CNY {value / 1e6:,.2f}M" if abs(value) >= 1e6 else f"CNY {value:,.0f}"
        return f"{value / 1e4:,.2f} 万元" if abs(value) >= 1e4 else f"{value:,.0f} 元"
    return f"{value:,.0f} kWh"


def render_pv_bound(params: Mapping[str, Any], lang: str) -> str:
    """How the check's tolerance was derived, in `lang` ("zh" or "en")."""
    tariff = "x1.00"
    if params.get("tariff_cny_per_kwh"):
        which = "pv_tariff_bills" if params.get("tariff_from") == "bills" else "pv_tariff_declared"
        tariff = (
            f"{params['tariff_factor']:.3f} ("
            + _pick(PV_FINDING_TEMPLATES[which], lang).format(tariff=f"{params['tariff_cny_per_kwh']:.4f}")
            + ")"
        )
    return _pick(PV_FINDING_TEMPLATES["pv_bound"], lang).format(
        tolerance=f"{params['tolerance']:.3f}",
        meter=f"{params['meter_factor']:.3f}",
        meter_class=f"{params['meter_class_pct']:g}",
        inverter=f"{params['inverter_error_pct']:g}",
        shift_days=params["shift_days"],
        timing=f"{params['timing_factor']:.3f}",
        tariff_part=tariff,
        sampling=f"{params['sampling_factor']:.3f}",
    )


def render_pv_finding(code: str, params: Mapping[str, Any], lang: str) -> str:
    """A PV finding in `lang` ("zh" or "en") from its code and parameters."""
    words = PV_CHECK_WORDS[params["check"]]
    unit, ratio = params["unit"], params.get("ratio")
    unbilled = (
        _pick(PV_FINDING_TEMPLATES["pv_unbilled"], lang).format(unbilled_days=params["unbilled_days"])
        if params.get("unbilled_days")
        else ""
    )
    basis = _pick(PV_FINDING_TEMPLATES["pv_basis"], lang).format(
        evidenced=_amount(params.get("evidenced"), unit, lang),
        known_days=params["known_days"],
        days=params["days"],
        bound=render_pv_bound(params, lang),
        unbilled=unbilled,
    )
    return _pick(PV_FINDING_TEMPLATES[code], lang).format(
        period=params["period"],
        what=_pick(words["what"], lang),
        evidence=_pick(words["evidence"], lang),
        reported=_amount(params["reported"], unit, lang),
        ratio="" if ratio is None else f"{ratio:.2f}",
        tolerance=f"{params['tolerance']:.3f}",
        coverage=f"{float(params.get('coverage') or 0):.0%}",
        basis=basis,
    )


def pv_finding_texts(code: str, params: Mapping[str, Any]) -> dict[str, str]:
    return {"finding_zh": render_pv_finding(code, params, "zh"), "finding_en": render_pv_finding(code, params, "en")}
