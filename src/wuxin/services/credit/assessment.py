"""Credit as use cases: assess an enterprise on its evidence, train and register scorecards, decide and
persist, and build the credit report.

Only the lending tenant's credit officers and risk managers act, and only under a valid consent that
covers every device of the enterprise (the features stand on all of them); every decision and report
is written to the audit log and the access log, and every decision to the evidence ledger with the
model version and the inputs it scored.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from wuxin.bootstrap import Platform
from wuxin.domain.model import BANK_ROLES, Role, SourceMode, trust_level
from wuxin.errors import Denied, InvalidInput, NotFound
from wuxin.indicators.days import DAY_MS, day_iso, day_start_ms, local_day
from wuxin.indicators.declare import indicator_packs
from wuxin.risk.business import month_label, month_span
from wuxin.risk.crossverify import (
    REVENUE_CHECKS,
    CheckResult,
    ReportedFigure,
    SourceShares,
    cross_verify,
    enterprise_shared_only,
    evidence_coverage,
    evidenced_annual_revenue,
    revenue_consistency,
    verification,
)
from wuxin.risk.decisions import LimitEvidence, decide
from wuxin.risk.pv_sales import INVERTER_ERROR_PCT, PvBound, PvFigure, pv_cross_verify, tariff_from_bills
from wuxin.risk.features import (
    EXPLANATIONS,
    EXTRA_FEATURE_LABELS_EN,
    IOT_FEATURES,
    STATEMENT_FEATURES,
    DailySeries,
    DeviceFacts,
    EvidenceInputs,
    StatementPeriod,
    evidence_features,
    feature_row,
    statement_features,
)
from wuxin.risk.messages import finding_texts, reason_texts
from wuxin.risk.money import Money
from wuxin.risk.policy import PolicyFacts
from wuxin.risk.products import Product, get_product
from wuxin.risk.scorecard import Scorecard, ScorecardConfig, default_flags, model_from_dict, model_to_dict, predict_pd, train_scorecard
from wuxin.risk.validation import auc, ks
from wuxin.security.policy import Principal, enterprise_not_found, readable_device_keys, require_role
from wuxin.risk.governance import IV_MIN
from wuxin.services.evidence.record import record_evidence
from wuxin.services.credit.governance import active_model, is_simulated, model_label, record_draft, usable_model
from wuxin.services.devices.registry import consent_views

HISTORY_DAYS = 460  # covers the four whole quarters before the current one (up to 92 + 365 days back)
TRAIN_ROLES = (Role.RISK_MANAGER,)
PV_INVERTER = "energy.pv_inverter"
REPORTED_FIELDS = ("revenue_cny", "vehicle_km", "milk_sales_kg")  # statement fields cross-verified over the period


OPEN_ALARM_STATES = ("active", "acknowledged")


@dataclass(frozen=True)
class Assessment:
    """What the platform knows of one enterprise as of a day: series, checks, features and the facts the
    product policy reads (evidence span, open alarms, devices)."""

    enterprise: dict
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
            return [c for c in self.checks if c.check in REVENUE_CHECKS]
        return list(self.checks)

    def verification(self, product: Product | None = None) -> str:
        """Failed when any reported figure fails; else how far the product's own checks are verified."""
        overall = verification(self.checks)
        return "failed" if overall == "failed" else verification(self.relevant_checks(product))

    def limit_evidence(self, product: Product, pledged: Money | None = None,
                       pledge_lines: tuple[tuple[str, str], ...] = ()) -> LimitEvidence:
        evidenced = evidenced_annual_revenue(self.checks)
        reported = _reported_annual_revenue(self.statements)
        return LimitEvidence(self.verification(product), _money(reported), _money(evidenced), pledged, pledge_lines)

    def policy_facts(self, product: Product) -> PolicyFacts:
        relevant = self.relevant_checks(product)
        shared_only = enterprise_shared_only(relevant)
        if shared_only is None:  # nothing decided: judge by the devices installed
            modes = self.devices.by_source_mode
            shared_only = sum(modes.values()) > 0 and set(m for m, n in modes.items() if n) <= {SourceMode.ENTERPRISE_SHARED.value}
        return PolicyFacts(self.verification(product), self.evidence_days, evidence_coverage(relevant), 0, 0,
                           dict(self.open_alarms or {}), self.devices.installed,
                           self.devices.installed - self.devices.reporting_last_7d, bool(shared_only))


def _money(value: float | None) -> Money | None:
    return None if value is None else Money(Decimal(f"{max(value, 0.0):.2f}"))


