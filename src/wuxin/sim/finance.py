"""Simulated finance: statements (honest or inflated against the sensors) and loan outcomes,
deterministic by seed, driven by each enterprise's latent health.

Two uses:
- `simulate_book(n, seed, as_of_day)` makes a held-out book for the credit bench in a fast path:
  daily indicator values straight from a latent-health model (no telemetry, no database), with
  the quarterly statements each firm reports and whether it defaulted in the following year.
- `statements_from_evidence(...)` and `loan_outcome(...)` make the business data of an enterprise
  whose telemetry was simulated and stored (the demo): revenue follows what its devices measured,
  unless the firm inflates it.

Inflation and default both grow with weak health, so a lender reading statements alone sees the
weakest firms at their most flattering; the devices do not inflate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from wuxin.errors import InvalidInput
from wuxin.risk.crossverify import CheckSpec, ReportedFigure, cross_verify, revenue_consistency
from wuxin.risk.features import (
    DailySeries,
    DeviceFacts,
    EvidenceInputs,
    StatementPeriod,
    evidence_features,
    feature_row,
    statement_features,
)
from wuxin.sim.patterns import rng_for, work_factor
from wuxin.sim.spec import HEALTHS

EVIDENCE_DAYS = 400  # days of daily indicators simulated before the as-of day
STATEMENT_QUARTERS = 8
HEALTH_WEIGHTS = (0.25, 0.45, 0.18, 0.12)
ANNUAL_DRIFT = {
    "growing": (0.10, 0.35),
    "stable": (-0.05, 0.05),
    "declining": (-0.45, -0.15),
    "failing": (-0.50, -0.20),
}
BASE_PD = {"growing": 0.03, "stable": 0.06, "declining": 0.18, "failing": 0.45}
INFLATE_SHARE = {"growing": 0.05, "stable": 0.08, "declining": 0.30, "failing": 0.50}
DEBT_TO_ASSETS = {"growing": 0.45, "stable": 0.50, "declining": 0.60, "failing": 0.68}
SHARED_SHARE = (0.70, 0.18, 0.12)  # bank-installed, third-party, enterprise-shared (as the scenario sims)


@dataclass(frozen=True)
class Profile:
    """How one kind of borrower's activity and revenue evidence look, as daily indicators (data, not code)."""

    scenario: str
    activity_indicator: str
    activity_range: tuple[float, float]  # firm capacity: typical daily activity value
    revenue_indicator: str
    reported_figure: str  # what the statements report against that evidence
    value_per_activity: tuple[float, float]  # evidence units per activity unit per day
    holiday_sensitivity: float  # 1: closes over Spring Festival like a factory; 0: does not notice
    checks: tuple[CheckSpec, ...] = ()  # the pack's cross-verification checks of its statements


FINANCE_FIELDS = (
    "activity_indicator",
    "activity_range",
    "revenue_indicator",
    "reported_figure",
    "value_per_activity",
    "holiday_sensitivity",
)


def profile_of(scenario: str, raw: dict, checks: Sequence[CheckSpec] = ()) -> Profile:
    """A scenario pack's finance.json as a Profile; a missing or malformed field names the pack and the field."""
    missing = [f for f in FINANCE_FIELDS if f not in raw]
    if missing:
        raise InvalidInput(f"scenario pack {scenario}: finance.json lacks {missing}")
    try:
        return Profile(
            scenario,
            str(raw["activity_indicator"]),
            _pair(raw["activity_range"]),
            str(raw["revenue_indicator"]),
            str(raw["reported_figure"]),
            _pair(raw["value_per_activity"]),
            float(raw["holiday_sensitivity"]),
            tuple(checks),
        )
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"scenario pack {scenario}: finance.json has a bad field ({exc})") from exc


def _pair(raw) -> tuple[float, float]:
    low, high = (float(v) for v in raw)
    return low, high


@dataclass(frozen=True)
class SimBorrower:
    """One simulated borrower: its evidence, what it reported, and what happened (the labels)."""

    uscc: str
    profile: Profile
    health: str
    evidence: EvidenceInputs
    revenue_evidence: DailySeries
    statements: tuple[StatementPeriod, ...]
    reported: tuple[ReportedFigure, ...]  # the last four quarters, checkable against the devices
    inflated: bool
    defaulted: bool


