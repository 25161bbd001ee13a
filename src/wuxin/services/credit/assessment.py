"""The credit assessment: an enterprise's evidence gathered for scoring (indicators, statements, cross-checks,
open alarms), and loan outcomes as feature rows. Decisions and reports build on it (credit.decisions).

Only the lending tenant's credit officers and risk managers act, and only under a valid consent that
covers every device of the enterprise (the features stand on all of them); every decision and report
is written to the audit log and the access log, and every decision to the evidence ledger with the
model version and the inputs it scored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from wuxin.bootstrap import Platform
from wuxin.domain.model import BANK_ROLES, Role, SourceMode, trust_level
from wuxin.errors import Denied, NotFound
from wuxin.indicators.days import DAY_MS, day_iso, day_start_ms, local_day
from wuxin.risk.business import month_label, month_span
from wuxin.risk.crossverify import (
    CheckResult,
    ReportedFigure,
    SourceShares,
    Verification,
    cross_verify,
    enterprise_shared_only,
    evidence_coverage,
    evidenced_annual_revenue,
    revenue_consistency,
    verification,
)
from wuxin.risk.decisions import LimitEvidence
from wuxin.risk.features import (
    DailySeries,
    DeviceFacts,
    EvidenceInputs,
    StatementPeriod,
    evidence_features,
    feature_row,
    statement_features,
)
from wuxin.risk.money import Money
from wuxin.risk.policy import PolicyFacts
from wuxin.risk.products import Product
from wuxin.risk.pv_sales import INVERTER_ERROR_PCT, PvBound, PvFigure, pv_cross_verify, tariff_from_bills
from wuxin.risk.scorecard import default_flags
from wuxin.security.policy import Principal, enterprise_not_found, readable_device_keys, require_role
from wuxin.services.bootstrap import (
    checks as pack_checks,
)
from wuxin.services.bootstrap import (
    device_types_with,
    generation_bill_kinds,
    generation_indicators,
    indicator_packs,
)
from wuxin.services.devices.registry import consent_views
from wuxin.store.rows import CreditDecisionRow, EnterpriseDayIndicatorRow

HISTORY_DAYS = 460  # covers the four whole quarters before the current one (up to 92 + 365 days back)
TRAIN_ROLES = (Role.RISK_MANAGER,)


OPEN_ALARM_STATES = ("active", "acknowledged")


@dataclass(frozen=True)
class Assessment:
    """What the platform knows of one enterprise as of a day: series, checks, features and the facts the
    product policy reads (evidence span, open alarms, devices)."""

    enterprise: Mapping[str, Any]
    as_of_day: int
    activity_indicator: str | None
    series: dict[str, DailySeries]
    index_rows: list[dict]
    devices: DeviceFacts
    statements: tuple[StatementPeriod, ...]
    checks: tuple[CheckResult, ...]
    features: dict[str, Any]
    source_mode: str
    record_subjects: tuple[str, ...]  # ledger subjects of the business imports used
    evidence_days: int = 0
    open_alarms: dict[str, int] | None = None

    def relevant_checks(self, product: Product | None) -> list[CheckResult]:
        """The checks a product's limit rests on: the revenue checks for a revenue product, else all."""
        if product is not None and product.basis == "revenue":
            return [c for c in self.checks if c.revenue]
        return list(self.checks)

    def verification(self, product: Product | None = None) -> Verification:
        """Failed when any reported figure fails; else how far the product's own checks are verified."""
        overall = verification(self.checks)
        return "failed" if overall == "failed" else verification(self.relevant_checks(product))

    def limit_evidence(
        self, product: Product, pledged: Money | None = None, pledge_lines: tuple[tuple[str, str], ...] = ()
    ) -> LimitEvidence:
        evidenced = evidenced_annual_revenue(self.checks)
        reported = _reported_annual_revenue(self.statements)
        return LimitEvidence(self.verification(product), _money(reported), _money(evidenced), pledged, pledge_lines)

    def policy_facts(self, product: Product) -> PolicyFacts:
        relevant = self.relevant_checks(product)
        shared_only = enterprise_shared_only(relevant)
        if shared_only is None:  # nothing decided: judge by the devices installed
            modes = self.devices.by_source_mode
            shared_only = sum(modes.values()) > 0 and set(m for m, n in modes.items() if n) <= {
                SourceMode.ENTERPRISE_SHARED.value
            }
        return PolicyFacts(
            self.verification(product),
            self.evidence_days,
            evidence_coverage(relevant),
            0,
            0,
            dict(self.open_alarms or {}),
            self.devices.installed,
            self.devices.installed - self.devices.reporting_last_7d,
            bool(shared_only),
        )


