"""The evidence ledger through the API: every telemetry batch is a leaf, proofs verify offline,
tree heads are signed by the platform key, and proofs follow the consent rules of the data."""

from __future__ import annotations

import json
import threading

import orjson
import pytest
from typer.testing import CliRunner

from tests.conftest import T0_MS
from tests.world import build_world, login
from wuxin.cli.ledger import app as ledger_cli
from wuxin.ledger.merkle import ProofVerificationError
from wuxin.ledger.proofs import verify_document
from wuxin.services.evidence import ledger
from wuxin.services.evidence.record import record_evidence
from wuxin.services.ingest.telemetry import ingest_lines


@pytest.fixture
def world(platform):
    return build_world(platform)


def _send(live, world, device: str, points: list[tuple[int, float]]) -> int:
    body = orjson.dumps([{"ts": ts, "values": {"current_a": value}} for ts, value in points])
    response = live.client.post(f"/api/v1/{world.device_tokens[device]}/telemetry", content=body)
    assert response.status_code == 200, response.text
    return response.json()["batch_id"]


def _verify_file(tmp_path, document: dict, *args: str):
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(document))
    return CliRunner().invoke(ledger_cli, ["verify", str(path), *args])


def test_a_readings_proof_recomputes_from_the_table_and_verifies_offline(platform, live, world, tmp_path):
    batch = _send(live, world, "loom-01", [(T0_MS - 2000, 9.5), (T0_MS - 1000, 7.25)])
    headers = login(live.client, "officer")
    response = live.client.get(f"/api/v1/ledger/telemetry/batches/{batch}/devices/loom-01/proof", headers=headers)
    assert response.status_code == 200, response.text
    proof = response.json()
    assert proof["points"]["in_leaf"] is True
    assert proof["points"]["readings"] == [
        ["current_a", T0_MS - 2000, 9.5, None],
        ["current_a", T0_MS - 1000, 7.25, None],
    ]
    key = live.client.get("/api/v1/ledger/public-key").json()["public_key"]
    assert proof["tree_head"]["public_key"] == key
    result = _verify_file(tmp_path, proof, "--public-key", key)
    assert result.exit_code == 0, result.output
    assert "2 readings and 0 events of device 'loom-01' committed" in result.output
    proof["points"]["readings"][0][2] = 9.6  # a tampered value no longer matches the leaf's commitment
    assert _verify_file(tmp_path, proof).exit_code == 1


def test_a_resent_point_stays_proven_by_the_batch_that_first_stored_it(platform, live, world):
    first = _send(live, world, "loom-01", [(T0_MS - 2000, 9.5)])
    second = _send(live, world, "loom-01", [(T0_MS - 2000, 9.5), (T0_MS - 500, 3.0)])  # one re-sent, one new
    headers = login(live.client, "owner")
    for batch, expected in [(first, [T0_MS - 2000]), (second, [T0_MS - 500])]:
        proof = live.client.get(
            f"/api/v1/ledger/telemetry/batches/{batch}/devices/loom-01/proof", headers=headers
        ).json()
        assert [r[1] for r in proof["points"]["readings"]] == expected
        assert proof["points"]["in_leaf"] is True
        verify_document(proof)


def test_telemetry_proofs_follow_consent(platform, live, world):
    batch = _send(live, world, "loom-01", [(T0_MS - 1000, 9.0)])
    url = f"/api/v1/ledger/telemetry/batches/{batch}/devices/loom-01/proof"
    assert live.client.get(url).status_code == 401
    for username in ("other", "fleetowner"):  # no consent, another enterprise: the device does not exist for them
        response = live.client.get(url, headers=login(live.client, username))
        assert response.status_code == 404, (username, response.text)
    admin = live.client.get(url, headers=login(live.client, "admin"))  # operators read under consent only
    assert admin.status_code == 403, admin.text
    missing = live.client.get(
        f"/api/v1/ledger/telemetry/batches/{batch}/devices/loom-02/proof", headers=login(live.client, "owner")
    )
    assert missing.status_code == 404


def test_tree_heads_are_public_signed_and_consistent(platform, live, world, tmp_path):
    _send(live, world, "loom-01", [(T0_MS - 3000, 1.0)])
    admin = login(live.client, "admin")
    assert live.client.post("/api/v1/ledger/tree-heads", headers=login(live.client, "officer")).status_code == 403
    first = live.client.post("/api/v1/ledger/tree-heads", headers=admin).json()
    _send(live, world, "loom-02", [(T0_MS - 3000, 2.0)])
    second = live.client.post("/api/v1/ledger/tree-heads", headers=admin).json()
    assert second["tree_size"] == first["tree_size"] + 1
    assert live.client.get("/api/v1/ledger/tree-heads/latest").json() == second
    assert live.client.get("/api/v1/ledger/tree-heads").json()[:2] == [second, first]  # newest first
    proof = live.client.get("/api/v1/ledger/consistency", params={"first": first["tree_size"]}).json()
    assert proof["first_root_hash"] == first["root_hash"] and proof["second_root_hash"] == second["root_hash"]
    assert _verify_file(tmp_path, proof).exit_code == 0
    assert _verify_file(tmp_path, second).exit_code == 0


