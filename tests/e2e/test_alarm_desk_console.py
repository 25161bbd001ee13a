"""The alarm desk in Chromium: an officer filters the list on the server, opens an alarm and reads which device,
reading and threshold fired and its history, acknowledges two alarms with a written reason in a modal dialog
(never window.prompt), and exports the filtered list as CSV, in zh-CN and in English."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from tests.e2e.conftest import ARTIFACTS
from wuxin.bench.browser import serve_in_thread
from wuxin.bootstrap import build_platform
from wuxin.cli.core import prepare_database
from wuxin.config import Settings
from wuxin.services.demo.people import DEMO_PASSWORD
from wuxin.services.demo.setup import load_demo

HOSTILE = "<img src=x onerror=window.__pwned=1>"
PLANTED = 3


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A demo of this file's own (its acknowledgements would upset other files' checks), with three overcurrent
    alarms planted on the owner's mill: their readings and thresholds are known here."""
    folder = tmp_path_factory.mktemp("alarm-desk")
    platform = build_platform(Settings(database_url=f"sqlite:///{folder}/demo.db", environment="test", var_dir=folder))
    prepare_database(platform)
    load_demo(platform, days=2, per_scenario=1, seed=11, progress=lambda _: None)
    now = platform.clock_ms()
    with platform.uow() as uow:
        enterprise_id = uow.identity.user_by_username("owner")["enterprise_id"]
        bracelets = [
            d for d in uow.devices.list(enterprise_id) if d["device_type"] == "manufacturing.current_bracelet"
        ][:PLANTED]
        for i, d in enumerate(bracelets):
            uow.monitoring.raise_alarm(
                dict(
                    scope="platform",
                    tenant_id=None,
                    source=f"device:{d['id']}",
                    alarm_type="overcurrent",
                    rule_id="manufacturing.overcurrent",
                    severity="minor",
                    status="active",
                    enterprise_id=enterprise_id,
                    device_id=d["id"],
                    loan_ids=[],
                    started_ms=now - (i + 1) * 60_000,
                    last_ms=now - i * 1000,
                    stored_ms=now,
                    detail={
                        "device": d["key"],
                        "key": "current_a",
                        "value": 61.5 + i,
                        "limit": 45.0,
                        "since_ms": now - (i + 1) * 60_000,
                        "zone": HOSTILE,
                    },
                )
            )
        uow.commit()
    with serve_in_thread(platform) as url:
        yield url
    platform.close()


def _api(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    token = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}).json()[
        "access_token"
    ]
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def _planted(officer: httpx.Client) -> tuple[int, list[dict], int]:
    me = officer.get("/api/v1/alarms", params={"alarm_type": "overcurrent", "status": "active"})
    rows = [r for r in me.json() if r["explanation"]["threshold"] == 45.0]
    assert len(rows) == PLANTED
    return rows[0]["enterprise_id"], rows, int(me.headers["X-Total-Count"])


def _filter(c, enterprise_id: int) -> None:
    c.page.select_option("[data-filter='enterprise_id']", str(enterprise_id))
    c.page.select_option("[data-filter='alarm_type']", "overcurrent")
    c.page.select_option("[data-filter='status']", "active")
    c.page.click("[data-apply]")
    c.page.wait_for_function("location.hash.includes('alarm_type=overcurrent')")
    c.page.wait_for_selector("[data-alarm-total]")