class DatabaseModelRegistry:
    """The `ModelRegistry` protocol on the credit_models table, in the caller's unit of work."""

    def __init__(self, uow, tenant_id: int | None = None, trained_by: int | None = None, now_ms: int = 0):
        self._uow, self._tenant, self._by, self._now = uow, tenant_id, trained_by, now_ms

    def save(self, model: Scorecard, metrics: dict | None = None, training: dict | None = None) -> str:
        body = model_to_dict(model)
        self._uow.credit.save_model(version=body["version"], name=model.name, body=body, tenant_id=self._tenant,
                                    trained_ms=self._now, trained_by=self._by, metrics=metrics or {}, training=training or {})
        return str(body["version"])

    def load(self, version: str) -> Scorecard:
        row = self._uow.credit.model(version)
        if row is None or (row["tenant_id"] not in (None, self._tenant)):
            raise NotFound(f"scorecard version {version!r} is not in the registry of tenant {self._tenant}")
        return model_from_dict(row["body"])

    def versions(self) -> list[str]:
        return [r["version"] for r in self._uow.credit.models(self._tenant)]

    def active(self) -> Scorecard:
        """The tenant's active approved model (model governance: `wuxin.services.credit.governance`)."""
        from wuxin.services.credit.governance import active_model

        return active_model(self._uow, self._tenant)[0]


# ---------------------------------------------------------------- access


def require_lender(platform: Platform, uow, principal: Principal, enterprise_id: int) -> tuple[dict, list[dict], int]:
    """A bank's credit officer or risk manager whose valid consent covers every device; returns the consent id."""
    require_role(principal, *BANK_ROLES)
    enterprise = uow.enterprises.get(enterprise_id)
    if enterprise is None:
        raise enterprise_not_found(enterprise_id)
    devices = uow.devices.list(enterprise_id)
    consents = consent_views(uow.consents.for_enterprise(enterprise_id))
    readable, consent_id = readable_device_keys(principal, enterprise_id, [(d["key"], d["device_type"]) for d in devices],
                                                consents, platform.clock_ms())
    hidden = [d["key"] for d in devices if d["key"] not in readable]
    if hidden:
        raise Denied(f"credit on enterprise {enterprise_id} stands on {len(hidden)} device(s) your consent does not cover")
    return enterprise, devices, consent_id


def readable_decision(platform: Platform, uow, principal: Principal, decision_id: int) -> dict:
    """A decision, for its own bank's credit officers and risk managers while they may lend on the enterprise
    (the rule of GET .../credit/decisions); another bank's decision does not exist for them."""
    require_role(principal, *BANK_ROLES)
    row = uow.credit.decision(decision_id)
    if row is None or row["tenant_id"] != principal.tenant_id:
        raise NotFound(f"credit decision {decision_id} does not exist")
    require_lender(platform, uow, principal, row["enterprise_id"])
    return row


def _log(platform: Platform, uow, principal: Principal, enterprise_id: int, action: str, consent_id: int | None,
         rows: int, subject: str, detail: dict) -> None:
    now_ms = platform.clock_ms()
    uow.logs.access(at_ms=now_ms, user_id=principal.user_id, tenant_id=principal.tenant_id, enterprise_id=enterprise_id,
                    device_id=None, action=action, consent_id=consent_id, rows=rows)
    uow.logs.audit(now_ms, principal.user_id, action, subject, detail)


# ---------------------------------------------------------------- assessment


def default_as_of_day(platform: Platform) -> int:
    """Yesterday (local): the last whole day of evidence."""
    return int(local_day(platform.clock_ms())) - 1


def gather(platform: Platform, uow, enterprise: dict, devices: list[dict], tenant_id: int | None, as_of_day: int) -> Assessment:
    """Read the enterprise's indicators (with the source modes behind them), index, devices, alarms and
    business records, then cross-verify and featurise."""
    first = as_of_day - HISTORY_DAYS + 1
    series = _series(uow.indicators.enterprise_days(enterprise["id"], first, as_of_day))
    pack = indicator_packs().get(enterprise["industry"])
    activity = pack.index[0] if pack and pack.index else None
    index_rows = uow.indicators.index(enterprise["industry"], enterprise["region"], activity, first, as_of_day) if activity else []
    index_median = DailySeries.of([r["day"] for r in index_rows], [r["median"] for r in index_rows])
    facts = _device_facts(platform, uow, devices, as_of_day)
    records = uow.credit.records(enterprise["id"], ["statements", "electricity_bills", "wms_movements", "feed_in_bills"],
                                 tenant_id)
    statements = tuple(_statement(r) for r in records if r["kind"] == "statements")
    sources = _source_shares(uow, enterprise, devices, sorted(series), first, as_of_day)
    reported = _reported(enterprise["id"], records)
    checks = tuple(cross_verify(reported, series, sources=sources)) + tuple(
        _pv_checks(enterprise["id"], records, reported, series, devices, sources))
    evidence = evidence_features(EvidenceInputs(as_of_day, activity or "", series.get(activity or "", DailySeries.empty()),
                                                index_median, facts))
    features = feature_row(evidence, statement_features(statements), revenue_consistency(checks))
    subjects = tuple(sorted({f"business_import:{r['import_id']}:{enterprise['id']}" for r in records}))
    return Assessment(enterprise, as_of_day, activity, series, index_rows, facts, statements, checks, features,
                      _dominant_mode(devices), subjects, _evidence_days(series, as_of_day),
                      _open_alarms(uow, enterprise["id"], tenant_id))


