"""Data generator of the credit experiments (`wuxin bench credit`): firms whose default and whose sensors
follow two distinct latent factors, correlated by a parameter.

Every firm has a latent health H ~ N(0, 1) and a sensor-visible activity factor A = rho H + sqrt(1 - rho^2) Z,
so corr(H, A) = rho. Default over the 12 months after origination is a Bernoulli draw with
logit p = intercept + cohort shift - slope x H: H alone drives it, the draw is the independent noise. The
statements see a third factor S = s H + sqrt(1 - s^2) Z' (margin and leverage; `statement_signal` = s).

What the devices see comes from A only: the firm's daily output is capacity x exp(drift (t - as_of) / 365)
x recent move x season x weekday x AR(1) noise, with drift = 0.15 A + N(0, 0.08) and a recent move ramping to
exp(0.25 A + N(0, 0.1)) over the last 60-150 days. The statements are booked from the same output (so honest
revenue growth sees A too), but the latest one a bank holds at origination ends a quarter earlier.

Each firm has 1-8 devices, each metering a share of the output with a multiplicative bias (lognormal, sigma
`device_bias_sigma` = 0.10), daily measurement noise (lognormal, sigma 0.05), random missing days (0 to
`missing_day_max` = 8 % per device) and outages (Poisson, `outages_per_year` = 1 per device, geometric
lengths, mean 7 days). Outages are independent of H unless `outages_follow_health` (then about twice as many
for a firm one sigma weaker). A day's value is what the platform stores (indicators.engine.aggregate_enterprise_day):
the sum of the devices that reported, partial when one is missing (so an outage under-counts the day), unknown
when none reported.

Booked revenue legitimately differs from the metered output: accounting noise (3 %) and, per firm, one of
seasonal timing (invoiced 20-75 days after production), receivables (payment terms moving between 30 and
90 days over the year, cash-basis books), prices changing (+-10-30 % a year against the price the devices
are declared with) or a product mix shift (value per unit stepping by 0.75-0.9 or 1.1-1.33 within the year).

A fraud share of firms, independent of H unless `fraud_follows_health`, inflates the last 2-4 checked
quarters by 1.2-2x, in one of the variants of `FRAUD_VARIANTS`: the statements alone (any fleet); the
statements and the borrower's own enterprise-shared devices by the same factor (a fleet of those only); its
own shared devices beside honest bank-installed ones; one bank-installed device tampered by the same factor
(a bank-installed fleet). Nothing here reads a platform module's
thresholds: the generator is bench code, the platform's own feature, cross-verification and scorecard code
runs on what it makes (wuxin.bench.credit).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from wuxin.errors import InvalidInput
from wuxin.risk.crossverify import ReportedFigure, SourceShares
from wuxin.risk.features import DailySeries, DeviceFacts, EvidenceInputs, StatementPeriod

EPOCH = dt.date(1970, 1, 1)
EVIDENCE_DAYS = 500  # the checked quarters end a quarter before origination
STATEMENT_QUARTERS = 8
CHECKED_QUARTERS = 4
STATEMENT_LAG_DAYS = 92  # the latest statement a bank holds at origination is the previous quarter's
TRUTH_DAYS = 960  # 8 quarters of statements, their lag and the longest invoicing lag before them
DIVERGENCES = ("none", "seasonal_timing", "receivables", "prices", "product_mix")
DIVERGENCE_SHARES = (0.40, 0.15, 0.15, 0.15, 0.15)
FRAUD_VARIANTS = (
    "statements_only",
    "statements_and_own_shared_device",
    "own_shared_device_beside_bank",
    "bank_device_tampered",
)
FRAUD_VARIANT_SHARES = (0.40, 0.20, 0.20, 0.20)
FLEETS = ("bank_installed", "third_party_platform", "enterprise_shared", "bank_and_shared")
FLEET_SHARES = (0.40, 0.15, 0.30, 0.15)
REVENUE_INDICATOR = "output_value_cny"
SEASON_PHASE = 1.3  # the industry's season by calendar day, the same for every cohort (peak in mid-January)


@dataclass(frozen=True)
class LatentConfig:
    """The experiment's knobs; every one is printed with the figures it produced."""

    rho: float = 0.6  # corr(H, A): how much of the default driver the sensors can see
    statement_signal: float = 0.5  # corr(H, S): how much the statements' margin and leverage see
    default_slope: float = 1.2
    default_intercept: float = -3.6  # about 5 % defaults a year at slope 1.2
    cohort_shift: float = 0.0  # added to the default logit (a later cohort in a worse year)
    fraud_share: float = 0.15
    device_bias_sigma: float = 0.10  # per-device multiplicative calibration bias (lognormal sigma)
    missing_day_max: float = 0.08  # each device misses a uniform 0..this share of days at random
    outages_per_year: float = 1.0  # per device, geometric lengths of mean 7 days
    outages_follow_health: bool = False
    fraud_follows_health: bool = False

    def __post_init__(self) -> None:
        for name in ("rho", "statement_signal"):
            value = getattr(self, name)
            if not -1.0 <= value <= 1.0:
                raise InvalidInput(f"{name} must be a correlation in [-1, 1], got {value!r}")
        if not 0.0 <= self.fraud_share <= 1.0:
            raise InvalidInput(f"fraud_share must be in [0, 1], got {self.fraud_share!r}")


