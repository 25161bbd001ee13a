"""The command loop in the console, on the live demo (its own demo: live JT/T 808 terminals, commands change state):
a truck's alarm -> the officer requests a door lock on the fleet loan's collateral -> she cannot approve it herself ->
the risk manager approves -> the demo gateway's poll sends it and the simulated terminal answers -> the device,
loan and alarm pages show it acknowledged, with the terminal's answer -> the fleet owner reads it (read-only) ->
another bank's officer sees none of it. Screenshots zh-CN and en in test-artifacts/e2e/."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.e2e.conftest import Console
from wuxin.bench.browser import serve_in_thread
from wuxin.bootstrap import build_platform
from wuxin.cli.core import prepare_database
from wuxin.config import Settings
from wuxin.services.access import identity
from wuxin.services.demo.live import LiveDevices
from wuxin.services.demo.people import DEMO_PASSWORD
from wuxin.services.demo.setup import demo_fleet, load_demo

SEED = 11
FLEET_OWNER = "fleet-owner"


@pytest.fixture(scope="module")
def live_demo(tmp_path_factory):
    """The demo (one borrower per scenario, two days, no credit portfolio) with its live devices, served over HTTP."""
    folder = tmp_path_factory.mktemp("e2e-commands")
    platform = build_platform(Settings(database_url=f"sqlite:///{folder}/demo.db", environment="test", var_dir=folder))
    prepare_database(platform)
    load_demo(platform, days=2, per_scenario=1, seed=SEED, progress=lambda _: None, credit_portfolio=False)
    live = LiveDevices(
        platform,
        demo_fleet(1, SEED, credit_portfolio=False),
        SEED,
        jt808_port=0,
        command_poll_s=0.5,
        data_dir=folder / "broker",
    )
    live.start()
    try:
        with serve_in_thread(platform) as url:
            yield url, platform, live
    finally:
        live.stop()
        platform.close()


def _token(url: str, username: str) -> str:
    out = httpx.post(f"{url}/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    out.raise_for_status()
    return out.json()["access_token"]


def _get(url: str, token: str, path: str):
    return httpx.get(f"{url}{path}", headers={"Authorization": f"Bearer {token}"})


@pytest.fixture(scope="module")
def fleet_loan(live_demo):
    """The fleet borrower's vehicle loan the demo put in warning, and a pledged truck alarm of it that is live."""
    url, platform, live = live_demo
    officer = _token(url, "officer")
    loans = [l for l in _get(url, officer, "/api/v1/loans").json() if l["product"] == "logistics_transport"]
    assert [l["state"] for l in loans] == ["warning"], loans
    loan = loans[0]
    with platform.uow() as uow:
        plan = uow.monitoring.loan(loan["id"])["monitoring_plan"]["devices"]
        by_plate = {d["attributes"]["plate"]: d["key"] for d in uow.devices.by_keys(plan) if d["key"] in live._sessions}
        on_truck = {
            d["id"]: by_plate[d["attributes"]["plate"]]
            for d in uow.devices.list(loan["enterprise_id"])
            if (d["attributes"] or {}).get("plate") in by_plate
        }  # the truck's terminal and its other units
    assert by_plate, plan
    alarms = [
        a
        for a in _get(url, officer, f"/api/v1/alarms?status=active&enterprise_id={loan['enterprise_id']}").json()
        if a["device_id"] in on_truck
    ]
    assert alarms  # what put the loan in warning
    alarm = sorted(alarms, key=lambda a: (a["alarm_type"] != "geofence_exit", a["id"]))[0]
    identity.create_user(platform, FLEET_OWNER, DEMO_PASSWORD, "enterprise_user", enterprise_id=loan["enterprise_id"])
    return {"loan": loan, "alarm": alarm, "truck": on_truck[alarm["device_id"]]}