def _source_shares(uow, enterprise: dict, devices: list[dict], names: list[str], first_day: int,
                   last_day: int) -> dict[str, SourceShares]:
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
        _log(platform, uow, principal, enterprise_id, "credit.assess", consent_id, len(assessment.checks),
             f"enterprise:{enterprise_id}", {"as_of": day_iso(as_of)})
        uow.commit()
    return assessment_view(assessment)


def assessment_view(a: Assessment) -> dict:
    status = a.verification()
    return {"enterprise_id": a.enterprise["id"], "as_of": day_iso(a.as_of_day), "activity_indicator": a.activity_indicator,
            "features": a.features, "source_mode": a.source_mode, "cross_verified": status == "verified",
            "verification": status, "iot_coverage": evidence_coverage(a.checks), "evidence_days": a.evidence_days,
            "open_alarms": a.open_alarms or {}, "statements_count": len(a.statements),
            "cross_checks": [c.to_dict() for c in a.checks]}


def _series(rows: list[dict]) -> dict[str, DailySeries]:
    grouped: dict[str, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row["indicator"], []).append(row)
    return {name: DailySeries.of([r["day"] for r in part], [r["value"] for r in part],
                                 [r["quality"] == "complete" for r in part]) for name, part in grouped.items()}


def _device_facts(platform: Platform, uow, devices: list[dict], as_of_day: int) -> DeviceFacts:
    now_ms = platform.clock_ms()
    reporting = sum(1 for d in devices if d["last_seen_ms"] is not None and now_ms - d["last_seen_ms"] <= 7 * DAY_MS)
    modes: dict[str, int] = {}
    for d in devices:
        modes[d["source_mode"]] = modes.get(d["source_mode"], 0) + 1
    to_ms = day_start_ms(as_of_day + 1)
    events = uow.telemetry.events([d["id"] for d in devices], to_ms - 90 * DAY_MS, to_ms, 10_000) if devices else []
    return DeviceFacts(len(devices), reporting, sum(1 for e in events if e["name"] == "tamper"), modes)


def _dominant_mode(devices: list[dict]) -> str:
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
    return StatementPeriod(row["first_day"], row["last_day"], d["period"], _number(d.get("revenue_cny")),
                           _number(d.get("net_profit_cny")), _number(d.get("total_assets_cny")),
                           _number(d.get("total_liabilities_cny")))


def _reported(enterprise_id: int, records: list[dict]) -> list[ReportedFigure]:
    """Reported figures to check: statement fields by period, bills by month, WMS outbound by month."""
    figures, bills, outbound = [], {}, {}
    for r in records:
        ref = f"/api/v1/ledger/entries/{r['ledger_leaf']}/proof" if r.get("ledger_leaf") is not None else \
            f"/api/v1/enterprises/{enterprise_id}/business-data?kind={r['kind']}"
        if r["kind"] == "statements":
            figures += [ReportedFigure(name, r["first_day"], r["last_day"], float(Decimal(r["data"][name])), r["data"]["period"],
                                       r["source"], ref) for name in REPORTED_FIELDS if r["data"].get(name) is not None]
            if r["data"].get("stock_units") is not None:
                figures.append(ReportedFigure("stock_units", r["last_day"], r["last_day"], float(Decimal(r["data"]["stock_units"])),
                                              f"{r['data']['period']} end", r["source"], ref))
        elif r["kind"] == "electricity_bills":
            key = (r["first_day"], r["last_day"], r["source"])
            bills[key] = (bills.get(key, (0.0, ref))[0] + float(Decimal(r["data"]["kwh"])), ref)
        elif r["kind"] == "wms_movements" and r["data"]["direction"] == "out":
            month = month_label(r["first_day"])
            outbound[(month, r["source"])] = outbound.get((month, r["source"]), 0) + int(r["data"]["quantity"])
    figures += [ReportedFigure("electricity_kwh", first, last, kwh, month_label(first), source, ref)
                for (first, last, source), (kwh, ref) in bills.items()]
    figures += [_month_figure("wms_out_units", month, units, source, enterprise_id) for (month, source), units in outbound.items()]
    return figures


def _pv_checks(enterprise_id: int, records: list[dict], reported: list[ReportedFigure], series: dict[str, DailySeries],
               devices: list[dict], sources: dict[str, SourceShares]) -> list[CheckResult]:
    """Feed-in bills and, for a plant without charging piles (whose revenue would be in the same statement), declared
    revenue against the inverters' metered generation (risk/pv_sales.py)."""
    generation = series.get("generation_kwh")
    if generation is None:
        return []
    figures = [PvFigure(f, exact) for f, exact in _feed_in_figures(enterprise_id, records)]
    inverters = [d.get("attributes") or {} for d in devices if d["device_type"] == PV_INVERTER]
    accuracy = [float(a["energy_accuracy_pct"]) for a in inverters if _attribute_number(a.get("energy_accuracy_pct"))]
    billed = tariff_from_bills([(float(Decimal(r["data"]["kwh"])), float(Decimal(r["data"]["amount_cny"])))
                                for r in records if r["kind"] == "feed_in_bills" and r["data"].get("amount_cny")])
    declared = [float(a["tariff_cny_per_kwh"]) for a in inverters if _attribute_number(a.get("tariff_cny_per_kwh"))]
    tariff, spread, origin = (billed + ("bills",)) if billed else \
        (sum(declared) / len(declared), 0.0, "declared") if declared else (None, 0.0, "declared")
    bound = PvBound(max(accuracy) if accuracy else INVERTER_ERROR_PCT, tariff_cny_per_kwh=tariff, tariff_spread=spread,
                    tariff_from=origin)
    if "revenue_cny" not in series:  # no charging piles: the statement's revenue is the plant's sales
        figures += [PvFigure(f) for f in reported if f.name == "revenue_cny"]
    return pv_cross_verify(figures, generation, bound, sources.get("generation_kwh"))


