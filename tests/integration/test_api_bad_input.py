"""Bad input answers 4xx naming the thing and the value, never 5xx; a full database answers 503 (one test per class of
5xx the fuzzing in test_api_fuzz.py found or the security review listed)."""

from __future__ import annotations

import errno
import json

import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from tests.world import build_world, login
from wuxin.errors import Conflict, InvalidInput, StorageFull
from wuxin.store.errors import translate

BEYOND_64_BITS = str(2**64 + 1)
DEEP = b"[" * 50_000 + b"]" * 50_000


def _problem(response) -> dict:
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    return problem


def test_ids_beyond_64_bits_answer_422_naming_the_parameter_and_value(live, platform):
    world = build_world(platform)
    admin, officer = login(live.client, "admin"), login(live.client, "officer")
    for path, headers, where in [
        (f"/api/v1/enterprises/{BEYOND_64_BITS}", admin, "path.enterprise_id"),
        (f"/api/v1/loans/{BEYOND_64_BITS}", officer, "path.loan_id"),
        (f"/api/v1/alarms/{BEYOND_64_BITS}/audit", officer, "path.alarm_id"),
        (f"/api/v1/consents?enterprise_id={BEYOND_64_BITS}", officer, "query.enterprise_id"),
        (f"/api/v1/quarantine?after_id={BEYOND_64_BITS}", admin, "query.after_id"),
        (f"/api/v1/ledger/entries/{BEYOND_64_BITS}/proof", officer, "path.leaf_index"),
        (f"/api/v1/ledger/consistency?first={BEYOND_64_BITS}", {}, "query.first"),
        (f"/api/v1/enterprises/{world.factory}/devices/loom-01/telemetry?from={BEYOND_64_BITS}", officer, "query.from"),
    ]:
        problem = _problem(live.client.get(path, headers=headers))
        assert (problem["where"], problem["value"]) == (where, BEYOND_64_BITS), path
        assert "less than or equal to" in problem["message"]
    body = {"enterprise_id": int(BEYOND_64_BITS), "product": "equipment_loan", "amount_cny": "1000"}
    problem = _problem(live.client.post("/api/v1/loans", json=body, headers=officer))
    assert (problem["where"], problem["value"]) == ("body.enterprise_id", int(BEYOND_64_BITS))
    # beyond PostgreSQL's INTEGER ids (32 bits), the same answer on both databases
    problem = _problem(live.client.get(f"/api/v1/enterprises/{2**40}", headers=admin))
    assert problem["where"] == "path.enterprise_id" and "2147483647" in problem["message"]


def test_a_duplicate_site_name_answers_409_naming_the_site(live, platform):
    world = build_world(platform)
    owner = login(live.client, "owner")
    site = {"name": "二号车间", "region": "江苏省苏州市吴江区"}
    first = live.client.post(f"/api/v1/enterprises/{world.factory}/sites", json=site, headers=owner)
    assert first.status_code == 201
    again = live.client.post(f"/api/v1/enterprises/{world.factory}/sites", json=site, headers=owner)
    assert again.status_code == 409, again.text
    assert again.json()["message"] == (
        f"enterprise {world.factory} already has a site named '二号车间' (site {first.json()['id']})"
    )


def test_a_narrowing_that_changes_nothing_answers_422(live, platform):
    world = build_world(platform)
    response = live.client.patch(
        f"/api/v1/consents/{world.consent_bank_factory}",
        json={"scope_items": None},
        headers=login(live.client, "owner"),
    )
    assert response.status_code == 422, response.text
    assert response.json()["message"] == (
        f"consent {world.consent_bank_factory}: a narrowing gives scope_items, expires_ms or both; got neither"
    )


def test_business_data_that_is_not_utf8_or_has_a_bare_carriage_return_is_no_server_error(live, platform):
    build_world(platform)
    csv_owner = login(live.client, "owner") | {"content-type": "text/csv"}
    response = live.client.post(
        "/api/v1/business-data/statements", content=b"uscc,period\n\xff,2026-Q1\n", headers=csv_owner
    )
    assert response.status_code == 422, response.text
    assert response.json()["message"] == "file is not UTF-8 text: byte b'\\xff' at offset 12"
    response = live.client.post(
        "/api/v1/business-data/statements", content=b"uscc,period\r\nx\ry,2026-Q1\r\n", headers=csv_owner
    )
    assert response.status_code == 201, response.text  # the row is read (and refused for its fields), not a crash
    assert response.json()["rejected"] == 2


