"""Credit model governance as use cases: validate, approve, activate, retire a scorecard in a tenant, list
the tenant's models with their lifecycle, pick the active one for decisions, and watch its stability.

Every step is a risk manager's of the model's tenant (a platform model, trained without a tenant, is
adopted by a tenant through the same steps); the gates are in `wuxin.risk.governance`. Another tenant's
model does not exist for the caller (404). Each step is audited.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from wuxin.bootstrap import Platform
from wuxin.domain.model import BANK_ROLES, Role
from wuxin.errors import Conflict, Denied, InvalidInput, NotFound, WuxinError
from wuxin.indicators.days import day_iso
from wuxin.risk.governance import (
    PSI_SHIFTED,
    SIMULATED_LABEL,
    STATE_LABELS,
    ModelFacts,
    next_state,
    out_of_time_split,
    psi_band,
    validate_scorecard,
)
from wuxin.risk.scorecard import Scorecard, model_from_dict, model_to_dict
from wuxin.security.policy import Principal, require_role

log = logging.getLogger(__name__)
GOVERN_ROLES = (Role.RISK_MANAGER,)


class DatabaseModelRegistry:
    """The `ModelRegistry` protocol on the credit_models table, in the caller's unit of work."""

    def __init__(self, uow, tenant_id: int | None = None, trained_by: int | None = None, now_ms: int = 0):
        self._uow, self._tenant, self._by, self._now = uow, tenant_id, trained_by, now_ms

    def save(self, model: Scorecard, metrics: dict | None = None, training: dict | None = None) -> str:
        body = model_to_dict(model)
        self._uow.credit.save_model(
            version=body["version"],
            name=model.name,
            body=body,
            tenant_id=self._tenant,
            trained_ms=self._now,
            trained_by=self._by,
            metrics=metrics or {},
            training=training or {},
        )
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
        return active_model(self._uow, self._tenant)[0]


def is_simulated(model_row: Mapping[str, Any]) -> bool:
    """Trained on simulated data: a simulated book, or a file its spec declares simulated."""
    training = model_row.get("training") or {}
    return training.get("source") == "simulated" or bool(training.get("simulated"))


def model_label(simulated: bool) -> dict[str, str] | None:
    """The label shown wherever a simulated-data model shows (zh, en)."""
    return dict(SIMULATED_LABEL) if simulated else None


def _tenant_of(principal: Principal) -> int:
    require_role(principal, *GOVERN_ROLES)
    if principal.tenant_id is None:
        raise Denied("model governance is a bank's: this user belongs to no tenant")
    return principal.tenant_id


def _visible_model(uow, tenant_id: int, version: str) -> dict:
    row = uow.credit.model(version)
    if row is None or row["tenant_id"] not in (None, tenant_id):
        raise NotFound(f"credit model {version!r} does not exist")
    return row


def _facts(uow, tenant_id: int, row: dict) -> tuple[ModelFacts, dict | None]:
    state = uow.credit.model_state(tenant_id, row["version"])
    validation = (state or {}).get("validation") or {}
    return ModelFacts(
        row["version"],
        state["state"] if state else "draft",
        row["trained_by"],
        is_simulated(row),
        uow.credit.tenant_is_demo(tenant_id),
        bool(validation.get("passed")),
        (state or {}).get("validated_by"),
    ), state


def record_draft(uow, tenant_id: int | None, version: str, now_ms: int) -> None:
    """A newly trained model of a tenant starts as its draft (retraining the same content keeps its state)."""
    if tenant_id is not None and uow.credit.model_state(tenant_id, version) is None:
        uow.credit.put_model_state(tenant_id, version, state="draft", updated_ms=now_ms)


# ---------------------------------------------------------------- the lifecycle


