"""PV sales against metered generation (pure): a feed-in bill's kWh, or the revenue a PV firm declares, against what
its inverters metered (x the tariff), with a tolerance derived from the physics of the plant, not fitted to the firm.

Sold energy cannot exceed generated energy: between the inverters' counters and the grid's revenue meter there are
only losses (transformer, cables) and the plant's own consumption, and curtailment lowers both sides (energy the
dispatcher did not take is neither generated nor sold). So only the upper side is a flag, and its bound is the product
of what an honest plant's figure can carry above its inverters:

  metering  the grid meter's class (`meter_class_pct`, 0.5 for the class 0.5S revenue meter) plus the inverters' own
            counter error (their `energy_accuracy_pct` install attribute, default 3 %): a steady bias inside this
            is an honest plant's, not a flag;
  timing    a bill's month is the grid's meter-reading period, which may start up to `shift_days` (5) days off the
            calendar month (1 when the bill gives its reading dates): the largest ratio of the plant's own metered
            generation over the bill's days shifted by up to that many days to its generation over the bill's days
            (a sunny week moved in or out of the month);
  tariff    revenue only: how far the highest tariff billed on the firm's feed-in bills lies above their median
            (market trading moves it); 0 with a declared single tariff (`tariff_cny_per_kwh` of the inverters);
  sampling  days the inverters did not cover are extrapolated: exp(2 x CV(daily) x sqrt((1 - coverage) / known)).

A month without a bill followed by a bill its own month cannot hold is judged over the unbilled month too (the grid
bills two months at once: a catch-up): the total still cannot exceed the generation. Evidence over under 60 % of the
days decides nothing, as in the other checks. Each finding carries `finding_code` and `finding_params`, rendered in
zh-CN or English by `render_pv_finding` from `PV_FINDING_TEMPLATES` (the catalogue shape of the other findings).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from wuxin.risk.crossverify import (
    INDEPENDENT_MODES,
    MIN_COVERAGE,
    MODE_TRUST,
    CheckResult,
    ReportedFigure,
    SourceShares,
    Status,
    _evidence_shares,
    _level,
    _provenance,
)
from wuxin.risk.features import DailySeries
from wuxin.risk.messages import render_finding
from wuxin.risk.pv_messages import FEED_IN, REVENUE, render_pv_bound

METER_CLASS_PCT = 0.5  # the grid's revenue meter, class 0.5S (GB/T 17215.322)
INVERTER_ERROR_PCT = 3.0  # an inverter's own energy counter, when its `energy_accuracy_pct` is not declared
SHIFT_DAYS = 5  # a bill's meter-reading period against the calendar month, when the bill gives no reading dates
EXACT_SHIFT_DAYS = 1  # readings taken during the day of the stated date
Z = 2.0
UNBILLED_GAP_DAYS = 28  # a gap this long before a bill is an unbilled month


@dataclass(frozen=True)
class PvBound:
    """What the plant's bound is derived from: its meters' errors, how bills are dated, and its tariff."""

    inverter_error_pct: float = INVERTER_ERROR_PCT
    meter_class_pct: float = METER_CLASS_PCT
    tariff_cny_per_kwh: float | None = None  # None: no revenue check
    tariff_spread: float = 0.0  # the highest billed tariff above the one used, as a fraction
    tariff_from: str = "declared"  # "bills" or "declared"


@dataclass(frozen=True)
class PvFigure:
    """A reported PV figure and how its days were dated."""

    figure: ReportedFigure
    exact_dates: bool = False  # the bill states its meter-reading dates


def upper_bound(
    bound: PvBound, series: DailySeries, first_day: int, last_day: int, shift_days: int, revenue: bool
) -> tuple[float, dict[str, float]]:
    """The highest ratio reported / evidenced an honest plant reaches over these days, and its factors."""
    meter = 1.0 + (bound.meter_class_pct + bound.inverter_error_pct) / 100.0
    timing = timing_factor(series, first_day, last_day, shift_days)
    values = series.on_days(first_day, last_day)
    known = np.isfinite(values)
    coverage = float(known.sum()) / (last_day - first_day + 1)
    cv = _cv(values[known])
    sampling = math.exp(Z * cv * math.sqrt(max(1.0 - coverage, 0.0) / max(int(known.sum()), 1)))
    tariff = 1.0 + (bound.tariff_spread if revenue else 0.0)
    return meter * timing * tariff * sampling, {
        "meter": meter,
        "timing": timing,
        "tariff": tariff,
        "sampling": sampling,
    }


def timing_factor(series: DailySeries, first_day: int, last_day: int, shift_days: int) -> float:
    """max over shifts s in [-shift_days, shift_days] of generation(days + s) / generation(days), at least 1; unknown
    days count as the mean of the known ones around."""
    values = series.on_days(first_day - shift_days, last_day + shift_days)
    known = np.isfinite(values)
    if not known.any():
        return 1.0
    filled = np.where(known, values, float(values[known].mean()))
    span = last_day - first_day + 1
    nominal = float(filled[shift_days : shift_days + span].sum())
    if nominal <= 0:
        return 1.0
    shifted = max(float(filled[k : k + span].sum()) for k in range(0, 2 * shift_days + 1))
    return max(shifted / nominal, 1.0)


def pv_cross_verify(
    figures: Sequence[PvFigure],
    generation: DailySeries,
    bound: PvBound,
    sources: SourceShares | None = None,
    *,
    indicator: str,
) -> list[CheckResult]:
    """Each feed-in bill (`feed_in_kwh`) and, with a tariff, each declared revenue (`revenue_cny`) against the
    inverters' metered generation (daily kWh: the values of the indicator its pack names, checks.json
    `generation_indicator`, which the results carry), oldest first."""
    out = []
    feed_ins = sorted((f for f in figures if f.figure.name == "feed_in_kwh"), key=lambda f: f.figure.first_day)
    billed_until = None
    for f in feed_ins:
        out.append(_judge(FEED_IN, f, generation, bound, sources, billed_until, indicator))
        billed_until = max(billed_until or f.figure.last_day, f.figure.last_day)
    if bound.tariff_cny_per_kwh:
        value = DailySeries.of(generation.days, generation.values * bound.tariff_cny_per_kwh)
        for f in sorted((f for f in figures if f.figure.name == "revenue_cny"), key=lambda f: f.figure.first_day):
            out.append(_judge(REVENUE, f, value, bound, sources, None, indicator))
    return out


def _judge(
    check: str,
    f: PvFigure,
    series: DailySeries,
    bound: PvBound,
    sources: SourceShares | None,
    billed_until: int | None,
    indicator: str,
) -> CheckResult:
    figure, revenue = f.figure, check == REVENUE
    shift = EXACT_SHIFT_DAYS if f.exact_dates else SHIFT_DAYS
    first = figure.first_day
    result = _ratio(series, first, figure.last_day, figure.value)
    upper, parts = upper_bound(bound, series, first, figure.last_day, shift, revenue)
    unbilled = 0
    if (
        result[0] is not None
        and result[0] > upper
        and billed_until is not None
        and first - billed_until - 1 >= UNBILLED_GAP_DAYS
    ):  # a catch-up bill after an unbilled month
        wider = max(billed_until + 1, first - 62)
        again = _ratio(series, wider, figure.last_day, figure.value)
        if again[0] is not None:
            first, unbilled, result = wider, figure.first_day - wider, again
            upper, parts = upper_bound(bound, series, first, figure.last_day, shift, revenue)
    ratio, evidenced, coverage, known_days, values, known = result
    days = figure.last_day - first + 1
    status: Status
    if ratio is None or coverage < MIN_COVERAGE:
        status = "insufficient_evidence"
    else:
        status = "overstated" if ratio > upper else "understated" if ratio < 1.0 / upper else "consistent"
    shares = _evidence_shares_of(values, known, sources, first, figure.last_day)
    independent = sum(s for m, s in shares.items() if m in INDEPENDENT_MODES)
    trust = sum(s * MODE_TRUST.get(m, 0.0) for m, s in shares.items()) if shares else None
    level = _level(status, independent, figure.source)
    params: dict[str, Any] = {
        "check": check,
        "period": figure.label,
        "unit": "CNY" if revenue else "kWh",
        "reported": figure.value,
        "evidenced": evidenced,
        "ratio": ratio,
        "tolerance": round(upper, 4),
        "coverage": coverage,
        "known_days": known_days,
        "days": days,
        "meter_class_pct": bound.meter_class_pct,
        "inverter_error_pct": bound.inverter_error_pct,
        "shift_days": shift,
        "unbilled_days": unbilled,
        **{f"{k}_factor": round(v, 4) for k, v in parts.items()},
        **({"tariff_cny_per_kwh": bound.tariff_cny_per_kwh, "tariff_from": bound.tariff_from} if revenue else {}),
        "provenance": _provenance(level, shares, figure.source),
        "sources": shares,
        "figure_source": figure.source,
    }
    code = f"pv_{status}"
    return CheckResult(
        check=check,
        indicator=indicator,
        period=figure.label,
        first_day=first,
        last_day=figure.last_day,
        reported=figure.value,
        evidenced=evidenced,
        ratio=ratio,
        coverage=coverage,
        status=status,
        finding=render_finding(code, params, "en"),
        source=figure.source,
        reference=figure.reference,
        tolerance=upper,
        tolerance_basis=render_pv_bound(params, "en"),
        sources=shares,
        trust=trust,
        independent_share=independent,
        level=level,
        finding_code=code,
        finding_params=params,
        revenue=revenue,
    )


def _ratio(series: DailySeries, first: int, last: int, reported: float):
    values = series.on_days(first, last)
    known = np.isfinite(values)
    days = last - first + 1
    coverage = float(known.sum()) / days
    evidenced = float(values[known].sum()) * days / int(known.sum()) if known.any() else None
    ratio = reported / evidenced if evidenced else None
    return ratio, evidenced, coverage, int(known.sum()), values, known


def _evidence_shares_of(
    values: np.ndarray, known: np.ndarray, sources: SourceShares | None, first: int, last: int
) -> dict[str, float]:
    """Each source mode's share of the generation behind the check (days weighted by their value)."""
    return _evidence_shares("sum", values, known, sources, first, last)


def _cv(known_values: np.ndarray) -> float:
    if len(known_values) < 2 or known_values.mean() <= 0:
        return 0.0
    return float(known_values.std(ddof=1) / known_values.mean())


def tariff_from_bills(bills: Sequence[tuple[float, float]]) -> tuple[float, float] | None:
    """(median tariff, spread of the highest above it) from (kWh, CNY) feed-in bills with amounts; None without any."""
    tariffs = sorted(cny / kwh for kwh, cny in bills if kwh > 0 and cny > 0)
    if not tariffs:
        return None
    median = float(np.median(tariffs))
    return median, max(tariffs) / median - 1.0
