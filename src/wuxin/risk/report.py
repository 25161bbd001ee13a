"""The credit report rendered from its data (see services.credit.report_data) in the reader's language
(zh-CN or en; codes through wuxin.labels, reasons and findings through wuxin.risk.messages): HTML through a Jinja2
template, PDF through reportlab (pip only; Chinese text in WenQuanYi Micro Hei when the font is
installed, else the Adobe CID font STSong-Light that PDF readers supply). Every figure links to the
API URL that returns the data behind it.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader

from wuxin.labels import label
from wuxin.risk.messages import reason_text, render_finding

# The HTML report is one self-contained page: its own <style>, inline SVG, links, and no script at all.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
# Words of the report in the reader's language: (zh-CN, en). Codes come from wuxin.labels.
WORDS: dict[str, tuple[str, str]] = {
    "title": ("授信报告", "Credit report"),
    "as_of": ("截至", "as of"),
    "generated_for": ("生成给", "generated for"),
    "links_note": (
        "每个带链接的数值都可打开其背后的 API 数据（读数、指标、账本证明）。",
        "Every linked figure opens the API data behind it (readings, indicators, ledger proofs).",
    ),
    "decision": ("授信决策", "Decision"),
    "product": ("产品", "product"),
    "score": ("评分", "score"),
    "pd": ("违约概率", "PD"),
    "grade": ("等级", "grade"),
    "proposed_limit": ("建议额度", "proposed limit"),
    "expected_loss": ("预期损失", "expected loss"),
    "model": ("模型", "model"),
    "decision_no": ("决策", "decision"),
    "ledger_proof": ("账本证明", "ledger proof"),
    "evidence_bundle": ("证据包", "evidence bundle"),
    "decided_by": ("决定原因", "Decided by"),
    "declined_because": ("拒绝原因", "Declined because"),
    "limit_basis": ("额度依据", "Limit basis"),
    "basis_default": ("经验证的收入或押品价值", "verified revenue or pledged value"),
    "proposed_note": ("建议额度，待人工审批", "proposed, for the person who decides"),
    "limit_steps": ("额度计算", "Limit"),
    "policy": ("产品政策条件", "Product policy conditions"),
    "clear": ("未触发", "clear"),
    "reasons": ("主要扣分原因", "Reasons (factors costing most points)"),
    "no_decision": ("贵行尚未对该企业作出授信决策。", "No decision yet for this enterprise by your bank."),
    "activity": ("经营活跃度与行业指数对比（180天）", "Activity against the industry index (180 days)"),
    "activity_note": (
        "（蓝线）与{median}（灰线）；空缺为无数据的日期。",
        " (blue) and the {median} (grey); gaps are days without data.",
    ),
    "industry_median": ("行业中位数", "industry median"),
    "scale": ("刻度", "Scale"),
    "peer_standing": ("同业对标", "Peer standing"),
    "against_median": ("行业中位数", "against the industry median"),
    "peers_up_to": ("同组企业至多 {n} 家", "up to {n} peers"),
    "indicators": ("经营指标（近90天）", "Indicators (last 90 days)"),
    "indicator": ("指标", "indicator"),
    "mean": ("均值", "mean"),
    "unit": ("单位", "unit"),
    "days_known": ("有数据天数 / 完整天数", "days known / complete"),
    "no_indicators": ("期间内无指标值。", "No indicator values in the period."),
    "devices_line": (
        "设备：已安装 {installed} 台，近7天上报 {reporting} 台，近90天防拆事件 {tamper} 次；按来源：",
        "Devices: {installed} installed, {reporting} reporting in the last 7 days, {tamper} tamper events in 90 days; by source mode ",
    ),
    "devices": ("设备", "devices"),
    "crosscheck": ("交叉验证", "Cross-verification"),
    "evidence_is": ("证据", "Evidence is"),
    "coverage": ("申报期间的 IoT 覆盖率", "IoT coverage of the reported periods"),
    "period": ("期间", "period"),
    "check": ("核对项", "check"),
    "ratio": ("比值", "ratio"),
    "tolerance": ("容差", "tolerance"),
    "status": ("结论", "status"),
    "evidence_from": ("证据来源", "evidence from"),
    "finding": ("说明", "finding"),
    "reported": ("申报", "reported"),
    "no_checks": ("没有可与设备数据核对的申报数据。", "No reported figure could be checked against device data."),
    "features": ("评分所用特征", "Features as scored"),
    "feature": ("特征", "feature"),
    "value": ("数值", "value"),
    "statements": ("申报财务报表（元）", "Reported statements (CNY)"),
    "revenue": ("营业收入", "revenue"),
    "net_profit": ("净利润", "net profit"),
    "assets": ("总资产", "assets"),
    "liabilities": ("总负债", "liabilities"),
    "footer_note": (
        "金额单位为元。未知表示无数据，绝不等于零。数据来源可信度：银行自装 0.9，第三方平台 0.7，企业共享 0.4（只能佐证，不能单独验证）。",
        "Amounts in CNY. Unknown means no data, never zero. Source modes: bank-installed (trust 0.9), "
        "third-party platform (0.7), enterprise-shared (0.4; supports, never verifies on its own).",
    ),
    "page": ("第 {n} 页", "page {n}"),
    "unknown": ("未知", "unknown"),
    "points": ("（−{n} 分）", " (-{n} points)"),
    "not_reported": ("{label}未报告（按最差档计分）", "{label} is not reported (scored as its worst band)"),
    "v_verified": ("已由独立来源交叉验证", "cross-verified by an independent source"),
    "v_supported": (
        "未交叉验证：仅企业共享设备佐证",
        "NOT cross-verified: supported by enterprise-shared devices only",
    ),
    "v_failed": (
        "交叉验证未通过：申报高于设备实测",
        "NOT cross-verified: the reports exceed what the devices measured",
    ),
    "v_undecided": ("未交叉验证：设备证据不足，无法判定", "NOT cross-verified: too little device evidence"),
    "top quartile": ("位于前四分之一", "top quartile"),
    "above the median": ("高于中位数", "above the median"),
    "below the median": ("低于中位数", "below the median"),
    "bottom quartile": ("位于后四分之一", "bottom quartile"),
}
LANGS = ("zh-CN", "en")


class Words:
    """The report's words, codes and reasons in one language ("zh-CN" or "en")."""

    def __init__(self, lang: str) -> None:
        self.lang = "en" if lang == "en" else "zh-CN"
        self.en = self.lang == "en"

    def __call__(self, key: str, **values: Any) -> str:
        text = WORDS[key][1 if self.en else 0] if key in WORDS else key
        return text.format(**values) if values else text

    def code(self, kind: str, value: Any) -> str:
        return label(kind, str(value), "en" if self.en else "zh") if value is not None else "—"

    def pick(self, obj: dict, key: str) -> Any:
        """obj[key_en] or obj[key_zh] (zh falling back to the English when a record predates it)."""
        return obj.get(f"{key}_en") if self.en else obj.get(f"{key}_zh") or obj.get(f"{key}_en")

    def steps(self, limit: dict) -> list[str]:
        return list(limit.get("steps") or []) if self.en else list(limit.get("steps_zh") or limit.get("steps") or [])

    def reason(self, r: dict) -> str:
        """A reason code's words in the reader's language (wuxin.risk.messages: the features' own words)."""
        return reason_text(r, "en" if self.en else "zh")

    def tolerance_basis(self, c: dict) -> str:
        """How a check's tolerance was measured, in the reader's language (English for records from before)."""
        return c.get("tolerance_basis_en" if self.en else "tolerance_basis_zh") or str(c.get("tolerance_basis", ""))

    def finding(self, c: dict) -> str:
        """A cross-verification finding in the reader's language; a record from before the finding codes in English."""
        if c.get("finding_code"):
            return render_finding(c["finding_code"], c.get("finding_params") or {}, "en" if self.en else "zh")
        return str(c.get("finding", ""))

    def fmt(self, value: Any, digits: int = 2) -> str:
        text = fmt(value, digits)
        return self("unknown") if text == "unknown" else text