def test_a_unique_violation_the_services_did_not_foresee_is_a_conflict_naming_table_and_columns(platform):
    world = build_world(platform)
    site = dict(enterprise_id=world.factory, name="一号车间", region="江苏省苏州市吴江区", lat=None, lon=None)
    with pytest.raises(Conflict, match=r"^sites already holds one with the same enterprise_id, name$"):
        with platform.uow() as uow:
            uow.enterprises.add_site(**site)
    with pytest.raises(InvalidInput, match="refers to something that does not exist"):
        with platform.uow() as uow:
            uow.enterprises.add_site(**site | {"enterprise_id": 999_999, "name": "三号车间"})
    with pytest.raises(InvalidInput, match="64 bits|out of range"):
        with platform.uow() as uow:
            uow.enterprises.get(2**70)


def test_nul_characters_and_lone_surrogates_are_refused_naming_the_field(live, platform):
    build_world(platform)
    problem = _problem(live.client.post("/api/v1/auth/login", json={"username": "ad\x00min", "password": "x" * 12}))
    assert problem == {
        "where": "body.username",
        "value": "ad\x00min",
        "message": "contains a NUL character (U+0000), which the database cannot store",
    }
    admin = login(live.client, "admin")
    problem = _problem(live.client.post("/api/v1/devices/loom%0001/token/rotate", headers=admin))
    assert (problem["where"], problem["value"]) == ("path.device_key", "loom\x0001")
    problem = _problem(live.client.get("/api/v1/rules?scenario=manu%00facturing", headers=admin))
    assert (problem["where"], problem["value"]) == ("query.scenario", "manu\x00facturing")
    problem = _problem(live.client.post("/api/v1/no%00token/telemetry", content=b'{"current_a": 1}'))  # unauthenticated
    assert problem["where"] == "path.device_token"
    owner = login(live.client, "owner")
    surrogate = b'{"name": "\\ud800 hall", "region": "Suzhou"}'
    problem = _problem(
        live.client.post(
            "/api/v1/enterprises/1/sites", content=surrogate, headers=owner | {"content-type": "application/json"}
        )
    )
    assert problem == {
        "where": "body.name",
        "value": "\\ud800 hall",
        "message": "contains a lone surrogate U+D800, which is not Unicode text",
    }
    rows = json.dumps([{"uscc": "x", "period": "2026-Q1", "note": "a\x00b"}])
    problem = _problem(live.client.post("/api/v1/business-data/statements", content=rows, headers=owner))
    assert problem["where"] == "body.0.note"


def test_deeply_nested_json_answers_400_saying_so(live, platform):
    build_world(platform)
    owner, admin = login(live.client, "owner"), login(live.client, "admin")
    json_type = {"content-type": "application/json"}
    for path, headers in [
        ("/api/v1/business-data/statements", owner),
        ("/epcis/capture", owner),
        ("/api/v1/enterprises/1/sites", owner),
        ("/api/v1/rule-overrides/equipment_loan/x", admin),
    ]:
        method = live.client.put if "rule-overrides" in path else live.client.post
        response = method(path, content=DEEP, headers=headers | json_type)
        assert response.status_code == 400, (path, response.text)
        assert response.json()["error"] == "too_deep" and "nested too deeply" in response.json()["message"]


@pytest.mark.parametrize("platform", ["sqlite"], indirect=True)
def test_a_full_database_answers_503_with_retry_after_and_health_says_degraded(live, platform):
    """A real SQLite "database or disk is full": the page limit set to the pages the database has now."""
    world = build_world(platform)
    owner = login(live.client, "owner")
    assert live.client.get("/health").json()["status"] == "ok"
    with platform.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
    event.listen(platform.engine, "connect", lambda dbapi, _: dbapi.execute(f"PRAGMA max_page_count = {pages}"))
    platform.engine.dispose()  # every connection from now on has the limit

    admin = login(live.client, "admin")
    health = live.client.get("/health", headers=admin)
    assert health.status_code == 503 and health.json()["status"] == "read_only"
    assert "KiB left to write to the database" in health.json()["writes"] and health.headers["Retry-After"]
    assert live.client.get("/health").json()["writes"] == "refused"  # anyone else: the status word only
    for attempt in range(200):  # sites of 400 bytes fill the free bytes left in the pages the database has
        response = live.client.post(
            f"/api/v1/enterprises/{world.factory}/sites",
            headers=owner,
            json={"name": f"{attempt}-" + "x" * 190, "region": "y" * 200},
        )
        if response.status_code != 201:
            break
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "storage_full" and "no room left to write" in response.json()["message"]
    assert int(response.headers["Retry-After"]) > 0
    assert "a write failed in the last" in live.client.get("/health", headers=admin).json()["writes"]


