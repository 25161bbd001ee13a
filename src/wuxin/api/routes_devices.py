"""Device-facing endpoints: ThingsBoard's HTTP device API, authenticated by device token.

The token goes in the path as ThingsBoard devices send it, or, for clients that can set a header,
in `Authorization: Bearer <token>` on `/api/v1/devices/me/telemetry`, which keeps it out of URLs
(and so out of proxies' access logs). Our own logs redact the path form (wuxin.logs)."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from annotated_types import Interval
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from wuxin.api.deps import PlatformDep
from wuxin.api.fields import Id, raw_body
from wuxin.api.schemas import (
    TELEMETRY_EXAMPLE,
    CommandAnswered,
    DeviceAttributes,
    DeviceCommand,
    DeviceRpcAnswer,
    TelemetryAnswer,
)
from wuxin.api.sources import failure_gate
from wuxin.errors import Conflict
from wuxin.services.ingest import device_sdk
from wuxin.services.ingest.telemetry import DeviceTokenError, ingest_device_telemetry

router = APIRouter(prefix="/api/v1", tags=["devices"])
TELEMETRY_RESPONSES: dict = {
    200: {
        "model": TelemetryAnswer,
        "description": "stored (some points may be refused: see `errors`)",
        "content": {"application/json": {"example": TELEMETRY_EXAMPLE}},
    },
    400: {"model": TelemetryAnswer, "description": "every point refused (each reason in `errors`), or unreadable"},
    401: {"description": "unknown or revoked device token (a problem document)"},
    429: {"description": "this address sent unknown tokens too often; see Retry-After"},
}
DEVICE_REFUSALS: dict = {k: TELEMETRY_RESPONSES[k] for k in (401, 429)}
_device_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="DeviceToken",
    description="a device access token (wxd_...), as issued at registration or rotation",
)


@router.post("/devices/me/telemetry", responses=TELEMETRY_RESPONSES)
async def post_telemetry_with_header(
    request: Request,
    platform: PlatformDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_device_bearer)],
) -> JSONResponse:
    """ThingsBoard telemetry with the device token in `Authorization: Bearer <token>` instead of the path."""
    if credentials is None:
        raise DeviceTokenError("missing_token", "this endpoint needs 'Authorization: Bearer <device token>'")
    return await _telemetry(platform, credentials.credentials, request)


@router.post(
    "/{device_token}/telemetry",
    responses=TELEMETRY_RESPONSES,
    openapi_extra=raw_body(
        "ThingsBoard telemetry",
        {"application/json": {"anyOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]}},
    ),
)
async def post_telemetry(device_token: str, request: Request, platform: PlatformDep) -> JSONResponse:
    """ThingsBoard telemetry: {"ts","values"}, a list of them, or {key: value}; bad points get reasons.
    A client address that keeps sending unknown tokens is answered 429 for a while."""
    return await _telemetry(platform, device_token, request)


async def _telemetry(platform, device_token: str, request: Request) -> JSONResponse:
    body = await request.body()
    result = await run_in_threadpool(
        ingest_device_telemetry, platform, device_token, body, failure_gate(request, platform, "http")
    )
    status = 400 if result.rejections and not (result.accepted or result.events) else 200
    return JSONResponse(result.public(), status_code=status)


@router.post(
    "/{device_token}/attributes",
    responses=TELEMETRY_RESPONSES,
    openapi_extra=raw_body("ThingsBoard client attributes", {"application/json": {"type": "object"}}),
)
async def post_attributes(device_token: str, request: Request, platform: PlatformDep) -> JSONResponse:
    """ThingsBoard client attributes {key: value}: keys the thing model declares are readings at receive time,
    the others are kept as the device's attributes (latest value)."""
    body = await request.body()
    result = await run_in_threadpool(
        device_sdk.post_http_attributes, platform, device_token, body, failure_gate(request, platform, "http")
    )
    status = 400 if result.rejections and not result.accepted else 200
    return JSONResponse(result.public(), status_code=status)