CJK_FONT_FILES = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc")


def chart_points(values: Sequence[float | None], width: float, height: float, top: float | None = None) -> list[str]:
    """SVG polyline point lists, one per run of known values (a gap stays a gap, never a drop to 0)."""
    known = [v for v in values if v is not None]
    if not known:
        return []
    high = top if top is not None else max(known) or 1.0
    step = width / max(len(values) - 1, 1)
    runs: list[str] = []
    current: list[str] = []
    for i, v in enumerate(values):
        if v is None:
            if current:
                runs.append(" ".join(current))
            current = []
            continue
        current.append(f"{i * step:.1f},{height - (v / high) * height:.1f}")
    if current:
        runs.append(" ".join(current))
    return runs


def fit_activity(activity: dict | None, min_days: int = 14) -> dict | None:
    """The activity chart's days cut to start at the first day either series has data (at least `min_days`):
    180 days with data only in the last few would draw as one spike at the right edge."""
    if not activity or not activity.get("days"):
        return activity
    n = len(activity["days"])
    known = [i for i in range(n) if activity["values"][i] is not None or activity["index_median"][i] is not None]
    start = min(known[0], max(n - min_days, 0)) if known else max(n - min_days, 0)
    if start == 0:
        return activity
    return {
        **activity,
        "days": activity["days"][start:],
        "values": activity["values"][start:],
        "index_median": activity["index_median"][start:],
        "window_days": n,
    }


