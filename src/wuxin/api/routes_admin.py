"""Operator endpoints: tenants, users, thing models, quarantine."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from pydantic import Field

from wuxin.api.deps import CurrentUser, PlatformDep
from wuxin.api.fields import ID_MAX, Id, RequestModel, raw_body
from wuxin.api.schemas import Created, ImportedThingModel, ThingModelDetail, ThingModelSummary
from wuxin.api.schemas_operations import Discarded, QuarantineEntry, Replayed
from wuxin.domain.model import Role
from wuxin.security.policy import require_role
from wuxin.services.access import identity
from wuxin.services.devices import registry
from wuxin.services.ingest import quarantine
from wuxin.store.rows import QuarantineRow

router = APIRouter(prefix="/api/v1")


class TenantIn(RequestModel):
    name: str = Field(min_length=2, max_length=200)
    kind: str


class UserIn(RequestModel):
    username: str = Field(pattern=r"^[A-Za-z0-9_.@-]{3,100}$")
    password: str = Field(min_length=10, max_length=200)
    role: str
    tenant_id: Id | None = None
    enterprise_id: Id | None = None
    display_name: str | None = None


@router.post("/tenants", tags=["admin"], status_code=201, response_model=Created)
def create_tenant(body: TenantIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Create a tenant (a bank or lender). Answers its id."""
    require_role(user, Role.PLATFORM_ADMIN)
    return {"id": identity.create_tenant(platform, body.name, body.kind)}


@router.post("/users", tags=["admin"], status_code=201, response_model=Created)
def create_user(body: UserIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Create a user of a tenant with one role. The password is stored hashed."""
    require_role(user, Role.PLATFORM_ADMIN)
    return {
        "id": identity.create_user(
            platform, body.username, body.password, body.role, body.tenant_id, body.enterprise_id, body.display_name
        )
    }


@router.get("/thing-models", tags=["thing models"], response_model=list[ThingModelSummary])
def list_thing_models(user: CurrentUser, platform: PlatformDep) -> list[dict]:
    """The thing models this platform knows: device type, scenario, version, when imported (details: GET .../{device_type})."""
    with platform.uow() as uow:
        return [
            {k: row[k] for k in ("device_type", "scenario", "version", "updated_ms")}
            for row in uow.devices.thing_models()
        ]


@router.get("/thing-models/{device_type}", tags=["thing models"], response_model=ThingModelDetail)
def get_thing_model(device_type: str, user: CurrentUser, platform: PlatformDep) -> dict:
    """One thing model by device type: each property with its unit, type and accepted range."""
    model = platform.thing_models.get(device_type)
    if model is None:
        from wuxin.errors import NotFound

        raise NotFound(f"device type {device_type!r} has no thing model")
    return model.source


@router.post(
    "/thing-models",
    tags=["thing models"],
    status_code=201,
    response_model=ImportedThingModel,
    openapi_extra=raw_body("an Alibaba Cloud IoT TSL thing model (JSON)", {"application/json": {"type": "object"}}),
)
async def import_thing_model(
    request: Request,
    user: CurrentUser,
    platform: PlatformDep,
    device_type: str | None = Query(
        None,
        max_length=80,
        description=(
            "'<scenario>.<type>' for an Alibaba export (its productKey is Alibaba's); remembered for that productKey"
        ),
    ),
) -> dict:
    """Import a thing model (Wuxin JSON or an Alibaba Cloud IoT TSL file); refusals name the property and the value."""
    return {"device_type": registry.import_thing_model(platform, await request.body(), user, device_type)}


class EntryIds(RequestModel):
    ids: list[Id] = Field(min_length=1, max_length=1000)


@router.get("/quarantine", tags=["quarantine"], response_model=list[QuarantineEntry])
def list_quarantine(
    user: CurrentUser,
    platform: PlatformDep,
    status: str | None = "open",
    limit: int = Query(100, ge=1, le=1000),
    after_id: int = Query(0, ge=0, le=ID_MAX),
    reason: str | None = None,
) -> list[QuarantineRow]:
    """Points and messages refused at ingest (unknown property, out of range ...), paged by after_id."""
    return quarantine.list_entries(platform, user, status, limit, after_id, reason)


@router.post("/quarantine/replay", tags=["quarantine"], response_model=Replayed)
def replay_quarantine(body: EntryIds, user: CurrentUser, platform: PlatformDep) -> dict:
    """Send quarantined entries through ingest again (after a thing model was fixed); answers how many were stored."""
    return quarantine.replay(platform, user, body.ids)


@router.post("/quarantine/discard", tags=["quarantine"], response_model=Discarded)
def discard_quarantine(body: EntryIds, user: CurrentUser, platform: PlatformDep) -> dict:
    """Discard quarantined entries for good; answers how many were discarded."""
    return {"discarded": quarantine.discard(platform, user, body.ids)}