def _attribute_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def _feed_in_figures(enterprise_id: int, records: list[dict]) -> list[tuple[ReportedFigure, bool]]:
    """Feed-in kWh per billing period and source (the meters of one bill summed); whether the bill dates its readings."""
    bills: dict[tuple, tuple[float, str]] = {}
    for r in records:
        if r["kind"] == "feed_in_bills":
            key = (r["first_day"], r["last_day"], r["source"], r["data"]["month"], bool(r["data"].get("period_start")))
            ref = f"/api/v1/ledger/entries/{r['ledger_leaf']}/proof" if r.get("ledger_leaf") is not None else \
                f"/api/v1/enterprises/{enterprise_id}/business-data?kind=feed_in_bills"
            bills[key] = (bills.get(key, (0.0, ref))[0] + float(Decimal(r["data"]["kwh"])), ref)
    return [(ReportedFigure("feed_in_kwh", first, last, kwh, month, source, ref), exact)
            for (first, last, source, month, exact), (kwh, ref) in bills.items()]


def _month_figure(name: str, month: str, value: float, source: str, enterprise_id: int) -> ReportedFigure:
    first, last = month_span(month)
    return ReportedFigure(name, first, last, float(value), month, source,
                          f"/api/v1/enterprises/{enterprise_id}/business-data?kind=wms_movements")


def _reported_annual_revenue(statements: tuple[StatementPeriod, ...]) -> float | None:
    recent = sorted(statements, key=lambda s: s.last_day)[-4:]
    known = [s for s in recent if s.revenue_cny is not None]
    if not known:
        return None
    days = sum(s.last_day - s.first_day + 1 for s in known)
    return sum(s.revenue_cny for s in known) * 365.0 / days


# ---------------------------------------------------------------- models


def train_model(platform: Platform, principal: Principal | None, simulated: int | None = None, seed: int = 2024,
                name: str | None = None) -> dict:
    """Train a scorecard on the tenant's loan outcomes (features as of each outcome's date), or on a
    simulated book of `simulated` enterprises measured on a second, held-out book; register it."""
    if principal is not None:
        require_role(principal, *TRAIN_ROLES)
    tenant = principal.tenant_id if principal else None
    config = ScorecardConfig(IOT_FEATURES + STATEMENT_FEATURES, name=name or ("iot-evidence-simulated" if simulated else "iot-evidence"),
                             seed=seed, min_bin_share=0.05, min_iv=IV_MIN)
    if simulated:
        model, metrics, training = _train_simulated(config, simulated, seed, default_as_of_day(platform))
    else:
        model, metrics, training = _train_on_outcomes(platform, config, tenant)
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        version = DatabaseModelRegistry(uow, tenant, principal.user_id if principal else None, now_ms).save(model, metrics, training)
        record_draft(uow, tenant, version, now_ms)
        uow.logs.audit(now_ms, principal.user_id if principal else None, "credit.train", f"credit_model:{version}",
                       {"name": model.name, "metrics": metrics, "training": training})
        uow.commit()
    return {"version": version, "name": model.name, "tenant_id": tenant, "metrics": metrics,
            "training": {k: v for k, v in training.items() if k != "reference_rows"}, "state": "draft",
            "simulated": bool(simulated), "label": model_label(bool(simulated)), "features": [f.name for f in model.features]}


def _train_simulated(config: ScorecardConfig, enterprises: int, seed: int, as_of_day: int) -> tuple[Scorecard, dict, dict]:
    from wuxin.sim.finance import borrower_row, simulate_book

    books = [simulate_book(enterprises, seed + k, as_of_day) for k in (0, 1)]
    rows = [[borrower_row(b)[0] for b in book] for book in books]
    flags = [np.array([b.defaulted for b in book], dtype=int) for book in books]
    model = train_scorecard(pd.DataFrame(rows[0]), flags[0], config)
    held_out = predict_pd(model, pd.DataFrame(rows[1]))
    metrics = {"held_out_auc": auc(flags[1], held_out), "held_out_ks": ks(flags[1], held_out),
               "held_out_rows": enterprises, "held_out_defaults": int(flags[1].sum())}
    return model, metrics, {"source": "simulated", "enterprises": enterprises, "seed": seed, "as_of": day_iso(as_of_day)}


