"""Indicators show up by themselves: `wuxin serve`'s indicators job recomputes the dirty device-days as data
arrives (no `wuxin indicators update`), a backlog is caught up in bounded runs, and /metrics and /health show it."""

from __future__ import annotations

import time

import pytest

from tests.integration.test_metrics_health import samples, value
from tests.world import build_world, login
from wuxin.indicators.days import day_iso, day_start_ms, local_day
from wuxin.services import indicators
from wuxin.services.ingest.telemetry import ingest_lines

MIN = 60_000
APPEAR_WITHIN_S = 60


@pytest.fixture
def quick_live(platform, request):
    """The real API with the indicators job every 0.5 s (30 s by default)."""
    platform.settings.indicators_interval_s = 0.5
    return request.getfixturevalue("live")


def _loom_points(day: int, run_minutes: int) -> list[dict]:
    start = day_start_ms(day)
    return [
        {"ts": start + m * MIN, "values": {"current_a": 12.0 if m < run_minutes else 0.5}} for m in range(0, 1440, 5)
    ]


def _poll(fetch, until_s: float):
    deadline = time.monotonic() + until_s
    while time.monotonic() < deadline:
        found = fetch()
        if found is not None:
            return found
        time.sleep(0.2)
    return None


def test_a_new_devices_readings_show_as_indicators_without_any_update_command(platform, quick_live):
    world = build_world(platform)
    live, admin, officer = quick_live, login(quick_live.client, "admin"), login(quick_live.client, "officer")
    day = local_day(platform.clock_ms()) - 1
    created = live.client.post(
        f"/api/v1/enterprises/{world.factory}/devices",
        headers=admin,
        json={
            "key": "loom-new",
            "device_type": "manufacturing.current_bracelet",
            "source_mode": "bank_installed",
            "attributes": {"run_threshold_a": 5.0},
        },
    )
    assert created.status_code == 201, created.text
    posted = live.client.post(f"/api/v1/{created.json()['access_token']}/telemetry", json=_loom_points(day, 480))
    assert posted.status_code == 200 and posted.json()["accepted"] == 288, posted.text
    url = f"/api/v1/enterprises/{world.factory}/devices/loom-new/indicators?from={day_iso(day)}&to={day_iso(day)}"

    def run_hours():
        response = live.client.get(url, headers=officer)  # a credit officer: no admin ran anything
        assert response.status_code == 200, response.text
        return next((v for v in response.json()["values"] if v["indicator"] == "run_hours"), None)

    started = time.monotonic()
    found = _poll(run_hours, APPEAR_WITHIN_S)
    assert found is not None, f"run_hours of {day_iso(day)} did not appear within {APPEAR_WITHIN_S} s"
    assert found["value"] == pytest.approx(8.0, abs=0.1) and found["quality"] == "complete"
    assert time.monotonic() - started < APPEAR_WITHIN_S
    enterprise = live.client.get(
        f"/api/v1/enterprises/{world.factory}/indicators",
        params={"from": day_iso(day), "to": day_iso(day), "name": "run_hours"},
        headers=officer,
    )
    assert enterprise.status_code == 200 and enterprise.json()["values"][0]["devices"] >= 1, enterprise.text

    found_metrics = samples(live)
    assert value(found_metrics, "wuxin_job_last_success_timestamp_seconds", job="indicators") > 1e9
    assert value(found_metrics, "wuxin_job_duration_seconds_count", job="indicators") >= 1
    assert value(found_metrics, "wuxin_indicators_backlog_device_days") == 0
    health = live.client.get("/health", headers=admin).json()["parts"]["scheduler"]
    assert health["status"] == "ok" and health["indicators_task"] == "running", health
    assert health["indicators"]["backlog_device_days"] == 0 and health["indicators"]["last_success_ms"] > 0
    assert health["indicators"]["last_error"] is None


def test_a_backlog_is_caught_up_in_bounded_runs(platform):
    build_world(platform)
    today = local_day(platform.clock_ms())
    days = range(today - 6, today)
    lines = [
        {"device": key, **p} for key in ("loom-01", "loom-02") for d in days for p in _loom_points(d, 60 * (d % 5 + 1))
    ]
    ingest_lines(platform, lines, "bulk")
    with platform.uow() as uow:
        assert (
            uow.indicators.count_dirty() == 14
        )  # 6 days x 2 looms, and today (its look-back hour reads the last points)
    runs = []
    while not runs or runs[-1].backlog_device_days:
        runs.append(indicators.catch_up(platform, max_device_days=5))
        assert len(runs) <= 3, "the backlog did not shrink"
    assert [r.summary.device_days for r in runs] == [5, 5, 4]
    assert [r.backlog_device_days for r in runs] == [9, 4, 0]
    assert platform.metrics.indicators_backlog._value.get() == 0
    for d in days:  # the bounded runs end where one unbounded update would
        got = indicators.enterprise_indicators(platform, None, _factory(platform), d, d, names=["run_hours"])["values"]
        assert got[0]["value"] == pytest.approx(d % 5 + 1, abs=0.1) and got[0]["quality"] == "complete"
    assert indicators.catch_up(platform, max_device_days=5).summary.device_days == 0


def _factory(platform) -> int:
    with platform.uow() as uow:
        return next(e["id"] for e in uow.enterprises.list() if e["industry"] == "manufacturing")
