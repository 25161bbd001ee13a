"""HTTP routes of the protocols part: third-party platform push, gateways' sub-devices, connectivity."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from wuxin.api.deps import CurrentUser, PlatformDep
from wuxin.api.fields import EpochMs, Id, RequestModel, raw_body
from wuxin.api.routes_devices import TELEMETRY_RESPONSES
from wuxin.api.schemas import GatewayChild, Jt808Enrolment, PushPlatform, ServedEnterprise, Transition
from wuxin.api.sources import failure_gate
from wuxin.services.devices import connectivity
from wuxin.services.ingest import jt808 as jt808_terminals
from wuxin.services.ingest import protocols

router = APIRouter(prefix="/api/v1")


class PlatformIn(RequestModel):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,59}$", description="e.g. rootcloud, casicloud")


class ServeIn(RequestModel):
    enterprise_id: Id


class ChildIn(RequestModel):
    device_key: str = Field(max_length=100)


class Jt808EnrolmentIn(RequestModel):
    terminal_id: str = Field(pattern=r"^[0-9A-Za-z]{1,30}$", description="终端ID the maker gave the terminal")
    manufacturer_id: str | None = Field(
        None, pattern=r"^[0-9A-Za-z]{1,11}$", description="制造商ID; checked when given"
    )
    terminal_model: str | None = Field(None, min_length=1, max_length=30, description="终端型号; checked when given")
    imei: str | None = Field(
        None, pattern=r"^\d{15}$", description="when given, only a 2019 terminal sending it logs in"
    )
    window_hours: int = Field(72, ge=1, le=720, description="how long the terminal may register (0x0100)")
    header_version: Literal["auto", "2013", "2019"] = Field(
        "auto", description="how the gateway reads its headers: auto (bit 14, 2013 fallback), or forced 2013 / 2019"
    )


@router.post("/platforms", tags=["platforms"], status_code=201, response_model=PushPlatform)
def register_platform(body: PlatformIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Register a third-party IoT platform; its HMAC secret is returned once."""
    return {"name": body.name, "secret": protocols.register_push_platform(platform, user, body.name)}


@router.post("/platforms/{name}/enterprises", tags=["platforms"], status_code=201, response_model=ServedEnterprise)
def serve_enterprise(name: str, body: ServeIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Let the platform push for this enterprise's devices (the admin, or the enterprise itself)."""
    protocols.serve_enterprise(platform, user, name, body.enterprise_id)
    return {"platform": name, "enterprise_id": body.enterprise_id}


@router.post(
    "/platforms/{name}/telemetry",
    tags=["platforms"],
    responses=TELEMETRY_RESPONSES,
    openapi_extra=raw_body(
        "bulk lines, signed",
        {
            "application/json": {"type": "array", "items": {"type": "object"}},
            "application/x-ndjson": {"type": "string"},
        },
    ),
)
async def push_telemetry(
    name: str,
    request: Request,
    platform: PlatformDep,
    x_wuxin_timestamp: str | None = Header(None, description="epoch milliseconds"),
    x_wuxin_nonce: str | None = Header(None, description="16-64 of A-Z a-z 0-9 _ -, never reused"),
    x_wuxin_signature: str | None = Header(None, description='hex HMAC-SHA256(secret, "{timestamp}.{nonce}." + body)'),
) -> JSONResponse:
    """Bulk lines (JSON array or JSON Lines) for many devices, signed; stored as third_party_platform data."""
    body = await request.body()
    result = await run_in_threadpool(
        protocols.push_telemetry,
        platform,
        name,
        x_wuxin_timestamp,
        x_wuxin_nonce,
        x_wuxin_signature,
        body,
        failure_gate(request, platform, protocols.PUSH_CHANNEL),
    )
    status = 400 if result.rejections and not (result.accepted or result.events) else 200
    return JSONResponse(result.public(), status_code=status)


@router.post("/devices/{device_key}/jt808/enrolment", tags=["devices"], response_model=Jt808Enrolment)
def provision_jt808_terminal(device_key: str, body: Jt808EnrolmentIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Provision a JT/T 808 terminal and open its enrolment window; doing it again drops the terminal's auth code."""
    return jt808_terminals.provision_terminal(
        platform,
        user,
        device_key,
        body.terminal_id,
        window_s=body.window_hours * 3600,
        manufacturer_id=body.manufacturer_id,
        terminal_model=body.terminal_model,
        imei=body.imei,
        header_version=body.header_version,
    )


@router.post("/gateways/{gateway_key}/children", tags=["devices"], status_code=201, response_model=GatewayChild)
def attach_child(gateway_key: str, body: ChildIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Register a sub-device behind an MQTT gateway (same enterprise): only that gateway may publish for it."""
    protocols.attach_sub_device(platform, user, gateway_key, body.device_key)
    return {"gateway": gateway_key, "child": body.device_key}


@router.get("/enterprises/{enterprise_id}/connectivity/transitions", tags=["devices"], response_model=list[Transition])
def transitions(
    enterprise_id: Id,
    user: CurrentUser,
    platform: PlatformDep,
    from_ms: EpochMs = 0,
    to_ms: EpochMs = 2**62,
    limit: int = Query(1000, ge=1, le=10_000),
) -> list[dict]:
    """Online/offline transitions of the devices a valid consent covers (read logged)."""
    return connectivity.read_transitions(platform, user, enterprise_id, from_ms, to_ms, limit)