def _money(value: float | None) -> Money | None:
    return None if value is None else Money(Decimal(f"{max(value, 0.0):.2f}"))


# ---------------------------------------------------------------- access


def require_lender(platform: Platform, uow, principal: Principal, enterprise_id: int) -> tuple[dict, list[dict], int]:
    """A bank's credit officer or risk manager whose valid consent covers every device; returns the consent id."""
    require_role(principal, *BANK_ROLES)
    enterprise = uow.enterprises.get(enterprise_id)
    if enterprise is None:
        raise enterprise_not_found(enterprise_id)
    devices = uow.devices.list(enterprise_id)
    consents = consent_views(uow.consents.for_enterprise(enterprise_id))
    readable, consent_id = readable_device_keys(
        principal, enterprise_id, [(d["key"], d["device_type"]) for d in devices], consents, platform.clock_ms()
    )
    if consent_id is None:  # bank roles read only under a consent; readable_device_keys refuses them without one
        raise enterprise_not_found(enterprise_id)
    hidden = [d["key"] for d in devices if d["key"] not in readable]
    if hidden:
        raise Denied(
            f"credit on enterprise {enterprise_id} stands on {len(hidden)} device(s) your consent does not cover"
        )
    return enterprise, devices, consent_id


def stored_decision(uow, decision_id: int) -> CreditDecisionRow:
    """A credit decision by id, with no access check (decisions are never deleted)."""
    row = uow.credit.decision(decision_id)
    if row is None:
        raise NotFound(f"credit decision {decision_id} does not exist")
    return row


def readable_decision(platform: Platform, uow, principal: Principal, decision_id: int) -> dict:
    """A decision, for its own bank's credit officers and risk managers while they may lend on the enterprise
    (the rule of GET .../credit/decisions); another bank's decision does not exist for them."""
    require_role(principal, *BANK_ROLES)
    row = uow.credit.decision(decision_id)
    if row is None or row["tenant_id"] != principal.tenant_id:
        raise NotFound(f"credit decision {decision_id} does not exist")
    require_lender(platform, uow, principal, row["enterprise_id"])
    return row


def _log(
    platform: Platform,
    uow,
    principal: Principal,
    enterprise_id: int,
    action: str,
    consent_id: int | None,
    rows: int,
    subject: str,
    detail: dict,
) -> None:
    now_ms = platform.clock_ms()
    uow.logs.access(
        at_ms=now_ms,
        user_id=principal.user_id,
        tenant_id=principal.tenant_id,
        enterprise_id=enterprise_id,
        device_id=None,
        action=action,
        consent_id=consent_id,
        rows=rows,
    )
    uow.logs.audit(now_ms, principal.user_id, action, subject, detail)


# ---------------------------------------------------------------- assessment


def default_as_of_day(platform: Platform) -> int:
    """Yesterday (local): the last whole day of evidence."""
    return int(local_day(platform.clock_ms())) - 1


