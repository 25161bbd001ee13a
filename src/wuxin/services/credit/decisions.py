"""Credit decisions as use cases: train and register scorecards, decide and persist, and build the credit report.

Only the lending tenant's credit officers and risk managers act, and only under a valid consent that
covers every device of the enterprise (the assessment checks it); every decision and report is written to
the audit log and the access log, and every decision to the evidence ledger with the model version and
the inputs it scored.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from wuxin.bootstrap import Platform
from wuxin.domain.model import Role
from wuxin.errors import InvalidInput, NotFound
from wuxin.indicators.days import day_iso
from wuxin.loans.pledge import Holding
from wuxin.risk.crossverify import CheckResult, evidence_coverage
from wuxin.risk.decisions import decide
from wuxin.risk.features import EXPLANATIONS, EXTRA_FEATURE_LABELS_EN, IOT_FEATURES, STATEMENT_FEATURES, DailySeries
from wuxin.risk.governance import IV_MIN
from wuxin.risk.messages import finding_texts, reason_texts
from wuxin.risk.money import Money
from wuxin.risk.scorecard import Scorecard, ScorecardConfig, predict_pd, train_scorecard
from wuxin.risk.validation import auc, ks
from wuxin.security.policy import Principal, require_role
from wuxin.services.bootstrap import (
    finance_profiles,
    indicator_packs,
)
from wuxin.services.bootstrap import product as product_of
from wuxin.services.credit.assessment import (
    TRAIN_ROLES,
    Assessment,
    _log,
    default_as_of_day,
    gather,
    outcome_rows,
    require_lender,
    stored_decision,
)
from wuxin.services.credit.governance import (
    DatabaseModelRegistry,
    active_model,
    is_simulated,
    model_label,
    record_draft,
    usable_model,
)
from wuxin.services.evidence.record import record_evidence
from wuxin.store.rows import CreditDecisionRow

# ---------------------------------------------------------------- models


def train_model(
    platform: Platform,
    principal: Principal | None,
    simulated: int | None = None,
    seed: int = 2024,
    name: str | None = None,
) -> dict:
    """Train a scorecard on the tenant's loan outcomes (features as of each outcome's date), or on a
    simulated book of `simulated` enterprises measured on a second, held-out book; register it."""
    if principal is not None:
        require_role(principal, *TRAIN_ROLES)
    tenant = principal.tenant_id if principal else None
    config = ScorecardConfig(
        IOT_FEATURES + STATEMENT_FEATURES,
        name=name or ("iot-evidence-simulated" if simulated else "iot-evidence"),
        seed=seed,
        min_bin_share=0.05,
        min_iv=IV_MIN,
    )
    if simulated:
        model, metrics, training = _train_simulated(config, simulated, seed, default_as_of_day(platform))
    else:
        model, metrics, training = _train_on_outcomes(platform, config, tenant)
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        version = DatabaseModelRegistry(uow, tenant, principal.user_id if principal else None, now_ms).save(
            model, metrics, training
        )
        record_draft(uow, tenant, version, now_ms)
        uow.logs.audit(
            now_ms,
            principal.user_id if principal else None,
            "credit.train",
            f"credit_model:{version}",
            {"name": model.name, "metrics": metrics, "training": training},
        )
        uow.commit()
    return {
        "version": version,
        "name": model.name,
        "tenant_id": tenant,
        "metrics": metrics,
        "training": {k: v for k, v in training.items() if k != "reference_rows"},
        "state": "draft",
        "simulated": bool(simulated),
        "label": model_label(bool(simulated)),
        "features": [f.name for f in model.features],
    }


def _train_simulated(
    config: ScorecardConfig, enterprises: int, seed: int, as_of_day: int
) -> tuple[Scorecard, dict, dict]:
    from wuxin.sim.finance import borrower_row, simulate_book

    books = [simulate_book(enterprises, seed + k, as_of_day, finance_profiles()) for k in (0, 1)]
    rows = [[borrower_row(b)[0] for b in book] for book in books]
    flags = [np.array([b.defaulted for b in book], dtype=int) for book in books]
    model = train_scorecard(pd.DataFrame(rows[0]), flags[0], config)
    held_out = predict_pd(model, pd.DataFrame(rows[1]))
    metrics = {
        "held_out_auc": auc(flags[1], held_out),
        "held_out_ks": ks(flags[1], held_out),
        "held_out_rows": enterprises,
        "held_out_defaults": int(flags[1].sum()),
    }
    return (
        model,
        metrics,
        {"source": "simulated", "enterprises": enterprises, "seed": seed, "as_of": day_iso(as_of_day)},
    )


def _train_on_outcomes(platform: Platform, config: ScorecardConfig, tenant: int | None) -> tuple[Scorecard, dict, dict]:
    rows, flags, _ = outcome_rows(platform, tenant)
    if len(rows) < 20 or len(set(flags)) < 2:
        raise InvalidInput(
            f"training needs at least 20 loan outcomes with both defaults and repayments, "
            f"got {len(rows)} with {sum(flags)} defaults: import loan_outcomes, or train --simulated"
        )
    model = train_scorecard(pd.DataFrame(rows), np.array(flags), config)
    in_sample = predict_pd(model, pd.DataFrame(rows))
    metrics = {
        "in_sample_auc": auc(flags, in_sample),
        "in_sample_ks": ks(flags, in_sample),
        "rows": len(rows),
        "defaults": int(sum(flags)),
    }
    return (
        model,
        metrics,
        {"source": "loan_outcomes", "tenant_id": tenant, "rows": len(rows), "reference_rows": _jsonable(rows[:5000])},
    )  # the daily stability reference


def list_models(platform: Platform, principal: Principal) -> list[dict]:
    """The tenant's and the platform's models with their lifecycle (model governance)."""
    from wuxin.services.credit.governance import list_models as governed

    return governed(platform, principal)


# ---------------------------------------------------------------- decisions


def lot_line(h: Holding, loan_id: int, value: Decimal | None) -> tuple[str, str]:
    """One pledged lot's valuation in words (zh, en): its identity as the console says it (批号 DEMO-1-R1, not
    lot:DEMO-1-R1), the price in yuan and the haircut as a plain number."""
    from wuxin.labels import label

    kind, sep, rest = h.identity.partition(":")
    named = {lang: f"{label('identity_kind', kind, lang)} {rest}" if sep else h.identity for lang in ("zh", "en")}
    if value is None or h.unit_price_cny is None:
        return (
            f"质押物 {named['zh']}（{h.sku}）无价格指数：不计入",
            f"{named['en']} ({h.sku}) has no price index: left out",
        )
    haircut = h.haircut.normalize()
    words = f"{h.quantity.normalize():f} x {Money(h.unit_price_cny)} x (1 - {haircut:f}) = {Money(value)}"
    return (
        f"质押物 {named['zh']}（{h.sku}，贷款 #{loan_id}）：{words}",
        f"{named['en']} ({h.sku}, loan #{loan_id}): {words}",
    )


def pledge_registry_value(
    uow, tenant_id: int | None, enterprise_id: int, at_ms: int, declared_cny: Decimal | None = None
) -> tuple[Money, tuple[tuple[str, str], ...]]:
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
            total += value or 0
            lines.append(lot_line(h, loan["id"], value))
    if not lines:
        lines.append(("押品登记簿中没有该企业的质押物", "the pledge registry holds no lot of this enterprise"))
    registry = Money(total)
    if declared_cny is not None and Money(declared_cny).amount < registry.amount:
        lines.append(
            (
                f"申报押品价值 {Money(declared_cny)} 低于登记簿价值 {registry}：取申报值",
                f"declared pledge value {Money(declared_cny)} is below the registry's {registry}: the declared value counts",
            )
        )
        return Money(declared_cny).cents(), tuple(lines)
    if declared_cny is not None and Money(declared_cny).amount > registry.amount:
        lines.append(
            (
                f"申报押品价值 {Money(declared_cny)} 高于登记簿价值 {registry}：以登记簿为准",
                f"declared pledge value {Money(declared_cny)} exceeds the registry's {registry}: the registry counts",
            )
        )
    return registry, tuple(lines)


def decide_credit(
    platform: Platform,
    principal: Principal,
    enterprise_id: int,
    product_code: str,
    pledged_value_cny: Decimal | None = None,
    model_version: str | None = None,
    as_of_day: int | None = None,
) -> dict:
    """Score the enterprise with the active (or named) model, decide for the product under its policy, persist,
    prove, log. A collateral product lends on the lots in the pledge registry (`pledged_value_cny`, when
    given, can only lower that value: a declared value is not evidence)."""
    product = product_of(product_code)
    as_of = as_of_day if as_of_day is not None else default_as_of_day(platform)
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        enterprise, devices, consent_id = require_lender(platform, uow, principal, enterprise_id)
        model, model_row = (
            usable_model(uow, principal.tenant_id, model_version)
            if model_version
            else active_model(uow, principal.tenant_id)
        )  # only the tenant's active approved model decides
        a = gather(platform, uow, enterprise, devices, principal.tenant_id, as_of)
        pledged, lines = (
            pledge_registry_value(uow, principal.tenant_id, enterprise_id, now_ms, pledged_value_cny)
            if product.basis == "collateral"
            else (None, ())
        )
        decision = decide(
            model, product, a.features, a.limit_evidence(product, pledged, lines), a.policy_facts(product), EXPLANATIONS
        )
        record = decision.to_dict() | {
            "model": {
                "version": model.version,
                "name": model.name,
                "simulated": is_simulated(model_row),
                "label": model_label(is_simulated(model_row)),
            }
        }
        row = dict(
            enterprise_id=enterprise_id,
            tenant_id=principal.tenant_id,
            user_id=principal.user_id,
            product_code=product.code,
            model_version=model.version,
            as_of_day=as_of,
            features=_jsonable(a.features),
            cross_checks=[c.to_dict() for c in a.checks],
            decision=_jsonable(record),
            score=decision.score,
            pd=decision.pd,
            grade=decision.grade,
            approved=decision.approved,
            limit_cny=record["limit"]["limit"] if record["limit"] else None,
            expected_loss_cny=record["expected_loss"],
            decided_ms=now_ms,
        )
        decision_id = uow.credit.add_decision(**row)
        leaf = record_evidence(
            uow,
            "credit_decision",
            f"credit_decision:{decision_id}",
            owner_tenant_id=principal.tenant_id,
            data={
                "enterprise_id": enterprise_id,
                "at_ms": now_ms,
                "tenant_id": principal.tenant_id,
                "product": product.code,
                "model_version": model.version,
                "score": round(decision.score, 4),
                "pd": decision.pd,
                "grade": decision.grade,
                "approved": decision.approved,
                "outcome": decision.outcome,
                "limit_cny": row["limit_cny"],
                "expected_loss_cny": row["expected_loss_cny"],
                "features_sha256": _digest(row["features"]),
                "inputs": list(a.record_subjects),
            },
        )
        uow.credit.set_decision_leaf(decision_id, leaf)
        _log(
            platform,
            uow,
            principal,
            enterprise_id,
            "credit.decide",
            consent_id,
            1,
            f"credit_decision:{decision_id}",
            {
                "product": product.code,
                "model_version": model.version,
                "grade": decision.grade,
                "approved": decision.approved,
                "outcome": decision.outcome,
            },
        )
        uow.commit()
        stored = stored_decision(uow, decision_id)
    return decision_view(stored)


def decision_view(row: CreditDecisionRow) -> dict:
    eid = row["enterprise_id"]
    outcome = row["decision"].get("outcome") or ("approve" if row["approved"] else "decline")  # older records
    return {
        "id": row["id"],
        "enterprise_id": eid,
        "product_code": row["product_code"],
        "model_version": row["model_version"],
        "model_label": (row["decision"].get("model") or {}).get("label"),  # "simulated — demo only" when so
        "as_of": day_iso(row["as_of_day"]),
        "score": row["score"],
        "pd": row["pd"],
        "grade": row["grade"],
        "approved": row["approved"],
        "outcome": outcome,
        "limit_cny": row["limit_cny"],
        "expected_loss_cny": row["expected_loss_cny"],
        "decision": _said_in_both(row["decision"]),
        "features": row["features"],
        "cross_checks": [_check_in_both(c) for c in row["cross_checks"] or []],
        "decided_ms": row["decided_ms"],
        "links": {
            "ledger_proof": f"/api/v1/ledger/entries/{row['ledger_leaf']}/proof"
            if row["ledger_leaf"] is not None
            else None,
            "evidence_bundle": f"/api/v1/ledger/evidence?subject=credit_decision:{row['id']}",
            "report": f"/api/v1/enterprises/{eid}/credit/report",
        },
    }


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
        uow.logs.access(
            at_ms=platform.clock_ms(),
            user_id=principal.user_id,
            tenant_id=principal.tenant_id,
            enterprise_id=enterprise_id,
            device_id=None,
            action="credit.decisions",
            consent_id=consent_id,
            rows=len(rows),
        )
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


def credit_report(
    platform: Platform, principal: Principal, enterprise_id: int, as_of_day: int | None = None, output: str = "json"
) -> dict:
    """Everything the report shows, every figure with the API URL of the data behind it; audited and access-logged."""
    as_of = as_of_day if as_of_day is not None else default_as_of_day(platform)
    with platform.uow() as uow:
        enterprise, devices, consent_id = require_lender(platform, uow, principal, enterprise_id)
        a = gather(platform, uow, enterprise, devices, principal.tenant_id, as_of)
        latest = next(iter(uow.credit.decisions(enterprise_id, principal.tenant_id, limit=1)), None)
        _log(
            platform,
            uow,
            principal,
            enterprise_id,
            "credit.report",
            consent_id,
            len(a.series) + len(a.checks),
            f"credit_report:{enterprise_id}",
            {"as_of": day_iso(as_of), "output": output, "decision_id": latest["id"] if latest else None},
        )
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
        "as_of": day_iso(a.as_of_day),
        "generated_by": generated_by,
        "generated_ms": generated_ms,
        "activity": _activity_chart(a, labels, base, window),
        "indicators": [_indicator_row(name, s, a.as_of_day, labels, base) for name, s in sorted(a.series.items())],
        "peer": _peer(a, labels, base),
        "devices": {
            "installed": a.devices.installed,
            "reporting_last_7d": a.devices.reporting_last_7d,
            "tamper_events_90d": a.devices.tamper_events_90d,
            "by_source_mode": dict(a.devices.by_source_mode),
            "source_mode": a.source_mode,
            "link": f"{base}/devices",
        },
        "cross_checks": [_check_view(c, base) for c in a.checks],
        "cross_verified": a.verification() == "verified",
        "verification": a.verification(),
        "iot_coverage": evidence_coverage(a.checks),
        "evidence_days": a.evidence_days,
        "open_alarms": a.open_alarms or {},
        "features": [
            {"name": k, "label": EXPLANATIONS_LABELS.get(k, k.replace("_", " ")), "value": v}
            for k, v in a.features.items()
        ],
        "statements": [
            {
                "period": s.label,
                "revenue_cny": s.revenue_cny,
                "net_profit_cny": s.net_profit_cny,
                "total_assets_cny": s.total_assets_cny,
                "total_liabilities_cny": s.total_liabilities_cny,
            }
            for s in sorted(a.statements, key=lambda s: s.last_day)
        ],
        "statements_link": f"{base}/business-data?kind=statements",
        "decision": decision,
    }


EXPLANATIONS_LABELS = {f.name: f.label for f in IOT_FEATURES + STATEMENT_FEATURES} | EXTRA_FEATURE_LABELS_EN


def _labels(scenario: str) -> dict[str, tuple[str, str]]:
    pack = indicator_packs().get(scenario)
    return (
        {d.name: (d.label.get("zh", d.name) + " " + d.label.get("en", ""), d.unit) for d in pack.all()} if pack else {}
    )


def _activity_chart(a: Assessment, labels: dict, base: str, window: str) -> dict | None:
    name = a.activity_indicator
    if not name:
        return None
    first = a.as_of_day - 179
    own = a.series.get(name, DailySeries.empty()).on_days(first, a.as_of_day)
    peers = DailySeries.of([r["day"] for r in a.index_rows], [r["median"] for r in a.index_rows]).on_days(
        first, a.as_of_day
    )
    return {
        "indicator": name,
        "label": labels.get(name, (name, ""))[0],
        "unit": labels.get(name, ("", ""))[1],
        "days": [day_iso(d) for d in range(first, a.as_of_day + 1)],
        "values": _nullable(own),
        "index_median": _nullable(peers),
        "link": f"{base}/indicators?{window}&name={name}",
        "index_link": f"/api/v1/industry-index?{window}&scenario={a.enterprise['industry']}&indicator={name}",
    }


def _indicator_row(name: str, series: DailySeries, as_of_day: int, labels: dict, base: str) -> dict:
    recent = series.window(as_of_day - 89, as_of_day)
    known = recent.values[np.isfinite(recent.values)]
    last_day = int(recent.days[np.isfinite(recent.values)][-1]) if len(known) else None
    return {
        "name": name,
        "label": labels.get(name, (name, ""))[0],
        "unit": labels.get(name, ("", ""))[1],
        "mean_90d": float(known.mean()) if len(known) else None,
        "known_days": int(len(known)),
        "complete_days": int(recent.complete.sum()),
        "link": f"{base}/indicators?from={day_iso(as_of_day - 89)}&to={day_iso(as_of_day)}&name={name}",
        "last_day_link": f"{base}/indicators/{name}/{day_iso(last_day)}" if last_day is not None else None,
    }


def _peer(a: Assessment, labels: dict, base: str) -> dict | None:
    name = a.activity_indicator
    rows = [r for r in a.index_rows if r["day"] > a.as_of_day - 90]
    own = a.series.get(name or "", DailySeries.empty()).window(a.as_of_day - 89, a.as_of_day)
    known = own.values[np.isfinite(own.values)]
    if not name or not rows or not len(known):
        return None
    p25, median, p75 = (float(np.mean([r[k] for r in rows])) for k in ("p25", "median", "p75"))
    mine = float(known.mean())
    standing = (
        "top quartile"
        if mine >= p75
        else "above the median"
        if mine >= median
        else "below the median"
        if mine >= p25
        else "bottom quartile"
    )
    last = max(r["day"] for r in rows)
    return {
        "indicator": name,
        "label": labels.get(name, (name, ""))[0],
        "value": mine,
        "p25": p25,
        "median": median,
        "p75": p75,
        "peers": max(r["enterprises"] for r in rows),
        "standing": standing,
        "link": f"{base}/percentile?indicator={name}&day={day_iso(last)}",
    }


def _check_view(c: CheckResult, base: str) -> dict:
    return {
        **c.to_dict(),
        "evidence_link": f"{base}/indicators?from={day_iso(c.first_day)}&to={day_iso(c.last_day)}&name={c.indicator}",
        "reported_link": c.reference,
    }


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
