"""The only wiring: settings -> engine, thing-model registry, clock, metrics."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from wuxin.config import Settings, get_settings
from wuxin.domain.thing_model import ThingModel, compile_thing_model
from wuxin.metrics import Metrics
from wuxin.security.login_guard import LoginGuard, ThrottlePolicy
from wuxin.store.db import make_engine, observe_queries, pool_checked_out
from wuxin.store.uow import UnitOfWork


def system_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class ThingModelRegistry:
    """Compiled thing models by device type, loaded from the database and refreshed on import."""

    def __init__(self, engine: Engine):
        self._engine = engine
        self._models: dict[str, ThingModel] = {}
        self._lock = threading.Lock()

    def get(self, device_type: str) -> ThingModel | None:
        model = self._models.get(device_type)
        if model is None:
            self.reload()
            model = self._models.get(device_type)
        return model

    def reload(self) -> None:
        with UnitOfWork(self._engine) as uow:
            rows = uow.devices.thing_models()
        with self._lock:
            self._models = {row["device_type"]: compile_thing_model(row["tsl"], row["device_type"]) for row in rows}


@dataclass
class Platform:
    settings: Settings
    engine: Engine
    thing_models: ThingModelRegistry
    metrics: Metrics
    clock_ms: Callable[[], int] = field(default=system_clock_ms)
    login_guard: LoginGuard | None = None  # built from the settings when not given

    def __post_init__(self) -> None:
        if self.login_guard is None:
            self.login_guard = login_guard_for(self.settings)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.engine)

    def close(self) -> None:
        self.engine.dispose()


def login_guard_for(settings: Settings) -> LoginGuard:
    def policy(max_failures: int) -> ThrottlePolicy:
        return ThrottlePolicy(
            max_failures, settings.login_failure_window_s, settings.login_lock_base_s, settings.login_lock_max_s
        )

    return LoginGuard(
        policy(settings.login_account_max_failures),
        policy(settings.login_source_max_failures),
        settings.login_hash_slots,
        settings.login_hash_wait_s,
    )


def build_platform(settings: Settings | None = None, clock_ms: Callable[[], int] = system_clock_ms) -> Platform:
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)
    metrics = Metrics()
    observe_queries(engine, lambda kind, seconds: metrics.db_query_seconds.labels(kind).observe(seconds))
    metrics.watch_pool(pool_checked_out(engine))
    return Platform(settings, engine, ThingModelRegistry(engine), metrics, clock_ms)