@dataclass(frozen=True)
class LatentFirm:
    """One generated firm: what the platform sees (evidence, statements, reported figures with their
    sources) and what only the experiment knows (latent factors, default, fraud, divergence)."""

    uscc: str
    health: float
    activity_factor: float
    defaulted: bool
    divergence: str
    fraud: str | None  # one of FRAUD_VARIANTS, None for an honest firm
    fleet: str
    evidence: EvidenceInputs
    revenue_evidence: DailySeries
    sources: SourceShares
    statements: tuple[StatementPeriod, ...]
    reported: tuple[ReportedFigure, ...]
    inflation: float = 1.0


def day_number(date: dt.date) -> int:
    return (date - EPOCH).days


def quarters_until(as_of_day: int, count: int) -> list[tuple[int, int, str]]:
    """The `count` calendar quarters ending with the one holding `as_of_day`, oldest first: (first, last, label)."""
    date = EPOCH + dt.timedelta(days=int(as_of_day))
    year, quarter = date.year, (date.month - 1) // 3
    out = []
    for _ in range(count):
        first = dt.date(year, 3 * quarter + 1, 1)
        following = dt.date(year + (quarter == 3), (3 * quarter + 3) % 12 + 1, 1)
        out.append((day_number(first), day_number(following) - 1, f"{year}-Q{quarter + 1}"))
        year, quarter = (year, quarter - 1) if quarter else (year - 1, 3)
    return out[::-1]


def generate_cohort(n: int, seed: int, as_of_day: int, config: LatentConfig) -> list[LatentFirm]:
    """`n` firms originated on `as_of_day`, with the peer index (median of the cohort's known values per day)."""
    if n < 20:
        raise InvalidInput(f"a cohort needs at least 20 firms, got {n}")
    rng = np.random.default_rng([seed, 20_241])
    health = rng.standard_normal(n)
    activity = config.rho * health + np.sqrt(1.0 - config.rho**2) * rng.standard_normal(n)
    statement = config.statement_signal * health + np.sqrt(1.0 - config.statement_signal**2) * rng.standard_normal(n)
    logit = config.default_intercept + config.cohort_shift - config.default_slope * health
    defaulted = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
    fraud_p = np.full(n, config.fraud_share)
    if config.fraud_follows_health:
        fraud_p = np.clip(config.fraud_share * np.exp(-0.8 * health) / np.exp(0.32), 0.0, 1.0)
    fraud = rng.random(n) < fraud_p
    season_phase = SEASON_PHASE
    drafts = [
        _firm(
            np.random.default_rng([seed, 20_242, i]),
            i,
            float(health[i]),
            float(activity[i]),
            float(statement[i]),
            bool(defaulted[i]),
            bool(fraud[i]),
            season_phase,
            as_of_day,
            config,
        )
        for i in range(n)
    ]
    index = _peer_median([d["observed"] for d in drafts], drafts[0]["evidence_days"])
    return [_finish(d, index, as_of_day) for d in drafts]


def _firm(
    rng: np.random.Generator,
    i: int,
    health: float,
    activity: float,
    statement: float,
    defaulted: bool,
    fraud: bool,
    season_phase: float,
    as_of_day: int,
    config: LatentConfig,
) -> dict:
    days = np.arange(as_of_day - TRUTH_DAYS + 1, as_of_day + 1)
    output = _output(rng, activity, days, as_of_day, season_phase)
    divergence = DIVERGENCES[int(rng.choice(len(DIVERGENCES), p=DIVERGENCE_SHARES))]
    variant = FRAUD_VARIANTS[int(rng.choice(len(FRAUD_VARIANTS), p=FRAUD_VARIANT_SHARES))] if fraud else None
    fleet = _fleet_for(rng, variant)
    quarters = quarters_until(as_of_day - STATEMENT_LAG_DAYS, STATEMENT_QUARTERS)
    inflation = float(rng.uniform(1.2, 2.0)) if variant else 1.0
    inflated_from = quarters[-int(rng.integers(2, CHECKED_QUARTERS + 1))][0] if variant else None
    price = _price_path(rng, divergence, days, as_of_day)
    booked = _booked_revenue(rng, divergence, output * price, days, quarters)
    if inflated_from is not None:  # set with the fraud variant
        booked = [b * (inflation if q[0] >= inflated_from else 1.0) for b, q in zip(booked, quarters)]
    evidence_days = days[-EVIDENCE_DAYS:]
    modes, shares = _devices(rng, fleet)
    device_factor = _device_inflation(rng, variant, modes, inflation, evidence_days, inflated_from)
    observed, complete, by_mode, reporting_7d = _meter(
        rng, output[-EVIDENCE_DAYS:], modes, shares, device_factor, health, config
    )
    return {
        "i": i,
        "health": health,
        "activity": activity,
        "statement": statement,
        "defaulted": defaulted,
        "divergence": divergence,
        "fraud": variant,
        "fleet": fleet,
        "inflation": inflation,
        "quarters": quarters,
        "booked": booked,
        "evidence_days": evidence_days,
        "observed": observed,
        "complete": complete,
        "by_mode": by_mode,
        "modes": modes,
        "reporting_7d": reporting_7d,
        "rng": rng,
    }