def outcome_rows(platform: Platform, tenant: int | None) -> tuple[list[dict], list[int], list[int]]:
    """The tenant's imported loan outcomes as feature rows (as of each outcome's date), flags, and days."""
    rows, flags, days = [], [], []
    with platform.uow() as uow:
        for outcome in uow.credit.loan_outcomes(tenant):
            enterprise = uow.enterprises.get(outcome["enterprise_id"])
            as_of = outcome["first_day"] if outcome["first_day"] else default_as_of_day(platform)
            rows.append(gather(platform, uow, enterprise, uow.devices.list(enterprise["id"]), tenant, as_of).features)
            data = outcome["data"]
            flags.append(int(bool(data["defaulted"]) or int(default_flags([data["days_past_due"]])[0])))
            days.append(as_of)
    return rows, flags, days


def _train_on_outcomes(platform: Platform, config: ScorecardConfig, tenant: int | None) -> tuple[Scorecard, dict, dict]:
    rows, flags, _ = outcome_rows(platform, tenant)
    if len(rows) < 20 or len(set(flags)) < 2:
        raise InvalidInput(f"training needs at least 20 loan outcomes with both defaults and repayments, "
                           f"got {len(rows)} with {sum(flags)} defaults: import loan_outcomes, or train --simulated")
    model = train_scorecard(pd.DataFrame(rows), np.array(flags), config)
    in_sample = predict_pd(model, pd.DataFrame(rows))
    metrics = {"in_sample_auc": auc(flags, in_sample), "in_sample_ks": ks(flags, in_sample), "rows": len(rows),
               "defaults": int(sum(flags))}
    return model, metrics, {"source": "loan_outcomes", "tenant_id": tenant, "rows": len(rows),
                            "reference_rows": _jsonable(rows[:5000])}  # the daily stability reference


def list_models(platform: Platform, principal: Principal) -> list[dict]:
    """The tenant's and the platform's models with their lifecycle (model governance)."""
    from wuxin.services.credit.governance import list_models as governed

    return governed(platform, principal)


# ---------------------------------------------------------------- decisions


def pledge_registry_value(uow, tenant_id: int | None, enterprise_id: int, at_ms: int,
                          declared_cny: Decimal | None = None) -> tuple[Money, tuple[tuple[str, str], ...]]:
    """The lots the enterprise has in the pledge registry under the tenant's open loans, each valued as
    quantity (monitored where a reader counts it) x price index x (1 - lot haircut); unpriced lots are
    left out and said. A declared value can only lower the total. Returns the value and (zh, en) lines."""
    from wuxin.loans.pledge import item_value_cny
    from wuxin.services.credit.pledges import CLOSED, holdings

    total, lines = Decimal(0), []
    for loan in uow.monitoring.loans(tenant_id, enterprise_id):
        if loan["state"] in CLOSED:
            continue
        for h in holdings(uow, loan, at_ms, tenant_id):
            value = item_value_cny(h)
            if value is None:
                lines.append((f"质押物 {h.identity}（{h.sku}）无价格指数：不计入", f"lot {h.identity} ({h.sku}) has no price index: left out"))
                continue
            total += value
            words = f"{h.quantity.normalize():f} x CNY {h.unit_price_cny} x (1 - {h.haircut}) = {Money(value)}"
            lines.append((f"质押物 {h.identity}（{h.sku}，贷款 #{loan['id']}）：{words}",
                          f"lot {h.identity} ({h.sku}, loan #{loan['id']}): {words}"))
    if not lines:
        lines.append(("押品登记簿中没有该企业的质押物", "the pledge registry holds no lot of this enterprise"))
    registry = Money(total)
    if declared_cny is not None and Money(declared_cny).amount < registry.amount:
        lines.append((f"申报押品价值 {Money(declared_cny)} 低于登记簿价值 {registry}：取申报值",
                      f"declared pledge value {Money(declared_cny)} is below the registry's {registry}: the declared value counts"))
        return Money(declared_cny).cents(), tuple(lines)
    if declared_cny is not None and Money(declared_cny).amount > registry.amount:
        lines.append((f"申报押品价值 {Money(declared_cny)} 高于登记簿价值 {registry}：以登记簿为准",
                      f"declared pledge value {Money(declared_cny)} exceeds the registry's {registry}: the registry counts"))
    return registry, tuple(lines)


