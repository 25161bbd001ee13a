"""The demo makes a cold-chain borrower from the pack alone: its devices with their history, a loan with pledged lots
watched by its RFID readers, a credit decision on the pack's product, and the pack's words in both languages."""

from __future__ import annotations

from wuxin.services.demo.people import DEMO_PASSWORD
from wuxin.services.demo.setup import load_demo

TYPES = {
    "cold_chain.temp_logger",
    "cold_chain.door_sensor",
    "cold_chain.refrigeration_meter",
    "cold_chain.rfid_reader",
    "cold_chain.scale",
    "cold_chain.reefer_unit",
}


def login(client, username):
    token = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}).json()[
        "access_token"
    ]
    return {"Authorization": f"Bearer {token}"}


def test_the_demo_creates_a_cold_chain_borrower_with_devices_a_pledge_and_a_decision(platform, live):
    load_demo(platform, days=1, per_scenario=1, seed=7, progress=lambda _: None, credit_portfolio=False)
    officer = login(live.client, "officer")
    enterprises = live.client.get("/api/v1/enterprises", headers=officer).json()
    store = next(e for e in enterprises if e["industry"] == "cold_chain")
    devices = live.client.get(f"/api/v1/enterprises/{store['id']}/devices", headers=officer).json()
    assert {d["device_type"] for d in devices} == TYPES
    logger = next(
        d for d in devices if d["device_type"] == "cold_chain.temp_logger" and d["attributes"]["space_kind"] == "room"
    )
    url = f"/api/v1/enterprises/{store['id']}/devices/{logger['key']}/telemetry?key=temp_c"
    readings = live.client.get(url, headers=officer).json()["readings"]
    assert len(readings) > 100 and all(-50 <= r["value"] <= 50 for r in readings)

    loans = live.client.get(f"/api/v1/loans?enterprise_id={store['id']}", headers=officer).json()
    assert len(loans) == 1
    valuation = live.client.get(f"/api/v1/loans/{loans[0]['id']}/valuation", headers=officer).json()
    zones = {d["attributes"]["zone_id"] for d in devices if d["device_type"] == "cold_chain.rfid_reader"}
    assert valuation["monitored"] and valuation["items"]
    assert all(item["identity"].rsplit("-", 1)[-1] in zones for item in valuation["items"])  # lots in its RFID zones
    # the demo pledges the pallets its readers watch at their value: a fresh loan stands well covered, no margin call
    assert valuation["status"] not in ("margin_call", "liquidation"), valuation
    assert float(valuation["coverage_ratio"]) > 1.4, valuation

    decisions = live.client.get(f"/api/v1/enterprises/{store['id']}/credit/decisions", headers=officer).json()
    assert [d["product_code"] for d in decisions] == ["cold_chain_pledge"] and decisions[0]["outcome"]

    labels = live.client.get("/api/v1/labels", headers=officer).json()
    assert labels["scenario"]["cold_chain"]["zh"] == "冷链仓储物流" and labels["scenario"]["cold_chain"]["colour"]
    assert labels["product"]["cold_chain_pledge"] == {"zh": "冷链仓单质押", "en": "cold-chain warehouse receipt pledge"}
    for kind, code in (
        ("device_type", "cold_chain.reefer_unit"),
        ("metric", "door_open"),
        ("indicator", "temp_in_range_ratio"),
        ("alarm_type", "temperature_excursion"),
        ("check", "electricity_bill_vs_refrigeration"),
    ):
        assert labels[kind][code]["zh"] and labels[kind][code]["en"], (kind, code)
