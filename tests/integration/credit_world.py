"""Helpers for the credit tests: daily indicators and an industry index written straight to the store
(the indicators part computes them in production), statements, and a small trained scorecard."""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import pandas as pd

from wuxin.indicators.days import local_day
from wuxin.indicators.engine import AggregateRow, DayRow
from wuxin.risk.features import IOT_FEATURES, STATEMENT_FEATURES
from wuxin.risk.scorecard import Scorecard, ScorecardConfig, train_scorecard
from wuxin.services.bootstrap import finance_profiles
from wuxin.services.credit.governance import DatabaseModelRegistry
from wuxin.sim.finance import borrower_row, quarters_until, simulate_book

OUTPUT_CNY_PER_DAY = 20_000.0
HISTORY = 280  # covers the last two whole quarters


def as_of(platform) -> int:
    return int(local_day(platform.clock_ms())) - 1


def put_indicators(
    platform,
    enterprise_id: int,
    scenario: str = "manufacturing",
    region: str = "江苏省苏州市吴江区",
    history: int = HISTORY,
    output_factor: float = 1.0,
) -> None:
    """`history` days of run hours, output value (`output_factor` times the true one) and energy for the
    enterprise, and a peer index around it."""
    last = as_of(platform)
    now = platform.clock_ms()
    with platform.uow() as uow:
        for day in range(last - history + 1, last + 1):
            wobble = 1.0 + 0.05 * np.sin(day / 7.0)
            rows = [
                AggregateRow("run_hours", 16.0 * wobble, "complete", 2),
                AggregateRow("output_value_cny", OUTPUT_CNY_PER_DAY * wobble * output_factor, "complete", 1),
                AggregateRow("energy_kwh", 3000.0 * wobble, "complete", 1),
            ]
            uow.indicators.put_enterprise_day(enterprise_id, day, rows, now)
            uow.indicators.put_index(
                scenario,
                region,
                day,
                [dict(indicator="run_hours", enterprises=8, p25=12.0, median=15.0, p75=18.0, mean=15.0)],
                now,
            )
        uow.commit()


def put_device_output(
    platform, enterprise_id: int, device_ids: list[int], history: int = HISTORY, factor: float = 1.0
) -> None:
    """The device-day lineage of the output value: each device's share of the day (as the indicators part
    writes it), so that cross-verification knows which devices (and source modes) stand behind it."""
    last = as_of(platform)
    with platform.uow() as uow:
        for device_id in device_ids:
            rows = [
                DayRow(
                    day,
                    "output_value_cny",
                    OUTPUT_CNY_PER_DAY * factor * (1.0 + 0.05 * np.sin(day / 7.0)) / len(device_ids),
                    "complete",
                    96,
                )
                for day in range(last - history + 1, last + 1)
            ]
            uow.indicators.put_device_days(device_id, enterprise_id, rows, platform.clock_ms())
        uow.commit()


def recent_readings(platform, keys: dict[str, str]) -> None:
    """One reading from each device an hour ago, so that none counts as offline (key -> property)."""
    from wuxin.services.ingest.telemetry import ingest_lines

    lines = [
        {"device": key, "ts": platform.clock_ms() - 3_600_000, "values": {prop: 1.0}} for key, prop in keys.items()
    ]
    assert not ingest_lines(platform, lines, "http").rejections


def statement_rows(uscc: str, platform, factor: float = 1.0) -> list[dict]:
    """Four quarters of statements: revenue `factor` times what the output indicator supports."""
    rows = []
    for first, last, label in quarters_until(as_of(platform), 5)[:-1]:
        revenue = OUTPUT_CNY_PER_DAY * (last - first + 1) * factor
        rows.append(
            {
                "uscc": uscc,
                "period": label,
                "period_start": _iso(first),
                "period_end": _iso(last),
                "revenue_cny": f"{revenue:.2f}",
                "net_profit_cny": f"{revenue * 0.05:.2f}",
                "total_assets_cny": "8000000",
                "total_liabilities_cny": "4000000",
            }
        )
    return rows


@lru_cache(maxsize=1)
def small_model() -> Scorecard:
    """A scorecard trained once per test session on a small simulated book (the platform's features)."""
    # the industries of the test world's borrowers: a pack added later (its own finance profile) must not retrain
    # the model these tests' expected grades were read from
    profiles = tuple(p for p in finance_profiles() if p.scenario in ("manufacturing", "energy", "vehicles"))
    book = simulate_book(400, 11, 20_700, profiles)
    rows = [borrower_row(b)[0] for b in book]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return train_scorecard(
            pd.DataFrame(rows),
            np.array([b.defaulted for b in book], dtype=int),
            ScorecardConfig(IOT_FEATURES + STATEMENT_FEATURES, name="test-iot", min_bin_share=0.05),
        )


def register_model(platform) -> str:
    """The small model as a platform model, already active in every bank tenant (the lifecycle itself is
    tested in test_model_governance.py; here it is the world the credit tests decide in)."""
    now = platform.clock_ms()
    with platform.uow() as uow:
        version = DatabaseModelRegistry(uow, None, None, now).save(small_model(), {"test": True}, {"source": "test"})
        for tenant in uow.identity.list_tenants():
            if tenant["kind"] == "bank":
                uow.credit.put_model_state(
                    tenant["id"],
                    version,
                    state="active",
                    validation={"passed": True, "sample": "test world"},
                    activated_ms=now,
                    updated_ms=now,
                )
        uow.commit()
    return version


def _iso(day: int) -> str:
    import datetime as dt

    return (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()
