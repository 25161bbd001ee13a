"""A synthetic loan book with its own column names (nothing like German Credit's) for the governance tests:
the default odds rise with `debt_ratio`, fall with `months_on_book`, and differ by `sector`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

SPEC = """name: {name}
date_column: loan_date
features:
  - {{name: debt_ratio, type: numeric, trend: {debt_trend}, special_values: [-1]}}
  - {{name: months_on_book, type: numeric, trend: descending}}
  - {{name: sector, type: categorical}}
"""


def write_book(directory: Path, rows: int = 1000, seed: int = 7) -> Path:
    rng = np.random.default_rng(seed)
    debt = rng.uniform(0.0, 1.0, rows)
    months = rng.integers(1, 120, rows)
    sector = rng.choice(["textile", "dairy", "logistics", "solar"], rows)
    log_odds = (
        -2.2 + 3.0 * debt - 0.015 * months + np.select([sector == "logistics", sector == "solar"], [1.0, -0.7], 0.0)
    )
    defaulted = (rng.uniform(0, 1, rows) < 1 / (1 + np.exp(-log_odds))).astype(int)
    debt = np.where(rng.uniform(0, 1, rows) < 0.03, -1.0, np.round(debt, 4))  # -1: "not reported"
    start = dt.date(2023, 1, 1)
    dates = [(start + dt.timedelta(days=int(d))).isoformat() for d in np.sort(rng.integers(0, 730, rows))]
    path = directory / "loan_book.csv"
    pd.DataFrame(
        {"loan_date": dates, "debt_ratio": debt, "months_on_book": months, "sector": sector, "defaulted": defaulted}
    ).to_csv(path, index=False)
    return path


def write_spec(directory: Path, debt_trend: str = "ascending", name: str = "sme-book") -> Path:
    path = directory / f"spec-{debt_trend}.yaml"
    path.write_text(SPEC.format(name=name, debt_trend=debt_trend), encoding="utf-8")
    return path
