"""The demo loads borrowers of every scenario with consent and history, and serves them."""

from __future__ import annotations

import re

from wuxin.scenarios import scenario_packs
from wuxin.services.demo.people import DEMO_PASSWORD
from wuxin.services.demo.setup import load_demo


def login(client, username):
    token = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}).json()[
        "access_token"
    ]
    return {"Authorization": f"Bearer {token}"}


def test_demo_loads_every_scenario_once_and_serves_it(platform, live):
    report = load_demo(platform, days=1, per_scenario=1, seed=7, progress=lambda _: None, credit_portfolio=False)
    assert "0 rejected" in report and f"{len(scenario_packs())} scenarios" in report
    assert load_demo(platform, days=1, per_scenario=1).startswith("demo data already loaded")
    officer = login(live.client, "officer")
    heads = live.client.get("/api/v1/ledger/tree-heads?limit=1", headers=officer).json()  # the auditor's first look
    with platform.uow() as uow:
        assert [h["tree_size"] for h in heads] == [uow.ledger.tree_size()] != [0]  # signed over the loaded ledger
    enterprises = live.client.get("/api/v1/enterprises", headers=officer).json()
    assert sorted({e["industry"] for e in enterprises}) == sorted(scenario_packs())
    assert sum("盛泽" in e["region"] for e in enterprises) >= 5  # a town cluster big enough for its index
    factory = next(e for e in enterprises if e["industry"] == "manufacturing")
    devices = live.client.get(f"/api/v1/enterprises/{factory['id']}/devices", headers=officer).json()
    bracelet = next(d for d in devices if d["device_type"] == "manufacturing.current_bracelet")
    url = f"/api/v1/enterprises/{factory['id']}/devices/{bracelet['key']}/telemetry?key=current_a"
    readings = live.client.get(url, headers=officer).json()["readings"]
    assert len(readings) > 100 and all(r["value"] >= 0 for r in readings)
    assert live.client.get("/api/v1/enterprises", headers=login(live.client, "other-officer")).json() == []
    assert [e["id"] for e in live.client.get("/api/v1/enterprises", headers=login(live.client, "owner")).json()] == [
        factory["id"]
    ]
    models = live.client.get("/api/v1/credit/models", headers=officer).json()  # the demo model went through governance
    active = [m for m in models if m["state"] == "active"]
    assert len(active) == 1 and active[0]["validation"]["passed"] and active[0]["approved_by_name"] == "risk"
    assert active[0]["label"] == {"zh": "模拟数据训练 — 仅限演示", "en": "simulated — demo only"}
    decisions = live.client.get(f"/api/v1/enterprises/{factory['id']}/credit/decisions", headers=officer).json()
    assert decisions and all(d["model_label"] == active[0]["label"] for d in decisions)
    _the_fleet_loan_is_warned_for_its_truck_leaving_its_area(platform)
    _every_warned_loan_names_a_major_or_critical_alarm_in_both_languages(platform)


def _the_fleet_loan_is_warned_for_its_truck_leaving_its_area(platform):
    """The demo's incident (a pledged truck out of its permitted area, major) is what warns the vehicle loan: the
    reason names it in both languages, and no driver-safety event (fatigue, phone: severity warning) is among it."""
    from wuxin.services.bootstrap import packs_with

    with platform.uow() as uow:
        fleets = {e["id"] for e in uow.enterprises.list() if e["industry"] in packs_with("demo_fleet_loan")}
        [loan] = [l for l in uow.monitoring.loans() if l["enterprise_id"] in fleets]
        history = [h for h in uow.monitoring.history(loan["id"]) if h["to_value"] == "warning"]
    assert loan["state"] == "warning" and len(history) == 1, (loan, history)
    assert "驶出电子围栏 Left the geofence" in history[0]["reason"], history[0]["reason"]
    assert "驾驶行为" not in history[0]["reason"] and "driver_behaviour" not in history[0]["reason"]


def _every_warned_loan_names_a_major_or_critical_alarm_in_both_languages(platform):
    """No loan is warned for nothing ('demo: warn' used to be a reason) nor on minor events."""
    with platform.uow() as uow:
        warned = [l for l in uow.monitoring.loans() if l["state"] == "warning"]
        reasons = [h["reason"] for l in warned for h in uow.monitoring.history(l["id"]) if h["to_value"] == "warning"]
        named = {r: [uow.monitoring.alarm(int(n)) for n in re.findall(r"#(\d+) ", r)] for r in reasons}
    assert warned and len(reasons) == len(warned)
    for reason, alarms in named.items():
        assert alarms and None not in alarms, reason
        assert {a["severity"] for a in alarms} <= {"major", "critical"}, reason
        assert reason.startswith("贷后告警 / alarms on the loan: "), reason


def test_driver_safety_alarms_alone_leave_the_fleet_loan_in_monitoring(platform, monkeypatch):
    """Without the demo's incident the fleet's trucks raise only driver-safety alarms (fatigue, phone: severity
    warning); a bank does not warn a vehicle loan on those, so it stays in monitoring."""
    from wuxin.services.bootstrap import packs_with
    from wuxin.services.demo import setup

    monkeypatch.setattr(setup, "demo_incidents", lambda *_: [])
    load_demo(platform, days=1, per_scenario=1, seed=7, progress=lambda _: None, credit_portfolio=False)
    with platform.uow() as uow:
        fleets = {e["id"] for e in uow.enterprises.list() if e["industry"] in packs_with("demo_fleet_loan")}
        [loan] = [l for l in uow.monitoring.loans() if l["enterprise_id"] in fleets]
        alarms = uow.monitoring.list_alarms([loan["enterprise_id"]], None, "active", None, 500)
    assert {a["severity"] for a in alarms} == {"warning"}, [(a["alarm_type"], a["severity"]) for a in alarms]
    assert loan["state"] == "monitoring"


def test_an_enterprise_whose_pack_has_no_product_gets_no_demo_loan_and_the_demo_says_why(platform, monkeypatch):
    from wuxin.services.demo import monitoring, setup

    bank, other, operator = setup._tenants(platform)
    spec = setup.demo_fleet(1, 7, credit_portfolio=False)[0]
    enterprise = setup._onboard(platform, spec, bank, operator)
    setup._users(platform, bank, other, operator, enterprise)
    monkeypatch.setattr(monitoring, "demo_product", lambda industry: None)  # a pack without products.json
    said: list[str] = []
    monitoring.demo_loans(platform, [spec], [enterprise], said.append)
    assert said == [f"no demo loan for enterprise {enterprise}: its pack {spec.industry} declares no credit product"]
    with platform.uow() as uow:
        assert uow.monitoring.loans(enterprise_id=enterprise) == []