def test_a_decisions_evidence_bundle_exports_and_verifies_offline(platform, live, world, tmp_path):
    _send(live, world, "loom-01", [(T0_MS - 1000, 9.0)])
    statements, review = f"business_import:7:{world.factory}", f"business_import:8:{world.factory}"
    with platform.uow() as uow:
        record_evidence(
            uow,
            "business_import",
            statements,
            {"enterprise_id": world.factory, "at_ms": T0_MS, "rows": 12, "sha256": "ab" * 32},
        )
        record_evidence(
            uow,
            "business_import",
            review,
            {"enterprise_id": world.factory, "at_ms": T0_MS, "outcome": "approve", "inputs": [statements]},
        )
        uow.commit()
    response = live.client.get(
        "/api/v1/ledger/evidence", params={"subject": review}, headers=login(live.client, "officer")
    )
    assert response.status_code == 200, response.text
    bundle = response.json()
    assert [e["subject"] for e in bundle["entries"]] == [review, statements]
    result = _verify_file(tmp_path, bundle)
    assert result.exit_code == 0 and "2 entries" in result.output, result.output
    bundle["entries"][0]["leaf_data"] = bundle["entries"][0]["leaf_data"].replace("approve", "decline")
    with pytest.raises(ProofVerificationError, match="leaf_data does not hash"):
        verify_document(bundle)
    denied = live.client.get("/api/v1/ledger/evidence", params={"subject": review}, headers=login(live.client, "other"))
    assert denied.status_code == 404  # no consent: no such evidence for that bank
    telemetry = live.client.get("/api/v1/ledger/entries/0/proof", headers=login(live.client, "owner"))
    assert (
        telemetry.status_code == 404
    )  # a batch is proven per device; as an entry it reads as missing (no kind oracle)
    assert telemetry.json()["message"] == "ledger entry 0 does not exist"


def test_concurrent_appends_keep_one_consistent_tree(platform, world):
    lines = [{"device": "loom-01", "ts": T0_MS - 10_000 + i, "values": {"current_a": 1.0}} for i in range(5)]
    errors = []

    def ingest(offset: int) -> None:
        try:
            for i in range(5):
                ingest_lines(platform, [dict(line, ts=line["ts"] - 100 * offset - 1000 * i) for line in lines], "http")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=ingest, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    head = ledger.publish_tree_head(platform)
    assert head["tree_size"] == 20
    with platform.uow() as uow:
        leaves = [uow.ledger.entry(i) for i in range(20)]
    assert all(leaves)
    for index in (0, 7, 19):  # every leaf proves against the one root
        proof = ledger._inclusions(platform, [leaves[index]])[0][0]
        assert proof["root_hash"] == head["root_hash"]
        verify_document(proof)


def test_the_signing_key_is_stored_encrypted_and_refuses_another_secret(platform):
    key = ledger.public_key_hex(platform)
    with platform.uow() as uow:
        row = uow.ledger.signing_key(ledger.KEY_PURPOSE)
    assert row["public_key"] == key and len(bytes(row["encrypted_private_key"])) == 12 + 32 + 16
    platform.settings = platform.settings.model_copy(update={"secret_key": "another-secret-entirely"})
    with pytest.raises(ledger.LedgerKeyError, match="WUXIN_SECRET_KEY"):
        ledger.public_key_hex(platform)


def test_wuxin_ledger_publish_signs_the_configured_database(platform, world, monkeypatch, tmp_path):
    from wuxin.config import get_settings

    ingest_lines(platform, [{"device": "loom-01", "ts": T0_MS - 1000, "values": {"current_a": 2.0}}], "http")
    monkeypatch.setenv("WUXIN_DATABASE_URL", platform.settings.database_url)
    monkeypatch.setenv("WUXIN_SECRET_KEY", platform.settings.secret_key)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(ledger_cli, ["publish"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    head = json.loads(result.output)
    assert head["tree_size"] == 1 and head["public_key"] == ledger.public_key_hex(platform)
    assert _verify_file(tmp_path, head, "--public-key", head["public_key"]).exit_code == 0