def _read_download(c) -> list[list[str]]:
    with c.page.expect_download() as info:
        c.page.click("[data-export='csv']")
    path = ARTIFACTS / f"alarms-{info.value.suggested_filename}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    info.value.save_as(str(path))
    text = path.read_bytes().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_an_officer_filters_reads_acknowledges_in_a_dialog_and_exports(console_as, demo):
    officer = _api(demo, "officer")
    enterprise_id, rows, total = _planted(officer)
    c = console_as("officer", "zh-CN")
    windows: list[str] = []
    c.page.on("dialog", lambda d: windows.append(d.type))  # a window.prompt / alert / confirm would show here
    c.open("#/alarms", "[data-alarm-filters]")
    _filter(c, enterprise_id)
    assert c.page.locator("[data-alarm-total]").get_attribute("data-alarm-total") == str(total)
    assert c.page.locator("[data-select]").count() == total
    first = rows[0]
    reading = c.page.locator(f"[data-alarm-reading='{first['id']}']").inner_text()
    assert "63.5" in reading and "阈值 45" in reading and "高于" in reading
    assert first["device"]["key"] in c.page.locator(f"[data-alarm-device='{first['id']}']").inner_text()
    c.shot("alarm-desk-list-zh")

    c.page.click(f"[data-detail='{first['id']}']")
    c.page.wait_for_selector(f"[data-alarm-explanation='{first['id']}']")
    facts = c.page.locator(f"[data-alarm-explanation='{first['id']}']").inner_text()
    assert first["device"]["key"] in facts and "63.5" in facts and "45" in facts and first["enterprise_name"] in facts
    assert HOSTILE in facts and c.page.locator("img[src='x']").count() == 0  # shown as text, never as markup
    assert c.page.evaluate("window.__pwned") is None
    c.shot("alarm-desk-detail-zh")

    c.page.click("[data-back]")
    c.page.wait_for_selector("[data-alarm-filters]")
    _filter(c, enterprise_id)
    chosen = [rows[0]["id"], rows[1]["id"]]
    for alarm_id in chosen:
        c.page.check(f"[data-select='{alarm_id}']")
    c.page.click("[data-bulk='acknowledge']")
    dialog = c.page.locator("dialog[data-dialog='alarm-acknowledge']")
    dialog.wait_for()
    assert "2" in dialog.locator("h2").inner_text()
    dialog.locator("[data-dialog-submit]").click()  # no reason yet: the form refuses, the dialog stays
    assert dialog.is_visible() and officer.get(f"/api/v1/alarms/{chosen[0]}").json()["status"] == "active"
    dialog.locator("textarea[name='reason']").fill("已电话联系厂长核实")
    c.shot("alarm-desk-dialog-zh")
    dialog.locator("[data-dialog-submit]").click()
    c.page.wait_for_selector("[data-bulk-done='2'][data-bulk-failed='0']")
    for alarm_id in chosen:
        detail = officer.get(f"/api/v1/alarms/{alarm_id}").json()
        assert detail["status"] == "acknowledged"
        assert [(h["action"], h["username"], h["reason"]) for h in detail["history"]][-1] == (
            "acknowledge",
            "officer",
            "已电话联系厂长核实",
        )
    assert windows == []

    _filter(c, enterprise_id)
    assert c.page.locator("[data-select]").count() == total - 2
    table = _read_download(c)
    assert table[0][:4] == ["编号", "级别", "预警类型", "状态"]
    listed = officer.get(
        "/api/v1/alarms",
        params={"alarm_type": "overcurrent", "status": "active", "enterprise_id": enterprise_id, "limit": 1000},
    ).json()
    assert [int(r[0]) for r in table[1:]] == [r["id"] for r in listed]
    exported = {int(r[0]): dict(zip(table[0], r)) for r in table[1:]}
    assert exported[rows[2]["id"]]["阈值"] == "45.0" and exported[rows[2]["id"]]["级别"] == "次要"

    c.open(f"#/alarm/{chosen[0]}", "[data-history-action='acknowledge']")  # no longer in the list of active ones
    assert "已电话联系厂长核实" in c.page.locator("[data-history-reason]").last.inner_text()
    c.shot("alarm-desk-audit-zh")
    assert c.errors == []


def test_the_desk_reads_in_english_and_exports_english_headers(console_as, demo):
    officer = _api(demo, "officer")
    enterprise_id, rows, _ = _planted_any(officer)
    c = console_as("risk", "en")
    c.open("#/alarms", "[data-alarm-filters]")
    _filter(c, enterprise_id)
    reading = c.page.locator(f"[data-alarm-reading='{rows[0]['id']}']").inner_text()
    assert "Threshold 45" in reading and "above" in reading
    assert c.page.locator("[data-bulk='acknowledge']").inner_text().startswith("Acknowledge selected")
    c.shot("alarm-desk-list-en")
    table = _read_download(c)
    assert table[0][:4] == ["ID", "Severity", "Alarm type", "State"]
    c.page.click(f"[data-detail='{rows[0]['id']}']")
    c.page.wait_for_selector(f"[data-alarm-explanation='{rows[0]['id']}']")
    assert "What fired" in c.page.inner_text("body") and "State history and audit trail" in c.page.inner_text("body")
    c.shot("alarm-desk-detail-en")
    assert c.errors == []


def _planted_any(officer: httpx.Client) -> tuple[int, list[dict], int]:
    """The planted alarms whatever their state (the first test acknowledged two)."""
    rows = [
        r
        for r in officer.get("/api/v1/alarms", params={"alarm_type": "overcurrent", "status": "active"}).json()
        if r["explanation"]["threshold"] == 45.0
    ]
    assert rows
    return rows[0]["enterprise_id"], rows, len(rows)
