"""The risk workbench over HTTP, on SQLite and PostgreSQL: each figure recomputed from what the test stored, search,
filters, sort and pages; the watch-list; CSV and XLSX exports; and every way in refused (another bank, an enterprise
user, a revoked or partial consent, a borrower the bank may not know)."""

from __future__ import annotations

import csv
import io
import random
from decimal import Decimal

import openpyxl

from tests.integration.credit_world import as_of, put_indicators, recent_readings, register_model
from tests.world import DAY_MS, build_world, login
from wuxin.services.access import consent
from wuxin.services.devices import registry
from wuxin.services.devices.connectivity import record_device_presence
from wuxin.sim.spec import make_uscc

HOSTILE = '=HYPERLINK("http://evil","x")'


def _decision(
    platform,
    world,
    version: str,
    enterprise_id: int,
    grade: str,
    score: float,
    outcome: str,
    days_ago: float,
    limit_cny: str | None = None,
    tenant_id: int | None = None,
) -> int:
    """A decision stored as the credit part stores one (the workbench reads stored decisions, whoever made them)."""
    with platform.uow() as uow:
        decision_id = uow.credit.add_decision(
            enterprise_id=enterprise_id,
            tenant_id=tenant_id or world.bank,
            user_id=world.users["officer"],
            product_code="digital_manufacturing",
            model_version=version,
            as_of_day=as_of(platform),
            features={},
            cross_checks=[],
            decision={"outcome": outcome},
            score=score,
            pd=0.02,
            grade=grade,
            approved=outcome == "approve",
            limit_cny=limit_cny,
            expected_loss_cny="0",
            decided_ms=platform.clock_ms() - int(days_ago * DAY_MS),
        )
        uow.commit()
    return decision_id


def _loan(platform, tenant_id: int, enterprise_id: int, outstanding: str, state: str = "monitoring") -> int:
    now = platform.clock_ms()
    with platform.uow() as uow:
        loan_id = uow.monitoring.add_loan(
            tenant_id=tenant_id,
            enterprise_id=enterprise_id,
            product="digital_manufacturing",
            amount_cny=Decimal("500000"),
            outstanding_cny=Decimal(outstanding),
            state=state,
            risk_class="normal",
            monitoring_plan={"devices": []},
            maintenance_ratio=Decimal("1.3"),
            liquidation_ratio=Decimal("1.1"),
            created_ms=now,
            updated_ms=now,
        )
        uow.commit()
    return loan_id


def _alarm(
    platform,
    enterprise_id: int,
    severity: str,
    status: str = "active",
    tenant_id: int | None = None,
    days_ago: float = 1,
    kind: str = "x",
) -> None:
    at = platform.clock_ms() - int(days_ago * DAY_MS)
    with platform.uow() as uow:
        alarm_id, _ = uow.monitoring.raise_alarm(
            dict(
                scope=f"tenant:{tenant_id}" if tenant_id else "platform",
                tenant_id=tenant_id,
                source=f"enterprise:{enterprise_id}",
                alarm_type=f"{kind}_{severity}_{status}",
                rule_id=f"test.{kind}",
                severity=severity,
                status="active",
                enterprise_id=enterprise_id,
                device_id=None,
                loan_ids=[],
                started_ms=at,
                last_ms=at,
                stored_ms=at,
                detail={},
            )
        )
        if status != "active":
            uow.monitoring.set_alarm(alarm_id, status=status, cleared_ms=at + 1 if status == "cleared" else None)
        uow.commit()


def _setup(live, platform):
    """Factory (manufacturing): 40 days of run hours and an index, BBB -> BB (refer), a live loan of 200 000 and a
    closed one, one online device of three, alarms of each kind. Fleet (vehicles): approved with a 400 000 limit, a
    loan of 100 000, an open critical alarm, no indicators. A third borrower with a hostile name and nothing else."""
    world = build_world(platform)
    expires = platform.clock_ms() + 30 * DAY_MS
    world.consent_bank_fleet = consent.grant(platform, None, world.fleet, world.bank, "all", [], "credit", expires)
    hostile = registry.create_enterprise(platform, None, HOSTILE, make_uscc(random.Random(9)), "dairy", "-1+1 region")
    consent.grant(platform, None, hostile, world.bank, "all", [], "credit", expires)
    consent.grant(platform, None, world.factory, world.other_bank, "all", [], "credit", expires)
    version = register_model(platform)
    put_indicators(platform, world.factory, history=40)
    recent_readings(platform, {"loom-01": "current_a"})
    _decision(platform, world, version, world.factory, "BBB", 600.0, "approve", days_ago=20, limit_cny="300000")
    _decision(platform, world, version, world.factory, "BB", 580.0, "refer", days_ago=1)
    _decision(platform, world, version, world.fleet, "A", 700.0, "approve", days_ago=3, limit_cny="400000")
    _decision(platform, world, version, world.fleet, "CCC", 400.0, "decline", days_ago=2, tenant_id=world.other_bank)
    _loan(platform, world.bank, world.factory, "200000")
    _loan(platform, world.bank, world.factory, "50000", state="closed")
    _loan(platform, world.bank, world.fleet, "100000")
    _loan(platform, world.other_bank, world.factory, "999000")
    _alarm(platform, world.factory, "major", status="acknowledged")
    _alarm(platform, world.factory, "critical", status="cleared")
    _alarm(platform, world.factory, "critical", tenant_id=world.other_bank)  # another bank's own alarm
    _alarm(platform, world.fleet, "critical")
    _alarm(platform, world.fleet, "minor", days_ago=20, kind="old")
    world.hostile = hostile
    return world


