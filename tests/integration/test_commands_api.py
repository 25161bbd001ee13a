"""Commands over HTTP: request, approve, reject, cancel, the lists of a device, a loan and an alarm, the evidence
bundle; every endpoint answers only whom the tenant, the role and the consent allow."""

from __future__ import annotations

from tests.world import DAY_MS, PASSWORD, build_world, login
from wuxin.services.access import consent, identity
from wuxin.services.credit import loans
from wuxin.services.devices import registry
from wuxin.services.ingest.jt808 import provision_terminal


def _setup(platform):
    world = build_world(platform)
    expires = platform.clock_ms() + 30 * DAY_MS
    world.fleet_consents = {
        tenant: consent.grant(platform, None, world.fleet, tenant, "all", [], "credit monitoring", expires)
        for tenant in (world.bank, world.operator, world.other_bank)
    }
    registry.register_device(
        platform,
        None,
        world.fleet,
        "truck-02",
        "vehicles.gps_terminal",
        "bank_installed",
        attributes={"jt808_phone": "013912345678", "plate": "粤B12345"},
    )
    provision_terminal(platform, None, "truck-02", "SZ80801")
    with platform.uow() as uow:
        device_id = uow.devices.by_key("truck-02")["id"]
    officer = identity.principal_for_token(platform, identity.login(platform, "officer", PASSWORD))
    loan = loans.create_loan(platform, officer, world.fleet, "auto", "300000")
    with platform.uow() as uow:
        uow.monitoring.set_loan(loan["id"], state="warning", monitoring_plan={"devices": ["truck-02"]})
        alarm_id, _ = uow.monitoring.raise_alarm(
            dict(
                scope="platform",
                tenant_id=None,
                source=f"device:{device_id}",
                alarm_type="theft",
                rule_id="vehicles.theft",
                severity="critical",
                status="active",
                enterprise_id=world.fleet,
                device_id=device_id,
                loan_ids=[loan["id"]],
                started_ms=platform.clock_ms(),
                last_ms=platform.clock_ms(),
                stored_ms=platform.clock_ms(),
                detail={},
            )
        )
        uow.commit()
    return world, loan["id"], alarm_id


