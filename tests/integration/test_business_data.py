"""Business-data imports: good rows kept, bad rows refused naming field and value, re-sends ignored,
source and trust kept, ledger entries written; who may import what."""

from __future__ import annotations

import json

from tests.integration.credit_world import statement_rows
from tests.world import build_world, login
from wuxin.services.credit import business_data


def _uscc(platform, enterprise_id: int) -> str:
    with platform.uow() as uow:
        return uow.enterprises.get(enterprise_id)["uscc"]


def test_good_rows_are_kept_bad_rows_refused_with_field_and_value_and_resends_ignored(live, platform):
    world = build_world(platform)
    uscc = _uscc(platform, world.factory)
    rows = statement_rows(uscc, platform) + [
        {
            "uscc": uscc,
            "period": "bad-1",
            "period_start": "2026-01-01",
            "period_end": "2026-03-31",
            "revenue_cny": "-5",
        },
        {"uscc": uscc, "period": "bad-2", "period_start": "2026-13-01", "period_end": "2026-03-31", "revenue_cny": "5"},
        {
            "uscc": "91320509XXXXXXXXXX",
            "period": "bad-3",
            "period_start": "2026-01-01",
            "period_end": "2026-03-31",
            "revenue_cny": "5",
        },
        {
            "uscc": uscc,
            "period": "bad-4",
            "period_start": "2026-01-01",
            "period_end": "2026-03-31",
            "revenue_cny": "5",
            "colour": "red",
        },
    ]
    headers = login(live.client, "officer")
    response = live.client.post(
        "/api/v1/business-data/statements?source=bank", content=json.dumps(rows), headers=headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["accepted"], body["rejected"], body["source"], body["trust_level"]) == (4, 4, "bank", 0.9)
    errors = {e["row"]: e for e in body["errors"]}
    assert (
        errors[5]["field"] == "revenue_cny"
        and errors[5]["value"] == "-5"
        and "below the minimum 0" in errors[5]["message"]
    )
    assert errors[6]["field"] == "period_start" and "2026-13-01" in errors[6]["message"]
    assert errors[7]["field"] == "uscc" and "no enterprise has USCC" in errors[7]["message"]
    assert errors[8]["field"] == "colour"
    again = live.client.post(
        "/api/v1/business-data/statements?source=bank", content=json.dumps(rows[:4]), headers=headers
    ).json()
    assert (again["accepted"], again["duplicate"]) == (0, 4)
    kept = live.client.get(f"/api/v1/business-data/imports/{body['import_id']}/rejections", headers=headers).json()
    assert [r["row"] for r in kept["rejected"]] == [5, 6, 7, 8] and '"bad-1"' in kept["rejected"][0]["payload"]
    records = live.client.get(
        f"/api/v1/enterprises/{world.factory}/business-data?kind=statements", headers=headers
    ).json()
    assert len(records["records"]) == 4 and all(r["ledger_proof"] for r in records["records"])
    proof = live.client.get(records["records"][0]["ledger_proof"], headers=headers)
    assert proof.status_code == 200, proof.text
    # floats would lose cents: refused with the field named
    floats = live.client.post(
        "/api/v1/business-data/electricity_bills?source=bank",
        headers=headers,
        json=[{"uscc": uscc, "month": "2026-08", "kwh": "91000"}],
    ).json()
    assert floats["accepted"] == 1


def test_csv_files_import_and_who_may_import_what(platform, tmp_path):
    world = build_world(platform)
    uscc = _uscc(platform, world.factory)
    path = tmp_path / "bills.csv"
    path.write_text(
        f"uscc,month,kwh,amount_cny\n{uscc},2026-07,90000,72000.00\n{uscc},2026-8,abc,1\n", encoding="utf-8"
    )
    result = business_data.import_file(platform, None, path, "electricity_bills", "third_party")
    assert (result["accepted"], result["rejected"]) == (1, 1) and result["errors"][0]["field"] == "kwh"
    from wuxin.services.credit.decisions import principal_for_username

    owner, other = principal_for_username(platform, "owner"), principal_for_username(platform, "other")
    import pytest

    from wuxin.errors import Denied

    with pytest.raises(Denied, match="enterprise_reported"):
        business_data.import_rows(platform, owner, "statements", statement_rows(uscc, platform), "bank")
    with pytest.raises(Denied, match="loan_outcomes"):
        business_data.import_rows(platform, owner, "loan_outcomes", [], "enterprise_reported")
    mine = business_data.import_rows(
        platform, owner, "statements", statement_rows(uscc, platform), "enterprise_reported"
    )
    assert mine["accepted"] == 4
    refused = business_data.import_rows(platform, other, "statements", statement_rows(uscc, platform), "bank")
    assert refused["accepted"] == 0 and f"no enterprise has USCC {uscc!r}" in refused["errors"][0]["message"]
    prices = business_data.import_rows(
        platform,
        None,
        "price_index",
        [{"sku": "tyre-205-55R16", "date": "2026-09-01", "price_cny_per_unit": "420.00"}],
        "third_party",
    )
    assert prices["accepted"] == 1
    with platform.uow() as uow:
        assert str(list(uow.monitoring.prices(["tyre-205-55R16"], platform.clock_ms()).values())[0]).startswith("420")
        audit = [a for a in uow.logs.audit_entries() if a["action"] == "business.import"]
    assert len(audit) == 4  # every import audited, refused rows included
