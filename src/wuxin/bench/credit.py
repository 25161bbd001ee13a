"""Credit experiments on the latent-factor generator (wuxin.bench.credit_latent), run through the platform's
own code: `evidence_features`, `statement_features`, `cross_verify` (with each day's source modes) and
`train_scorecard` / `predict_pd` (optbinning + logistic regression).

IoT lift, out of time: for each rho = corr(health, activity), a scorecard on IoT + statement features and
one on statement features alone are trained on cohort 1 (originated on COHORT_1_DAY) and measured on
cohort 2 (other firms, originated COHORT_2_DAY, five quarters later, in a worse year: default logit +0.3).
AUC with a percentile bootstrap 95 % CI over cohort-2 firms; the lift is the AUC difference, its CI from a
paired bootstrap (the same resampled firms for both models).

Inflated statements: over every firm generated (fraud does not depend on rho), the share of each fraud
variant whose cross-verification fails (caught), and of honest firms, per kind of legitimate divergence,
that fails (false flag), with Wilson 95 % CIs; and how cross-verification labels each group
(verified / supported / failed / undecided).
"""

from __future__ import annotations

import datetime as dt
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from wuxin.bench.credit_latent import (
    DIVERGENCES,
    FRAUD_VARIANTS,
    REVENUE_INDICATOR,
    LatentConfig,
    LatentFirm,
    day_number,
    generate_cohort,
)
from wuxin.risk.crossverify import cross_verify, revenue_consistency, verification
from wuxin.risk.features import IOT_FEATURES, STATEMENT_FEATURES, evidence_features, feature_row, statement_features
from wuxin.risk.scorecard import ScorecardConfig, predict_pd, train_scorecard
from wuxin.risk.validation import auc
from wuxin.services.bootstrap import checks

COHORT_1_DAY = day_number(dt.date(2024, 9, 30))
COHORT_2_DAY = day_number(dt.date(2025, 12, 31))
COHORT_2_SHIFT = 0.3
RHOS = (0.0, 0.3, 0.6, 0.9)
LABELS = ("verified", "supported", "failed", "undecided")


