"""Security: the evidence ledger shows an entry only to whoever may read the thing it proves (a bank's
decisions, loans, pledges and tuned alarms are that bank's alone, whatever the borrower consented to), and
nobody learns from an error that an enterprise, a USCC or a device key they may not know exists."""

from __future__ import annotations

import json
import random
import re

import pytest

from tests.conftest import T0_MS
from tests.integration.credit_world import put_indicators, register_model, statement_rows
from tests.world import DAY_MS, build_world, login
from wuxin.alerts.engine import Signal
from wuxin.services.access import consent
from wuxin.services.bootstrap import default_rules
from wuxin.services.credit import pledges
from wuxin.services.monitoring import alarms as monitoring
from wuxin.services.monitoring import rule_cache
from wuxin.sim.spec import make_uscc
from wuxin.store.migrate import upgrade

TYRES = {
    "kind": "lot",
    "value": "LOT-2026-001",
    "sku": "tyre-205-55r16",
    "quantity": "1000",
    "zone_id": "Z1",
    "haircut": "0.3",
}
MISSING = 999_999


@pytest.fixture
def world(platform):
    """The test world, and the borrower's consent to the second bank too (the case of the issue)."""
    world = build_world(platform)
    consent.grant(
        platform, None, world.factory, world.other_bank, "all", [], "credit", platform.clock_ms() + 30 * DAY_MS
    )
    return world


def _evidence(client, headers, subject: str):
    return client.get("/api/v1/ledger/evidence", params={"subject": subject}, headers=headers)


def _proof(client, headers, leaf: int):
    return client.get(f"/api/v1/ledger/entries/{leaf}/proof", headers=headers)


def _entries(platform, subject: str) -> list[dict]:
    with platform.uow() as uow:
        return uow.ledger.entries_by_subjects([subject])


def _decide(live, platform, world) -> dict:
    put_indicators(platform, world.factory)
    register_model(platform)
    with platform.uow() as uow:
        uscc = uow.enterprises.get(world.factory)["uscc"]
    officer = login(live.client, "officer")
    imported = live.client.post(
        "/api/v1/business-data/statements", headers=officer, content=json.dumps(statement_rows(uscc, platform, 1.0))
    )
    assert imported.json()["accepted"] == 4, imported.text
    decided = live.client.post(
        f"/api/v1/enterprises/{world.factory}/credit/decisions",
        headers=officer,
        json={"product_code": "digital_manufacturing"},
    )
    assert decided.status_code == 201, decided.text
    return decided.json()


def _pledged_loan_below_liquidation(live, platform, world) -> int:
    c, officer, risk = live.client, login(live.client, "officer"), login(live.client, "risk")
    loan = c.post(
        "/api/v1/loans",
        headers=officer,
        json={"enterprise_id": world.factory, "product": "stock-loan", "amount_cny": "300000"},
    )
    assert loan.status_code == 201, loan.text
    loan_id = loan.json()["id"]
    assert c.post(f"/api/v1/loans/{loan_id}/pledges", headers=officer, json={"items": [TYRES]}).status_code == 201
    c.post(
        "/api/v1/price-index", headers=risk, json={"sku": TYRES["sku"], "price_cny": "400", "at_ms": 0, "source": "x"}
    )
    with platform.uow() as uow:
        uow.monitoring.set_loan(loan_id, state="monitoring", outstanding_cny="300000")
        uow.commit()
    rule_cache.invalidate_index()
    assert pledges.check_coverage(platform) == 2  # margin call and liquidation line: the bank's own alarms
    return loan_id


def _assert_absent(response, secret_words: list[str]) -> None:
    assert response.status_code == 404, response.text
    assert response.json()["error"] == "not_found"
    for word in secret_words:
        assert word not in response.text, word


