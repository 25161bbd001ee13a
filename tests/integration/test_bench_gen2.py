"""The second generator (wuxin.bench.gen2): deterministic per seed, its output is a labelled data set the loader
accepts, and a small set scored end to end through the real platform recalls its tamper and raises no tamper or
fabricated-data alarm on the healthy control firm."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from rich.console import Console

from wuxin.bench.gen2 import HOLIDAYS_2026, MAKEUP_2026, generate, write_data_set
from wuxin.bench.labelled import load_data_set, measure_labelled

START = dt.date(2026, 9, 21)


def digest(folder) -> str:
    return hashlib.sha256(
        b"".join((folder / name).read_bytes() for name in ("devices.json", "telemetry.jsonl", "labels.json"))
    ).hexdigest()


def test_same_seed_same_files_other_seed_other_data(tmp_path):
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        write_data_set(tmp_path / name, seed, START, 28, only=["E1", "V1"])
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a") != digest(tmp_path / "c")


def test_every_industry_loads_with_risk_and_benign_labels_of_the_platform_types(tmp_path):
    from wuxin.services.bootstrap import default_rules

    summary = write_data_set(tmp_path, 11, START, 28)
    devices, lines, labels = load_data_set(tmp_path)
    assert summary["enterprises"] == 11 and len(lines) == summary["lines"]
    assert {e["industry"] for e in devices["enterprises"]} == {
        "manufacturing",
        "energy",
        "dairy",
        "vehicles",
        "logistics",
    }
    known = {r.alarm_type for r in default_rules().values()}
    assert {t for l in labels for t in l.alarm_types} <= known
    risky = {l.enterprise for l in labels if not l.benign}
    assert risky and {"M2", "E2", "D2", "V2", "L2"}.isdisjoint(risky)  # healthy controls carry no risk label
    kinds = {l.kind for l in labels if l.benign}
    assert {"holiday", "sunday_never_worked", "refuelling", "cow culled, collar removed"} <= kinds
    keys = {d["key"] for d in devices["devices"]}
    assert {l["device"] for l in lines} <= keys
    assert all(d <= keys for d in (l.devices for l in labels))


def test_the_calendar_is_the_state_council_notice():
    import chinese_calendar

    for offset in range(60):
        day = dt.date(2026, 9, 10) + dt.timedelta(days=offset)
        official = chinese_calendar.is_workday(day)
        ours = day not in HOLIDAYS_2026 and (day in MAKEUP_2026 or day.weekday() < 5)
        assert ours == official, day


def test_too_short_a_set_is_refused_naming_the_firm():
    with pytest.raises(ValueError, match="days must be >= 28 for energy firm E1"):
        generate(1, START, 20)


def test_a_small_set_scored_end_to_end_recalls_its_tamper_and_spares_the_control(tmp_path):
    """Two truck fleets over 14 days (V1 with labelled anomalies, V2 its healthy control), replayed in 2-hour slices."""
    write_data_set(tmp_path, 3, dt.date(2026, 10, 12), 14, size="small")
    figures = measure_labelled(tmp_path, Console(file=open("/dev/null", "w")), step_min=120)["types"]
    tamper = figures["device_tamper"]
    assert (tamper["labels"], tamper["detected"], tamper["false"]) == (1, 1, 0)
    for alarm_type in ("geofence_exit", "gps_jump", "odometer_tamper", "clock_skew", "device_offline"):
        assert figures[alarm_type]["detected"] == figures[alarm_type]["labels"] == 1, alarm_type
        assert "V2" not in figures[alarm_type]["alarms_by_enterprise"], alarm_type  # the healthy fleet raised none