def run_latent_experiments(
    firms: int = 1500,
    seed: int = 2024,
    rhos: Sequence[float] = RHOS,
    bootstrap: int = 1000,
    config: LatentConfig = LatentConfig(),
    echo: Callable[[str], None] | None = print,
) -> dict[str, Any]:
    """Both experiments; `firms` per cohort, two cohorts per rho."""
    started = time.perf_counter()
    lift_rows, fraud_pool = [], []
    for rho in rhos:
        row, books = lift_at(rho, firms, seed, bootstrap, config)
        lift_rows.append(row)
        fraud_pool.extend(books)
    figures = {
        "firms_per_cohort": firms,
        "seed": seed,
        "bootstrap": bootstrap,
        "config": vars(config),
        "lift": lift_rows,
        "fraud": fraud_figures(fraud_pool),
        "false_flag_noise": false_flag_sensitivity(max(firms // 2, 20), seed, config),
        "elapsed_s": time.perf_counter() - started,
    }
    if echo is not None:
        echo(table(figures))
    return figures


NOISE_CASES: tuple[tuple[str, dict[str, float]], ...] = (
    ("no bias, no gaps", {"device_bias_sigma": 0.0, "missing_day_max": 0.0, "outages_per_year": 0.0}),
    ("device bias only", {"missing_day_max": 0.0, "outages_per_year": 0.0}),
    ("gaps and outages only", {"device_bias_sigma": 0.0}),
    ("both (the experiments above)", {}),
)


def false_flag_sensitivity(firms: int, seed: int, config: LatentConfig) -> list[dict[str, Any]]:
    """Honest firms' false-flag rate as the device noise is switched on piece by piece (same firms, same seed)."""
    rows = []
    for name, change in NOISE_CASES:
        knobs = {
            "device_bias_sigma": config.device_bias_sigma,
            "missing_day_max": config.missing_day_max,
            "outages_per_year": config.outages_per_year,
        } | change
        honest = replace(
            config,
            fraud_share=0.0,
            device_bias_sigma=knobs["device_bias_sigma"],
            missing_day_max=knobs["missing_day_max"],
            outages_per_year=knobs["outages_per_year"],
        )
        book = scored(generate_cohort(firms, seed + 2, COHORT_1_DAY, honest))
        groups = fraud_figures(book)
        rows.append(
            {"case": name, **knobs, "all": groups["honest:all"]["failed"], "none": groups["honest:none"]["failed"]}
        )
    return rows


def lift_at(rho: float, firms: int, seed: int, bootstrap: int, config: LatentConfig) -> tuple[dict[str, Any], list]:
    """Train on cohort 1, measure on cohort 2, at one rho; also the scored firms for the fraud figures."""
    base = {k: v for k, v in vars(config).items() if k not in ("rho", "cohort_shift")}
    train = scored(generate_cohort(firms, seed, COHORT_1_DAY, LatentConfig(rho=rho, **base)))
    test = scored(
        generate_cohort(
            firms,
            seed + 1,
            COHORT_2_DAY,
            LatentConfig(rho=rho, cohort_shift=config.cohort_shift + COHORT_2_SHIFT, **base),
        )
    )
    y_train, y_test = _defaults(train), _defaults(test)
    predictions, in_sample = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optbinning and sklearn chatter about dtypes and solvers
        for name, model_config in model_configs(seed).items():
            model = train_scorecard(_frame(train), y_train, model_config)
            predictions[name] = predict_pd(model, _frame(test))
            in_sample[name] = auc(y_train, predict_pd(model, _frame(train)))
    aucs = paired_bootstrap_auc(
        y_test, predictions["iot_and_statements"], predictions["statements_only"], bootstrap, seed
    )
    row = {
        "rho": rho,
        "train_defaults": int(y_train.sum()),
        "test_defaults": int(y_test.sum()),
        "train_firms": len(train),
        "test_firms": len(test),
        "in_sample_auc_iot": in_sample["iot_and_statements"],
        "in_sample_auc_statements": in_sample["statements_only"],
        **aucs,
    }
    return row, train + test


def model_configs(seed: int) -> dict[str, ScorecardConfig]:
    return {
        "iot_and_statements": ScorecardConfig(
            IOT_FEATURES + STATEMENT_FEATURES, name="iot-evidence", seed=seed, min_bin_share=0.05
        ),
        "statements_only": ScorecardConfig(STATEMENT_FEATURES, name="statements-only", seed=seed, min_bin_share=0.05),
    }


def scored(firms: list[LatentFirm]) -> list[tuple[LatentFirm, dict[str, Any], list]]:
    """The platform's feature and cross-verification functions on each firm: (firm, feature row, check results)."""
    out = []
    for firm in firms:
        results = cross_verify(
            firm.reported,
            {REVENUE_INDICATOR: firm.revenue_evidence},
            checks(),
            sources={REVENUE_INDICATOR: firm.sources},
        )
        row = feature_row(
            evidence_features(firm.evidence), statement_features(firm.statements), revenue_consistency(results)
        )
        out.append((firm, row, results))
    return out


def paired_bootstrap_auc(
    y: np.ndarray, with_iot: np.ndarray, statements: np.ndarray, rounds: int, seed: int
) -> dict[str, Any]:
    """AUCs of both models and their difference, each with a percentile bootstrap 95 % CI (paired resamples)."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng([seed, 7])
    samples: list[tuple[float, float]] = []  # (AUC with IoT, AUC of statements alone)
    while len(samples) < rounds:
        pick = rng.integers(0, len(y), len(y))
        if 0 < y[pick].sum() < len(pick):
            samples.append((roc_auc_score(y[pick], with_iot[pick]), roc_auc_score(y[pick], statements[pick])))
    draws = np.array(samples)
    point = (roc_auc_score(y, with_iot), roc_auc_score(y, statements))
    interval = lambda v: [float(x) for x in np.percentile(v, [2.5, 97.5])]
    return {
        "auc_iot": float(point[0]),
        "auc_iot_ci": interval(draws[:, 0]),
        "auc_statements": float(point[1]),
        "auc_statements_ci": interval(draws[:, 1]),
        "lift": float(point[0] - point[1]),
        "lift_ci": interval(draws[:, 0] - draws[:, 1]),
    }


def wilson(k: int, n: int) -> dict[str, Any]:
    """k of n with a Wilson score 95 % interval (scipy)."""
    from scipy.stats import binomtest

    if n == 0:
        return {"k": 0, "n": 0, "share": None, "ci": None}
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return {"k": k, "n": n, "share": k / n, "ci": [float(ci.low), float(ci.high)]}


def fraud_figures(book: list[tuple[LatentFirm, dict[str, Any], list]]) -> dict[str, Any]:
    """Caught per fraud variant, false flags per honest divergence, and the verification labels of each group."""
    labelled = [(firm, verification(results)) for firm, _, results in book]
    groups: dict[str, list[str]] = {}
    for firm, label in labelled:
        groups.setdefault(f"fraud:{firm.fraud}" if firm.fraud else f"honest:{firm.divergence}", []).append(label)
    groups["honest:all"] = [label for firm, label in labelled if not firm.fraud]
    out = {}
    for name in [f"fraud:{v}" for v in FRAUD_VARIANTS] + [f"honest:{d}" for d in DIVERGENCES] + ["honest:all"]:
        labels = groups.get(name, [])
        counts = Counter(labels)
        out[name] = {
            "failed": wilson(counts["failed"], len(labels)),
            "labels": {k: counts[k] for k in LABELS},
            "firms": len(labels),
        }
    return out


def _frame(book: list[tuple[LatentFirm, dict[str, Any], list]]) -> pd.DataFrame:
    return pd.DataFrame([row for _, row, _ in book])


def _defaults(book: list[tuple[LatentFirm, dict[str, Any], list]]) -> np.ndarray:
    return np.array([firm.defaulted for firm, _, _ in book], dtype=int)


def table(figures: dict[str, Any]) -> str:
    c = figures["config"]
    lines = [
        f"credit experiments (wuxin.bench.credit_latent): latent health H drives default, activity A = rho H + noise "
        f"drives the sensors; statements see corr {c['statement_signal']:.1f} of H; outages "
        f"{'follow H' if c['outages_follow_health'] else 'independent of H'}; fraud "
        f"{'follows H' if c['fraud_follows_health'] else 'independent of H'} ({c['fraud_share']:.0%})",
        f"IoT lift out of time: trained on cohort 1 ({figures['firms_per_cohort']} firms, originated "
        f"{dt.date(1970, 1, 1) + dt.timedelta(days=COHORT_1_DAY)}), measured on cohort 2 ({figures['firms_per_cohort']} "
        f"other firms, {dt.date(1970, 1, 1) + dt.timedelta(days=COHORT_2_DAY)}, default logit +{COHORT_2_SHIFT}); "
        f"95 % CI, bootstrap x{figures['bootstrap']} (lift: paired)",
        f"{'rho':>4} | {'defaults tr/te':>14} | {'AUC IoT+statements':>24} | {'AUC statements only':>24} | "
        f"{'lift (AUC difference)':>26} | in-sample AUC (cohort 1)",
    ]
    for r in figures["lift"]:
        lines.append(
            f"{r['rho']:4.1f} | {r['train_defaults']:6d}/{r['test_defaults']:<7d} | {_ci(r['auc_iot'], r['auc_iot_ci']):>24} | "
            f"{_ci(r['auc_statements'], r['auc_statements_ci']):>24} | {_ci(r['lift'], r['lift_ci'], signed=True):>26} | "
            f"{r['in_sample_auc_iot']:.3f} / {r['in_sample_auc_statements']:.3f}"
        )
    fraud = figures["fraud"]
    lines.append(
        f"cross-verification on all {sum(g['firms'] for k, g in fraud.items() if k != 'honest:all')} firms "
        "generated above (fraud does not depend on rho); caught / false flag = verification 'failed', Wilson 95 % CI"
    )
    lines.append(
        f"{'group':>42} | {'firms':>6} | {'failed (caught / false flag)':>30} | " + " ".join(f"{k:>9}" for k in LABELS)
    )
    for name, g in fraud.items():
        failed = g["failed"]
        share = (
            "-" if failed["share"] is None else f"{failed['share']:6.1%} [{failed['ci'][0]:.1%}, {failed['ci'][1]:.1%}]"
        )
        lines.append(
            f"{name:>42} | {g['firms']:6d} | {share:>30} | "
            + " ".join(f"{g['labels'][k] / max(g['firms'], 1):9.1%}" for k in LABELS)
        )
    lines.append(
        f"honest firms flagged as the device noise is switched on ({figures['false_flag_noise'][0]['all']['n']} "
        "honest firms, same seed; bias = per-device lognormal sigma, gaps = missing days up to x per device "
        "+ outages/year); a partial day is summed as stored, so an outage under-counts it"
    )
    for r in figures["false_flag_noise"]:
        a, none = r["all"], r["none"]
        lines.append(
            f"{r['case']:>42} | bias {r['device_bias_sigma']:.2f} gaps {r['missing_day_max']:.2f} "
            f"+ {r['outages_per_year']:.1f}/yr | all honest {a['share']:6.1%} [{a['ci'][0]:.1%}, {a['ci'][1]:.1%}]"
            f" | no divergence {none['share']:6.1%} [{none['ci'][0]:.1%}, {none['ci'][1]:.1%}]"
        )
    lines.append(f"experiments took {figures['elapsed_s']:.0f} s")
    return "\n".join(lines)


def _ci(value: float, ci: list[float], signed: bool = False) -> str:
    f = "+.3f" if signed else ".3f"
    return f"{value:{f}} [{ci[0]:{f}}, {ci[1]:{f}}]"
