"""The officer's workflow over HTTP, on SQLite and PostgreSQL: a referred decision overridden with a written
reason, approved by a second person (a risk manager of the same bank, not the one who asked), the loan
application moved on; a limit above the product's four-eyes threshold waits for approval; every refusal
(missing reason, role, another bank -> 404, self-approval, already final, wrong application); audit log and ledger."""

from __future__ import annotations

import json

from tests.integration.credit_world import put_indicators, recent_readings, register_model, statement_rows
from tests.world import PASSWORD, build_world, login
from wuxin.services.access import identity

READINGS = {"loom-01": "current_a", "loom-02": "current_a", "meter-01": "power_kw"}


def _setup(live, platform, history: int | None = None):
    world = build_world(platform)
    world.users["risk2"] = identity.create_user(platform, "risk2", PASSWORD, "risk_manager", world.bank)
    world.users["other-risk"] = identity.create_user(platform, "other-risk", PASSWORD, "risk_manager", world.other_bank)
    put_indicators(platform, world.factory, **({"history": history} if history else {}))
    register_model(platform)
    with platform.uow() as uow:
        uscc = uow.enterprises.get(world.factory)["uscc"]
    officer = login(live.client, "officer")
    response = live.client.post(
        "/api/v1/business-data/statements", content=json.dumps(statement_rows(uscc, platform)), headers=officer
    )
    assert response.json()["accepted"] == 4, response.text
    return world, officer