def nice_ticks(high: float, count: int = 4) -> list[float]:
    """Axis ticks from 0 to a round top at or above `high`, in steps of 1, 2 or 5 x 10^k.

    >>> nice_ticks(0.31)
    [0.0, 0.1, 0.2, 0.3, 0.4]
    >>> nice_ticks(9.5)
    [0, 5, 10]
    """
    if not high or high <= 0 or not math.isfinite(high):
        return [0.0, 1.0]
    raw = high / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw - 1e-12)
    top = math.ceil(high / step - 1e-9) * step
    digits = max(0, -math.floor(math.log10(step) + 1e-9)) + 1
    return [round(i * step, digits) for i in range(int(round(top / step)) + 1)]


def fmt_unit(value: Any, unit: str | None, digits: int = 2) -> str:
    """A value with its unit for people: a share ("1") as a percent, CNY before the amount, else the unit after.

    >>> fmt_unit(0.3125, "1"), fmt_unit(2_000_000, "CNY"), fmt_unit(20.25, "kg/head"), fmt_unit(None, "1")
    ('31.2%', 'CNY 2,000,000', '20.25 kg/head', 'unknown')
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "unknown"
    if unit == "1":
        return f"{value * 100:,.1f}%"
    if unit == "CNY":
        return f"CNY {value:,.0f}"
    return f"{fmt(value, digits)} {unit}".rstrip()


def fmt(value: Any, digits: int = 2) -> str:
    """A number for people: thousands separated, None as 'unknown'."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return f"{value:,.{digits}f}"
    return str(value)


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("wuxin.risk", "templates"), autoescape=True
    )  # HTML only: every value escaped
    env.filters["num"] = fmt
    env.filters["unit"] = fmt_unit
    env.globals["chart_points"] = chart_points
    return env


def render_html(report: dict, base_url: str = "", lang: str = "zh-CN") -> str:
    """The report as one self-contained HTML page (inline SVG charts, no scripts) in `lang`; links under `base_url`."""
    report = {**report, "activity": fit_activity(report.get("activity"))}
    activity = report.get("activity") or {}
    values = [v for v in (activity.get("values") or []) + (activity.get("index_median") or []) if v is not None]
    top = nice_ticks(max(values) if values else 1.0)[-1]
    return (
        _environment()
        .get_template("credit_report.html.j2")
        .render(r=report, chart_top=top, base=base_url.rstrip("/"), w=Words(lang))
    )