@router.get("/{device_token}/attributes", responses={200: {"model": DeviceAttributes}, **DEVICE_REFUSALS})
async def get_attributes(
    device_token: str,
    request: Request,
    platform: PlatformDep,
    clientKeys: Annotated[str | None, Query(max_length=4000)] = None,  # noqa: N803 (TB's names)
    sharedKeys: Annotated[str | None, Query(max_length=4000)] = None,  # noqa: N803
    client_keys: Annotated[list[str] | None, Query(max_length=200)] = None,
    shared_keys: Annotated[list[str] | None, Query(max_length=200)] = None,
) -> JSONResponse:
    """ThingsBoard attribute request: ?clientKeys=a,b&sharedKeys=c (or repeated client_keys, as ThingsBoard's
    Python HTTP client sends them) -> {"client": {...}, "shared": {...}}; no keys = all client attributes."""
    client = device_sdk.keys_param(clientKeys) if clientKeys is not None else device_sdk.keys_param(client_keys)
    shared = device_sdk.keys_param(sharedKeys) if sharedKeys is not None else device_sdk.keys_param(shared_keys)
    answer = await run_in_threadpool(
        device_sdk.get_http_attributes, platform, device_token, client, shared, failure_gate(request, platform, "http")
    )
    return JSONResponse(answer)


@router.post("/{device_token}/rpc", responses={200: {"model": DeviceRpcAnswer}, **DEVICE_REFUSALS})
async def post_rpc(device_token: str, request: Request, platform: PlatformDep) -> JSONResponse:
    """The device calls the platform: {"method", "params"}; getCurrentTime answers {"time": ms}."""
    body = await request.body()
    answer = await run_in_threadpool(
        device_sdk.post_http_rpc, platform, device_token, body, failure_gate(request, platform, "http")
    )
    return JSONResponse(answer)


@router.get(
    "/{device_token}/rpc",
    responses={
        200: {"model": DeviceCommand},
        **DEVICE_REFUSALS,
        408: {"description": "nothing pending within the timeout (an empty body)", "content": {}},
    },
)
async def poll_rpc(
    device_token: str,
    request: Request,
    platform: PlatformDep,
    timeout: Annotated[int | None, Query(), Interval(ge=0, le=2**31 - 1)] = None,
) -> Response:
    """ThingsBoard's RPC long poll: waits up to `timeout` ms (0 or absent: 10 s; at most 120 s) for a command
    for the device and answers it as {"id", "method", "params"} (the command is then sent: answer it with
    POST /api/v1/{token}/rpc/{id}); nothing pending: 408 Request Timeout with an empty body, as ThingsBoard
    answers (its clients poll again)."""
    device = await run_in_threadpool(
        device_sdk.http_device, platform, device_token, b"", failure_gate(request, platform, "http")
    )
    key = device["key"]
    if _OPEN_POLLS.get(key, 0) >= MAX_POLLS_PER_DEVICE:  # more would only load the database
        raise Conflict(
            f"device {key!r} already has {MAX_POLLS_PER_DEVICE} long polls open; poll again when one answers"
        )
    _OPEN_POLLS[key] = _OPEN_POLLS.get(key, 0) + 1
    try:
        deadline = time.monotonic() + device_sdk.rpc_poll_timeout_ms(timeout) / 1000
        while True:
            command = await run_in_threadpool(device_sdk.take_http_command, platform, device_token, device["key"])
            if command is not None:
                return JSONResponse(command)
            left = deadline - time.monotonic()
            if left <= 0 or await request.is_disconnected():
                return Response(status_code=408)
            await asyncio.sleep(min(device_sdk.HTTP_RPC_CHECK_S, left))
    finally:
        _OPEN_POLLS[key] -= 1
        if not _OPEN_POLLS[key]:
            del _OPEN_POLLS[key]


MAX_POLLS_PER_DEVICE = 2  # a client re-polling as its last poll ends may overlap it briefly
_OPEN_POLLS: dict[str, int] = {}  # device key -> long polls waiting in this process


@router.post(
    "/{device_token}/rpc/{command_id}",
    responses={
        200: {"model": CommandAnswered},
        **DEVICE_REFUSALS,
        404: {"description": "no such command awaits this device"},
    },
)
async def answer_rpc(device_token: str, command_id: Id, request: Request, platform: PlatformDep) -> JSONResponse:
    """The device answers the command it took from the long poll; the body (any JSON) is stored as its answer,
    an {"error": ...} body fails the command. Another device's command, an unknown id or a second answer: 404."""
    body = await request.body()
    outcome = await run_in_threadpool(
        device_sdk.answer_http_command,
        platform,
        device_token,
        command_id,
        body,
        failure_gate(request, platform, "http"),
    )
    return JSONResponse({"command_id": command_id, "state": outcome})