def _loan(client, headers, enterprise_id, product="digital_manufacturing", amount="300000") -> int:
    r = client.post(
        "/api/v1/loans",
        headers=headers,
        json={"enterprise_id": enterprise_id, "product": product, "amount_cny": amount},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _decide(client, headers, enterprise_id, loan_id=None, product="digital_manufacturing", **extra):
    return client.post(
        f"/api/v1/enterprises/{enterprise_id}/credit/decisions",
        headers=headers,
        json={"product_code": product, **({"loan_id": loan_id} if loan_id else {}), **extra},
    )


def _state(client, headers, loan_id) -> str:
    return client.get(f"/api/v1/loans/{loan_id}", headers=headers).json()["state"]


def test_an_override_waits_for_a_second_person_then_moves_the_application_on(live, platform):
    world, officer = _setup(live, platform)
    c = live.client
    risk, other_risk, other, owner = (login(c, u) for u in ("risk", "other-risk", "other", "owner"))
    loan = _loan(c, officer, world.factory)
    r = _decide(c, officer, world.factory, loan)
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["outcome"] == "refer" and d["workflow"]["state"] == "referred" and not d["workflow"]["final"]
    assert d["workflow"]["four_eyes_limit_cny"] == "1000000" and d["workflow"]["loan"]["id"] == loan
    assert (d["workflow"]["state_zh"], d["workflow"]["state_en"]) == ("待人工决定", "referred to a person")
    assert _state(c, officer, loan) == "application"
    again = _decide(c, officer, world.factory, loan)
    assert again.status_code == 409 and f"waits on credit decision {d['id']}" in again.json()["message"]

    url = f"/api/v1/credit/decisions/{d['id']}/override"
    grant = {
        "outcome": "approve",
        "limit_cny": "1500000",
        "reason": "订单充足，行内流水佐证 / orders and bank flows support it",
    }
    missing = c.post(url, headers=officer, json={"outcome": "approve", "limit_cny": "1500000"})
    assert missing.status_code == 422 and "reason" in missing.text
    blank = c.post(url, headers=officer, json={**grant, "reason": "   "})
    assert blank.status_code == 422 and "written reason" in blank.json()["message"]
    no_limit = c.post(url, headers=officer, json={"outcome": "approve", "reason": grant["reason"]})
    assert no_limit.status_code == 422 and "limit_cny" in no_limit.json()["message"]
    above_cap = c.post(url, headers=officer, json={**grant, "limit_cny": "3000000.01"})
    assert above_cap.status_code == 422 and "cap 3000000" in above_cap.json()["message"]
    assert c.post(url, headers=officer, json={**grant, "outcome": "refer"}).status_code == 422
    assert c.post(url, headers=other, json=grant).status_code == 404  # another bank's decision does not exist for it
    assert c.post(url, headers=owner, json=grant).status_code == 403
    assert c.post("/api/v1/credit/decisions/999999/override", headers=officer, json=grant).status_code == 404

    r = c.post(url, headers=officer, json=grant)
    assert r.status_code == 201, r.text
    w = r.json()
    assert w["state"] == "pending_approval" and w["outcome"] == "refer"  # the outcome stands only once approved
    (review,) = w["reviews"]
    assert (review["kind"], review["state"], review["requested_by"]) == ("override", "pending", "officer")
    assert (review["prior_outcome"], review["new_outcome"], review["new_limit_cny"]) == (
        "refer",
        "approve",
        "1500000.00",
    )
    assert review["reason"] == grant["reason"]
    assert c.post(url, headers=officer, json=grant).status_code == 409  # a review is open
    assert _state(c, officer, loan) == "application"  # nothing moves before the second person

    pending = c.get("/api/v1/credit/reviews", headers=risk).json()
    assert isinstance(pending, list), pending
    assert [(p["id"], p["can_review"], p["loan_id"]) for p in pending] == [(review["id"], True, loan)]
    assert [p["can_review"] for p in c.get("/api/v1/credit/reviews", headers=officer).json()] == [False]
    assert c.get("/api/v1/credit/reviews", headers=other_risk).json() == []  # their tenant only
    assert c.get("/api/v1/credit/reviews", headers=owner).status_code == 403

    approve = f"/api/v1/credit/reviews/{review['id']}/approve"
    denied = c.post(approve, headers=officer, json={"reason": "looks fine to me"})
    assert denied.status_code == 403 and "risk_manager" in denied.json()["message"]  # an officer cannot approve
    assert c.post(approve, headers=other_risk, json={"reason": "looks fine to me"}).status_code == 404
    assert c.post(approve, headers=risk, json={"reason": ""}).status_code == 422
    assert c.post(approve, headers=risk, json={}).status_code == 422
    assert (
        c.post("/api/v1/credit/reviews/999999/approve", headers=risk, json={"reason": "looks fine"}).status_code == 404
    )

    r = c.post(approve, headers=risk, json={"reason": "同意：证据充分 / agreed, evidence suffices"})
    assert r.status_code == 200, r.text
    w = r.json()
    assert (w["state"], w["outcome"], w["limit_cny"], w["final"]) == ("approved", "approve", "1500000.00", True)
    assert w["reviews"][0]["reviewed_by"] == "risk" and w["reviews"][0]["state"] == "approved"
    assert w["loan"]["state"] == "assessment" and _state(c, officer, loan) == "assessment"
    history = c.get(f"/api/v1/loans/{loan}", headers=risk).json()["history"]
    assert history[-1]["action"] == "assess" and history[-1]["user_id"] == world.users["risk"]
    assert (
        f"credit decision {d['id']} approved, limit CNY 1500000.00; four eyes: review {review['id']}"
        == history[-1]["reason"]
    )
    assert c.post(approve, headers=login(c, "risk2"), json={"reason": "again, agreed"}).status_code == 409
    assert c.post(url, headers=officer, json=grant).status_code == 409  # final: request a new decision
    assert c.get("/api/v1/credit/reviews", headers=risk).json() == []

    with platform.uow() as uow:
        audit = [(a["action"], a["subject"]) for a in uow.logs.audit_entries(50)]
        entries = uow.ledger.entries_by_subjects([f"credit_decision:{d['id']}:review:{review['id']}"])
    assert ("credit.override", f"credit_review:{review['id']}") in audit
    assert ("credit.review.approve", f"credit_review:{review['id']}") in audit
    assert ("credit.workflow.start", f"credit_decision:{d['id']}") in audit
    assert [(e["kind"], e["owner_tenant_id"], e["data_class"]) for e in entries] == [
        ("credit_review", world.bank, "credit")
    ] * 2
    proof = w["reviews"][0]["links"]["ledger_proof"]
    assert c.get(proof, headers=officer).status_code == 200
    assert c.get(proof, headers=other).status_code == 404  # another bank's business
    bundle = c.get(
        f"/api/v1/ledger/evidence?subject=credit_decision:{d['id']}:review:{review['id']}", headers=risk
    ).json()
    assert len(bundle["entries"]) == 3  # the request, the approval and the decision they rest on


def test_four_eyes_the_one_who_asked_cannot_approve_and_a_rejection_goes_back_to_a_person(live, platform):
    world, officer = _setup(live, platform)
    c = live.client
    risk, risk2 = login(c, "risk"), login(c, "risk2")
    loan = _loan(c, officer, world.factory)
    d = _decide(c, risk, world.factory, loan).json()  # a risk manager may ask for a decision and override too
    assert d["workflow"]["state"] == "referred"
    url = f"/api/v1/credit/decisions/{d['id']}/override"
    assert (
        c.post(
            url, headers=risk, json={"outcome": "decline", "limit_cny": "5", "reason": "declining, see notes"}
        ).status_code
        == 422
    )
    w = c.post(
        url,
        headers=risk,
        json={"outcome": "decline", "reason": "申报收入与电费不符 / revenue and power bills disagree"},
    ).json()
    review = w["reviews"][0]["id"]
    own = c.post(f"/api/v1/credit/reviews/{review}/approve", headers=risk, json={"reason": "approving my own"})
    assert own.status_code == 403 and "four eyes" in own.json()["message"]
    assert [p["can_review"] for p in c.get("/api/v1/credit/reviews", headers=risk).json()] == [False]
    r = c.post(
        f"/api/v1/credit/reviews/{review}/reject", headers=risk2, json={"reason": "需补充材料 / more documents needed"}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["outcome"]) == ("referred", "refer")
    assert (
        c.post(
            f"/api/v1/credit/reviews/{review}/approve", headers=risk2, json={"reason": "changed my mind"}
        ).status_code
        == 409
    )
    assert _state(c, officer, loan) == "application"
    w = c.post(url, headers=officer, json={"outcome": "decline", "reason": "补充材料仍不足 / still not enough"}).json()
    second = w["reviews"][-1]["id"]
    r = c.post(f"/api/v1/credit/reviews/{second}/approve", headers=risk, json={"reason": "agreed, decline"})
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["outcome"], r.json()["limit_cny"]) == ("declined", "decline", None)
    assert _state(c, officer, loan) == "rejected"
    with platform.uow() as uow:
        audit = [(a["action"], a["user_id"]) for a in uow.logs.audit_entries(50)]
    assert ("credit.review.reject", world.users["risk2"]) in audit and (
        "credit.review.approve",
        world.users["risk"],
    ) in audit


