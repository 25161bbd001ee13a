"""Movable-asset pledges over HTTP: one active pledge per item platform-wide (no leak), valuation and margin
calls, zone geofences, outbound reconciliation, release only after repayment or substitution."""

from __future__ import annotations

from decimal import Decimal

from tests.world import build_world, login
from wuxin.services.access import consent
from wuxin.services.credit import pledges
from wuxin.services.devices import registry
from wuxin.services.ingest.telemetry import ingest_lines
from wuxin.services.monitoring import rule_cache

TYRES = {
    "kind": "lot",
    "value": "LOT-2026-001",
    "sku": "tyre-205-55r16",
    "quantity": "1000",
    "zone_id": "Z1",
    "haircut": "0.3",
}


def _loan(c, headers, enterprise_id, product="stock-loan", amount="300000"):
    r = c.post(
        "/api/v1/loans",
        headers=headers,
        json={"enterprise_id": enterprise_id, "product": product, "amount_cny": amount},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _live(platform, loan_id, outstanding="300000"):
    with platform.uow() as uow:  # the lifecycle is tested in test_loans_api; here the loan is simply disbursed
        uow.monitoring.set_loan(loan_id, state="monitoring", outstanding_cny=outstanding)
        uow.commit()
    rule_cache.invalidate_index()


def test_double_pledge_is_refused_alike_whoever_holds_it(platform, live):
    world = build_world(platform)
    consent.grant(
        platform, None, world.factory, world.other_bank, "all", [], "credit", platform.clock_ms() + 86_400_000
    )
    c = live.client
    officer, other = login(c, "officer"), login(c, "other")
    mine, theirs = _loan(c, officer, world.factory), _loan(c, other, world.factory)
    r = c.post(f"/api/v1/loans/{mine}/pledges", headers=officer, json={"items": [TYRES]})
    assert r.status_code == 201 and r.json()[0]["identity"] == "lot:LOT-2026-001"
    again_mine = c.post(f"/api/v1/loans/{mine}/pledges", headers=officer, json={"items": [TYRES]})
    again_theirs = c.post(
        f"/api/v1/loans/{theirs}/pledges", headers=other, json={"items": [{**TYRES, "value": " lot-2026-001 "}]}
    )  # same lot, written differently
    assert again_mine.status_code == again_theirs.status_code == 409
    assert again_mine.json()["message"] == again_theirs.json()["message"]
    assert "Test Bank" not in again_theirs.text and "loan" not in again_theirs.json()["message"]
    assert c.post(f"/api/v1/loans/{mine}/pledges", headers=other, json={"items": [TYRES]}).status_code == 404
    dup = c.post(
        f"/api/v1/loans/{theirs}/pledges",
        headers=other,
        json={"items": [{**TYRES, "value": "X1"}, {**TYRES, "value": "x1"}]},
    )
    assert dup.status_code == 422 and "listed twice" in dup.json()["message"]


def test_valuation_margin_call_and_release(platform, live):
    world = build_world(platform)
    c = live.client
    officer, risk = login(c, "officer"), login(c, "risk")
    lid = _loan(c, officer, world.factory)
    c.post(f"/api/v1/loans/{lid}/pledges", headers=officer, json={"items": [TYRES]})
    assert (
        c.post(
            "/api/v1/price-index",
            headers=officer,
            json={"sku": TYRES["sku"], "price_cny": "500", "at_ms": 0, "source": "x"},
        ).status_code
        == 403
    )
    c.post(
        "/api/v1/price-index",
        headers=risk,
        json={"sku": TYRES["sku"], "price_cny": "600", "at_ms": 0, "source": "中国橡胶网"},
    )
    _live(platform, lid)
    v = c.get(f"/api/v1/loans/{lid}/valuation", headers=officer).json()
    assert v["pledged_value_cny"] == "420000.00" and v["coverage_ratio"] == "1.4000" and v["status"] == "ok"
    assert pledges.check_coverage(platform) == 0
    c.post(
        "/api/v1/price-index", headers=risk, json={"sku": TYRES["sku"], "price_cny": "500", "at_ms": 1, "source": "x"}
    )
    assert pledges.check_coverage(platform) == 1  # 350k / 300k = 1.1667 < 1.3: margin call
    alarms = c.get("/api/v1/alarms", headers=risk, params={"loan_id": lid}).json()
    assert [a["alarm_type"] for a in alarms] == ["margin_call"] and alarms[0]["detail"]["top_up_cny"] == "40000.00"
    assert c.get("/api/v1/alarms", headers=login(c, "other")).json() == []
    # release without repayment needs a substitute worth at least as much
    item_id = (
        c.get(f"/api/v1/loans/{lid}/valuation", headers=officer).json()
        and c.post(
            f"/api/v1/loans/{lid}/pledges", headers=officer, json={"items": [{**TYRES, "value": "LOT-2"}]}
        ).json()[0]["id"]
    )
    refused = c.post(f"/api/v1/loans/{lid}/release", headers=officer, json={"item_ids": [item_id], "reason": "sold"})
    assert refused.status_code == 409 and "release refused" in refused.json()["message"]
    swap = c.post(
        f"/api/v1/loans/{lid}/release",
        headers=officer,
        json={
            "item_ids": [item_id],
            "reason": "substitution",
            "substitutes": [{**TYRES, "value": "LOT-3", "quantity": "1200"}],
        },
    )
    assert swap.status_code == 200 and swap.json()["substituted"] == ["lot:LOT-3"]
    # once released, the lot may be pledged again
    lid2 = _loan(c, officer, world.factory, "other-product")
    assert (
        c.post(
            f"/api/v1/loans/{lid2}/pledges", headers=officer, json={"items": [{**TYRES, "value": "LOT-1"}]}
        ).status_code
        == 201
    )


def test_zone_geofence_and_outbound_reconciliation(platform, live):
    world = build_world(platform)
    c = live.client
    officer, risk = login(c, "officer"), login(c, "risk")
    consent.grant(platform, None, world.fleet, world.bank, "all", [], "stock loan", platform.clock_ms() + 86_400_000)
    lid = _loan(c, officer, world.fleet)
    bad = c.post(
        f"/api/v1/loans/{lid}/zones", headers=officer, json={"zone_id": "Z1", "polygon": [[1, 1], [1, 1], [1, 1]]}
    )
    assert bad.status_code == 422
    square = [[121.5, 29.8], [121.6, 29.8], [121.6, 29.9], [121.5, 29.9]]
    assert (
        c.post(f"/api/v1/loans/{lid}/zones", headers=officer, json={"zone_id": "Z1", "polygon": square}).status_code
        == 201
    )
    _live(platform, lid)
    now = platform.clock_ms()
    ingest_lines(
        platform,
        [
            {"device": "truck-01", "ts": now - 900_000, "values": {"lat": 29.85, "lon": 121.55}},
            {"device": "truck-01", "ts": now - 1000, "values": {"lat": 30.2, "lon": 121.55}},
        ],
        "http",
    )
    alarms = c.get("/api/v1/alarms", headers=risk, params={"loan_id": lid}).json()
    assert [a["alarm_type"] for a in alarms] == ["zone_exit"] and alarms[0]["scope"] == f"tenant:{world.bank}"
    # reconciliation: camera and RFID say 120 units left, the WMS booked 20
    site = registry.add_site(platform, None, world.fleet, "仓库", "浙江省宁波市", 29.85, 121.55)
    registry.register_device(
        platform, None, world.fleet, "cam-1", "logistics.gate_camera", "bank_installed", site, {"zone_id": "Z1"}
    )
    registry.register_device(
        platform, None, world.fleet, "rfid-1", "logistics.rfid_reader", "bank_installed", site, {"zone_id": "Z1"}
    )
    t0 = now - 3_600_000
    ingest_lines(
        platform,
        [
            {"device": "rfid-1", "ts": t0, "values": {"tag_count": 1000}},
            {"device": "cam-1", "ts": t0 + 60_000, "values": {"count_out": 120}},
            {"device": "rfid-1", "ts": now - 10_000, "values": {"tag_count": 880}},
        ],
        "http",
    )
    body = {"zone_id": "Z1", "from_ms": t0, "to_ms": now, "wms_out_units": 20}
    r = c.post(f"/api/v1/loans/{lid}/reconcile", headers=officer, json=body)
    assert r.status_code == 200 and r.json()["mismatch"] is True and r.json()["values"]["rfid_out"] == 120
    assert "count_mismatch" in {a["alarm_type"] for a in c.get("/api/v1/alarms", headers=risk).json()}
    ok = c.post(f"/api/v1/loans/{lid}/reconcile", headers=officer, json={**body, "wms_out_units": 120})
    assert ok.json()["mismatch"] is False
    assert c.post(f"/api/v1/loans/{lid}/reconcile", headers=login(c, "owner"), json=body).status_code == 403


def test_after_revocation_the_bank_keeps_its_loan_but_reads_no_device_through_pledges(platform, live):
    world = build_world(platform)
    c = live.client
    officer, risk, owner = login(c, "officer"), login(c, "risk"), login(c, "owner")
    registry.register_device(
        platform, None, world.factory, "rfid-9", "logistics.rfid_reader", "bank_installed", None, {"zone_id": "Z1"}
    )
    now = platform.clock_ms()
    ingest_lines(
        platform,
        [
            {"device": "rfid-9", "ts": now - 7_200_000, "values": {"tag_count": 900}},
            {"device": "rfid-9", "ts": now - 1000, "values": {"tag_count": 800}},
        ],
        "http",
    )
    lid = _loan(c, officer, world.factory)
    c.post(f"/api/v1/loans/{lid}/pledges", headers=officer, json={"items": [TYRES]})
    c.post(
        "/api/v1/price-index", headers=risk, json={"sku": TYRES["sku"], "price_cny": "600", "at_ms": 0, "source": "x"}
    )
    _live(platform, lid)
    body = {"zone_id": "Z1", "from_ms": now - 3_600_000, "to_ms": now, "wms_out_units": 100}
    under_consent = c.get(f"/api/v1/loans/{lid}/valuation", headers=officer).json()
    assert under_consent["monitored"] is True and Decimal(under_consent["items"][0]["quantity"]) == 800
    assert c.post(f"/api/v1/loans/{lid}/reconcile", headers=officer, json=body).json()["values"]["rfid_out"] == 100
    with platform.uow() as uow:
        reads = {e["action"]: e for e in uow.logs.access_entries() if e["action"].startswith("pledges.")}
    assert set(reads) == {"pledges.valuation", "pledges.reconcile"}
    assert reads["pledges.reconcile"]["consent_id"] == world.consent_bank_factory
    assert c.post(f"/api/v1/consents/{world.consent_bank_factory}/revoke", headers=owner).status_code == 200
    refused = c.post(f"/api/v1/loans/{lid}/reconcile", headers=officer, json=body)
    assert refused.status_code == 404 and refused.json()["message"] == f"enterprise {world.factory} does not exist"
    revoked = c.get(f"/api/v1/loans/{lid}/valuation", headers=officer)
    assert revoked.status_code == 200 and revoked.json()["monitored"] is False
    assert Decimal(revoked.json()["items"][0]["quantity"]) == 1000  # as pledged: no reader counts for the bank now
    assert revoked.json()["pledged_value_cny"] == "420000.00"
