"""The risk workbench of a bank's credit officers and risk managers: every borrower the bank may see, with its latest
credit decision, exposure, IoT activity, open alarms, evidence, device health and pledges, and the portfolio summary.

Access, the same rules as the endpoints each figure comes from (none is a new way in):
- the caller is a credit officer or a risk manager (anyone else: Denied);
- a borrower is listed while its consent to the caller's bank is valid (`valid_consents`, as `visible_enterprises`);
- devices are those the consent covers (`readable_device_keys`, as GET .../devices);
- figures that stand on every device of the borrower (credit decisions as `require_lender`, enterprise indicators as
  GET .../indicators) are shown only when the consent covers every device, else None with `consent_partial`;
- loans, pledges and decisions are the caller's bank's own (as GET /loans); alarms are the platform's and the bank's
  own, a platform rule the bank tuned showing as its variant (as GET /alarms).
Every borrower whose data is read is written to the access log with the consent relied on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from wuxin.bootstrap import Platform
from wuxin.domain.model import Role
from wuxin.errors import Denied
from wuxin.indicators.days import DAY_MS, day_iso, local_day
from wuxin.risk.portfolio import (
    Query,
    activity_trend_ratio,
    check_query,
    grade_change,
    open_alarm_counts,
    page_of,
    ratio,
    select,
)
from wuxin.security.policy import Principal, readable_device_keys, require_role, valid_consents
from wuxin.services.access.data_access import device_connectivity, with_presence
from wuxin.services.bootstrap import indicator_packs
from wuxin.services.credit.pledges import CLOSED, loan_coverage
from wuxin.services.devices.registry import consent_views, known_enterprise
from wuxin.services.monitoring.rule_cache import PLATFORM_SCOPE
from wuxin.store.rows import AlarmCountRow, LoanRow
from wuxin.store.uow import UnitOfWork

WINDOW_DAYS = 30  # the activity sparkline and the evidence coverage: the last 30 complete local days
WEEK_MS = 7 * DAY_MS  # "this week" in the summary: the last 7 x 24 hours


@dataclass(frozen=True)
class Borrower:
    """A borrower the caller's bank may see now: its devices the consent covers, and that consent."""

    enterprise: Mapping[str, Any]
    devices: list[dict]
    all_devices: int
    consent_id: int | None

    @property
    def full_consent(self) -> bool:
        return len(self.devices) == self.all_devices


def require_workbench_user(principal: Principal) -> None:
    require_role(principal, Role.CREDIT_OFFICER, Role.RISK_MANAGER)


def bank_of(principal: Principal) -> int:
    """The bank (tenant) a workbench user works for: every bank role belongs to one (services.access.identity)."""
    if principal.tenant_id is None:
        raise Denied(f"user {principal.username} belongs to no bank")
    return principal.tenant_id


# ---------------------------------------------------------------- entry points


def borrowers(platform: Platform, principal: Principal, query: Query) -> dict:
    """One page of the caller's borrowers, searched, filtered and sorted as asked, with the total count."""
    check_query(query)
    rows, days = snapshot(platform, principal, "portfolio.borrowers")
    return page_of(rows, query) | {"days": days, "as_of_ms": platform.clock_ms()}


def export_rows(platform: Platform, principal: Principal, query: Query) -> list[dict]:
    """Every row the query selects, in its order (what the export writes); audited."""
    check_query(query)
    rows, _ = snapshot(platform, principal, "portfolio.export")
    chosen = select(rows, query)
    with platform.uow() as uow:
        uow.logs.audit(
            platform.clock_ms(),
            principal.user_id,
            "portfolio.export",
            f"tenant:{principal.tenant_id}",
            {
                "rows": len(chosen),
                "q": query.q,
                "industry": query.industry,
                "outcome": query.outcome,
                "critical_only": query.critical_only,
                "watched_only": query.watched_only,
                "sort": query.sort,
                "order": query.order,
            },
        )
        uow.commit()
    return chosen


