"""The console in a real browser: every page for a credit officer (in Chinese and in English) and an
enterprise user, the evidence of a figure down to its verified ledger proof, the credit part and its
report, an alarm acknowledged, a consent revoked and the bank losing access at once."""

from __future__ import annotations

import httpx
import pytest

from wuxin.services.demo.people import DEMO_PASSWORD

BANK_PAGES = ["#/portfolio", "#/alarms", "#/loans", "#/pledges", "#/map", "#/industry", "#/evidence"]
FIRM_PAGES = ["#/my", "#/my/devices", "#/consents"]


def _settle(c):
    c.page.wait_for_function(
        "() => ![...document.querySelectorAll('main p.muted')].some(p => /Loading|加载中/.test(p.textContent))",
        timeout=30_000,
    )


def _api(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    token = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}).json()[
        "access_token"
    ]
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def _town_mill(base: str) -> dict:
    """A manufacturing borrower of the demo's town cluster: its industry index is published."""
    return next(
        e
        for e in _api(base, "officer").get("/api/v1/enterprises").json()
        if e["industry"] == "manufacturing" and "盛泽" in e["region"]
    )


def _tour(c, lang: str, paths: list[str]) -> None:
    for path in paths:
        c.open(path, f"[data-page='{path.split('?')[0]}'] h1")
        _settle(c)
        c.shot(f"{lang}-" + path.strip("#/").replace("/", "-"))


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_credit_officer_opens_every_page_without_console_errors(console_as, demo, lang):
    c = console_as("officer", lang)
    mill = _town_mill(demo)
    _tour(c, f"officer-{lang}", BANK_PAGES + [f"#/enterprise/{mill['id']}"])
    assert c.page.locator("[data-testid='timeline']").count() == 1
    c.page.wait_for_selector("[data-indicator-chart][data-ready]")
    assert c.page.locator("[data-percentile]").count() >= 1  # the town's index is published
    c.shot(f"officer-{lang}-enterprise-settled")
    c.page.click("table a[href^='#/device/']")
    c.page.wait_for_selector("[data-batch]")
    c.page.locator("[data-batch]").first.click()
    c.page.wait_for_selector("[data-proof][data-verified='true']")
    c.shot(f"officer-{lang}-device-proof")
    assert c.errors == []


def test_an_indicator_point_leads_to_devices_readings_and_a_verified_ledger_proof(console_as, demo):
    c = console_as("officer", "zh-CN")
    mill = _town_mill(demo)
    c.open(f"#/enterprise/{mill['id']}", "[data-indicator-chart][data-ready]")
    c.page.locator("[data-indicator-chart]").scroll_into_view_if_needed()
    x, y = c.page.evaluate("""() => {
        const el = document.querySelector('[data-indicator-chart]'), chart = echarts.getInstanceByDom(el);
        const series = chart.getOption().series, s = series.length - 1, i = series[s].data.findIndex((v) => v != null);
        const [px, py] = chart.convertToPixel({ seriesIndex: s }, [i, series[s].data[i]]), box = el.getBoundingClientRect();
        return [box.left + px, box.top + py];
    }""")
    c.page.mouse.click(x, y)
    c.page.wait_for_selector("[data-figure] [data-readings]")
    c.page.locator("[data-readings]").first.click()
    c.page.wait_for_selector("[data-batch]")
    c.page.locator("[data-batch]").first.click()
    c.page.wait_for_selector("[data-proof][data-verified='true']")
    c.shot("officer-evidence-figure-readings-proof")
    assert c.errors == []