def render_pdf(report: dict, base_url: str = "", lang: str = "zh-CN") -> bytes:
    """The report as an A4 PDF in `lang`: the same sections as the HTML, the links kept as PDF links under `base_url`."""
    w = Words(lang)
    link = _linker(base_url.rstrip("/"))  # this report's links, under its own base (no state shared between requests)
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    font = _cjk_font()
    body = ParagraphStyle("body", fontName=font, fontSize=8.5, leading=11)
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5, textColor=colors.HexColor("#444444"))
    h1 = ParagraphStyle("h1", parent=body, fontSize=15, leading=19, spaceAfter=4)
    h2 = ParagraphStyle(
        "h2", parent=body, fontSize=11, leading=14, spaceBefore=8, spaceAfter=3, textColor=colors.HexColor("#12355b")
    )
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=f"{w('title')} {report['enterprise']['name']}",
        author="Wuxin",
    )
    P = lambda text, style=body: Paragraph(text, style)  # noqa: E731
    story: list = []
    e = report["enterprise"]
    story += [
        P(f"{w('title')} — {_esc(e['name'])}", h1),
        P(
            f"USCC {_esc(e['uscc'])} · {_esc(w.code('scenario', e['industry']))} · {_esc(e['region'])} · {w('as_of')} {report['as_of']} · "
            f"{w('generated_for')} {_esc(report['generated_by'])}. {w('links_note')}",
            small,
        ),
    ]
    story += _pdf_decision(report, P, h2, small, link, w)
    story += _pdf_activity(report, P, h2, small, font, link, w)
    story += _pdf_table(
        w("indicators"),
        [w("indicator"), w("mean"), w("unit"), w("days_known")],
        [
            [
                P(link(w.code("indicator", r["name"]), r["link"])),
                P(link(w.fmt(r["mean_90d"]), r["last_day_link"] or r["link"])),
                w.code("unit", r["unit"]),
                f"{r['known_days']} / {r['complete_days']}",
            ]
            for r in report["indicators"]
        ],
        P,
        h2,
        font,
        (80, 40, 25, 35),
    )
    story += _pdf_checks(report, P, h2, small, font, link, w)
    story += _pdf_table(
        w("features"),
        [w("feature"), w("value")],
        [[P(_esc(w.code("feature", f["name"]))), w.fmt(f["value"], 3)] for f in report["features"]],
        P,
        h2,
        font,
        (120, 60),
    )
    if report["statements"]:
        story += _pdf_table(
            w("statements"),
            [w("period"), w("revenue"), w("net_profit"), w("assets"), w("liabilities")],
            [
                [
                    P(link(s["period"], report["statements_link"])),
                    w.fmt(s["revenue_cny"], 0),
                    w.fmt(s["net_profit_cny"], 0),
                    w.fmt(s["total_assets_cny"], 0),
                    w.fmt(s["total_liabilities_cny"], 0),
                ]
                for s in report["statements"]
            ],
            P,
            h2,
            font,
            (30, 38, 38, 38, 38),
        )
    story.append(Spacer(1, 6))
    story.append(P(w("footer_note"), small))
    with _PDF_BUILD:  # reportlab keeps module-level state while it writes: two builds at once broke one (KeyError)
        doc.build(story, onFirstPage=_footer(font, w), onLaterPages=_footer(font, w))
    return out.getvalue()


_PDF_BUILD = threading.Lock()


def _model_label(decision: dict, w: Words) -> str:
    """' · <b>模拟数据训练 — 仅限演示</b>' (or the English) for a simulated-data model, else ''."""
    words = decision.get("model_label")
    return f" · <b>{_esc(words['en'] if w.en else words['zh'])}</b>" if words else ""


