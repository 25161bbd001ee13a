"""The credit report: HTML and PDF with the decision, findings and links to the data behind each figure."""

from __future__ import annotations

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor

from tests.integration.credit_world import put_indicators, register_model, statement_rows
from tests.world import build_world, login
from wuxin.risk import report as report_module


def test_the_report_in_html_and_pdf_links_every_figure_and_is_logged(live, platform):
    world = build_world(platform)
    put_indicators(platform, world.factory)
    register_model(platform)
    with platform.uow() as uow:
        uscc = uow.enterprises.get(world.factory)["uscc"]
    officer = login(live.client, "officer")
    live.client.post(
        "/api/v1/business-data/statements", content=json.dumps(statement_rows(uscc, platform, 2.4)), headers=officer
    )
    decision = live.client.post(
        f"/api/v1/enterprises/{world.factory}/credit/decisions",
        headers=officer,
        json={"product_code": "digital_manufacturing"},
    ).json()
    html = live.client.get(f"/api/v1/enterprises/{world.factory}/credit/report?lang=en", headers=officer)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    page = html.text
    assert "吴江恒达化纤有限公司" in page and "NOT cross-verified: the reports exceed what the devices measured" in page
    assert 'data-outcome="decline"' in page and ">Decline</strong>" in page and "Decided by:" in page
    assert (
        "cross-verification failed" in page and "交叉验证未通过" not in page
    )  # the deciding condition, in English only
    assert "[Decline] " in page and "[clear] " in page  # every policy condition, held or clear
    assert "is 2.4x what the machines&#39; metered output support" in page
    zh = live.client.get(f"/api/v1/enterprises/{world.factory}/credit/report", headers=officer)  # no lang: zh-CN
    assert zh.headers["content-language"] == "zh-CN" and '<html lang="zh-CN">' in zh.text
    assert "交叉验证未通过（申报数据高于设备实测）" in zh.text and "决定原因" in zh.text and ">拒绝</strong>" in zh.text
    assert (
        "Decided by" not in zh.text
        and "cross-verification failed" not in zh.text
        and "Features as scored" not in zh.text
    )
    assert re.search(
        r"<li data-reason=\"[a-z_]+\">[^<]*[\u4e00-\u9fff][^<]*（−\d+ 分）</li>", zh.text
    )  # reasons in Chinese
    assert "是机台计量产值所支持数值的 2.4 倍" in zh.text and "<td>收入对机台产值</td>" in zh.text  # the findings too
    assert "metered output" not in zh.text and "revenue vs output" not in zh.text
    assert all(r["text_zh"].endswith("分）") and r["text_en"] == r["text"] for r in decision["decision"]["reasons"])
    assert (
        decision["cross_checks"][-1]["finding_code"] == "overstated"
        and "2.4 倍" in decision["cross_checks"][-1]["finding_zh"]
    )
    browser_en = live.client.get(
        f"/api/v1/enterprises/{world.factory}/credit/report", headers=officer | {"Accept-Language": "en-GB,en;q=0.9"}
    )
    assert browser_en.headers["content-language"] == "en" and "Decided by:" in browser_en.text
    assert f'href="{live.url}/api/v1/enterprises/{world.factory}/indicators?from=' in page
    assert "/api/v1/ledger/entries/" in page and f"credit_decision:{decision['id']}" in page
    assert "<polyline" in page and decision["grade"] in page
    pdf = live.client.get(f"/api/v1/enterprises/{world.factory}/credit/report?format=pdf", headers=officer)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-") and len(pdf.content) > 5000
    assert pdf.headers["content-type"] == "application/pdf"
    data = live.client.get(f"/api/v1/enterprises/{world.factory}/credit/report?format=json", headers=officer).json()
    assert data["decision"]["id"] == decision["id"] and data["peer"]["standing"] == "above the median"
    assert all(
        c["evidence_link"].startswith(f"/api/v1/enterprises/{world.factory}/indicators?") for c in data["cross_checks"]
    )
    assert data["indicators"][0]["last_day_link"].startswith(f"/api/v1/enterprises/{world.factory}/indicators/")
    for link in (
        data["cross_checks"][0]["evidence_link"],
        data["indicators"][0]["last_day_link"],
        data["peer"]["link"],
    ):
        assert live.client.get(link, headers=officer).status_code == 200, link  # the data behind the figure answers
    with platform.uow() as uow:
        reports = [a for a in uow.logs.audit_entries() if a["action"] == "credit.report"]
        accesses = [a for a in uow.logs.access_entries(world.factory) if a["action"] == "credit.report"]
    assert len(reports) == 5 and len(accesses) == 5
    assert (
        live.client.get(
            f"/api/v1/enterprises/{world.factory}/credit/report", headers=login(live.client, "owner")
        ).status_code
        == 403
    )


def _pdf_links(pdf: bytes) -> set[bytes]:
    return set(re.findall(rb"/URI \((https?://[^/)]+)", pdf))


def test_reports_built_at_once_each_link_only_under_their_own_base(live, platform, monkeypatch):
    """The PDF's link base was a module global set by each request (from its Host header): a report built while
    another one started linked under the other's base (a Host: evil.example leaked into other users' PDFs)."""
    world = build_world(platform)
    put_indicators(platform, world.factory)
    register_model(platform)
    officer = login(live.client, "officer")
    live.client.post(
        f"/api/v1/enterprises/{world.factory}/credit/decisions",
        headers=officer,
        json={"product_code": "digital_manufacturing"},
    )
    data = live.client.get(f"/api/v1/enterprises/{world.factory}/credit/report?format=json", headers=officer).json()
    both_started = threading.Barrier(2, timeout=30)
    font = report_module._cjk_font
    monkeypatch.setattr(report_module, "_cjk_font", lambda: (both_started.wait(), font())[1])  # both past their start
    bases = ["https://bank.example", "https://evil.example"]
    with ThreadPoolExecutor(2) as pool:
        pdfs = list(pool.map(lambda base: report_module.render_pdf(data, base), bases))
    assert [_pdf_links(pdf) for pdf in pdfs] == [{b"https://bank.example"}, {b"https://evil.example"}]


def test_a_host_header_does_not_set_the_report_links_when_the_public_url_is_configured(live, platform, monkeypatch):
    world = build_world(platform)
    put_indicators(platform, world.factory)
    officer = login(live.client, "officer")
    monkeypatch.setattr(platform.settings, "public_url", "https://wuxin.bank.example")
    html = live.client.get(
        f"/api/v1/enterprises/{world.factory}/credit/report", headers={**officer, "Host": "evil.example"}
    ).text
    assert "evil.example" not in html
    assert f'href="https://wuxin.bank.example/api/v1/enterprises/{world.factory}/indicators?' in html