@pytest.fixture
def as_user(live_demo, browser):
    url = live_demo[0]
    contexts = []

    def make(username: str, lang: str = "zh-CN") -> Console:
        context = browser.new_context(viewport={"width": 1360, "height": 900}, locale=lang)
        context.add_init_script(f"localStorage.setItem('wuxin.lang', '{lang}')")
        contexts.append(context)
        page = context.new_page()
        c = Console(page, url)
        page.on("console", lambda m: c.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: c.errors.append(f"uncaught: {e}\n{e.stack or ''}"))
        c.open("#/login", "#username")
        page.fill("#username", username)
        page.fill("#password", DEMO_PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector(f"[data-user='{username}']")
        return c

    yield make
    for context in contexts:
        context.close()


def _command_state(url: str, token: str, command_id: int) -> dict:
    return _get(url, token, f"/api/v1/commands/{command_id}").json()


def test_alarm_to_acknowledged_door_lock_with_four_eyes(live_demo, fleet_loan, as_user):
    url, platform, live = live_demo
    loan, alarm, truck = fleet_loan["loan"], fleet_loan["alarm"], fleet_loan["truck"]

    # the officer, from the borrower's alarms, opens the truck alarm's commands and requests a door lock
    officer = as_user("officer", "zh-CN")
    officer.open(f"#/alarm/{alarm['id']}", "#alarm-commands [data-request-command]")
    officer.page.click("#alarm-commands [data-request-command]")
    officer.page.wait_for_selector("dialog[data-dialog='command-request'] #cmd-operation")
    officer.page.select_option("#cmd-operation", "lock_doors")
    assert officer.page.locator("#cmd-loan").input_value() == str(loan["id"])
    assert officer.page.locator("[data-note='four-eyes']").count() == 1
    officer.page.click("dialog[data-dialog='command-request'] [data-dialog-submit]")
    error = officer.page.wait_for_selector("dialog[data-dialog='command-request'] [data-dialog-error]:not(:empty)")
    assert "reason" in error.inner_text()  # no reason given: the API's refusal is shown, the dialog stays open
    officer.page.fill("#cmd-reason", "车辆驶出电子围栏，贷款已预警，先行锁门")
    officer.shot("commands-request-zh")
    officer.page.click("dialog[data-dialog='command-request'] [data-dialog-submit]")
    officer.page.wait_for_function(
        "() => !document.querySelector(\"dialog[data-dialog='command-request']\") || "
        "document.querySelector(\"dialog[data-dialog='command-request'] [data-dialog-error]\").textContent !== ''"
    )
    assert officer.page.locator("dialog[data-dialog='command-request']").count() == 0, error.inner_text()
    state = officer.page.locator("#alarm-commands [data-command-state]").first
    state.wait_for()
    command_id = int(state.get_attribute("data-command-state"))
    assert state.get_attribute("data-state-code") == "requested"

    # four eyes: the requester is shown it is hers and gets no approve button
    officer.open("#/commands", f"[data-command-list='pending'] [data-own='{command_id}']")
    assert officer.page.locator(f"[data-decide='{command_id}']").count() == 0

    # the risk manager (en) sees it pending and approves it
    risk = as_user("risk", "en")
    risk.open("#/commands", f"[data-command-list='pending'] [data-decide='{command_id}']")
    risk.shot("commands-pending-en")
    risk.page.click(f"[data-decide='{command_id}']")
    risk.page.fill("#cmd-decision-reason", "Confirmed: the truck left its fence while the loan is in warning")
    risk.page.click("dialog[data-dialog='command-decide'] [data-dialog-submit]")
    risk.page.wait_for_selector("dialog[data-dialog='command-decide']", state="detached")

    # the demo gateway's poll sends it, the live terminal locks and answers (no heartbeat needed)
    token = _token(url, "risk")
    deadline = time.monotonic() + 90
    while _command_state(url, token, command_id)["state"] in ("approved", "sent") and time.monotonic() < deadline:
        time.sleep(0.5)
    done = _command_state(url, token, command_id)
    assert done["state"] == "acknowledged", done
    assert done["answer"]["vehicle"]["doors_locked"] is True, done["answer"]
    assert done["sent_ms"] <= done["answered_ms"] and done["decided_ms"] <= done["sent_ms"]
    terminal = live._sessions[truck]
    assert terminal.vehicle.doors_locked  # the simulated truck did it; its reports from now on carry bit 12
    assert [f.header.msg_id for f in terminal.commands] == [0x8500]

    # device, loan and alarm pages show it acknowledged with the answer
    risk.open(
        f"#/device/{loan['enterprise_id']}/{truck}",
        f"[data-command-state='{command_id}'][data-state-code='acknowledged']",
    )
    assert risk.page.locator(f"[data-command-answer='{command_id}']").inner_text() != "—"
    risk.shot("commands-device-en")
    officer.open("#/loans", f"[data-loan-commands='{loan['id']}']")
    officer.page.click(f"[data-loan-commands='{loan['id']}']")
    officer.page.wait_for_selector(f"[data-command-state='{command_id}'][data-state-code='acknowledged']")
    officer.shot("commands-loan-zh")
    officer.open(f"#/alarm/{alarm['id']}", "#alarm-commands")
    officer.page.wait_for_selector(
        f"#alarm-commands [data-command-state='{command_id}'][data-state-code='acknowledged']"
    )
    officer.shot("commands-alarm-zh")

    # the fleet's owner reads every command to its trucks, with no action
    owner = as_user(FLEET_OWNER, "zh-CN")
    owner.open("#/commands", f"[data-command-state='{command_id}']")
    assert (
        owner.page.locator("[data-decide]").count() == 0 and owner.page.locator("[data-request-command]").count() == 0
    )
    owner.shot("commands-owner-zh")

    # another bank's officer sees nothing of it
    other = as_user("other-officer", "en")
    other.open("#/commands", "[data-command-list='all'] [data-empty='commands']")
    assert other.page.locator(f"[data-command-state='{command_id}']").count() == 0
    other_token = _token(url, "other-officer")
    assert _get(url, other_token, f"/api/v1/commands/{command_id}").status_code == 404
    assert (
        httpx.post(
            f"{url}/api/v1/commands/{command_id}/cancel",
            json={"reason": "not mine"},
            headers={"Authorization": f"Bearer {other_token}"},
        ).status_code
        == 404
    )
    other.shot("commands-other-bank-en")

    refused = "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    assert officer.errors == [refused], officer.errors  # the request without a reason, refused above; nothing else
    for c in (risk, owner, other):
        assert c.errors == [], c.errors


def _track_after(platform, truck: str, after_ms: int) -> list[tuple[int, float, float, float]]:
    """The truck's reports after after_ms: (time, lat, lon, speed km/h), in order."""
    with platform.uow() as uow:
        device_id = uow.devices.by_key(truck)["id"]
    from sqlalchemy import text

    with platform.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT ts_ms, key, num FROM readings WHERE device_id = :d AND ts_ms > :t "
                "AND key IN ('lat', 'lon', 'speed_kmh') ORDER BY ts_ms"
            ),
            {"d": device_id, "t": after_ms},
        ).all()
    points: dict[int, dict] = {}
    for ts, key, num in rows:
        points.setdefault(ts, {})[key] = num
    return [(ts, p["lat"], p["lon"], p["speed_kmh"]) for ts, p in sorted(points.items()) if len(p) == 3]


