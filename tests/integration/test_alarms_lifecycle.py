"""Alarms from data as it arrives: one per source and type (also under concurrent writers), lifecycle,
audit, escalation, propagation to loans, rule state across restarts, denials."""

from __future__ import annotations

import threading

import pytest

from tests.world import build_world
from wuxin.bootstrap import build_platform
from wuxin.errors import Denied, InvalidInput, NotFound
from wuxin.security.policy import Principal
from wuxin.services.credit import loans
from wuxin.services.devices import registry
from wuxin.services.ingest.telemetry import ingest_lines
from wuxin.services.monitoring import alarms as monitoring
from wuxin.services.monitoring import overrides, rule_cache, sweeps


def crane(platform, world) -> str:
    site = registry.add_site(platform, None, world.factory, "工地", "江苏省苏州市", 31.3, 120.6)
    registry.register_device(
        platform, None, world.factory, "crane-1", "construction.tower_crane", "bank_installed", site
    )
    return "crane-1"


def principal(platform, world, username: str) -> Principal:
    from wuxin.services.access.identity import login as do_login
    from wuxin.services.access.identity import principal_for_token

    return principal_for_token(platform, do_login(platform, username, "correct-horse-battery"))


def test_a_tamper_event_raises_one_alarm_however_often_it_is_sent(platform):
    world = build_world(platform)
    now = platform.clock_ms()
    line = {"device": "loom-01", "ts": now - 1000, "event": "tamper", "params": {}}
    ingest_lines(platform, [line], "http")
    ingest_lines(platform, [{**line, "ts": now - 500}], "http")
    risk = principal(platform, world, "risk")
    alarms = monitoring.list_alarms(platform, risk)
    assert len(alarms) == 1 and alarms[0]["alarm_type"] == "device_tamper" and alarms[0]["occurrences"] == 2
    assert alarms[0]["severity"] == "critical" and alarms[0]["status"] == "active"


def test_threshold_state_survives_a_restart(platform):
    world = build_world(platform)
    key = crane(platform, world)
    now = platform.clock_ms()
    ingest_lines(platform, [{"device": key, "ts": now - 5000, "values": {"wind_ms": 25.0}}], "http")
    _INDEXES_CLEAR()
    restarted = build_platform(platform.settings, clock_ms=platform.clock)  # a new process: nothing in memory
    ingest_lines(restarted, [{"device": key, "ts": now + 60_000, "values": {"wind_ms": 24.0}}], "http")
    restarted.close()
    alarms = monitoring.list_alarms(platform, principal(platform, world, "risk"))
    assert [a["alarm_type"] for a in alarms] == ["crane_high_wind"] and alarms[0]["detail"]["since_ms"] == now - 5000


def _INDEXES_CLEAR():
    rule_cache._INDEXES.clear()


def test_acknowledge_clear_audit_and_denials(platform):
    world = build_world(platform)
    key = crane(platform, world)
    ingest_lines(platform, [{"device": key, "ts": platform.clock_ms(), "values": {"moment_pct": 150.0}}], "http")
    risk, other, owner = (principal(platform, world, u) for u in ("risk", "other", "owner"))
    (alarm,) = monitoring.list_alarms(platform, risk, status="active")
    with pytest.raises(NotFound, match=f"alarm {alarm['id']} does not exist"):  # no consent: as if absent
        monitoring.acknowledge(platform, other, alarm["id"], "not my bank")
    with pytest.raises(Denied):
        monitoring.acknowledge(platform, owner, alarm["id"], "the firm cannot silence the bank's alarm")
    with pytest.raises(InvalidInput, match="reason"):
        monitoring.acknowledge(platform, risk, alarm["id"], "")
    with pytest.raises(NotFound):
        monitoring.acknowledge(platform, risk, 999_999, "no such alarm")
    assert monitoring.list_alarms(platform, other) == []  # no consent, no alarms
    acked = monitoring.acknowledge(platform, risk, alarm["id"], "called the site manager")
    assert acked["status"] == "acknowledged" and acked["acknowledged_by"] == world.users["risk"]
    with pytest.raises(InvalidInput, match="only an active alarm"):
        monitoring.acknowledge(platform, risk, alarm["id"], "again")
    cleared = monitoring.clear(platform, risk, alarm["id"], "crane inspected, limiter replaced")
    assert cleared["status"] == "cleared"
    audit = monitoring.alarm_audit(platform, risk, alarm["id"])
    assert [(a["action"], a["user_id"]) for a in audit] == [
        ("raise", None),
        ("acknowledge", world.users["risk"]),
        ("clear", world.users["risk"]),
    ]
    assert audit[2]["reason"] == "crane inspected, limiter replaced"
    # cleared by hand while the condition lasts: no new alarm until the condition ends and comes back
    ingest_lines(platform, [{"device": key, "ts": platform.clock_ms() + 1, "values": {"moment_pct": 140.0}}], "http")
    ingest_lines(platform, [{"device": key, "ts": platform.clock_ms() + 2, "values": {"moment_pct": 90.0}}], "http")
    ingest_lines(platform, [{"device": key, "ts": platform.clock_ms() + 3, "values": {"moment_pct": 145.0}}], "http")
    assert len(monitoring.list_alarms(platform, risk, status="active")) == 1
    assert len(monitoring.list_alarms(platform, risk)) == 2  # the one cleared by hand, and the new active one


