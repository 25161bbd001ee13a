"""The demo: a bank, its staff, simulated borrowers of every scenario with consent, and history."""
from __future__ import annotations

from typing import Callable

from wuxin.bootstrap import Platform
from wuxin.scenarios import scenario_packs
from wuxin.services import identity
from wuxin.services.bulk_import import chunked, import_lines_chunked
from wuxin.services.credit import load_demo_credit
from wuxin.services.indicators import update_indicators
from wuxin.services.monitoring import evaluate_daily
from wuxin.services.onboarding import onboard_enterprise
from wuxin.sim.fleet import build_fleet, fleet_telemetry

DEMO_BANK = "苏州示范银行 Demo Bank"
OTHER_BANK = "江南对照银行 Other Bank"
OPERATOR = "物信监测 Wuxin Monitoring (operator)"
DEMO_PASSWORD = "wuxin-demo-2026"
DEMO_USERS = [  # username, password, role — printed by `wuxin demo`
    ("admin", DEMO_PASSWORD, "platform_admin"),
    ("officer", DEMO_PASSWORD, "credit_officer"),
    ("risk", DEMO_PASSWORD, "risk_manager"),
    ("integrator", DEMO_PASSWORD, "integrator"),
    ("owner", DEMO_PASSWORD, "enterprise_user (first manufacturing borrower)"),
    ("other-officer", DEMO_PASSWORD, "credit_officer at another bank (sees nothing)"),
]
DAY_MS = 86_400_000
YEAR_MS = 365 * DAY_MS


def load_demo(platform: Platform, days: int = 7, per_scenario: int = 2, seed: int = 2026,
              progress: Callable[[str], None] = print) -> str:
    """Load once; a second run finds the demo bank and leaves everything as it is."""
    with platform.uow() as uow:
        if uow.identity.tenant_by_name(DEMO_BANK):
            return "demo data already loaded (delete var/wuxin.db to start afresh)"
    bank, other, operator = _tenants(platform)
    fleet = demo_fleet(per_scenario, seed)
    enterprise_ids = [_onboard(platform, spec, bank, operator) for spec in fleet]
    _users(platform, bank, other, operator, _first_of(fleet, enterprise_ids, "manufacturing"))
    now_ms = platform.clock_ms()
    progress(f"simulating {days} days for {len(fleet)} enterprises ...")
    lines = fleet_telemetry(fleet, now_ms - days * DAY_MS, now_ms, seed)
    summary = import_lines_chunked(platform, chunked(lines), "bulk")
    computed = update_indicators(platform)
    progress(f"indicators: {computed.device_days} device-days, {computed.enterprise_days} enterprise-days, "
             f"{computed.index_groups} industry-index groups")
    progress(f"daily warning rules: {evaluate_daily(platform)} alarms")
    from wuxin.services.demo_monitoring import demo_loans  # loans, a pledge and alarms (monitoring part)
    demo_loans(platform, fleet, enterprise_ids)  # first: the collateral decisions value the registry's lots
    progress(load_demo_credit(platform, fleet, enterprise_ids, "officer", seed))
    return (f"loaded {len(fleet)} enterprises of {len(scenario_packs())} scenarios, "
            f"{sum(len(s.devices) for s in fleet)} devices, {summary.readings} readings, {summary.events} events, "
            f"{summary.rejected} rejected")


def demo_fleet(per_scenario: int = 2, seed: int = 2026) -> list:
    """The demo's simulated enterprises: the same seed gives the same fleet (history and live devices)."""
    fleet = build_fleet(sorted(scenario_packs()), per_scenario, seed)
    return fleet + town_cluster(fleet, seed)


def town_cluster(fleet: list, seed: int, town: str = "盛泽", size: int = 5) -> list:
    """Enough chemical-fibre mills in one town for its industry index to be published (>= 5, seed 004)."""
    import random

    sim = scenario_packs()["manufacturing"].sim()
    have = sum(town in spec.region for spec in fleet)
    rng, extra, index = random.Random(seed + 1), [], len(fleet)
    while have + len(extra) < size:
        index += 1
        spec = sim.build_enterprise(rng, index)
        if town in spec.region:
            extra.append(spec)
    return extra


def _tenants(platform: Platform) -> tuple[int, int, int]:
    return (identity.create_tenant(platform, DEMO_BANK, "bank"), identity.create_tenant(platform, OTHER_BANK, "bank"),
            identity.create_tenant(platform, OPERATOR, "operator"))


def _onboard(platform: Platform, spec, bank: int, operator: int) -> int:
    return onboard_enterprise(platform, spec, [(bank, "credit assessment and post-loan monitoring"),
                                               (operator, "device installation and maintenance")])


def _first_of(fleet, enterprise_ids: list[int], industry: str) -> int:
    return next(eid for spec, eid in zip(fleet, enterprise_ids) if spec.industry == industry)


def _users(platform: Platform, bank: int, other: int, operator: int, owner_enterprise: int) -> None:
    identity.create_user(platform, "admin", DEMO_PASSWORD, "platform_admin", display_name="平台管理员")
    identity.create_user(platform, "officer", DEMO_PASSWORD, "credit_officer", bank, display_name="信贷员 王芳")
    identity.create_user(platform, "risk", DEMO_PASSWORD, "risk_manager", bank, display_name="风险经理 李强")
    identity.create_user(platform, "integrator", DEMO_PASSWORD, "integrator", operator, display_name="集成商 张工")
    identity.create_user(platform, "owner", DEMO_PASSWORD, "enterprise_user", enterprise_id=owner_enterprise,
                         display_name="企业主")
    identity.create_user(platform, "other-officer", DEMO_PASSWORD, "credit_officer", other, display_name="他行信贷员")
