"""The credit report rendered from its data (see services.credit.report_data): HTML through a Jinja2
template, PDF through reportlab (pip only; Chinese text in WenQuanYi Micro Hei when the font is
installed, else the Adobe CID font STSong-Light that PDF readers supply). Every figure links to the
API URL that returns the data behind it.
"""
from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable

from jinja2 import Environment, PackageLoader

# The HTML report is one self-contained page: its own <style>, inline SVG, links, and no script at all.
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
              "frame-ancestors 'none'")
CJK_FONT_FILES = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc")


def chart_points(values: Sequence[float | None], width: float, height: float, top: float | None = None) -> list[str]:
    """SVG polyline point lists, one per run of known values (a gap stays a gap, never a drop to 0)."""
    known = [v for v in values if v is not None]
    if not known:
        return []
    high = top if top is not None else max(known) or 1.0
    step = width / max(len(values) - 1, 1)
    runs, current = [], []
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
    return {**activity, "days": activity["days"][start:], "values": activity["values"][start:],
            "index_median": activity["index_median"][start:], "window_days": n}


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
    env = Environment(loader=PackageLoader("wuxin.risk", "templates"), autoescape=True)  # HTML only: every value escaped
    env.filters["num"] = fmt
    env.filters["unit"] = fmt_unit
    env.globals["chart_points"] = chart_points
    return env


def render_html(report: dict, base_url: str = "") -> str:
    """The report as one self-contained HTML page (inline SVG charts, no scripts); links under `base_url`."""
    report = {**report, "activity": fit_activity(report.get("activity"))}
    activity = report.get("activity") or {}
    values = [v for v in (activity.get("values") or []) + (activity.get("index_median") or []) if v is not None]
    top = nice_ticks(max(values) if values else 1.0)[-1]
    return _environment().get_template("credit_report.html.j2").render(r=report, chart_top=top, base=base_url.rstrip("/"))


def render_pdf(report: dict, base_url: str = "") -> bytes:
    """The report as an A4 PDF: the same sections as the HTML, the links kept as PDF links under `base_url`."""
    link = _linker(base_url.rstrip("/"))  # this report's links, under its own base (no state shared between requests)
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _cjk_font()
    body = ParagraphStyle("body", fontName=font, fontSize=8.5, leading=11)
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5, textColor=colors.HexColor("#444444"))
    h1 = ParagraphStyle("h1", parent=body, fontSize=15, leading=19, spaceAfter=4)
    h2 = ParagraphStyle("h2", parent=body, fontSize=11, leading=14, spaceBefore=8, spaceAfter=3,
                        textColor=colors.HexColor("#12355b"))
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=14 * mm, bottomMargin=14 * mm,
                            title=f"Credit report {report['enterprise']['name']}", author="Wuxin")
    P = lambda text, style=body: Paragraph(text, style)  # noqa: E731
    story: list = []
    e = report["enterprise"]
    story += [P(f"授信报告 Credit report — {_esc(e['name'])}", h1),
              P(f"USCC {_esc(e['uscc'])} · {_esc(e['industry'])} · {_esc(e['region'])} · as of {report['as_of']} · "
                f"generated for {_esc(report['generated_by'])}. Every underlined figure links to the API URL of the data behind it.", small)]
    story += _pdf_decision(report, P, h2, small, link)
    story += _pdf_activity(report, P, h2, small, font, link)
    story += _pdf_table("Indicators (last 90 days)", ["indicator", "mean", "unit", "days known / complete"],
                        [[P(link(r["label"], r["link"])), P(link(fmt(r["mean_90d"]), r["last_day_link"] or r["link"])), r["unit"],
                          f"{r['known_days']} / {r['complete_days']}"] for r in report["indicators"]], P, h2, font, (80, 40, 25, 35))
    story += _pdf_checks(report, P, h2, small, font, link)
    story += _pdf_table("Features as scored", ["feature", "value"],
                        [[P(_esc(f["label"])), fmt(f["value"], 3)] for f in report["features"]], P, h2, font, (120, 60))
    if report["statements"]:
        story += _pdf_table("Reported statements (CNY)", ["period", "revenue", "net profit", "assets", "liabilities"],
                            [[P(link(s["period"], report["statements_link"])), fmt(s["revenue_cny"], 0), fmt(s["net_profit_cny"], 0),
                              fmt(s["total_assets_cny"], 0), fmt(s["total_liabilities_cny"], 0)] for s in report["statements"]],
                            P, h2, font, (30, 38, 38, 38, 38))
    story.append(Spacer(1, 6))
    story.append(P("Amounts in CNY. Unknown means no data, never zero. Source modes: bank_installed (trust 0.9), "
                   "third_party_platform (0.7), enterprise_shared (0.4; supports, never verifies on its own).", small))
    doc.build(story, onFirstPage=_footer(font), onLaterPages=_footer(font))
    return out.getvalue()


def _model_label(decision: dict) -> str:
    """' · <b>模拟数据训练 — 仅限演示 · simulated — demo only</b>' for a simulated-data model, else ''."""
    label = decision.get("model_label")
    return f" · <b>{_esc(label['zh'])} · {_esc(label['en'])}</b>" if label else ""