def test_a_second_consented_bank_gets_404_on_the_first_banks_credit_decision_evidence(platform, live, world):
    decision = _decide(live, platform, world)
    subject = f"credit_decision:{decision['id']}"
    [entry] = _entries(platform, subject)
    officer, other = login(live.client, "officer"), login(live.client, "other")
    bundle = _evidence(live.client, officer, subject)
    assert bundle.status_code == 200, bundle.text
    assert bundle.json()["entries"][0]["subject"] == subject and '"grade"' in bundle.json()["entries"][0]["leaf_data"]
    assert _proof(live.client, officer, entry["leaf_index"]).status_code == 200
    secrets = ['"grade"', '"pd"', "limit_cny", "expected_loss_cny"]
    _assert_absent(_evidence(live.client, other, subject), secrets)
    _assert_absent(_proof(live.client, other, entry["leaf_index"]), secrets)
    assert _proof(live.client, other, entry["leaf_index"]).json() == _proof(live.client, other, 10_000).json() | (
        _missing_leaf(entry["leaf_index"])
    )  # as if the leaf did not exist
    report = live.client.get(
        f"/api/v1/enterprises/{world.factory}/credit/report", params={"format": "json"}, headers=other
    )
    assert (
        report.status_code == 200 and report.json()["decision"] is None
    )  # its own report embeds no other bank's decision
    assert (entry["owner_tenant_id"], entry["data_class"]) == (world.bank, "credit")


def test_a_second_consented_bank_gets_404_on_the_first_banks_loan_pledge_and_liquidation_evidence(
    platform, live, world
):
    loan_id = _pledged_loan_below_liquidation(live, platform, world)
    officer, other = login(live.client, "officer"), login(live.client, "other")
    assert live.client.get(f"/api/v1/loans/{loan_id}", headers=other).status_code == 404  # the domain API's answer
    pledge_entries = _entries(platform, f"loan:{loan_id}")
    assert _evidence(live.client, officer, f"loan:{loan_id}").status_code == 200
    _assert_absent(_evidence(live.client, other, f"loan:{loan_id}"), ["LOT-2026-001", "tyre"])
    _assert_absent(_proof(live.client, other, pledge_entries[0]["leaf_index"]), ["LOT-2026-001", "tyre"])
    with platform.uow() as uow:
        alarm_ids = [a["id"] for a in uow.monitoring.list_alarms(None, world.bank, None, loan_id, 100)]
    assert alarm_ids
    for alarm_id in alarm_ids:
        [entry] = _entries(platform, f"alarm:{alarm_id}")
        assert _proof(live.client, officer, entry["leaf_index"]).status_code == 200
        assert "pledged_value_cny" in _evidence(live.client, officer, f"alarm:{alarm_id}").text
        _assert_absent(_evidence(live.client, other, f"alarm:{alarm_id}"), ["pledged_value_cny", "coverage_ratio"])
        _assert_absent(_proof(live.client, other, entry["leaf_index"]), ["pledged_value_cny", "coverage_ratio"])
        assert (entry["owner_tenant_id"], entry["data_class"]) == (world.bank, "alarm")
    assert {(e["owner_tenant_id"], e["data_class"]) for e in pledge_entries} == {(world.bank, "pledge")}


