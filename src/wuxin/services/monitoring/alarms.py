"""Post-loan monitoring: rules evaluated as data arrives and on a sweep, alarms with a lifecycle.

Design of the ingest hook (`on_batch`, called once from `services.ingest.store_validated`): an
in-process index maps each device to the stream rules that apply to it (pack defaults, a bank's
tuned variants for the products it lends on that enterprise, pledge-zone geofences) and to the
keys those rules read. A batch is first filtered by that index (one dict lookup per point); only
watched points reach the evaluators, their state is read and written in the batch's own
transaction, and alarms are stored in it too, so an alarm exists exactly when its data does.
The index is rebuilt when overrides, loans or zones change in this process, and at least every
`INDEX_TTL_MS` for changes made by other processes.

Alarm uniqueness is the database's job: a partial unique index on (scope, source, alarm_type)
WHERE cleared_ms IS NULL, written with INSERT ... ON CONFLICT DO UPDATE, so two messages a
millisecond apart (two workers, two transactions) fold into one alarm.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

import orjson

from wuxin.alerts.catalog import default_rules
from wuxin.alerts.change import band_check, change_point, days_outside
from wuxin.alerts.copies import DEFAULTS as REPLAY_DEFAULTS
from wuxin.alerts.performance import against_physics, explain, ratio_check
from wuxin.alerts.dust import dust_rule, explanation, site_excess
from wuxin.alerts.fabricated import fabricated_verdict
from wuxin.alerts.herd import herd_count_step, herd_outliers
from wuxin.alerts.movements import episodes, off_hours, quiet_hours, unconfirmed
from wuxin.alerts.engine import (
    DeviceInfo,
    Evaluation,
    Signal,
    absence_signal,
    evaluate_clock,
    evaluate_device,
    points_by_device,
)
from wuxin.alerts.rules import SEVERITIES, STREAM_TYPES, Rule, apply_override, parse_rule, severity_rank
from wuxin.bootstrap import Platform
from wuxin.calendars.periods import Period, binding, excluded_days, makeup_workdays, period_at
from wuxin.domain.model import BANK_ROLES, Role
from wuxin.errors import Denied, InvalidInput, NotFound
from wuxin.labels import ALARM_STATES
from wuxin.indicators.days import DEFAULT_ZONE, day_start_ms, local_day
from wuxin.loans.lifecycle import LIVE_STATES
from wuxin.loans.risk_class import downgraded
from wuxin.security.policy import Principal, enterprise_not_found, require_role, valid_consents
from wuxin.services.devices.calendars import enterprise_zones, in_service, periods_by_enterprise
from wuxin.services.monitoring.device_rules import device_rule_signals, device_zones, sweep_lots
from wuxin.services.evidence.record import record_evidence
from wuxin.services.devices.registry import consent_views
from wuxin.store.repo_monitoring import AlarmWhere
from wuxin.store.uow import UnitOfWork

log = logging.getLogger(__name__)
PLATFORM_SCOPE = "platform"
INDEX_TTL_MS = 30_000
ESCALATE_AFTER_MS = {"critical": 15 * 60_000, "major": 60 * 60_000, "minor": 4 * 3_600_000, "warning": 24 * 3_600_000}
MAX_ESCALATION = 3
CURSOR = ("cursor", "connectivity", "-")
DAILY_CURSOR = ("cursor", "daily", "-")  # the last local day whose daily rules ran
MAX_CATCH_UP_DAYS = 7
DAY_MS = 86_400_000


def tenant_scope(tenant_id: int) -> str:
    return f"tenant:{tenant_id}"


# ---------------------------------------------------------------- the rule index


@dataclass
class RuleIndex:
    """Which stream rules apply to which device, and which keys they read; rebuilt when stale."""

    built_ms: int
    version: int
    overrides: list[dict]
    loans_by_enterprise: dict[int, list[dict]]
    zones_by_loan: dict[int, list[dict]]
    devices: dict[int, tuple[DeviceInfo, list[tuple[str, Rule]], frozenset[str]]] = field(default_factory=dict)

    def device(self, uow: UnitOfWork, platform: Platform, device_id: int):
        entry = self.devices.get(device_id)
        if entry is None:
            row = uow.devices.get(device_id)
            if row is None:
                return None
            info = DeviceInfo(row["id"], row["key"], row["device_type"], row["enterprise_id"], row["attributes"] or {})
            rules = self.rules_for(platform, info)
            entry = (info, rules, frozenset().union(*(r.watched_keys() for _, r in rules)) if rules else frozenset())
            self.devices[device_id] = entry
        return entry

    def rules_for(self, platform: Platform, device: DeviceInfo) -> list[tuple[str, Rule]]:
        """(scope, rule) pairs: pack defaults for everyone, tuned variants and zone fences per lending tenant."""
        out = [(PLATFORM_SCOPE, r) for r in default_rules().values()
               if r.type in STREAM_TYPES and r.enabled and r.applies_to(device.device_type)]
        loans = self.loans_by_enterprise.get(device.enterprise_id, [])
        for scope, rule in tenant_variants(self.overrides, loans, [r for _, r in out]):
            out.append((scope, rule))
        model = platform.thing_models.get(device.device_type)
        if model is not None and {"lat", "lon"} <= set(model.properties):
            for loan in loans:
                for zone in self.zones_by_loan.get(loan["id"], []):
                    out.append((tenant_scope(loan["tenant_id"]), zone_rule(loan["id"], zone)))
        return out


def tenant_variants(overrides: list[dict], loans: list[dict], rules: list[Rule]) -> list[tuple[str, Rule]]:
    """A tenant's tuned copy of each rule it overrides for a product it lends on this enterprise."""
    out, seen = [], set()
    by_id = {r.id: r for r in rules}
    for loan in loans:
        for o in overrides:
            rule = by_id.get(o["rule_id"])
            if rule is None or o["tenant_id"] != loan["tenant_id"] or o["product"] not in ("*", loan["product"]):
                continue
            key = (o["tenant_id"], rule.id)
            if key in seen:
                continue
            seen.add(key)
            tuned = apply_override(rule, o["override"])
            if tuned.enabled:
                out.append((tenant_scope(o["tenant_id"]), tuned))
    return out


def zone_rule(loan_id: int, zone: dict) -> Rule:
    return parse_rule({"id": f"loan.{loan_id}.zone.{zone['zone_id']}", "type": "geofence", "alarm_type": "zone_exit",
                       "severity": "major", "params": {"zone": zone["polygon"], "on": "exit", "zone_name": zone["zone_id"]},
                       "risk_class_floor": "special_mention",
                       "label": {"zh": "质押物/车辆驶出质押区域", "en": "left the pledge zone"}})


_INDEXES: dict[int, RuleIndex] = {}
_VERSION = {"n": 0}
_LOCK = threading.Lock()


def invalidate_index() -> None:
    """Overrides, loans or zones changed: rebuild on the next batch."""
    with _LOCK:
        _VERSION["n"] += 1


def rule_index(platform: Platform, uow: UnitOfWork) -> RuleIndex:
    index = _INDEXES.get(id(platform))
    now = time.monotonic_ns() // 1_000_000
    if index is None or index.version != _VERSION["n"] or now - index.built_ms > INDEX_TTL_MS:
        loans = uow.monitoring.live_loans_all(LIVE_STATES)
        by_enterprise: dict[int, list[dict]] = {}
        for loan in loans:
            by_enterprise.setdefault(loan["enterprise_id"], []).append(loan)
        zones: dict[int, list[dict]] = {}
        for zone in uow.monitoring.zones([l["id"] for l in loans]) if loans else []:
            zones.setdefault(zone["loan_id"], []).append(zone)
        index = RuleIndex(now, _VERSION["n"], uow.monitoring.overrides(), by_enterprise, zones)
        _INDEXES[id(platform)] = index
    return index


# ---------------------------------------------------------------- evaluation as data arrives