def _output(
    rng: np.random.Generator, activity: float, days: np.ndarray, as_of_day: int, season_phase: float
) -> np.ndarray:
    """Daily output at the declared price (CNY): capacity x drift path x recent move x season x weekday x AR(1)."""
    capacity = float(np.exp(rng.normal(np.log(20_000.0), 0.8)))
    drift = 0.15 * activity + rng.normal(0.0, 0.08)
    path = np.exp(drift * (days - as_of_day) / 365.0)
    recent_days = rng.uniform(60, 150)  # the move of the last months, which a statement a quarter old misses
    path *= np.exp(
        (0.25 * activity + rng.normal(0.0, 0.10)) * np.clip((days - as_of_day + recent_days) / recent_days, 0, 1)
    )
    amplitude = rng.uniform(0.05, 0.30)
    season = 1.0 + amplitude * np.sin(2 * np.pi * (days % 365) / 365.0 + season_phase + rng.normal(0.0, 0.3))
    weekend = np.where(np.isin(days % 7, (2, 3)), rng.uniform(0.3, 1.0), 1.0)  # day 0 (1970-01-01) a Thursday
    shocks = rng.normal(0.0, 0.08 * np.sqrt(1 - 0.7**2), len(days))
    noise = lfilter([1.0], [1.0, -0.7], shocks)
    return capacity * path * season * weekend * np.exp(noise)


def _fleet_for(rng: np.random.Generator, variant: str | None) -> str:
    if variant == "statements_and_own_shared_device":
        return "enterprise_shared"
    if variant == "own_shared_device_beside_bank":
        return "bank_and_shared"
    if variant == "bank_device_tampered":
        return "bank_installed"
    return FLEETS[int(rng.choice(len(FLEETS), p=FLEET_SHARES))]


def _devices(rng: np.random.Generator, fleet: str) -> tuple[list[str], np.ndarray]:
    """Each device's source mode and the share of the firm's output it meters."""
    count = int(min(1 + rng.poisson(2.0), 8))
    if fleet == "bank_and_shared":
        count = max(count, 2)
        modes = ["bank_installed", "enterprise_shared"] + [
            str(rng.choice(["bank_installed", "enterprise_shared"])) for _ in range(count - 2)
        ]
    else:
        modes = [fleet] * count
    return modes, rng.dirichlet(np.full(count, 2.0))


def _device_inflation(
    rng: np.random.Generator,
    variant: str | None,
    modes: list[str],
    inflation: float,
    days: np.ndarray,
    inflated_from: int | None,
) -> np.ndarray:
    """Per device and day, the factor a fraud puts on its readings (1 when honest)."""
    factor = np.ones((len(modes), len(days)))
    if variant is None or variant == "statements_only":
        return factor
    during = days >= inflated_from
    if variant == "bank_device_tampered":
        factor[int(rng.integers(len(modes))), during] = inflation
    else:  # the borrower's own enterprise-shared devices read as high as its statements
        for d, mode in enumerate(modes):
            if mode == "enterprise_shared":
                factor[d, during] = inflation
    return factor


def _meter(
    rng: np.random.Generator,
    output: np.ndarray,
    modes: list[str],
    shares: np.ndarray,
    inflation: np.ndarray,
    health: float,
    config: LatentConfig,
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], int]:
    """What the devices report: per-device bias, noise, missing days and outages; the firm's daily value."""
    count, days = len(modes), len(output)
    bias = np.exp(rng.normal(0.0, config.device_bias_sigma, count))
    noise = np.exp(rng.normal(0.0, 0.05, (count, days)))
    readings = output[None, :] * shares[:, None] * bias[:, None] * noise * inflation
    up = rng.random((count, days)) >= rng.uniform(0.0, config.missing_day_max, count)[:, None]
    outage_rate = (
        config.outages_per_year * days / 365.0 * (np.exp(-0.7 * health) if config.outages_follow_health else 1.0)
    )
    for d in range(count):
        for _ in range(int(rng.poisson(outage_rate))):
            start = int(rng.integers(days))
            up[d, start : start + int(rng.geometric(1 / 7.0))] = False
    total = (readings * up).sum(axis=0)
    known = up.any(axis=0)
    observed = np.where(known, total, np.nan)
    by_mode = {}
    for mode in set(modes):
        mine = np.array([m == mode for m in modes])
        by_mode[mode] = np.where(known, (readings * up)[mine].sum(axis=0) / np.where(total > 0, total, 1.0), np.nan)
    complete = np.asarray(up.all(axis=0) & known)
    return observed, complete, by_mode, int(up[:, -7:].any(axis=1).sum())