def test_an_integrator_is_refused_alarm_entries_that_the_banks_and_the_enterprise_read(platform, live, world):
    rule = next(r for r in default_rules().values() if r.applies_to("manufacturing.current_bracelet"))
    with platform.uow() as uow:
        device = uow.devices.by_key("loom-01")
        alarm_id = monitoring.raise_alarm(
            uow,
            Signal(
                "raise",
                rule_cache.PLATFORM_SCOPE,
                rule,
                f"device:{device['id']}",
                world.factory,
                T0_MS,
                {"current_a": 0.0},
                device["id"],
            ),
            T0_MS,
        )
        uow.commit()
    [entry] = _entries(platform, f"alarm:{alarm_id}")
    integrator = login(live.client, "integrator")
    assert live.client.get("/api/v1/alarms", headers=integrator).status_code == 403  # the domain API refuses it
    for response in (
        _evidence(live.client, integrator, f"alarm:{alarm_id}"),
        _proof(live.client, integrator, entry["leaf_index"]),
    ):
        _assert_absent(response, ["current_a"])  # refused: the answer of a missing entry, not a 403 naming the kind
    assert _proof(live.client, integrator, entry["leaf_index"]).json() == _proof(
        live.client, integrator, 10_000
    ).json() | (_missing_leaf(entry["leaf_index"]))
    unrecorded = f"no ledger entry records subject 'alarm:{alarm_id}'"
    assert _evidence(live.client, integrator, f"alarm:{alarm_id}").json() == _evidence(
        live.client, integrator, "alarm:999999"
    ).json() | {"message": unrecorded, "detail": unrecorded}
    for reader in ("officer", "other", "owner"):  # a platform alarm of a consented borrower; the enterprise's own
        assert _proof(live.client, login(live.client, reader), entry["leaf_index"]).status_code == 200, reader
    _assert_absent(_proof(live.client, login(live.client, "fleetowner"), entry["leaf_index"]), ["current_a"])
    assert (entry["owner_tenant_id"], entry["data_class"]) == (None, "alarm")


def test_the_enterprise_reads_its_own_device_data_entries_and_strangers_get_the_answer_of_a_missing_device(
    platform, live, world
):
    response = live.client.post(
        f"/api/v1/{world.device_tokens['loom-01']}/telemetry", json=[{"ts": T0_MS - 1000, "values": {"current_a": 9.0}}]
    )
    batch = response.json()["batch_id"]
    [entry] = _entries(platform, f"batch:{batch}")
    url = "/api/v1/ledger/telemetry/batches/{}/devices/{}/proof"
    owner = login(live.client, "owner")
    assert live.client.get(url.format(batch, "loom-01"), headers=owner).json()["points"]["in_leaf"] is True
    for stranger in ("fleetowner", "officer"):
        headers = login(live.client, stranger)
        if stranger == "officer":  # a bank whose consent the borrower revoked: at once, as if absent
            consent.revoke(platform, _principal(platform, "owner"), world.consent_bank_factory)
        known = live.client.get(url.format(batch, "loom-01"), headers=headers)
        missing = live.client.get(url.format(batch, "no-such-device"), headers=headers)
        assert known.status_code == missing.status_code == 404, (stranger, known.text)
        assert known.json()["message"].replace("loom-01", "KEY") == missing.json()["message"].replace(
            "no-such-device", "KEY"
        )
        assert "enterprise" not in known.json()["message"]
    assert (entry["owner_tenant_id"], entry["data_class"]) == (None, "device_data")


def _principal(platform, username: str):
    from wuxin.services.credit.decisions import principal_for_username

    return principal_for_username(platform, username)


ENTERPRISE_READS = [
    ("get", "/api/v1/enterprises/{e}", None),
    ("get", "/api/v1/enterprises/{e}/devices", None),
    ("get", "/api/v1/enterprises/{e}/devices/loom-01/telemetry", None),
    ("get", "/api/v1/enterprises/{e}/business-data", None),
    ("get", "/api/v1/enterprises/{e}/credit/assessment", None),
    ("get", "/api/v1/enterprises/{e}/credit/decisions", None),
    ("get", "/api/v1/enterprises/{e}/credit/report?format=json", None),
    ("get", "/api/v1/enterprises/{e}/indicators?from=2026-09-01&to=2026-09-20", None),
    ("get", "/api/v1/enterprises/{e}/percentile?indicator=run_hours&day=2026-09-20", None),
    ("get", "/api/v1/enterprises/{e}/connectivity/transitions", None),
    ("get", "/api/v1/console/enterprises/{e}/equipment-timeline", None),
    ("get", "/api/v1/alarms?enterprise_id={e}", None),
    ("post", "/api/v1/enterprises/{e}/sites", {"name": "二号车间", "region": "江苏省苏州市"}),
    (
        "post",
        "/api/v1/enterprises/{e}/devices",
        {"key": "loom-99", "device_type": "manufacturing.energy_meter", "source_mode": "enterprise_shared"},
    ),
    ("post", "/api/v1/loans", {"enterprise_id": "{e}", "product": "x", "amount_cny": "1"}),
]


