"""Train and validate a scorecard on any data set: a CSV, a target column and a feature spec (YAML).

The spec names each feature, its type (numeric | categorical), the trend of the default rate the business
declares as it grows (ascending | descending | none), and special values (sentinel codes such as -1 or 999,
scored as missing: the conservative missing bin). An optional `date_column` splits out of time: training
uses the earliest 70% of rows, validation the latest 30%. Nothing here knows any particular data set.

    name: my-scorecard
    date_column: application_date      # optional
    simulated: false                   # true: a model of simulated data (demo tenants only)
    features:
      - {name: debt_ratio, type: numeric, trend: ascending, special_values: [-1]}
      - {name: region, type: categorical}

A declared ascending/descending trend is fitted as monotonic with the direction the data shows
(optbinning `auto_asc_desc`), so that validation can refuse a model whose data contradicts the business.
`evaluate` compares the scorecard with a plain optbinning + logistic baseline (no declared trends) and a
gradient-boosting challenger (scikit-learn HistGradientBoostingClassifier), by stratified k-fold and out of
time, each metric with a bootstrap 95% interval.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wuxin.errors import InvalidInput, NotFound
from wuxin.risk.governance import discrimination, out_of_time_split
from wuxin.risk.scorecard import FeatureSpec, Kind, Scorecard, ScorecardConfig, predict_pd, train_scorecard

TYPES: dict[str, Kind] = {"numeric": "numerical", "numerical": "numerical", "categorical": "categorical"}
DECLARED = ("ascending", "descending", "none")
HOLDOUT_SHARE = 0.3


@dataclass(frozen=True)
class SpecFeature:
    name: str
    kind: Kind
    trend: str = "none"
    special_values: tuple[Any, ...] = ()
    label: str = ""


@dataclass(frozen=True)
class DataSpec:
    features: tuple[SpecFeature, ...]
    name: str = "scorecard"
    date_column: str | None = None
    simulated: bool = False
    min_bin_share: float = 0.05
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def declared_trends(self) -> dict[str, str]:
        return {f.name: f.trend for f in self.features if f.trend in ("ascending", "descending")}

    def scorecard_config(self, seed: int = 20240601) -> ScorecardConfig:
        specs = tuple(
            FeatureSpec(
                f.name, f.kind, "auto_asc_desc" if f.trend in ("ascending", "descending") else "auto", f.label or f.name
            )
            for f in self.features
        )
        return ScorecardConfig(specs, name=self.name, min_bin_share=self.min_bin_share, seed=seed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "date_column": self.date_column,
            "simulated": self.simulated,
            "features": [
                {"name": f.name, "type": f.kind, "trend": f.trend, "special_values": list(f.special_values)}
                for f in self.features
            ],
        }


def load_spec(path: Path | str) -> DataSpec:
    import yaml

    source = Path(path)
    if not source.exists():
        raise NotFound(f"feature spec {source} does not exist")
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InvalidInput(f"feature spec {source} is not YAML: {exc}") from None
    return parse_spec(data, str(source))


def parse_spec(data: Any, where: str = "spec") -> DataSpec:
    if not isinstance(data, dict) or not isinstance(data.get("features"), list) or not data["features"]:
        raise InvalidInput(f"{where}: needs a non-empty `features:` list")
    features = tuple(_feature(item, i, where) for i, item in enumerate(data["features"]))
    date_column = data.get("date_column")
    if date_column is not None and not isinstance(date_column, str):
        raise InvalidInput(f"{where}: date_column must be a column name, got {date_column!r}")
    return DataSpec(
        features,
        str(data.get("name", "scorecard")),
        date_column,
        bool(data.get("simulated", False)),
        float(data.get("min_bin_share", 0.05)),
    )


def _feature(item: Any, index: int, where: str) -> SpecFeature:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise InvalidInput(f"{where}: feature #{index + 1} needs a `name`, got {item!r}")
    name = item["name"]
    kind = TYPES.get(str(item.get("type", "numeric")))
    if kind is None:
        raise InvalidInput(f"{where}: feature {name!r} type must be numeric or categorical, got {item.get('type')!r}")
    trend = str(item.get("trend", "none"))
    if trend not in DECLARED:
        raise InvalidInput(f"{where}: feature {name!r} trend must be one of {list(DECLARED)}, got {trend!r}")
    if kind == "categorical" and trend != "none":
        raise InvalidInput(f"{where}: categorical feature {name!r} cannot declare trend {trend!r}")
    special = item.get("special_values", []) or []
    if not isinstance(special, list):
        raise InvalidInput(f"{where}: feature {name!r} special_values must be a list, got {special!r}")
    return SpecFeature(name, kind, trend, tuple(special), str(item.get("label", "")))


# ---------------------------------------------------------------- data


@dataclass(frozen=True)
class Dataset:
    frame: pd.DataFrame  # the spec's features, special values as missing
    defaults: np.ndarray
    days: np.ndarray | None  # the date column as day numbers


def load_csv(path: Path | str, target: str, spec: DataSpec, bad_value: str | None = None) -> Dataset:
    source = Path(path)
    if not source.exists():
        raise NotFound(f"data file {source} does not exist")
    return prepare(pd.read_csv(source), target, spec, bad_value, str(source))


def prepare(
    raw: pd.DataFrame, target: str, spec: DataSpec, bad_value: str | None = None, where: str = "data"
) -> Dataset:
    """The spec's columns (special values as missing), 0/1 default flags, and the dates as day numbers."""
    missing = [
        c
        for c in [target, *(f.name for f in spec.features), *([spec.date_column] if spec.date_column else [])]
        if c not in raw.columns
    ]
    if missing:
        raise InvalidInput(f"{where}: column(s) {missing} not found (columns: {list(raw.columns)[:30]})")
    frame = pd.DataFrame({f.name: _column(raw[f.name], f, where) for f in spec.features})
    return Dataset(
        frame,
        _flags(raw[target], target, bad_value, where),
        _days(raw[spec.date_column], spec.date_column, where) if spec.date_column else None,
    )


