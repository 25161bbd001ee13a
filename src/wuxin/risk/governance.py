"""Credit model governance, pure: the lifecycle state machine and the validation gates.

Lifecycle per tenant: draft -> validated -> approved -> active -> retired. A model is validated only when
its validation report passes every gate below; approved only by a named risk manager who neither trained
nor validated it (four eyes: with no trainer recorded, the validator and the approver still differ);
active only once approved; a model trained on simulated data only in a demo tenant. Activating a model
retires the tenant's previous active one (the caller does that).

Gates of the validation report (each names the feature or grade and the figures):
- discrimination: the lower end of the bootstrap 95% interval of the out-of-time AUC above 0.5;
- signs: every feature with a declared trend (ascending / descending default rate as it grows) must move
  the fitted log-odds of default that way across its bins (coefficient x WOE), else refused;
- information value of each feature on the validation sample, over the model's frozen bins, at least
  IV_MIN (Siddiqi 2006: below 0.02 unpredictive); above 0.5 ("suspicious": a leak of the outcome?) a warning;
- calibration by grade: a one-sided binomial test per grade of the observed defaults against the mean
  predicted PD, in the Basel traffic-light zones (BCBS 1996, backtesting): refused in the red zone
  (p < 0.0001: the PD is underestimated beyond 99.99%), a warning in the yellow one (p < 0.05);
- population stability: PSI of the validation sample against the training sample over the model's own
  bins, refused above 0.25 (the usual bands: < 0.1 stable, 0.1-0.25 watch, > 0.25 shifted).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from wuxin.errors import Conflict, Denied, InvalidInput

STATES = ("draft", "validated", "approved", "active", "retired")
ACTIONS = {  # action: (states it may start from, state it leads to)
    "validate": (("draft", "validated"), "validated"),
    "approve": (("validated",), "approved"),
    "activate": (("approved",), "active"),
    "retire": (("draft", "validated", "approved", "active"), "retired"),
}
IV_MIN, IV_WARN = 0.02, 0.5
PSI_WATCH, PSI_SHIFTED = 0.1, 0.25
CALIBRATION_RED_P, CALIBRATION_YELLOW_P = 0.0001, 0.05
BOOTSTRAP_RESAMPLES = 500
BOOTSTRAP_SEED = 20240601
SIMULATED_LABEL = {"zh": "模拟数据训练 — 仅限演示", "en": "simulated — demo only"}
STATE_LABELS = {"draft": "草稿", "validated": "已验证", "approved": "已批准", "active": "生效中", "retired": "已退役"}


@dataclass(frozen=True)
class ModelFacts:
    """What the gates need of a model and its tenant."""

    version: str
    state: str
    trained_by: int | None
    simulated: bool
    tenant_demo: bool
    validation_passed: bool
    validated_by: int | None = None


def next_state(facts: ModelFacts, action: str, actor_user_id: int | None) -> str:
    """The state `action` leads to, or the refusal naming why (Conflict: the model's state forbids it;
    Denied: this person may not)."""
    if action not in ACTIONS:
        raise InvalidInput(f"model action must be one of {sorted(ACTIONS)}, got {action!r}")
    sources, target = ACTIONS[action]
    if facts.state not in sources:
        needs = " or ".join(sources)
        raise Conflict(f"model {facts.version[:12]} is {facts.state}: {action} needs it {needs}")
    if action in ("validate", "approve", "activate") and facts.simulated and not facts.tenant_demo:
        raise Conflict(
            f"model {facts.version[:12]} was trained on simulated data: it may only be used in a demo tenant "
            f"({SIMULATED_LABEL['en']} / {SIMULATED_LABEL['zh']})"
        )
    if action == "approve":
        _four_eyes(facts, actor_user_id)
    if action in ("approve", "activate") and not facts.validation_passed:
        raise Conflict(f"model {facts.version[:12]} has no passing validation report: validate it first")
    return target


def _four_eyes(facts: ModelFacts, actor_user_id: int | None) -> None:
    """The approver is a named person other than the one who trained and the one who validated the model."""
    if actor_user_id is None:
        raise Denied(f"model {facts.version[:12]}: approval needs a named risk manager, not an unnamed actor")
    if actor_user_id == facts.trained_by:
        raise Denied(
            f"model {facts.version[:12]} was trained by you: a risk manager who did not train it must approve it"
        )
    if actor_user_id == facts.validated_by:
        raise Denied(
            f"model {facts.version[:12]} was validated by you: a risk manager who neither trained nor "
            f"validated it must approve it"
        )


# ---------------------------------------------------------------- metrics with intervals


def bootstrap_interval(
    flags: np.ndarray,
    pd: np.ndarray,
    metric,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """The metric on the sample and its percentile bootstrap interval (resampled rows, seeded)."""
    flags, pd = np.asarray(flags, dtype=int), np.asarray(pd, dtype=float)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        pick = rng.integers(0, len(flags), len(flags))
        if flags[pick].min() != flags[pick].max():  # a resample needs both outcomes
            values.append(metric(flags[pick], pd[pick]))
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(values, [tail, 100.0 - tail]) if values else (float("nan"), float("nan"))
    return float(metric(flags, pd)), float(low), float(high)


def auc_value(flags: np.ndarray, pd: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(flags, pd))


def ks_value(flags: np.ndarray, pd: np.ndarray) -> float:
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(flags, pd)
    return float(np.max(tpr - fpr))


def discrimination(flags: np.ndarray, pd: np.ndarray, resamples: int = BOOTSTRAP_RESAMPLES) -> dict[str, Any]:
    """AUC and KS with their bootstrap 95% intervals."""
    auc, auc_low, auc_high = bootstrap_interval(flags, pd, auc_value, resamples)
    ks, ks_low, ks_high = bootstrap_interval(flags, pd, ks_value, resamples)
    return {
        "rows": int(len(flags)),
        "defaults": int(np.sum(flags)),
        "auc": auc,
        "auc_ci95": [auc_low, auc_high],
        "ks": ks,
        "ks_ci95": [ks_low, ks_high],
        "resamples": resamples,
    }


# ---------------------------------------------------------------- gates


def fitted_direction(woe: Sequence[float], coefficient: float) -> str:
    """How the fitted log-odds of default (coefficient x WOE) move from the first to the last bin."""
    contribution = coefficient * np.asarray(woe, dtype=float)
    if len(contribution) < 2 or abs(contribution[-1] - contribution[0]) < 1e-12:
        return "flat"
    return "ascending" if contribution[-1] > contribution[0] else "descending"


def sign_findings(features: Sequence[Mapping[str, Any]], declared: Mapping[str, str]) -> list[dict[str, Any]]:
    """One finding per numerical feature with a declared ascending/descending trend."""
    out = []
    for f in features:
        want = declared.get(f["name"], f.get("trend"))
        if f["kind"] != "numerical" or want not in ("ascending", "descending"):
            continue
        got = fitted_direction(f["woe"], f["coefficient"])
        ok = got in (want, "flat")
        out.append(
            {
                "feature": f["name"],
                "declared": want,
                "fitted": got,
                "passed": ok,
                "message": None
                if ok
                else (f"feature {f['name']!r}: declared {want} default rate as it grows, the fitted model is {got}"),
            }
        )
    return out


def information_value(bins: np.ndarray, flags: np.ndarray, n_bins: int) -> float:
    """IV of a binned feature on a sample: sum over bins of (good share - bad share) x ln(good share / bad share)."""
    from wuxin.risk.validation import PSI_FLOOR

    goods = np.bincount(bins[flags == 0], minlength=n_bins).astype(float)
    bads = np.bincount(bins[flags == 1], minlength=n_bins).astype(float)
    g = np.maximum(goods / max(goods.sum(), 1.0), PSI_FLOOR)
    b = np.maximum(bads / max(bads.sum(), 1.0), PSI_FLOOR)
    return float(np.sum((g - b) * np.log(g / b)))


def iv_findings(ivs: Mapping[str, float], low: float = IV_MIN) -> list[dict[str, Any]]:
    out = []
    for name, iv in ivs.items():
        ok = iv >= low
        message = (
            None if ok else f"feature {name!r}: information value {iv:.4f} on the validation sample is below {low}"
        )
        out.append({"feature": name, "iv": float(iv), "passed": ok, "warning": iv > IV_WARN, "message": message})
    return out


def calibration_findings(rows: Sequence[Mapping[str, Any]], p_limit: float = CALIBRATION_RED_P) -> list[dict[str, Any]]:
    """Per grade: binomial test of the observed defaults against the mean predicted PD (one-sided: PD too low)."""
    from scipy.stats import binomtest

    out = []
    for r in rows:
        n, k, p_hat = int(r["rows"]), int(r["defaults"]), min(max(float(r["predicted_pd"]), 1e-9), 1 - 1e-9)
        p_value = float(binomtest(k, n, p_hat, alternative="greater").pvalue) if n else 1.0
        ok = p_value >= p_limit
        zone = "red" if p_value < CALIBRATION_RED_P else "yellow" if p_value < CALIBRATION_YELLOW_P else "green"
        out.append(
            {
                **dict(r),
                "p_value_underestimated": p_value,
                "zone": zone,
                "passed": ok,
                "message": None
                if ok
                else (
                    f"grade {r['grade']}: {k} defaults in {n} rows observed against a predicted "
                    f"PD of {p_hat:.2%} (binomial p = {p_value:.4f} < {p_limit})"
                ),
            }
        )
    return out


def psi_band(value: float | None) -> str:
    if value is None:
        return "unknown"
    return "stable" if value < PSI_WATCH else "watch" if value <= PSI_SHIFTED else "shifted"


def psi_findings(score_psi: float | None, feature_psi: Mapping[str, float]) -> list[dict[str, Any]]:
    items = [("score (grade mix)", score_psi)] + sorted(feature_psi.items())
    out = []
    for name, value in items:
        if value is None:
            continue
        ok = value <= PSI_SHIFTED
        out.append(
            {
                "of": name,
                "psi": float(value),
                "band": psi_band(value),
                "passed": ok,
                "message": None if ok else f"{name}: population stability index {value:.3f} > {PSI_SHIFTED}",
            }
        )
    return out


def gate_report(oot: Mapping[str, Any], signs: list, ivs: list, calibration: list, stability: list) -> dict[str, Any]:
    """Put the findings together: passed only when every gate passes; failures name what failed."""
    failures = []
    low = oot.get("auc_ci95", [float("nan")])[0]
    if not (low > 0.5):
        failures.append(
            f"out-of-time AUC {oot.get('auc', float('nan')):.3f}: its 95% interval starts at {low:.3f}, "
            "not above 0.5 (no better than chance)"
        )
    for group in (signs, ivs, calibration, stability):
        failures += [f["message"] for f in group if not f["passed"]]
    warnings = [
        f"feature {f['feature']!r}: information value {f['iv']:.3f} > {IV_WARN} (check for a leak of the outcome)"
        for f in ivs
        if f.get("warning")
    ]
    warnings += [
        f"grade {f['grade']}: observed defaults above the predicted PD (binomial p = {f['p_value_underestimated']:.4f}, "
        "yellow zone)"
        for f in calibration
        if f.get("zone") == "yellow"
    ]
    warnings += [
        f"{f['of']}: PSI {f['psi']:.3f} in the watch band ({PSI_WATCH}-{PSI_SHIFTED})"
        for f in stability
        if f["band"] == "watch"
    ]
    return {
        "passed": not failures,
        "failures": failures,
        "warnings": warnings,
        "out_of_time": dict(oot),
        "signs": signs,
        "information_value": ivs,
        "calibration": calibration,
        "stability": stability,
        "bands": {
            "psi_watch": PSI_WATCH,
            "psi_shifted": PSI_SHIFTED,
            "iv_min": IV_MIN,
            "iv_warn": IV_WARN,
            "calibration_red_p": CALIBRATION_RED_P,
            "calibration_yellow_p": CALIBRATION_YELLOW_P,
        },
    }


def out_of_time_split(days: Sequence[float] | np.ndarray, holdout_share: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Masks (train, out-of-time): the latest `holdout_share` of rows by date are held out; ties stay together."""
    values = np.asarray(days, dtype=float)
    if not np.isfinite(values).all():
        raise InvalidInput("the out-of-time date column has missing or unreadable dates")
    cut = np.quantile(values, 1.0 - holdout_share)
    oot = values > cut
    if oot.sum() == 0 or (~oot).sum() == 0:
        raise InvalidInput(f"the date column does not split in time: every row falls on one side of {cut}")
    return ~oot, oot


