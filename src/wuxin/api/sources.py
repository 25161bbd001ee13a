"""Device-facing routes that anyone can call: refuse sources that keep failing authentication (429)."""
from __future__ import annotations

from typing import Awaitable, Callable, TypeVar

from fastapi import Request

from wuxin.bootstrap import Platform
from wuxin.errors import RateLimited
from wuxin.services.source_limits import FailureLimiter

T = TypeVar("T")


def failure_limiter(request: Request, platform: Platform) -> FailureLimiter:
    """One per application, made on first use (routes run on the event loop: no race)."""
    state = request.app.state
    if getattr(state, "failure_limiter", None) is None:
        state.failure_limiter = FailureLimiter(platform.settings.unauthenticated_failures_per_minute)
    return state.failure_limiter


async def guarded(request: Request, platform: Platform, channel: str, auth_errors: tuple[type[Exception], ...],
                  work: Callable[[], Awaitable[T]]) -> T:
    """Refuse a source over its failures before reading its body; count each of `auth_errors` against it."""
    limiter = failure_limiter(request, platform)
    source = request.client.host if request.client else "unknown"
    try:
        limiter.check(source)
    except RateLimited:
        platform.metrics.rate_limited.labels(channel).inc()
        raise
    try:
        return await work()
    except auth_errors:
        limiter.failed(source)
        raise