def on_batch(platform: Platform, uow: UnitOfWork, validated) -> int:
    """Evaluate the stream rules on a validated batch inside the caller's transaction; returns signals applied."""
    if not validated.readings and not validated.events:
        return 0
    index = rule_index(platform, uow)
    device_ids = set(validated.last_seen_ms) | {e[0] for e in validated.events}
    watched, infos, clocks = {}, {}, {}
    for device_id in device_ids:
        entry = index.device(uow, platform, device_id)
        if entry is None:
            continue
        infos[device_id] = entry
        if entry[2]:
            watched[device_id] = entry[2]
        clock_rules = [(scope, rule) for scope, rule in entry[1] if rule.type == "clock_skew"]
        if clock_rules and device_id in validated.last_seen_ms:
            clocks[device_id] = clock_rules
    points = points_by_device(validated.readings, validated.events, watched)
    if not points and not clocks:
        return 0
    wanted = [(scope, rule.id, str(d)) for d in set(points) | set(clocks) for scope, rule in infos[d][1]]
    stored = uow.monitoring.states(wanted)
    states = {(s, r, int(subject)): dict(state) for (s, r, subject), state in stored.items()}
    out = Evaluation()
    now_ms = platform.clock_ms()
    for device_id, device_points in points.items():
        info, rules, _ = infos[device_id]
        evaluate_device(info, rules, device_points, states, out)
    for device_id, clock_rules in clocks.items():  # the batch arrives now: its newest stamp says how the clock is set
        evaluate_clock(infos[device_id][0], clock_rules, validated.last_seen_ms[device_id], now_ms, states, out)
    uow.monitoring.save_states({(s, r, str(d)): states[(s, r, d)] for s, r, d in out.changed}, now_ms)
    apply_signals(platform, uow, out.signals, now_ms)
    return len(out.signals)


def apply_signals(platform: Platform, uow: UnitOfWork, signals: Iterable[Signal], now_ms: int) -> list[int]:
    """Raise or clear alarms for signals; returns the ids of alarms raised anew."""
    raised = []
    for s in signals:
        if s.action == "raise":
            alarm_id = raise_alarm(uow, s, now_ms)
            if alarm_id is not None:
                raised.append(alarm_id)
        else:
            clear_by_rule(uow, s, now_ms)
    return raised


def _loans_for(uow: UnitOfWork, s: Signal) -> list[dict]:
    if s.loan_id is not None:
        loan = uow.monitoring.loan(s.loan_id)
        return [loan] if loan else []
    if s.enterprise_id is None:
        return []
    loans = uow.monitoring.live_loans([s.enterprise_id], LIVE_STATES)
    if s.scope != PLATFORM_SCOPE:
        loans = [l for l in loans if tenant_scope(l["tenant_id"]) == s.scope]
    return loans


def raise_alarm(uow: UnitOfWork, s: Signal, now_ms: int) -> int | None:
    """Store the alarm (or fold into the open one); a new alarm is audited, evidenced, propagated, notified."""
    loans = _loans_for(uow, s)
    tenant_id = int(s.scope.split(":")[1]) if s.scope.startswith("tenant:") else None
    alarm_id, new = uow.monitoring.raise_alarm(dict(
        scope=s.scope, tenant_id=tenant_id, source=s.source, alarm_type=s.rule.alarm_type, rule_id=s.rule.id,
        severity=s.rule.severity, status="active", enterprise_id=s.enterprise_id, device_id=s.device_id,
        loan_ids=[l["id"] for l in loans], started_ms=s.at_ms, last_ms=s.at_ms, stored_ms=now_ms, detail=dict(s.detail)))
    if not new:
        return None
    reason = f"rule {s.rule.id}: {s.rule.label.get('en', s.rule.alarm_type)}"
    uow.monitoring.add_action(alarm_id, now_ms, None, "raise", reason)
    record_evidence(uow, "alarm_action", f"alarm:{alarm_id}", {
        "action": "raise", "alarm_id": alarm_id, "rule_id": s.rule.id, "source": s.source, "severity": s.rule.severity,
        "enterprise_id": s.enterprise_id, "at_ms": now_ms, "detail": _small(s.detail)}, owner_tenant_id=tenant_id)
    for loan in loans:
        _move_risk_class(uow, loan, s.rule.risk_class_floor, alarm_id, reason, now_ms)
    enqueue_notifications(uow, alarm_id, "raised", now_ms)
    return alarm_id


def _small(detail: Any) -> Any:
    return {k: v for k, v in dict(detail).items() if not isinstance(v, (list, dict)) or len(str(v)) < 500}


def _move_risk_class(uow: UnitOfWork, loan: dict, floor: str | None, alarm_id: int, reason: str, now_ms: int) -> None:
    target = downgraded(loan["risk_class"], floor)
    if target is None:
        return
    uow.monitoring.set_loan(loan["id"], risk_class=target, updated_ms=now_ms)
    uow.monitoring.add_history(loan_id=loan["id"], at_ms=now_ms, kind="risk_class", from_value=loan["risk_class"],
                               to_value=target, action="warning", user_id=None, role=None,
                               reason=f"alarm {alarm_id}: {reason}", alarm_id=alarm_id)
    loan["risk_class"] = target


def clear_by_rule(uow: UnitOfWork, s: Signal, now_ms: int) -> int | None:
    alarm = uow.monitoring.open_alarm(s.scope, s.source, s.rule.alarm_type)
    if alarm is None:
        return None
    _clear(uow, alarm, None, f"rule {s.rule.id}: condition ended at {s.at_ms}", now_ms)
    return alarm["id"]


def _clear(uow: UnitOfWork, alarm: dict, user_id: int | None, reason: str, now_ms: int) -> None:
    uow.monitoring.set_alarm(alarm["id"], status="cleared", cleared_ms=now_ms, cleared_by=user_id)
    uow.monitoring.add_action(alarm["id"], now_ms, user_id, "clear", reason)
    record_evidence(uow, "alarm_action", f"alarm:{alarm['id']}", {
        "action": "clear", "alarm_id": alarm["id"], "user_id": user_id, "reason": reason,
        "enterprise_id": alarm["enterprise_id"], "at_ms": now_ms}, owner_tenant_id=alarm["tenant_id"])
    enqueue_notifications(uow, alarm["id"], "cleared", now_ms)


# ---------------------------------------------------------------- notifications outbox


def enqueue_notifications(uow: UnitOfWork, alarm_id: int, event: str, now_ms: int) -> int:
    """One outbox row per channel of each tenant that may see the alarm and wants its severity."""
    alarm = uow.monitoring.alarm(alarm_id)
    tenants = {alarm["tenant_id"]} if alarm["tenant_id"] is not None else _watching_tenants(uow, alarm, now_ms)
    rows = []
    for channel in uow.monitoring.channels(tenants) if tenants else []:
        if severity_rank(alarm["severity"]) <= severity_rank(channel["min_severity"]):
            rows.append(dict(channel_id=channel["id"], alarm_id=alarm_id, event=event, payload=alarm_payload(alarm, event),
                             status="pending", attempts=0, next_attempt_ms=now_ms))
    uow.monitoring.add_notifications(rows)
    return len(rows)


def _watching_tenants(uow: UnitOfWork, alarm: dict, now_ms: int) -> set[int]:
    if alarm["enterprise_id"] is None:
        return set()
    consents = consent_views(uow.consents.for_enterprise(alarm["enterprise_id"]))
    return {c.tenant_id for c in consents if c.is_valid(now_ms)}


def alarm_payload(alarm: dict, event: str) -> dict:
    keys = ("id", "alarm_type", "rule_id", "severity", "status", "source", "enterprise_id", "loan_ids", "started_ms",
            "last_ms", "occurrences", "escalation_level")
    return {"event": event, **{k: alarm.get(k) for k in keys}, "detail": _small(alarm.get("detail") or {})}


# ---------------------------------------------------------------- the periodic sweep


def sweep(platform: Platform) -> dict:
    """Connectivity (recorded by the protocols part), offline alarms, herd counts, escalation, the daily rules."""
    from wuxin.services.devices.connectivity import sweep_connectivity

    def run() -> dict:
        recorded = sweep_connectivity(platform)
        return {"transitions": len(recorded), "connectivity": sweep_connectivity_alarms(platform),
                "herd": sweep_herds(platform), "herd_relative": sweep_herd_relative(platform),
                "regional_excess": sweep_regional_excess(platform),
                "lots": sweep_lots(platform),
                "escalated": escalate(platform),
                "daily": platform.metrics.timed_job("daily", lambda: run_daily_due(platform))}

    return platform.metrics.timed_job("sweep", run)  # duration and last success in /metrics


