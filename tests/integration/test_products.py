"""Product identities capped by measured output (产量锁定), consumer verification, verified goods."""

from __future__ import annotations

import json

import pytest

from tests.conftest import T0_MS
from tests.world import build_world, login
from wuxin.indicators.days import HOUR_MS
from wuxin.services.devices import registry
from wuxin.services.evidence import trace
from wuxin.services.ingest.telemetry import ingest_lines

GTIN = "06901234567892"  # company prefix 6901234 (7 digits), item 56789
START_MS = T0_MS - 10 * HOUR_MS
END_MS = T0_MS - 2 * HOUR_MS


@pytest.fixture
def world(platform):
    world = build_world(platform)
    registry.register_device(
        platform, None, world.factory, "counter-01", "manufacturing.output_counter", "bank_installed"
    )
    registry.register_device(
        platform, None, world.factory, "counter-02", "manufacturing.output_counter", "bank_installed"
    )
    counts = {
        "counter-01": [100, 130, 160, 5, 25],  # 60 counted, then a reset: +5, +20 -> 85
        "counter-02": [0, 10, 15, 15, 15],
    }  # 15 -> 100 units measured in the window
    lines = [
        {"device": key, "ts": START_MS + (i + 1) * HOUR_MS, "values": {"output_count_total": value}}
        for key, values in counts.items()
        for i, value in enumerate(values)
    ]
    lines.append(
        {"device": "counter-01", "ts": END_MS + HOUR_MS, "values": {"output_count_total": 900}}
    )  # after the window
    assert ingest_lines(platform, lines, "http").accepted == len(lines)
    return world


def _batch(live, headers, lot="L2026-09", **extra) -> dict:
    body = {
        "gtin": GTIN,
        "lot": lot,
        "origin": "江苏省苏州市吴江区",
        "production_start_ms": START_MS,
        "production_end_ms": END_MS,
        "company_prefix_digits": 7,
    } | extra
    response = live.client.post("/api/v1/trace/batches", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _issue(live, headers, batch_id: int, count: int):
    return live.client.post(f"/api/v1/trace/batches/{batch_id}/identities", json={"count": count}, headers=headers)


def test_issuance_is_capped_by_the_measured_output_of_the_batch(platform, live, world):
    owner = login(live.client, "owner")
    batch = _batch(live, owner)
    assert batch["measured_output"] == 100 and batch["available"] == 100
    first = _issue(live, owner, batch["id"], 60)
    assert first.status_code == 201, first.text
    unit = first.json()["issued"][0]
    assert unit["epc"] == f"urn:epc:id:sgtin:6901234.056789.{batch['id']}-1"
    assert unit["digital_link"] == f"https://id.gs1.org/01/{GTIN}/21/{batch['id']}-1"
    refused = _issue(live, owner, batch["id"], 41)
    assert refused.status_code == 409 and "supports 40 more identities, 41 asked" in refused.json()["message"]
    assert _issue(live, owner, batch["id"], 40).status_code == 201
    assert live.client.get(f"/api/v1/trace/batches/{batch['id']}", headers=owner).json()["available"] == 0
    with platform.uow() as uow:
        assert uow.ledger.product_batch(batch["id"])["issued_count"] == 100
        assert [e["kind"] for e in uow.ledger.entries_by_subjects([f"product_batch:{batch['id']}:issuance:1"])] == [
            "identity_issuance"
        ]


def test_only_the_enterprise_or_its_consented_operator_issues_identities(platform, live, world):
    batch = _batch(live, login(live.client, "owner"))
    for username, status in [("officer", 403), ("fleetowner", 404), ("integrator", 201)]:
        assert _issue(live, login(live.client, username), batch["id"], 1).status_code == status, username
    assert live.client.post("/api/v1/trace/batches", json={}).status_code == 401
    other_enterprise = {
        "gtin": GTIN,
        "lot": "X1",
        "origin": "宁波",
        "production_start_ms": START_MS,
        "production_end_ms": END_MS,
        "company_prefix_digits": 7,
        "enterprise_id": world.fleet,
    }
    assert (
        live.client.post(
            "/api/v1/trace/batches", json=other_enterprise, headers=login(live.client, "owner")
        ).status_code
        == 404
    )


def _capture_shipping(live, headers, digital_link: str) -> None:
    document = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-09-21T10:00:00Z",
        "epcisBody": {
            "eventList": [
                {
                    "type": "ObjectEvent",
                    "eventTime": "2026-09-21T09:00:00+08:00",
                    "eventTimeZoneOffset": "+08:00",
                    "epcList": [digital_link],
                    "action": "ADD",
                    "bizStep": "commissioning",
                    "disposition": "active",
                    "bizLocation": {"id": "urn:epc:id:sgln:6901234.00001.0"},
                },
                {
                    "type": "ObjectEvent",
                    "eventTime": "2026-09-21T12:00:00+08:00",
                    "eventTimeZoneOffset": "+08:00",
                    "epcList": [digital_link],
                    "action": "OBSERVE",
                    "bizStep": "shipping",
                    "disposition": "in_transit",
                },
            ]
        },
    }
    response = live.client.post(
        "/epcis/capture", content=json.dumps(document), headers=headers | {"Content-Type": "application/json"}
    )
    assert response.status_code == 202, response.text


