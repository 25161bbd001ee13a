"""The pure indicator engine: local days, time-weighted hold, counters with resets, tracks,
quality flags, aggregation, month values, indexes and the incremental planner."""

from __future__ import annotations

import numpy as np
import pytest

from wuxin.errors import ThingModelError
from wuxin.indicators.days import (
    DAY_MS,
    LOOKBACK_MS,
    day_start_ms,
    dirty_device_days,
    month_days,
    parse_day,
    touched_days,
)
from wuxin.indicators.declare import Derived, Indicator, IndicatorPack, check_pack, label
from wuxin.indicators.engine import AggregateRow, aggregate_enterprise_day, aggregate_month, compute_device_days
from wuxin.indicators.index import MIN_PEERS, distribution, percentile_rank
from wuxin.indicators.kernels import counter_increase, haversine_km, held_seconds, reduce_per_day, track_km
from wuxin.indicators.planner import plan_update, runs
from wuxin.indicators.series import DeviceDays, Series
from wuxin.services.bootstrap import indicator_packs

D = parse_day("2025-11-10")
T0 = day_start_ms(D)  # local midnight, 2025-11-09T16:00Z
MIN = 60_000
DAYS = np.array([D, D + 1])


def test_local_days_are_china_days():
    assert T0 == 1_762_704_000_000
    assert touched_days(T0 + 3600_000) == (D,)
    assert touched_days(T0 + DAY_MS - LOOKBACK_MS // 2) == (D, D + 1)  # in the next day's look-back hour
    assert dirty_device_days([(7, "k", T0 + 5, 1.0, None)], [(8, "e", T0 - 1, "{}")]) == {(7, D), (8, D - 1), (8, D)}
    assert list(month_days(202511))[:1] == [D - 9] and len(month_days(202502)) == 28
    with pytest.raises(ValueError, match="2025-13-01"):
        parse_day("2025-13-01")


def test_held_seconds_splits_at_midnight_and_stops_at_the_max_gap():
    ts = np.array([T0 + DAY_MS - 2 * MIN, T0 + DAY_MS + MIN, T0 + DAY_MS + 2 * MIN])
    on, covered = held_seconds(ts, np.array([True, True, False]), DAYS, 5 * MIN)
    assert on.tolist() == [120.0, 60.0 + 60.0]  # 23:58 holds to 00:01 across midnight, then 00:01-00:02
    assert covered.tolist() == [120.0, 60.0 + 60.0 + 300.0]  # the last sample holds for the max gap only
    on, covered = held_seconds(np.array([T0, T0 + 60 * MIN]), np.array([True, True]), DAYS, 5 * MIN)
    assert on[0] == 600.0  # a silence is unobserved, not "running"


def test_counter_increase_handles_resets_and_needs_a_baseline():
    ts = np.array([T0 - 10 * MIN, T0 + 10 * MIN, T0 + 20 * MIN, T0 + DAY_MS - 5 * MIN])
    value = np.array([100.0, 110.0, 3.0, 8.0])  # the meter restarted between 10 and 20 minutes
    increase, observed = counter_increase(ts, value, DAYS, 30 * MIN)
    assert increase[0] == pytest.approx(10 + 3 + 5)
    assert observed[0] == 1.0 and np.isnan(increase[1])  # no reading on day 2: unknown, not 0
    inc2, obs2 = counter_increase(ts[1:], value[1:], DAYS, 30 * MIN)
    assert obs2[0] < 1.0  # no baseline in the look-back hour: partial


def test_haversine_and_track_drop_a_lone_jump():
    assert haversine_km(39.9042, 116.4074, 31.2304, 121.4737) == pytest.approx(1067.3, abs=1.0)
    ts = T0 + np.arange(5) * MIN
    lat = np.array([30.0, 30.01, 32.5, 30.03, 30.04])  # the third fix jumps 280 km and back
    lon = np.full(5, 120.0)
    km = track_km(ts, lat, lon, DAYS, 180.0)
    assert km[0] == pytest.approx(haversine_km(30.0, 120.0, 30.04, 120.0), rel=1e-9)
    assert np.isnan(km[1])


def test_reductions_per_day_ignore_missing_values():
    ts = np.array([T0 + MIN, T0 + 2 * MIN, T0 + DAY_MS + MIN])
    x = np.array([1.0, np.nan, 5.0])
    assert reduce_per_day(ts, x, DAYS, "sum").tolist() == [1.0, 5.0]
    assert reduce_per_day(ts, x, DAYS, "last").tolist() == [1.0, 5.0]
    assert np.isnan(reduce_per_day(ts[:1], x[:1], DAYS, "max")[1])
    with pytest.raises(ValueError, match="median"):
        reduce_per_day(ts, x, DAYS, "median")


def _bracelet(ts, current, days=DAYS) -> DeviceDays:
    return DeviceDays(
        "loom",
        "manufacturing.current_bracelet",
        {"run_threshold_a": 5.0},
        days,
        {"current_a": Series.of(ts, current)},
        now_ms=T0 + 10 * DAY_MS,
    )


def test_run_hours_are_the_same_in_any_order_and_with_duplicates():
    decls = indicator_packs()["manufacturing"].for_type("manufacturing.current_bracelet")
    ts = T0 + np.arange(2 * 1440) * MIN
    current = np.where((np.arange(2 * 1440) % 1440) < 600, 10.0, 1.0)
    ordered = compute_device_days(decls, _bracelet(ts, current))
    perm = np.random.default_rng(1).permutation(len(ts))
    shuffled = compute_device_days(
        decls, _bracelet(np.concatenate([ts[perm], ts[:50]]), np.concatenate([current[perm], current[:50]]))
    )
    assert ordered == shuffled
    run = {r.day: r for r in ordered if r.name == "run_hours"}
    assert run[D].value == pytest.approx(10.0) and run[D].quality == "complete" and run[D].points == 1440
    no_threshold = compute_device_days(
        decls, DeviceDays("loom", "manufacturing.current_bracelet", {}, DAYS, {"current_a": Series.of(ts, current)})
    )
    assert all(r.value is None for r in no_threshold)  # without run_threshold_a, run time is unknown


def test_a_day_half_observed_is_partial_and_a_day_without_data_is_unknown():
    decls = indicator_packs()["manufacturing"].for_type("manufacturing.current_bracelet")
    ts = T0 + np.arange(720) * MIN
    rows = {(r.day, r.name): r for r in compute_device_days(decls, _bracelet(ts, np.full(720, 9.0)))}
    assert rows[(D, "run_hours")].quality == "partial"
    assert rows[(D, "run_hours")].value == pytest.approx(
        12.0 + 4 / 60
    )  # the last reading stands for the 5-minute max gap
    assert rows[(D, "utilization_rate")].value == pytest.approx(1.0)
    assert rows[(D + 1, "run_hours")].value is None and rows[(D + 1, "run_hours")].quality == "unknown"


def test_enterprise_aggregates_flag_missing_devices_and_derive():
    pack = indicator_packs()["dairy"]
    values = [("dairy.ear_tag", "herd_count", 1.0, "complete")] * 3 + [
        ("dairy.milk_meter", "milk_kg", 90.0, "complete")
    ]
    rows = {
        r.name: r
        for r in aggregate_enterprise_day(
            pack, values, {"dairy.ear_tag": 3, "dairy.milk_meter": 1, "dairy.collar": 3}, {}
        )
    }
    assert rows["herd_count"] == AggregateRow("herd_count", 3.0, "complete", 3)
    assert rows["milk_kg_per_cow"].value == pytest.approx(30.0) and rows["milk_kg_per_cow"].quality == "complete"
    assert rows["activity_steps_mean"].value is None and rows["activity_steps_mean"].quality == "unknown"
    rows = {r.name: r for r in aggregate_enterprise_day(pack, values, {"dairy.ear_tag": 4, "dairy.milk_meter": 1}, {})}
    assert rows["herd_count"].quality == "partial" and rows["milk_kg_per_cow"].quality == "partial"


def test_month_is_complete_only_when_finished_and_every_day_complete():
    pack = indicator_packs()["manufacturing"]
    days = month_days(202511)
    full = {"run_hours": [(d, 20.0, "complete") for d in days]}
    after = day_start_ms(days.stop) + 1
    (row,) = aggregate_month(pack, 202511, full, after)
    assert (row.value, row.quality, row.devices) == (20.0, "complete", 30)
    (row,) = aggregate_month(pack, 202511, full, after - 2)
    assert row.quality == "partial"
    (row,) = aggregate_month(
        pack, 202511, {"energy_kwh": [(days.start, 10.0, "complete"), (days.start + 1, 5.0, "complete")]}, after
    )
    assert (row.value, row.quality) == (15.0, "partial")  # a sum over the month, missing days: partial


def test_index_is_published_from_five_peers_with_percentiles():
    assert distribution([22.0, 23.0, 21.0, 24.0]) is None
    dist = distribution([20.0, 21.0, 22.0, 23.0, 24.0])
    assert (dist.enterprises, dist.p25, dist.median, dist.p75) == (MIN_PEERS, 21.0, 22.0, 23.0)
    assert percentile_rank(24.0, [20.0, 21.0, 22.0, 23.0, 24.0]) == 90.0
    assert percentile_rank(22.0, [22.0] * 4) is None


def test_planner_runs_and_touched_enterprises():
    assert runs([9, 3, 4, 5, 4]) == [(3, 5), (9, 9)]
    plan = plan_update([(1, D), (1, D + 1), (2, D + 5), (3, D)], {1: 10, 2: 10, 3: 11})
    assert plan.device_runs == {1: [(D, D + 1)], 2: [(D + 5, D + 5)], 3: [(D, D)]}
    assert plan.enterprise_days == {(10, D), (10, D + 1), (10, D + 5), (11, D)}
    assert plan.enterprise_months == {(10, 202511), (11, 202511)}


def test_a_broken_declaration_is_refused_with_its_name():
    from wuxin.scenarios import builtin_thing_models

    models = {m.device_type: m for m in builtin_thing_models()}
    bad = Indicator("x", "h", label("x", "x"), "manufacturing.current_bracelet", ("voltage_v",), lambda d: None, "sum")
    with pytest.raises(ThingModelError, match="voltage_v"):
        check_pack(IndicatorPack("manufacturing", (bad,), (), (), ()), models)
    derived = Derived("y", "1", label("y", "y"), ("nope",), lambda a: a)
    with pytest.raises(ThingModelError, match="nope"):
        check_pack(IndicatorPack("manufacturing", (), (), (derived,), ()), models)
    with pytest.raises(ThingModelError, match="median"):
        check_pack(
            IndicatorPack(
                "manufacturing",
                (bad.__class__(**{**bad.__dict__, "properties": ("current_a",), "aggregation": "median"}),),
                (),
                (),
                (),
            ),
            models,
        )