def gather(
    platform: Platform,
    uow,
    enterprise: Mapping[str, Any],
    devices: Sequence[Mapping[str, Any]],
    tenant_id: int | None,
    as_of_day: int,
) -> Assessment:
    """Read the enterprise's indicators (with the source modes behind them), index, devices, alarms and
    business records, then cross-verify and featurise."""
    first = as_of_day - HISTORY_DAYS + 1
    series = _series(uow.indicators.enterprise_days(enterprise["id"], first, as_of_day))
    pack = indicator_packs().get(enterprise["industry"])
    activity = pack.index[0] if pack and pack.index else None
    index_rows = (
        uow.indicators.index(enterprise["industry"], enterprise["region"], activity, first, as_of_day)
        if activity
        else []
    )
    index_median = DailySeries.of([r["day"] for r in index_rows], [r["median"] for r in index_rows])
    facts = _device_facts(platform, uow, devices, as_of_day)
    records = uow.credit.records(
        enterprise["id"], ["statements", "electricity_bills", "wms_movements", *generation_bill_kinds()], tenant_id
    )
    statements = tuple(_statement(r) for r in records if r["kind"] == "statements")
    sources = _source_shares(uow, enterprise, devices, sorted(series), first, as_of_day)
    reported = _reported(enterprise["id"], records)
    checks = tuple(cross_verify(reported, series, pack_checks(), sources=sources)) + tuple(
        _pv_checks(enterprise["id"], records, reported, series, devices, sources)
    )
    evidence = evidence_features(
        EvidenceInputs(as_of_day, activity or "", series.get(activity or "", DailySeries.empty()), index_median, facts)
    )
    features = feature_row(evidence, statement_features(statements), revenue_consistency(checks))
    subjects = tuple(sorted({f"business_import:{r['import_id']}:{enterprise['id']}" for r in records}))
    return Assessment(
        enterprise,
        as_of_day,
        activity,
        series,
        index_rows,
        facts,
        statements,
        checks,
        features,
        _dominant_mode(devices),
        subjects,
        _evidence_days(series, as_of_day),
        _open_alarms(uow, enterprise["id"], tenant_id),
    )


def _source_shares(
    uow,
    enterprise: Mapping[str, Any],
    devices: Sequence[Mapping[str, Any]],
    names: list[str],
    first_day: int,
    last_day: int,
) -> dict[str, SourceShares]:
    """Per indicator, the source modes behind each day's value: the devices' own values for a device-level
    indicator (each mode's share of the day's sum), else the installed devices of the types feeding it."""
    mode_of = {d["id"]: d["source_mode"] for d in devices}
    rows = uow.indicators.enterprise_device_values(enterprise["id"], first_day, last_day, names) if names else []
    by_name: dict[str, list[dict]] = {}
    for row in rows:
        by_name.setdefault(row["indicator"], []).append(row)
    pack = indicator_packs().get(enterprise["industry"])
    out = {}
    for name in names:
        if name in by_name:
            out[name] = _daily_shares(by_name[name], mode_of)
            continue
        types = _feeding_types(pack, name) if pack else set()
        feeding = [d for d in devices if d["device_type"] in types] or devices
        if feeding:
            counts: dict[str, float] = {}
            for d in feeding:
                counts[d["source_mode"]] = counts.get(d["source_mode"], 0.0) + 1.0
            out[name] = SourceShares.constant({m: n / len(feeding) for m, n in counts.items()}, first_day, last_day)
    return out


def _daily_shares(rows: list[dict], mode_of: dict[int, str]) -> SourceShares:
    weights: dict[int, dict[str, float]] = {}
    counts: dict[int, dict[str, float]] = {}
    for r in rows:
        mode = mode_of.get(r["device_id"], "unknown")
        weights.setdefault(r["day"], {})[mode] = weights.get(r["day"], {}).get(mode, 0.0) + abs(float(r["value"]))
        counts.setdefault(r["day"], {})[mode] = counts.get(r["day"], {}).get(mode, 0.0) + 1.0
    days = sorted(weights)
    modes = sorted({m for w in counts.values() for m in w})
    shares: dict[str, list[float]] = {m: [] for m in modes}
    for day in days:
        basis = weights[day] if sum(weights[day].values()) > 0 else counts[day]
        total = sum(basis.values())
        for m in modes:
            shares[m].append(basis.get(m, 0.0) / total)
    return SourceShares.of(days, shares)