def test_the_lock_is_requested_approved_and_seen_on_the_device_loan_and_alarm_by_whom_it_concerns(live, platform):
    world, loan_id, alarm_id = _setup(platform)
    client = live.client
    h = {name: login(client, name) for name in ("officer", "risk", "other", "integrator", "fleetowner", "owner")}
    body = {
        "operation": "lock_doors",
        "reason": "theft alarm on the pledged vehicle",
        "loan_id": loan_id,
        "alarm_id": alarm_id,
    }
    assert client.post("/api/v1/devices/truck-02/commands", json=body).status_code == 401
    created = client.post("/api/v1/devices/truck-02/commands", json=body, headers=h["officer"])
    assert created.status_code == 201, created.text
    command = created.json()
    assert command["state"] == "requested" and command["four_eyes"] and command["alarm_id"] == alarm_id
    cid = command["id"]

    own = client.post(f"/api/v1/commands/{cid}/approve", json={}, headers=h["officer"])
    assert own.status_code == 403 and "four eyes" in own.text
    assert client.post(f"/api/v1/commands/{cid}/approve", json={}, headers=h["other"]).status_code == 404
    approved = client.post(f"/api/v1/commands/{cid}/approve", json={"reason": "confirmed"}, headers=h["risk"])
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    assert client.post(f"/api/v1/commands/{cid}/approve", json={}, headers=h["risk"]).status_code == 409

    def ids(path, who):
        response = client.get(path, headers=h[who])
        return response.status_code, [c["id"] for c in response.json()] if response.status_code == 200 else None

    assert ids("/api/v1/devices/truck-02/commands", "officer") == (200, [cid])
    assert ids("/api/v1/devices/truck-02/commands", "fleetowner") == (200, [cid])  # the borrower sees it
    assert ids("/api/v1/devices/truck-02/commands", "other") == (200, [])  # another bank: not its command
    assert ids("/api/v1/devices/truck-02/commands", "owner")[0] == 404  # another enterprise's user
    assert ids(f"/api/v1/loans/{loan_id}/commands", "risk") == (200, [cid])
    assert ids(f"/api/v1/loans/{loan_id}/commands", "other")[0] == 404
    assert ids(f"/api/v1/alarms/{alarm_id}/commands", "officer") == (200, [cid])
    assert ids(f"/api/v1/alarms/{alarm_id}/commands", "owner")[0] == 404
    assert client.get(f"/api/v1/commands/{cid}", headers=h["other"]).status_code == 404
    assert client.get(f"/api/v1/commands/{cid}", headers=h["integrator"]).status_code == 404

    bundle = client.get("/api/v1/ledger/evidence", params={"subject": f"command:{cid}"}, headers=h["risk"])
    assert bundle.status_code == 200 and len(bundle.json()["entries"]) == 2  # request, approve
    assert (
        client.get("/api/v1/ledger/evidence", params={"subject": f"command:{cid}"}, headers=h["other"]).status_code
        == 404
    )

    revoked = client.post(f"/api/v1/consents/{world.fleet_consents[world.bank]}/revoke", headers=h["fleetowner"])
    assert revoked.status_code == 200, revoked.text  # the borrower withdraws its consent: the answers are device data
    assert client.get(f"/api/v1/commands/{cid}", headers=h["officer"]).status_code == 404
    assert ids(f"/api/v1/loans/{loan_id}/commands", "officer") == (200, [])
    assert client.get(f"/api/v1/commands/{cid}", headers=h["fleetowner"]).status_code == 200


def test_bad_requests_and_refusals_say_what_and_why(live, platform):
    world, loan_id, _ = _setup(platform)
    client = live.client
    h = {name: login(client, name) for name in ("officer", "integrator", "fleetowner")}

    def post(who, **body):
        return client.post("/api/v1/devices/truck-02/commands", json={"reason": "needed now", **body}, headers=h[who])

    denied = post("integrator", operation="immobilise", loan_id=loan_id)
    assert denied.status_code == 403 and "lending bank" in denied.text
    assert post("fleetowner", operation="query_location").status_code == 403
    bad = post("integrator", operation="set_parameters", params={"report_interval_s": 0})
    assert bad.status_code == 422 and "report_interval_s" in bad.text and "got 0" in bad.text
    unknown = post("integrator", operation="reboot")
    assert unknown.status_code == 422 and "'reboot'" in unknown.text
    assert post("integrator", operation="query_location", ttl_s=10).status_code == 422
    short = client.post(
        "/api/v1/devices/truck-02/commands",
        json={"operation": "query_location", "reason": "x"},
        headers=h["integrator"],
    )
    assert short.status_code == 422 and "reason" in short.text
    cut = post("officer", operation="immobilise", loan_id=loan_id)
    assert cut.status_code == 409 and "no speed and ignition" in cut.text  # it never reported standing still
    ok = post("integrator", operation="set_parameters", params={"report_interval_s": 15})
    assert ok.status_code == 201 and ok.json()["state"] == "approved" and not ok.json()["four_eyes"]
    cancelled = client.post(
        f"/api/v1/commands/{ok.json()['id']}/cancel", json={"reason": "wrong truck"}, headers=h["integrator"]
    )
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    labels = client.get("/api/v1/labels", headers=h["officer"]).json()
    assert labels["command_state"]["requested"] == {"zh": "待审批", "en": "Awaiting approval"}
    assert labels["command_operation"]["immobilise"]["zh"] == "断油断电"