def _column(column: pd.Series, f: SpecFeature, where: str) -> pd.Series:
    if f.kind == "categorical":
        out = column.astype(object).where(column.notna(), None)
        special = {str(v) for v in f.special_values}
        return out.map(lambda v: None if v is None or str(v) in special else str(v))
    numbers = pd.to_numeric(column, errors="coerce")
    bad = numbers.isna() & column.notna()
    if bad.any():
        raise InvalidInput(
            f"{where}: feature {f.name!r} is numeric, got {column[bad].iloc[0]!r} in row {int(bad.idxmax()) + 1}"
        )
    special_numbers = [float(v) for v in f.special_values]
    return numbers.astype(float).mask(numbers.isin(special_numbers))


def _flags(column: pd.Series, target: str, bad_value: str | None, where: str) -> np.ndarray:
    values = set(column.dropna().astype(str).unique())
    if bad_value is not None:
        if bad_value not in values:
            raise InvalidInput(
                f"{where}: target {target!r} never takes the bad value {bad_value!r} (values: {sorted(values)[:10]})"
            )
        return (column.astype(str) == bad_value).to_numpy(dtype=int)
    if column.isna().any() or not values <= {"0", "1", "0.0", "1.0", "True", "False"}:
        raise InvalidInput(
            f"{where}: target {target!r} must be 0/1 (1 = default), or name its bad value "
            f"(--bad-value); got {sorted(values)[:10]}"
        )
    return column.astype(str).isin(["1", "1.0", "True"]).to_numpy(dtype=int)


