"""Loans over HTTP: the lifecycle by allowed roles, the commissioning check, risk class, tenant isolation."""

from __future__ import annotations

from tests.integration.test_credit_workflow import _decide, _setup
from tests.world import build_world, login


def _move(client, headers, loan_id, action, **extra):
    return client.post(
        f"/api/v1/loans/{loan_id}/transitions",
        headers=headers,
        json={"action": action, "reason": f"step {action}", **extra},
    )


def _approve_credit(c, officer, risk, world, loan_id, limit_cny):
    """A final approved credit decision for the loan (override and a second person): it moves to assessment."""
    d = _decide(c, officer, world.factory, loan_id).json()
    w = c.post(
        f"/api/v1/credit/decisions/{d['id']}/override",
        headers=officer,
        json={"outcome": "approve", "limit_cny": limit_cny, "reason": "orders support it"},
    ).json()
    r = c.post(f"/api/v1/credit/reviews/{w['reviews'][0]['id']}/approve", headers=risk, json={"reason": "agreed"})
    assert r.status_code == 200, r.text


def test_the_lifecycle_from_application_to_repayment(platform, live):
    world, _ = _setup(live, platform)
    c = live.client
    officer, risk, other, owner = (login(c, u) for u in ("officer", "risk", "other", "owner"))
    r = c.post(
        "/api/v1/loans",
        headers=officer,
        json={"enterprise_id": world.factory, "product": "loom-loan", "amount_cny": "1500000"},
    )
    assert r.status_code == 201, r.text
    loan = r.json()
    assert loan["state"] == "application" and loan["risk_class"] == "normal"
    assert (
        c.post(
            "/api/v1/loans", headers=other, json={"enterprise_id": world.factory, "product": "x", "amount_cny": "1"}
        ).status_code
        == 404
    )  # no consent: as if absent
    assert (
        c.post(
            "/api/v1/loans", headers=owner, json={"enterprise_id": world.factory, "product": "x", "amount_cny": "1"}
        ).status_code
        == 403
    )
    assert c.get(f"/api/v1/loans/{loan['id']}", headers=other).status_code == 404  # another bank's loan does not exist
    lid = loan["id"]
    refused = _move(c, officer, lid, "assess")  # no credit decision approved for it
    assert refused.status_code == 409 and f"loan {lid} in state 'application'" in refused.json()["message"]
    _approve_credit(c, officer, risk, world, lid, "1500000")
    assert c.get(f"/api/v1/loans/{lid}", headers=officer).json()["state"] == "assessment"
    assert _move(c, officer, lid, "plan_monitoring", devices=["truck-01"]).status_code == 422  # not this firm's device
    assert (
        _move(c, officer, lid, "plan_monitoring", devices=["loom-01", "loom-02"]).json()["state"] == "monitoring_plan"
    )
    assert _move(c, officer, lid, "install").status_code == 200
    refused = _move(c, officer, lid, "commission")
    assert refused.status_code == 422 and "loom-01 is not online" in refused.json()["message"]
    now = platform.clock_ms()
    for key in ("loom-01", "loom-02"):
        lines = [{"ts": now - 60_000 * i, "values": {"current_a": 10.0 + i}} for i in range(3)]
        for line in lines:
            assert c.post(f"/api/v1/{world.device_tokens[key]}/telemetry", json=line).status_code == 200
    assert _move(c, officer, lid, "commission").json()["state"] == "approval"
    denied = _move(c, officer, lid, "approve")
    assert denied.status_code == 403 and "may not approve" in denied.json()["message"]
    assert _move(c, risk, lid, "approve").json()["state"] == "disbursement"
    assert _move(c, officer, lid, "disburse").json()["outstanding_cny"] == "1500000.00"
    assert _move(c, officer, lid, "disburse").status_code == 409  # already disbursed
    assert _move(c, risk, lid, "warn").json()["state"] == "warning"
    r = c.post(
        f"/api/v1/loans/{lid}/risk-class", headers=risk, json={"risk_class": "substandard", "reason": "overdue 95 days"}
    )
    assert r.json()["risk_class"] == "substandard"
    assert (
        c.post(
            f"/api/v1/loans/{lid}/risk-class", headers=officer, json={"risk_class": "normal", "reason": "I like them"}
        ).status_code
        == 403
    )
    assert _move(c, risk, lid, "resolve").json()["state"] == "monitoring"
    assert _move(c, officer, lid, "repay").json()["state"] == "closed"
    history = c.get(f"/api/v1/loans/{lid}", headers=risk).json()["history"]
    assert [h["to_value"] for h in history if h["kind"] == "state"] == [
        "application",
        "assessment",
        "monitoring_plan",
        "installation",
        "approval",
        "disbursement",
        "monitoring",
        "warning",
        "monitoring",
        "closed",
    ]
    assert any(h["kind"] == "risk_class" and h["reason"] == "overdue 95 days" for h in history)
    assert [l["id"] for l in c.get("/api/v1/loans", headers=other).json()] == []


def test_bad_input_is_refused_with_the_reason(platform, live):
    world = build_world(platform)
    officer = login(live.client, "officer")
    for body in (
        {"enterprise_id": world.factory, "product": "p", "amount_cny": "lots"},
        {"enterprise_id": world.factory, "product": "p", "amount_cny": "-5"},
        {
            "enterprise_id": world.factory,
            "product": "p",
            "amount_cny": "5",
            "maintenance_ratio": "1.0",
            "liquidation_ratio": "1.2",
        },
    ):
        r = live.client.post("/api/v1/loans", headers=officer, json=body)
        assert r.status_code == 422, body
    assert (
        live.client.post(
            "/api/v1/loans", headers=officer, json={"enterprise_id": 9999, "product": "p", "amount_cny": "5"}
        ).status_code
        == 404
    )
