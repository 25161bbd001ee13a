"""Device-facing endpoints: ThingsBoard's HTTP device API, authenticated by device token.

The token goes in the path as ThingsBoard devices send it, or, for clients that can set a header,
in `Authorization: Bearer <token>` on `/api/v1/devices/me/telemetry`, which keeps it out of URLs
(and so out of proxies' access logs). Our own logs redact the path form (wuxin.logs)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from wuxin.api.deps import PlatformDep
from wuxin.api.fields import raw_body
from wuxin.api.sources import failure_gate
from wuxin.services.ingest import DeviceTokenError, ingest_device_telemetry

router = APIRouter(prefix="/api/v1", tags=["devices"])
_device_bearer = HTTPBearer(auto_error=False, scheme_name="DeviceToken",
                            description="a device access token (wxd_...), as issued at registration or rotation")


@router.post("/devices/me/telemetry")
async def post_telemetry_with_header(
        request: Request, platform: PlatformDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_device_bearer)]) -> JSONResponse:
    """ThingsBoard telemetry with the device token in `Authorization: Bearer <token>` instead of the path."""
    if credentials is None:
        raise DeviceTokenError("missing_token", "this endpoint needs 'Authorization: Bearer <device token>'")
    return await _telemetry(platform, credentials.credentials, request)


@router.post("/{device_token}/telemetry", openapi_extra=raw_body("ThingsBoard telemetry", {
    "application/json": {"anyOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]}}))
async def post_telemetry(device_token: str, request: Request, platform: PlatformDep) -> JSONResponse:
    """ThingsBoard telemetry: {"ts","values"}, a list of them, or {key: value}; bad points get reasons.
    A client address that keeps sending unknown tokens is answered 429 for a while."""
    return await _telemetry(platform, device_token, request)


async def _telemetry(platform, device_token: str, request: Request) -> JSONResponse:
    body = await request.body()
    result = await run_in_threadpool(ingest_device_telemetry, platform, device_token, body,
                                     failure_gate(request, platform, "http"))
    status = 400 if result.rejections and not (result.accepted or result.events) else 200
    return JSONResponse(result.public(), status_code=status)
