"""Cross-verification (交叉验证): reported figures against what the devices measured (pure).

Each check compares one reported figure of a period (revenue, billed kWh, stock, mileage, milk sold)
with an indicator summed (or read at the period end) over the same days, extrapolated over the days
the devices did not cover. The consistency ratio is reported / evidenced: 1.0 agrees, 2.4 means the
report claims 2.4 times what the devices support. Checks are declared as data: a check applies to an
enterprise whenever it has both the reported figure and the indicator, whatever its industry.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from wuxin.risk.features import DailySeries

TOLERANCE = 1.3  # within 1/1.3 .. 1.3 of the evidence is consistent (statement timing, prices, stock)
MIN_COVERAGE = 0.6  # the devices must have covered this share of the period's days
Status = Literal["consistent", "overstated", "understated", "insufficient_evidence"]


@dataclass(frozen=True)
class CheckSpec:
    """One declared check: which reported figure, against which indicator, scaled how, said how."""

    name: str
    reported: str  # the reported figure's name, e.g. "revenue_cny"
    indicator: str  # the enterprise-day indicator holding the evidence
    aggregate: Literal["sum", "last"]
    factor: float  # evidence x factor is in the reported figure's unit
    what: str  # words for the reported figure
    evidence_words: str  # words for the evidence, as the subject of "support"
    unit: str


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec("revenue_vs_output", "revenue_cny", "output_value_cny", "sum", 1.0, "revenue",
              "the machines' metered output", "CNY"),
    CheckSpec("revenue_vs_charging", "revenue_cny", "revenue_cny", "sum", 1.0, "revenue",
              "the charging piles' metered sessions", "CNY"),
    CheckSpec("electricity_bill_vs_meter", "electricity_kwh", "energy_kwh", "sum", 1.0, "billed electricity",
              "the energy meters", "kWh"),
    CheckSpec("stock_vs_count", "stock_units", "stock_units_rfid", "last", 1.0, "stock",
              "the RFID count in the warehouse", "units"),
    CheckSpec("wms_outbound_vs_camera", "wms_out_units", "units_out", "sum", 1.0, "WMS outbound",
              "the gate cameras' counts", "units"),
    CheckSpec("fleet_km_vs_tracks", "vehicle_km", "distance_gps_km", "sum", 1.0, "fleet mileage",
              "the vehicles' GPS tracks", "km"),
    CheckSpec("milk_sales_vs_meters", "milk_sales_kg", "milk_kg", "sum", 1.0, "milk sales",
              "the milking-parlour meters", "kg"),
    CheckSpec("milk_sales_vs_herd", "milk_sales_kg", "herd_count", "sum", 21.0, "milk sales",
              "the ear-tagged herd x lactation (21 kg per head per day)", "kg"),
)
REVENUE_CHECKS = frozenset(c.name for c in CHECKS if c.reported == "revenue_cny")


@dataclass(frozen=True)
class ReportedFigure:
    """One figure an enterprise, bank or third party reported for the days first..last (inclusive)."""

    name: str
    first_day: int
    last_day: int
    value: float
    label: str  # e.g. "2026-Q3"
    source: str = "enterprise_reported"
    reference: str | None = None  # where the figure came from (an API URL or record id)


@dataclass(frozen=True)
class CheckResult:
    """A check's outcome with the numbers behind it and a finding a credit officer can read."""

    check: str
    indicator: str
    period: str
    first_day: int
    last_day: int
    reported: float
    evidenced: float | None
    ratio: float | None
    coverage: float  # share of the period's days the devices covered
    status: Status
    finding: str
    source: str
    reference: str | None

    def to_dict(self) -> dict:
        return dict(vars(self))


def cross_verify(reported: Sequence[ReportedFigure], evidence: Mapping[str, DailySeries],
                 checks: Sequence[CheckSpec] = CHECKS) -> list[CheckResult]:
    """Every applicable check of every reported figure, oldest period first."""
    results = []
    for figure in sorted(reported, key=lambda f: (f.last_day, f.name)):
        for spec in checks:
            if spec.reported == figure.name and spec.indicator in evidence:
                results.append(check_figure(spec, figure, evidence[spec.indicator]))
    return results