def test_the_command_lists_across_devices_show_each_caller_only_their_own(live, platform):
    """GET /commands: the bank's own (its pending approvals with state=requested), the borrower's every command to its
    devices, nothing of it to another bank, another enterprise or an integrator that did not ask."""
    world, loan_id, alarm_id = _setup(platform)
    client = live.client
    h = {
        name: login(client, name) for name in ("officer", "risk", "other", "integrator", "fleetowner", "owner", "admin")
    }
    body = {"operation": "lock_doors", "reason": "theft alarm on the pledged vehicle", "loan_id": loan_id}
    cid = client.post("/api/v1/devices/truck-02/commands", json=body, headers=h["officer"]).json()["id"]
    located = client.post(
        "/api/v1/devices/truck-02/commands",
        json={"operation": "query_location", "reason": "where is it"},
        headers=h["other"],
    )
    assert located.status_code == 201, located.text

    def ids(path, who):
        response = client.get(path, headers=h[who])
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()]

    assert ids("/api/v1/commands?state=requested", "risk") == [cid]  # the risk manager's pending approvals
    assert ids("/api/v1/commands?state=approved", "risk") == []
    assert ids("/api/v1/commands", "officer") == [cid]
    assert ids("/api/v1/commands", "other") == [located.json()["id"]]  # another bank: only its own
    assert ids("/api/v1/commands", "fleetowner") == [located.json()["id"], cid]  # the borrower: all, newest first
    assert ids("/api/v1/commands", "owner") == []  # another enterprise
    assert ids("/api/v1/commands", "integrator") == []
    assert len(ids("/api/v1/commands", "admin")) == 2
    assert client.get("/api/v1/commands").status_code == 401
    bad = client.get("/api/v1/commands?state=lost", headers=h["risk"])
    assert bad.status_code == 422 and "'lost'" in bad.text


def test_the_operations_a_device_takes_say_for_each_caller_which_they_may_ask(live, platform):
    _setup(platform)
    client = live.client
    h = {name: login(client, name) for name in ("officer", "integrator", "fleetowner", "owner")}

    def refusals(who):
        response = client.get("/api/v1/devices/truck-02/command-operations", headers=h[who])
        assert response.status_code == 200, response.text
        return {o["operation"]: o["refusal"] for o in response.json()}

    officer = refusals("officer")
    assert officer["lock_doors"] is None and officer["query_location"] is None
    assert "set_parameters" in officer and officer["set_parameters"] is not None  # the integrator sets parameters
    integrator = refusals("integrator")
    assert integrator["set_parameters"] is None and integrator["immobilise"] is not None
    assert all(r is not None for r in refusals("fleetowner").values())  # enterprise users command nothing
    specs = {
        o["operation"]: o
        for o in client.get("/api/v1/devices/truck-02/command-operations", headers=h["officer"]).json()
    }
    assert specs["immobilise"]["four_eyes"] and specs["immobilise"]["stationary"]
    assert specs["immobilise"]["loan_states"] == ["disposal", "warning"]
    assert specs["set_parameters"]["params"]["report_interval_s"] == {"type": "integer", "min": 1, "max": 86_400}
    assert client.get("/api/v1/devices/truck-02/command-operations", headers=h["owner"]).status_code == 404
    assert client.get("/api/v1/devices/truck-02/command-operations").status_code == 401


