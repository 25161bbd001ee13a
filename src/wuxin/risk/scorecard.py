"""Scorecard engine: optimal WOE binning (optbinning) + logistic regression, scaled to points.

Training uses optbinning to choose each feature's bins under its declared monotonic trend and
scikit-learn to fit the coefficients; the result is a `Scorecard` holding only splits, WOE values,
coefficients and the scaling, so scoring needs neither library and a model round-trips exactly
through `model_to_dict` / `model_from_dict`. Its version is the SHA-256 of its canonical JSON.

Conventions: the target is 1 = default (bad). WOE_i = ln(share of goods in bin i / share of bads),
so a higher WOE is safer. Points follow the usual scaling: score = offset + factor * ln(odds good:bad),
factor = PDO / ln 2, offset = base_score - factor * ln(base_odds); e.g. 600 points at 50:1, PDO 20.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd

from wuxin.errors import InvalidInput

SCHEMA = "wuxin.scorecard/1"
Kind = Literal["numerical", "categorical"]
# Declared trend of the default rate as the feature grows. "auto": the library picks it from data;
# "auto_asc_desc": monotonic, the data picks the direction (model governance then checks it against the
# direction the business declared, and refuses a contradiction).
TRENDS = {
    "ascending": "ascending",
    "descending": "descending",
    "auto": "auto",
    "peak": "peak",
    "valley": "valley",
    "auto_asc_desc": "auto_asc_desc",
}
FeatureTable: TypeAlias = pd.DataFrame | Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class FeatureSpec:
    """One model input: its kind and the trend of default rate the business expects as it grows."""

    name: str
    kind: Kind = "numerical"
    trend: str = "auto"
    label: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("numerical", "categorical"):
            raise InvalidInput(f"feature {self.name!r}: kind must be numerical or categorical, got {self.kind!r}")
        if self.trend not in TRENDS:
            raise InvalidInput(f"feature {self.name!r}: trend must be one of {sorted(TRENDS)}, got {self.trend!r}")
        if self.kind == "categorical" and self.trend != "auto":
            raise InvalidInput(
                f"categorical feature {self.name!r} cannot declare trend {self.trend!r}: "
                "its bins are ordered by default rate"
            )


@dataclass(frozen=True)
class ScoreScaling:
    """Points scaling: `base_score` points at odds `base_odds`:1 (good:bad), `pdo` points double the odds."""

    base_score: float = 600.0
    base_odds: float = 50.0
    pdo: float = 20.0

    def __post_init__(self) -> None:
        if self.base_odds <= 0 or self.pdo <= 0:
            raise InvalidInput(f"score scaling needs base_odds > 0 and pdo > 0, got {self.base_odds} and {self.pdo}")

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        return self.base_score - self.factor * math.log(self.base_odds)

    def score_from_log_odds_good(self, log_odds_good: float) -> float:
        return self.offset + self.factor * log_odds_good

    def pd_from_score(self, score: float) -> float:
        """Probability of default implied by a score."""
        return 1.0 / (1.0 + math.exp((score - self.offset) / self.factor))


@dataclass(frozen=True)
class ScorecardConfig:
    """What to train: the features, the scaling, and the fitting knobs (all seeded, deterministic)."""

    features: tuple[FeatureSpec, ...]
    scaling: ScoreScaling = ScoreScaling()
    name: str = "scorecard"
    min_bin_share: float | None = None  # smallest bin as a share of rows (optbinning min_bin_size)
    max_bins: int | None = None
    min_iv: float = 0.0  # drop features whose information value is below this
    regularisation_c: float = 1.0  # inverse L2 strength of the logistic regression
    seed: int = 20240601

    def __post_init__(self) -> None:
        names = [f.name for f in self.features]
        if not names:
            raise InvalidInput("scorecard config has no features")
        if len(set(names)) != len(names):
            raise InvalidInput(f"scorecard config repeats a feature: {sorted(n for n in names if names.count(n) > 1)}")


@dataclass(frozen=True)
class FeatureBins:
    """One feature's frozen bins: numerical bin i is splits[i-1] <= x < splits[i]; categorical bin i
    holds `categories[i]`; missing values and unseen categories get `missing_woe`."""

    name: str
    kind: Kind
    trend: str
    woe: tuple[float, ...]
    missing_woe: float
    coefficient: float
    iv: float
    splits: tuple[float, ...] = ()
    categories: tuple[tuple[str, ...], ...] = ()
    label: str = ""

    @property
    def missing_index(self) -> int:
        return len(self.woe)

    def bin_index(self, value: Any) -> int:
        """The bin a value falls in; `missing_index` for missing values and unseen categories."""
        if _is_missing(value):
            return self.missing_index
        if self.kind == "categorical":
            return self._category_index().get(str(value), self.missing_index)
        return int(np.searchsorted(self.splits, _as_number(self.name, value), side="right"))

    def bin_indices(self, values: Sequence[Any] | pd.Series) -> np.ndarray:
        """Vectorised `bin_index`."""
        series = pd.Series(values, dtype=object if self.kind == "categorical" else None)
        missing = series.isna().to_numpy()
        if self.kind == "categorical":
            lookup = self._category_index()
            found = series.astype(str).map(lookup).fillna(self.missing_index).to_numpy(dtype=int)
            return np.where(missing, self.missing_index, found)
        numbers = _as_numbers(self.name, series)
        missing = missing | ~np.isfinite(numbers)
        idx = np.searchsorted(np.asarray(self.splits, dtype=float), numbers, side="right")
        return np.where(missing, self.missing_index, idx)

    @property
    def scored_missing_woe(self) -> float:
        """The WOE a missing value scores with: never better than the worst bin, so that missing is never
        "average". In points the worst is the lowest WOE under the expected negative coefficient (a
        higher WOE is safer) and the highest under a wrong-sign one; the fitted missing WOE counts only
        when it is worse still."""
        candidates = (*self.woe, self.missing_woe)
        return max(candidates) if self.coefficient > 0 else min(candidates)

    def woe_of_bins(self, indices: np.ndarray, as_fitted: bool = False) -> np.ndarray:
        """WOE of each bin index; missing scores conservatively unless `as_fitted` (training's regression)."""
        missing = self.missing_woe if as_fitted else self.scored_missing_woe
        return np.append(np.asarray(self.woe, dtype=float), missing)[indices]

    def bin_points(self, scaling: ScoreScaling) -> tuple[float, ...]:
        """Points of each regular bin, then of the missing bin (conservative: see `scored_missing_woe`)."""
        return tuple(-scaling.factor * self.coefficient * w for w in (*self.woe, self.scored_missing_woe))

    def describe_bin(self, index: int) -> str:
        if index == self.missing_index:
            return "missing"
        if self.kind == "categorical":
            return "{" + ", ".join(self.categories[index]) + "}"
        low = self.splits[index - 1] if index > 0 else -math.inf
        high = self.splits[index] if index < len(self.splits) else math.inf
        return f"[{low:g}, {high:g})"

    def _category_index(self) -> dict[str, int]:
        return {category: i for i, group in enumerate(self.categories) for category in group}


@dataclass(frozen=True)
class Scorecard:
    """A trained scorecard: per-feature bins and coefficients, an intercept, a scaling."""

    name: str
    features: tuple[FeatureBins, ...]
    intercept: float
    scaling: ScoreScaling
    trained: Mapping[str, Any] = field(default_factory=dict)  # rows, defaults, libraries: not hashed

    @cached_property  # the content is frozen: hash it once, not at every score
    def version(self) -> str:
        return model_version(self)

    @property
    def base_points(self) -> float:
        return self.scaling.offset - self.scaling.factor * self.intercept

    def feature(self, name: str) -> FeatureBins:
        for bins in self.features:
            if bins.name == name:
                return bins
        raise InvalidInput(f"scorecard {self.name!r} has no feature {name!r}")


@dataclass(frozen=True)
class FeaturePoints:
    """What one feature contributed to a score."""

    name: str
    value: Any
    bin: str
    woe: float
    points: float
    best_points: float

    @property
    def points_below_best(self) -> float:
        return self.best_points - self.points


@dataclass(frozen=True)
class ScoreBreakdown:
    """A score with its PD and every feature's points; `inputs` are the values as scored."""

    model_version: str
    score: float
    pd: float
    base_points: float
    contributions: tuple[FeaturePoints, ...]

    @property
    def inputs(self) -> dict[str, Any]:
        return {c.name: c.value for c in self.contributions}


def train_scorecard(table: FeatureTable, defaults: Sequence[int] | np.ndarray, config: ScorecardConfig) -> Scorecard:
    """Fit optimal bins per feature, then a logistic regression on their WOE, and scale to points."""
    frame = as_frame(table, [f.name for f in config.features])
    target = as_default_flags(defaults, len(frame))
    fitted = [_fit_bins(spec, frame[spec.name], target, config) for spec in config.features]
    kept: list[FeatureBins] = [bins for bins in fitted if bins.iv >= config.min_iv]
    if not kept:
        raise InvalidInput(f"no feature reaches min_iv {config.min_iv}: best IV {max(b.iv for b in fitted):.4f}")
    coefficients, intercept = _fit_logistic(kept, frame, target, config)
    wrong_sign = []
    while len(kept) > 1 and max(coefficients) > 0:  # a higher (safer) WOE raising the default odds: collinearity
        worst = int(np.argmax(coefficients))
        wrong_sign.append(kept[worst].name)
        kept = kept[:worst] + kept[worst + 1 :]
        coefficients, intercept = _fit_logistic(kept, frame, target, config)
    features = tuple(_with_coefficient(bins, c) for bins, c in zip(kept, coefficients))
    facts = _training_facts(frame, target, fitted, kept) | {"dropped_wrong_sign": wrong_sign}
    return Scorecard(config.name, features, intercept, config.scaling, facts)


def woe_matrix(model_features: Sequence[FeatureBins], table: FeatureTable, as_fitted: bool = False) -> np.ndarray:
    """Rows x features WOE values under the frozen bins (missing conservative unless `as_fitted`)."""
    frame = as_frame(table, [f.name for f in model_features])
    columns = [bins.woe_of_bins(bins.bin_indices(frame[bins.name]), as_fitted) for bins in model_features]
    return np.column_stack(columns) if columns else np.zeros((len(frame), 0))


def log_odds_of_default(model: Scorecard, table: FeatureTable) -> np.ndarray:
    coefficients = np.asarray([b.coefficient for b in model.features])
    return model.intercept + woe_matrix(model.features, table) @ coefficients


def predict_pd(model: Scorecard, table: FeatureTable) -> np.ndarray:
    """Probability of default for every row."""
    return 1.0 / (1.0 + np.exp(-log_odds_of_default(model, table)))


def score_table(model: Scorecard, table: FeatureTable) -> np.ndarray:
    """Scores (points) for every row."""
    return model.scaling.offset - model.scaling.factor * log_odds_of_default(model, table)


def score_features(model: Scorecard, features: Mapping[str, Any]) -> ScoreBreakdown:
    """Score one applicant; absent features count as missing, never as zero."""
    contributions = tuple(_feature_points(bins, features.get(bins.name), model.scaling) for bins in model.features)
    score = model.base_points + sum(c.points for c in contributions)
    return ScoreBreakdown(model.version, score, model.scaling.pd_from_score(score), model.base_points, contributions)


def model_to_dict(model: Scorecard) -> dict[str, Any]:
    """A JSON-able dict of the model (splits, WOE, coefficients, scaling) with its version."""
    body = _content(model)
    return {**body, "version": _hash(body), "trained": _jsonable(dict(model.trained))}


def model_from_dict(data: Mapping[str, Any]) -> Scorecard:
    """Load a model written by `model_to_dict`; refuses a wrong schema or a version that does not match."""
    if data.get("schema") != SCHEMA:
        raise InvalidInput(f"scorecard schema must be {SCHEMA!r}, got {data.get('schema')!r}")
    try:
        model = Scorecard(
            name=str(data["name"]),
            features=tuple(_bins_from_dict(f) for f in data["features"]),
            intercept=float(data["intercept"]),
            scaling=ScoreScaling(**data["scaling"]),
            trained=dict(data.get("trained", {})),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"scorecard {data.get('name')!r} is malformed: {exc!r}") from exc
    stated = data.get("version")
    if stated is not None and stated != model.version:
        raise InvalidInput(
            f"scorecard {model.name!r} version mismatch: stated {stated}, content hashes to {model.version}"
        )
    return model


def model_version(model: Scorecard) -> str:
    """SHA-256 of the canonical JSON of what scores (training facts excluded)."""
    return _hash(_content(model))


def as_frame(table: FeatureTable, columns: Sequence[str]) -> pd.DataFrame:
    """A DataFrame from a DataFrame or rows of mappings; absent columns are all missing."""
    frame = table if isinstance(table, pd.DataFrame) else pd.DataFrame(list(table))
    frame = frame.reset_index(drop=True)
    for column in columns:
        if column not in frame.columns:
            frame[column] = np.nan
    return frame


def as_default_flags(defaults: Sequence[int] | np.ndarray, rows: int) -> np.ndarray:
    """0/1 default flags checked against the row count; both outcomes must be present."""
    flags = np.asarray(defaults)
    if flags.shape != (rows,):
        raise InvalidInput(f"default flags: expected {rows}, got shape {flags.shape}")
    if not np.isin(flags, (0, 1)).all():
        raise InvalidInput(f"default flags must be 0 or 1, got {sorted(set(flags.tolist()) - {0, 1})[:5]}")
    flags = flags.astype(int)
    if flags.min() == flags.max():
        raise InvalidInput(f"default flags need both outcomes, got only {flags[0]} in {rows} rows")
    return flags


def default_flags(days_past_due: Sequence[int], threshold_days: int = 90) -> np.ndarray:
    """Loan outcomes to flags: 1 when days past due reached `threshold_days` (Basel: 90)."""
    return (np.asarray(days_past_due, dtype=float) >= threshold_days).astype(int)


def _fit_bins(spec: FeatureSpec, column: pd.Series, target: np.ndarray, config: ScorecardConfig) -> FeatureBins:
    from optbinning import OptimalBinning

    options: dict[str, Any] = {"name": spec.name, "dtype": spec.kind, "solver": "cp"}
    if spec.kind == "numerical":
        options["monotonic_trend"] = TRENDS[spec.trend]
    if config.min_bin_share is not None:
        options["min_bin_size"] = config.min_bin_share
    if config.max_bins is not None:
        options["max_n_bins"] = config.max_bins
    values = _numbers_or_nan(spec.name, column) if spec.kind == "numerical" else _categories(column)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas deprecation chatter from inside optbinning
        binning = OptimalBinning(**options).fit(values, target)
        if binning.status not in ("OPTIMAL", "FEASIBLE"):
            raise InvalidInput(f"binning of feature {spec.name!r} failed: solver status {binning.status}")
        table = binning.binning_table.build()
    n_bins = len(binning.splits) + (1 if spec.kind == "numerical" else 0)
    woe = tuple(float(w) for w in table["WoE"].iloc[:n_bins])
    missing_woe = float(table["WoE"].iloc[n_bins + 1])  # rows: bins, Special, Missing, Totals
    iv = float(table.loc["Totals", "IV"])
    if spec.kind == "numerical":
        return FeatureBins(
            spec.name,
            spec.kind,
            spec.trend,
            woe,
            missing_woe,
            0.0,
            iv,
            splits=tuple(float(s) for s in binning.splits),
            label=spec.label,
        )
    groups = tuple(tuple(str(c) for c in group) for group in binning.splits)
    return FeatureBins(spec.name, spec.kind, spec.trend, woe, missing_woe, 0.0, iv, categories=groups, label=spec.label)


def _fit_logistic(
    kept: list[FeatureBins], frame: pd.DataFrame, target: np.ndarray, config: ScorecardConfig
) -> tuple[list[float], float]:
    from sklearn.linear_model import LogisticRegression

    regression = LogisticRegression(C=config.regularisation_c, max_iter=1000, random_state=config.seed)
    regression.fit(woe_matrix(kept, frame, as_fitted=True), target)
    return [float(c) for c in regression.coef_[0]], float(regression.intercept_[0])


def _with_coefficient(bins: FeatureBins, coefficient: float) -> FeatureBins:
    return FeatureBins(
        bins.name,
        bins.kind,
        bins.trend,
        bins.woe,
        bins.missing_woe,
        coefficient,
        bins.iv,
        bins.splits,
        bins.categories,
        bins.label,
    )


def _training_facts(
    frame: pd.DataFrame, target: np.ndarray, fitted: Sequence[FeatureBins], kept: Sequence[FeatureBins]
) -> dict[str, Any]:
    import optbinning
    import sklearn

    kept_names = {b.name for b in kept}
    return {
        "rows": len(frame),
        "defaults": int(target.sum()),
        "dropped_low_iv": [b.name for b in fitted if b.name not in kept_names],
        "libraries": {"optbinning": optbinning.__version__, "scikit-learn": sklearn.__version__},
    }


def _feature_points(bins: FeatureBins, value: Any, scaling: ScoreScaling) -> FeaturePoints:
    index = bins.bin_index(value)
    points = bins.bin_points(scaling)
    shown = None if _is_missing(value) else value
    return FeaturePoints(
        bins.name,
        shown,
        bins.describe_bin(index),
        bins.woe_of_bins(np.asarray([index]))[0].item(),
        points[index],
        max(points[:-1]),
    )


def _content(model: Scorecard) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "name": model.name,
        "intercept": model.intercept,
        "scaling": {
            "base_score": model.scaling.base_score,
            "base_odds": model.scaling.base_odds,
            "pdo": model.scaling.pdo,
        },
        "features": [_bins_to_dict(b) for b in model.features],
    }