def _pdf_decision(report: dict, P, h2, small, link) -> list:
    d = report.get("decision")
    if not d:
        return [P("Decision", h2), P("No decision yet for this enterprise by your bank.")]
    dec = d["decision"]
    outcome = d.get("outcome") or ("approve" if d["approved"] else "decline")
    verdict = {"approve": "APPROVED 批准", "refer": "REFERRED TO A PERSON 转人工审批", "decline": "DECLINED 拒绝"}[outcome]
    lines = [P("Decision", h2),
             P(f"<b>{verdict}</b> · product {d['product_code']} · score <b>{d['score']:.0f}</b> · PD {d['pd']:.2%} · "
               f"grade <b>{d['grade']}</b> · proposed limit <b>{link('CNY ' + fmt(_float(d['limit_cny']), 2), d['links']['evidence_bundle'])}</b> · "
               f"expected loss CNY {fmt(_float(d['expected_loss_cny']))}"),
             P(f"model {d['model_version'][:16]}…{_model_label(d)} · decision #{d['id']} · "
               f"{link('ledger proof', d['links']['ledger_proof'])}", small)]
    if dec.get("decided_by"):
        lines.append(P("Decided by 决定原因:"))
        lines += [P(f"• {_esc(f['text_zh'])} — {_esc(f['text_en'])}", small) for f in dec["decided_by"]]
    elif dec.get("decline_reason"):
        lines.append(P(f"Declined because: {_esc(dec['decline_reason'])}"))
    if dec.get("limit"):
        limit = dec["limit"]
        if limit.get("basis_label"):
            lines.append(P(f"Limit basis 额度依据: <b>{_esc(limit['basis_label_zh'])} / {_esc(limit['basis_label_en'])}</b>"))
        lines += [P("Limit: " + " → ".join(_esc(s) for s in limit["steps"]), small)]
        if limit.get("steps_zh"):
            lines.append(P("额度计算：" + " → ".join(_esc(s) for s in limit["steps_zh"]), small))
    if dec.get("reasons"):
        lines.append(P("Reasons (factors costing most points):"))
        lines += [P(f"• {_esc(r['text'])}", small) for r in dec["reasons"]]
    return lines


def _pdf_activity(report: dict, P, h2, small, font: str, link) -> list:
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
        drawing.add(String(left - 3, y - 2.5, fmt_unit(tick, a["unit"], 2 if tick < 10 else 0), fontName=font, fontSize=6.5,
                           textAnchor="end"))
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
        drawing.add(String(x, 2, a["days"][i], fontName=font, fontSize=6.5, textAnchor="middle" if 0 < i < n - 1 else
                           ("start" if i == 0 else "end")))
    peer = report.get("peer")
    standing = [] if not peer else [P(
        f"Peer standing: {link(fmt_unit(peer['value'], a['unit']), peer['link'])} against the industry median "
        f"{fmt_unit(peer['median'], a['unit'])} (p25 {fmt_unit(peer['p25'], a['unit'])}, p75 {fmt_unit(peer['p75'], a['unit'])}; "
        f"up to {peer['peers']} peers): <b>{peer['standing']}</b>.")]
    span = f"last {n} days" + (f" of {a['window_days']}; no data before {a['days'][0]}" if a.get("window_days") else "")
    return [P(f"Activity against the industry index ({span})", h2),
            P(f"{link(a['label'], a['link'])} (blue) and the {link('industry median', a['index_link'])} (grey); "
              "gaps are days without data, never zero.", small), drawing, *standing]


def _pdf_checks(report: dict, P, h2, small, font: str, link) -> list:
    checks = report["cross_checks"]
    verdict = {"verified": "cross-verified by an independent source 已由独立来源验证",
               "supported": "NOT cross-verified: supported by enterprise-shared devices only 仅企业共享设备佐证，未验证",
               "failed": "NOT cross-verified: the reports exceed what the devices measured 交叉验证未通过",
               "undecided": "NOT cross-verified: too little device evidence 证据不足，无法判定"}[
        report.get("verification") or ("verified" if report["cross_verified"] else "undecided")]
    head = [P("Cross-verification (交叉验证)", h2), P(f"Evidence is <b>{verdict}</b>.")]
    if not checks:
        return head + [P("No reported figure could be checked against device data.", small)]
    rows = [[P(_esc(c["period"])), P(_esc(c["check"].replace("_", " "))), P(link(fmt(c["ratio"]), c["evidence_link"])),
             P(f"<b>{c['status'].replace('_', ' ')}</b> {c.get('level', '').replace('_', ' ')}"),
             P(_esc(c["finding"]) + " " + link("[reported]", c["reported_link"]), small)]
            for c in checks]
    return head + _pdf_table(None, ["period", "check", "ratio", "status", "finding"], rows, P, h2, font, (18, 28, 17, 22, 95))


def _pdf_table(title: str | None, header: list[str], rows: list[list], P, h2, font: str, widths_mm: tuple) -> list:
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import Table, TableStyle

    if not rows:
        return []
    table = Table([header, *rows], colWidths=[w * mm for w in widths_mm], repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#c8d1dc"))]))
    return ([P(title, h2)] if title else []) + [table]


def _footer(font: str):
    def draw(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(font, 7)
        canvas.drawString(doc.leftMargin, 8 * 2.83, f"Wuxin 物信 credit report · page {doc.page}")
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
