"""Request latency by route template: /api/v1/devices/{token}/telemetry, never the raw path (device tokens
travel in paths, and raw paths would make one time series per token)."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wuxin.metrics import Metrics

UNMATCHED = "unmatched"  # a 404 for a path no route knows: one label for all of them


class RequestMetrics:
    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            self.metrics.request_seconds.labels(scope["method"], route_template(scope), str(status)).observe(
                time.perf_counter() - started
            )


def route_template(scope: Scope) -> str:
    """The matched route's path template (the router puts the route in the scope), else "unmatched"."""
    route = scope.get("route")
    return getattr(route, "path", None) or UNMATCHED
