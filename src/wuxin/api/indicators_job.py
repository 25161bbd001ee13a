"""App lifespan: the indicators job (services.indicators.catch_up) every `indicators_interval_s` (30 s) while
serving: the dirty device-days, at most `indicators_device_days_per_run` a run, with their enterprise days,
months and industry-index days. While a backlog remains the next run follows a second later; a run that fails
is logged and tried again an interval later. The first run waits one interval, as the other jobs do."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from wuxin.bootstrap import Platform
from wuxin.services import indicators

log = logging.getLogger("wuxin.api")

CATCH_UP_PAUSE_S = 1.0  # between two runs while a backlog remains
STOP_WAIT_S = 60.0  # on stop, wait this long for a run in progress to commit


@dataclass
class IndicatorsJob:
    """What /health shows of the job: its task, its last run, the backlog it left."""

    task: asyncio.Task | None = None
    last_success_ms: int | None = None  # wall clock
    last_run_s: float | None = None
    last_error: str | None = None
    backlog_device_days: int | None = None
    idle: threading.Event = field(default_factory=threading.Event)

    def view(self) -> dict[str, Any]:
        return {
            "last_success_ms": self.last_success_ms,
            "last_run_s": self.last_run_s,
            "backlog_device_days": self.backlog_device_days,
            "last_error": self.last_error,
        }


def indicators_lifespan(platform: Platform, inner: Callable):
    @asynccontextmanager
    async def lifespan(app) -> AsyncIterator[None]:
        job = IndicatorsJob()
        job.idle.set()
        job.task = asyncio.create_task(_run_periodically(platform, job))
        app.state.indicators_job = job
        try:
            async with inner(app):
                yield
        finally:
            job.task.cancel()
            await asyncio.to_thread(job.idle.wait, STOP_WAIT_S)  # a cancelled run's thread goes on to its commit

    return lifespan


async def _run_periodically(platform: Platform, job: IndicatorsJob) -> None:
    pause_s = platform.settings.indicators_interval_s
    while True:
        await asyncio.sleep(pause_s)
        pause_s = platform.settings.indicators_interval_s
        job.idle.clear()
        try:
            run = await asyncio.to_thread(_run_once, platform, job)
        except Exception as exc:  # the database may be down for a while: log, keep the schedule
            job.last_error = f"{type(exc).__name__}: {exc}"[:500]
            log.exception("indicators update failed; retrying in %s s", pause_s)
            continue
        job.last_success_ms, job.last_error = int(time.time() * 1000), None
        job.last_run_s, job.backlog_device_days = round(run.summary.seconds, 3), run.backlog_device_days
        if run.summary.device_days:
            log.info(
                "indicators: %s device-days recomputed, %s waiting", run.summary.device_days, run.backlog_device_days
            )
        if run.backlog_device_days:
            pause_s = min(CATCH_UP_PAUSE_S, pause_s)


def _run_once(platform: Platform, job: IndicatorsJob) -> indicators.CatchUp:
    try:
        return platform.metrics.timed_job(
            "indicators", lambda: indicators.catch_up(platform, platform.settings.indicators_device_days_per_run)
        )
    finally:
        job.idle.set()