def test_an_alarm_of_another_unit_on_the_same_vehicle_may_prompt_the_terminals_command(live, platform):
    """An ADAS camera's alarm (same plate as the GPS terminal) may be named; one of another vehicle may not."""
    world, loan_id, _ = _setup(platform)
    client = live.client
    officer = login(client, "officer")
    alarm_ids = {}
    for key, plate in (("adas-02", "粤B12345"), ("adas-09", "粤B99999")):
        registry.register_device(
            platform, None, world.fleet, key, "vehicles.adas_unit", "bank_installed", attributes={"plate": plate}
        )
        with platform.uow() as uow:
            unit_id = uow.devices.by_key(key)["id"]
            alarm_ids[key], _ = uow.monitoring.raise_alarm(
                dict(
                    scope="platform",
                    tenant_id=None,
                    source=f"device:{unit_id}",
                    alarm_type="driver_behaviour",
                    rule_id="vehicles.driver_behaviour",
                    severity="major",
                    status="active",
                    enterprise_id=world.fleet,
                    device_id=unit_id,
                    loan_ids=[],
                    started_ms=platform.clock_ms(),
                    last_ms=platform.clock_ms(),
                    stored_ms=platform.clock_ms(),
                    detail={},
                )
            )
            uow.commit()
    body = {"operation": "lock_doors", "reason": "driver alarm on the pledged truck", "loan_id": loan_id}
    same = client.post(
        "/api/v1/devices/truck-02/commands", json={**body, "alarm_id": alarm_ids["adas-02"]}, headers=officer
    )
    assert same.status_code == 201, same.text
    assert same.json()["alarm_id"] == alarm_ids["adas-02"]
    other = client.post(
        "/api/v1/devices/truck-02/commands", json={**body, "alarm_id": alarm_ids["adas-09"]}, headers=officer
    )
    assert other.status_code == 422 and f"alarm {alarm_ids['adas-09']} is not about device 'truck-02'" in other.text


def test_the_vehicle_state_comes_from_its_reports_and_only_for_whom_the_consent_allows(live, platform):
    from wuxin.services.ingest.telemetry import ingest_lines

    world, _, _ = _setup(platform)
    regulator = identity.create_tenant(platform, "Regulator", "regulator")
    identity.create_user(platform, "regulator", PASSWORD, "regulator", regulator)
    client = live.client
    now = platform.clock_ms()
    ingest_lines(
        platform,
        [
            {
                "device": "truck-02",
                "ts": now - 60_000,
                "values": {
                    "speed_kmh": 31.0,
                    "acc_on": True,
                    "oil_cut": False,
                    "circuit_cut": False,
                    "doors_locked": False,
                },
            },
            {
                "device": "truck-02",
                "ts": now - 1_000,
                "values": {
                    "speed_kmh": 0.0,
                    "acc_on": False,
                    "oil_cut": True,
                    "circuit_cut": True,
                    "doors_locked": False,
                },
            },
        ],
        "http",
    )
    h = {name: login(client, name) for name in ("officer", "fleetowner", "owner", "other", "integrator", "regulator")}
    path = "/api/v1/devices/truck-02/command-state"
    assert client.get(path).status_code == 401
    seen = client.get(path, headers=h["officer"])
    assert seen.status_code == 200, seen.text
    state = seen.json()["state"]
    assert state["oil_cut"] == {"value": True, "ts_ms": now - 1_000} and state["circuit_cut"]["value"] is True
    assert (
        state["acc_on"]["value"] is False
        and state["speed_kmh"]["value"] == 0.0
        and state["doors_locked"]["value"] is False
    )
    assert client.get(path, headers=h["fleetowner"]).json()["state"] == state  # the borrower sees its truck
    assert client.get(path, headers=h["integrator"]).status_code == 200
    assert client.get(path, headers=h["owner"]).status_code == 404  # another enterprise's user: no such device
    assert client.get(path, headers=h["regulator"]).status_code == 404  # a regulator holds no consent: no such device
    revoked = client.post(f"/api/v1/consents/{world.fleet_consents[world.other_bank]}/revoke", headers=h["fleetowner"])
    assert revoked.status_code == 200, revoked.text
    assert client.get(path, headers=h["other"]).status_code == 404
    consent.grant(
        platform, None, world.fleet, world.other_bank, "devices", ["truck-01"], "credit monitoring", now + 30 * DAY_MS
    )  # the other bank may see the fleet's truck-01 only
    narrow = client.get(path, headers=h["other"])
    assert narrow.status_code == 403 and "truck-02" in narrow.text, narrow.text
    assert client.get("/api/v1/devices/nope/command-state", headers=h["officer"]).status_code == 404
