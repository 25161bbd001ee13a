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