def test_enterprise_page_shows_the_credit_decision_and_opens_the_report_with_the_token(console_as, demo):
    c = console_as("officer", "en")
    mill = _town_mill(demo)
    c.open(f"#/enterprise/{mill['id']}", "[data-decision]")
    c.page.wait_for_selector("[data-assessment]")
    assert c.page.locator("ol.reasons li").count() >= 1
    decision = _api(demo, "officer").get(f"/api/v1/enterprises/{mill['id']}/credit/decisions").json()[0]
    outcome = c.page.locator("[data-outcome]").first
    assert (
        outcome.get_attribute("data-outcome") == decision["outcome"]
    )  # approve / refer / decline, not approved-or-not
    if decision["decision"]["decided_by"]:  # the conditions that decided it, in the console's language
        shown = c.page.locator("[data-decided-by] li").all_inner_texts()
        assert shown == [f["text_en"] for f in decision["decision"]["decided_by"]]
    assert c.page.locator("[data-verification]").get_attribute("data-verification") in (
        "verified",
        "supported",
        "failed",
        "undecided",
    )
    assert (
        c.page.locator("[data-model-label]").first.inner_text() == "simulated — demo only"
    )  # the demo's model says so
    c.page.locator("[data-decision]").first.scroll_into_view_if_needed()
    c.shot("officer-credit-outcome-and-conditions")
    with c.page.context.expect_page() as popup:
        c.page.click("[data-report='html']")
    report = popup.value
    report.wait_for_load_state()
    assert report.url.startswith("blob:") and mill["name"] in report.content()
    report.close()
    pdf = c.page.evaluate(
        """async () => {
        const r = await fetch(location.origin + '/api/v1/enterprises/' + %d + '/credit/report?format=pdf',
                              { headers: { Authorization: 'Bearer ' + sessionStorage.getItem('wuxin.token') } });
        return [r.status, r.headers.get('content-type'), (await r.arrayBuffer()).byteLength];
    }"""
        % mill["id"]
    )
    assert pdf[0] == 200 and pdf[1] == "application/pdf" and pdf[2] > 1000
    anonymous = httpx.get(f"{demo}/api/v1/enterprises/{mill['id']}/credit/report?format=html")
    assert anonymous.status_code == 401  # why the console fetches it with the token
    assert c.errors == []


def test_officer_acknowledges_an_alarm(console_as, demo):
    officer = _api(demo, "officer")
    active = officer.get("/api/v1/alarms", params={"status": "active"}).json()
    assert active, "the demo raises alarms from its simulated data"
    c = console_as("officer", "en")
    c.open("#/alarms", "[data-page='#/alarms'] h1")
    c.page.click(f"[data-ack='{active[0]['id']}']")
    dialog = c.page.locator("dialog[data-dialog='alarm-acknowledge']")
    dialog.locator("textarea[name='reason']").fill("Contacted the enterprise to check")
    dialog.locator("[data-dialog-submit]").click()
    c.page.wait_for_selector(f"[data-ack='{active[0]['id']}']", state="detached")
    assert officer.get("/api/v1/alarms", params={"status": "acknowledged"}).json()[0]["id"] == active[0]["id"]
    c.shot("officer-alarm-acknowledged")
    assert c.errors == []


def test_enterprise_user_revokes_consent_and_the_bank_loses_access(console_as, demo):
    english = console_as("owner", "en")
    _tour(english, "owner-en", FIRM_PAGES)
    assert english.errors == []
    owner = console_as("owner", "zh-CN")
    _tour(owner, "owner-zh-CN", FIRM_PAGES)
    me = _api(demo, "owner").get("/api/v1/me").json()
    officer = _api(demo, "officer")
    bank_consent = next(
        c
        for c in _api(demo, "owner").get("/api/v1/consents").json()
        if c["tenant_id"] == officer.get("/api/v1/me").json()["tenant_id"] and c["revoked_ms"] is None
    )
    owner.open("#/consents", f"[data-revoke='{bank_consent['id']}']")
    owner.page.click(f"[data-revoke='{bank_consent['id']}']")
    owner.page.wait_for_selector(f"[data-consent-status='{bank_consent['id']}'].revoked")
    owner.shot("owner-consent-revoked")
    assert owner.errors == []

    bank = console_as("officer", "en")
    bank.open(f"#/enterprise/{me['enterprise_id']}", "[data-state='not-found']")  # without consent: as if absent
    bank.shot("officer-no-access-after-revoke")
    assert all("404" in e for e in bank.errors)  # the refused request itself, and nothing else
    bank.open("#/portfolio", "[data-page='#/portfolio'] h1")
    assert bank.page.locator(f"a[href='#/enterprise/{me['enterprise_id']}']").count() == 0


@pytest.mark.parametrize("lang, phone", [("zh-CN", "接打电话"), ("en", "Phone use")])
def test_an_alarm_on_an_event_says_the_event_where_the_reading_goes(console_as, lang, phone):
    """A driver-behaviour alarm has no reading: the desk's reading column was empty, so a phone call at the wheel and
    fatigue read alike; the event is said, unless the alarm's type says it already (防拆报警)."""
    c = console_as("officer", lang)
    c.open("#/alarms", "[data-alarm-total]")
    said = c.page.evaluate("""async () => {
        const { readingSummary } = await import("/console/static/pages/alarms.js");
        const event = (value) => ({ value: null, metric: null, facts: [{ key: "event", value }] });
        return [readingSummary(event("phone_use"), "driver_behaviour"), readingSummary(event("tamper"), "device_tamper"),
                readingSummary({ value: null, metric: null, facts: [] }, "device_offline")];
    }""")
    assert said == [phone, "", ""]
    assert c.errors == []
