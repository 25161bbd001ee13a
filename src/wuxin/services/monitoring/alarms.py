"""Alarms and their lifecycle: raised and cleared from signals, escalated, notified, listed, acknowledged, cleared.

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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from wuxin.alerts.engine import Signal
from wuxin.alerts.rules import SEVERITIES, severity_rank
from wuxin.bootstrap import Platform
from wuxin.domain.model import BANK_ROLES, Role
from wuxin.errors import Denied, InvalidInput, NotFound
from wuxin.labels import ALARM_STATES
from wuxin.loans.lifecycle import LIVE_STATES
from wuxin.loans.risk_class import downgraded
from wuxin.security.policy import Principal, enterprise_not_found, require_role, valid_consents
from wuxin.services.devices.registry import consent_views
from wuxin.services.evidence.record import record_evidence
from wuxin.services.monitoring.rule_cache import PLATFORM_SCOPE, tenant_scope
from wuxin.store.repo_monitoring import AlarmWhere
from wuxin.store.rows import AlarmRow, LoanRow
from wuxin.store.uow import UnitOfWork

log = logging.getLogger(__name__)
ESCALATE_AFTER_MS = {"critical": 15 * 60_000, "major": 60 * 60_000, "minor": 4 * 3_600_000, "warning": 24 * 3_600_000}
MAX_ESCALATION = 3


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


def _loans_for(uow: UnitOfWork, s: Signal) -> list[LoanRow]:
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
    alarm_id, new = uow.monitoring.raise_alarm(
        dict(
            scope=s.scope,
            tenant_id=tenant_id,
            source=s.source,
            alarm_type=s.rule.alarm_type,
            rule_id=s.rule.id,
            severity=s.rule.severity,
            status="active",
            enterprise_id=s.enterprise_id,
            device_id=s.device_id,
            loan_ids=[l["id"] for l in loans],
            started_ms=s.at_ms,
            last_ms=s.at_ms,
            stored_ms=now_ms,
            detail=dict(s.detail),
        )
    )
    if not new:
        return None
    reason = f"rule {s.rule.id}: {s.rule.label.get('en', s.rule.alarm_type)}"
    uow.monitoring.add_action(alarm_id, now_ms, None, "raise", reason)
    record_evidence(
        uow,
        "alarm_action",
        f"alarm:{alarm_id}",
        {
            "action": "raise",
            "alarm_id": alarm_id,
            "rule_id": s.rule.id,
            "source": s.source,
            "severity": s.rule.severity,
            "enterprise_id": s.enterprise_id,
            "at_ms": now_ms,
            "detail": _small(s.detail),
        },
        owner_tenant_id=tenant_id,
    )
    for loan in loans:
        _move_risk_class(uow, loan, s.rule.risk_class_floor, alarm_id, reason, now_ms)
    enqueue_notifications(uow, alarm_id, "raised", now_ms)
    return alarm_id


def _small(detail: Any) -> Any:
    return {k: v for k, v in dict(detail).items() if not isinstance(v, (list, dict)) or len(str(v)) < 500}


def _move_risk_class(
    uow: UnitOfWork, loan: LoanRow, floor: str | None, alarm_id: int, reason: str, now_ms: int
) -> None:
    target = downgraded(loan["risk_class"], floor)
    if target is None:
        return
    uow.monitoring.set_loan(loan["id"], risk_class=target, updated_ms=now_ms)
    uow.monitoring.add_history(
        loan_id=loan["id"],
        at_ms=now_ms,
        kind="risk_class",
        from_value=loan["risk_class"],
        to_value=target,
        action="warning",
        user_id=None,
        role=None,
        reason=f"alarm {alarm_id}: {reason}",
        alarm_id=alarm_id,
    )
    loan["risk_class"] = target


def clear_by_rule(uow: UnitOfWork, s: Signal, now_ms: int) -> int | None:
    alarm = uow.monitoring.open_alarm(s.scope, s.source, s.rule.alarm_type)
    if alarm is None:
        return None
    _clear(uow, alarm, None, f"rule {s.rule.id}: condition ended at {s.at_ms}", now_ms)
    return alarm["id"]


def _clear(uow: UnitOfWork, alarm: AlarmRow, user_id: int | None, reason: str, now_ms: int) -> None:
    uow.monitoring.set_alarm(alarm["id"], status="cleared", cleared_ms=now_ms, cleared_by=user_id)
    uow.monitoring.add_action(alarm["id"], now_ms, user_id, "clear", reason)
    record_evidence(
        uow,
        "alarm_action",
        f"alarm:{alarm['id']}",
        {
            "action": "clear",
            "alarm_id": alarm["id"],
            "user_id": user_id,
            "reason": reason,
            "enterprise_id": alarm["enterprise_id"],
            "at_ms": now_ms,
        },
        owner_tenant_id=alarm["tenant_id"],
    )
    enqueue_notifications(uow, alarm["id"], "cleared", now_ms)


# ---------------------------------------------------------------- notifications outbox


def enqueue_notifications(uow: UnitOfWork, alarm_id: int, event: str, now_ms: int) -> int:
    """One outbox row per channel of each tenant that may see the alarm and wants its severity."""
    alarm = stored_alarm(uow, alarm_id)
    tenants = {alarm["tenant_id"]} if alarm["tenant_id"] is not None else _watching_tenants(uow, alarm, now_ms)
    rows = []
    for channel in uow.monitoring.channels(tenants) if tenants else []:
        if severity_rank(alarm["severity"]) <= severity_rank(channel["min_severity"]):
            rows.append(
                dict(
                    channel_id=channel["id"],
                    alarm_id=alarm_id,
                    event=event,
                    payload=alarm_payload(alarm, event),
                    status="pending",
                    attempts=0,
                    next_attempt_ms=now_ms,
                )
            )
    uow.monitoring.add_notifications(rows)
    return len(rows)


def _watching_tenants(uow: UnitOfWork, alarm: AlarmRow, now_ms: int) -> set[int]:
    if alarm["enterprise_id"] is None:
        return set()
    consents = consent_views(uow.consents.for_enterprise(alarm["enterprise_id"]))
    return {c.tenant_id for c in consents if c.is_valid(now_ms)}


def alarm_payload(alarm: Mapping[str, Any], event: str) -> dict:
    keys = (
        "id",
        "alarm_type",
        "rule_id",
        "severity",
        "status",
        "source",
        "enterprise_id",
        "loan_ids",
        "started_ms",
        "last_ms",
        "occurrences",
        "escalation_level",
    )
    return {"event": event, **{k: alarm.get(k) for k in keys}, "detail": _small(alarm.get("detail") or {})}


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
            uow.monitoring.add_action(
                alarm["id"],
                now_ms,
                None,
                "escalate",
                f"unacknowledged for {(now_ms - alarm['stored_ms']) // 60_000} min: level {level}",
            )
            enqueue_notifications(uow, alarm["id"], "escalated", now_ms)
            count += 1
        uow.commit()
    return count


# ---------------------------------------------------------------- people: list, acknowledge, clear


def _visible_enterprises(uow: UnitOfWork, principal: Principal, now_ms: int) -> list[int] | None:
    """Enterprise ids whose alarms this principal may read (None = all, for the admin)."""
    if principal.is_admin:
        return None
    if principal.role is Role.ENTERPRISE_USER:
        return [] if principal.enterprise_id is None else [principal.enterprise_id]
    if principal.role not in BANK_ROLES | {Role.REGULATOR}:
        raise Denied(f"role {principal.role.value} does not read alarms")
    if principal.tenant_id is None:  # a bank's user of no bank sees no borrower
        return []
    consents = consent_views(uow.consents.for_tenant(principal.tenant_id))
    return sorted({c.enterprise_id for c in valid_consents(consents, principal.tenant_id, now_ms)})


ALARM_PAGE_MAX = 1000


def list_alarms(
    platform: Platform,
    principal: Principal,
    status: str | None = None,
    enterprise_id: int | None = None,
    loan_id: int | None = None,
    limit: int = 200,
) -> list[dict]:
    return alarm_page(platform, principal, status, enterprise_id, loan_id, limit)[0]


def alarm_page(
    platform: Platform,
    principal: Principal,
    status: str | None = None,
    enterprise_id: int | None = None,
    loan_id: int | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> tuple[list[dict], int | None]:
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

    def checked(self) -> AlarmFilter:
        """Itself, or InvalidInput naming the code or range that cannot match anything."""
        for kind, codes, known in (("status", self.statuses, ALARM_STATES), ("severity", self.severities, SEVERITIES)):
            for c in codes:
                if c not in known:
                    raise InvalidInput(f"{kind} {c!r} is not one of {', '.join(known)}")
        lo, hi = self.opened_from_ms, self.opened_to_ms
        if lo is not None and hi is not None and lo >= hi:
            raise InvalidInput(f"opened_from_ms {self.opened_from_ms} is not before opened_to_ms {self.opened_to_ms}")
        return self


def _readable_scope(
    uow: UnitOfWork, principal: Principal, f: AlarmFilter, now_ms: int
) -> tuple[list[int] | None, int | None, AlarmWhere]:
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


def filtered_alarms(
    uow: UnitOfWork, principal: Principal, f: AlarmFilter, limit: int, before_id: int | None, now_ms: int
) -> tuple[list[AlarmRow], int | None]:
    """Up to `limit` readable alarms matching `f` below `before_id`, newest first, and the next page's cursor."""
    f, limit = f.checked(), max(1, min(limit, ALARM_PAGE_MAX))
    visible, tenant, where = _readable_scope(uow, principal, f, now_ms)
    rows: list[AlarmRow] = []
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


