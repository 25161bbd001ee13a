"""Cross-verification (交叉验证): reported figures against what the devices measured (pure).

Each check compares one reported figure of a period (revenue, billed kWh, stock, mileage, milk sold)
with an indicator summed (or read at the period end) over the same days, extrapolated over the days
the devices did not cover. The consistency ratio is reported / evidenced: 1.0 agrees, 2.4 means the
report claims 2.4 times what the devices support. Checks are declared as data by the scenario packs (checks.json): a check applies to an
enterprise whenever it has both the reported figure and the indicator, whatever its industry.

Where the evidence comes from matters. Each day of an indicator carries the source modes of the
devices behind it (`SourceShares`: per mode, the share of the day's value). A consistent check is
**verified** only when at least half of its evidence comes from independent sources (bank-installed
devices or a third-party platform), or when the reported figure itself comes from an independent
source (a bank or a third party) and agrees with the devices: two independent sources agreeing.
Evidence from the enterprise's own shared devices alone can **support** a figure but never verify
it: a borrower that inflates its statements and its own device by the same factor is consistent
with itself and nothing more.

The tolerance is measured, not a constant. For a check with ratios r_1..r_n over the firm's periods
(those with enough coverage):

    sigma_between = 1.4826 * median(|ln r_i - median(ln r)|)      if n >= 3, else the prior ln(1.3) / 2
    sigma_sample  = CV(daily evidence) * sqrt((1 - coverage) / known_days)   (extrapolating the gaps)
    tolerance     = clip(exp(2 * sqrt(sigma_between^2 + sigma_sample^2)), 1.10, 1.60)

and a period is consistent when 1/tolerance <= ratio <= tolerance. The dispersion is taken around
the firm's own median, so a firm that always reports twice what its devices see has a small spread
and a tight tolerance: its ratio of 2 stays overstated.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from wuxin.errors import InvalidInput
from wuxin.risk.features import DailySeries
from wuxin.risk.messages import finding_texts, render_finding, tolerance_basis

PRIOR_TOLERANCE = 1.3  # before the firm has periods enough to measure its dispersion
PRIOR_SIGMA = math.log(PRIOR_TOLERANCE) / 2.0
TOLERANCE_FLOOR, TOLERANCE_CAP = 1.10, 1.60
Z = 2.0  # tolerance half-width in standard deviations of ln(ratio)
MIN_PERIODS_FOR_DISPERSION = 3
MIN_COVERAGE = 0.6  # the devices must have covered this share of the period's days
INDEPENDENT_MODES = frozenset({"bank_installed", "third_party_platform"})
INDEPENDENT_FIGURE_SOURCES = frozenset({"bank", "third_party"})  # business-data sources the borrower does not control
MODE_TRUST = {"bank_installed": 0.9, "third_party_platform": 0.7, "enterprise_shared": 0.4}  # seed 002
MIN_INDEPENDENT_SHARE = 0.5  # of the evidence, for a consistent check to verify
Status = Literal["consistent", "overstated", "understated", "insufficient_evidence"]
Level = Literal["verified", "supported", "not_verified"]
Verification = Literal["verified", "supported", "failed", "undecided"]
Aggregate = Literal["sum", "last"]  # a period's evidence: the sum of its days, or its last known day


@dataclass(frozen=True)
class CheckSpec:
    """One declared check: which reported figure, against which indicator, scaled how (its words, in zh-CN and
    English: the pack's checks.json `words`)."""

    name: str
    reported: str  # the reported figure's name, e.g. "revenue_cny"
    indicator: str  # the enterprise-day indicator holding the evidence
    aggregate: Aggregate
    factor: float  # evidence x factor is in the reported figure's unit
    unit: str


REVENUE_FIGURE = "revenue_cny"  # a check of this reported figure is a revenue check (the limit's basis)


def check_spec(raw: Mapping[str, Any], where: str) -> CheckSpec:
    """One check declared as data (a scenario pack's checks.json entry), checked: a bad one names `where` and the field."""
    try:
        spec = CheckSpec(
            str(raw["name"]),
            str(raw["reported"]),
            str(raw["indicator"]),
            raw["aggregate"],
            float(raw.get("factor", 1.0)),
            str(raw["unit"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(
            f"{where}: check {raw.get('name') if isinstance(raw, Mapping) else raw!r} is missing or has a "
            f"bad field ({exc}); it needs name, reported, indicator, aggregate, factor, unit"
        ) from exc
    if spec.aggregate not in ("sum", "last"):
        raise InvalidInput(f"{where}: check {spec.name} aggregate must be sum or last, got {spec.aggregate!r}")
    if not spec.factor > 0:
        raise InvalidInput(f"{where}: check {spec.name} factor must be positive, got {spec.factor}")
    return spec


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
class SourceShares:
    """The source modes behind an indicator's daily values: per mode, the share of each day's value
    (shares of a day sum to 1; NaN or absent days have no known source)."""

    days: np.ndarray
    shares: Mapping[str, np.ndarray]

    @classmethod
    def of(cls, days: Sequence[int], shares: Mapping[str, Sequence[float]]) -> SourceShares:
        order = np.argsort(np.asarray(days, dtype=np.int64), kind="stable")
        return cls(
            np.asarray(days, dtype=np.int64)[order], {m: np.asarray(v, dtype=float)[order] for m, v in shares.items()}
        )

    @classmethod
    def constant(cls, mode_shares: Mapping[str, float], first_day: int, last_day: int) -> SourceShares:
        """The same shares every day (e.g. from the installed devices when no per-day lineage is stored)."""
        days = np.arange(first_day, last_day + 1)
        return cls(days, {m: np.full(len(days), float(s)) for m, s in mode_shares.items()})

    def on_days(self, first_day: int, last_day: int) -> dict[str, np.ndarray]:
        out = {}
        low, high = np.searchsorted(self.days, (first_day, last_day + 1))
        for mode, values in self.shares.items():
            row = np.full(last_day - first_day + 1, np.nan)
            row[self.days[low:high] - first_day] = values[low:high]
            out[mode] = row
        return out


@dataclass(frozen=True)
class Tolerance:
    """How far a ratio may stray from 1 and still be consistent, and what it was measured on."""

    ratio: float
    sigma_between: float
    sigma_sample: float
    periods: int  # the firm's periods the between-period dispersion was measured on (0: the prior)

    @property
    def basis(self) -> str:
        """In English; wuxin.risk.messages.tolerance_basis says it in zh-CN too."""
        return tolerance_basis(self.periods, self.sigma_between, self.sigma_sample, MIN_PERIODS_FOR_DISPERSION, "en")


def tolerance(
    log_ratios: Sequence[float], daily_cv: float = 0.0, coverage: float = 1.0, known_days: int = 1
) -> Tolerance:
    """The tolerance of the module docstring from the firm's ln(ratio) over periods and one period's sampling."""
    finite = np.asarray([r for r in log_ratios if math.isfinite(r)], dtype=float)
    if len(finite) >= MIN_PERIODS_FOR_DISPERSION:
        between, periods = float(1.4826 * np.median(np.abs(finite - np.median(finite)))), len(finite)
    else:
        between, periods = PRIOR_SIGMA, 0
    sample = float(daily_cv) * math.sqrt(max(1.0 - coverage, 0.0) / max(known_days, 1))
    width = math.exp(Z * math.hypot(between, sample))
    return Tolerance(min(max(width, TOLERANCE_FLOOR), TOLERANCE_CAP), between, sample, periods)


PRIOR = tolerance(())


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
    finding: str  # in English; finding_code and finding_params say it in either language (wuxin.risk.messages)
    source: str
    reference: str | None
    tolerance: float = PRIOR_TOLERANCE
    tolerance_basis: str = ""
    sources: Mapping[str, float] = field(default_factory=dict)  # source mode -> share of the evidence
    trust: float | None = None  # evidence-weighted trust level of the devices behind it
    independent_share: float = 0.0  # of the evidence from bank-installed or third-party devices
    level: Level = "not_verified"
    finding_code: str = ""
    finding_params: Mapping[str, Any] = field(default_factory=dict)
    revenue: bool = False  # a revenue check: its evidence is the limit's basis

    def to_dict(self) -> dict:
        """The result with its finding said in both languages (finding_zh, finding_en)."""
        return {
            **{k: v for k, v in vars(self).items() if k != "revenue"},
            "sources": dict(self.sources),
            "finding_params": dict(self.finding_params),
            **finding_texts(self.finding_code, self.finding_params),
        }


def cross_verify(
    reported: Sequence[ReportedFigure],
    evidence: Mapping[str, DailySeries],
    checks: Sequence[CheckSpec],
    sources: Mapping[str, SourceShares] | None = None,
) -> list[CheckResult]:
    """Every applicable check of every reported figure, oldest period first; each check's tolerance is
    measured on the firm's other periods of the same check, and its evidence weighed by `sources`
    (indicator -> source shares; an indicator without them has evidence of unknown source: not independent)."""
    pairs = [
        (spec, figure)
        for figure in sorted(reported, key=lambda f: (f.last_day, f.name))
        for spec in checks
        if spec.reported == figure.name and spec.indicator in evidence
    ]
    log_ratios: dict[str, list[float]] = {}
    for spec, figure in pairs:
        first = check_figure(spec, figure, evidence[spec.indicator])
        if first.status != "insufficient_evidence" and first.ratio:
            log_ratios.setdefault(spec.name, []).append(math.log(first.ratio))
    return [
        check_figure(
            spec, figure, evidence[spec.indicator], (sources or {}).get(spec.indicator), log_ratios.get(spec.name, ())
        )
        for spec, figure in pairs
    ]


def check_figure(
    spec: CheckSpec,
    figure: ReportedFigure,
    series: DailySeries,
    sources: SourceShares | None = None,
    period_log_ratios: Sequence[float] = (),
) -> CheckResult:
    """One reported figure against one indicator over the figure's days, with where the evidence came from."""
    days = figure.last_day - figure.first_day + 1
    values = series.on_days(figure.first_day, figure.last_day)
    known = np.isfinite(values)
    coverage = float(known.sum()) / days
    evidenced = _evidenced(spec, values, known, days)
    ratio = None if evidenced is None or evidenced <= 0 else figure.value / evidenced
    measured = tolerance(
        period_log_ratios, _daily_cv(values[known]) if spec.aggregate == "sum" else 0.0, coverage, int(known.sum())
    )
    status = _status(ratio, coverage, spec, measured.ratio)
    shares = _evidence_shares(spec.aggregate, values, known, sources, figure.first_day, figure.last_day)
    independent = sum(s for m, s in shares.items() if m in INDEPENDENT_MODES)
    trust = sum(s * MODE_TRUST.get(m, 0.0) for m, s in shares.items()) if shares else None
    level = _level(status, independent, figure.source)
    code = "no_evidence" if status == "insufficient_evidence" and evidenced is None else status
    params = {
        "check": spec.name,
        "indicator": spec.indicator,
        "period": figure.label,
        "unit": spec.unit,
        "reported": figure.value,
        "evidenced": evidenced,
        "ratio": ratio,
        "coverage": coverage,
        "known_days": int(known.sum()),
        "days": days,
        "tolerance": measured.ratio,
        "periods": measured.periods,
        "sigma_between": measured.sigma_between,
        "sigma_sample": measured.sigma_sample,
        "min_periods": MIN_PERIODS_FOR_DISPERSION,
        "provenance": _provenance(level, shares, figure.source),
        "sources": shares,
        "figure_source": figure.source,
    }
    return CheckResult(
        spec.name,
        spec.indicator,
        figure.label,
        figure.first_day,
        figure.last_day,
        figure.value,
        evidenced,
        ratio,
        coverage,
        status,
        render_finding(code, params, "en"),
        figure.source,
        figure.reference,
        measured.ratio,
        measured.basis,
        shares,
        trust,
        independent,
        level,
        code,
        params,
        spec.reported == REVENUE_FIGURE,
    )


def verification(results: Sequence[CheckResult]) -> Verification:
    """undecided: no check had evidence enough; failed: half or more of the decided checks found the
    report overstated (one quarter booked early is tolerated, a pattern is not); verified: at least half
    of the decided checks are verified by independent evidence; otherwise supported (consistent, but
    on evidence the borrower controls)."""
    decided = [r for r in results if r.status != "insufficient_evidence"]
    if not decided:
        return "undecided"
    if sum(r.status == "overstated" for r in decided) * 2 >= len(decided):
        return "failed"
    return "verified" if sum(r.level == "verified" for r in decided) * 2 >= len(decided) else "supported"


def is_cross_verified(results: Sequence[CheckResult]) -> bool:
    """Verified by independent evidence (see `verification`); consistent with the borrower's own devices is not."""
    return verification(results) == "verified"


def enterprise_shared_only(results: Sequence[CheckResult]) -> bool | None:
    """Whether every decided check rests on evidence without an independent source; None when none was decided."""
    decided = [r for r in results if r.status != "insufficient_evidence"]
    if not decided:
        return None
    return all(r.independent_share <= 0 and r.source not in INDEPENDENT_FIGURE_SOURCES for r in decided)


def evidence_coverage(results: Sequence[CheckResult], periods: int = 4) -> float | None:
    """Share of the days of the latest `periods` checked periods that the devices covered (day-weighted);
    None when nothing was reported to check."""
    latest = sorted({(r.first_day, r.last_day) for r in results}, key=lambda p: p[1])[-periods:]
    chosen = [r for r in results if (r.first_day, r.last_day) in latest]
    if not chosen:
        return None
    days = [r.last_day - r.first_day + 1 for r in chosen]
    return sum(r.coverage * d for r, d in zip(chosen, days)) / sum(days)


def revenue_consistency(results: Sequence[CheckResult]) -> float | None:
    """The latest decided revenue check's ratio (the scorecard's revenue_consistency_ratio)."""
    decided = [r for r in results if r.revenue and r.ratio is not None and r.status != "insufficient_evidence"]
    return decided[-1].ratio if decided else None


def evidenced_annual_revenue(results: Sequence[CheckResult]) -> float | None:
    """IoT-evidenced annual revenue: the lesser of reported and evidenced over the latest decided revenue
    checks (up to four periods), scaled to 365 days. Whether it is verified is `verification`'s answer."""
    decided = [
        (r, r.evidenced)
        for r in results
        if r.revenue and r.evidenced is not None and r.status != "insufficient_evidence"
    ][-4:]
    if not decided:
        return None
    days = sum(r.last_day - r.first_day + 1 for r, _ in decided)
    return sum(min(r.reported, evidenced) for r, evidenced in decided) * 365.0 / days


def revenue_checks(results: Sequence[CheckResult]) -> list[CheckResult]:
    return [r for r in results if r.revenue]


def _evidenced(spec: CheckSpec, values: np.ndarray, known: np.ndarray, days: int) -> float | None:
    if not known.any():
        return None
    if spec.aggregate == "last":
        return float(values[known][-1]) * spec.factor
    return float(values[known].sum()) * days / int(known.sum()) * spec.factor


def _daily_cv(known_values: np.ndarray) -> float:
    if len(known_values) < 2 or known_values.mean() <= 0:
        return 0.0
    return float(known_values.std(ddof=1) / known_values.mean())


def _evidence_shares(
    aggregate: Aggregate,
    values: np.ndarray,
    known: np.ndarray,
    sources: SourceShares | None,
    first_day: int,
    last_day: int,
) -> dict[str, float]:
    """Each source mode's share of the period's evidence: days weighted by their value (sums) or the last
    known day (period-end readings). Days without a known source count as of unknown source."""
    if not known.any():
        return {}
    by_mode = sources.on_days(first_day, last_day) if sources is not None else {}
    if aggregate == "last":
        weights = np.zeros(len(values))
        weights[np.flatnonzero(known)[-1]] = 1.0
    else:
        weights = np.where(known, np.abs(np.nan_to_num(values)), 0.0)
        if weights.sum() <= 0:
            weights = known.astype(float)
    total = float(weights.sum())
    shares = {m: float(np.nansum(row * weights)) / total for m, row in by_mode.items()}
    shares = {m: s for m, s in shares.items() if s > 1e-9}
    unknown = 1.0 - sum(shares.values())
    if unknown > 1e-6:
        shares["unknown"] = unknown
    return shares


def _level(status: Status, independent_share: float, figure_source: str) -> Level:
    if status in ("overstated", "insufficient_evidence"):
        return "not_verified"
    independent = independent_share >= MIN_INDEPENDENT_SHARE or figure_source in INDEPENDENT_FIGURE_SOURCES
    return "verified" if independent else "supported"


def _provenance(level: Level, shares: Mapping[str, float], figure_source: str) -> str | None:
    """The code of what the evidence's sources make of the finding (none when there was no evidence)."""
    if not shares:
        return None
    if level == "verified":
        return (
            "evidence_verified_devices"
            if figure_source not in INDEPENDENT_FIGURE_SOURCES
            else "evidence_verified_figure"
        )
    return "evidence_supported" if level == "supported" else "evidence_from"


def _status(ratio: float | None, coverage: float, spec: CheckSpec, tolerance_ratio: float = PRIOR_TOLERANCE) -> Status:
    enough = coverage >= MIN_COVERAGE or (spec.aggregate == "last" and coverage > 0)
    if ratio is None or not enough:
        return "insufficient_evidence"
    if ratio > tolerance_ratio:
        return "overstated"
    return "understated" if ratio < 1.0 / tolerance_ratio else "consistent"