def test_a_limit_above_the_products_threshold_waits_for_approval_before_the_application_moves(live, platform):
    world, officer = _setup(live, platform, history=460)
    recent_readings(platform, READINGS)
    c = live.client
    risk = login(c, "risk")
    assert (
        c.post(
            "/api/v1/price-index",
            headers=risk,
            json={"sku": "tyre-205", "price_cny": "600", "at_ms": 0, "source": "中国橡胶网"},
        ).status_code
        == 201
    )
    small = _loan(c, officer, world.factory, "movable_pledge", "200000")  # within the 210,000 it will get
    lot = {"kind": "lot", "value": "LOT-1", "sku": "tyre-205", "quantity": "1000", "haircut": "0.3"}
    assert c.post(f"/api/v1/loans/{small}/pledges", headers=officer, json={"items": [lot]}).status_code == 201
    d = _decide(c, officer, world.factory, small, "movable_pledge").json()
    assert (d["outcome"], d["limit_cny"]) == ("approve", "210000.00"), d["decision"]["decided_by"]
    assert (
        d["workflow"]["state"] == "approved" and d["workflow"]["reviews"] == []
    )  # within 10,000,000: no second person
    assert _state(c, officer, small) == "assessment"

    large = _loan(c, officer, world.factory, "movable_pledge", "10000000")
    lot2 = {**lot, "value": "LOT-2", "quantity": "50000"}
    assert c.post(f"/api/v1/loans/{large}/pledges", headers=officer, json={"items": [lot2]}).status_code == 201
    d = _decide(c, officer, world.factory, large, "movable_pledge").json()
    assert d["outcome"] == "approve" and d["limit_cny"] == "10710000.00"  # 51,000 x 600 x 0.7 x 0.5
    w = d["workflow"]
    assert w["state"] == "pending_approval" and w["four_eyes_limit_cny"] == "10000000"
    (review,) = w["reviews"]
    assert review["kind"] == "limit" and review["requested_by"] == "officer" and "10000000" in review["reason"]
    assert _state(c, officer, large) == "application"  # waits for the second person
    override = c.post(
        f"/api/v1/credit/decisions/{d['id']}/override",
        headers=officer,
        json={"outcome": "approve", "limit_cny": "9000000", "reason": "lower it myself"},
    )
    assert override.status_code == 409  # a review is open
    r = c.post(
        f"/api/v1/credit/reviews/{review['id']}/approve", headers=risk, json={"reason": "押品足值 / lots are worth it"}
    )
    assert r.json()["state"] == "approved" and r.json()["limit_cny"] == "10710000.00"
    assert _state(c, officer, large) == "assessment"


