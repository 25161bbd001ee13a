"""Credit decisions over HTTP: persisted with model version and inputs, cross-verification findings,
the product policy (approve / refer / decline and which condition decided it), limits on evidence with
their basis labels, the pledge registry, ledger and logs; the adversarial cases (statements and the
borrower's own shared device inflated together; a tampered bank-installed device); and every denial
(other bank, expired or revoked consent, enterprise user, admin)."""

from __future__ import annotations

import json

import pytest

from tests.integration.credit_world import (
    put_device_output,
    put_indicators,
    recent_readings,
    register_model,
    small_model,
    statement_rows,
)
from tests.world import DAY_MS, build_world, login
from wuxin.services.devices import registry

READINGS = {"loom-01": "current_a", "loom-02": "current_a", "meter-01": "power_kw"}


def _setup(live, platform, factor: float, history: int | None = None, output_factor: float = 1.0):
    world = build_world(platform)
    put_indicators(platform, world.factory, **({"history": history} if history else {}), output_factor=output_factor)
    version = register_model(platform)
    with platform.uow() as uow:
        uscc = uow.enterprises.get(world.factory)["uscc"]
    officer = login(live.client, "officer")
    response = live.client.post(
        "/api/v1/business-data/statements", content=json.dumps(statement_rows(uscc, platform, factor)), headers=officer
    )
    assert response.json()["accepted"] == 4, response.text
    return world, version, officer


def test_a_decision_is_persisted_with_model_version_inputs_limit_and_proof(live, platform):
    world, version, officer = _setup(live, platform, 1.0)
    response = live.client.post(
        f"/api/v1/enterprises/{world.factory}/credit/decisions",
        headers=officer,
        json={"product_code": "digital_manufacturing"},
    )
    assert response.status_code == 201, response.text
    d = response.json()
    assert d["model_version"] == version and d["grade"] in ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C")
    assert 0 < d["pd"] < 1 and d["features"]["utilization_vs_index"] > 1.0  # 16 h against a median of 15
    decided = [c for c in d["cross_checks"] if c["status"] != "insufficient_evidence"]
    assert len(d["cross_checks"]) == 4 and len(decided) == 2 and all(c["status"] == "consistent" for c in decided)
    assert set(d["decision"]["inputs"]) == {f.name for f in small_model().features}  # the inputs as scored, stored
    assert d["outcome"] == "refer" and not d["approved"]  # 280 days of evidence: half the year's statements uncovered
    decided_by = {f["code"]: f for f in d["decision"]["decided_by"]}
    coverage = decided_by["iot_coverage_below"]
    assert 0.5 < coverage["measured"] < 0.6 and coverage["threshold"] == 0.6
    assert f"IoT coverage {coverage['measured']:.0%} below the product's 60%" == coverage["text_en"]
    assert f"IoT 覆盖率 {coverage['measured']:.0%}，低于本产品要求的 60%" == coverage["text_zh"]
    assert "devices_offline_above" in decided_by  # the test world's devices never sent anything
    limit = d["decision"]["limit"]  # proposed for the person who decides
    assert limit["basis_label"] == "iot_verified" and limit["haircut_rate"] == "0"  # bank-installed devices
    assert float(d["limit_cny"]) > 0 and limit["basis_label_zh"] == "IoT 独立来源验证的收入"
    proof = live.client.get(d["links"]["ledger_proof"], headers=officer)
    assert proof.status_code == 200 and proof.json()
    listed = live.client.get(f"/api/v1/enterprises/{world.factory}/credit/decisions", headers=officer).json()
    assert [x["id"] for x in listed] == [d["id"]]
    with platform.uow() as uow:
        assert any(
            a["action"] == "credit.decide" and a["subject"] == f"credit_decision:{d['id']}"
            for a in uow.logs.audit_entries()
        )
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
    for user, status in (
        ("other", 404),
        ("owner", 403),
        ("admin", 403),
        ("integrator", 403),
    ):  # no consent: as if absent
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
    from wuxin.services.access import consent
    from wuxin.services.credit.decisions import principal_for_username

    consent.revoke(platform, principal_for_username(platform, "owner"), world.consent_bank_factory)
    revoked = live.client.post(url, headers=risk, json=body)
    assert revoked.status_code == 404, revoked.text
    with platform.uow() as uow:
        assert sum(1 for a in uow.logs.access_entries(world.factory) if a["action"] == "credit.decide") == 1