def test_escalation_when_unacknowledged(platform):
    world = build_world(platform)
    ingest_lines(platform, [{"device": "loom-01", "ts": platform.clock_ms(), "event": "tamper", "params": {}}], "http")
    assert monitoring.escalate(platform) == 0
    platform.clock.advance(16 * 60_000)
    assert monitoring.escalate(platform) == 1
    assert monitoring.escalate(platform) == 0  # the next level waits twice as long
    (alarm,) = monitoring.list_alarms(platform, principal(platform, world, "risk"))
    assert alarm["escalation_level"] == 1


def test_offline_transitions_raise_and_clear(platform):
    from wuxin.services.devices.connectivity import sweep_connectivity

    world = build_world(platform)
    ingest_lines(platform, [{"device": "loom-01", "ts": platform.clock_ms(), "values": {"current_a": 1.0}}], "http")
    sweep_connectivity(platform)
    platform.clock.advance(3 * 3_600_000)
    sweep_connectivity(platform)
    assert sweeps.sweep_connectivity_alarms(platform) >= 1
    risk = principal(platform, world, "risk")
    assert [a["alarm_type"] for a in monitoring.list_alarms(platform, risk, status="active")] == ["device_offline"]
    ingest_lines(platform, [{"device": "loom-01", "ts": platform.clock_ms(), "values": {"current_a": 1.0}}], "http")
    sweep_connectivity(platform)
    sweeps.sweep_connectivity_alarms(platform)
    assert monitoring.list_alarms(platform, risk, status="active") == []


def test_alarm_propagates_to_the_loan_and_moves_its_risk_class(platform):
    world = build_world(platform)
    officer = principal(platform, world, "officer")
    loan = loans.create_loan(platform, officer, world.factory, "equipment", "1000000")
    with platform.uow() as uow:  # skip the early stages: this test is about monitoring
        uow.monitoring.set_loan(loan["id"], state="monitoring", outstanding_cny=loan["amount_cny"])
        uow.commit()
    rule_cache.invalidate_index()
    ingest_lines(platform, [{"device": "loom-02", "ts": platform.clock_ms(), "event": "tamper", "params": {}}], "http")
    risk = principal(platform, world, "risk")
    (alarm,) = monitoring.list_alarms(platform, risk, loan_id=loan["id"])
    assert alarm["loan_ids"] == [loan["id"]]
    detail = loans.get_loan(platform, risk, loan["id"])
    assert detail["risk_class"] == "special_mention"
    assert detail["history"][-1]["kind"] == "risk_class" and detail["history"][-1]["alarm_id"] == alarm["id"]


def test_a_tenant_override_tunes_its_own_variant(platform):
    world = build_world(platform)
    key = crane(platform, world)
    risk, officer = principal(platform, world, "risk"), principal(platform, world, "officer")
    with pytest.raises(Denied):
        overrides.set_override(platform, officer, "*", "construction.crane_overload", {"params": {"value": 100}})
    with pytest.raises(InvalidInput):
        overrides.set_override(platform, risk, "*", "construction.crane_overload", {"params": {"value": "high"}})
    overrides.set_override(platform, risk, "crane-loan", "construction.crane_overload", {"params": {"value": 100}})
    loan = loans.create_loan(platform, officer, world.factory, "crane-loan", "500000")
    with platform.uow() as uow:
        uow.monitoring.set_loan(loan["id"], state="monitoring")
        uow.commit()
    rule_cache.invalidate_index()
    ingest_lines(platform, [{"device": key, "ts": platform.clock_ms(), "values": {"moment_pct": 115.0}}], "http")
    ingest_lines(platform, [{"device": key, "ts": platform.clock_ms() + 1, "values": {"moment_pct": 135.0}}], "http")
    alarms = monitoring.list_alarms(platform, risk)
    (alarm,) = alarms
    assert alarm["scope"] == f"tenant:{world.bank}" and alarm["detail"]["limit"] == 100
    assert monitoring.list_alarms(platform, principal(platform, world, "other")) == []


def test_concurrent_writers_make_one_alarm(platform):
    """Eight transactions raise the same alarm at once (threads, own connections); the partial unique
    index folds them into one on PostgreSQL and on SQLite."""
    plat = platform
    build_world(plat)
    from wuxin.alerts.engine import Signal
    from wuxin.services.bootstrap import default_rules

    rule = default_rules()["manufacturing.device_tamper"]
    barrier = threading.Barrier(8)
    errors = []

    def writer(i):
        try:
            with plat.uow() as uow:
                barrier.wait()
                monitoring.raise_alarm(uow, Signal("raise", "platform", rule, "device:1", None, 1000 + i, {}), 2000)
                uow.commit()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    with plat.uow() as uow:
        rows = [r for r in uow.monitoring.list_alarms(None, None, None, None, 100) if r["source"] == "device:1"]
        assert len(rows) == 1 and rows[0]["occurrences"] == 8
        assert [a["action"] for a in uow.monitoring.actions(rows[0]["id"])] == ["raise"]