def decide_credit(platform: Platform, principal: Principal, enterprise_id: int, product_code: str,
                  pledged_value_cny: Decimal | None = None, model_version: str | None = None,
                  as_of_day: int | None = None) -> dict:
    """Score the enterprise with the active (or named) model, decide for the product under its policy, persist,
    prove, log. A collateral product lends on the lots in the pledge registry (`pledged_value_cny`, when
    given, can only lower that value: a declared value is not evidence)."""
    product = get_product(product_code)
    as_of = as_of_day if as_of_day is not None else default_as_of_day(platform)
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        enterprise, devices, consent_id = require_lender(platform, uow, principal, enterprise_id)
        model, model_row = usable_model(uow, principal.tenant_id, model_version) if model_version \
            else active_model(uow, principal.tenant_id)  # only the tenant's active approved model decides
        a = gather(platform, uow, enterprise, devices, principal.tenant_id, as_of)
        pledged, lines = pledge_registry_value(uow, principal.tenant_id, enterprise_id, now_ms, pledged_value_cny) \
            if product.basis == "collateral" else (None, ())
        decision = decide(model, product, a.features, a.limit_evidence(product, pledged, lines), a.policy_facts(product),
                          EXPLANATIONS)
        record = decision.to_dict() | {"model": {"version": model.version, "name": model.name,
                                                 "simulated": is_simulated(model_row), "label": model_label(is_simulated(model_row))}}
        row = dict(enterprise_id=enterprise_id, tenant_id=principal.tenant_id, user_id=principal.user_id,
                   product_code=product.code, model_version=model.version, as_of_day=as_of, features=_jsonable(a.features),
                   cross_checks=[c.to_dict() for c in a.checks], decision=_jsonable(record), score=decision.score,
                   pd=decision.pd, grade=decision.grade, approved=decision.approved,
                   limit_cny=record["limit"]["limit"] if record["limit"] else None,
                   expected_loss_cny=record["expected_loss"], decided_ms=now_ms)
        decision_id = uow.credit.add_decision(**row)
        leaf = record_evidence(uow, "credit_decision", f"credit_decision:{decision_id}", owner_tenant_id=principal.tenant_id, data={
            "enterprise_id": enterprise_id, "at_ms": now_ms, "tenant_id": principal.tenant_id, "product": product.code,
            "model_version": model.version, "score": round(decision.score, 4), "pd": decision.pd, "grade": decision.grade,
            "approved": decision.approved, "outcome": decision.outcome, "limit_cny": row["limit_cny"],
            "expected_loss_cny": row["expected_loss_cny"], "features_sha256": _digest(row["features"]), "inputs": list(a.record_subjects)})
        uow.credit.set_decision_leaf(decision_id, leaf)
        _log(platform, uow, principal, enterprise_id, "credit.decide", consent_id, 1, f"credit_decision:{decision_id}",
             {"product": product.code, "model_version": model.version, "grade": decision.grade, "approved": decision.approved,
              "outcome": decision.outcome})
        uow.commit()
        stored = uow.credit.decision(decision_id)
    return decision_view(stored)


def decision_view(row: dict) -> dict:
    eid = row["enterprise_id"]
    outcome = row["decision"].get("outcome") or ("approve" if row["approved"] else "decline")  # older records
    return {"id": row["id"], "enterprise_id": eid, "product_code": row["product_code"], "model_version": row["model_version"],
            "model_label": (row["decision"].get("model") or {}).get("label"),  # "simulated — demo only" when so
            "as_of": day_iso(row["as_of_day"]), "score": row["score"], "pd": row["pd"], "grade": row["grade"],
            "approved": row["approved"], "outcome": outcome, "limit_cny": row["limit_cny"], "expected_loss_cny": row["expected_loss_cny"],
            "decision": _said_in_both(row["decision"]), "features": row["features"],
            "cross_checks": [_check_in_both(c) for c in row["cross_checks"] or []], "decided_ms": row["decided_ms"],
            "links": {"ledger_proof": f"/api/v1/ledger/entries/{row['ledger_leaf']}/proof" if row["ledger_leaf"] is not None else None,
                      "evidence_bundle": f"/api/v1/ledger/evidence?subject=credit_decision:{row['id']}",
                      "report": f"/api/v1/enterprises/{eid}/credit/report"}}


def _said_in_both(decision: dict) -> dict:
    """The decision with each reason said in zh-CN and English (text_zh, text_en) from the features' words."""
    return {**decision, "reasons": [{**r, **reason_texts(r)} for r in decision.get("reasons") or []]}


def _check_in_both(check: dict) -> dict:
    """A stored check result with its finding in both languages; a record from before the finding codes keeps its English."""
    if check.get("finding_code") and not check.get("finding_zh"):
        return {**check, **finding_texts(check["finding_code"], check.get("finding_params") or {})}
    return check


def decisions(platform: Platform, principal: Principal, enterprise_id: int) -> list[dict]:
    with platform.uow() as uow:
        _, _, consent_id = require_lender(platform, uow, principal, enterprise_id)
        rows = uow.credit.decisions(enterprise_id, principal.tenant_id)
        uow.logs.access(at_ms=platform.clock_ms(), user_id=principal.user_id, tenant_id=principal.tenant_id,
                        enterprise_id=enterprise_id, device_id=None, action="credit.decisions", consent_id=consent_id,
                        rows=len(rows))
        uow.commit()
    return [decision_view(r) for r in rows]


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=_plain))


