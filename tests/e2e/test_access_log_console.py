"""The enterprise owner sees, on its own page in a real browser, that a bank read its data, and exports the log."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from wuxin.services.demo.people import DEMO_PASSWORD


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A demo of this file's own: the shared one carries other files' changes (a consent revoked, hostile names)."""
    from tests.e2e.conftest import serve_demo

    yield from serve_demo(tmp_path_factory)


def _client(base: str, username: str) -> tuple[httpx.Client, dict]:
    client = httpx.Client(base_url=base, timeout=30)
    token = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}).json()[
        "access_token"
    ]
    return client, {"Authorization": f"Bearer {token}"}


def test_the_owner_sees_the_bank_officers_read_on_its_page_and_exports_it(console_as, demo):
    owner_client, owner = _client(demo, "owner")
    enterprise_id = owner_client.get("/api/v1/me", headers=owner).json()["enterprise_id"]
    officer_client, officer = _client(demo, "officer")
    assert officer_client.get(f"/api/v1/enterprises/{enterprise_id}/devices", headers=officer).status_code == 200
    assert officer_client.get(f"/api/v1/enterprises/{enterprise_id}/access-log", headers=officer).status_code == 403
    c = console_as("owner", "en")
    c.open("#/my", "[data-testid='access-log'] table")
    log = c.page.locator("[data-testid='access-log']")
    assert log.locator("h2").inner_text() == "Who read our data"
    first = log.locator("tbody tr").first
    assert "信贷员 王芳 (officer)" in first.inner_text() and "devices and their data" in first.inner_text()  # in words
    assert first.locator("[title='devices.list']").count() == 1  # the logged action itself, as the tooltip
    with c.page.expect_download() as download:
        c.page.click("#access-export")
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())))
    assert rows[0]["username"] == "officer" and rows[0]["action"] == "devices.list" and rows[0]["consent_id"]
    c.shot("owner-en-access-log")
    assert not [e for e in c.errors if e.startswith("uncaught")]
    zh = console_as("owner", "zh-CN")
    zh.open("#/my", "[data-testid='access-log'] table")
    assert zh.page.locator("[data-testid='access-log'] h2").inner_text() == "谁读取了我们的数据"
    assert zh.page.locator("[data-testid='access-log'] th", has_text="依据授权").count() == 1
    owner_client.close()
    officer_client.close()


def test_every_read_of_the_bank_is_said_in_words_and_under_its_consent(console_as, demo):
    """The risk workbench, the equipment timeline and the peer percentile read the borrower too: the owner's log said
    "other data" for the first two and no consent for the percentile, although the bank read under one."""
    owner_client, owner = _client(demo, "owner")
    enterprise_id = owner_client.get("/api/v1/me", headers=owner).json()["enterprise_id"]
    risk_client, risk = _client(demo, "risk")
    for path in (
        "/api/v1/portfolio/borrowers?page=1&page_size=20",
        f"/api/v1/console/enterprises/{enterprise_id}/equipment-timeline?days=7",
        f"/api/v1/enterprises/{enterprise_id}/percentile?indicator=run_hours&day=2026-01-05",
    ):
        assert risk_client.get(path, headers=risk).status_code == 200, path
    log = owner_client.get(f"/api/v1/enterprises/{enterprise_id}/access-log", headers=owner).json()
    percentile = [e for e in log if e["action"] == "indicators.percentile" and e["username"] == "risk"]
    assert percentile and all(e["consent_id"] is not None for e in percentile)
    c = console_as("owner", "en")
    c.open("#/my", "[data-testid='access-log'] table")
    rows = c.page.locator("[data-testid='access-log'] tbody tr")
    said = {
        rows.nth(i).locator("[title]").first.get_attribute("title"): rows.nth(i).inner_text()
        for i in range(rows.count())
    }
    assert "borrower list" in said["portfolio.borrowers"] and "device readings" in said["console.timeline"]
    assert [action for action, text in said.items() if "other data" in text] == []
    assert c.errors == []
    owner_client.close()
    risk_client.close()