def snapshot(platform: Platform, principal: Principal, action: str) -> tuple[list[dict], list[str]]:
    """Every visible borrower's row and the activity window's days; each borrower read is access-logged."""
    require_workbench_user(principal)
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        visible = visible_borrowers(uow, principal, now_ms)
        rows, days = borrower_rows(platform, uow, principal, visible, now_ms)
        log_reads(uow, principal, visible, action, now_ms)
        uow.commit()
    return rows, days


def log_reads(uow: UnitOfWork, principal: Principal, visible: list[Borrower], action: str, now_ms: int) -> None:
    for b in visible:
        uow.logs.access(
            at_ms=now_ms,
            user_id=principal.user_id,
            tenant_id=principal.tenant_id,
            enterprise_id=b.enterprise["id"],
            device_id=None,
            action=action,
            consent_id=b.consent_id,
            rows=1,
        )


# ---------------------------------------------------------------- who is visible


def visible_borrowers(uow: UnitOfWork, principal: Principal, now_ms: int) -> list[Borrower]:
    """Enterprises holding a valid consent to the caller's bank, each with the devices that consent covers."""
    tenant = bank_of(principal)
    consents = consent_views(uow.consents.for_tenant(tenant))
    ids = sorted({c.enterprise_id for c in valid_consents(consents, tenant, now_ms)})
    devices_by: dict[int, list[dict]] = {}
    for d in with_presence(uow, uow.portfolio.devices_of(ids)):  # a recorded disconnect counts, as in the device list
        devices_by.setdefault(d["enterprise_id"], []).append(d)
    out = []
    for enterprise in uow.enterprises.list(ids):
        devices = devices_by.get(enterprise["id"], [])
        own = [c for c in consents if c.enterprise_id == enterprise["id"]]
        keys, consent_id = readable_device_keys(
            principal, enterprise["id"], [(d["key"], d["device_type"]) for d in devices], own, now_ms
        )
        out.append(Borrower(enterprise, [d for d in devices if d["key"] in keys], len(devices), consent_id))
    return out


# ---------------------------------------------------------------- rows


def borrower_rows(
    platform: Platform, uow: UnitOfWork, principal: Principal, visible: list[Borrower], now_ms: int
) -> tuple[list[dict], list[str]]:
    """One row per visible borrower (see risk/portfolio.py for the columns) and the window's days."""
    last_day = local_day(now_ms) - 1  # today is still open: a partial day would read as a dip
    day_list = list(range(last_day - WINDOW_DAYS + 1, last_day + 1))
    ids = [b.enterprise["id"] for b in visible]
    full_ids = [b.enterprise["id"] for b in visible if b.full_consent]
    tenant = bank_of(principal)
    decisions = _decisions_by_enterprise(uow, full_ids, tenant)
    loans = _live_loans_by_enterprise(uow, ids, tenant)
    alarms = _open_alarms_by_enterprise(uow, ids, tenant)
    activity = _activity_by_enterprise(uow, [b for b in visible if b.full_consent], day_list)
    watched = uow.portfolio.watched(principal.user_id, tenant)
    rows = []
    for b in visible:
        eid = b.enterprise["id"]
        decision = decisions.get(eid)
        exposure = _exposure_cny(loans.get(eid, []))
        limit = _approved_limit_cny(decision)
        rows.append(
            {
                "enterprise_id": eid,
                "name": b.enterprise["name"],
                "region": b.enterprise["region"],
                "industry": b.enterprise["industry"],
                "consent_partial": not b.full_consent,
                "watched": eid in watched,
                "decision": decision and _decision_view(decision),
                "exposure_cny": None if exposure is None else str(exposure),
                "limit_cny": None if limit is None else str(limit),
                "limit_use_ratio": ratio(exposure, limit),
                "activity": activity.get(eid, _no_activity(b)),
                "alarms_open": open_alarm_counts(alarms.get(eid, [])),
                **_evidence(activity.get(eid), b),
                **_device_health(platform, b.devices, now_ms),
                **_pledges(uow, loans.get(eid, []), now_ms),
            }
        )
    return rows, [day_iso(d) for d in day_list]


def _no_activity(b: Borrower) -> dict:
    return {"indicator": None, "unit": None, "values": None, "industry_median": None, "trend_ratio": None}