def validate_model(
    platform: Platform,
    principal: Principal,
    version: str,
    sample: pd.DataFrame | None = None,
    defaults: np.ndarray | None = None,
    reference: pd.DataFrame | None = None,
    declared: dict[str, str] | None = None,
    source: str | None = None,
) -> dict:
    """Validate on `sample` (a file's out-of-time rows, from the command line) or, without one, on the tenant's
    imported loan outcomes split in time (a simulated model: on a fresh simulated book). The report is stored
    with the model; the model becomes validated only when every gate passes, else 409 naming the failures."""
    tenant = _tenant_of(principal)
    with platform.uow() as uow:
        row = _visible_model(uow, tenant, version)
        facts, _ = _facts(uow, tenant, row)
        next_state(facts, "validate", principal.user_id)
    model = model_from_dict(row["body"])
    training = row["training"] or {}
    if sample is None:
        sample, defaults, reference, source = _validation_sample(platform, model, training, tenant)
    report = validate_scorecard(model, sample, defaults, reference, declared or training.get("declared_trends") or {})
    report["sample"] = source
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        state = "validated" if report["passed"] else "draft"
        uow.credit.put_model_state(
            tenant,
            version,
            state=state,
            validation=_plain(report),
            validated_by=principal.user_id,
            validated_ms=now_ms,
            updated_ms=now_ms,
        )
        uow.logs.audit(
            now_ms,
            principal.user_id,
            "credit.model.validate",
            f"credit_model:{version}",
            {"tenant_id": tenant, "passed": report["passed"], "failures": report["failures"]},
        )
        uow.commit()
    if not report["passed"]:
        raise Conflict(f"model {version[:12]} failed validation: " + "; ".join(report["failures"]))
    return model_view_of(platform, tenant, version)


def approve_model(platform: Platform, principal: Principal, version: str) -> dict:
    return _step(platform, principal, version, "approve")


def activate_model(platform: Platform, principal: Principal, version: str) -> dict:
    """Make the model the tenant's active one; the previous active model is retired."""
    return _step(platform, principal, version, "activate")


def retire_model(platform: Platform, principal: Principal, version: str) -> dict:
    return _step(platform, principal, version, "retire")


def _step(platform: Platform, principal: Principal, version: str, action: str) -> dict:
    tenant = _tenant_of(principal)
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        row = _visible_model(uow, tenant, version)
        facts, _ = _facts(uow, tenant, row)
        target = next_state(facts, action, principal.user_id)
        who = {"approve": "approved", "activate": "activated", "retire": "retired"}[action]
        if action == "activate":
            for previous in uow.credit.active_versions(tenant):
                if previous != version:
                    uow.credit.put_model_state(
                        tenant,
                        previous,
                        state="retired",
                        retired_by=principal.user_id,
                        retired_ms=now_ms,
                        updated_ms=now_ms,
                    )
        uow.credit.put_model_state(
            tenant, version, state=target, updated_ms=now_ms, **{f"{who}_by": principal.user_id, f"{who}_ms": now_ms}
        )
        uow.logs.audit(
            now_ms,
            principal.user_id,
            f"credit.model.{action}",
            f"credit_model:{version}",
            {"tenant_id": tenant, "from": facts.state, "to": target},
        )
        uow.commit()
    return model_view_of(platform, tenant, version)


def adopt_for_demo(
    platform: Platform, tenant_id: int, version: str, risk_manager: Principal, validator: Principal
) -> dict:
    """The demo: mark the tenant a demo tenant and take its simulated model through the lifecycle, four eyes:
    `validator` validates, `risk_manager` (another person) approves and activates."""
    with platform.uow() as uow:
        uow.credit.set_tenant_demo(tenant_id, True)
        uow.commit()
    validate_model(platform, validator, version)
    approve_model(platform, risk_manager, version)
    return activate_model(platform, risk_manager, version)


# ---------------------------------------------------------------- reading


def active_model(uow, tenant_id: int | None) -> tuple[Scorecard, dict]:
    """The tenant's active approved model and its row; NotFound when none is active."""
    versions = uow.credit.active_versions(tenant_id) if tenant_id is not None else []
    if not versions:
        raise NotFound(
            f"tenant {tenant_id} has no active approved credit model: a risk manager validates, a second "
            "approves, then activates one (POST /api/v1/credit/models/{version}/validate ...)"
        )
    row = uow.credit.model(versions[0])
    return model_from_dict(row["body"]), row


def usable_model(uow, tenant_id: int | None, version: str) -> tuple[Scorecard, dict]:
    """A named model may decide only while it is the tenant's active one."""
    row = uow.credit.model(version)
    if row is None or row["tenant_id"] not in (None, tenant_id):
        raise NotFound(f"credit model {version!r} does not exist")
    state = uow.credit.model_state(tenant_id, version) if tenant_id is not None else None
    if state is None or state["state"] != "active":
        raise Conflict(
            f"credit model {version[:12]} is {state['state'] if state else 'draft'} in this tenant: "
            "only the active approved model decides"
        )
    return model_from_dict(row["body"]), row