def _drive(live, url: str, token: str, truck: str, speed_kmh: float, acc_on: bool) -> None:
    """The driver's move, and wait until the platform reads it as the truck's latest state (a report's time has whole
    seconds: the next report may be stamped a moment ahead)."""
    live.take_wheel(truck, speed_kmh, acc_on)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = _get(url, token, f"/api/v1/devices/{truck}/command-state").json()["state"]
        if state["speed_kmh"]["value"] == speed_kmh and state["acc_on"]["value"] is acc_on:
            return
        time.sleep(0.2)
    raise AssertionError(f"{truck} never read as {speed_kmh} km/h, ACC {acc_on}: {state}")


def test_alarm_to_oil_and_power_cut_refused_while_moving_then_confirmed_by_the_data_after(
    live_demo, fleet_loan, as_user
):
    """Auto-loan recovery: the cut is refused while the truck moves; once parked it is requested, approved by a second
    person, sent as JT/T 808 0x8500 over TCP to the simulated terminal, answered 0x0500 with the cut bits, and the
    reports that follow (the driver trying to leave) show it standing where it was, oil and circuit cut."""
    url, platform, live = live_demo
    loan, alarm, truck = fleet_loan["loan"], fleet_loan["alarm"], fleet_loan["truck"]
    token = _token(url, "officer")
    _drive(live, url, token, truck, 42.0, True)  # the truck is on the road

    officer = as_user("officer", "en")
    officer.open(f"#/alarm/{alarm['id']}", "#alarm-commands [data-request-command]")
    officer.page.click("#alarm-commands [data-request-command]")
    officer.page.wait_for_selector("dialog[data-dialog='command-request'] #cmd-operation")
    officer.page.select_option("#cmd-operation", "immobilise")
    assert officer.page.locator("#cmd-loan").input_value() == str(loan["id"])
    assert officer.page.locator("[data-note='four-eyes']").count() == 1
    officer.page.fill("#cmd-reason", "Loan in warning, truck left its fence: immobilise for recovery")
    officer.page.click("dialog[data-dialog='command-request'] [data-dialog-submit]")
    error = officer.page.wait_for_selector("dialog[data-dialog='command-request'] [data-dialog-error]:not(:empty)")
    assert "42.0 km/h" in error.inner_text()  # refused while it moves: the dialog says why and stays open
    officer.shot("commands-cut-refused-moving-en")

    _drive(live, url, token, truck, 0.0, True)  # stopped, engine running: still refused
    officer.page.click("dialog[data-dialog='command-request'] [data-dialog-submit]")
    officer.page.wait_for_function(
        "() => document.querySelector(\"dialog[data-dialog='command-request'] "
        "[data-dialog-error]\").textContent.includes('ACC on')"
    )
    _drive(live, url, token, truck, 0.0, False)  # parked, ignition off
    parked_at_ms = platform.clock_ms()
    officer.page.click("dialog[data-dialog='command-request'] [data-dialog-submit]")
    officer.page.wait_for_selector("dialog[data-dialog='command-request']", state="detached")
    state = officer.page.locator("#alarm-commands [data-command-state]").first
    state.wait_for()
    cut = [
        c for c in _get(url, token, f"/api/v1/alarms/{alarm['id']}/commands").json() if c["operation"] == "immobilise"
    ]
    assert [c["state"] for c in cut] == ["requested"], cut
    command_id = cut[0]["id"]

    risk = as_user("risk", "zh-CN")
    risk.open("#/commands", f"[data-command-list='pending'] [data-decide='{command_id}']")
    risk.page.click(f"[data-decide='{command_id}']")
    risk.page.fill("#cmd-decision-reason", "已核实：车辆停放熄火，贷款预警中，同意断油断电")
    risk.page.click("dialog[data-dialog='command-decide'] [data-dialog-submit]")
    risk.page.wait_for_selector("dialog[data-dialog='command-decide']", state="detached")

    deadline = time.monotonic() + 90
    while _command_state(url, token, command_id)["state"] in ("approved", "sent") and time.monotonic() < deadline:
        time.sleep(0.5)
    done = _command_state(url, token, command_id)
    assert done["state"] == "acknowledged", done
    assert done["msg_id"] == "0x8500" and done["answer"]["msg_id"] == "0x0500", done
    assert done["answer"]["vehicle"]["oil_cut"] is True and done["answer"]["vehicle"]["circuit_cut"] is True
    terminal = live._sessions[truck]
    assert terminal.vehicle.immobilised and terminal.commands[-1].header.msg_id == 0x8500

    # the driver tries to leave: the reports that follow show the truck standing where it was, oil and power cut
    stood = (terminal.vehicle.lat, terminal.vehicle.lon)
    live.take_wheel(truck, 55.0, True)
    live.take_wheel(truck, 60.0, True)
    after = _track_after(platform, truck, done["answered_ms"] // 1000 * 1000 - 1)  # a report's time has whole seconds
    assert len(after) >= 2 and all(
        speed == 0.0 and (lat, lon) == pytest.approx(stood) for _, lat, lon, speed in after
    ), after
    assert parked_at_ms <= done["answered_ms"]

    # the device page: the vehicle state from those reports and the command with the terminal's raw answer
    risk.open(
        f"#/device/{loan['enterprise_id']}/{truck}",
        f"[data-command-state='{command_id}'][data-state-code='acknowledged']",
    )
    risk.page.wait_for_selector("[data-vehicle-state] [data-state-key='oil_cut'][data-state-value='true']")
    assert risk.page.locator("[data-state-key='circuit_cut']").get_attribute("data-state-value") == "true"
    assert risk.page.locator("[data-state-key='acc_on']").get_attribute("data-state-value") == "false"
    assert risk.page.locator("[data-state-key='speed_kmh']").get_attribute("data-state-value") == "0"
    raw = risk.page.locator(f"[data-command-raw='{command_id}']").inner_text()
    assert '"oil_cut":true' in raw and '"msg_id":"0x0500"' in raw
    risk.shot("commands-cut-device-zh")
    officer.open("#/loans", f"[data-loan-commands='{loan['id']}']")
    officer.page.click(f"[data-loan-commands='{loan['id']}']")
    officer.page.wait_for_selector(f"[data-command-state='{command_id}'][data-state-code='acknowledged']")
    officer.open(f"#/alarm/{alarm['id']}", "#alarm-commands")
    officer.page.wait_for_selector(
        f"#alarm-commands [data-command-state='{command_id}'][data-state-code='acknowledged']"
    )
    officer.shot("commands-cut-alarm-en")

    conflict = "Failed to load resource: the server responded with a status of 409 (Conflict)"
    assert officer.errors == [conflict, conflict], officer.errors  # the two refusals above; nothing else
    assert risk.errors == [], risk.errors