def _rows(live, headers, **params) -> dict:
    r = live.client.get("/api/v1/portfolio/borrowers", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def _names(body) -> list[str]:
    return [row["name"] for row in body["items"]]


def test_each_borrowers_figures_come_from_what_is_stored_and_missing_ones_are_null(live, platform):
    world = _setup(live, platform)
    body = _rows(live, login(live.client, "officer"))
    assert body["total"] == 3 and len(body["days"]) == 30
    factory, fleet, hostile = (
        next(r for r in body["items"] if r["enterprise_id"] == e) for e in (world.factory, world.fleet, world.hostile)
    )
    d = factory["decision"]
    assert (d["outcome"], d["grade"], d["score"], d["previous_grade"], d["grade_change"], d["score_change"]) == (
        "refer",
        "BB",
        580.0,
        "BBB",
        -1,
        -20.0,
    )
    assert (
        factory["exposure_cny"] == "200000.00" and factory["limit_cny"] is None and factory["limit_use_ratio"] is None
    )
    assert factory["alarms_open"] == {"critical": 0, "major": 1, "minor": 0, "warning": 0, "total": 1}
    assert (factory["devices"], factory["devices_online"], factory["online_share_ratio"]) == (3, 1, 0.3333)
    activity = factory["activity"]
    assert activity["indicator"] == "run_hours" and activity["unit"] == "h" and len(activity["values"]) == 30
    assert all(v is not None for v in activity["values"]) and activity["industry_median"] == [15.0] * 30
    assert factory["evidence_days"] == 30 and factory["evidence_coverage_ratio"] == 1.0
    assert 0.9 < activity["trend_ratio"] < 1.1  # a steady wobble around 16 h
    assert (
        fleet["decision"]["outcome"] == "approve" and fleet["decision"]["previous_grade"] is None
    )  # the other bank's is not ours
    assert fleet["decision"]["grade_change"] is None and fleet["decision"]["score_change"] is None
    assert (fleet["exposure_cny"], fleet["limit_cny"], fleet["limit_use_ratio"]) == ("100000.00", "400000", 0.25)
    assert fleet["alarms_open"]["critical"] == 1 and fleet["alarms_open"]["minor"] == 1
    assert fleet["activity"]["values"] == [None] * 30 and fleet["activity"]["trend_ratio"] is None
    assert (
        fleet["evidence_days"] == 0 and fleet["online_share_ratio"] == 0.0
    )  # a device that never reported: known offline
    assert hostile["decision"] is None and hostile["exposure_cny"] is None and hostile["devices"] == 0
    assert hostile["online_share_ratio"] is None and hostile["pledge_coverage_ratio"] is None
    assert hostile["name"] == HOSTILE and not any(r["consent_partial"] for r in body["items"])


def test_search_filters_sort_and_pages_run_on_the_server(live, platform):
    world = _setup(live, platform)
    officer = login(live.client, "officer")
    assert _names(_rows(live, officer, q="恒达")) == ["吴江恒达化纤有限公司"]
    assert _names(_rows(live, officer, industry="vehicles")) == ["宁波顺达物流有限公司"]
    assert _names(_rows(live, officer, outcome="refer")) == ["吴江恒达化纤有限公司"]
    assert _names(_rows(live, officer, outcome="none")) == [HOSTILE]
    assert _names(_rows(live, officer, critical="true")) == ["宁波顺达物流有限公司"]
    by_exposure = _rows(live, officer, sort="exposure_cny", order="desc")
    assert [r["enterprise_id"] for r in by_exposure["items"]] == [world.factory, world.fleet, world.hostile]
    ascending = _rows(live, officer, sort="exposure_cny", order="asc")
    assert [r["enterprise_id"] for r in ascending["items"]] == [
        world.fleet,
        world.factory,
        world.hostile,
    ]  # missing last
    assert [r["decision"]["grade"] for r in _rows(live, officer, sort="grade", order="desc")["items"][:2]] == [
        "A",
        "BB",
    ]
    page = _rows(live, officer, sort="name", order="asc", page=2, page_size=2)
    assert (page["total"], page["pages"], len(page["items"])) == (3, 2, 1)
    bad = live.client.get("/api/v1/portfolio/borrowers", headers=officer, params={"sort": "password"})
    assert bad.status_code in (400, 422) and "sort 'password'" in bad.json()["message"]
    assert live.client.get("/api/v1/portfolio/borrowers", headers=officer, params={"page_size": 201}).status_code == 422


def test_the_watch_list_is_each_users_own_persisted_and_audited(live, platform):
    world = _setup(live, platform)
    officer, risk = login(live.client, "officer"), login(live.client, "risk")
    r = live.client.put(f"/api/v1/portfolio/watchlist/{world.factory}", headers=officer)
    assert r.status_code == 200 and r.json() == {"enterprise_id": world.factory, "watched": True, "changed": True}
    assert live.client.put(f"/api/v1/portfolio/watchlist/{world.factory}", headers=officer).json()["changed"] is False
    assert _names(_rows(live, officer, watched="true")) == ["吴江恒达化纤有限公司"]
    assert _rows(live, risk, watched="true")["total"] == 0  # a colleague's list is not mine
    assert live.client.get("/api/v1/portfolio/watchlist", headers=officer).json() == {"enterprise_ids": [world.factory]}
    assert [r["watched"] for r in _rows(live, officer, sort="watched", order="desc")["items"]] == [True, False, False]
    assert live.client.delete(f"/api/v1/portfolio/watchlist/{world.factory}", headers=officer).json()["changed"] is True
    assert _rows(live, officer, watched="true")["total"] == 0
    with platform.uow() as uow:
        actions = [(a["action"], a["subject"]) for a in uow.logs.audit_entries(50)]
    assert ("portfolio.watch.add", f"enterprise:{world.factory}") in actions
    assert ("portfolio.watch.remove", f"enterprise:{world.factory}") in actions


def test_summary_shows_where_exposure_sits_and_what_changed_this_week(live, platform):
    world = _setup(live, platform)
    body = live.client.get("/api/v1/portfolio/summary", headers=login(live.client, "officer")).json()
    assert body["exposure_cny"] == "300000.00" and body["borrowers"] == 3
    assert [(g["key"], g["exposure_cny"], g["share_ratio"]) for g in body["by_industry"]] == [
        ("manufacturing", "200000.00", 0.6667),
        ("vehicles", "100000.00", 0.3333),
    ]
    assert [(g["key"], g["borrowers"]) for g in body["by_grade"]] == [("BB", 1), ("A", 1)]
    week = body["week"]
    assert [(d["enterprise_id"], d["from_grade"], d["to_grade"]) for d in week["downgrades"]] == [
        (world.factory, "BBB", "BB")
    ]
    assert week["new_critical_alarms"] == [  # started this week, cleared or not; the other bank's own one not counted
        {"enterprise_id": world.factory, "name": "吴江恒达化纤有限公司", "alarms": 1},
        {"enterprise_id": world.fleet, "name": "宁波顺达物流有限公司", "alarms": 1},
    ]
    assert week["decisions"] == {"total": 2, "by_outcome": {"approve": 1, "refer": 1, "decline": 0}}


def test_exports_write_the_filtered_rows_in_the_readers_language_with_formulas_defused(live, platform):
    world = _setup(live, platform)
    officer = login(live.client, "officer")
    r = live.client.get(
        "/api/v1/portfolio/borrowers/export",
        headers=officer,
        params={"format": "csv", "lang": "en", "sort": "name", "order": "asc"},
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
    header, rows = table[0], table[1:]
    assert header[:3] == ["Watched", "Borrower", "Region"] and "Exposure (CNY)" in header
    by_name = {row[1]: dict(zip(header, row)) for row in rows}
    assert sorted(by_name) == sorted(["'" + HOSTILE, "吴江恒达化纤有限公司", "宁波顺达物流有限公司"])
    assert by_name["'" + HOSTILE]["Region"] == "'-1+1 region" and by_name["'" + HOSTILE]["Exposure (CNY)"] == ""
    factory = by_name["吴江恒达化纤有限公司"]
    assert (factory["Industry"], factory["Latest decision"], factory["Score change"], factory["Exposure (CNY)"]) == (
        "Manufacturing",
        "Refer to a person",
        "-20.0",
        "200000.00",
    )
    zh = live.client.get(
        "/api/v1/portfolio/borrowers/export",
        headers=officer,
        params={"format": "xlsx", "lang": "zh-CN", "industry": "manufacturing"},
    )
    sheet = openpyxl.load_workbook(io.BytesIO(zh.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("关注", "借款企业", "地区") and len(values) == 2
    header = list(values[0])
    assert values[1][1] == "吴江恒达化纤有限公司" and values[1][header.index("敞口（元）")] == 200000
    assert values[1][header.index("最新授信决定")] == "转人工审批" and values[1][header.index("批准额度（元）")] is None
    hostile = live.client.get(
        "/api/v1/portfolio/borrowers/export", headers=officer, params={"format": "xlsx", "q": "HYPERLINK"}
    )
    cell = openpyxl.load_workbook(io.BytesIO(hostile.content)).active.cell(row=2, column=2)
    assert cell.value == "'" + HOSTILE and cell.data_type == "s"  # text, not a formula
    with platform.uow() as uow:
        assert sum(1 for a in uow.logs.audit_entries(50) if a["action"] == "portfolio.export") == 3
        reads = [a for a in uow.logs.access_entries(world.factory, 200) if a["action"] == "portfolio.export"]
    assert reads and all(a["consent_id"] == world.consent_bank_factory for a in reads)


def test_another_bank_an_enterprise_user_and_a_revoked_or_partial_consent_see_nothing_they_may_not(live, platform):
    world = _setup(live, platform)
    other, owner, officer = login(live.client, "other"), login(live.client, "owner"), login(live.client, "officer")
    theirs = _rows(live, other)
    assert [r["enterprise_id"] for r in theirs["items"]] == [world.factory]  # only what consented to the other bank
    assert theirs["items"][0]["exposure_cny"] == "999000.00" and theirs["items"][0]["decision"] is None  # its own book
    assert live.client.put(f"/api/v1/portfolio/watchlist/{world.fleet}", headers=other).status_code == 404
    assert (
        live.client.get("/api/v1/portfolio/borrowers/export", headers=other, params={"q": "顺达"}).text.count("\r\n")
        == 1
    )  # the header only
    for method, path in (
        ("GET", "/borrowers"),
        ("GET", "/summary"),
        ("GET", "/borrowers/export"),
        ("GET", "/watchlist"),
        ("PUT", f"/watchlist/{world.factory}"),
    ):
        r = live.client.request(method, f"/api/v1/portfolio{path}", headers=owner)
        assert r.status_code == 403, (path, r.text)
    assert live.client.get("/api/v1/portfolio/borrowers").status_code == 401
    live.client.put(f"/api/v1/portfolio/watchlist/{world.fleet}", headers=officer)
    revoked = live.client.post(
        f"/api/v1/consents/{world.consent_bank_fleet}/revoke", headers=login(live.client, "fleetowner")
    )
    assert revoked.status_code == 200, revoked.text
    assert world.fleet not in [r["enterprise_id"] for r in _rows(live, officer)["items"]]
    assert live.client.get("/api/v1/portfolio/watchlist", headers=officer).json() == {"enterprise_ids": []}
    exported = live.client.get("/api/v1/portfolio/borrowers/export", headers=officer, params={"lang": "en"}).text
    assert "宁波顺达物流有限公司" not in exported and "吴江恒达化纤有限公司" in exported
    assert live.client.put(f"/api/v1/portfolio/watchlist/{world.fleet}", headers=officer).status_code == 404
    assert live.client.post(f"/api/v1/consents/{world.consent_bank_factory}/revoke", headers=owner).status_code == 200
    consent.grant(
        platform, None, world.factory, world.bank, "devices", ["loom-01"], "credit", platform.clock_ms() + DAY_MS
    )
    partial = next(r for r in _rows(live, officer)["items"] if r["enterprise_id"] == world.factory)
    assert partial["consent_partial"] and partial["decision"] is None and partial["activity"]["values"] is None
    assert partial["evidence_coverage_ratio"] is None and (partial["devices"], partial["devices_online"]) == (1, 1)


def test_a_device_recorded_offline_is_offline_in_the_portfolio_and_the_device_list_at_once(live, platform):
    """A device that reported a minute ago but whose gateway then said it disconnected: both views say offline."""
    world = _setup(live, platform)
    officer = login(live.client, "officer")
    assert record_device_presence(platform, "loom-01", "offline", "gateway_disconnect")
    devices = live.client.get(f"/api/v1/enterprises/{world.factory}/devices", headers=officer).json()
    listed = {d["key"]: d["connectivity"] for d in devices}
    factory = next(r for r in _rows(live, officer)["items"] if r["enterprise_id"] == world.factory)
    assert listed["loom-01"] == "offline"
    assert factory["devices_online"] == sum(state == "online" for state in listed.values()) == 0