def list_models(platform: Platform, principal: Principal) -> list[dict]:
    """The tenant's and the platform's models, newest first, with their lifecycle in this tenant."""
    require_role(principal, *BANK_ROLES)
    with platform.uow() as uow:
        rows = uow.credit.models(principal.tenant_id)
        states = {s["version"]: s for s in uow.credit.model_states(principal.tenant_id)} if principal.tenant_id else {}
        names = _user_names(uow)
    return [_view(r, states.get(r["version"]), names) for r in rows]


def model_detail(platform: Platform, principal: Principal, version: str) -> dict:
    require_role(principal, *BANK_ROLES)
    with platform.uow() as uow:
        row = uow.credit.model(version)
        if row is None or row["tenant_id"] not in (None, principal.tenant_id):
            raise NotFound(f"credit model {version!r} does not exist")
    view = (
        model_view_of(platform, principal.tenant_id, version)
        if principal.tenant_id is not None
        else _view(row, None, {})
    )
    return {
        **view,
        "features": [
            {k: f[k] for k in ("name", "kind", "trend", "iv", "coefficient")} for f in row["body"]["features"]
        ],
    }


def model_view_of(platform: Platform, tenant_id: int, version: str) -> dict:
    with platform.uow() as uow:
        row = uow.credit.model(version)
        state = uow.credit.model_state(tenant_id, version) if tenant_id is not None else None
        names = _user_names(uow)
    if row is None:
        raise NotFound(f"credit model {version!r} does not exist")
    return _view(row, state, names)


def _view(row: Mapping[str, Any], state: Mapping[str, Any] | None, names: dict[int, str]) -> dict:
    simulated = is_simulated(row)
    current = state["state"] if state else "draft"
    out = {k: v for k, v in row.items() if k != "body"}
    out["training"] = {k: v for k, v in (row["training"] or {}).items() if k != "reference_rows"}
    return {
        **out,
        "state": current,
        "state_label": {"zh": STATE_LABELS[current], "en": current},
        "simulated": simulated,
        "label": model_label(simulated),
        "trained_by_name": names.get(row["trained_by"]),
        **{
            f"{who}_by_name": _name(names, (state or {}).get(f"{who}_by"))
            for who in ("validated", "approved", "activated", "retired")
        },
        **{
            k: (state or {}).get(k)
            for k in (
                "validated_by",
                "validated_ms",
                "approved_by",
                "approved_ms",
                "activated_by",
                "activated_ms",
                "retired_by",
                "retired_ms",
            )
        },
        "validation": (state or {}).get("validation"),
    }


def _user_names(uow) -> dict[int, str]:
    return {u["id"]: u["username"] for u in uow.identity.list_users()}


def _name(names: dict[int, str], user_id: int | None) -> str | None:
    return None if user_id is None else names.get(user_id)


# ---------------------------------------------------------------- validation samples


def _validation_sample(platform: Platform, model: Scorecard, training: dict, tenant: int):
    if training.get("source") == "simulated":
        from wuxin.services.bootstrap import finance_profiles
        from wuxin.sim.finance import borrower_row, simulate_book

        size, seed = int(training.get("enterprises", 400)), int(training.get("seed", 2024))
        as_of = _as_day(training.get("as_of"))
        books = [
            simulate_book(size, seed + k, as_of, finance_profiles()) for k in (0, 2)
        ]  # training book, a fresh one (not the held-out one)
        frames = [pd.DataFrame([borrower_row(b)[0] for b in book]) for book in books]
        flags = np.array([b.defaulted for b in books[1]], dtype=int)
        return (
            frames[1],
            flags,
            frames[0],
            f"a fresh simulated book of {size} (seed {seed + 2}): simulated, not out-of-time",
        )
    if training.get("source") != "loan_outcomes":
        raise InvalidInput(
            f"model trained on {training.get('source')!r}: validate it with the data it came from "
            "(`wuxin credit validate --csv FILE --target COL --spec SPEC --model VERSION --as USER`)"
        )
    from wuxin.services.credit.assessment import outcome_rows

    rows, outcome_flags, days = outcome_rows(platform, tenant)
    train, oot = out_of_time_split(days)
    frame = pd.DataFrame(rows)
    return (
        frame[oot].reset_index(drop=True),
        np.asarray(outcome_flags)[oot],
        frame[train].reset_index(drop=True),
        f"out-of-time: the latest {int(oot.sum())} of {len(rows)} imported loan outcomes (from {day_iso(int(np.min(np.asarray(days)[oot])))})",
    )