def _decide(live, headers, enterprise_id, product="digital_manufacturing", **extra):
    response = live.client.post(
        f"/api/v1/enterprises/{enterprise_id}/credit/decisions",
        headers=headers,
        json={"product_code": product, **extra},
    )
    assert response.status_code == 201, response.text
    return response.json()


def _held(decision) -> set[str]:
    return {f["code"] for f in decision["decision"]["policy"] if f["holds"]}


def test_a_year_of_bank_installed_evidence_is_verified_and_only_the_grade_band_can_hold_it_back(live, platform):
    world, _, officer = _setup(live, platform, 1.0, history=460)
    recent_readings(platform, READINGS)
    d = _decide(live, officer, world.factory)
    assert _held(d) <= {"grade_band"}, d["decision"]["policy"]
    grade_outcome = next(f for f in d["decision"]["policy"] if f["code"] == "grade_band")
    assert d["outcome"] == ("approve" if not grade_outcome["holds"] else grade_outcome["outcome"])
    assert d["approved"] == (d["outcome"] == "approve")
    limit = d["decision"]["limit"]
    assert limit["basis_label"] == "iot_verified" and limit["haircut_rate"] == "0" and float(limit["limit"]) > 0
    assessment = live.client.get(f"/api/v1/enterprises/{world.factory}/credit/assessment", headers=officer).json()
    assert assessment["verification"] == "verified" and assessment["cross_verified"] is True
    assert assessment["evidence_days"] == 460 and assessment["iot_coverage"] == 1.0
    decided = [c for c in assessment["cross_checks"] if c["status"] != "insufficient_evidence"]
    assert len(decided) == 4 and all(
        c["sources"] == {"bank_installed": 1.0} and c["level"] == "verified" for c in decided
    )


def test_adversarial_statements_and_own_shared_device_inflated_together_are_referred_never_verified(live, platform):
    """The borrower doubles its statements and the output its own enterprise-shared counter reports:
    the checks agree (ratio 1.0), but no independent source stands behind them."""
    world, _, officer = _setup(live, platform, 2.0, history=460, output_factor=2.0)
    counter, _ = registry.register_device(
        platform, None, world.factory, "counter-own", "manufacturing.output_counter", "enterprise_shared"
    )
    put_device_output(platform, world.factory, [counter], history=460, factor=2.0)
    recent_readings(platform, {**READINGS, "counter-own": "output_count_total"})
    assessment = live.client.get(f"/api/v1/enterprises/{world.factory}/credit/assessment", headers=officer).json()
    decided = [c for c in assessment["cross_checks"] if c["status"] != "insufficient_evidence"]
    assert len(decided) == 4 and all(c["status"] == "consistent" and abs(c["ratio"] - 1.0) < 0.01 for c in decided)
    assert all(c["sources"] == {"enterprise_shared": 1.0} and c["level"] == "supported" for c in decided)
    assert assessment["verification"] == "supported" and assessment["cross_verified"] is False
    d = _decide(live, officer, world.factory, "charging_station")  # a revenue product that lends on supported evidence
    assert d["grade"] == "B" and d["outcome"] == "refer"  # the grade alone would approve
    assert [f["code"] for f in d["decision"]["decided_by"]] == ["enterprise_shared_evidence_only"]
    assert d["decision"]["decided_by"][0]["text_en"] == (
        "the evidence comes only from enterprise-shared devices (no bank-installed or third-party source)"
    )
    assert d["decision"]["decided_by"][0]["text_zh"] == "证据仅来自企业共享设备（无银行安装或第三方平台来源）"
    limit = d["decision"]["limit"]  # proposed to the person, on the haircut and labelled for what it is
    assert limit["basis_label"] == "iot_supported" and limit["haircut_rate"] == "0.30"
    assert limit["basis_label_en"] == "IoT-supported revenue (enterprise-shared devices only, not verified)"
    assert "IoT-verified" not in " ".join(limit["steps"]) and "只能佐证、不能验证收入" in " ".join(limit["steps_zh"])
    assert float(limit["limit"]) == pytest.approx(float(limit["gross"]) * 0.7, abs=0.01)


