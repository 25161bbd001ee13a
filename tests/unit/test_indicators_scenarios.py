"""Each pack's indicators on its simulator: they recover the ground truth the simulators expose."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest

from wuxin.indicators.days import DAY_MS, local_day
from wuxin.indicators.engine import compute_device_days
from wuxin.indicators.memory import collect, device_days
from wuxin.scenarios import scenario_packs
from wuxin.services.bootstrap import indicator_packs

CN = dt.timezone(dt.timedelta(hours=8))
START = int(dt.datetime(2025, 11, 10, tzinfo=CN).timestamp() * 1000)
END = START + 2 * DAY_MS


def _run(scenario: str, seed_text: str, pick=lambda e: True):
    sim, pack = scenario_packs()[scenario].sim(), indicator_packs()[scenario]
    rng = random.Random(seed_text)
    e = next(x for x in (sim.build_enterprise(rng, i + 1) for i in range(50)) if pick(x))
    truth: dict = {}
    kwargs = {"truth": truth} if scenario in ("manufacturing", "vehicles", "dairy", "energy") else {}
    values, events = collect(sim.telemetry(e, START, END, 3, **kwargs))
    days = np.arange(local_day(START), local_day(END - 1) + 1)
    siblings = [(d.device_type, d.attributes) for d in e.devices]
    rows = []
    for d in e.devices:
        decls = pack.for_type(d.device_type)
        if decls:
            data = device_days(
                d.key, d.device_type, d.attributes, values.get(d.key, {}), events.get(d.key, {}), days, siblings
            )
            rows += [(d.key, r) for r in compute_device_days(decls, data)]
    return e, truth, rows, values, events


def test_run_hours_match_the_machines_true_run_time():
    _, truth, rows, *_ = _run("manufacturing", "t-mfg")
    pairs = [(r.value * 3600, truth[(k, r.day)]) for k, r in rows if r.name == "run_hours" and r.value is not None]
    assert len(pairs) >= 12
    for measured, true in pairs:
        assert measured == pytest.approx(true, rel=0.02, abs=120)


def test_track_and_odometer_distance_match_the_km_driven():
    _, truth, rows, *_ = _run("vehicles", "t-veh")
    gps = [
        (r.value, truth[(k, r.day)]) for k, r in rows if r.name == "distance_gps_km" and r.value and (k, r.day) in truth
    ]
    assert gps and all(abs(a - b) <= 0.02 * b + 0.05 for a, b in gps)
    odo = [r.value for k, r in rows if r.name == "distance_odometer_km" and r.quality == "complete"]
    assert odo  # day 2 has its baseline from day 1
    assert all(r.value < 0.02 for k, r in rows if r.name == "distance_disagreement_rate" and r.quality == "complete")


def test_herd_count_is_exact_when_every_tag_reports():
    e, truth, rows, *_ = _run("dairy", "t-dairy")
    per_day: dict[int, float] = {}
    for _, r in rows:
        if r.name == "herd_count" and r.value is not None:
            per_day[r.day] = per_day.get(r.day, 0) + r.value
    assert per_day and per_day == {d: float(n) for (u, d), n in truth.items() if u == e.uscc}


def test_pv_expectation_matches_pvlib_on_the_true_irradiance():
    from wuxin.scenarios.energy import indicators as E

    e, truth, rows, *_ = _run("energy", "t-pv", lambda x: any(d.device_type == E.INVERTER for d in x.devices))
    kwp = sum(float(d.attributes["capacity_kwp"]) for d in e.devices if d.device_type == E.INVERTER)
    ((key, raw),) = truth.items()
    kw = E.expected_ac_kw(raw["poa_wm2"], raw["module_temp_c"], kwp)
    day = local_day(raw["ts"])
    for k, r in rows:
        if k == key and r.name == "expected_kwh":
            assert r.value == pytest.approx(float(kw[day == r.day].sum()) * 5 / 60, rel=0.05)
    generation = sum(r.value for _, r in rows if r.name == "generation_kwh" and r.value is not None)
    assert generation > 0


def test_construction_headcount_counts_people_once_across_gates():
    from wuxin.scenarios.construction.indicators import GROUPS

    e, _, _, values, events = _run(
        "construction", "t-con", lambda x: sum(d.device_type == "construction.access_gate" for d in x.devices) == 2
    )
    days = np.arange(local_day(START), local_day(END - 1) + 1)
    gates = [
        device_days(d.key, d.device_type, d.attributes, values.get(d.key, {}), events.get(d.key, {}), days)
        for d in e.devices
        if d.device_type == "construction.access_gate"
    ]
    result = GROUPS[0].compute(gates)
    people = [
        {
            p["person_hash"]
            for g in gates
            for t, p in zip(g.e("entry").ts, g.e("entry").params)
            if local_day(int(t)) == d and p["authorised"]
        }
        for d in days
    ]
    expected = np.array([float(len(p)) if p else np.nan for p in people])
    assert np.array_equal(result.value, expected, equal_nan=True) and np.nansum(expected) > 0


def test_pledged_stock_reconciliation_takes_the_smallest_stock():
    from wuxin.scenarios.logistics.indicators import reconcile_pledged_stock

    wms = [{"quantity": 300, "direction": "in"}, {"quantity": 100, "direction": "out"}]
    r = reconcile_pledged_stock(
        10_000,
        wms,
        camera_net_units=195,
        rfid_stock_units=10_150,
        weighed_in_kg=2700,
        weighed_out_kg=900,
        unit_kg=9.0,
        price_cny_per_unit=380.0,
    )
    assert (r.stock_by_wms, r.stock_by_camera, r.stock_by_weighbridge) == (10_200, 10_195, 10_200)
    assert r.max_gap_units == 50 and r.pledged_units == 10_150 and r.pledged_value_cny == 10_150 * 380.0