def alarm_spans(platform: Platform, principal: Principal, from_ms: int, to_ms: int) -> list[tuple[int, int | None]]:
    """When each alarm this principal reads that was open at some time in [from_ms, to_ms) started and cleared
    (None: still open), every one of them; Denied for a role that reads no alarms."""
    with platform.uow() as uow:
        visible, tenant, where = _readable_scope(uow, principal, AlarmFilter(), platform.clock_ms())
        return uow.monitoring.alarm_spans(visible, tenant, where, from_ms, to_ms)


def public_alarm(r: Mapping[str, Any]) -> dict:
    keys = (
        "id",
        "scope",
        "source",
        "alarm_type",
        "rule_id",
        "severity",
        "status",
        "enterprise_id",
        "device_id",
        "loan_ids",
        "started_ms",
        "last_ms",
        "stored_ms",
        "occurrences",
        "detail",
        "acknowledged_ms",
        "acknowledged_by",
        "cleared_ms",
        "cleared_by",
        "escalation_level",
    )
    return {k: r[k] for k in keys}


def _alarm_for_action(uow: UnitOfWork, principal: Principal, alarm_id: int, now_ms: int) -> AlarmRow:
    require_role(principal, Role.CREDIT_OFFICER, Role.RISK_MANAGER)
    return readable_alarm(uow, principal, alarm_id, now_ms)