# ---------------------------------------------------------------- decisions


def _decisions_by_enterprise(uow: UnitOfWork, enterprise_ids: list[int], tenant_id: int) -> dict[int, dict]:
    """The bank's latest decision on each enterprise, with the previous one's grade and score beside it."""
    rows = uow.portfolio.latest_decisions(enterprise_ids, tenant_id, per_enterprise=2)
    outcomes = uow.portfolio.decision_outcomes([r["id"] for r in rows if r["rank"] == 1])
    latest = {r["enterprise_id"]: r | {"policy_outcome": outcomes.get(r["id"])} for r in rows if r["rank"] == 1}
    for r in rows:
        if r["rank"] == 2:
            latest[r["enterprise_id"]] |= {"previous_grade": r["grade"], "previous_score": r["score"]}
    return latest


def _outcome(d: dict) -> str:
    """Where the decision stands now: an override changes the policy's outcome (older records: approved or not)."""
    return d["standing_outcome"] or d["policy_outcome"] or ("approve" if d["approved"] else "decline")


def _decision_view(d: dict) -> dict:
    previous_score = d.get("previous_score")
    return {
        "id": d["id"],
        "outcome": _outcome(d),
        "standing": d["standing"],
        "grade": d["grade"],
        "score": round(d["score"], 1),
        "pd": d["pd"],
        "product_code": d["product_code"],
        "decided_ms": d["decided_ms"],
        "as_of": day_iso(d["as_of_day"]),
        "previous_grade": d.get("previous_grade"),
        "grade_change": grade_change(d.get("previous_grade"), d["grade"]),
        "score_change": None if previous_score is None else round(d["score"] - previous_score, 1),
    }


def _approved_limit_cny(d: dict | None) -> Decimal | None:
    """The limit of the latest decision when it stands approved (the workflow's limit after an override)."""
    if d is None or _outcome(d) != "approve":
        return None
    limit = d["standing_limit_cny"] or d["limit_cny"]
    return None if limit is None else Decimal(limit)


# ---------------------------------------------------------------- exposure and pledges


def _live_loans_by_enterprise(uow: UnitOfWork, enterprise_ids: list[int], tenant_id: int) -> dict[int, list[LoanRow]]:
    out: dict[int, list[LoanRow]] = {}
    for loan in uow.portfolio.tenant_loans(enterprise_ids, tenant_id):
        if loan["state"] not in CLOSED:
            out.setdefault(loan["enterprise_id"], []).append(loan)
    return out


def _exposure_cny(loans: list[LoanRow]) -> Decimal | None:
    """Outstanding over the bank's live loans to the borrower; None when it has no live loan (no exposure to show)."""
    return sum((Decimal(loan["outstanding_cny"]) for loan in loans), Decimal(0)) if loans else None


def _pledges(uow: UnitOfWork, loans: list[LoanRow], now_ms: int) -> dict:
    """Pledged value (monitored quantity x price x (1 - haircut)) over outstanding, on the live loans with pledged
    goods; None without any."""
    covered = [loan_coverage(uow, loan, now_ms) for loan in loans if uow.monitoring.items(loan["id"])]
    if not covered:
        return {"pledged_value_cny": None, "pledge_coverage_ratio": None}
    value = sum((c.pledged_value_cny for c in covered), Decimal(0))
    outstanding = sum((c.outstanding_cny for c in covered), Decimal(0))
    return {"pledged_value_cny": str(value), "pledge_coverage_ratio": ratio(value, outstanding)}


# ---------------------------------------------------------------- alarms


def _open_alarms_by_enterprise(uow: UnitOfWork, enterprise_ids: list[int], tenant_id: int) -> dict[int, list[str]]:
    """Severities of the open alarms the bank reads, one entry per alarm."""
    return _alarm_severities(uow, uow.portfolio.alarm_counts(enterprise_ids, tenant_id), tenant_id)