def test_a_scan_answers_genuine_with_public_history_then_suspicious_when_copied(platform, live, world):
    owner = login(live.client, "owner")
    batch = _batch(live, owner)
    unit = _issue(live, owner, batch["id"], 2).json()["issued"][0]
    _capture_shipping(live, owner, unit["digital_link"])
    url = f"/verify/01/{GTIN}/21/{unit['serial']}"
    genuine = live.client.get(url, params={"lat": 31.23, "lon": 121.47})  # no login: Shanghai
    assert genuine.status_code == 200, genuine.text
    answer = genuine.json()
    assert answer["verdict"] == "genuine" and answer["reasons"] == []
    assert answer["product"] == {
        "gtin": GTIN,
        "serial": unit["serial"],
        "digital_link": unit["digital_link"],
        "producer": "吴江恒达化纤有限公司",
        "origin": "江苏省苏州市吴江区",
        "batch": "L2026-09",
        "production_date": "2026-09-21",
    }
    assert [(s["step"], s["disposition"], s["verified"]) for s in answer["history"]] == [
        ("commissioning", "active", True),
        ("shipping", "in_transit", True),
    ]
    assert "sgln" not in genuine.text and "414" not in json.dumps(answer["history"])  # no internal locations
    platform.clock.advance(30 * 60_000)
    copied = live.client.get(url, params={"lat": 39.90, "lon": 116.40}).json()  # Beijing, 30 minutes later
    assert copied["verdict"] == "suspicious" and "km apart" in copied["reasons"][0]
    unknown = live.client.get(f"/verify/01/{GTIN}/21/{batch['id']}-999").json()
    assert unknown["verdict"] == "unknown" and "product" not in unknown
    with platform.uow() as uow:
        product = uow.ledger.product(GTIN, unit["serial"])
        assert [s["verdict"] for s in uow.ledger.scans(product["id"])] == ["genuine", "suspicious"]
        assert all(len(s["client_hash"]) == 64 for s in uow.ledger.scans(product["id"]))


def test_too_many_scans_and_an_over_issued_batch_are_suspicious(platform, live, world, monkeypatch):
    owner = login(live.client, "owner")
    batch = _batch(live, owner)
    units = _issue(live, owner, batch["id"], 100).json()["issued"]
    monkeypatch.setattr("wuxin.trace.products.MAX_SCANS_PER_UNIT", 2)
    answers = [trace.verify_scan(platform, GTIN, units[0]["serial"], "10.0.0.1") for _ in range(3)]
    assert [a["verdict"] for a in answers] == ["genuine", "genuine", "suspicious"]
    assert "scanned 3 times" in answers[2]["reasons"][0]
    with platform.uow() as uow:  # the counter readings are corrected downwards: the batch now exceeds its output
        uow.conn.exec_driver_sql("DELETE FROM readings WHERE key = 'output_count_total' AND num = 25")
        uow.commit()
    answer = trace.verify_scan(platform, GTIN, units[1]["serial"], "10.0.0.2")
    assert answer["verdict"] == "suspicious" and "measured output is 80" in answer["reasons"][0]


def test_verification_is_rate_limited_per_client(platform, live, world):
    statuses = [live.client.get(f"/verify/01/{GTIN}/21/nothing").status_code for _ in range(31)]
    assert statuses[:30] == [200] * 30 and statuses[30] == 429
    platform.clock.advance(10_000)  # five tokens back
    assert live.client.get(f"/verify/01/{GTIN}/21/nothing").status_code == 200


def test_verified_goods_are_the_genuine_units_with_ledgered_history(platform, live, world):
    owner = login(live.client, "owner")
    batch = _batch(live, owner)
    units = _issue(live, owner, batch["id"], 3).json()["issued"]
    _capture_shipping(live, owner, units[0]["digital_link"])
    with platform.uow() as uow:  # tamper with unit 2's stored history record
        uow.conn.exec_driver_sql("UPDATE epcis_events SET event = replace(event, 'in_transit', 'destroyed')")
        uow.commit()
    _capture_shipping(live, owner, units[1]["digital_link"])  # unit 1: history intact (different events)
    asked = [units[1]["epc"], units[0]["digital_link"], units[2]["epc"], "urn:epc:id:sgtin:6901234.056789.nope"]
    goods = trace.verified_goods(platform, asked)
    assert [g.epc for g in goods] == [units[1]["epc"], units[2]["epc"]]
    assert goods[0].batch_id == batch["id"] and len(goods[0].event_leaf_indexes) == 2
    assert goods[1].event_leaf_indexes == ()


def test_telemetry_readings_behind_a_batch_are_evidence_too(platform, world):
    with platform.uow() as uow:
        kinds = [uow.ledger.entry(i)["kind"] for i in range(uow.ledger.tree_size())]
    assert kinds == ["telemetry_batch"]  # the fixture's one ingestion
