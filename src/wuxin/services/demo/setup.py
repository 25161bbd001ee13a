"""The demo: a bank, its staff, simulated borrowers of every scenario with consent, and history."""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain

from wuxin.bootstrap import Platform
from wuxin.indicators.days import DAY_MS
from wuxin.scenarios import scenario_packs
from wuxin.services.access import identity
from wuxin.services.credit.assessment import default_as_of_day
from wuxin.services.demo.credit import load_demo_credit
from wuxin.services.demo.people import DEMO_BANK, DEMO_PASSWORD, OPERATOR, OTHER_BANK
from wuxin.services.devices.onboarding import onboard_enterprise
from wuxin.services.evidence.ledger import publish_tree_head
from wuxin.services.indicators import update_indicators
from wuxin.services.ingest.bulk_import import chunked, import_lines_chunked
from wuxin.services.monitoring.daily import evaluate_daily
from wuxin.sim.fleet import build_fleet, fleet_telemetry
from wuxin.sim.portfolio import history_lines, history_start_ms, portfolio, statement_rows, story_pack
from wuxin.sim.spec import EnterpriseSpec

YEAR_MS = 365 * DAY_MS


def load_demo(
    platform: Platform,
    days: int = 7,
    per_scenario: int = 2,
    seed: int = 2026,
    progress: Callable[[str], None] = print,
    credit_portfolio: bool = True,
) -> str:
    """Load once; a second run finds the demo bank and leaves everything as it is. With `credit_portfolio`,
    the credit portfolio's mills (wuxin.sim.portfolio) come with their long, coarse history and their books."""
    with platform.uow() as uow:
        if uow.identity.tenant_by_name(DEMO_BANK):
            return "demo data already loaded (delete var/wuxin.db to start afresh)"
    bank, other, operator = _tenants(platform)
    fleet = demo_fleet(per_scenario, seed, credit_portfolio)
    enterprise_ids = [_onboard(platform, spec, bank, operator) for spec in fleet]
    _users(platform, bank, other, operator, _first_of(fleet, enterprise_ids, story_pack().name))
    now_ms = platform.clock_ms()
    stories = portfolio(seed) if credit_portfolio else []
    in_portfolio = {spec.uscc for _, spec in stories}
    monitored = [spec for spec in fleet if spec.uscc not in in_portfolio]
    quarters = statement_quarters(default_as_of_day(platform))
    start_ms = history_start_ms(quarters[-4][0])
    made: dict[str, dict[int, float]] = {}
    applicants = f" and {(now_ms - start_ms) // DAY_MS} days (older ones coarse) for {len(stories)} credit applicants"
    progress(f"simulating {days} days for {len(monitored)} enterprises{applicants if stories else ''} ...")
    lines = chain(
        fleet_telemetry(
            monitored, now_ms - days * DAY_MS, now_ms, seed, anomalies=demo_incidents(monitored, days, now_ms, seed)
        ),
        history_lines(stories, start_ms, now_ms - days * DAY_MS, now_ms, seed, made),
    )
    summary = import_lines_chunked(platform, chunked(lines), "bulk")
    computed = update_indicators(platform)
    progress(
        f"indicators: {computed.device_days} device-days, {computed.enterprise_days} enterprise-days, "
        f"{computed.index_groups} industry-index groups"
    )
    progress(f"daily warning rules: {evaluate_daily(platform)} alarms")
    progress(f"alarms of the history handled when raised: {clear_history_alarms(platform, now_ms - days * DAY_MS)}")
    from wuxin.services.demo.monitoring import demo_loans  # loans, a pledge and alarms (monitoring part)

    ids_of = dict(zip([s.uscc for s in fleet], enterprise_ids))
    demo_loans(
        platform, monitored, [ids_of[s.uscc] for s in monitored], progress
    )  # first: collateral decisions value the lots
    books = {spec.uscc: statement_rows(story, spec, made.get(spec.uscc, {}), quarters, seed) for story, spec in stories}
    progress(load_demo_credit(platform, fleet, enterprise_ids, "officer", seed, books))
    head = publish_tree_head(platform)  # at once: the periodic job signs its first only minutes after serving starts
    progress(f"ledger: signed tree head of {head['tree_size']} entries")
    return (
        f"loaded {len(fleet)} enterprises of {len(scenario_packs())} scenarios, "
        f"{sum(len(s.devices) for s in fleet)} devices, {summary.readings} readings, {summary.events} events, "
        f"{summary.rejected} rejected"
    )