def _alarm_severities(uow: UnitOfWork, counted: list[AlarmCountRow], tenant_id: int) -> dict[int, list[str]]:
    tuned = {o["rule_id"] for o in uow.monitoring.overrides(tenant_id)}
    out: dict[int, list[str]] = {}
    for r in counted:
        if r["scope"] == PLATFORM_SCOPE and r["rule_id"] in tuned:
            continue  # the bank tuned this platform rule: its own variant stands instead
        out.setdefault(r["enterprise_id"], []).extend([r["severity"]] * r["alarms"])
    return out


# ---------------------------------------------------------------- activity, evidence, devices


def _activity_by_enterprise(uow: UnitOfWork, visible: list[Borrower], day_list: list[int]) -> dict[int, dict]:
    """Each borrower's industry activity index (its pack's first INDEX indicator) per day of the window, and the
    industry index's median of its scenario and region on the same days where published."""
    wanted = {b.enterprise["id"]: _activity_indicator(b.enterprise["industry"]) for b in visible}
    rows = uow.portfolio.enterprise_values(
        [e for e, name in wanted.items() if name], {n for n in wanted.values() if n}, day_list[0], day_list[-1]
    )
    values: dict[int, dict[int, float | None]] = {}
    for r in rows:
        if r["indicator"] == wanted.get(r["enterprise_id"]):
            values.setdefault(r["enterprise_id"], {})[r["day"]] = r["value"]
    out = {}
    for b in visible:
        name = wanted[b.enterprise["id"]]
        if name is None:
            continue
        series = [values.get(b.enterprise["id"], {}).get(d) for d in day_list]
        out[b.enterprise["id"]] = {
            "indicator": name,
            "unit": _unit(b.enterprise["industry"], name),
            "values": series,
            "industry_median": _industry_median(uow, b.enterprise, name, day_list),
            "trend_ratio": activity_trend_ratio(series),
        }
    return out


def _activity_indicator(industry: str) -> str | None:
    pack = indicator_packs().get(industry)
    return pack.index[0] if pack and pack.index else None


def _unit(industry: str, name: str) -> str | None:
    decl = indicator_packs()[industry].get(name)
    return getattr(decl, "unit", None)


def _industry_median(
    uow: UnitOfWork, enterprise: Mapping[str, Any], name: str, day_list: list[int]
) -> list[float | None] | None:
    """The published index median per day (None on a day without one); None when never published in the window."""
    rows = uow.indicators.index(enterprise["industry"], enterprise["region"], name, day_list[0], day_list[-1])
    if not rows:
        return None
    by_day = {r["day"]: r["median"] for r in rows}
    return [by_day.get(d) for d in day_list]


def _evidence(activity: dict | None, b: Borrower) -> dict:
    """Days of the window with a device-evidenced activity value, and their share of the window."""
    if activity is None or not b.full_consent:
        return {"evidence_days": None, "evidence_coverage_ratio": None}
    days = sum(1 for v in activity["values"] if v is not None)
    return {"evidence_days": days, "evidence_coverage_ratio": ratio(days, len(activity["values"]))}


def _device_health(platform: Platform, devices: list[dict], now_ms: int) -> dict:
    """Readable devices, how many are online now (as the device list says: reported within their heartbeat timeout and
    not recorded offline since), and the share."""
    online = sum(1 for d in devices if device_connectivity(platform, d, now_ms) == "online")
    return {"devices": len(devices), "devices_online": online, "online_share_ratio": ratio(online, len(devices))}


# ---------------------------------------------------------------- watch-list


def watchlist(platform: Platform, principal: Principal) -> list[int]:
    """The borrowers on the caller's watch-list that the bank may still see."""
    require_workbench_user(principal)
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        visible = {b.enterprise["id"] for b in visible_borrowers(uow, principal, now_ms)}
        return sorted(visible & uow.portfolio.watched(principal.user_id, bank_of(principal)))