def _call(client, headers, method: str, url: str, body, enterprise_id: int):
    path = url.replace("{e}", str(enterprise_id))
    payload = json.loads(json.dumps(body).replace('"{e}"', str(enterprise_id))) if body else None
    return client.request(method.upper(), path, headers=headers, json=payload)


def _missing_leaf(leaf_index: int) -> dict:
    """The problem members that name the leaf asked for: the rest of a refusal is a missing leaf's answer."""
    sentence = f"ledger entry {leaf_index} does not exist"
    return {"message": sentence, "detail": sentence, "instance": f"/api/v1/ledger/entries/{leaf_index}/proof"}


def _ids_out(text: str, enterprise_id: int) -> str:
    """The answer with the enterprise id (a whole number, not the 1 of /api/v1) written ID."""
    return re.sub(rf"\b{enterprise_id}\b", "ID", text)


def test_an_enterprise_one_may_not_know_answers_exactly_like_a_missing_one(platform, live):
    world = build_world(platform)  # the second bank holds no consent here; fleetowner is another enterprise's user
    for user in ("other", "fleetowner"):
        headers = login(live.client, user)
        for method, url, body in ENTERPRISE_READS:
            existing = _call(live.client, headers, method, url, body, world.factory)
            missing = _call(live.client, headers, method, url, body, MISSING)
            assert existing.status_code == missing.status_code, (user, url, existing.text, missing.text)
            assert _ids_out(existing.text, world.factory) == _ids_out(missing.text, MISSING), (user, url)
            assert existing.status_code in (403, 404), (user, url, existing.text)
    officer = login(live.client, "officer")  # holds a consent: may know the enterprise, is told what it may not do
    refused = live.client.post(
        f"/api/v1/enterprises/{world.factory}/devices",
        headers=officer,
        json={"key": "loom-99", "device_type": "manufacturing.energy_meter", "source_mode": "bank_installed"},
    )
    assert refused.status_code == 403
    owner = login(live.client, "owner")  # its own enterprise, the wrong role: 403
    assert (
        live.client.post(
            f"/api/v1/enterprises/{world.factory}/credit/decisions",
            headers=owner,
            json={"product_code": "digital_manufacturing"},
        ).status_code
        == 403
    )


def test_a_registered_uscc_is_not_confirmed_to_a_bank(platform, live):
    world = build_world(platform)
    with platform.uow() as uow:
        taken = uow.enterprises.get(world.factory)["uscc"]
    fresh = make_uscc(random.Random(99))
    body = {"name": "某某有限公司", "industry": "manufacturing", "region": "江苏省苏州市"}
    other = login(live.client, "other")
    on_taken = live.client.post("/api/v1/enterprises", headers=other, json=body | {"uscc": taken})
    on_fresh = live.client.post("/api/v1/enterprises", headers=other, json=body | {"uscc": fresh})
    assert on_taken.status_code == on_fresh.status_code == 403  # only the platform admin onboards borrowers
    assert on_taken.json() == on_fresh.json() and taken not in on_taken.text
    admin = login(live.client, "admin")
    assert live.client.post("/api/v1/enterprises", headers=admin, json=body | {"uscc": taken}).status_code == 409
    rows = [dict(row, uscc=uscc) for uscc in (taken, fresh) for row in statement_rows(uscc, platform)[:1]]
    imported = live.client.post("/api/v1/business-data/statements", headers=other, content=json.dumps(rows)).json()
    messages = [
        re.sub(r"^row \d+: ", "", e["message"]).replace(taken, "USCC").replace(fresh, "USCC")
        for e in imported["errors"]
    ]
    assert imported["accepted"] == 0 and len(messages) == 2 and messages[0] == messages[1], imported["errors"]