def _plain(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return str(value)


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# ---------------------------------------------------------------- the credit report


def credit_report(platform: Platform, principal: Principal, enterprise_id: int, as_of_day: int | None = None,
                  output: str = "json") -> dict:
    """Everything the report shows, every figure with the API URL of the data behind it; audited and access-logged."""
    as_of = as_of_day if as_of_day is not None else default_as_of_day(platform)
    with platform.uow() as uow:
        enterprise, devices, consent_id = require_lender(platform, uow, principal, enterprise_id)
        a = gather(platform, uow, enterprise, devices, principal.tenant_id, as_of)
        latest = next(iter(uow.credit.decisions(enterprise_id, principal.tenant_id, limit=1)), None)
        _log(platform, uow, principal, enterprise_id, "credit.report", consent_id, len(a.series) + len(a.checks),
             f"credit_report:{enterprise_id}", {"as_of": day_iso(as_of), "output": output,
                                                 "decision_id": latest["id"] if latest else None})
        uow.commit()
    return report_data(a, latest and decision_view(latest), principal.username, platform.clock_ms())


def report_data(a: Assessment, decision: dict | None, generated_by: str, generated_ms: int) -> dict:
    """The report as plain data (the HTML and PDF renderers read only this)."""
    e = a.enterprise
    base = f"/api/v1/enterprises/{e['id']}"
    first = a.as_of_day - 179
    window = f"from={day_iso(first)}&to={day_iso(a.as_of_day)}"
    labels = _labels(e["industry"])
    return {
        "enterprise": {k: e[k] for k in ("id", "name", "uscc", "industry", "region")},
        "as_of": day_iso(a.as_of_day), "generated_by": generated_by, "generated_ms": generated_ms,
        "activity": _activity_chart(a, labels, base, window),
        "indicators": [_indicator_row(name, s, a.as_of_day, labels, base) for name, s in sorted(a.series.items())],
        "peer": _peer(a, labels, base),
        "devices": {"installed": a.devices.installed, "reporting_last_7d": a.devices.reporting_last_7d,
                    "tamper_events_90d": a.devices.tamper_events_90d, "by_source_mode": dict(a.devices.by_source_mode),
                    "source_mode": a.source_mode, "link": f"{base}/devices"},
        "cross_checks": [_check_view(c, base) for c in a.checks],
        "cross_verified": a.verification() == "verified", "verification": a.verification(),
        "iot_coverage": evidence_coverage(a.checks), "evidence_days": a.evidence_days, "open_alarms": a.open_alarms or {},
        "features": [{"name": k, "label": EXPLANATIONS_LABELS.get(k, k.replace("_", " ")), "value": v}
                     for k, v in a.features.items()],
        "statements": [{"period": s.label, "revenue_cny": s.revenue_cny, "net_profit_cny": s.net_profit_cny,
                        "total_assets_cny": s.total_assets_cny, "total_liabilities_cny": s.total_liabilities_cny}
                       for s in sorted(a.statements, key=lambda s: s.last_day)],
        "statements_link": f"{base}/business-data?kind=statements",
        "decision": decision,
    }


EXPLANATIONS_LABELS = {f.name: f.label for f in IOT_FEATURES + STATEMENT_FEATURES} | EXTRA_FEATURE_LABELS_EN


def _labels(scenario: str) -> dict[str, tuple[str, str]]:
    pack = indicator_packs().get(scenario)
    return {d.name: (d.label.get("zh", d.name) + " " + d.label.get("en", ""), d.unit) for d in pack.all()} if pack else {}


def _activity_chart(a: Assessment, labels: dict, base: str, window: str) -> dict | None:
    name = a.activity_indicator
    if not name:
        return None
    first = a.as_of_day - 179
    own = a.series.get(name, DailySeries.empty()).on_days(first, a.as_of_day)
    peers = DailySeries.of([r["day"] for r in a.index_rows], [r["median"] for r in a.index_rows]).on_days(first, a.as_of_day)
    return {"indicator": name, "label": labels.get(name, (name, ""))[0], "unit": labels.get(name, ("", ""))[1],
            "days": [day_iso(d) for d in range(first, a.as_of_day + 1)], "values": _nullable(own), "index_median": _nullable(peers),
            "link": f"{base}/indicators?{window}&name={name}",
            "index_link": f"/api/v1/industry-index?{window}&scenario={a.enterprise['industry']}&indicator={name}"}


def _indicator_row(name: str, series: DailySeries, as_of_day: int, labels: dict, base: str) -> dict:
    recent = series.window(as_of_day - 89, as_of_day)
    known = recent.values[np.isfinite(recent.values)]
    last_day = int(recent.days[np.isfinite(recent.values)][-1]) if len(known) else None
    return {"name": name, "label": labels.get(name, (name, ""))[0], "unit": labels.get(name, ("", ""))[1],
            "mean_90d": float(known.mean()) if len(known) else None, "known_days": int(len(known)),
            "complete_days": int(recent.complete.sum()),
            "link": f"{base}/indicators?from={day_iso(as_of_day - 89)}&to={day_iso(as_of_day)}&name={name}",
            "last_day_link": f"{base}/indicators/{name}/{day_iso(last_day)}" if last_day is not None else None}


def _peer(a: Assessment, labels: dict, base: str) -> dict | None:
    name = a.activity_indicator
    rows = [r for r in a.index_rows if r["day"] > a.as_of_day - 90]
    own = a.series.get(name or "", DailySeries.empty()).window(a.as_of_day - 89, a.as_of_day)
    known = own.values[np.isfinite(own.values)]
    if not name or not rows or not len(known):
        return None
    p25, median, p75 = (float(np.mean([r[k] for r in rows])) for k in ("p25", "median", "p75"))
    mine = float(known.mean())
    standing = ("top quartile" if mine >= p75 else "above the median" if mine >= median
                else "below the median" if mine >= p25 else "bottom quartile")
    last = max(r["day"] for r in rows)
    return {"indicator": name, "label": labels.get(name, (name, ""))[0], "value": mine, "p25": p25, "median": median,
            "p75": p75, "peers": max(r["enterprises"] for r in rows), "standing": standing,
            "link": f"{base}/percentile?indicator={name}&day={day_iso(last)}"}


def _check_view(c: CheckResult, base: str) -> dict:
    return {**c.to_dict(), "evidence_link": f"{base}/indicators?from={day_iso(c.first_day)}&to={day_iso(c.last_day)}&name={c.indicator}",
            "reported_link": c.reference}


def _nullable(values: np.ndarray) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in values]


