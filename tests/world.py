"""A small world for the tests: two banks, an operator, two borrowers, devices, users, consents."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from wuxin.indicators.days import DAY_MS
from wuxin.services.access import consent, identity
from wuxin.services.devices import registry
from wuxin.sim.spec import make_uscc

PASSWORD = "correct-horse-battery"


@dataclass
class World:
    bank: int
    other_bank: int
    operator: int
    factory: int  # enterprise A (manufacturing)
    fleet: int  # enterprise B (vehicles)
    consent_bank_factory: int
    device_tokens: dict[str, str] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)


def build_world(platform) -> World:
    rng = random.Random(5)
    bank = identity.create_tenant(platform, "Test Bank", "bank")
    other = identity.create_tenant(platform, "Other Bank", "bank")
    operator = identity.create_tenant(platform, "Monitoring Co", "operator")
    factory = registry.create_enterprise(
        platform, None, "吴江恒达化纤有限公司", make_uscc(rng), "manufacturing", "江苏省苏州市吴江区"
    )
    fleet = registry.create_enterprise(
        platform, None, "宁波顺达物流有限公司", make_uscc(rng), "vehicles", "浙江省宁波市"
    )
    site = registry.add_site(platform, None, factory, "一号车间", "江苏省苏州市吴江区", 30.91, 120.64)
    tokens = {}
    for key, device_type in [
        ("loom-01", "manufacturing.current_bracelet"),
        ("loom-02", "manufacturing.current_bracelet"),
        ("meter-01", "manufacturing.energy_meter"),
    ]:
        _, tokens[key] = registry.register_device(
            platform,
            None,
            factory,
            key,
            device_type,
            "bank_installed",
            site,
            {"run_threshold_a": 5.0} if "loom" in key else {},
        )
    _, tokens["truck-01"] = registry.register_device(
        platform, None, fleet, "truck-01", "vehicles.gps_terminal", "third_party_platform"
    )
    expires = platform.clock_ms() + 30 * DAY_MS
    c1 = consent.grant(platform, None, factory, bank, "all", [], "credit assessment", expires)
    consent.grant(platform, None, factory, operator, "all", [], "device maintenance", expires)
    world = World(bank, other, operator, factory, fleet, c1, tokens)
    for username, role, tenant, enterprise in [
        ("admin", "platform_admin", None, None),
        ("officer", "credit_officer", bank, None),
        ("risk", "risk_manager", bank, None),
        ("other", "credit_officer", other, None),
        ("integrator", "integrator", operator, None),
        ("owner", "enterprise_user", None, factory),
        ("fleetowner", "enterprise_user", None, fleet),
    ]:
        world.users[username] = identity.create_user(platform, username, PASSWORD, role, tenant, enterprise)
    return world


def login(client, username: str) -> dict:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