def test_a_decision_moves_only_the_banks_own_application_of_that_enterprise(live, platform):
    world, officer = _setup(live, platform)
    c = live.client
    risk, other = login(c, "risk"), login(c, "other")
    from tests.world import DAY_MS
    from wuxin.services.access import consent

    consent.grant(platform, None, world.fleet, world.bank, "all", [], "credit", platform.clock_ms() + 30 * DAY_MS)
    consent.grant(
        platform, None, world.factory, world.other_bank, "all", [], "credit", platform.clock_ms() + 30 * DAY_MS
    )
    fleet_loan = _loan(c, officer, world.fleet)
    wrong = _decide(c, officer, world.factory, fleet_loan)
    assert wrong.status_code == 422 and f"enterprise {world.fleet}, not {world.factory}" in wrong.json()["message"]
    theirs = _loan(c, other, world.factory)
    assert _decide(c, officer, world.factory, theirs).status_code == 404  # another bank's loan does not exist
    assert _decide(c, officer, world.factory, 999999).status_code == 404
    moved = _loan(c, officer, world.factory)
    assert (
        c.post(
            f"/api/v1/loans/{moved}/transitions", headers=risk, json={"action": "reject", "reason": "no evidence"}
        ).status_code
        == 200
    )
    assert _decide(c, officer, world.factory, moved).status_code == 409
    with platform.uow() as uow:
        decisions = uow.credit.decisions(world.factory, world.bank)
    assert decisions == []  # refused before anything was decided
    d = _decide(c, other, world.factory).json()  # no application: the decision stands on its own
    assert d["workflow"]["loan"] is None and d["workflow"]["state"] == "referred"
    assert c.get(f"/api/v1/credit/decisions/{d['id']}/workflow", headers=officer).status_code == 404
    assert c.get(f"/api/v1/credit/decisions/{d['id']}/workflow", headers=other).json()["state"] == "referred"