def _as_day(iso: str | None) -> int:
    import datetime as dt

    if not iso:
        return 20_700
    return (dt.date.fromisoformat(iso) - dt.date(1970, 1, 1)).days


def _plain(value: Any) -> Any:
    """JSON-able, numpy scalars as Python ones, NaN and infinities as None (JSON has neither)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


# ---------------------------------------------------------------- daily stability


def daily_stability(platform: Platform, day: int, window_days: int = 30) -> list[dict]:
    """For every tenant's active model: PSI of the score (grade mix) and of each feature between the training
    reference and the assessments decided in the last `window_days`; a record per day, a warning (log,
    metric) above PSI 0.25. Returns the records written."""
    from wuxin.indicators.days import DAY_MS, day_start_ms

    since = day_start_ms(day + 1) - window_days * DAY_MS
    written = []
    with platform.uow() as uow:
        for tenant, version in uow.credit.tenants_with_active_models():
            try:
                record = _stability_record(platform, uow, tenant, version, since, day, window_days)
            except WuxinError as exc:  # one model's bad data never stops the daily job
                log.error(
                    "model_stability_failed", extra={"tenant_id": tenant, "model_version": version, "error": str(exc)}
                )
                continue
            if record is not None:
                written.append(record)
        uow.commit()
    _metrics(platform, [r["score_psi"] for r in written])
    return written


def _stability_record(
    platform: Platform, uow, tenant: int, version: str, since: int, day: int, window_days: int
) -> dict | None:
    from wuxin.risk.scorecard import predict_pd
    from wuxin.risk.validation import feature_psi, grade_psi

    row = uow.credit.model(version)
    recent = uow.credit.decisions_of_tenant(tenant, version, since)
    reference = _reference_frame(row)
    if not recent or reference is None:
        return None
    model = model_from_dict(row["body"])
    sample = pd.DataFrame([r["features"] for r in recent])
    score_psi = grade_psi(predict_pd(model, reference), predict_pd(model, sample))
    drift = feature_psi(model, reference, sample)
    band = psi_band(score_psi)
    record = dict(
        tenant_id=tenant,
        version=version,
        day=day,
        score_psi=float(score_psi),
        band=band,
        rows=len(recent),
        detail={
            "feature_psi": {k: float(v) for k, v in drift.items()},
            "reference_rows": len(reference),
            "window_days": window_days,
            "simulated": is_simulated(row),
        },
        created_ms=platform.clock_ms(),
    )
    uow.credit.put_stability(**record)
    if score_psi > PSI_SHIFTED:
        log.warning(
            "model_stability_shifted",
            extra={
                "tenant_id": tenant,
                "model_version": version,
                "score_psi": round(score_psi, 4),
                "day": day_iso(day),
            },
        )
    return record


def _metrics(platform: Platform, score_psis: list[float]) -> None:
    """Aggregates over tenants only (/metrics names no tenant): the largest PSI and how many models shifted."""
    metrics = platform.metrics
    if getattr(metrics, "model_stability_psi_max", None) is None:
        return
    metrics.model_stability_psi_max.set(max(score_psis, default=0.0))
    metrics.model_stability_shifted_tenants.set(sum(p > PSI_SHIFTED for p in score_psis))


def _reference_frame(row: dict) -> pd.DataFrame | None:
    """The training sample's feature rows, kept with the model (`training.reference_rows`), or for a
    simulated model its book rebuilt from the seed."""
    training = row["training"] or {}
    if training.get("reference_rows"):
        return pd.DataFrame(training["reference_rows"])
    if training.get("source") == "simulated":
        from wuxin.services.bootstrap import finance_profiles
        from wuxin.sim.finance import borrower_row, simulate_book

        book = simulate_book(
            int(training.get("enterprises", 400)),
            int(training.get("seed", 2024)),
            _as_day(training.get("as_of")),
            finance_profiles(),
        )
        return pd.DataFrame([borrower_row(b)[0] for b in book])
    return None


def stability_records(platform: Platform, principal: Principal, limit: int = 100) -> list[dict]:
    require_role(principal, *BANK_ROLES)
    if principal.tenant_id is None:
        return []
    with platform.uow() as uow:
        rows = uow.credit.stability(principal.tenant_id, limit)
    return [{**r, "day": day_iso(r["day"]), "warning": r["score_psi"] > PSI_SHIFTED} for r in rows]


# ---------------------------------------------------------------- any data set (the command line)


def train_from_file(
    platform: Platform,
    principal: Principal | None,
    csv_path,
    target: str,
    spec_path,
    bad_value: str | None = None,
    seed: int = 20240601,
) -> dict:
    """Train a scorecard on a CSV under a feature spec and register it (a draft in the principal's tenant;
    without one, a platform model). With a date column only the earliest 70% of rows train: the rest are
    the out-of-time sample `validate_from_file` uses."""
    import hashlib
    from pathlib import Path

    from wuxin.risk.dataset import HOLDOUT_SHARE, fit_scorecard, load_csv, load_spec, rows, time_split

    if principal is not None:
        _tenant_of(principal)
    spec = load_spec(spec_path)
    data = load_csv(csv_path, target, spec, bad_value)
    train = time_split(data)[0] if data.days is not None else np.ones(len(data.defaults), dtype=bool)
    frame, flags = rows(data, train)
    model = fit_scorecard(spec, frame, flags, seed)
    training = {
        "source": "csv",
        "file": Path(csv_path).name,
        "sha256": hashlib.sha256(Path(csv_path).read_bytes()).hexdigest(),
        "target": target,
        "bad_value": bad_value,
        "simulated": spec.simulated,
        "spec": spec.to_dict(),
        "declared_trends": spec.declared_trends,
        "rows": int(train.sum()),
        "defaults": int(flags.sum()),
        "trained_until_day": float(data.days[train].max()) if data.days is not None else None,
        "holdout_share": HOLDOUT_SHARE if data.days is not None else 0.0,
        "reference_rows": _plain(
            frame.head(5000).astype(object).where(frame.head(5000).notna(), None).to_dict("records")
        ),
    }
    tenant = principal.tenant_id if principal else None
    by = principal.user_id if principal else None
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        version = DatabaseModelRegistry(uow, tenant, by, now_ms).save(model, {"rows": int(train.sum())}, training)
        record_draft(uow, tenant, version, now_ms)
        uow.logs.audit(
            now_ms,
            by,
            "credit.train",
            f"credit_model:{version}",
            {"name": model.name, "source": "csv", "file": training["file"], "sha256": training["sha256"]},
        )
        uow.commit()
    return {
        "version": version,
        "name": model.name,
        "tenant_id": tenant,
        "state": "draft",
        "simulated": spec.simulated,
        "label": model_label(spec.simulated),
        "rows": int(train.sum()),
        "features": [f.name for f in model.features],
        "dropped": {k: model.trained.get(k) for k in ("dropped_low_iv", "dropped_wrong_sign")},
    }


def validate_from_file(
    platform: Platform,
    principal: Principal,
    version: str,
    csv_path,
    target: str,
    spec_path,
    bad_value: str | None = None,
) -> dict:
    """Validate a registered model on the out-of-time rows of a CSV (after the day its training ended) and
    record the report in the principal's tenant; 409 naming the failures when a gate fails."""
    from wuxin.risk.dataset import load_csv, load_spec

    tenant = _tenant_of(principal)
    with platform.uow() as uow:
        row = _visible_model(uow, tenant, version)
    spec = load_spec(spec_path)
    data = load_csv(csv_path, target, spec, bad_value)
    until = (row["training"] or {}).get("trained_until_day")
    if data.days is None or until is None:
        raise InvalidInput(
            f"model {version[:12]}: out-of-time validation needs a date column in the spec and a model "
            "trained with it (`date_column:`)"
        )
    oot = data.days > until
    if oot.sum() == 0:
        raise InvalidInput(f"{csv_path}: no row is dated after the model's training ({day_iso(int(until))})")
    train = ~oot
    sample, flags = data.frame[oot].reset_index(drop=True), data.defaults[oot]
    return validate_model(
        platform,
        principal,
        version,
        sample,
        flags,
        data.frame[train].reset_index(drop=True),
        spec.declared_trends,
        f"out-of-time: {int(oot.sum())} rows of {csv_path} dated after {day_iso(int(until))}",
    )
