"""Security headers on the console, the credit report and the API (no framing, no sniffing, no
referrer, a Content-Security-Policy), and borrower text in the report kept as text (HTML and PDF)."""

from __future__ import annotations

import json
import random
import re
from html.parser import HTMLParser

from tests.integration.credit_world import statement_rows
from tests.world import build_world, login
from wuxin.services.access import consent
from wuxin.services.devices import registry
from wuxin.sim.spec import make_uscc
from wuxin.web.pages import STATIC_DIR

HOSTILE_NAME = '<img src=x onerror="window.__xss=1">"><svg onload=alert(1)>{b} 恶意'
HOSTILE_PERIOD = '<img src="/etc/hostname"/><a href="javascript:alert(1)">Q</a>'


def _policy(response) -> dict[str, str]:
    """The Content-Security-Policy as {directive: sources}."""
    csp = response.headers.get("content-security-policy", "")
    return {d.split(" ", 1)[0]: (d.split(" ", 1) + [""])[1] for d in (x.strip() for x in csp.split(";")) if d}


def _assert_guarded(response, what: str) -> dict[str, str]:
    headers = response.headers
    assert headers.get("x-content-type-options") == "nosniff", what
    assert headers.get("x-frame-options") == "DENY", what
    assert headers.get("referrer-policy") == "no-referrer", what
    policy = _policy(response)
    assert policy.get("frame-ancestors") == "'none'", (what, policy)
    assert "unsafe-inline" not in policy.get("script-src", policy.get("default-src", "")), (what, policy)
    assert "unsafe-eval" not in response.headers.get("content-security-policy", ""), what
    return policy


def test_console_report_and_api_responses_carry_the_security_headers(live, platform):
    world = build_world(platform)
    officer = login(live.client, "officer")

    console = live.client.get("/console")
    policy = _assert_guarded(console, "console page")
    assert len(console.headers.get_list("content-security-policy")) == 1  # the page's own policy, not two
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'none'" and policy["base-uri"] == "'none'"
    assert policy["connect-src"] == "'self'" and "object-src" not in policy  # default-src 'none' covers plugins
    for path in ("/console/static/app.js", "/console/static/vendor/echarts.min.js", "/console/static/styles.css"):
        _assert_guarded(live.client.get(path), path)

    for path, headers, status in [
        ("/api/v1/enterprises", officer, 200),
        ("/api/v1/enterprises", {}, 401),
        ("/api/v1/enterprises/999999", officer, 404),
        ("/health", {}, 200),
        ("/metrics", {}, 200),
        ("/openapi.json", {}, 200),
    ]:
        response = live.client.get(path, headers=headers)
        assert response.status_code == status, (path, response.text)
        assert _assert_guarded(response, path)["default-src"] == "'none'", path
    refused = live.client.post("/api/v1/enterprises", headers=officer, json={"name": "x"})
    assert refused.status_code == 422 and _assert_guarded(refused, "422")["default-src"] == "'none'"
    docs = live.client.get("/docs")
    assert docs.status_code == 200 and _policy(docs)["frame-ancestors"] == "'none'"  # Swagger UI still loads its bundle
    assert "https://cdn.jsdelivr.net" in _policy(docs)["script-src"]

    report = live.client.get(f"/api/v1/enterprises/{world.factory}/credit/report", headers=officer)
    assert report.status_code == 200
    policy = _assert_guarded(report, "credit report")
    assert len(report.headers.get_list("content-security-policy")) == 1
    assert policy["default-src"] == "'none'" and "script-src" not in policy  # no script of any kind
    pdf = live.client.get(f"/api/v1/enterprises/{world.factory}/credit/report?format=pdf", headers=officer)
    assert pdf.status_code == 200 and _assert_guarded(pdf, "pdf report")["default-src"] == "'none'"


def test_borrower_text_in_the_credit_report_stays_text_in_html_and_pdf(live, platform):
    world = build_world(platform)
    uscc = make_uscc(random.Random(99))
    hostile = registry.create_enterprise(platform, None, HOSTILE_NAME, uscc, "manufacturing", HOSTILE_NAME)
    registry.add_site(platform, None, hostile, HOSTILE_NAME, HOSTILE_NAME, 31.0, 120.6)
    consent.grant(platform, None, hostile, world.bank, "all", [], HOSTILE_NAME, platform.clock_ms() + 86_400_000)
    officer = login(live.client, "officer")
    rows = [dict(r, period=HOSTILE_PERIOD) for r in statement_rows(uscc, platform)[:1]]
    imported = live.client.post("/api/v1/business-data/statements", content=json.dumps(rows), headers=officer)
    assert imported.status_code == 201, imported.text

    html = live.client.get(f"/api/v1/enterprises/{hostile}/credit/report", headers=officer)
    assert html.status_code == 200, html.text
    page = html.text
    assert "<img" not in page and "<svg onload" not in page and '<a href="javascript' not in page
    assert "&lt;img src=x onerror=&#34;window.__xss=1&#34;&gt;" in page  # shown as the text it is
    assert "&lt;img src=&#34;/etc/hostname&#34;/&gt;" in page

    pdf = live.client.get(f"/api/v1/enterprises/{hostile}/credit/report?format=pdf", headers=officer)
    assert pdf.status_code == 200, pdf.text  # reportlab read the period as markup: an <img> of a server file
    assert pdf.content.startswith(b"%PDF-") and b"javascript:alert" not in pdf.content


class _InlineCode(HTMLParser):
    """Finds what a script-src 'self' policy would block: inline scripts and on* attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.found.append("inline <script>")
        self.found += [f"<{tag} {name}=...>" for name, _ in attrs if name.startswith("on")]
        if any((value or "").strip().lower().startswith("javascript:") for _, value in attrs):
            self.found.append(f"<{tag}> with a javascript: URL")


def test_the_console_has_no_inline_script_and_builds_no_html_from_strings():
    parser = _InlineCode()
    parser.feed((STATIC_DIR / "index.html").read_text(encoding="utf-8"))
    assert parser.found == []
    sinks = re.compile(
        r"\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|"
        r"setTimeout\(\s*[\"'`]|\bhtml:"
    )
    offenders = [
        f"{p.relative_to(STATIC_DIR)}:{n}: {line.strip()[:100]}"
        for p in sorted(STATIC_DIR.rglob("*.js"))
        if "vendor" not in p.parts
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if sinks.search(line)
    ]
    assert offenders == []  # text goes in as text nodes; ECharts tooltips through esc() / tooltipHtml()