def test_the_products_for_the_request_form_carry_their_threshold_for_bank_staff_only(live, platform):
    build_world(platform)
    c = live.client
    products = {p["code"]: p for p in c.get("/api/v1/credit/products", headers=login(c, "officer")).json()}
    assert (
        products["movable_pledge"]["four_eyes_limit_cny"] == "10000000"
        and products["movable_pledge"]["cap_cny"] == "50000000"
    )
    assert (products["charging_station"]["name_zh"], products["charging_station"]["scenario"]) == (
        "充电站运营贷",
        "energy",
    )
    assert c.get("/api/v1/credit/products", headers=login(c, "owner")).status_code == 403
    assert c.get("/api/v1/credit/products").status_code == 401


def test_the_loan_passes_the_credit_decision_only_on_a_final_approval_within_its_limit(live, platform):
    world, officer = _setup(live, platform)
    c = live.client
    risk = login(c, "risk")
    loan = _loan(c, officer, world.factory, amount="300000")
    bare = _move(c, officer, loan, "assess")
    assert bare.status_code == 409 and f"loan {loan} in state 'application'" in bare.json()["message"]
    d = _decide(c, officer, world.factory, loan).json()
    assert d["workflow"]["state"] == "referred"
    referred = _move(c, officer, loan, "assess")  # the review finding: 200 while referred
    assert referred.status_code == 409, referred.text
    assert f"credit decision {d['id']} is referred, not approved (approved limit: none)" in referred.json()["message"]
    w = c.post(
        f"/api/v1/credit/decisions/{d['id']}/override",
        headers=officer,
        json={"outcome": "approve", "limit_cny": "200000", "reason": "部分额度 / a part of the amount"},
    ).json()
    assert _move(c, officer, loan, "assess").status_code == 409  # pending approval
    r = c.post(f"/api/v1/credit/reviews/{w['reviews'][0]['id']}/approve", headers=risk, json={"reason": "agreed, 200k"})
    assert r.json()["state"] == "approved" and r.json()["limit_cny"] == "200000.00"
    assert _state(c, officer, loan) == "application"  # 300,000 asked, 200,000 approved: it does not move
    above = _move(c, officer, loan, "assess")
    assert above.status_code == 409
    assert "amount CNY 300000.00 is above the approved limit CNY 200000.00" in above.json()["message"]
    assert _state(c, officer, loan) == "application"


def _move(client, headers, loan_id, action):
    return client.post(
        f"/api/v1/loans/{loan_id}/transitions", headers=headers, json={"action": action, "reason": "ok!"}
    )


def test_pending_reviews_come_in_pages_and_vanish_when_the_consent_is_revoked(live, platform):
    world, officer = _setup(live, platform)
    c = live.client
    risk, owner = login(c, "risk"), login(c, "owner")
    asked = []
    for n in range(3):
        d = _decide(c, officer, world.factory).json()
        w = c.post(
            f"/api/v1/credit/decisions/{d['id']}/override",
            headers=officer,
            json={"outcome": "decline", "reason": f"declined, note {n}"},
        ).json()
        asked.append(w["reviews"][0]["id"])
    first = c.get("/api/v1/credit/reviews?limit=2", headers=risk)
    assert [r["id"] for r in first.json()] == asked[::-1][:2]
    assert first.headers["X-Next-Before-Id"] == str(asked[1]) and 'rel="next"' in first.headers["Link"]
    second = c.get(f"/api/v1/credit/reviews?limit=2&before_id={asked[1]}", headers=risk)
    assert [r["id"] for r in second.json()] == [asked[0]] and "X-Next-Before-Id" not in second.headers
    assert c.get("/api/v1/credit/reviews?limit=0", headers=risk).status_code == 422
    assert c.get("/api/v1/credit/reviews?limit=201", headers=risk).status_code == 422

    assert c.post(f"/api/v1/consents/{world.consent_bank_factory}/revoke", headers=owner).status_code == 200
    assert c.get("/api/v1/credit/reviews", headers=risk).json() == []  # the borrower withdrew: nothing of it shows
    refused = c.post(f"/api/v1/credit/reviews/{asked[0]}/approve", headers=risk, json={"reason": "agreed, decline"})
    assert refused.status_code in (403, 404)  # the same rule as the decision itself