def has_heartbeat_duty(rule: Rule, device_type: str) -> bool:
    """False for device types the absence rule declares without a heartbeat duty: passive tags read by gates,
    units that speak only when something happens (ADAS, weighbridge, fence alarm, access gate)."""
    return device_type not in rule.params.get("no_heartbeat_device_types", ())


OFFLINE_AFTER_PERIOD = ("cursor", "offline_after_period", "-")  # devices gone quiet inside a declared window


def sweep_connectivity_alarms(platform: Platform, batch: int = 5000) -> int:
    """Absence rules over the transitions recorded since the last sweep (cursor stored in rule_states). A device going
    quiet while out of service raises nothing; one going quiet inside a declared shutdown or maintenance window is
    judged when the window ends: still offline then, it raises, offline since the window's end."""
    now_ms = platform.clock_ms()
    absence = [r for r in default_rules().values() if r.type == "absence" and r.enabled]
    with platform.uow() as uow:
        stored = uow.monitoring.states([CURSOR, OFFLINE_AFTER_PERIOD])
        cursor = stored.get(CURSOR, {}).get("after_id", 0)
        pending = {int(k): v for k, v in stored.get(OFFLINE_AFTER_PERIOD, {}).get("devices", {}).items()}
        before = dict(pending)
        rows = uow.monitoring.transitions_after(cursor, batch)
        signals = []
        offline = [r for r in rows if r["to_state"] == "offline"]
        periods = periods_by_enterprise(uow, sorted({r["enterprise_id"] for r in offline}),
                                        min((r["at_ms"] for r in offline), default=0), now_ms + 1)
        for row in rows:
            info = DeviceInfo(row["device_id"], row["key"], row["device_type"], row["enterprise_id"], row["attributes"] or {})
            pending.pop(info.id, None)
            if row["to_state"] == "offline":
                if not in_service(row, row["at_ms"]):
                    continue
                mine = binding(periods.get(row["enterprise_id"], []), row.get("source_mode") != "enterprise_shared")
                window = period_at(mine, row["at_ms"], info.id, row.get("site_id"), ("shutdown", "maintenance"))
                if window is not None:
                    pending[info.id] = window.end_ms
                    continue
            signals += _absence_signals(absence, info, row["to_state"], row["at_ms"], now_ms)
        signals += _offline_after_periods(uow, absence, pending, now_ms)
        apply_signals(platform, uow, signals, now_ms)
        if rows:
            uow.monitoring.save_states({CURSOR: {"after_id": rows[-1]["id"]}}, now_ms)
        if pending != before:
            uow.monitoring.save_states({OFFLINE_AFTER_PERIOD: {"devices": {str(k): v for k, v in pending.items()}}}, now_ms)
        uow.commit()
    return len(signals)


def _absence_signals(absence: list[Rule], info: DeviceInfo, to_state: str, at_ms: int, now_ms: int,
                     **detail) -> list[Signal]:
    out = []
    for rule in absence:
        if not rule.applies_to(info.device_type) or not has_heartbeat_duty(rule, info.device_type):
            continue
        offline_since = at_ms if to_state == "offline" else None
        signal = absence_signal(info, PLATFORM_SCOPE, rule, to_state, at_ms, offline_since, now_ms)
        if signal:
            out.append(Signal(signal.action, signal.scope, signal.rule, signal.source, signal.enterprise_id, signal.at_ms,
                              {**signal.detail, **detail}, signal.device_id) if detail else signal)
    return out


def _offline_after_periods(uow: UnitOfWork, absence: list[Rule], pending: dict[int, int], now_ms: int) -> list[Signal]:
    """Devices that went quiet inside a declared window now over: still offline and in service, they raise."""
    due = [d for d, end in pending.items() if end <= now_ms]
    states = uow.monitoring.device_states(due) if due else {}
    signals = []
    for device_id in due:
        end = pending.pop(device_id)
        row = uow.devices.get(device_id)
        if row is None or states.get(device_id) != "offline" or not in_service(row, end):
            continue
        info = DeviceInfo(row["id"], row["key"], row["device_type"], row["enterprise_id"], row["attributes"] or {})
        signals += _absence_signals(absence, info, "offline", end, now_ms, after_declared_period_ms=end)
    return signals


def sweep_herds(platform: Platform) -> int:
    """Herd-count rules: the share of a device type reporting in the window, per enterprise."""
    now_ms = platform.clock_ms()
    rules = [r for r in default_rules().values() if r.type == "herd_drop" and r.enabled]
    signals = []
    with platform.uow() as uow:
        for enterprise in uow.enterprises.list():
            for rule in (r for r in rules if r.scenario == enterprise["industry"]):
                signal = herd_signal(uow, enterprise["id"], rule, now_ms)
                if signal:
                    signals.append(signal)
        apply_signals(platform, uow, signals, now_ms)
        uow.commit()
    return len(signals)


def herd_signal(uow: UnitOfWork, enterprise_id: int, rule: Rule, now_ms: int) -> Signal | None:
    """The herd's share reporting in the window against its own usual share (alerts/herd.py herd_count_step), counted
    over the devices in service (a culled cow's tag is not missing) registered at least one window ago; not judged
    while the enterprise declared a shutdown or maintenance window."""
    periods = binding(periods_by_enterprise(uow, [enterprise_id], now_ms, now_ms + 1)[enterprise_id],
                      bool(uow.calendars.with_independent_devices([enterprise_id])))
    if period_at(periods, now_ms, kinds=("shutdown", "maintenance")) is not None:
        return None
    window_ms = int(rule.params["window_s"] * 1000)
    ids = [d["id"] for d in uow.devices.list(enterprise_id)
           if rule.applies_to(d["device_type"]) and in_service(d, now_ms) and d["created_ms"] <= now_ms - window_ms]
    reporting = uow.monitoring.reporting_devices(ids, now_ms - window_ms, now_ms + 1) if ids else set()
    source = f"enterprise:{enterprise_id}"
    key = (PLATFORM_SCOPE, rule.id, source)
    state = uow.monitoring.states([key]).get(key) or {}
    before = orjson.dumps(state)
    action, detail = herd_count_step(len(reporting), len(ids), state, now_ms, window_ms, rule.params)
    if orjson.dumps(state) != before:
        uow.monitoring.save_states({key: state}, now_ms)
    return Signal(action, PLATFORM_SCOPE, rule, source, enterprise_id, now_ms, detail) if action else None


def sweep_herd_relative(platform: Platform, limit: int = 1_000_000) -> int:
    """Herd-relative rules: each device of the rule's type against its herd over the last `duration_s` (and two
    buckets more); the devices raised are kept in the rule's state per enterprise, so each is raised once and
    cleared when its latest reading is back within the herd."""
    now_ms = platform.clock_ms()
    rules = [r for r in default_rules().values() if r.type == "herd_relative" and r.enabled]
    signals = []
    with platform.uow() as uow:
        for enterprise in uow.enterprises.list() if rules else []:
            devices = uow.devices.list(enterprise["id"])
            for rule in (r for r in rules if r.scenario == enterprise["industry"]):
                mine = {d["id"]: d for d in devices if rule.applies_to(d["device_type"])}
                if mine:
                    signals += herd_relative_signals(uow, enterprise["id"], rule, mine, now_ms, limit)
        apply_signals(platform, uow, signals, now_ms)
        uow.commit()
    return len(signals)