def _price_path(rng: np.random.Generator, divergence: str, days: np.ndarray, as_of_day: int) -> np.ndarray:
    """Booked value per unit of metered output at the declared price (1 unless prices or the mix change)."""
    if divergence == "prices":
        change = rng.uniform(0.10, 0.30) * rng.choice([-1.0, 1.0])
        return np.exp(change * (days - (as_of_day - 365)) / 365.0)
    if divergence == "product_mix":
        step = rng.uniform(1.10, 1.33) if rng.random() < 0.5 else rng.uniform(0.75, 0.90)
        return np.where(days >= as_of_day - int(rng.integers(30, 330)), step, 1.0)
    return np.ones(len(days))


def _booked_revenue(
    rng: np.random.Generator,
    divergence: str,
    revenue: np.ndarray,
    days: np.ndarray,
    quarters: list[tuple[int, int, str]],
) -> list[float]:
    """Revenue booked in each quarter: produced revenue moved to the day it is booked, x accounting noise."""
    if divergence == "seasonal_timing":
        lag = np.full(len(days), float(rng.uniform(20, 75)))
    elif divergence == "receivables":
        start, end = (30.0, 90.0) if rng.random() < 0.5 else (90.0, 30.0)
        lag = start + (end - start) * np.clip((days - (days[-1] - 365)) / 365.0, 0.0, 1.0)
    else:
        lag = np.zeros(len(days))
    booked_day = days + np.round(lag).astype(int)
    out = []
    for first, last, _ in quarters:
        inside = (booked_day >= first) & (booked_day <= last)
        out.append(float(revenue[inside].sum()) * float(rng.normal(1.0, 0.03)))
    return out


def _peer_median(series: list[np.ndarray], days: np.ndarray) -> DailySeries:
    stack = np.vstack(series)
    counts = np.isfinite(stack).sum(axis=0)
    median = np.full(stack.shape[1], np.nan)
    enough = counts >= 5
    median[enough] = np.nanmedian(stack[:, enough], axis=0)
    return DailySeries.of(days, median)


def _finish(d: dict, index: DailySeries, as_of_day: int) -> LatentFirm:
    rng = d["rng"]
    revenue = DailySeries.of(d["evidence_days"], d["observed"], d["complete"])
    modes = d["modes"]
    devices = DeviceFacts(len(modes), d["reporting_7d"], 0, {m: modes.count(m) for m in set(modes)})
    evidence = EvidenceInputs(as_of_day, REVENUE_INDICATOR, revenue, index, devices)
    statements = _statements(rng, d["quarters"], d["booked"], d["statement"])
    reported = tuple(
        ReportedFigure("revenue_cny", s.first_day, s.last_day, float(s.revenue_cny), s.label)
        for s in statements[-CHECKED_QUARTERS:]
        if s.revenue_cny is not None  # every statement here states its revenue
    )
    sources = SourceShares.of(d["evidence_days"], d["by_mode"])
    return LatentFirm(
        f"LAT{d['i']:06d}",
        d["health"],
        d["activity"],
        d["defaulted"],
        d["divergence"],
        d["fraud"],
        d["fleet"],
        evidence,
        revenue,
        sources,
        tuple(statements),
        reported,
        d["inflation"],
    )


def _statements(
    rng: np.random.Generator, quarters: list[tuple[int, int, str]], booked: list[float], statement: float
) -> list[StatementPeriod]:
    """Quarterly statements: the booked revenue, a margin and a leverage that see the statement factor S."""
    margin = 0.04 + 0.03 * statement + rng.normal(0.0, 0.02)
    leverage = float(np.clip(0.5 - 0.08 * statement + rng.normal(0.0, 0.10), 0.05, 1.2))
    assets = sum(booked[:4]) * rng.uniform(0.8, 1.6)
    return [
        StatementPeriod(
            first,
            last,
            label,
            round(revenue, 2),
            round(revenue * margin, 2),
            round(assets, 2),
            round(assets * leverage, 2),
        )
        for (first, last, label), revenue in zip(quarters, booked)
    ]