def check_figure(spec: CheckSpec, figure: ReportedFigure, series: DailySeries) -> CheckResult:
    """One reported figure against one indicator over the figure's days."""
    days = figure.last_day - figure.first_day + 1
    values = series.on_days(figure.first_day, figure.last_day)
    known = np.isfinite(values)
    coverage = float(known.sum()) / days
    evidenced = _evidenced(spec, values, known, days)
    ratio = None if evidenced is None or evidenced <= 0 else figure.value / evidenced
    status = _status(ratio, coverage, spec)
    return CheckResult(spec.name, spec.indicator, figure.label, figure.first_day, figure.last_day, figure.value, evidenced,
                       ratio, coverage, status, _finding(spec, figure, evidenced, ratio, coverage, status, int(known.sum()), days),
                       figure.source, figure.reference)


def is_cross_verified(results: Sequence[CheckResult]) -> bool:
    """Verified when at least one check was decided and under half the decided checks found the report
    overstated (one quarter booked early is tolerated; a pattern is not)."""
    decided = [r for r in results if r.status != "insufficient_evidence"]
    overstated = sum(r.status == "overstated" for r in decided)
    return bool(decided) and overstated * 2 < len(decided)


def revenue_consistency(results: Sequence[CheckResult]) -> float | None:
    """The latest decided revenue check's ratio (the scorecard's revenue_consistency_ratio)."""
    decided = [r for r in results if r.check in REVENUE_CHECKS and r.ratio is not None
               and r.status != "insufficient_evidence"]
    return decided[-1].ratio if decided else None


def evidenced_annual_revenue(results: Sequence[CheckResult]) -> float | None:
    """Verified annual revenue: the lesser of reported and evidenced over the latest decided revenue
    checks (up to four periods), scaled to 365 days."""
    decided = [r for r in results if r.check in REVENUE_CHECKS and r.evidenced is not None
               and r.status != "insufficient_evidence"][-4:]
    if not decided:
        return None
    days = sum(r.last_day - r.first_day + 1 for r in decided)
    return sum(min(r.reported, r.evidenced) for r in decided) * 365.0 / days


def _evidenced(spec: CheckSpec, values: np.ndarray, known: np.ndarray, days: int) -> float | None:
    if not known.any():
        return None
    if spec.aggregate == "last":
        return float(values[known][-1]) * spec.factor
    return float(values[known].sum()) * days / int(known.sum()) * spec.factor


def _status(ratio: float | None, coverage: float, spec: CheckSpec) -> Status:
    enough = coverage >= MIN_COVERAGE or (spec.aggregate == "last" and coverage > 0)
    if ratio is None or not enough:
        return "insufficient_evidence"
    if ratio > TOLERANCE:
        return "overstated"
    return "understated" if ratio < 1.0 / TOLERANCE else "consistent"


def _finding(spec: CheckSpec, figure: ReportedFigure, evidenced: float | None, ratio: float | None, coverage: float,
             status: Status, known_days: int, days: int) -> str:
    said = f"reported {figure.label} {spec.what} {_amount(figure.value, spec.unit)}"
    basis = f"{_amount(evidenced, spec.unit)} over {known_days} of {days} days" if evidenced is not None else ""
    if status == "insufficient_evidence":
        return (f"{said} cannot be checked: {spec.evidence_words} covered only {coverage:.0%} of the days"
                + (f" ({basis})" if basis else ""))
    if status == "overstated":
        return f"{said} is {ratio:.1f}x what {spec.evidence_words} support ({basis})"
    if status == "understated":
        return f"{said} is only {ratio:.2f}x what {spec.evidence_words} support ({basis}): under-reported or sold from stock"
    return f"{said} agrees with {spec.evidence_words} (ratio {ratio:.2f}; {basis})"


def _amount(value: float | None, unit: str) -> str:
    if value is None:
        return "unknown"
    if unit == "CNY":
        return f"CNY {value / 1e6:,.2f}M" if abs(value) >= 1e6 else f"CNY {value:,.0f}"
    return f"{value:,.0f} {unit}"