def test_full_disks_are_storage_full_on_either_database():
    """PostgreSQL's disk cannot be filled in a test: its DiskFull (53100) and an OSError ENOSPC, as raised."""
    disk_full = OperationalError("INSERT INTO readings ...", {}, psycopg.errors.DiskFull("could not extend file"))
    assert isinstance(translate(disk_full), StorageFull)
    assert isinstance(translate(OSError(errno.ENOSPC, "No space left on device")), StorageFull)
    assert translate(OSError(errno.EACCES, "Permission denied")) is None


def test_money_beyond_its_column_answers_422_naming_the_field_and_value(live, platform):
    """1e26 overflowed the 28-digit Decimal context when quantized to the cent (500 InvalidOperation)."""
    world = build_world(platform)
    officer, risk = login(live.client, "officer"), login(live.client, "risk")
    loan = {"enterprise_id": world.factory, "product": "p", "amount_cny": "1e26"}
    problem = _problem(live.client.post("/api/v1/loans", json=loan, headers=officer))
    assert (problem["where"], problem["value"]) == ("body.amount_cny", "1e26")
    assert "18 digits" in problem["message"]
    price = {"sku": "s", "price_cny": "1e30", "at_ms": 0, "source": "x"}
    problem = _problem(live.client.post("/api/v1/price-index", json=price, headers=risk))
    assert (problem["where"], problem["value"]) == ("body.price_cny", "1e30")


def test_a_json_number_beyond_a_double_answers_422_not_inf(live, platform):
    """1e999999 parsed to inf, which the answer could not carry back as JSON (500 'Out of range float values')."""
    world = build_world(platform)
    officer = login(live.client, "officer")
    body = b'{"product_code": "movable_pledge", "pledged_value_cny": 1e999999}'
    response = live.client.post(
        f"/api/v1/enterprises/{world.factory}/credit/decisions",
        content=body,
        headers={**officer, "Content-Type": "application/json"},
    )
    problem = _problem(response)
    assert problem["where"] == "body.pledged_value_cny"
    zone = b'{"zone_id": "z", "polygon": [[1e999999, 0], [1, 0], [1, 1]]}'
    response = live.client.post(
        "/api/v1/loans/1/zones", content=zone, headers={**officer, "Content-Type": "application/json"}
    )
    assert _problem(response)["where"] == "body.polygon.0.0"


def test_a_day_outside_2000_to_2100_answers_422_naming_the_parameter(live, platform):
    """end_day=0001-01-01 with days=366 left Python's date range (500 OverflowError)."""
    world = build_world(platform)
    owner = login(live.client, "owner")
    path = f"/api/v1/console/enterprises/{world.factory}/equipment-timeline?days=366&end_day=0001-01-01"
    problem = _problem(live.client.get(path, headers=owner))
    assert (problem["where"], problem["value"]) == ("query.end_day", "0001-01-01")


def test_a_nul_in_one_point_keeps_the_good_points_on_both_telemetry_routes(live, platform):
    """The token-in-header route answered 422 for the whole body (good points lost) where the token-in-path route
    stores the good points and names the bad one: both are the ingest parser's."""
    world = build_world(platform)
    body = b'{"current_a": 9, "bad\\u0000name": 1}'
    token = world.device_tokens["loom-01"]
    in_path = live.client.post(f"/api/v1/{token}/telemetry", content=body)
    in_header = live.client.post(
        "/api/v1/devices/me/telemetry", content=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert in_path.status_code == in_header.status_code == 200, in_header.text
    without_batch = [{k: v for k, v in r.json().items() if k != "batch_id"} for r in (in_path, in_header)]
    assert without_batch[0] == without_batch[1]
    assert (in_header.json()["accepted"], in_header.json()["rejected"]) == (1, 1), in_header.text


def test_every_telemetry_route_leaves_its_body_to_the_ingest_parser(platform):
    from wuxin.api.app import create_app
    from wuxin.api.guards import INGEST_ROUTES

    paths = create_app(platform).openapi()["paths"]
    telemetry = {path for path, operations in paths.items() if path.endswith("/telemetry") and "post" in operations}
    assert telemetry and telemetry <= INGEST_ROUTES


def test_a_number_beyond_a_double_in_free_form_parameters_answers_422(live, platform):
    build_world(platform)
    risk = login(live.client, "risk")
    body = b'{"params": {"value": 1e999999}}'
    response = live.client.put(
        "/api/v1/rule-overrides/*/construction.crane_overload",
        content=body,
        headers={**risk, "Content-Type": "application/json"},
    )
    problem = _problem(response)
    assert problem["where"] == "body" and "params.value" in problem["message"]