def herd_relative_signals(uow: UnitOfWork, enterprise_id: int, rule: Rule, devices: dict[int, dict], now_ms: int,
                          limit: int) -> list[Signal]:
    p = rule.params
    duration_ms, bucket_ms = int(p["duration_s"] * 1000), int(p.get("bucket_s", 3600) * 1000)
    series: dict[int, list[tuple[int, float]]] = {}
    for r in uow.telemetry.readings(list(devices), p["key"], now_ms - duration_ms - 2 * bucket_ms, now_ms + 1, limit):
        if r["num"] is not None:
            series.setdefault(r["device_id"], []).append((r["ts_ms"], r["num"]))
    outliers, calm = herd_outliers(series, float(p["min_excess"]), duration_ms, bucket_ms, int(p.get("min_herd", 10)))
    state_key = (PLATFORM_SCOPE, rule.id, f"enterprise:{enterprise_id}")
    raised = set(uow.monitoring.states([state_key]).get(state_key, {}).get("raised", []))
    signals = []
    for device_id, o in outliers.items():
        if device_id not in raised:
            signals.append(Signal("raise", PLATFORM_SCOPE, rule, f"device:{device_id}", enterprise_id, o.at_ms, {
                "device": devices[device_id]["key"], "key": p["key"], "value": o.value, "herd_median": round(o.herd_median, 4),
                "excess": round(o.value - o.herd_median, 4), "min_excess": p["min_excess"], "since_ms": o.since_ms}, device_id))
    for device_id in raised & calm:
        signals.append(Signal("clear", PLATFORM_SCOPE, rule, f"device:{device_id}", enterprise_id, now_ms,
                              {"device": devices[device_id]["key"], "key": p["key"]}, device_id))
    now_raised = sorted((raised - calm) | set(outliers))
    if now_raised != sorted(raised):
        uow.monitoring.save_states({state_key: {"raised": now_raised}}, now_ms)
    return signals


def sweep_regional_excess(platform: Platform, limit: int = 1_000_000) -> int:
    """Regional-excess rules (a site's dust): each enterprise's devices of the rule's type against the same type's
    devices of the other enterprises in its region over the last `duration_s` (and two buckets more), up to the
    current bucket, left until it is complete (peers report at their own moments): up to one bucket of delay. See
    alerts/dust.py. Only the background's median and its number of peers reach the alarm, never a peer's name."""
    now_ms = platform.clock_ms()
    rules = [r for r in default_rules().values() if r.type == "regional_excess" and r.enabled]
    signals = []
    with platform.uow() as uow:
        enterprises = uow.enterprises.list() if rules else []
        devices = [d for e in enterprises for d in uow.devices.list(e["id"])] if rules else []
        for rule in rules:
            mine = [d for d in devices if rule.applies_to(d["device_type"])]
            for region in {e["region"] for e in enterprises if e["industry"] == rule.scenario}:
                signals += regional_excess_signals(uow, rule, enterprises, region, mine, now_ms, limit)
        apply_signals(platform, uow, signals, now_ms)
        uow.commit()
    return len(signals)


def regional_excess_signals(uow: UnitOfWork, rule: Rule, enterprises: list[dict], region: str, devices: list[dict],
                            now_ms: int, limit: int) -> list[Signal]:
    judged = dust_rule(rule.params)
    in_region = {e["id"]: e for e in enterprises if e["region"] == region}
    here = {d["id"]: d for d in devices if d["enterprise_id"] in in_region}
    if not here:
        return []
    series: dict[int, list[tuple[int, float]]] = {}
    since_ms = now_ms - judged.duration_ms - 2 * judged.bucket_ms
    complete_ms = now_ms // judged.bucket_ms * judged.bucket_ms  # the current bucket waits for its peers' readings
    for r in uow.telemetry.readings(list(here), rule.params["key"], since_ms, complete_ms, limit):
        if r["num"] is not None:
            series.setdefault(r["device_id"], []).append((r["ts_ms"], r["num"]))
    signals = []
    for enterprise_id in {d["enterprise_id"] for d in here.values()}:
        if in_region[enterprise_id]["industry"] != rule.scenario:
            continue  # judged only in the rule's own scenario; other industries' monitors serve as peers
        peers = {i: s for i, s in series.items() if here[i]["enterprise_id"] != enterprise_id}
        own = {i: s for i, s in series.items() if here[i]["enterprise_id"] == enterprise_id}
        calendar = day_calendars(uow, [in_region[enterprise_id]], local_day(since_ms), local_day(now_ms))[enterprise_id]
        days = range(int(local_day(since_ms, calendar.zone)), int(local_day(now_ms, calendar.zone)) + 1)
        off = set(calendar.excluded(days, official=calendar.zone == DEFAULT_ZONE))
        signals += _site_signals(uow, rule, judged, enterprise_id, own, peers, here, now_ms, _hours_in(calendar.zone, off))
    return signals


def _hours_in(zone: str, days_off: set[int]):
    """Hours since local midnight in the site's zone (working hours are the site's own); -1 on the site's days off
    (declared periods; PRC holidays for a site on China time): no working hours then, so the fallback is silent."""
    def hour_of(ts: int) -> float:
        day = int(local_day(ts, zone))
        return -1.0 if day in days_off else (ts - day_start_ms(day, zone)) / 3_600_000
    return hour_of


def _site_signals(uow: UnitOfWork, rule: Rule, judged, enterprise_id: int, own: dict, peers: dict, devices: dict,
                  now_ms: int, hour_of) -> list[Signal]:
    state_key = (PLATFORM_SCOPE, rule.id, f"enterprise:{enterprise_id}")
    raised = set(uow.monitoring.states([state_key]).get(state_key, {}).get("raised", []))
    signals, now_raised = [], set(raised)
    for device_id, points in own.items():
        excess, calm = site_excess(points, peers, judged, hour_of)
        j = excess.latest if excess else None
        if excess and device_id not in raised:
            now_raised.add(device_id)
            signals.append(Signal("raise", PLATFORM_SCOPE, rule, f"device:{device_id}", enterprise_id, excess.at_ms, {
                "device": devices[device_id]["key"], "key": rule.params["key"], "value": j.value,
                "background": None if j.background is None else round(j.background, 1), "peers": j.peers,
                "margin": judged.margin, "limit": round(j.limit, 1), "since_ms": excess.since_ms,
                "judged_by": "regional_background" if j.background is not None else "fallback_working_hours",
                "threshold_from": explanation(j, judged)}, device_id))
        elif calm and device_id in raised:
            now_raised.discard(device_id)
            signals.append(Signal("clear", PLATFORM_SCOPE, rule, f"device:{device_id}", enterprise_id, now_ms,
                                  {"device": devices[device_id]["key"], "key": rule.params["key"]}, device_id))
    if now_raised != raised:
        uow.monitoring.save_states({state_key: {"raised": sorted(now_raised)}}, now_ms)
    return signals


def escalate(platform: Platform) -> int:
    """Unacknowledged alarms past their severity's wait go up one level (at most MAX_ESCALATION), notified."""
    now_ms = platform.clock_ms()
    count = 0
    with platform.uow() as uow:
        for alarm in uow.monitoring.unacknowledged():
            wait = ESCALATE_AFTER_MS[alarm["severity"]] * (alarm["escalation_level"] + 1)
            if alarm["escalation_level"] >= MAX_ESCALATION or now_ms - alarm["stored_ms"] < wait:
                continue
            level = alarm["escalation_level"] + 1
            uow.monitoring.set_alarm(alarm["id"], escalation_level=level, escalated_ms=now_ms)
            uow.monitoring.add_action(alarm["id"], now_ms, None, "escalate",
                                      f"unacknowledged for {(now_ms - alarm['stored_ms']) // 60_000} min: level {level}")
            enqueue_notifications(uow, alarm["id"], "escalated", now_ms)
            count += 1
        uow.commit()
    return count


# ---------------------------------------------------------------- daily indicators


def daily_cursor(zone: str) -> tuple[str, str, str]:
    """Where the last local day whose daily rules ran is kept, per zone ("-" for the default zone)."""
    return DAILY_CURSOR if zone == DEFAULT_ZONE else ("cursor", "daily", zone)