def readable_alarm(uow: UnitOfWork, principal: Principal, alarm_id: int, now_ms: int) -> AlarmRow:
    """An alarm this principal may read (the rule of GET /alarms): of an enterprise visible to them, and a
    tenant's own alarm only to that tenant; any other alarm does not exist for them. Roles that read no
    alarms (integrators) are refused."""
    alarm = uow.monitoring.alarm(alarm_id)
    visible = _visible_enterprises(uow, principal, now_ms)
    if (
        alarm is None
        or not principal.is_admin
        and (
            (alarm["tenant_id"] is not None and alarm["tenant_id"] != principal.tenant_id)
            or (alarm["enterprise_id"] is None and alarm["tenant_id"] is None)
            or (alarm["enterprise_id"] is not None and visible is not None and alarm["enterprise_id"] not in visible)
        )
    ):
        raise NotFound(f"alarm {alarm_id} does not exist")
    return alarm


def stored_alarm(uow: UnitOfWork, alarm_id: int) -> AlarmRow:
    """An alarm by id, whoever may read it (the caller has checked that); NotFound when there is none."""
    alarm = uow.monitoring.alarm(alarm_id)
    if alarm is None:
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
        return public_alarm(stored_alarm(uow, alarm_id))


def acknowledge_in(
    uow: UnitOfWork, principal: Principal, alarm_id: int, reason: str, now_ms: int, via: str | None = None
) -> None:
    """Acknowledge one readable active alarm in the caller's transaction: audited and evidenced (`via`: "bulk")."""
    alarm = _alarm_for_action(uow, principal, alarm_id, now_ms)
    if alarm["status"] != "active":
        raise InvalidInput(f"alarm {alarm_id} is {alarm['status']}, only an active alarm can be acknowledged")
    uow.monitoring.set_alarm(alarm_id, status="acknowledged", acknowledged_ms=now_ms, acknowledged_by=principal.user_id)
    uow.monitoring.add_action(alarm_id, now_ms, principal.user_id, "acknowledge", reason)
    record_evidence(
        uow,
        "alarm_action",
        f"alarm:{alarm_id}",
        {
            "action": "acknowledge",
            "alarm_id": alarm_id,
            "user_id": principal.user_id,
            "reason": reason,
            "enterprise_id": alarm["enterprise_id"],
            "at_ms": now_ms,
            **({"via": via} if via else {}),
        },
        owner_tenant_id=alarm["tenant_id"],
    )


def clear(platform: Platform, principal: Principal, alarm_id: int, reason: str) -> dict:
    reason, now_ms = checked_reason(reason), platform.clock_ms()
    with platform.uow() as uow:
        clear_in(uow, principal, alarm_id, reason, now_ms)
        uow.commit()
        return public_alarm(stored_alarm(uow, alarm_id))


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
