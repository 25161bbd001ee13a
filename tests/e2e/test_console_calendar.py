"""The firm's calendar in a real browser: the enterprise declares a maintenance window on its page, sees it listed (a
hostile note shown as text), and the officer's form is refused by the API (a bank reads, it does not declare)."""

from __future__ import annotations

import datetime as dt

import httpx

from wuxin.services.demo.people import DEMO_PASSWORD

HOSTILE = '<img src=x onerror="window.__pwned=1">检修'


def _me(base: str, username: str) -> dict:
    with httpx.Client(base_url=base, timeout=30) as client:
        token = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}).json()[
            "access_token"
        ]
        return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()


def test_the_enterprise_declares_a_maintenance_window_on_its_page(console_as, demo):
    me = _me(demo, "owner")
    c = console_as("owner", "en")
    c.open(f"#/enterprise/{me['enterprise_id']}", "[data-testid='calendar']")
    assert (
        c.page.locator("[data-testid='calendar'] h2, section.card h2", has_text="Shutdowns and maintenance").count()
        >= 1
    )
    c.page.select_option("#period-kind", "maintenance")
    day = (dt.date.today() + dt.timedelta(days=1)).isoformat()  # the enterprise declares ahead, not history
    c.page.fill("#period-start", f"{day}T08:00")
    c.page.fill("#period-end", f"{day}T16:00")
    c.page.fill("#period-note", HOSTILE)
    c.page.click("#period-add")
    c.page.wait_for_selector("[data-testid='calendar'] td:has-text('maintenance')")
    assert c.page.locator("[data-testid='calendar'] td", has_text="onerror").count() == 1  # the note, as text
    assert c.page.evaluate("() => window.__pwned") is None
    c.shot("owner-en-calendar-declared")
    assert not [e for e in c.errors if e.startswith("uncaught")]
    zh = console_as("owner", "zh-CN")
    zh.open(f"#/enterprise/{me['enterprise_id']}", "[data-testid='calendar'] td")
    assert zh.page.locator("[data-testid='calendar'] td", has_text="检修").count() >= 1
