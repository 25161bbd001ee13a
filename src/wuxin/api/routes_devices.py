"""Device-facing endpoints: ThingsBoard's HTTP device API, authenticated by device token."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from wuxin.api.deps import PlatformDep
from wuxin.api.fields import raw_body
from wuxin.services.ingest import ingest_device_telemetry

router = APIRouter(prefix="/api/v1", tags=["devices"])


@router.post("/{device_token}/telemetry", openapi_extra=raw_body("ThingsBoard telemetry", {
    "application/json": {"anyOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]}}))
async def post_telemetry(device_token: str, request: Request, platform: PlatformDep) -> JSONResponse:
    """ThingsBoard telemetry: {"ts","values"}, a list of them, or {key: value}; bad points get reasons."""
    body = await request.body()
    result = await run_in_threadpool(ingest_device_telemetry, platform, device_token, body)
    status = 400 if result.rejections and not (result.accepted or result.events) else 200
    return JSONResponse(result.public(), status_code=status)