def quarter_of(day: int) -> tuple[int, int, str]:
    """(first day, last day, label like '2026-Q3') of the calendar quarter holding a local day."""
    date = dt.date(1970, 1, 1) + dt.timedelta(days=int(day))
    q = (date.month - 1) // 3
    first = dt.date(date.year, 3 * q + 1, 1)
    nxt = dt.date(date.year + (q == 3), (3 * q + 3) % 12 + 1, 1)
    epoch = dt.date(1970, 1, 1)
    return (first - epoch).days, (nxt - epoch).days - 1, f"{date.year}-Q{q + 1}"


def quarters_until(as_of_day: int, count: int) -> list[tuple[int, int, str]]:
    """The `count` calendar quarters ending with the one holding `as_of_day`, oldest first."""
    out = [quarter_of(as_of_day)]
    while len(out) < count:
        out.insert(0, quarter_of(out[0][0] - 1))
    return out


def simulate_book(n: int, seed: int, as_of_day: int, profiles: Sequence[Profile]) -> list[SimBorrower]:
    """`n` borrowers spread over the profiles (the scenario packs' finance.json, in their book order), with peer medians computed across the book."""
    firms = [_firm(seed, i, profiles[i % len(profiles)], as_of_day) for i in range(n)]
    medians = {p.scenario: _peer_median([f for f in firms if f["profile"] is p]) for p in profiles}
    return [_borrower(f, medians[f["profile"].scenario], as_of_day) for f in firms]


def _firm(seed: int, index: int, profile: Profile, as_of_day: int) -> dict:
    rng = rng_for(seed, "finance-book", index)
    health = HEALTHS[int(rng.choice(len(HEALTHS), p=HEALTH_WEIGHTS))]
    days = np.arange(as_of_day - EVIDENCE_DAYS + 1, as_of_day + 1)
    drift = rng.uniform(*ANNUAL_DRIFT[health])
    true_activity = _activity(rng, profile, health, drift, days, as_of_day)
    observed = _observe(rng, true_activity, health)
    value = rng.uniform(*profile.value_per_activity)
    return {
        "rng": rng,
        "index": index,
        "profile": profile,
        "health": health,
        "drift": drift,
        "days": days,
        "true": true_activity,
        "observed": observed,
        "value": value,
        "revenue_observed": _observe(rng, true_activity * value, health, 0.02),
    }


def _activity(
    rng: np.random.Generator, profile: Profile, health: str, drift: float, days: np.ndarray, as_of_day: int
) -> np.ndarray:
    """Capacity x holidays x seasons x a health path over the year (`drift` a year) x persistent noise."""
    capacity = rng.uniform(*profile.activity_range)
    years_to_end = (as_of_day - days) / 365.0
    path = np.exp(-drift * years_to_end)
    if health == "failing":  # the slide steepens over the last two months
        collapse_days = rng.uniform(30, 90)
        path *= np.clip(1.0 - 0.55 * (collapse_days - (as_of_day - days)) / collapse_days, 0.4, 1.0)
    holiday = 1.0 - profile.holiday_sensitivity * (1.0 - _work_factors(int(days[0]), int(days[-1])))
    season = 1.0 + rng.uniform(0.0, 0.15) * np.sin(2 * np.pi * (days % 365) / 365.0 + rng.uniform(0, 2 * np.pi))
    noise = np.exp(_ar1(rng, len(days), 0.10, 0.7))
    return capacity * path * holiday * season * noise


@lru_cache(maxsize=8)
def _work_factors(first_day: int, last_day: int) -> np.ndarray:
    """Holiday factors of every day first..last (cached: the whole book shares its calendar)."""
    epoch = dt.date(1970, 1, 1)
    return np.array([work_factor(epoch + dt.timedelta(days=d)) for d in range(first_day, last_day + 1)])