def run_daily_due(platform: Platform, max_days: int = MAX_CATCH_UP_DAYS) -> int:
    """After local midnight in each zone the enterprises are judged in (their sites' zones; China by default): bring
    the indicators up to date, then run the daily rules on each day not yet evaluated in that zone (at most `max_days`
    back); the last day done is stored per zone, so a restart neither repeats nor skips one, and a plant in Berlin is
    judged after its own midnight, not China's."""
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        zones = sorted(set(enterprise_zones(uow, [e["id"] for e in uow.enterprises.list()]).values()) | {DEFAULT_ZONE})
        cursors = uow.monitoring.states([daily_cursor(z) for z in zones])
    due = {}
    for zone in zones:
        yesterday = local_day(now_ms, zone) - 1
        done = cursors.get(daily_cursor(zone), {}).get("day")
        days = range(max(done + 1 if done is not None else yesterday, yesterday - max_days + 1), yesterday + 1)
        if days:
            due[zone] = days
    if not due:
        return 0
    from wuxin.services.indicators import update_indicators

    update_indicators(platform)
    raised = 0
    for zone, days in due.items():
        for day in days:
            raised += evaluate_daily(platform, day, zone=zone)
            with platform.uow() as uow:
                uow.monitoring.save_states({daily_cursor(zone): {"day": day}}, platform.clock_ms())
                uow.commit()
    if DEFAULT_ZONE in due:
        from wuxin.services.credit.governance import daily_stability

        daily_stability(platform, due[DEFAULT_ZONE][-1])  # population stability of each tenant's active credit model
    return raised


@dataclass(frozen=True)
class DayCalendar:
    """What the daily rules need of an enterprise's calendar: the zone its days are cut in and its declared periods."""

    zone: str
    periods: list[Period]
    independent: bool = False  # the enterprise has a bank-installed or third-party device: its own periods do not bind

    def excluded(self, days, official: bool, device_id: int | None = None, site_id: int | None = None) -> dict[int, dict]:
        """Days out of an enterprise-level rule's judgement."""
        return excluded_days(days, self.zone, binding(self.periods, self.independent), official, device_id, site_id)


def day_calendars(uow: UnitOfWork, enterprises: list[dict], first_day: int, last_day: int) -> dict[int, DayCalendar]:
    ids = [e["id"] for e in enterprises]
    zones = enterprise_zones(uow, ids)
    periods = periods_by_enterprise(uow, ids, day_start_ms(first_day, DEFAULT_ZONE) - DAY_MS,
                                    day_start_ms(last_day + 1, DEFAULT_ZONE) + DAY_MS)
    independent = uow.calendars.with_independent_devices(ids) if ids else set()
    return {e: DayCalendar(zones[e], periods[e], e in independent) for e in ids}


def evaluate_daily(platform: Platform, day: int | None = None, lookback_days: int = 35, zone: str | None = None) -> int:
    """Baseline-change rules on each enterprise's daily indicators (from the indicators part) for `day`, then the
    fabricated-data and unbooked-outbound rules on the day's readings. With `zone`, only the enterprises judged in
    that zone; `day` is a local date of each enterprise's own zone."""
    now_ms = platform.clock_ms()
    day = day if day is not None else local_day(now_ms, zone or DEFAULT_ZONE) - 1
    rules = [r for r in default_rules().values() if r.type == "baseline_change" and r.enabled]
    signals = []
    with platform.uow() as uow:
        enterprises = uow.enterprises.list()
        calendars = day_calendars(uow, enterprises, day - max(lookback_days, PERFORMANCE_HISTORY_DAYS), day)
        if zone is not None:
            enterprises = [e for e in enterprises if calendars[e["id"]].zone == zone]
        for enterprise in enterprises:
            mine = [r for r in rules if r.scenario == enterprise["industry"]]
            if not mine:
                continue
            rows = uow.indicators.enterprise_days(enterprise["id"], day - lookback_days, day,
                                                  [r.params["indicator"] for r in mine] +
                                                  [r.params["expected_indicator"] for r in mine if r.params.get("expected_indicator")])
            for rule in mine:
                series = [(r["day"], r["value"]) for r in rows
                          if r["indicator"] == rule.params["indicator"] and r["value"] is not None and r["quality"] != "unknown"]
                official = bool(rule.params.get("official_calendar", False))
                excluded = calendars[enterprise["id"]].excluded({d for d, _ in series} | {day}, official)
                workdays = makeup_workdays({d for d, _ in series} | {day}) if official else frozenset()
                expected = ({r["day"]: r["value"] for r in rows if r["indicator"] == rule.params["expected_indicator"]
                             and r["value"] is not None and r["quality"] != "unknown"}
                            if rule.params.get("expected_indicator") else None)
                signal = baseline_signal(enterprise["id"], rule, series, day, now_ms, excluded, workdays, expected)
                if signal:
                    signals.append(signal)
        signals += performance_signals(uow, day, now_ms, enterprises, calendars)
        signals += fabricated_signals(uow, day, now_ms, enterprises=enterprises, calendars=calendars)
        signals += unbooked_signals(uow, day, now_ms, enterprises=enterprises, calendars=calendars)
        signals += device_rule_signals(uow, day, now_ms, enterprises, calendars)
        apply_signals(platform, uow, signals, now_ms)
        uow.commit()
    return len(signals)


PERFORMANCE_HISTORY_DAYS = 400  # how far back a plant's baseline days are looked for


def performance_signals(uow: UnitOfWork, day: int, now_ms: int, enterprises: list[dict] | None = None,
                        calendars: dict[int, DayCalendar] | None = None) -> list[Signal]:
    """Performance-ratio rules on each enterprise's measured and expected daily indicators: raise when the window
    ending on `day` leaves the plant's own band in the rule's direction, clear when it is back inside. Days of a
    declared shutdown or maintenance are left out of the baseline and the window, and such a day is not judged."""
    rules = [r for r in default_rules().values() if r.type == "performance_ratio" and r.enabled]
    signals = []
    enterprises = enterprises if enterprises is not None else uow.enterprises.list() if rules else []
    if rules and calendars is None:
        calendars = day_calendars(uow, enterprises, day - PERFORMANCE_HISTORY_DAYS, day)
    for enterprise in enterprises if rules else []:
        for rule in (r for r in rules if r.scenario == enterprise["industry"]):
            p = rule.params
            rows = uow.indicators.enterprise_days(enterprise["id"], day - PERFORMANCE_HISTORY_DAYS, day, [p["measured"], p["expected"]])
            values: dict[int, dict[str, float]] = {}
            for r in rows:
                if r["value"] is not None and r["quality"] != "unknown":
                    values.setdefault(r["day"], {})[r["indicator"]] = r["value"]
            excluded = calendars[enterprise["id"]].excluded(set(values) | {day}, False)
            if day in excluded:
                continue
            days = [(d, v.get(p["measured"]), v.get(p["expected"])) for d, v in sorted(values.items()) if d not in excluded]
            band = {k: p[k] for k in ("window_days", "baseline_days", "min_expected_kwh", "max_rise", "max_drop",
                                      "model_uncertainty", "quantile", "margin") if k in p}
            check = ratio_check(days, day, **band)
            if check is None:
                continue
            wanted, source = p["direction"], f"enterprise:{enterprise['id']}"
            action = ("raise" if check.direction and wanted in (check.direction, "both")
                      else "clear" if check.direction is None else None)
            if action:
                detail = explain(check)
                if excluded:
                    detail["excluded_days"] = sorted(excluded.values(), key=lambda x: x["day"])[-10:]
                signals.append(Signal(action, PLATFORM_SCOPE, rule, source, enterprise["id"], now_ms, detail))
    return signals


def fabricated_signals(uow: UnitOfWork, day: int, now_ms: int, limit: int = 2_000_000, enterprises: list[dict] | None = None,
                       calendars: dict[int, DayCalendar] | None = None) -> list[Signal]:
    """Fabricated-data rules on each device they apply to, for the local `day` against the device's earlier days.
    Raise only: a fabricated day stays under review until a person clears the alarm. A day of a declared shutdown or
    maintenance of the device (its site, its enterprise), or one it was out of service, is not judged: a meter on a
    test signal or a stopped line reads flat and smooth honestly."""
    rules = [r for r in default_rules().values() if r.type == "fabricated_data" and r.enabled]
    if not rules:
        return []
    enterprises = enterprises if enterprises is not None else uow.enterprises.list()
    calendars = calendars if calendars is not None else day_calendars(uow, enterprises, day, day)
    signals = []
    for enterprise in enterprises:
        calendar = calendars[enterprise["id"]]
        site_zones = {s["id"]: s.get("timezone") for s in uow.enterprises.sites(enterprise["id"])}
        for row in uow.devices.list(enterprise["id"]):
            zone = site_zones.get(row["site_id"]) or DEFAULT_ZONE
            day_start = day_start_ms(day, zone)
            if not (in_service(row, day_start) and in_service(row, day_start_ms(day + 1, zone) - 1)) or \
                    excluded_days([day], zone, binding(calendar.periods, row["source_mode"] != "enterprise_shared"), False,
                                  row["id"], row["site_id"]):
                continue
            for rule in (r for r in rules if r.applies_to(row["device_type"])):
                history = fabricated_history_days(rule)
                verdict = device_fabricated(uow, row["id"], rule, day_start, history, limit)
                if verdict:
                    signals.append(Signal("raise", PLATFORM_SCOPE, rule, f"device:{row['id']}", enterprise["id"], now_ms,
                                          {"device": row["key"], "day": day, **verdict}, row["id"]))
    return signals


