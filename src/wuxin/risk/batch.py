"""Scoring many enterprises at once: the same breakdowns as `score_features`, binned column by column."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from wuxin.risk.scorecard import FeaturePoints, ScoreBreakdown, Scorecard, as_frame


def score_rows(model: Scorecard, rows: Sequence[Mapping[str, Any]] | pd.DataFrame) -> list[ScoreBreakdown]:
    """One `ScoreBreakdown` per row, equal to `score_features(model, row)` (missing stays missing)."""
    frame = as_frame(rows, [f.name for f in model.features])
    columns = [_column(model, bins, frame[bins.name]) for bins in model.features]
    version, base = model.version, model.base_points
    out = []
    for i in range(len(frame)):
        contributions = tuple(
            FeaturePoints(
                name, values[i], described[indices[i]], float(woe[indices[i]]), float(points[indices[i]]), best
            )
            for name, values, indices, described, woe, points, best in columns
        )
        score = base + sum(c.points for c in contributions)
        out.append(ScoreBreakdown(version, score, model.scaling.pd_from_score(score), base, contributions))
    return out


def _column(model: Scorecard, bins, series: pd.Series) -> tuple:
    indices = bins.bin_indices(series)
    points = np.asarray(bins.bin_points(model.scaling), dtype=float)
    woe = np.append(np.asarray(bins.woe, dtype=float), bins.scored_missing_woe)
    described = [bins.describe_bin(i) for i in range(bins.missing_index + 1)]
    values = [None if index == bins.missing_index and _missing(v) else v for v, index in zip(series.tolist(), indices)]
    return bins.name, values, indices.tolist(), described, woe, points, max(points[:-1].tolist())


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not np.isfinite(value))