def demo_fleet(per_scenario: int = 2, seed: int = 2026, credit_portfolio: bool = True) -> list:
    """The demo's simulated enterprises: the same seed gives the same fleet (history and live devices). The
    credit portfolio's mills are in 盛泽, so its town cluster needs no more mills."""
    fleet = build_fleet(sorted(scenario_packs()), per_scenario, seed)
    fleet += [spec for _, spec in portfolio(seed)] if credit_portfolio else []
    return fleet + town_cluster(fleet, seed)


def demo_incidents(monitored: list[EnterpriseSpec], days: int, now_ms: int, seed: int) -> list:
    """The labelled anomalies a pack's simulator names for the demo to tell (its `DEMO_INCIDENTS`, e.g. a pledged
    truck leaving its permitted area), each placed in the pack's first monitored enterprise within the demo's week."""
    from wuxin.sim.fleet import plan_anomalies

    packs, records, seen = scenario_packs(), [], set()
    for spec in monitored:
        kinds = list(getattr(packs[spec.industry].sim(), "DEMO_INCIDENTS", ()))
        if kinds and spec.industry not in seen:
            seen.add(spec.industry)
            records += plan_anomalies([spec], kinds, now_ms - days * DAY_MS, now_ms - DAY_MS // 4, seed)
    return records


def statement_quarters(as_of_day: int) -> list[tuple[int, int, str]]:
    """The eight whole quarters before the as-of day's: the last four are checked, the four before give growth."""
    from wuxin.sim.finance import quarters_until

    return quarters_until(as_of_day, 9)[:-1]


HISTORY_CLEARED_REASON = "演示历史：告警发生时已现场核查处理 / demo history: checked on site when it was raised"


def clear_history_alarms(platform: Platform, before_ms: int) -> int:
    """The history's alarms (started before the live week) were handled when they happened: the demo's risk
    manager clears them with that reason, so the open alarms a decision reads are this week's."""
    from wuxin.services.access.identity import login, principal_for_token
    from wuxin.services.monitoring import alarms as monitoring

    risk = principal_for_token(platform, login(platform, "risk", DEMO_PASSWORD))
    with platform.uow() as uow:
        ids = [e["id"] for e in uow.enterprises.list()]
        old = [
            a["id"]
            for a in uow.monitoring.list_alarms(ids, risk.tenant_id, None, None, 100_000)
            if a["status"] in ("active", "acknowledged") and a["started_ms"] < before_ms
        ]
    for alarm_id in old:
        monitoring.clear(platform, risk, alarm_id, HISTORY_CLEARED_REASON)
    return len(old)


def town_cluster(fleet: list, seed: int, town: str = "盛泽", size: int = 5) -> list:
    """Enough chemical-fibre mills in one town for its industry index to be published (>= 5, seed 004)."""
    import random

    sim = story_pack().sim()
    have = sum(town in spec.region for spec in fleet)
    rng, index = random.Random(seed + 1), len(fleet)
    extra: list[EnterpriseSpec] = []
    while have + len(extra) < size:
        index += 1
        spec = sim.build_enterprise(rng, index)
        if town in spec.region:
            extra.append(spec)
    return extra


def _tenants(platform: Platform) -> tuple[int, int, int]:
    return (
        identity.create_tenant(platform, DEMO_BANK, "bank"),
        identity.create_tenant(platform, OTHER_BANK, "bank"),
        identity.create_tenant(platform, OPERATOR, "operator"),
    )


def _onboard(platform: Platform, spec, bank: int, operator: int) -> int:
    return onboard_enterprise(platform, spec, [(bank, "credit_monitoring"), (operator, "device_maintenance")])


def _first_of(fleet, enterprise_ids: list[int], industry: str) -> int:
    return next(eid for spec, eid in zip(fleet, enterprise_ids) if spec.industry == industry)


def _users(platform: Platform, bank: int, other: int, operator: int, owner_enterprise: int) -> None:
    identity.create_user(platform, "admin", DEMO_PASSWORD, "platform_admin", display_name="平台管理员")
    identity.create_user(platform, "officer", DEMO_PASSWORD, "credit_officer", bank, display_name="信贷员 王芳")
    identity.create_user(platform, "risk", DEMO_PASSWORD, "risk_manager", bank, display_name="风险经理 李强")
    identity.create_user(platform, "risk2", DEMO_PASSWORD, "risk_manager", bank, display_name="风险经理 赵敏")
    identity.create_user(platform, "integrator", DEMO_PASSWORD, "integrator", operator, display_name="集成商 张工")
    identity.create_user(
        platform, "owner", DEMO_PASSWORD, "enterprise_user", enterprise_id=owner_enterprise, display_name="企业主"
    )
    identity.create_user(platform, "other-officer", DEMO_PASSWORD, "credit_officer", other, display_name="他行信贷员")