def _pdf_decision(report: dict, P, h2, small, link, w: Words) -> list:
    d = report.get("decision")
    if not d:
        return [P(w("decision"), h2), P(w("no_decision"))]
    dec = d["decision"]
    outcome = d.get("outcome") or ("approve" if d["approved"] else "decline")
    lines = [
        P(w("decision"), h2),
        P(
            f"<b>{_esc(w.code('outcome', outcome))}</b> · {w('product')} {_esc(w.code('product', d['product_code']))} · "
            f"{w('score')} <b>{d['score']:.0f}</b> · {w('pd')} {d['pd']:.2%} · {w('grade')} <b>{d['grade']}</b> · "
            f"{w('proposed_limit')} <b>{link('CNY ' + w.fmt(_float(d['limit_cny']), 2), d['links']['evidence_bundle'])}</b> · "
            f"{w('expected_loss')} CNY {w.fmt(_float(d['expected_loss_cny']))}"
        ),
        P(
            f"{w('model')} {d['model_version'][:16]}…{_model_label(d, w)} · {w('decision_no')} #{d['id']} · "
            f"{link(w('ledger_proof'), d['links']['ledger_proof'])}",
            small,
        ),
    ]
    if dec.get("decided_by"):
        lines.append(P(f"{w('decided_by')}:"))
        lines += [P(f"• {_esc(w.pick(f, 'text'))}", small) for f in dec["decided_by"]]
    elif dec.get("decline_reason"):
        lines.append(P(f"{w('declined_because')}: {_esc(dec['decline_reason'])}"))
    if dec.get("limit"):
        limit = dec["limit"]
        if limit.get("basis_label"):
            lines.append(P(f"{w('limit_basis')}: <b>{_esc(w.pick(limit, 'basis_label'))}</b>"))
        lines.append(P(f"{w('limit_steps')}: " + " → ".join(_esc(s) for s in w.steps(limit)), small))
    if dec.get("reasons"):
        lines.append(P(f"{w('reasons')}:"))
        lines += [P(f"• {_esc(w.reason(r))}", small) for r in dec["reasons"]]
    return lines