def unbooked_signals(uow: UnitOfWork, day: int, now_ms: int, limit: int = 1_000_000, enterprises: list[dict] | None = None,
                     calendars: dict[int, DayCalendar] | None = None) -> list[Signal]:
    """Unbooked-outbound rules: count episodes ending in the local `day` shifted back by the rule's `after_s` (so the
    confirmation has had time to arrive); an enterprise without a confirming device is not judged."""
    rules = [r for r in default_rules().values() if r.type == "unbooked_outbound" and r.enabled]
    signals = []
    enterprises = enterprises if enterprises is not None else uow.enterprises.list() if rules else []
    if rules and calendars is None:
        calendars = day_calendars(uow, enterprises, day, day)
    for enterprise in enterprises if rules else []:
        devices = uow.devices.list(enterprise["id"])
        for rule in (r for r in rules if r.scenario == enterprise["industry"]):
            p = rule.params
            after_ms, before_ms = int(p.get("after_s", 7200) * 1000), int(p.get("before_s", 1800) * 1000)
            judged_to = day_start_ms(day + 1, calendars[enterprise["id"]].zone) - after_ms
            judged_from = judged_to - DAY_MS
            counters = [d for d in devices if rule.device_type in (None, d["device_type"])]
            confirmers = [d["id"] for d in devices if d["device_type"] == p["confirm_device_type"]]
            if counters and not confirmers:
                zones = device_zones(uow, enterprise["id"], counters, calendars[enterprise["id"]].zone)
                signals += night_outbound_signals(uow, rule, enterprise["id"], counters, judged_from, judged_to, now_ms, limit,
                                                  zones)
                continue
            if not counters:
                continue
            stamps = [e["ts_ms"] for e in uow.telemetry.events(confirmers, judged_from - DAY_MS, judged_to + after_ms, limit)
                      if e["name"] == p["confirm_event"] and _params_match(e["params"], p.get("confirm_match", {}))]
            for d in counters:
                counts = [(r["ts_ms"], r["num"]) for r in uow.telemetry.readings([d["id"]], p["count_key"], judged_from - 6 * 3_600_000,
                                                                                 judged_to, limit)]
                found = [e for e in episodes(counts, int(p.get("gap_s", 1800) * 1000)) if judged_from <= e.end_ms < judged_to]
                for e in unconfirmed(found, stamps, before_ms, after_ms, p.get("min_units", 1)):
                    signals.append(Signal("raise", PLATFORM_SCOPE, rule, f"device:{d['id']}", enterprise["id"], now_ms,
                                          {"device": d["key"], "units": e.units, "from_ms": e.start_ms, "to_ms": e.end_ms,
                                           "unconfirmed_by": p["confirm_event"]}, d["id"]))
    return signals


def night_outbound_signals(uow: UnitOfWork, rule: Rule, enterprise_id: int, counters: list[dict], judged_from: int,
                           judged_to: int, now_ms: int, limit: int, zones: dict[int, str] | None = None) -> list[Signal]:
    """Without a weighbridge: count-out episodes in the gate's own quiet hours, learnt from its `history_days`
    before the judged window (alerts/movements.py quiet_hours); a gate with under `min_history_days` of counts is not
    judged. Hours and days are those of the gate's site (`zones`, default China): a Berlin warehouse's night is
    Berlin's, through its daylight-saving changes."""
    p = rule.params
    days, quiet_share = int(p.get("history_days", 14)), float(p.get("quiet_share", 0.01))
    signals = []
    for d in counters:
        rows = uow.telemetry.readings([d["id"]], p["count_key"], judged_from - (days + 1) * DAY_MS, judged_to, limit)
        counts = [(r["ts_ms"], r["num"]) for r in rows if r["num"] is not None]
        history = [c for c in counts if c[0] < judged_from - 6 * 3_600_000]
        zone = (zones or {}).get(d["id"], DEFAULT_ZONE)
        moved = [ts for ts, units in history if units and units > 0]
        counted_days = {int(x) for x in local_day(moved, zone)} if moved else set()
        quiet = quiet_hours(history, zone, quiet_share)
        if quiet is None or len(counted_days) < int(p.get("min_history_days", 5)):
            continue
        found = [e for e in episodes(counts, int(p.get("gap_s", 1800) * 1000)) if judged_from <= e.end_ms < judged_to]
        for e in off_hours(found, quiet, zone, p.get("min_units", 1)):
            signals.append(Signal("raise", PLATFORM_SCOPE, rule, f"device:{d['id']}", enterprise_id, now_ms,
                                  {"device": d["key"], "units": e.units, "from_ms": e.start_ms, "to_ms": e.end_ms,
                                   "unconfirmed_by": "no weighbridge: outside the gate's own outbound hours",
                                   "quiet_hours": sorted(quiet), "history_days": len(counted_days), "timezone": zone,
                                   "threshold_from": {
                                       "en": f"hours outside the shortest span holding {1 - quiet_share:.0%} of this gate's "
                                             f"outbound units over its {len(counted_days)} earlier days with counts "
                                             f"(local time of its site, {zone})",
                                       "zh": f"本道闸此前{len(counted_days)}天出库数量{1 - quiet_share:.0%}所在的最短时段之外"
                                             f"(按站点当地时间, {zone})"}},
                                  d["id"]))
    return signals


def _params_match(raw, wanted: dict) -> bool:
    params = orjson.loads(raw) if isinstance(raw, (str, bytes)) else (raw or {})
    return all(params.get(k) == v for k, v in wanted.items())


def fabricated_history_days(rule: Rule) -> int:
    """Days of readings a fabricated-data rule reads before the judged day: its history, or the replay test's window."""
    tests = rule.params.get("tests", ["copy", "replay", "flat", "smooth"])
    replay = int(rule.params.get("replay", {}).get("window_days", REPLAY_DEFAULTS["window_days"])) if "replay" in tests else 0
    return max(int(rule.params.get("history_days", 7)), replay)


def device_fabricated(uow: UnitOfWork, device_id: int, rule: Rule, day_start: int, history_days: int, limit: int) -> dict | None:
    """The first property of the device whose day fails a fabricated-data test (its verdict and key), else None."""
    keys = list(rule.params["keys"]) + list(rule.params.get("copy_only_keys", []))
    rows = uow.telemetry.readings([device_id], None, day_start - max(history_days, 2) * DAY_MS, day_start + DAY_MS, limit)
    series: dict[str, list[tuple[int, float]]] = {}
    for r in rows:
        if r["key"] in keys and r["num"] is not None:
            series.setdefault(r["key"], []).append((r["ts_ms"], r["num"]))
    for key in keys:
        if key not in series:
            continue
        params = dict(rule.params) if key in rule.params["keys"] else {**rule.params, "tests": ["copy"]}
        verdict = fabricated_verdict(series[key], day_start, params)
        if verdict:
            return {"key": key, **verdict}
    return None


