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
    return hashlib.sha256(b"".join((folder / name).read_bytes()
                                   for name in ("devices.json", "telemetry.jsonl", "labels.json"))).hexdigest()


def test_same_seed_same_files_other_seed_other_data(tmp_path):
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        write_data_set(tmp_path / name, seed, START, 28, only=["E1", "V1"])
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a") != digest(tmp_path / "c")


def test_every_industry_loads_with_risk_and_benign_labels_of_the_platform_types(tmp_path):
    from wuxin.alerts.catalog import default_rules

    summary = write_data_set(tmp_path, 11, START, 41)
    devices, lines, labels = load_data_set(tmp_path)
    assert summary["enterprises"] == 11 and len(lines) == summary["lines"]
    assert {e["industry"] for e in devices["enterprises"]} == {"manufacturing", "energy", "dairy", "vehicles", "logistics"}
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


def test_too_short_a_set_is_refused():
    with pytest.raises(ValueError, match="days must be >= 28"):
        generate(1, START, 20)


def test_a_small_set_scored_end_to_end_recalls_its_tamper_and_spares_the_control(tmp_path):
    write_data_set(tmp_path, 3, START, 28, only=["M1", "M2"])
    figures = measure_labelled(tmp_path, Console(file=open("/dev/null", "w")), step_min=120)
    tamper = figures["types"]["device_tamper"]
    assert tamper["labels"] == 1 and tamper["detected"] == 1 and tamper["false"] == 0
    clock = figures["types"]["clock_skew"]
    assert clock["labels"] == 1 and clock["detected"] == 1
    for alarm_type in ("device_tamper", "fabricated_data", "clock_skew"):
        assert figures["types"].get(alarm_type, {}).get("false", 0) == 0, alarm_type