def validate_scorecard(
    model,
    sample,
    defaults,
    reference=None,
    declared: Mapping[str, str] | None = None,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> dict[str, Any]:
    """The full validation report of a scorecard on an out-of-time sample (with the training sample as
    the stability reference): discrimination with intervals, signs, IV, calibration by grade, PSI."""
    from wuxin.risk.scorecard import as_default_flags, as_frame, model_to_dict, predict_pd
    from wuxin.risk.validation import calibration_by_grade, feature_psi, grade_psi

    sample_pd = predict_pd(model, sample)
    flags = as_default_flags(defaults, len(sample_pd))
    features = model_to_dict(model)["features"]
    frame = as_frame(sample, [f.name for f in model.features])
    ivs = {b.name: information_value(b.bin_indices(frame[b.name]), flags, b.missing_index + 1) for b in model.features}
    calibration = [vars(c) for c in calibration_by_grade(flags, sample_pd)]
    score_psi, drift = None, {}
    if reference is not None:
        score_psi, drift = grade_psi(predict_pd(model, reference), sample_pd), feature_psi(model, reference, sample)
    report = gate_report(
        discrimination(flags, sample_pd, resamples),
        sign_findings(features, declared or {}),
        iv_findings(ivs),
        calibration_findings(calibration),
        psi_findings(score_psi, drift),
    )
    return {"model_version": model.version, **report}
