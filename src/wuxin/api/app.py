"""The FastAPI application: one router per resource under /api/v1, errors translated here."""

from __future__ import annotations

import logging
import math
from http import HTTPStatus

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.exceptions import HTTPException

from wuxin import __version__
from wuxin.api import (
    routes_admin,
    routes_calendars,
    routes_commands,
    routes_console,
    routes_credit,
    routes_credit_workflow,
    routes_data,
    routes_devices,
    routes_indicators,
    routes_labels,
    routes_ledger,
    routes_monitoring,
    routes_portfolio,
    routes_protocols,
    routes_provisioning,
    routes_trace,
)
from wuxin.api.body_limit import BodyLimit
from wuxin.api.deps import OptionalUser
from wuxin.api.guards import refuse_unstorable_text
from wuxin.api.health import health_report, public_health
from wuxin.api.indicators_job import indicators_lifespan
from wuxin.api.maintenance import maintenance_lifespan
from wuxin.api.problems import PROBLEM_RESPONSES, problem_documents, problem_response
from wuxin.api.request_metrics import RequestMetrics
from wuxin.api.schemas_operations import Health
from wuxin.bootstrap import Platform
from wuxin.errors import WuxinError
from wuxin.ingest.parse import PayloadError
from wuxin.logs import install_redaction
from wuxin.services.ingest.telemetry import DeviceTokenError
from wuxin.store.errors import translate
from wuxin.web.pages import mount_console

log = logging.getLogger("wuxin.api")


def create_app(platform: Platform) -> FastAPI:
    install_redaction()  # device tokens travel in URLs: no log line of this process may hold one
    app = FastAPI(
        title="Wuxin (物信) API",
        version=__version__,
        description="IoT evidence for credit: devices, telemetry, consent, enterprises.",
        lifespan=routes_monitoring.with_sweeper(
            platform,
            maintenance_lifespan(platform, indicators_lifespan(platform, routes_ledger.tree_head_lifespan(platform))),
        ),  # intervals: config.Settings
        responses=PROBLEM_RESPONSES,
        dependencies=[Depends(refuse_unstorable_text)],
    )
    app.state.platform = platform
    generated = app.openapi
    app.openapi = lambda: problem_documents(generated())  # type: ignore[method-assign]  # FastAPI's way to amend /docs
    _add_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=platform.settings.max_body_bytes)
    _add_security_headers(app)  # outermost: a 413 carries the headers too
    app.add_middleware(RequestMetrics, metrics=platform.metrics)  # latency by route template, 413s included
    app.include_router(routes_devices.router)
    app.include_router(routes_commands.router)
    app.include_router(routes_provisioning.router)  # before routes_data: /devices/import is not a device key
    app.include_router(routes_data.router)
    app.include_router(routes_admin.router)
    app.include_router(routes_ledger.router)
    app.include_router(routes_trace.router)
    app.include_router(routes_protocols.router)
    app.include_router(routes_credit.router)
    app.include_router(routes_credit_workflow.router)
    app.include_router(routes_console.router)
    app.include_router(routes_portfolio.router)
    mount_console(app)
    app.include_router(routes_monitoring.router)
    app.include_router(routes_indicators.router)
    app.include_router(routes_labels.router)
    app.include_router(routes_calendars.router)

    @app.get(
        "/health",
        tags=["operations"],
        response_model=Health,
        responses={503: {"model": Health, "description": "Writes cannot succeed: unavailable or read_only"}},
    )
    def health(caller: OptionalUser) -> JSONResponse:
        """Liveness and readiness of the database, brokers and background jobs; 503 when a dependency is down.
        Anyone (a load balancer, a probe) gets each part's status; the platform admin also gets the details
        (broker address, data directory and free bytes, job state), which tell an outsider where to aim."""
        status, body, headers = health_report(platform, app.state)  # one function per part: see api/health.py
        if caller is None or not caller.is_admin:
            body = public_health(body)
        return JSONResponse(body, status_code=status, headers=headers)

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        """Prometheus metrics of this process (text exposition format)."""
        return PlainTextResponse(platform.metrics.exposition().decode(), media_type="text/plain; version=0.0.4")

    return app