def test_errors_never_name_the_enterprise_that_holds_a_device_key(platform, live):
    world = build_world(platform)
    other, integrator = login(live.client, "other"), login(live.client, "integrator")
    for action in ("rotate", "revoke"):
        known = live.client.post(f"/api/v1/devices/loom-01/token/{action}", headers=other)
        missing = live.client.post(f"/api/v1/devices/no-such-device/token/{action}", headers=other)
        assert known.status_code == missing.status_code == 404, known.text
        assert known.json()["message"].replace("loom-01", "K") == missing.json()["message"].replace(
            "no-such-device", "K"
        )
    # the integrator manages the factory's devices (consent) but not the fleet's: truck-01 is nobody it knows
    foreign = live.client.post("/api/v1/gateways/loom-01/children", headers=integrator, json={"device_key": "truck-01"})
    missing = live.client.post(
        "/api/v1/gateways/loom-01/children", headers=integrator, json={"device_key": "no-such-device"}
    )
    assert foreign.status_code == missing.status_code == 404, foreign.text
    assert foreign.json()["message"].replace("truck-01", "K") == missing.json()["message"].replace(
        "no-such-device", "K"
    )
    assert f"enterprise {world.fleet}" not in foreign.text


def test_old_entries_are_backfilled_with_their_owner_and_class(platform, live, world):
    """Revision 0008 on a database written before it: owners come from the tables of what the entries prove."""
    decision = _decide(live, platform, world)
    _pledged_loan_below_liquidation(live, platform, world)
    with platform.uow() as uow:
        entries = [uow.ledger.entry(i) for i in range(uow.ledger.tree_size())]
    before = {e["leaf_index"]: (e["owner_tenant_id"], e["data_class"]) for e in entries}
    assert {e["kind"] for e in entries} >= {"credit_decision", "pledge_change", "alarm_action", "business_import"}
    decision_leaf = int(decision["links"]["ledger_proof"].split("/")[-2])
    assert before[decision_leaf] == (world.bank, "credit")
    url = platform.settings.database_url
    platform.engine.dispose()
    try:
        from alembic import command

        from wuxin.store.migrate import alembic_config

        command.downgrade(alembic_config(url), "0007")
    finally:
        upgrade(url)
    with platform.uow() as uow:
        after = {i: (uow.ledger.entry(i)["owner_tenant_id"], uow.ledger.entry(i)["data_class"]) for i in before}
    assert after == before
    assert {(world.bank, "pledge"), (world.bank, "alarm"), (None, "business")} <= set(before.values())


def test_a_banks_own_business_records_are_proven_to_that_bank_and_the_enterprise_only(platform, live, world):
    with platform.uow() as uow:
        uscc = uow.enterprises.get(world.factory)["uscc"]
    officer = login(live.client, "officer")
    imported = live.client.post(
        "/api/v1/business-data/statements",
        params={"source": "bank"},
        headers=officer,
        content=json.dumps(statement_rows(uscc, platform)),
    )
    assert imported.status_code == 201 and imported.json()["accepted"] == 4, imported.text
    subject = f"business_import:{imported.json()['import_id']}:{world.factory}"
    [entry] = _entries(platform, subject)
    for reader in ("officer", "owner"):  # the importing bank, and the enterprise the records are about
        assert _proof(live.client, login(live.client, reader), entry["leaf_index"]).status_code == 200, reader
    other = login(live.client, "other")  # consented too, but these are the first bank's records
    assert live.client.get(f"/api/v1/enterprises/{world.factory}/business-data", headers=other).json()["records"] == []
    _assert_absent(_proof(live.client, other, entry["leaf_index"]), ["rows_sha256"])
    _assert_absent(_evidence(live.client, other, subject), ["rows_sha256"])
    assert (entry["owner_tenant_id"], entry["data_class"]) == (world.bank, "business")