def _ar1(rng: np.random.Generator, n: int, scale: float, corr: float) -> np.ndarray:
    shocks = rng.normal(0.0, scale * np.sqrt(1 - corr**2), n)
    out = np.empty(n)
    out[0] = rng.normal(0.0, scale)
    for i in range(1, n):
        out[i] = corr * out[i - 1] + shocks[i]
    return out


def _observe(rng: np.random.Generator, truth: np.ndarray, health: str, extra_gap: float = 0.0) -> np.ndarray:
    """Device outages: each firm loses a share of days (more when failing: devices unplugged, power cut)."""
    lost = rng.uniform(0.0, 0.08) + extra_gap + (rng.uniform(0.05, 0.3) if health == "failing" else 0.0)
    missing = rng.random(len(truth)) < lost
    return np.where(missing, np.nan, truth)


def _peer_median(firms: list[dict]) -> DailySeries:
    """The industry index as the bench sees it: the median of the peers' known values each day."""
    if not firms:
        return DailySeries.empty()
    stack = np.vstack([f["observed"] for f in firms])
    counts = np.isfinite(stack).sum(axis=0)
    median = np.full(stack.shape[1], np.nan)
    enough = counts >= 5
    median[enough] = np.nanmedian(stack[:, enough], axis=0)
    return DailySeries.of(firms[0]["days"], median)


def _borrower(firm: dict, index_median: DailySeries, as_of_day: int) -> SimBorrower:
    rng, health, profile = firm["rng"], firm["health"], firm["profile"]
    inflated = bool(rng.random() < INFLATE_SHARE[health])
    leverage = float(np.clip(rng.normal(DEBT_TO_ASSETS[health], 0.12), 0.05, 1.2))
    defaulted = bool(rng.random() < _default_probability(health, leverage))
    quarters = quarters_until(as_of_day, STATEMENT_QUARTERS)
    daily_revenue = firm["true"] * firm["value"]
    statements = _statements(rng, quarters, daily_revenue, firm["days"], firm["drift"], health, inflated, leverage)
    reported = tuple(
        ReportedFigure(profile.reported_figure, s.first_day, s.last_day, float(s.revenue_cny), s.label)
        for s in statements[-4:]
        if s.revenue_cny is not None  # the simulator always states a revenue
    )
    evidence = EvidenceInputs(
        as_of_day,
        profile.activity_indicator,
        DailySeries.of(firm["days"], firm["observed"]),
        index_median,
        _devices(rng, health),
    )
    return SimBorrower(
        f"SIM{firm['index']:06d}",
        profile,
        health,
        evidence,
        DailySeries.of(firm["days"], firm["revenue_observed"]),
        tuple(statements),
        reported,
        inflated,
        defaulted,
    )


def _default_probability(health: str, leverage: float) -> float:
    base = BASE_PD[health]
    logit = np.log(base / (1 - base)) + 2.0 * (leverage - 0.55)
    return float(1.0 / (1.0 + np.exp(-logit)))


def _devices(rng: np.random.Generator, health: str) -> DeviceFacts:
    installed = int(rng.integers(4, 16))
    offline_share = rng.uniform(0.0, 0.1) + (rng.uniform(0.1, 0.5) if health == "failing" else 0.0)
    reporting = int(round(installed * (1.0 - offline_share)))
    mode = ("bank_installed", "third_party_platform", "enterprise_shared")[int(rng.choice(3, p=SHARED_SHARE))]
    tamper = int(rng.poisson(1.5 if health == "failing" else 0.2))
    return DeviceFacts(installed, reporting, tamper, {mode: installed})