def set_watched(platform: Platform, principal: Principal, enterprise_id: int, watched: bool) -> dict:
    """Put a borrower on the caller's watch-list or take it off; audited. A borrower the bank may not know answers
    like a missing one, so the list cannot probe for other banks' borrowers."""
    require_workbench_user(principal)
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        known_enterprise(platform, uow, principal, enterprise_id)
        if watched:
            changed = uow.portfolio.watch(principal.user_id, bank_of(principal), enterprise_id, now_ms)
        else:
            changed = uow.portfolio.unwatch(principal.user_id, enterprise_id)
        uow.logs.audit(
            now_ms,
            principal.user_id,
            f"portfolio.watch.{'add' if watched else 'remove'}",
            f"enterprise:{enterprise_id}",
            {"changed": changed},
        )
        uow.commit()
    return {"enterprise_id": enterprise_id, "watched": watched, "changed": changed}


# ---------------------------------------------------------------- summary


def summary(platform: Platform, principal: Principal) -> dict:
    """Where the exposure sits (by industry, by latest grade) and what changed in the last 7 days: grade downgrades,
    new critical alarms, decisions made. Over every borrower the bank sees, whatever the table's filters."""
    require_workbench_user(principal)
    now_ms = platform.clock_ms()
    since_ms = now_ms - WEEK_MS
    with platform.uow() as uow:
        visible = visible_borrowers(uow, principal, now_ms)
        rows, _ = borrower_rows(platform, uow, principal, visible, now_ms)
        week = _week(uow, principal, visible, since_ms)
        log_reads(uow, principal, visible, "portfolio.summary", now_ms)
        uow.commit()
    total = sum((Decimal(r["exposure_cny"]) for r in rows if r["exposure_cny"] is not None), Decimal(0))
    return {
        "as_of_ms": now_ms,
        "borrowers": len(rows),
        "exposure_cny": str(total),
        "by_industry": _concentration(rows, lambda r: r["industry"], total),
        "by_grade": _concentration(rows, lambda r: (r["decision"] or {}).get("grade"), total),
        "week": {"from_ms": since_ms, "to_ms": now_ms, **week},
    }


def _concentration(rows: list[dict], group, total: Decimal) -> list[dict]:
    """Exposure per group (None: no grade) with its share of the total, largest first; borrowers without a live loan
    are not counted."""
    sums: dict[str | None, tuple[Decimal, int]] = {}
    for r in rows:
        if r["exposure_cny"] is not None:
            amount, count = sums.get(group(r), (Decimal(0), 0))
            sums[group(r)] = (amount + Decimal(r["exposure_cny"]), count + 1)
    ranked = sorted(sums.items(), key=lambda kv: (-kv[1][0], str(kv[0])))
    return [
        {"key": key, "exposure_cny": str(amount), "borrowers": count, "share_ratio": ratio(amount, total)}
        for key, (amount, count) in ranked
    ]


def _week(uow: UnitOfWork, principal: Principal, visible: list[Borrower], since_ms: int) -> dict:
    tenant = bank_of(principal)
    names = {b.enterprise["id"]: b.enterprise["name"] for b in visible}
    full_ids = [b.enterprise["id"] for b in visible if b.full_consent]  # decisions: the rule of require_lender
    made = uow.portfolio.decisions_since(full_ids, tenant, since_ms)
    outcomes = uow.portfolio.decision_outcomes([d["id"] for d in made])
    downgrades = [
        {
            "enterprise_id": d["enterprise_id"],
            "name": names[d["enterprise_id"]],
            "from_grade": d["previous_grade"],
            "to_grade": d["grade"],
            "decided_ms": d["decided_ms"],
        }
        for d in made
        if (grade_change(d["previous_grade"], d["grade"]) or 0) < 0
    ]
    counted = uow.portfolio.alarm_counts(
        list(names), tenant, open_only=False, started_since_ms=since_ms, severity="critical"
    )
    critical = {eid: len(sev) for eid, sev in _alarm_severities(uow, counted, tenant).items()}
    by_outcome = {o: 0 for o in ("approve", "refer", "decline")}
    for d in made:
        outcome = outcomes.get(d["id"]) or ("approve" if d["approved"] else "decline")
        by_outcome[outcome] = by_outcome.get(outcome, 0) + 1
    return {
        "downgrades": downgrades,
        "new_critical_alarms": [
            {"enterprise_id": eid, "name": names[eid], "alarms": n} for eid, n in sorted(critical.items())
        ],
        "decisions": {"total": len(made), "by_outcome": by_outcome},
    }
