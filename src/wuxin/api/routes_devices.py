"""Device-facing endpoints: ThingsBoard's HTTP device API, authenticated by device token."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from wuxin.api.deps import PlatformDep
from wuxin.api.sources import failure_gate
from wuxin.services.ingest import ingest_device_telemetry

router = APIRouter(prefix="/api/v1", tags=["devices"])


@router.post("/{device_token}/telemetry")
async def post_telemetry(device_token: str, request: Request, platform: PlatformDep) -> JSONResponse:
    """ThingsBoard telemetry: {"ts","values"}, a list of them, or {key: value}; bad points get reasons.
    A client address that keeps sending unknown tokens is answered 429 for a while."""
    body = await request.body()
    result = await run_in_threadpool(ingest_device_telemetry, platform, device_token, body,
                                     failure_gate(request, platform, "http"))
    status = 400 if result.rejections and not (result.accepted or result.events) else 200
    return JSONResponse(result.public(), status_code=status)