def _feeding_types(pack, name: str, seen: frozenset[str] = frozenset()) -> set[str]:
    """The device types whose data an enterprise indicator is computed from."""
    decl = pack.get(name)
    if decl is None or name in seen:
        return set()
    if hasattr(decl, "device_type"):
        return {decl.device_type}
    return set().union(*(_feeding_types(pack, i.split(":", 1)[-1], seen | {name}) for i in decl.inputs))


def _evidence_days(series: dict[str, DailySeries], as_of_day: int) -> int:
    """Days from the first day with any known device-evidenced value to the as-of day (0 when none)."""
    firsts = [int(s.days[np.isfinite(s.values)][0]) for s in series.values() if np.isfinite(s.values).any()]
    return as_of_day - min(firsts) + 1 if firsts else 0


def _open_alarms(uow, enterprise_id: int, tenant_id: int | None) -> dict[str, int]:
    """Open (active or acknowledged) alarms of the enterprise the tenant may see, by type."""
    counts: dict[str, int] = {}
    for alarm in uow.monitoring.list_alarms([enterprise_id], tenant_id, None, None, 10_000):
        if alarm["status"] in OPEN_ALARM_STATES:
            counts[alarm["alarm_type"]] = counts.get(alarm["alarm_type"], 0) + 1
    return counts


def assess(platform: Platform, principal: Principal, enterprise_id: int, as_of_day: int | None = None) -> dict:
    """Features and cross-verification findings of an enterprise (no decision), access-logged."""
    as_of = as_of_day if as_of_day is not None else default_as_of_day(platform)
    with platform.uow() as uow:
        enterprise, devices, consent_id = require_lender(platform, uow, principal, enterprise_id)
        assessment = gather(platform, uow, enterprise, devices, principal.tenant_id, as_of)
        _log(
            platform,
            uow,
            principal,
            enterprise_id,
            "credit.assess",
            consent_id,
            len(assessment.checks),
            f"enterprise:{enterprise_id}",
            {"as_of": day_iso(as_of)},
        )
        uow.commit()
    return assessment_view(assessment)


def assessment_view(a: Assessment) -> dict:
    status = a.verification()
    return {
        "enterprise_id": a.enterprise["id"],
        "as_of": day_iso(a.as_of_day),
        "activity_indicator": a.activity_indicator,
        "features": a.features,
        "source_mode": a.source_mode,
        "cross_verified": status == "verified",
        "verification": status,
        "iot_coverage": evidence_coverage(a.checks),
        "evidence_days": a.evidence_days,
        "open_alarms": a.open_alarms or {},
        "statements_count": len(a.statements),
        "cross_checks": [c.to_dict() for c in a.checks],
    }


def _series(rows: Sequence[EnterpriseDayIndicatorRow]) -> dict[str, DailySeries]:
    grouped: dict[str, list[EnterpriseDayIndicatorRow]] = {}
    for row in rows:
        grouped.setdefault(row["indicator"], []).append(row)
    return {
        name: DailySeries.of(
            [r["day"] for r in part], [r["value"] for r in part], [r["quality"] == "complete" for r in part]
        )
        for name, part in grouped.items()
    }


def _device_facts(platform: Platform, uow, devices: Sequence[Mapping[str, Any]], as_of_day: int) -> DeviceFacts:
    now_ms = platform.clock_ms()
    reporting = sum(1 for d in devices if d["last_seen_ms"] is not None and now_ms - d["last_seen_ms"] <= 7 * DAY_MS)
    modes: dict[str, int] = {}
    for d in devices:
        modes[d["source_mode"]] = modes.get(d["source_mode"], 0) + 1
    to_ms = day_start_ms(as_of_day + 1)
    events = uow.telemetry.events([d["id"] for d in devices], to_ms - 90 * DAY_MS, to_ms, 10_000) if devices else []
    return DeviceFacts(len(devices), reporting, sum(1 for e in events if e["name"] == "tamper"), modes)


def _dominant_mode(devices: Sequence[Mapping[str, Any]]) -> str:
    """The mode most devices use; on a tie the least trusted (the evidence is as weak as its weakest share)."""
    if not devices:
        return SourceMode.ENTERPRISE_SHARED.value
    counts: dict[str, int] = {}
    for d in devices:
        counts[d["source_mode"]] = counts.get(d["source_mode"], 0) + 1
    return max(counts, key=lambda m: (counts[m], -trust_level(m)))