def _bins_to_dict(bins: FeatureBins) -> dict[str, Any]:
    return {
        "name": bins.name,
        "kind": bins.kind,
        "trend": bins.trend,
        "label": bins.label,
        "splits": list(bins.splits),
        "categories": [list(g) for g in bins.categories],
        "woe": list(bins.woe),
        "missing_woe": bins.missing_woe,
        "coefficient": bins.coefficient,
        "iv": bins.iv,
    }


def _bins_from_dict(data: Mapping[str, Any]) -> FeatureBins:
    bins = FeatureBins(
        name=str(data["name"]),
        kind=data["kind"],
        trend=str(data["trend"]),
        woe=tuple(float(w) for w in data["woe"]),
        missing_woe=float(data["missing_woe"]),
        coefficient=float(data["coefficient"]),
        iv=float(data["iv"]),
        splits=tuple(float(s) for s in data.get("splits", ())),
        categories=tuple(tuple(str(c) for c in g) for g in data.get("categories", ())),
        label=str(data.get("label", "")),
    )
    expected = len(bins.splits) + 1 if bins.kind == "numerical" else len(bins.categories)
    if bins.kind not in ("numerical", "categorical") or expected != len(bins.woe):
        raise ValueError(f"feature {bins.name!r} ({bins.kind}) has {len(bins.woe)} WOE values for {expected} bins")
    return bins


def _hash(body: Mapping[str, Any]) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    return isinstance(value, float) and not math.isfinite(value)


def _as_number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidInput(f"feature {name!r} is numerical, got {value!r}")
    return float(value)


def _as_numbers(name: str, series: pd.Series) -> np.ndarray:
    numbers = pd.to_numeric(series, errors="coerce")
    bad = numbers.isna() & series.notna()
    if bad.any():
        raise InvalidInput(f"feature {name!r} is numerical, got {series[bad].iloc[0]!r} in row {int(bad.idxmax())}")
    return numbers.to_numpy(dtype=float)


def _numbers_or_nan(name: str, column: pd.Series) -> np.ndarray:
    numbers = _as_numbers(name, column)
    return np.where(np.isfinite(numbers), numbers, np.nan)


def _categories(column: pd.Series) -> np.ndarray:
    return np.asarray([None if pd.isna(v) else str(v) for v in column], dtype=object)