def _error(
    request: Request, status: int, code: str, message: str, headers: dict | None = None, **extra
) -> JSONResponse:
    return problem_response(status, code, message, request.url.path, headers, **extra)


def _wuxin_error(request: Request, exc: WuxinError) -> JSONResponse:
    retry_after_s = exc.retry_after_s  # throttled or unavailable: when to try again
    return _error(
        request, exc.status_code, exc.code, str(exc), {"Retry-After": str(retry_after_s)} if retry_after_s else None
    )


def _shown(value):
    """A request value as an error may echo it: scalars only, cut short, lone surrogates escaped."""
    if isinstance(value, str):
        return value[:200].encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # 'inf' from a JSON number beyond a double: JSON has no value for it
    return value if isinstance(value, (int, float, bool)) else None


def _field_problems(exc: RequestValidationError) -> list[dict]:
    """Each refused field: where (loc), why (msg) and the value sent."""
    return [
        {
            "loc": [_shown(p) if isinstance(p, str) else p for p in e["loc"]],
            "msg": e["msg"],
            "value": _shown(e.get("input")),
        }
        for e in exc.errors()
    ]


def _validation_detail(errors: list[dict]) -> str:
    """One sentence naming every refused field and its value (the first five)."""
    parts = [f"{'.'.join(str(p) for p in e['loc'])}={e['value']!r}: {e['msg']}" for e in errors[:5]]
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "the request does not match the API schema: " + "; ".join(parts) + more


def _http_detail(exc: HTTPException) -> tuple[str, dict]:
    """An HTTPException's detail as the problem's sentence; a structured detail travels as `errors`."""
    if isinstance(exc.detail, str):
        return exc.detail, {}
    return HTTPStatus(exc.status_code).phrase if exc.status_code in HTTPStatus._value2member_map_ else "error", {
        "errors": exc.detail
    }


def _add_error_handlers(app: FastAPI) -> None:
    """One format for every error: RFC 9457 problem+json (see api/problems.py)."""

    @app.exception_handler(WuxinError)
    async def wuxin_error(request: Request, exc: WuxinError) -> JSONResponse:
        return _wuxin_error(request, exc)

    @app.exception_handler(PayloadError)
    async def payload_error(request: Request, exc: PayloadError) -> JSONResponse:
        return _error(request, 400, exc.reason, str(exc))

    @app.exception_handler(DeviceTokenError)
    async def token_error(request: Request, exc: DeviceTokenError) -> JSONResponse:
        return _error(request, 401, exc.reason, str(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_problems(exc)
        problems = [
            {"where": ".".join(str(p) for p in e["loc"]), "message": e["msg"], "value": e["value"]} for e in errors
        ]  # the pre-problem+json shape, kept for existing clients
        return _error(request, 422, "invalid_request", _validation_detail(errors), errors=errors, problems=problems)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if isinstance(exc.__cause__, RecursionError):  # FastAPI could not parse a JSON body this deep
            return await too_deep(request, exc.__cause__)
        detail, extra = _http_detail(exc)
        code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        return _error(request, exc.status_code, code, detail, getattr(exc, "headers", None), **extra)

    @app.exception_handler(RecursionError)
    async def too_deep(request: Request, _: RecursionError) -> JSONResponse:
        log.warning("request too deeply nested on %s %s", request.method, request.url.path)
        return _error(
            request,
            400,
            "too_deep",
            "the request body is nested too deeply to process (Python's "
            "recursion limit); send arrays and objects nested at most a few hundred levels",
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        translated = translate(exc)  # a database failure outside a unit of work, a full disk (ENOSPC)
        if translated is not None:
            log.warning("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path, translated)
            return _wuxin_error(request, translated)
        log.exception("unexpected error on %s %s", request.method, request.url.path)  # the trace stays in the log
        return _error(request, 500, "internal_error", f"unexpected {type(exc).__name__}; the server keeps running")


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
}


def _add_security_headers(app: FastAPI) -> None:
    """nosniff, no framing, no referrer and a Content-Security-Policy on every response (see api/security_headers.py)."""
    from wuxin.api.security_headers import SecurityHeaders

    app.add_middleware(SecurityHeaders, docs_paths=(app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url))
