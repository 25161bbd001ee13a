"""App lifespan: the telemetry maintenance job (services.retention) every `maintenance_interval_s` (1 h) while
serving; the first run waits one interval (a restart loop must not run it again and again)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from wuxin.bootstrap import Platform
from wuxin.services.ingest import retention

log = logging.getLogger("wuxin.api")


def maintenance_lifespan(platform: Platform, inner: Callable):
    @asynccontextmanager
    async def lifespan(app) -> AsyncIterator[None]:
        try:
            platform.metrics.telemetry_partitions.set(await asyncio.to_thread(retention.partition_count, platform))
        except Exception as exc:  # the database may be down at start: the gauge waits for the first run
            log.warning("could not count the readings partitions for /metrics: %s", exc)
        task = asyncio.create_task(_run_periodically(platform, platform.settings.maintenance_interval_s))
        app.state.maintenance_task = task
        try:
            async with inner(app):
                yield
        finally:
            task.cancel()

    return lifespan


async def _run_periodically(platform: Platform, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            report = await asyncio.to_thread(retention.maintain, platform)
            log.info("maintenance: %s", report)
        except Exception:  # the database may be down for a while: log, keep the schedule
            log.exception("telemetry maintenance failed; retrying in %s s", interval_s)