def test_adversarial_a_tampered_bank_installed_device_raises_alarms_and_the_decision_is_referred(live, platform):
    from tests.integration.test_alarms_fabricated import bracelet_lines
    from wuxin.indicators.days import local_day
    from wuxin.services.ingest.telemetry import ingest_lines
    from wuxin.services.monitoring.daily import evaluate_daily

    world, _, officer = _setup(live, platform, 1.0, history=460)
    recent_readings(platform, READINGS)
    today = local_day(platform.clock_ms())
    first = (today - 3) * DAY_MS - 8 * 3_600_000
    real = bracelet_lines("loom-01", first, 2, 1)
    copied = [
        {**line, "ts": line["ts"] + DAY_MS} for line in real if line["ts"] >= first + DAY_MS
    ]  # yesterday = the day before
    tamper = {"device": "loom-01", "ts": platform.clock_ms() - 60_000, "event": "tamper", "params": {}}
    assert not ingest_lines(platform, real + copied + [tamper], "http").rejections
    evaluate_daily(platform, today - 1)
    d = _decide(live, officer, world.factory)
    assert {"tamper_alarms_open", "fabricated_data_alarms_open"} <= _held(d)
    assert d["outcome"] == "refer" and not d["approved"] and d["grade"] == "B"  # the grade alone would approve
    assert [f["code"] for f in d["decision"]["decided_by"]] == ["tamper_alarms_open", "fabricated_data_alarms_open"]
    texts = {f["code"]: f for f in d["decision"]["policy"]}
    assert texts["tamper_alarms_open"]["text_en"] == "1 open tamper alarms, more than the product's 0"
    assert (
        texts["fabricated_data_alarms_open"]["measured"] == 1
        and "疑似造假数据报警 1 个" in texts["fabricated_data_alarms_open"]["text_zh"]
    )


def test_a_collateral_limit_values_the_lots_in_the_pledge_registry(live, platform):
    world, _, officer = _setup(live, platform, 1.0, history=460)
    recent_readings(platform, READINGS)
    nothing = _decide(live, officer, world.factory, "movable_pledge", pledged_value_cny="5000000")
    assert nothing["outcome"] == "decline" and nothing["limit_cny"] is None  # a declared value is not a lot
    assert "the pledge registry holds no lot of this enterprise" in nothing["decision"]["decline_reason"]
    risk = login(live.client, "risk")
    loan = live.client.post(
        "/api/v1/loans",
        headers=officer,
        json={"enterprise_id": world.factory, "product": "movable_pledge", "amount_cny": "300000"},
    ).json()["id"]
    assert (
        live.client.post(
            "/api/v1/price-index",
            headers=risk,
            json={"sku": "tyre-205", "price_cny": "600", "at_ms": 0, "source": "中国橡胶网"},
        ).status_code
        == 201
    )
    lots = [
        {"kind": "lot", "value": "LOT-1", "sku": "tyre-205", "quantity": "1000", "haircut": "0.3"},
        {"kind": "lot", "value": "LOT-2", "sku": "unpriced-sku", "quantity": "50", "haircut": "0.3"},
    ]
    assert live.client.post(f"/api/v1/loans/{loan}/pledges", headers=officer, json={"items": lots}).status_code == 201
    d = _decide(live, officer, world.factory, "movable_pledge", pledged_value_cny="5000000")
    assert d["outcome"] == "approve", d["decision"]["decided_by"]
    limit = d["decision"]["limit"]
    steps = " ".join(limit["steps"])
    assert limit["basis_label"] == "pledge_registry" and limit["basis_amount"] == "420000.00"  # 1000 x 600 x (1 - 0.3)
    assert f"Lot LOT-1 (tyre-205, loan #{loan}): 1000 x CNY 600.00 x (1 - 0.3)" in steps
    assert "Lot LOT-2 (unpriced-sku) has no price index: left out" in steps
    assert "declared pledge value CNY 5,000,000.00 exceeds the registry's CNY 420,000.00: the registry counts" in steps
    assert limit["limit"] == "210000.00" and d["limit_cny"] == "210000.00"  # x 0.50 pledge rate; verified: no haircut
    assert "押品登记簿中的质押物价值" in " ".join(limit["steps_zh"])
    lower = _decide(live, officer, world.factory, "movable_pledge", pledged_value_cny="100000")
    assert lower["decision"]["limit"]["basis_amount"] == "100000.00"  # a declared value can only lower the basis