def principal_for_username(platform: Platform, username: str) -> Principal:
    """The principal a command-line user acts as (`wuxin credit decide --as officer`)."""
    with platform.uow() as uow:
        user = uow.identity.user_by_username(username)
    if user is None or user["disabled"]:
        raise NotFound(f"user {username!r} does not exist or is disabled")
    return Principal(user["id"], user["username"], Role(user["role"]), user["tenant_id"], user["enterprise_id"])


def enterprise_id_of(platform: Platform, ref: str) -> int:
    """An enterprise by id or USCC."""
    with platform.uow() as uow:
        row = uow.enterprises.get(int(ref)) if ref.isdigit() else uow.enterprises.by_uscc(ref)
    if row is None:
        raise NotFound(f"no enterprise with id or USCC {ref!r}")
    return row["id"]


# ---------------------------------------------------------------- the demo


def load_demo_credit(platform: Platform, fleet: list, enterprise_ids: list[int], officer_username: str, seed: int,
                     books: dict[str, list[dict]] | None = None) -> str:
    """Demo: a scorecard trained on a simulated book, statements for every borrower (`books`, by USCC, where
    the borrower's books are given; else honest or inflated against what its devices measured, nominal where
    no revenue indicator exists yet), one decision each."""
    from wuxin.services.credit.business_data import import_rows
    from wuxin.risk.products import load_products
    from wuxin.sim.finance import quarters_until, statements_from_evidence

    trained = train_model(platform, None, simulated=400, seed=seed, name="demo-iot-evidence")
    officer = principal_for_username(platform, officer_username)
    _adopt_demo_model(platform, officer.tenant_id, trained["version"])
    as_of = default_as_of_day(platform)
    products = {p.scenario: p for p in load_products().values()}
    rows = []
    with platform.uow() as uow:
        for spec, eid in zip(fleet, enterprise_ids):
            if spec.uscc in (books or {}):
                rows += books[spec.uscc]
                continue
            series = _series(uow.indicators.enterprise_days(eid, as_of - 89, as_of, ["output_value_cny", "revenue_cny"]))
            quarter = _quarter_revenue(series, len(spec.devices))
            rows += statements_from_evidence(spec.uscc, spec.health, [(*q, quarter) for q in quarters_until(as_of, 5)[:-1]], seed)
    import_rows(platform, None, "statements", rows, "enterprise_reported")
    decided = 0
    for spec, eid in zip(fleet, enterprise_ids):
        product = products.get(spec.industry)
        if product is not None:  # collateral products value what the demo's loans pledged in the registry
            decide_credit(platform, officer, eid, product.code)
            decided += 1
    return f"credit: a scorecard trained on 400 simulated borrowers, statements for {len(fleet)} borrowers, {decided} decisions"


def _adopt_demo_model(platform: Platform, tenant_id: int, version: str) -> None:
    """The demo bank is a demo tenant: two of its risk managers take the simulated model through the lifecycle."""
    from wuxin.services.credit.governance import adopt_for_demo

    with platform.uow() as uow:
        managers = [u for u in uow.identity.list_users(tenant_id) if u["role"] == Role.RISK_MANAGER.value and not u["disabled"]]
    if len(managers) < 2:  # four eyes: one validates, another approves
        raise NotFound(f"demo tenant {tenant_id} has {len(managers)} risk managers, needs 2 to validate and approve its model")
    risk = [principal_for_username(platform, u["username"]) for u in managers[:2]]
    adopt_for_demo(platform, tenant_id, version, risk[0], validator=risk[1])


def _quarter_revenue(series: dict[str, DailySeries], devices: int) -> float:
    for name in ("output_value_cny", "revenue_cny"):
        known = series[name].values[np.isfinite(series[name].values)] if name in series else np.zeros(0)
        if len(known):
            return float(known.mean()) * 91
    return 150_000.0 * devices  # nominal until the indicators are computed
