"""The schedule of `wuxin serve`'s indicators job (api.indicators_job) with a fake run (the real runs are in
tests/integration/test_live_indicators.py): a backlog is caught up run after run a second apart, a failing run is
logged, shown and retried an interval later, and the job never dies of it."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

import pytest

from wuxin.api import indicators_job
from wuxin.api.indicators_job import CATCH_UP_PAUSE_S, IndicatorsJob
from wuxin.metrics import Metrics
from wuxin.services.indicators import CatchUp, UpdateSummary

INTERVAL_S = 30.0
JOB_THREAD = "indicators-job-under-test"  # asyncio.sleep is patched for the whole process: only its sleeps count


def test_backlog_runs_follow_each_other_and_failures_are_retried(monkeypatch):
    outcomes = [7, 2, RuntimeError("database is down"), 0, 0]  # backlog after each run, or what it raises
    sleeps: list[float] = []
    platform = SimpleNamespace(
        settings=SimpleNamespace(indicators_interval_s=INTERVAL_S, indicators_device_days_per_run=5), metrics=Metrics()
    )
    seen: list[dict] = []
    job = IndicatorsJob()

    def fake_catch_up(platform_, max_device_days):
        assert max_device_days == 5
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return CatchUp(UpdateSummary(device_days=5), outcome)

    real_sleep = asyncio.sleep

    async def fake_sleep(seconds):
        if threading.current_thread().name != JOB_THREAD:  # another test's server still running in this process
            return await real_sleep(seconds)
        sleeps.append(seconds)
        seen.append(job.view())
        if not outcomes:
            raise asyncio.CancelledError

    monkeypatch.setattr(indicators_job.indicators, "catch_up", fake_catch_up)
    monkeypatch.setattr(indicators_job.asyncio, "sleep", fake_sleep)
    with pytest.raises(asyncio.CancelledError):
        _run_in_own_thread(lambda: indicators_job._run_periodically(platform, job))
    assert sleeps == [INTERVAL_S, CATCH_UP_PAUSE_S, CATCH_UP_PAUSE_S, INTERVAL_S, INTERVAL_S, INTERVAL_S]
    assert [s["backlog_device_days"] for s in seen[1:]] == [7, 2, 2, 0, 0]
    assert seen[3]["last_error"] == "RuntimeError: database is down" and seen[4]["last_error"] is None
    assert job.idle.is_set()
    assert platform.metrics.job_failures.labels("indicators")._value.get() == 1


def _run_in_own_thread(make_coroutine) -> None:
    """asyncio.run in a thread of its own: in the full suite Playwright's sync API keeps a loop running in this one."""
    raised: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(make_coroutine())
        except BaseException as error:  # noqa: BLE001 - handed back to the test's thread
            raised.append(error)

    thread = threading.Thread(target=target, name=JOB_THREAD)
    thread.start()
    thread.join(60)
    if raised:
        raise raised[0]
