"""The console in a real browser: every page for a credit officer and an enterprise user, an
alarm acknowledged, a consent revoked and the bank losing access at once."""
from __future__ import annotations

import httpx

from wuxin.services.demo import DEMO_PASSWORD

BANK_PAGES = ["#/portfolio", "#/alarms", "#/loans", "#/pledges", "#/map", "#/industry", "#/evidence"]
FIRM_PAGES = ["#/my", "#/my/devices", "#/consents"]
SETTLED = "[data-page] > *:not(.muted)"  # the page replaced its loading line


def _settle(c):
    c.page.wait_for_function("() => ![...document.querySelectorAll('main p.muted')].some(p => /Loading|加载中/.test(p.textContent))",
                             timeout=15_000)


def _api(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    token = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}).json()["access_token"]
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def test_credit_officer_opens_every_page_without_console_errors(console_as, demo):
    c = console_as("officer", "zh-CN")
    factory = next(e for e in _api(demo, "officer").get("/api/v1/enterprises").json() if e["industry"] == "manufacturing")
    for path in BANK_PAGES + [f"#/enterprise/{factory['id']}"]:
        c.open(path, f"[data-page='{path}'] h1")
        _settle(c)
        c.shot("officer-" + path.strip("#/").replace("/", "-"))
    assert c.page.locator("[data-testid='timeline']").count() == 1
    c.page.click("#lang")
    c.page.wait_for_selector("text=Equipment status timeline")
    c.shot("officer-enterprise-en")
    c.page.click("a[href^='#/device/']")
    c.page.wait_for_selector("[data-batch]")
    c.page.locator("[data-batch]").first.click()
    c.page.wait_for_selector("[data-proof], [data-state]")
    c.shot("officer-device-proof-en")
    assert c.errors == []


def test_officer_acknowledges_an_alarm(console_as, demo):
    officer = _api(demo, "officer")
    active = officer.get("/api/v1/alarms", params={"status": "active"}).json()
    assert active, "the demo raises alarms from its simulated data"
    c = console_as("officer", "en")
    c.open("#/alarms", "[data-page='#/alarms'] h1")
    c.page.click(f"[data-ack='{active[0]['id']}']")
    c.page.wait_for_selector(f"[data-ack='{active[0]['id']}']", state="detached")
    assert officer.get("/api/v1/alarms", params={"status": "acknowledged"}).json()[0]["id"] == active[0]["id"]
    c.shot("officer-alarm-acknowledged")
    assert c.errors == []


def test_enterprise_user_revokes_consent_and_the_bank_loses_access(console_as, demo):
    owner = console_as("owner", "zh-CN")
    for path in FIRM_PAGES:
        owner.open(path, f"[data-page='{path}'] h1")
        _settle(owner)
        owner.shot("owner-" + path.strip("#/").replace("/", "-"))
    me = _api(demo, "owner").get("/api/v1/me").json()
    officer = _api(demo, "officer")
    bank_consent = next(c for c in _api(demo, "owner").get("/api/v1/consents").json()
                        if c["tenant_id"] == officer.get("/api/v1/me").json()["tenant_id"] and c["revoked_ms"] is None)
    owner.open("#/consents", f"[data-revoke='{bank_consent['id']}']")
    owner.page.click(f"[data-revoke='{bank_consent['id']}']")
    owner.page.wait_for_selector(f"[data-consent-status='{bank_consent['id']}'].revoked")
    owner.shot("owner-consent-revoked")
    assert owner.errors == []

    bank = console_as("officer", "en")
    bank.open(f"#/enterprise/{me['enterprise_id']}", "[data-state='no-access']")
    bank.shot("officer-no-access-after-revoke")
    assert all("403" in e for e in bank.errors)  # the refused request itself, and nothing else
    bank.open("#/portfolio", "[data-page='#/portfolio'] h1")
    assert bank.page.locator(f"a[href='#/enterprise/{me['enterprise_id']}']").count() == 0