def _statements(
    rng: np.random.Generator,
    quarters: list[tuple[int, int, str]],
    daily_revenue: np.ndarray,
    days: np.ndarray,
    drift: float,
    health: str,
    inflated: bool,
    leverage: float,
) -> list[StatementPeriod]:
    """Quarterly statements: revenue as earned (+-7%, now and then a quarter booked early), or inflated
    over the last year so growth looks fine (some only mildly, within what a check can tell)."""
    mean_daily = float(np.mean(daily_revenue))
    inflation = rng.uniform(1.15, 3.0)
    margin = rng.normal({"growing": 0.08, "stable": 0.05, "declining": 0.01, "failing": -0.04}[health], 0.03)
    assets = mean_daily * 365 * rng.uniform(0.8, 1.6)
    out = []
    for i, (first, last, label) in enumerate(quarters):
        earned = _earned(daily_revenue, days, first, last, drift)
        recent = i >= len(quarters) - 4
        factor = inflation if inflated and recent else (1.35 if rng.random() < 0.04 else 1.0)
        revenue = earned * rng.normal(1.0, 0.07) * factor
        profit = revenue * (abs(margin) + 0.04 if inflated and recent else margin)
        reported_leverage = leverage * (0.75 if inflated else 1.0)
        out.append(
            StatementPeriod(
                first,
                last,
                label,
                round(revenue, 2),
                round(profit, 2),
                round(assets, 2),
                round(assets * reported_leverage, 2),
            )
        )
    return out


def _earned(daily_revenue: np.ndarray, days: np.ndarray, first: int, last: int, drift: float) -> float:
    """Revenue truly earned in a quarter; before the simulated days, the first 90 days' rate carried back by the drift."""
    inside = (days >= first) & (days <= last)
    n_days = last - first + 1
    if inside.sum() == n_days:
        return float(daily_revenue[inside].sum())
    years_before = (days[0] - (first + last) / 2) / 365.0
    return float(daily_revenue[:90].mean()) * n_days * float(np.exp(-drift * max(years_before, 0.0)))


# ---------------------------------------------------------------- business data for stored enterprises


def statements_from_evidence(
    uscc: str, health: str, quarters: Sequence[tuple[int, int, str, float]], seed: int
) -> list[dict]:
    """Statement rows (the business-data import format) for quarters whose evidenced revenue is known:
    honest ones follow the devices within +-5%; an inflating firm reports 1.5-3x."""
    rng = rng_for(seed, "statements", uscc)
    inflated = bool(rng.random() < INFLATE_SHARE.get(health, 0.1))
    factor = rng.uniform(1.5, 3.0) if inflated else 1.0
    leverage = float(np.clip(rng.normal(DEBT_TO_ASSETS.get(health, 0.5), 0.1), 0.05, 1.2))
    margin = {"growing": 0.08, "stable": 0.05, "declining": 0.01, "failing": -0.04}.get(health, 0.03)
    rows = []
    for first, last, label, evidenced in quarters:
        revenue = evidenced * rng.normal(1.0, 0.05) * factor
        assets = max(revenue, 1.0) * 4 * rng.uniform(0.8, 1.6)
        rows.append(
            {
                "uscc": uscc,
                "period": label,
                "period_start": _iso(first),
                "period_end": _iso(last),
                "revenue_cny": f"{revenue:.2f}",
                "net_profit_cny": f"{revenue * margin:.2f}",
                "total_assets_cny": f"{assets:.2f}",
                "total_liabilities_cny": f"{assets * leverage:.2f}",
            }
        )
    return rows


def loan_outcome(uscc: str, health: str, seed: int, loan_ref: str | None = None) -> dict:
    """A loan-outcome row: days past due after a year, default when 90 or more (Basel)."""
    rng = rng_for(seed, "outcome", uscc)
    defaulted = bool(rng.random() < _default_probability(health, DEBT_TO_ASSETS.get(health, 0.5)))
    dpd = int(rng.integers(90, 400)) if defaulted else int(rng.choice([0, 0, 0, 0, 5, 15, 35]))
    return {"uscc": uscc, "loan_ref": loan_ref or f"L-{uscc[-8:]}", "days_past_due": dpd, "defaulted": defaulted}


def _iso(day: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=int(day))).isoformat()


def borrower_row(borrower: SimBorrower) -> tuple[dict, list]:
    """The platform's feature functions on one simulated borrower: (feature row, cross-verification results)."""
    results = cross_verify(
        borrower.reported, {borrower.profile.revenue_indicator: borrower.revenue_evidence}, borrower.profile.checks
    )
    row = feature_row(
        evidence_features(borrower.evidence), statement_features(borrower.statements), revenue_consistency(results)
    )
    return row, results