def baseline_signal(enterprise_id: int, rule: Rule, series: list[tuple[int, float]], day: int, now_ms: int,
                    excluded: dict[int, dict] | None = None, workdays: frozenset[int] = frozenset(),
                    expected: dict[int, float] | None = None) -> Signal | None:
    """Raise when the day's value, and the `min_days_outside` judged days before, left the band in the rule's
    direction; clear when the day is back inside; say nothing on the borrower's rest days. `excluded` days (declared
    shutdowns and maintenance; with the rule's `official_calendar`, PRC holidays) are left out of the baseline and
    not judged, and the alarm lists those of its window; `workdays` (official make-up working days) are judged even on
    a weekday the borrower usually rests. With the rule's `expected_indicator` (PV generation), the days are judged
    as measured / `expected` (from the plant's own irradiance, alerts/performance.against_physics), raw only without
    one, and the detail says which (`judged_on`)."""
    excluded = excluded or {}
    if day in excluded:
        return None
    series = [(d, v) for d, v in series if d not in excluded]
    judged_on, basis, raw_today = None, None, dict(series).get(day)
    if rule.params.get("expected_indicator"):
        physics, basis, judged_on = against_physics(series, expected, day, float(rule.params.get("min_expected_kwh", 1.0)),
                                             int(rule.params.get("min_days", 7)))
        if physics is None:
            return None
        series = physics
    today = [v for d, v in series if d == day]
    if not today:
        return None
    p = rule.params
    band = {"z": p.get("z", 4.0), "min_rel_change": p.get("min_rel_change", 0.3), "min_days": p.get("min_days", 7),
            "rest_share": p.get("rest_share")}
    check = band_check(series, day, today[0], workday=day in workdays, **band)
    if check is None or check.rest_day:
        return None
    source = f"enterprise:{enterprise_id}"
    wanted, needed = p.get("direction", "below"), int(p.get("min_days_outside", 1))
    detail = {"indicator": p["indicator"], "day": day, "value": check.value, "median": round(check.median, 4),
              "low": round(check.low, 4), "high": round(check.high, 4), "baseline_days": check.baseline_days,
              "threshold_from": baseline_words(check, band)}
    if judged_on is not None:
        detail["judged_on"] = judged_on
        if basis == "performance_ratio":
            # the band is on the performance ratio: its indicator's label and unit, the day's kWh beside it
            detail.update(indicator="performance_ratio", measured_kwh=raw_today, expected_kwh=round(expected[day], 2))
        detail["threshold_from"] = {k: f"{judged_on[k]}; {v}" for k, v in detail["threshold_from"].items()}
    if check.direction == wanted or (wanted == "both" and check.direction):
        outside = days_outside(series, day, wanted, needed, workdays, **band)
        if outside < needed:
            return None
        detail["days_outside"] = outside
        if excluded:
            detail["excluded_days"] = sorted(excluded.values(), key=lambda x: x["day"])[-10:]
        values = [v for _, v in sorted(series)]
        start = change_point(values)
        if start is not None:
            detail["regime_since_day"] = sorted(series)[start][0]
        return Signal("raise", PLATFORM_SCOPE, rule, source, enterprise_id, now_ms, detail)
    return Signal("clear", PLATFORM_SCOPE, rule, source, enterprise_id, now_ms, detail) if check.direction is None else None


def baseline_words(check, band: dict) -> dict:
    """Where a baseline rule's band came from, zh-CN and en: the borrower's own days."""
    rest = band.get("rest_share")
    en = (f"this borrower's own {check.baseline_days} comparable days: median {check.median:.4g} -/+ max({band['z']:g} "
          f"robust deviations, {band['min_rel_change']:.0%}) = {check.low:.4g} to {check.high:.4g}")
    zh = (f"本企业自身{check.baseline_days}个可比日:中位数{check.median:.4g}加减max({band['z']:g}倍稳健离差, "
          f"{band['min_rel_change']:.0%}) = {check.low:.4g}至{check.high:.4g}")
    if rest is not None:
        en += f"; its own rest days (under {rest:.0%} of its usual high) left out, a weekday it mostly rests not judged"
        zh += f";其自身休息日(低于其常态高值的{rest:.0%})不计入,多为休息的星期几不判断"
    return {"en": en, "zh": zh}


# ---------------------------------------------------------------- people: list, acknowledge, clear


def _visible_enterprises(uow: UnitOfWork, principal: Principal, now_ms: int) -> list[int] | None:
    """Enterprise ids whose alarms this principal may read (None = all, for the admin)."""
    if principal.is_admin:
        return None
    if principal.role is Role.ENTERPRISE_USER:
        return [principal.enterprise_id]
    if principal.role not in BANK_ROLES | {Role.REGULATOR}:
        raise Denied(f"role {principal.role.value} does not read alarms")
    consents = consent_views(uow.consents.for_tenant(principal.tenant_id))
    return sorted({c.enterprise_id for c in valid_consents(consents, principal.tenant_id, now_ms)})


ALARM_PAGE_MAX = 1000


def list_alarms(platform: Platform, principal: Principal, status: str | None = None, enterprise_id: int | None = None,
                loan_id: int | None = None, limit: int = 200) -> list[dict]:
    return alarm_page(platform, principal, status, enterprise_id, loan_id, limit)[0]


def alarm_page(platform: Platform, principal: Principal, status: str | None = None, enterprise_id: int | None = None,
               loan_id: int | None = None, limit: int = 100, before_id: int | None = None) -> tuple[list[dict], int | None]:
    """One page of the alarms this principal reads, newest first, and the cursor of the next page
    (the `before_id` to ask with; None on the last page)."""
    where = AlarmFilter(statuses=(status,) if status else (), enterprise_id=enterprise_id, loan_id=loan_id)
    with platform.uow() as uow:
        rows, next_before_id = filtered_alarms(uow, principal, where, limit, before_id, platform.clock_ms())
    return [public_alarm(r) for r in rows], next_before_id


@dataclass(frozen=True)
class AlarmFilter:
    """What an officer narrows the alarm list to: any of the codes given, a borrower, a loan, opened in
    [opened_from_ms, opened_to_ms)."""

    alarm_types: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    enterprise_id: int | None = None
    loan_id: int | None = None
    opened_from_ms: int | None = None
    opened_to_ms: int | None = None

    def checked(self) -> "AlarmFilter":
        """Itself, or InvalidInput naming the code or range that cannot match anything."""
        for kind, codes, known in (("status", self.statuses, ALARM_STATES), ("severity", self.severities, SEVERITIES)):
            for c in codes:
                if c not in known:
                    raise InvalidInput(f"{kind} {c!r} is not one of {', '.join(known)}")
        if None not in (self.opened_from_ms, self.opened_to_ms) and self.opened_from_ms >= self.opened_to_ms:
            raise InvalidInput(f"opened_from_ms {self.opened_from_ms} is not before opened_to_ms {self.opened_to_ms}")
        return self


def _readable_scope(uow: UnitOfWork, principal: Principal, f: AlarmFilter, now_ms: int) -> tuple[list[int] | None, int | None, AlarmWhere]:
    """(enterprise ids, tenant, SQL filter) of what this principal reads under filter `f`; a borrower they may
    not see is answered as absent."""
    visible = _visible_enterprises(uow, principal, now_ms)
    if f.enterprise_id is not None:
        if visible is not None and f.enterprise_id not in visible:  # not theirs to know: as if absent
            raise enterprise_not_found(f.enterprise_id)
        visible = [f.enterprise_id]
    tenant = None if principal.is_admin else principal.tenant_id
    tuned = tuple(sorted({o["rule_id"] for o in uow.monitoring.overrides(tenant)})) if tenant is not None else ()
    return visible, tenant, AlarmWhere(f.alarm_types, f.severities, f.statuses, f.opened_from_ms, f.opened_to_ms, tuned)


def filtered_alarms(uow: UnitOfWork, principal: Principal, f: AlarmFilter, limit: int, before_id: int | None,
                    now_ms: int) -> tuple[list[dict], int | None]:
    """Up to `limit` readable alarms matching `f` below `before_id`, newest first, and the next page's cursor."""
    f, limit = f.checked(), max(1, min(limit, ALARM_PAGE_MAX))
    visible, tenant, where = _readable_scope(uow, principal, f, now_ms)
    rows: list[dict] = []
    cursor = before_id
    while len(rows) <= limit:  # a loan's alarms are picked after the query (loan ids are a JSON list)
        chunk = uow.monitoring.list_alarms(visible, tenant, None, None, limit + 1, cursor, where)
        rows += [r for r in chunk if f.loan_id is None or f.loan_id in (r["loan_ids"] or [])]
        if len(chunk) < limit + 1:
            break
        cursor = chunk[-1]["id"]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1]["id"] if more else None)


