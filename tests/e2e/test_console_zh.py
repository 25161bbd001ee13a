"""Every page of the console in zh-CN shows no raw code (snake_case, dotted type ids) and no English word
outside an allow-list of brand names, standards and units; screenshots of every page in zh-CN and en."""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_console import BANK_PAGES, FIRM_PAGES, _api, _settle, _town_mill


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A demo of this file's own: the shared one carries other files' changes (a consent revoked, hostile names)."""
    from tests.e2e.conftest import serve_demo

    yield from serve_demo(tmp_path_factory)


# Brand names, standards, units and abbreviations written so in Chinese text too.
ALLOWED = {
    "Wuxin",
    "EPCIS",
    "JT",
    "MQTT",
    "IoT",
    "RFID",
    "SKU",
    "HTML",
    "PDF",
    "JSON",
    "SHA",
    "HTTPS",
    "USCC",
    "ACC",
    "GPS",
    "PM",
    "kWh",
    "kW",
    "kg",
    "km",
    "h",
    "min",
    "t",
    "m",
    "A",
    "V",
    "W",
    "L",
    "dB",
    "dBm",
    "ppm",
    "RH",
    "CNY",
    "PR",
    "PD",
    "TMR",
    "WMS",
    "CSV",
    "AAA",
    "AA",
    "BBB",
    "BB",
    "B",
    "CCC",
    "CC",
    "C",
    "P25",
    "P75",
    "ECharts",
    "GS1",
    "XLSX",
    "wuxin",
    "ledger",
    "verify",  # the CLI command `wuxin ledger verify` quoted in a hint
    "Operator",
    "Monitoring",
    "operator",
    "Bank",  # the demo tenants' own names (物信监测 Wuxin Monitoring (operator))
    "English",  # the language switch names the other language in that language
    "officer",
    "owner",
    "admin",  # the demo users' login names, shown as data
    "Demo",
    "Other",  # the demo banks' names (苏州示范银行 Demo Bank, 江南对照银行 Other Bank), shown as data
}
RAW_CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|\b[a-z]+\.[a-z_]+\b")
WORD = re.compile(r"(?<![\w\-./])[A-Za-z]{2,}(?![\w\-./])")


def offending_tokens(text: str) -> list[str]:
    """Raw codes, and English words not allowed, in the visible text (identifiers with digits or hyphens, like
    device keys and plates, are data, not words)."""
    codes = RAW_CODE.findall(text)
    words = [w for w in WORD.findall(text) if w not in ALLOWED]
    return sorted(set(codes + words))


def test_the_checker_finds_codes_and_english_words():
    assert offending_tokens(
        "严重 liquidation_line manufacturing.current_bracelet substandard 10 kWh Wuxin sz-mill-01"
    ) == ["liquidation_line", "manufacturing.current_bracelet", "substandard"]


def _visible_text(c) -> str:
    """The page's text with every folded part (<details>) opened, and the credit part's tooltips (a finding, how a
    tolerance was measured: words a person reads on hover; elsewhere a tooltip may name a code on purpose)."""
    return c.page.evaluate("""() => {
      document.querySelectorAll('#view details').forEach((d) => { d.open = true; });
      const tips = [...document.querySelectorAll('#view [data-credit] [title]')].map((e) => e.getAttribute('title')).join('\\n');
      return document.getElementById('topbar').innerText + '\\n' + document.getElementById('view').innerText + '\\n' + tips;
    }""")


def _visit(c, who: str, path: str, found: dict) -> None:
    c.open(path, f"[data-page='{path.split('?')[0]}'] h1")
    _settle(c)
    c.page.wait_for_timeout(300)  # sections filled after the first paint
    if path.startswith("#/enterprise/"):  # the cross-verification findings are among what is read
        c.page.wait_for_selector("[data-assessment] li[data-finding-code]", state="attached", timeout=30_000)
        _settle(c)
    bad = offending_tokens(_visible_text(c))
    if bad:
        found[f"{who} {path}"] = bad


def _pages_for_officer(demo: str) -> list[str]:
    officer = _api(demo, "officer")
    mill = _town_mill(demo)
    device = officer.get(f"/api/v1/enterprises/{mill['id']}/devices").json()[0]["key"]
    alarm = officer.get("/api/v1/alarms", params={"limit": 1}).json()[0]["id"]
    return BANK_PAGES + [
        f"#/alarm/{alarm}",
        "#/reviews",
        f"#/enterprise/{mill['id']}",
        f"#/device/{mill['id']}/{device}",
    ]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_page_in_zh_cn_shows_labels_not_codes_and_screenshots_both_languages(console_as, demo, lang):
    found: dict[str, list[str]] = {}
    for who, paths in (("officer", _pages_for_officer(demo)), ("owner", FIRM_PAGES), ("admin", ["#/quarantine"])):
        c = console_as(who, lang)
        for path in paths:
            _visit(c, who, path, found)
            c.shot(f"i18n-{lang}-{who}-" + re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-"))
        assert c.errors == []
    if lang == "zh-CN":
        assert found == {}, "\n".join(f"{page}: {' '.join(tokens)}" for page, tokens in found.items())


def test_the_crosscheck_findings_read_in_the_console_language(console_as, demo):
    """The findings are a code and parameters: the console says them in Chinese or English, never the one in the other."""
    mill = _town_mill(demo)
    for lang, own, other in (
        ("zh-CN", re.compile(r"[\u4e00-\u9fff]"), re.compile(r"\b(reported|cannot be checked|evidence)\b")),
        ("en", re.compile(r"\breported\b"), re.compile(r"[\u4e00-\u9fff]")),
    ):
        c = console_as("officer", lang)
        c.open(f"#/enterprise/{mill['id']}", "[data-assessment]")
        c.page.wait_for_selector("[data-assessment] li[data-finding-code]", state="attached")  # inside folded <details>
        findings = c.page.locator("[data-assessment] li[data-finding-code]").evaluate_all(
            "els => els.map(e => e.textContent)"
        )
        assert findings and all(own.search(f) and not other.search(f) for f in findings), findings
        if lang == "zh-CN":
            assert all(offending_tokens(f) == [] for f in findings), findings
        assert c.errors == []