def _pdf_activity(report: dict, P, h2, small, font: str, link, w: Words) -> list:
    from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, String
    from reportlab.lib import colors

    a = fit_activity(report.get("activity"))
    if not a:
        return []
    left, width, height, bottom = 44.0, 456.0, 110.0, 14.0
    values = [v for v in a["values"] + a["index_median"] if v is not None]
    ticks = nice_ticks(max(values) if values else 1.0)
    top = ticks[-1]
    drawing = Drawing(left + width + 10, height + bottom + 18)
    for tick in ticks:  # y axis: round ticks from 0, each labelled with its unit
        y = bottom + tick / top * height
        drawing.add(Line(left, y, left + width, y, strokeColor=colors.HexColor("#e1e6ec"), strokeWidth=0.4))
        drawing.add(
            String(
                left - 3,
                y - 2.5,
                fmt_unit(tick, a["unit"], 2 if tick < 10 else 0),
                fontName=font,
                fontSize=6.5,
                textAnchor="end",
            )
        )
    for series, colour in ((a["index_median"], colors.HexColor("#9aa5b1")), (a["values"], colors.HexColor("#1f6feb"))):
        for run in chart_points(series, width, height, top):
            pts = [float(c) for pair in run.split(" ") for c in pair.split(",")]
            flipped = [p + left if i % 2 == 0 else height - p + bottom for i, p in enumerate(pts)]
            if len(flipped) >= 4:
                drawing.add(PolyLine(flipped, strokeColor=colour, strokeWidth=1.2))
            else:  # a single known day between gaps: a dot, not nothing
                drawing.add(Circle(flipped[0], flipped[1], 1.2, fillColor=colour, strokeColor=colour))
    n = len(a["days"])
    for i in sorted({0, n // 3, 2 * n // 3, n - 1}):  # x axis: four dates across the fitted range
        x = left + i * width / max(n - 1, 1)
        drawing.add(
            String(
                x,
                2,
                a["days"][i],
                fontName=font,
                fontSize=6.5,
                textAnchor="middle" if 0 < i < n - 1 else ("start" if i == 0 else "end"),
            )
        )
    unit = w.code("unit", a["unit"])
    peer = report.get("peer")
    standing = (
        []
        if not peer
        else [
            P(
                f"{w('peer_standing')}: {link(w.fmt(peer['value']) + ' ' + unit, peer['link'])} · {w('against_median')} "
                f"{w.fmt(peer['median'])} (P25 {w.fmt(peer['p25'])}, P75 {w.fmt(peer['p75'])}; {w('peers_up_to', n=peer['peers'])}): "
                f"<b>{_esc(w(peer['standing']))}</b>."
            )
        ]
    )
    return [
        P(f"{w('activity')} ({n} / {a.get('window_days') or n})", h2),
        P(
            link(w.code("indicator", a["indicator"]), a["link"])
            + _esc(w("activity_note", median=w("industry_median"))),
            small,
        ),
        drawing,
        *standing,
    ]


def _pdf_checks(report: dict, P, h2, small, font: str, link, w: Words) -> list:
    checks = report["cross_checks"]
    verdict = w("v_" + (report.get("verification") or ("verified" if report["cross_verified"] else "undecided")))
    head = [P(w("crosscheck"), h2), P(f"{w('evidence_is')}: <b>{_esc(verdict)}</b>.")]
    if not checks:
        return head + [P(w("no_checks"), small)]
    rows = [
        [
            P(_esc(c["period"])),
            P(_esc(w.code("check", c["check"]))),
            P(link(w.fmt(c["ratio"]), c["evidence_link"])),
            P(
                f"<b>{_esc(w.code('check_status', c['status']))}</b> {_esc(w.code('check_level', c['level'])) if c.get('level') else ''}"
            ),
            P(_esc(w.finding(c)) + " " + link(f"[{w('reported')}]", c["reported_link"]), small),
        ]
        for c in checks
    ]
    return head + _pdf_table(
        None, [w("period"), w("check"), w("ratio"), w("status"), w("finding")], rows, P, h2, font, (18, 28, 17, 22, 95)
    )


def _pdf_table(title: str | None, header: list[str], rows: list[list], P, h2, font: str, widths_mm: tuple) -> list:
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import Table, TableStyle

    if not rows:
        return []
    table = Table([header, *rows], colWidths=[w * mm for w in widths_mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#c8d1dc")),
            ]
        )
    )
    return ([P(title, h2)] if title else []) + [table]


def _footer(font: str, w: Words):
    def draw(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(font, 7)
        canvas.drawString(doc.leftMargin, 8 * 2.83, f"物信 Wuxin · {w('title')} · {w('page', n=doc.page)}")
        canvas.restoreState()

    return draw


def _cjk_font() -> str:
    from reportlab.pdfbase import pdfmetrics

    if "WuxinCJK" in pdfmetrics.getRegisteredFontNames():
        return "WuxinCJK"
    for path in CJK_FONT_FILES:
        if Path(path).exists():
            from reportlab.pdfbase.ttfonts import TTFont

            pdfmetrics.registerFont(TTFont("WuxinCJK", path, subfontIndex=0))
            return "WuxinCJK"
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def _linker(base: str) -> Callable[[Any, str | None], str]:
    """`link(text, href)`: Paragraph markup for `text` (escaped: reportlab reads tags such as <a> and <img> in it)
    linked to `base + href`."""

    def link(text: Any, href: str | None) -> str:
        return f'<a href="{_esc(base + href)}" color="#0b5394"><u>{_esc(text)}</u></a>' if href else _esc(text)

    return link


def _esc(text: Any) -> str:
    """Text for a reportlab Paragraph, which parses its string as markup."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _float(text: Any) -> float | None:
    return None if text is None else float(text)
