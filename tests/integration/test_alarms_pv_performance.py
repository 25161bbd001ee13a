"""The PV performance-ratio rules through the platform's daily sweep, on the real SERF East days (pvanalytics):
an honest plant raises nothing, the same meter inflated x1.3 raises the 7-day PR alarm with its explanation."""

from __future__ import annotations

import random
from types import SimpleNamespace

from tests.world import build_world
from wuxin.bench import pv_real as B
from wuxin.indicators.days import local_day
from wuxin.services.devices import registry
from wuxin.services.monitoring.daily import evaluate_daily
from wuxin.sim.spec import make_uscc

START = 30


def _pv_alarms(platform) -> list[dict]:
    with platform.uow() as uow:
        return [
            a
            for a in uow.monitoring.list_alarms(None, None, None, None, 100)
            if a["alarm_type"] in ("generation_above_physics", "performance_ratio_out_of_band")
        ]


def _store_days(platform, enterprise_id: int, days: list[tuple[int, float, float]], first_day: int) -> None:
    with platform.uow() as uow:
        for i, (_, measured, expected) in enumerate(days):
            rows = [
                SimpleNamespace(name="generation_kwh", value=measured, quality="good", devices=1),
                SimpleNamespace(name="expected_kwh", value=expected, quality="good", devices=1),
            ]
            uow.indicators.put_enterprise_day(enterprise_id, first_day + i, rows, platform.clock_ms())
        uow.commit()


def test_inflated_meter_raises_the_pr_alarm_on_the_daily_sweep_and_the_honest_one_nothing(platform):
    build_world(platform)
    honest_plant = registry.create_enterprise(
        platform, None, "青海诚信光伏电站有限公司", make_uscc(random.Random(7)), "energy", "青海省西宁市"
    )
    inflated_plant = registry.create_enterprise(
        platform, None, "青海虚增光伏电站有限公司", make_uscc(random.Random(8)), "energy", "青海省西宁市"
    )
    df, _ = B.serf_plant(0.92)
    honest, inflated = B.plant_days(df)[:45], B.plant_days(df, 1.3, START)[:45]
    first = local_day(platform.clock_ms()) - 46
    _store_days(platform, honest_plant, honest, first)
    _store_days(platform, inflated_plant, inflated, first)
    for day in range(first + START - 1, first + 45):
        evaluate_daily(platform, day)
    alarms = _pv_alarms(platform)
    assert {a["enterprise_id"] for a in alarms} == {inflated_plant}
    pr = [a for a in alarms if a["alarm_type"] == "performance_ratio_out_of_band"]
    assert pr and pr[0]["detail"]["ratio"] > pr[0]["detail"]["high"] > pr[0]["detail"]["baseline_pr"]
    assert {"expected_kwh", "measured_kwh", "low", "window_days"} <= set(pr[0]["detail"])
