"""Device-facing routes anyone can call: a source that keeps failing authentication gets 429."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from wuxin.bootstrap import Platform
from wuxin.errors import RateLimited
from wuxin.services.access.source_limits import FailureLimiter


def failure_limiter(request: Request, platform: Platform) -> FailureLimiter:
    """One per application, made on first use (routes run on the event loop: no race)."""
    state = request.app.state
    if getattr(state, "failure_limiter", None) is None:
        state.failure_limiter = FailureLimiter(platform.settings.unauthenticated_failures_per_minute)
    return state.failure_limiter


def failure_gate(request: Request, platform: Platform, channel: str) -> Callable[[], None]:
    """What the service calls when this request fails authentication: counts it against the client's
    address, and raises RateLimited (before anything of the request is kept) past the limit."""
    limiter = failure_limiter(request, platform)
    source = request.client.host if request.client else "unknown"

    def failed() -> None:
        try:
            limiter.failed(source)
        except RateLimited:
            platform.metrics.rate_limited.labels(channel).inc()
            raise

    return failed