def _days(column: pd.Series, name: str, where: str) -> np.ndarray:
    dates = pd.to_datetime(column, errors="coerce")
    if dates.isna().any():
        raise InvalidInput(f"{where}: date column {name!r} has an unreadable date: {column[dates.isna()].iloc[0]!r}")
    return ((dates - pd.Timestamp("1970-01-01")) // pd.Timedelta(days=1)).to_numpy(dtype=float)


def time_split(data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    if data.days is None:
        raise InvalidInput("an out-of-time split needs `date_column` in the spec")
    return out_of_time_split(data.days, HOLDOUT_SHARE)


def rows(data: Dataset, mask: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    return data.frame[mask].reset_index(drop=True), data.defaults[mask]


# ---------------------------------------------------------------- the three models


def fit_scorecard(spec: DataSpec, frame: pd.DataFrame, flags: np.ndarray, seed: int = 20240601) -> Scorecard:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return train_scorecard(frame, flags, spec.scorecard_config(seed))


def fit_baseline(spec: DataSpec, frame: pd.DataFrame, flags: np.ndarray, seed: int = 20240601):
    """optbinning's BinningProcess (no declared trends) + a plain logistic regression on the WOE."""
    from optbinning import BinningProcess
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    names = [f.name for f in spec.features]
    categorical = [f.name for f in spec.features if f.kind == "categorical"]
    pipeline = Pipeline(
        [
            ("binning", BinningProcess(names, categorical_variables=categorical)),
            ("logistic", LogisticRegression(max_iter=1000, random_state=seed)),
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pipeline.fit(frame[names], flags)


def fit_challenger(spec: DataSpec, frame: pd.DataFrame, flags: np.ndarray, seed: int = 20240601):
    """A gradient-boosting challenger on the raw features (categories as the training rows show them)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    categories = {
        f.name: sorted({str(v) for v in frame[f.name].dropna()}) for f in spec.features if f.kind == "categorical"
    }
    model = HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.05, categorical_features="from_dtype", random_state=seed
    )
    return model.fit(_gbm_frame(frame, categories), flags), categories


def _gbm_frame(frame: pd.DataFrame, categories: Mapping[str, list[str]]) -> pd.DataFrame:
    out = frame.copy()
    for name, known in categories.items():  # an unseen category becomes missing
        out[name] = pd.Categorical(out[name].astype(object), categories=known)
    return out


def _predict(kind: str, spec: DataSpec, fitted, frame: pd.DataFrame) -> np.ndarray:
    if kind == "scorecard":
        return predict_pd(fitted, frame)
    if kind == "baseline":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fitted.predict_proba(frame[[f.name for f in spec.features]])[:, 1]
    model, categories = fitted
    return model.predict_proba(_gbm_frame(frame, categories))[:, 1]


FITTERS = {"scorecard": fit_scorecard, "baseline": fit_baseline, "challenger": fit_challenger}
LABELS = {
    "scorecard": "scorecard (declared trends) 评分卡",
    "baseline": "optbinning + logistic baseline 基线",
    "challenger": "gradient boosting challenger 挑战者",
}


def evaluate(
    spec: DataSpec, data: Dataset, folds: int = 5, seed: int = 20240601, resamples: int = 500
) -> dict[str, Any]:
    """k-fold (stratified, seeded; metrics on the pooled out-of-fold predictions) and, with a date column,
    out of time, for the scorecard, the baseline and the challenger."""
    from sklearn.model_selection import StratifiedKFold

    out: dict[str, Any] = {
        "rows": int(len(data.defaults)),
        "defaults": int(data.defaults.sum()),
        "folds": folds,
        "models": {},
    }
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for kind, fit in FITTERS.items():
        pooled = np.zeros(len(data.defaults))
        per_fold = []
        for train_idx, test_idx in splitter.split(data.frame, data.defaults):
            train = np.zeros(len(data.defaults), dtype=bool)
            train[train_idx] = True
            fitted = fit(spec, *rows(data, train), seed)
            pooled[test_idx] = _predict(kind, spec, fitted, data.frame.iloc[test_idx].reset_index(drop=True))
            per_fold.append(float(_auc(data.defaults[test_idx], pooled[test_idx])))
        entry = {
            "label": LABELS[kind],
            "kfold": {**discrimination(data.defaults, pooled, resamples), "fold_auc": per_fold},
        }
        if data.days is not None:
            train, oot = time_split(data)
            fitted = fit(spec, *rows(data, train), seed)
            test_frame, test_flags = rows(data, oot)
            entry["out_of_time"] = discrimination(test_flags, _predict(kind, spec, fitted, test_frame), resamples)
        out["models"][kind] = entry
    return out


def _auc(flags: np.ndarray, pd_: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return roc_auc_score(flags, pd_) if flags.min() != flags.max() else float("nan")


def format_evaluation(result: dict[str, Any]) -> str:
    """The comparison as a plain table (what `wuxin credit validate` prints)."""
    lines = [
        f"{result['rows']} rows, {result['defaults']} defaults; {result['folds']}-fold (pooled out-of-fold) "
        "and out-of-time (latest 30% by date); 95% bootstrap intervals",
        f"{'model':<46} {'k-fold AUC':>24} {'k-fold KS':>22} {'out-of-time AUC':>24} {'out-of-time KS':>22}",
    ]
    for entry in result["models"].values():
        k = entry["kfold"]
        o = entry.get("out_of_time")
        lines.append(
            f"{entry['label']:<46} {_ci(k['auc'], k['auc_ci95']):>24} {_ci(k['ks'], k['ks_ci95']):>22} "
            f"{_ci(o['auc'], o['auc_ci95']) if o else 'no date column':>24} {_ci(o['ks'], o['ks_ci95']) if o else '':>22}"
        )
    return "\n".join(lines)


def _ci(value: float, interval: list[float]) -> str:
    return f"{value:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]"
