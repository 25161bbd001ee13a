"""Credit decisions over HTTP: persisted with model version and inputs, cross-verification findings,
limits, ledger and logs; and every denial (other bank, expired or revoked consent, enterprise user, admin)."""
from __future__ import annotations

import json

from tests.integration.credit_world import put_indicators, register_model, small_model, statement_rows
from tests.world import DAY_MS, build_world, login


def _setup(live, platform, factor: float):
    world = build_world(platform)
    put_indicators(platform, world.factory)
    version = register_model(platform)
    with platform.uow() as uow:
        uscc = uow.enterprises.get(world.factory)["uscc"]
    officer = login(live.client, "officer")
    response = live.client.post("/api/v1/business-data/statements", content=json.dumps(statement_rows(uscc, platform, factor)),
                                headers=officer)
    assert response.json()["accepted"] == 4, response.text
    return world, version, officer


def test_a_decision_is_persisted_with_model_version_inputs_limit_and_proof(live, platform):
    world, version, officer = _setup(live, platform, 1.0)
    response = live.client.post(f"/api/v1/enterprises/{world.factory}/credit/decisions", headers=officer,
                                json={"product_code": "digital_manufacturing"})
    assert response.status_code == 201, response.text
    d = response.json()
    assert d["model_version"] == version and d["grade"] in ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C")
    assert 0 < d["pd"] < 1 and d["features"]["utilization_vs_index"] > 1.0  # 16 h against a median of 15
    decided = [c for c in d["cross_checks"] if c["status"] != "insufficient_evidence"]
    assert len(d["cross_checks"]) == 4 and len(decided) == 2 and all(c["status"] == "consistent" for c in decided)
    assert set(d["decision"]["inputs"]) == {f.name for f in small_model().features}  # the inputs as scored, stored
    if d["approved"]:
        assert d["decision"]["limit"]["haircut_rate"] == "0"  # bank-installed devices
        assert float(d["limit_cny"]) > 0
    proof = live.client.get(d["links"]["ledger_proof"], headers=officer)
    assert proof.status_code == 200 and proof.json()
    listed = live.client.get(f"/api/v1/enterprises/{world.factory}/credit/decisions", headers=officer).json()
    assert [x["id"] for x in listed] == [d["id"]]
    with platform.uow() as uow:
        assert any(a["action"] == "credit.decide" and a["subject"] == f"credit_decision:{d['id']}" for a in uow.logs.audit_entries())
        assert any(a["action"] == "credit.decide" for a in uow.logs.access_entries(world.factory))


def test_inflated_statements_are_found_and_not_cross_verified(live, platform):
    world, _, officer = _setup(live, platform, 2.4)
    assessment = live.client.get(f"/api/v1/enterprises/{world.factory}/credit/assessment", headers=officer).json()
    assert assessment["cross_verified"] is False
    decided = [c for c in assessment["cross_checks"] if c["status"] != "insufficient_evidence"]
    assert len(decided) == 2 and all(c["status"] == "overstated" for c in decided)
    assert "is 2.4x what the machines' metered output support" in assessment["cross_checks"][-1]["finding"]
    assert assessment["features"]["revenue_consistency_ratio"] > 2.3


def test_only_the_lending_banks_staff_under_valid_consent_may_decide(live, platform):
    world, _, officer = _setup(live, platform, 1.0)
    url = f"/api/v1/enterprises/{world.factory}/credit/decisions"
    body = {"product_code": "digital_manufacturing"}
    for user, status in (("other", 404), ("owner", 403), ("admin", 403), ("integrator", 403)):  # no consent: as if absent
        response = live.client.post(url, headers=login(live.client, user), json=body)
        assert response.status_code == status, (user, response.text)
    report = live.client.get(f"/api/v1/enterprises/{world.factory}/credit/report", headers=login(live.client, "other"))
    assert report.status_code == 404
    trained = live.client.post("/api/v1/credit/models", headers=officer, json={"simulated": 200})
    assert trained.status_code == 403 and "risk_manager" in trained.json()["message"]
    unknown = live.client.post(url, headers=officer, json={"product_code": "moonshot"})
    assert unknown.status_code == 404 and "moonshot" in unknown.json()["message"]
    risk = login(live.client, "risk")
    assert live.client.post(url, headers=risk, json=body).status_code == 201
    platform.clock.advance(31 * DAY_MS)  # the consent expires after 30 days (so does the login)
    risk = login(live.client, "risk")
    expired = live.client.post(url, headers=risk, json=body)
    assert expired.status_code == 404 and expired.json()["message"] == f"enterprise {world.factory} does not exist"
    platform.clock.advance(-31 * DAY_MS)
    from wuxin.services import consent
    from wuxin.services.credit import principal_for_username

    consent.revoke(platform, principal_for_username(platform, "owner"), world.consent_bank_factory)
    revoked = live.client.post(url, headers=risk, json=body)
    assert revoked.status_code == 404, revoked.text
    with platform.uow() as uow:
        assert sum(1 for a in uow.logs.access_entries(world.factory) if a["action"] == "credit.decide") == 1
