"""The alarm desk over HTTP: each alarm says which device, reading and threshold fired; the list filters on the
server with a total; bulk acknowledge / clear checks every id on its own (a foreign id inside a bulk request is
reported absent and left alone); the CSV export is in the reader's language and runs no formula; denials."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from tests.world import DAY_MS, build_world, login
from wuxin.api.app import create_app
from wuxin.services.access import consent
from wuxin.services.devices import registry
from wuxin.services.ingest.telemetry import ingest_lines


def crane_alarm(platform, world) -> int:
    """A real threshold alarm: the tower crane's moment at 150 % against the rule's 130 %."""
    site = registry.add_site(platform, None, world.factory, "二号工地", "江苏省苏州市", 31.3, 120.6)
    registry.register_device(
        platform, None, world.factory, "crane-1", "construction.tower_crane", "bank_installed", site
    )
    ingest_lines(
        platform, [{"device": "crane-1", "ts": platform.clock_ms() - 1000, "values": {"moment_pct": 150.0}}], "http"
    )
    with platform.uow() as uow:
        (alarm,) = [
            a for a in uow.monitoring.list_alarms(None, None, None, None, 10) if a["alarm_type"] == "crane_overload"
        ]
    return alarm["id"]


def planted(
    platform,
    enterprise_id: int,
    alarm_type: str = "device_tamper",
    severity: str = "critical",
    started_ms: int | None = None,
    detail: dict | None = None,
    source: str | None = None,
) -> int:
    """An alarm stored as a rule would store it (what the list, the desk and the export read)."""
    at = started_ms if started_ms is not None else platform.clock_ms()
    with platform.uow() as uow:
        alarm_id, _ = uow.monitoring.raise_alarm(
            dict(
                scope="platform",
                tenant_id=None,
                source=source or f"device:{enterprise_id}:{at}:{alarm_type}",
                alarm_type=alarm_type,
                rule_id="manufacturing.tamper",
                severity=severity,
                status="active",
                enterprise_id=enterprise_id,
                device_id=None,
                loan_ids=[],
                started_ms=at,
                last_ms=at,
                stored_ms=at,
                detail=detail or {},
            )
        )
        uow.commit()
    return alarm_id


@pytest.fixture
def desk(platform):
    world = build_world(platform)
    # the fleet shares its data with the other bank only: its alarms are not the test bank's to see or touch
    consent.grant(
        platform, None, world.fleet, world.other_bank, "all", [], "credit assessment", platform.clock_ms() + 30 * DAY_MS
    )
    with TestClient(create_app(platform)) as client:
        yield client, world


def test_each_alarm_says_which_device_reading_and_threshold_fired(platform, desk):
    client, world = desk
    alarm_id = crane_alarm(platform, world)
    officer = login(client, "officer")
    response = client.get("/api/v1/alarms", headers=officer)
    assert response.status_code == 200 and response.headers["X-Total-Count"] == "1"
    (row,) = response.json()
    assert row["id"] == alarm_id and row["enterprise_name"] == "吴江恒达化纤有限公司"
    assert row["device"]["key"] == "crane-1" and row["device"]["device_type"] == "construction.tower_crane"
    assert row["device"]["site_name"] == "二号工地"
    e = row["explanation"]
    assert (e["metric"], e["metric_kind"], e["value"], e["threshold"], e["comparison"]) == (
        "moment_pct",
        "metric",
        150.0,
        130.0,
        "above",
    )
    assert e["unit"] == "%" and e["window_s"] == 0
    labels = client.get("/api/v1/labels", headers=officer).json()
    assert labels["metric"]["moment_pct"]["en"] and labels["alarm_field"]["threshold"] == {
        "zh": "阈值",
        "en": "Threshold",
    }


def test_the_detail_shows_history_audit_and_evidence_to_its_readers_only(platform, desk):
    client, world = desk
    alarm_id = crane_alarm(platform, world)
    officer, other, owner = (login(client, u) for u in ("officer", "other", "owner"))
    done = client.post(
        "/api/v1/alarms/bulk",
        headers=officer,
        json={"action": "acknowledge", "ids": [alarm_id], "reason": "called the site manager"},
    )
    assert done.status_code == 200 and done.json()["done"] == 1
    detail = client.get(f"/api/v1/alarms/{alarm_id}", headers=officer).json()
    assert [(h["action"], h["username"]) for h in detail["history"]] == [("raise", None), ("acknowledge", "officer")]
    assert detail["history"][1]["reason"] == "called the site manager" and detail["acknowledged_by_name"] == "officer"
    assert detail["explanation"]["threshold"] == 130.0 and detail["started_ms"] <= detail["last_ms"]
    assert len(detail["evidence"]["entries"]) == 2  # the raise and the acknowledgement, each a ledger entry
    bundle = client.get(detail["evidence"]["bundle_path"], headers=officer)
    assert bundle.status_code == 200 and len(bundle.json()["entries"]) == 2
    proof = client.get(detail["evidence"]["entries"][1]["proof_path"], headers=officer)
    assert proof.status_code == 200
    assert client.get(f"/api/v1/alarms/{alarm_id}", headers=owner).status_code == 200  # the borrower sees its own
    for path in (
        f"/api/v1/alarms/{alarm_id}",
        detail["evidence"]["bundle_path"],
        detail["evidence"]["entries"][0]["proof_path"],
    ):
        assert client.get(path, headers=other).status_code == 404  # no consent: as if absent
    assert client.get(f"/api/v1/alarms/{alarm_id}", headers=login(client, "integrator")).status_code == 403


def test_filters_run_on_the_server_with_a_total_and_pages(platform, desk):
    client, world = desk
    now = platform.clock_ms()
    ids = {
        "old": planted(platform, world.factory, started_ms=now - 10 * DAY_MS),
        "idle": planted(platform, world.factory, "machine_idle", "minor", now - 2 * DAY_MS),
        "tamper": planted(platform, world.factory, "device_tamper", "critical", now - DAY_MS),
        "fleet": planted(platform, world.fleet, "device_tamper", "critical", now - DAY_MS),
    }
    officer = login(client, "officer")

    def ask(**params) -> tuple[list[int], int]:
        response = client.get("/api/v1/alarms", headers=officer, params=params)
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()], int(response.headers["X-Total-Count"])

    assert ask() == ([ids["tamper"], ids["idle"], ids["old"]], 3)  # newest first; the fleet's is not theirs
    assert ask(alarm_type="machine_idle") == ([ids["idle"]], 1)
    assert ask(severity=["critical", "major"]) == ([ids["tamper"], ids["old"]], 2)
    assert ask(opened_from_ms=now - 3 * DAY_MS, opened_to_ms=now) == ([ids["tamper"], ids["idle"]], 2)
    assert ask(enterprise_id=world.factory, severity="minor") == ([ids["idle"]], 1)
    first, total = ask(limit=2)
    response = client.get("/api/v1/alarms", headers=officer, params={"limit": 2})
    rest, same_total = ask(limit=2, before_id=response.headers["X-Next-Before-Id"])
    assert total == same_total == 3 and first + rest == [ids["tamper"], ids["idle"], ids["old"]]
    client.post(f"/api/v1/alarms/{ids['idle']}/acknowledge", headers=officer, json={"reason": "machine under repair"})
    assert ask(status="acknowledged") == ([ids["idle"]], 1)
    assert ask(status=["active", "acknowledged"])[1] == 3
    bad = client.get("/api/v1/alarms", headers=officer, params={"severity": "huge"})
    assert bad.status_code == 422 and "severity 'huge'" in bad.json()["message"]
    bad = client.get("/api/v1/alarms", headers=officer, params={"opened_from_ms": now, "opened_to_ms": now - 1})
    assert bad.status_code == 422 and "opened_from_ms" in bad.json()["message"]
    assert client.get("/api/v1/alarms", headers=officer, params={"enterprise_id": world.fleet}).status_code == 404
    other = login(client, "other")
    assert client.get("/api/v1/alarms", headers=other).json()[0]["id"] == ids["fleet"]


def test_bulk_checks_every_alarm_on_its_own_and_leaves_foreign_ones_alone(platform, desk):
    client, world = desk
    mine = [planted(platform, world.factory, source=f"device:{i}") for i in range(3)]
    foreign = planted(platform, world.fleet, source="device:fleet")
    officer, other = login(client, "officer"), login(client, "other")
    client.post(f"/api/v1/alarms/{mine[2]}/acknowledge", headers=officer, json={"reason": "already seen"})
    out = client.post(
        "/api/v1/alarms/bulk",
        headers=officer,
        json={
            "action": "acknowledge",
            "ids": [mine[0], foreign, mine[1], mine[2], 999_999],
            "reason": "site visit booked",
        },
    ).json()
    assert (out["done"], out["failed"]) == (2, 3)
    assert [(r["id"], r["ok"], r["error"]) for r in out["results"]] == [
        (mine[0], True, None),
        (foreign, False, "not_found"),
        (mine[1], True, None),
        (mine[2], False, "invalid_input"),
        (999_999, False, "not_found"),
    ]
    assert out["results"][1]["message"] == f"alarm {foreign} does not exist"  # the same words as for no alarm at all
    seen_by_other = client.get(f"/api/v1/alarms/{foreign}", headers=other).json()
    assert seen_by_other["status"] == "active" and [h["action"] for h in seen_by_other["history"]] == []
    audit = client.get(f"/api/v1/alarms/{mine[0]}", headers=officer).json()["history"]
    assert [(h["action"], h["reason"]) for h in audit] == [("acknowledge", "site visit booked")]
    cleared = client.post(
        "/api/v1/alarms/bulk",
        headers=officer,
        json={"action": "clear", "ids": mine, "reason": "inspected, seal replaced"},
    ).json()
    assert cleared["done"] == 3 and {r["status"] for r in cleared["results"]} == {"cleared"}
    short = client.post(
        "/api/v1/alarms/bulk", headers=officer, json={"action": "acknowledge", "ids": [foreign], "reason": " "}
    )
    assert short.status_code == 422
    assert (
        client.post(
            "/api/v1/alarms/bulk", headers=officer, json={"action": "snooze", "ids": mine, "reason": "later on"}
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/api/v1/alarms/bulk", headers=officer, json={"action": "clear", "ids": [], "reason": "nothing"}
        ).status_code
        == 422
    )


@pytest.mark.parametrize("username", ["owner", "integrator", "admin"])
def test_only_credit_officers_and_risk_managers_act_on_alarms(platform, desk, username):
    """The existing rule: the borrower cannot silence the bank's alarm, an integrator reads no alarms, the platform
    admin reads but does not act for a bank; a refusal changes nothing."""
    client, world = desk
    alarm_id = planted(platform, world.factory)
    refused = client.post(
        "/api/v1/alarms/bulk",
        headers=login(client, username),
        json={"action": "acknowledge", "ids": [alarm_id], "reason": "not mine to do"},
    )
    assert refused.status_code == 403
    assert client.get(f"/api/v1/alarms/{alarm_id}", headers=login(client, "risk")).json()["status"] == "active"


def test_an_integrator_can_neither_list_nor_export_alarms(platform, desk):
    client, world = desk
    planted(platform, world.factory)
    integrator = login(client, "integrator")
    assert client.get("/api/v1/alarms", headers=integrator).status_code == 403
    assert client.get("/api/v1/alarms/export.csv", headers=integrator).status_code == 403


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_export_is_the_filtered_list_in_the_readers_language_and_runs_no_formula(platform, desk):
    client, world = desk
    crane = crane_alarm(platform, world)
    hostile = planted(
        platform,
        world.factory,
        "device_tamper",
        "critical",
        detail={"device": '=HYPERLINK("http://evil","x")', "value": -3.5, "test": "@SUM(A1)"},
    )
    planted(platform, world.fleet)
    officer, other = login(client, "officer"), login(client, "other")
    zh = read_csv(client.get("/api/v1/alarms/export.csv", headers=officer))
    assert zh[0][:4] == ["编号", "级别", "预警类型", "状态"] and len(zh) == 3  # header, hostile, crane: no fleet alarm
    by_id = {int(r[0]): dict(zip(zh[0], r)) for r in zh[1:]}
    assert by_id[crane]["设备编号"] == "crane-1" and by_id[crane]["厂区/站点"] == "二号工地"
    assert by_id[crane]["数值"] == "150.0" and by_id[crane]["阈值"] == "130.0" and by_id[crane]["级别"] == "严重"
    assert by_id[hostile]["设备编号"] == '\'=HYPERLINK("http://evil","x")'  # text, not a formula
    assert by_id[hostile]["数值"] == "-3.5"  # a number stays a number
    en = read_csv(
        client.get("/api/v1/alarms/export.csv", headers=officer, params={"lang": "en", "alarm_type": "crane_overload"})
    )
    assert en[0][:4] == ["ID", "Severity", "Alarm type", "State"] and [r[0] for r in en[1:]] == [str(crane)]
    assert dict(zip(en[0], en[1]))["Severity"] == "Critical"
    assert (
        client.get("/api/v1/alarms/export.csv", headers=officer, params={"enterprise_id": world.fleet}).status_code
        == 404
    )
    theirs = read_csv(client.get("/api/v1/alarms/export.csv", headers=other))
    assert len(theirs) == 2 and int(theirs[1][0]) not in (crane, hostile)  # the other bank exports the fleet's only


def test_csv_cells_that_a_spreadsheet_would_run_start_with_a_quote():
    from wuxin.services.monitoring.alarm_desk import safe_cell

    assert [safe_cell(v) for v in ("=1+1", "+1", "-x", "@A1", "\tA", "\rA", "plain", -3.5, 7, None)] == [
        "'=1+1",
        "'+1",
        "'-x",
        "'@A1",
        "'\tA",
        "'\rA",
        "plain",
        -3.5,
        7,
        "",
    ]
