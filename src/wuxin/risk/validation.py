"""Validation report: discrimination (AUC, KS, Gini), stability (PSI on frozen bins), calibration by grade."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from wuxin.errors import InvalidInput
from wuxin.risk.decisions import DEFAULT_GRADES, GradeBand, grade_for_pd
from wuxin.risk.scorecard import FeatureTable, Scorecard, as_default_flags, as_frame, predict_pd

PSI_FLOOR = 1e-4  # share used for an empty bin so the log stays finite


@dataclass(frozen=True)
class GradeCalibration:
    """Predicted mean PD against the observed default rate within one grade."""

    grade: str
    rows: int
    defaults: int
    predicted_pd: float
    observed_default_rate: float


@dataclass(frozen=True)
class ValidationReport:
    """How a model performs on a sample, and how far the sample drifted from the reference (training) one."""

    model_version: str
    rows: int
    defaults: int
    auc: float
    ks: float
    gini: float
    score_psi: float | None
    feature_psi: Mapping[str, float]
    calibration: tuple[GradeCalibration, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_version": self.model_version,
            "rows": self.rows,
            "defaults": self.defaults,
            "auc": self.auc,
            "ks": self.ks,
            "gini": self.gini,
            "score_psi": self.score_psi,
            "feature_psi": dict(self.feature_psi),
            "calibration": [vars(c) for c in self.calibration],
        }


def auc(defaults: Sequence[int] | np.ndarray, pd: Sequence[float] | np.ndarray) -> float:
    """Area under the ROC curve of PD against default flags."""
    from sklearn.metrics import roc_auc_score

    flags = as_default_flags(defaults, len(pd))
    return float(roc_auc_score(flags, np.asarray(pd, dtype=float)))


def ks(defaults: Sequence[int] | np.ndarray, pd: Sequence[float] | np.ndarray) -> float:
    """Kolmogorov-Smirnov: the largest gap between the cumulative PD distributions of bads and goods."""
    from sklearn.metrics import roc_curve

    flags = as_default_flags(defaults, len(pd))
    false_positive, true_positive, _ = roc_curve(flags, np.asarray(pd, dtype=float))
    return float(np.max(true_positive - false_positive))


def gini(auc_value: float) -> float:
    return 2.0 * auc_value - 1.0


def psi(reference_counts: Sequence[int] | np.ndarray, sample_counts: Sequence[int] | np.ndarray) -> float:
    """Population stability index between two count vectors over the same frozen bins."""
    reference = np.asarray(reference_counts, dtype=float)
    sample = np.asarray(sample_counts, dtype=float)
    if reference.shape != sample.shape or reference.sum() <= 0 or sample.sum() <= 0:
        raise InvalidInput(
            f"PSI needs two non-empty count vectors of one length, got {reference.shape} "
            f"({reference.sum():g} rows) and {sample.shape} ({sample.sum():g} rows)"
        )
    expected = np.maximum(reference / reference.sum(), PSI_FLOOR)
    actual = np.maximum(sample / sample.sum(), PSI_FLOOR)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def feature_psi(model: Scorecard, reference: FeatureTable, sample: FeatureTable) -> dict[str, float]:
    """PSI of every feature over the model's own bins (missing is a bin too)."""
    names = [f.name for f in model.features]
    ref_frame, sample_frame = as_frame(reference, names), as_frame(sample, names)
    return {
        f.name: psi(
            _bin_counts(f.bin_indices(ref_frame[f.name]), f.missing_index + 1),
            _bin_counts(f.bin_indices(sample_frame[f.name]), f.missing_index + 1),
        )
        for f in model.features
    }


def grade_psi(reference_pd: np.ndarray, sample_pd: np.ndarray, bands: Sequence[GradeBand] = DEFAULT_GRADES) -> float:
    """PSI of the grade mix: the grade bands are the frozen score bins."""
    return psi(_grade_counts(reference_pd, bands), _grade_counts(sample_pd, bands))


def calibration_by_grade(
    defaults: Sequence[int] | np.ndarray, pd: Sequence[float] | np.ndarray, bands: Sequence[GradeBand] = DEFAULT_GRADES
) -> tuple[GradeCalibration, ...]:
    """Per grade holding any row: rows, defaults, mean predicted PD, observed default rate."""
    flags = np.asarray(defaults, dtype=int)
    pds = np.asarray(pd, dtype=float)
    grades = np.asarray([grade_for_pd(float(p), bands) for p in pds])
    rows = []
    for band in bands:
        mask = grades == band.grade
        if mask.any():
            rows.append(
                GradeCalibration(
                    band.grade,
                    int(mask.sum()),
                    int(flags[mask].sum()),
                    float(pds[mask].mean()),
                    float(flags[mask].mean()),
                )
            )
    return tuple(rows)


def validation_report(
    model: Scorecard,
    sample: FeatureTable,
    defaults: Sequence[int] | np.ndarray,
    reference: FeatureTable | None = None,
    bands: Sequence[GradeBand] = DEFAULT_GRADES,
) -> ValidationReport:
    """Validate on `sample`; with `reference` (the training sample) also PSI of features and grades."""
    sample_pd = predict_pd(model, sample)
    flags = as_default_flags(defaults, len(sample_pd))
    auc_value = auc(flags, sample_pd)
    drift: dict[str, float] = {}
    score_drift = None
    if reference is not None:
        drift = feature_psi(model, reference, sample)
        score_drift = grade_psi(predict_pd(model, reference), sample_pd, bands)
    return ValidationReport(
        model.version,
        len(flags),
        int(flags.sum()),
        auc_value,
        ks(flags, sample_pd),
        gini(auc_value),
        score_drift,
        drift,
        calibration_by_grade(flags, sample_pd, bands),
    )


def _bin_counts(indices: np.ndarray, bins: int) -> np.ndarray:
    return np.bincount(indices, minlength=bins)


def _grade_counts(pd: np.ndarray, bands: Sequence[GradeBand]) -> np.ndarray:
    position = {band.grade: i for i, band in enumerate(bands)}
    return np.bincount([position[grade_for_pd(float(p), bands)] for p in pd], minlength=len(bands))
