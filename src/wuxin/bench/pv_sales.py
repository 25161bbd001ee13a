"""PV sales check on generated plants: honest false flags and inflated bills caught (risk/pv_sales.py).

    python -m wuxin.bench.pv_sales [firms] [seed]

Each plant: two years of daily generation (kWp x 4 kWh x season x weather, a cloudy day a quarter of a clear one),
curtailed days (both sides lower), inverter days missing (5 % at random, one outage of 3-10 days), an inverter counter
bias uniform within +-`inverter_bias_pct` and a grid meter bias within +-0.5 %, 0.5-3 % losses to the grid meter,
meter-reading days up to 5 days off the month, 10 % of months unbilled and caught up by the next bill, a tariff moving
+-5 % a month. Fraud: three bills inflated by 1.1-2x. What it does not show: real inverter errors (the bias is drawn
inside the declared accuracy unless `inverter_bias_pct` says otherwise, so a plant flagged for bias alone cannot
happen by construction there; what is measured is weather, timing, gaps and catch-up bills), self-consumption (a
全额上网 plant: all is fed in), or a fraud that also inflates its inverters.
"""

from __future__ import annotations

import datetime as dt
import random
import sys

import numpy as np

from wuxin.risk.business import month_span
from wuxin.risk.crossverify import ReportedFigure
from wuxin.risk.features import DailySeries
from wuxin.risk.pv_sales import PvBound, PvFigure, pv_cross_verify

FIRST = dt.date(2025, 1, 1)
GENERATION = "generation_kwh"  # the energy pack's name for a plant's daily kWh (checks.json generation_indicator)


def plant(rng: random.Random, inflate: float = 1.0, inverter_bias_pct: float = 3.0):
    """(metered daily generation, feed-in bills, inflated months) of one generated plant."""
    first = (FIRST - dt.date(1970, 1, 1)).days
    days = np.arange(first, first + 730)
    kwp = rng.uniform(500, 5000)
    season = 1 + 0.3 * np.cos(2 * np.pi * (days - first - 172) / 365.25)
    weather = np.array([rng.choice((rng.uniform(0.8, 1.0), rng.uniform(0.2, 0.5))) for _ in days])
    curtail = np.array([rng.uniform(0.6, 0.9) if rng.random() < 0.05 else 1.0 for _ in days])
    true = kwp * 4.0 * season * weather * curtail
    metered = true * (1 + rng.uniform(-inverter_bias_pct, inverter_bias_pct) / 100)
    metered[np.array([rng.random() < 0.05 for _ in days])] = np.nan
    out_at = rng.randrange(0, 700)
    metered[out_at : out_at + rng.randint(3, 10)] = np.nan
    grid = true * (1 - rng.uniform(0.005, 0.03)) * (1 + rng.uniform(-0.005, 0.005))
    shift = rng.randint(-5, 5)
    months = [f"{y}-{m:02d}" for y in (2025, 2026) for m in range(1, 13)]
    inflated = set(rng.sample(range(2, 24), 3)) if inflate > 1 else set()
    bills, carried = [], 0.0
    for k, month in enumerate(months):
        a, b = month_span(month)
        lo, hi = max(a + shift, first) - first, min(b + shift, first + 729) - first
        kwh = float(grid[lo : hi + 1].sum()) + carried
        if k not in (0, 23) and k not in inflated and rng.random() < 0.10:
            carried = kwh  # unbilled: the next bill carries it
            continue
        carried = 0.0
        tariff = 0.38 * (1 + rng.uniform(-0.05, 0.05))
        value = kwh * (inflate if k in inflated else 1.0)
        bills.append((ReportedFigure("feed_in_kwh", a, b, value, month, "third_party"), value * tariff, k in inflated))
    return DailySeries.of(days, metered), bills


def run(firms: int, seed: int, inflate: tuple[float, float] = (1.1, 2.0), inverter_bias_pct: float = 3.0) -> dict:
    rng = random.Random(seed)
    honest_firms = honest_flagged = honest_bills = bills_flagged = 0
    caught: dict[str, list[int]] = {}
    for i in range(firms):
        fraud = i % 2 == 1
        factor = rng.uniform(*inflate) if fraud else 1.0
        series, bills = plant(rng, factor, inverter_bias_pct)
        results = pv_cross_verify([PvFigure(f) for f, _, _ in bills], series, PvBound(), indicator=GENERATION)
        flags = [r.status == "overstated" for r in results]
        if fraud:
            band = f"{int(factor * 10) / 10:.1f}x"
            hit = any(flag for flag, (_, _, bad) in zip(flags, bills) if bad)
            caught.setdefault(band, [0, 0])[0] += hit
            caught[band][1] += 1
        else:
            honest_firms += 1
            honest_flagged += any(flags)
            honest_bills += len(flags)
            bills_flagged += sum(flags)
    return {
        "honest_firms": honest_firms,
        "honest_firms_flagged": honest_flagged,
        "honest_bills": honest_bills,
        "honest_bills_flagged": bills_flagged,
        "caught_by_factor": dict(sorted(caught.items())),
    }


def main(argv: list[str]) -> None:
    firms = int(argv[0]) if argv else 400
    seed = int(argv[1]) if len(argv) > 1 else 7
    for bias in (3.0, 6.0):
        print(f"inverter bias within +-{bias:g} % (declared accuracy 3 %):", run(firms, seed, inverter_bias_pct=bias))


if __name__ == "__main__":
    main(sys.argv[1:])