def count_alarms(uow: UnitOfWork, principal: Principal, f: AlarmFilter, now_ms: int) -> int:
    """How many readable alarms match `f`, over every page."""
    visible, tenant, where = _readable_scope(uow, principal, f.checked(), now_ms)
    return uow.monitoring.count_filtered_alarms(visible, tenant, where, f.loan_id)


def public_alarm(r: dict) -> dict:
    keys = ("id", "scope", "source", "alarm_type", "rule_id", "severity", "status", "enterprise_id", "device_id", "loan_ids",
            "started_ms", "last_ms", "stored_ms", "occurrences", "detail", "acknowledged_ms", "acknowledged_by",
            "cleared_ms", "cleared_by", "escalation_level")
    return {k: r[k] for k in keys}


def _alarm_for_action(uow: UnitOfWork, principal: Principal, alarm_id: int, now_ms: int) -> dict:
    require_role(principal, Role.CREDIT_OFFICER, Role.RISK_MANAGER)
    return readable_alarm(uow, principal, alarm_id, now_ms)


def readable_alarm(uow: UnitOfWork, principal: Principal, alarm_id: int, now_ms: int) -> dict:
    """An alarm this principal may read (the rule of GET /alarms): of an enterprise visible to them, and a
    tenant's own alarm only to that tenant; any other alarm does not exist for them. Roles that read no
    alarms (integrators) are refused."""
    alarm = uow.monitoring.alarm(alarm_id)
    visible = _visible_enterprises(uow, principal, now_ms)
    if alarm is None or not principal.is_admin and (
            (alarm["tenant_id"] is not None and alarm["tenant_id"] != principal.tenant_id)
            or (alarm["enterprise_id"] is None and alarm["tenant_id"] is None)
            or (alarm["enterprise_id"] is not None and alarm["enterprise_id"] not in visible)):
        raise NotFound(f"alarm {alarm_id} does not exist")
    return alarm


def checked_reason(reason: str) -> str:
    """The reason stripped, at most 2000 characters; InvalidInput under 3."""
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise InvalidInput(f"a reason of at least 3 characters is needed, got {reason!r}")
    return reason[:2000]


def acknowledge(platform: Platform, principal: Principal, alarm_id: int, reason: str) -> dict:
    reason, now_ms = checked_reason(reason), platform.clock_ms()
    with platform.uow() as uow:
        acknowledge_in(uow, principal, alarm_id, reason, now_ms)
        uow.commit()
        return public_alarm(uow.monitoring.alarm(alarm_id))


def acknowledge_in(uow: UnitOfWork, principal: Principal, alarm_id: int, reason: str, now_ms: int,
                   via: str | None = None) -> None:
    """Acknowledge one readable active alarm in the caller's transaction: audited and evidenced (`via`: "bulk")."""
    alarm = _alarm_for_action(uow, principal, alarm_id, now_ms)
    if alarm["status"] != "active":
        raise InvalidInput(f"alarm {alarm_id} is {alarm['status']}, only an active alarm can be acknowledged")
    uow.monitoring.set_alarm(alarm_id, status="acknowledged", acknowledged_ms=now_ms, acknowledged_by=principal.user_id)
    uow.monitoring.add_action(alarm_id, now_ms, principal.user_id, "acknowledge", reason)
    record_evidence(uow, "alarm_action", f"alarm:{alarm_id}", {
        "action": "acknowledge", "alarm_id": alarm_id, "user_id": principal.user_id, "reason": reason,
        "enterprise_id": alarm["enterprise_id"], "at_ms": now_ms, **({"via": via} if via else {})},
        owner_tenant_id=alarm["tenant_id"])


def clear(platform: Platform, principal: Principal, alarm_id: int, reason: str) -> dict:
    reason, now_ms = checked_reason(reason), platform.clock_ms()
    with platform.uow() as uow:
        clear_in(uow, principal, alarm_id, reason, now_ms)
        uow.commit()
        return public_alarm(uow.monitoring.alarm(alarm_id))


def clear_in(uow: UnitOfWork, principal: Principal, alarm_id: int, reason: str, now_ms: int) -> None:
    """Clear one readable alarm that is not cleared yet, in the caller's transaction: audited, evidenced, notified."""
    alarm = _alarm_for_action(uow, principal, alarm_id, now_ms)
    if alarm["status"] == "cleared":
        raise InvalidInput(f"alarm {alarm_id} is already cleared")
    _clear(uow, alarm, principal.user_id, reason, now_ms)


def alarm_audit(platform: Platform, principal: Principal, alarm_id: int) -> list[dict]:
    with platform.uow() as uow:
        readable_alarm(uow, principal, alarm_id, platform.clock_ms())
        return [{k: a[k] for k in ("at_ms", "user_id", "action", "reason")} for a in uow.monitoring.actions(alarm_id)]


# ---------------------------------------------------------------- rules and overrides


def list_rules(scenario: str | None = None) -> list[dict]:
    return [rule_doc(r) for r in default_rules().values() if scenario is None or r.scenario == scenario]


def rule_doc(r: Rule) -> dict:
    return {"id": r.id, "type": r.type, "alarm_type": r.alarm_type, "severity": r.severity, "device_type": r.device_type,
            "scenario": r.scenario, "params": dict(r.params), "risk_class_floor": r.risk_class_floor, "label": dict(r.label),
            "enabled": r.enabled}


def set_override(platform: Platform, principal: Principal, product: str, rule_id: str, override: dict) -> dict:
    """A risk manager tunes a rule for the bank's product ("*" = all products); validated before it is stored."""
    require_role(principal, Role.RISK_MANAGER)
    rule = default_rules().get(rule_id)
    if rule is None:
        raise NotFound(f"rule {rule_id} does not exist")
    if not product or len(product) > 60:
        raise InvalidInput(f"product {product!r} must be 1-60 characters ('*' for every product)")
    if override.get("severity") is not None and override["severity"] not in SEVERITIES:
        raise InvalidInput(f"severity {override['severity']!r} is not one of {list(SEVERITIES)}")
    tuned = apply_override(rule, override)
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        uow.monitoring.set_override(principal.tenant_id, product, rule_id, override, now_ms, principal.user_id)
        uow.logs.audit(now_ms, principal.user_id, "rule.override", rule_id, {"product": product, "override": override})
        uow.commit()
    invalidate_index()
    return {"tenant_id": principal.tenant_id, "product": product, "rule": rule_doc(tuned)}


def list_overrides(platform: Platform, principal: Principal) -> list[dict]:
    require_role(principal, Role.RISK_MANAGER, Role.CREDIT_OFFICER)
    with platform.uow() as uow:
        return [{k: o[k] for k in ("product", "rule_id", "override", "updated_ms", "updated_by")}
                for o in uow.monitoring.overrides(principal.tenant_id)]


def delete_override(platform: Platform, principal: Principal, product: str, rule_id: str) -> int:
    require_role(principal, Role.RISK_MANAGER)
    with platform.uow() as uow:
        n = uow.monitoring.delete_override(principal.tenant_id, product, rule_id)
        if not n:
            raise NotFound(f"no override of rule {rule_id} for product {product!r}")
        uow.logs.audit(platform.clock_ms(), principal.user_id, "rule.override.delete", rule_id, {"product": product})
        uow.commit()
    invalidate_index()
    return n


class MonitoringSweeper:
    """A daemon thread: sweep and deliver notifications every `interval_s`; errors are logged and retried.

    `swept` is set after each finished round (tests wait on it instead of sleeping)."""

    def __init__(self, platform: Platform, interval_s: float = 30.0):
        self.platform, self.interval_s = platform, interval_s
        self.swept = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wuxin-monitoring", daemon=True)

    def start(self) -> "MonitoringSweeper":
        self._thread.start()
        return self

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        from wuxin.services.monitoring.notifications import deliver_due

        while not self._stop.wait(self.interval_s):
            try:
                sweep(self.platform)
                self.platform.metrics.timed_job("notifications", lambda: deliver_due(self.platform))
                self.swept.set()
            except Exception as exc:  # the database may be down: try again next time
                log.warning("monitoring sweep failed: %s", exc)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Ask the thread to stop and wait for the round in progress (a daily update may take a while)."""
        self._stop.set()
        self._thread.join(timeout=timeout_s)