def _number(value: Any) -> float | None:
    return None if value is None else float(Decimal(str(value)))


def _statement(row: dict) -> StatementPeriod:
    d = row["data"]
    return StatementPeriod(
        row["first_day"],
        row["last_day"],
        d["period"],
        _number(d.get("revenue_cny")),
        _number(d.get("net_profit_cny")),
        _number(d.get("total_assets_cny")),
        _number(d.get("total_liabilities_cny")),
    )


def _checked_fields() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The reported figures the packs' checks verify: summed over a statement's period, and read at its end."""
    over_period = tuple(dict.fromkeys(c.reported for c in pack_checks() if c.aggregate == "sum"))
    return over_period, tuple(dict.fromkeys(c.reported for c in pack_checks() if c.aggregate == "last"))


def _reported(enterprise_id: int, records: list[dict]) -> list[ReportedFigure]:
    """Reported figures to check: statement fields by period, bills by month, WMS outbound by month."""
    figures: list[ReportedFigure] = []
    bills: dict[tuple[int, int, str], tuple[float, str]] = {}  # (first day, last day, source) -> (kWh, proof)
    outbound: dict[tuple[str, str], int] = {}  # (month, source) -> units shipped
    over_period, at_end = _checked_fields()
    for r in records:
        ref = (
            f"/api/v1/ledger/entries/{r['ledger_leaf']}/proof"
            if r.get("ledger_leaf") is not None
            else f"/api/v1/enterprises/{enterprise_id}/business-data?kind={r['kind']}"
        )
        if r["kind"] == "statements":
            figures += [
                ReportedFigure(
                    name,
                    r["first_day"],
                    r["last_day"],
                    float(Decimal(r["data"][name])),
                    r["data"]["period"],
                    r["source"],
                    ref,
                )
                for name in over_period
                if r["data"].get(name) is not None
            ]
            figures += [
                ReportedFigure(
                    name,
                    r["last_day"],
                    r["last_day"],
                    float(Decimal(r["data"][name])),
                    f"{r['data']['period']} end",
                    r["source"],
                    ref,
                )
                for name in at_end
                if r["data"].get(name) is not None
            ]
        elif r["kind"] == "electricity_bills":
            key = (r["first_day"], r["last_day"], r["source"])
            bills[key] = (bills.get(key, (0.0, ref))[0] + float(Decimal(r["data"]["kwh"])), ref)
        elif r["kind"] == "wms_movements" and r["data"]["direction"] == "out":
            month = month_label(r["first_day"])
            outbound[(month, r["source"])] = outbound.get((month, r["source"]), 0) + int(r["data"]["quantity"])
    figures += [
        ReportedFigure("electricity_kwh", first, last, kwh, month_label(first), source, ref)
        for (first, last, source), (kwh, ref) in bills.items()
    ]
    figures += [
        _month_figure("wms_out_units", month, units, source, enterprise_id)
        for (month, source), units in outbound.items()
    ]
    return figures


def _pv_checks(
    enterprise_id: int,
    records: list[dict],
    reported: list[ReportedFigure],
    series: dict[str, DailySeries],
    devices: Sequence[Mapping[str, Any]],
    sources: dict[str, SourceShares],
) -> list[CheckResult]:
    """The grid's settlement bills (the kinds the packs name `generation_bills`) and, for a plant without charging
    piles (whose revenue would be in the same statement), declared revenue against the inverters' metered generation
    (risk/pv_sales.py): the generation is the indicator the packs name `generation_indicator`."""
    indicator = next((name for name in generation_indicators() if name in series), None)
    if indicator is None:
        return []
    generation = series[indicator]
    figures = [PvFigure(f, exact) for f, exact in _feed_in_figures(enterprise_id, records)]
    generating = device_types_with("meters_generation")
    inverters = [d.get("attributes") or {} for d in devices if d["device_type"] in generating]
    accuracy = [float(a["energy_accuracy_pct"]) for a in inverters if _attribute_number(a.get("energy_accuracy_pct"))]
    billed = tariff_from_bills(
        [
            (float(Decimal(r["data"]["kwh"])), float(Decimal(r["data"]["amount_cny"])))
            for r in records
            if r["kind"] in generation_bill_kinds() and r["data"].get("amount_cny")
        ]
    )
    declared = [float(a["tariff_cny_per_kwh"]) for a in inverters if _attribute_number(a.get("tariff_cny_per_kwh"))]
    tariff, spread, origin = (
        (billed + ("bills",))
        if billed
        else (sum(declared) / len(declared), 0.0, "declared")
        if declared
        else (None, 0.0, "declared")
    )
    bound = PvBound(
        max(accuracy) if accuracy else INVERTER_ERROR_PCT,
        tariff_cny_per_kwh=tariff,
        tariff_spread=spread,
        tariff_from=origin,
    )
    if "revenue_cny" not in series:  # no charging piles: the statement's revenue is the plant's sales
        figures += [PvFigure(f) for f in reported if f.name == "revenue_cny"]
    return pv_cross_verify(figures, generation, bound, sources.get(indicator), indicator=indicator)


def _attribute_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def _feed_in_figures(enterprise_id: int, records: list[dict]) -> list[tuple[ReportedFigure, bool]]:
    """Billed kWh per billing period and source (the meters of one bill summed); whether the bill dates its readings."""
    bills: dict[tuple, tuple[float, str]] = {}
    for r in records:
        if r["kind"] in generation_bill_kinds():
            key = (r["first_day"], r["last_day"], r["source"], r["data"]["month"], bool(r["data"].get("period_start")))
            ref = (
                f"/api/v1/ledger/entries/{r['ledger_leaf']}/proof"
                if r.get("ledger_leaf") is not None
                else f"/api/v1/enterprises/{enterprise_id}/business-data?kind={r['kind']}"
            )
            bills[key] = (bills.get(key, (0.0, ref))[0] + float(Decimal(r["data"]["kwh"])), ref)
    return [
        (ReportedFigure("feed_in_kwh", first, last, kwh, month, source, ref), exact)
        for (first, last, source, month, exact), (kwh, ref) in bills.items()
    ]


def _month_figure(name: str, month: str, value: float, source: str, enterprise_id: int) -> ReportedFigure:
    first, last = month_span(month)
    return ReportedFigure(
        name,
        first,
        last,
        float(value),
        month,
        source,
        f"/api/v1/enterprises/{enterprise_id}/business-data?kind=wms_movements",
    )


def _reported_annual_revenue(statements: tuple[StatementPeriod, ...]) -> float | None:
    recent = sorted(statements, key=lambda s: s.last_day)[-4:]
    known = [s for s in recent if s.revenue_cny is not None]
    if not known:
        return None
    days = sum(s.last_day - s.first_day + 1 for s in known)
    return sum(s.revenue_cny or 0.0 for s in known) * 365.0 / days


# ---------------------------------------------------------------- loan outcomes as feature rows


def outcome_rows(platform: Platform, tenant: int | None) -> tuple[list[dict], list[int], list[int]]:
    """The tenant's imported loan outcomes as feature rows (as of each outcome's date), flags, and days."""
    rows, flags, days = [], [], []
    with platform.uow() as uow:
        for outcome in uow.credit.loan_outcomes(tenant):
            enterprise_id = outcome["enterprise_id"]  # a loan outcome names its borrower
            enterprise = uow.enterprises.get(enterprise_id) if enterprise_id is not None else None
            if enterprise is None:
                raise NotFound(f"enterprise {enterprise_id} does not exist")
            as_of = outcome["first_day"] if outcome["first_day"] else default_as_of_day(platform)
            rows.append(gather(platform, uow, enterprise, uow.devices.list(enterprise["id"]), tenant, as_of).features)
            data = outcome["data"]
            flags.append(int(bool(data["defaulted"]) or int(default_flags([data["days_past_due"]])[0])))
            days.append(as_of)
    return rows, flags, days
