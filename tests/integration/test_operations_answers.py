"""The operator's, the alarm desk's and the console's answers over HTTP carry exactly the fields their response
models (what /docs shows) list: rules and overrides, notification channels, an alarm's audit trail, quarantine,
tenants and users, the console's portfolio and map, /health."""

from __future__ import annotations

from pydantic import BaseModel

from tests.integration.test_alarm_desk import crane_alarm
from tests.world import build_world, login
from wuxin.api.schemas_console import MapPoints, MapSite, MapVehicle, Portfolio, PortfolioEnterprise
from wuxin.api.schemas_monitoring import AlarmAction, NotificationChannel, OverrideSet, RuleDoc, RuleOverride
from wuxin.api.schemas_operations import Health, QuarantineEntry, Replayed

RULE = "construction.crane_overload"


def _exactly(model: type[BaseModel], body: dict) -> dict:
    """The answer has the model's fields, no fewer and no more."""
    assert set(body) == set(model.model_fields), f"{model.__name__}: {sorted(body)}"
    return body


def test_rules_and_their_overrides_answer_their_documented_fields(platform, live):
    build_world(platform)
    risk = login(live.client, "risk")
    rules = live.client.get("/api/v1/rules?scenario=construction", headers=risk).json()
    crane = _exactly(RuleDoc, next(r for r in rules if r["id"] == RULE))
    assert crane["enabled"] is True and crane["params"]
    tuned = live.client.put(f"/api/v1/rule-overrides/*/{RULE}", json={"severity": "minor"}, headers=risk)
    assert tuned.status_code == 200, tuned.text
    assert _exactly(OverrideSet, tuned.json())["rule"]["severity"] == "minor"
    (override,) = live.client.get("/api/v1/rule-overrides", headers=risk).json()
    assert _exactly(RuleOverride, override)["override"] == {"severity": "minor"}
    deleted = live.client.delete(f"/api/v1/rule-overrides/*/{RULE}", headers=risk)
    assert deleted.status_code == 200 and deleted.json() == {"deleted": 1}
    assert live.client.get("/api/v1/rule-overrides", headers=risk).json() == []


def test_a_notification_channel_and_an_alarm_audit_answer_their_documented_fields(platform, live):
    world = build_world(platform)
    channel = live.client.post(
        "/api/v1/notification-channels",
        json={"kind": "webhook", "target": "https://bank.example/hook"},
        headers=login(live.client, "risk"),
    )
    assert channel.status_code == 201, channel.text
    assert _exactly(NotificationChannel, channel.json())["min_severity"] == "major"
    alarm_id = crane_alarm(platform, world)
    officer = login(live.client, "officer")
    acknowledged = live.client.post(
        f"/api/v1/alarms/{alarm_id}/acknowledge", json={"reason": "site called"}, headers=officer
    )
    assert acknowledged.status_code == 200, acknowledged.text
    trail = live.client.get(f"/api/v1/alarms/{alarm_id}/audit", headers=officer).json()
    assert [_exactly(AlarmAction, step)["action"] for step in trail][-1] == "acknowledge"


def test_quarantine_tenants_and_users_answer_their_documented_fields(platform, live):
    world = build_world(platform)
    refused = live.client.post(
        f"/api/v1/{world.device_tokens['loom-01']}/telemetry", json={"ts": platform.clock_ms(), "values": {"nope": 1}}
    )
    assert refused.json()["rejected"] == 1
    admin = login(live.client, "admin")
    (entry,) = live.client.get("/api/v1/quarantine", headers=admin).json()
    assert _exactly(QuarantineEntry, entry)["device_key"] == "loom-01" and entry["status"] == "open"
    replayed = live.client.post("/api/v1/quarantine/replay", json={"ids": [entry["id"]]}, headers=admin).json()
    assert _exactly(Replayed, replayed) == {"replayed": [], "still_refused": [entry["id"]]}
    discarded = live.client.post("/api/v1/quarantine/discard", json={"ids": [entry["id"]]}, headers=admin)
    assert discarded.json() == {"discarded": 1}
    tenant = live.client.post("/api/v1/tenants", json={"name": "Third Bank", "kind": "bank"}, headers=admin)
    assert tenant.status_code == 201 and set(tenant.json()) == {"id"}
    user = live.client.post(
        "/api/v1/users",
        json={
            "username": "third",
            "password": "a long password",
            "role": "credit_officer",
            "tenant_id": tenant.json()["id"],
        },
        headers=admin,
    )
    assert user.status_code == 201 and set(user.json()) == {"id"}


def test_the_console_portfolio_and_map_answer_their_documented_fields(platform, live):
    world = build_world(platform)
    position = {"lat": 29.87, "lon": 121.55, "speed_kmh": 42}
    sent = live.client.post(
        f"/api/v1/{world.device_tokens['truck-01']}/telemetry",
        json={"ts": platform.clock_ms() - 1000, "values": position},
    )
    assert sent.json()["accepted"] == 3, sent.text
    portfolio = _exactly(
        Portfolio, live.client.get("/api/v1/console/portfolio", headers=login(live.client, "officer")).json()
    )
    factory = _exactly(PortfolioEnterprise, next(e for e in portfolio["enterprises"] if e["id"] == world.factory))
    assert factory["devices"] == 3 and factory["machines"] == 2
    owner = login(live.client, "fleetowner")
    points = _exactly(MapPoints, live.client.get("/api/v1/console/map", headers=owner).json())
    (truck,) = points["vehicles"]
    assert _exactly(MapVehicle, truck)["speed_kmh"] == 42 and truck["lat"] == 29.87
    sites = live.client.get("/api/v1/console/map", headers=login(live.client, "owner")).json()["sites"]
    assert _exactly(MapSite, sites[0])["lat"] == 30.91


def test_health_answers_its_documented_fields(platform, live):
    body = _exactly(Health, live.client.get("/health").json())
    assert body["parts"]["database"]["status"] == "ok"
    Health.model_validate(body)
