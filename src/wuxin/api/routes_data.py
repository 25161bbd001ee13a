"""People-facing endpoints: login, enterprises, devices, telemetry reads, consents."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from wuxin.api.deps import CurrentUser, PlatformDep
from wuxin.api.fields import EpochMs, Id, RequestModel
from wuxin.api.schemas import (
    AccessLogEntry,
    AlinkSecret,
    Consent,
    Created,
    DeviceCredentials,
    DevicePage,
    DeviceView,
    Enterprise,
    EnterpriseProfile,
    LoggedOut,
    LoginAnswer,
    Me,
    RevokedTokens,
    RotatedToken,
    TelemetryRead,
)
from wuxin.services.access import access_log, consent, data_access, identity
from wuxin.services.devices import registry
from wuxin.services.ingest import device_sdk
from wuxin.store.rows import ConsentRow, EnterpriseRow

router = APIRouter(prefix="/api/v1")


class LoginIn(RequestModel):
    username: str = Field(max_length=100)
    password: str = Field(max_length=200)


@router.post(
    "/auth/login",
    tags=["auth"],
    response_model=LoginAnswer,
    responses={
        401: {"description": "wrong username or password (the same answer for an unknown user)"},
        429: {"description": "too many failed logins for the account or from the address; see Retry-After"},
        503: {"description": "too many logins being verified at once; see Retry-After"},
    },
)
def login(body: LoginIn, platform: PlatformDep, request: Request) -> dict:
    """A bearer token. Failures are throttled per account and per client address (the address uvicorn
    sees: behind a reverse proxy, set FORWARDED_ALLOW_IPS to the proxy's address)."""
    source = request.client.host if request.client else "unknown"
    return {"access_token": identity.login(platform, body.username, body.password, source), "token_type": "bearer"}


@router.post("/auth/logout", tags=["auth"], response_model=LoggedOut)
def logout(user: CurrentUser, platform: PlatformDep, request: Request) -> dict:
    """End this bearer token's session."""
    identity.logout(platform, request.headers["authorization"].split(" ", 1)[1].strip())
    return {"logged_out": user.username}


@router.get("/me", tags=["auth"], response_model=Me)
def me(user: CurrentUser) -> dict:
    """Who the bearer token belongs to: user id, username, role, tenant and (for an owner) enterprise."""
    return {
        "id": user.user_id,
        "username": user.username,
        "role": user.role.value,
        "tenant_id": user.tenant_id,
        "enterprise_id": user.enterprise_id,
    }


class EnterpriseIn(RequestModel):
    name: str = Field(min_length=2, max_length=200)
    uscc: str = Field(description="unified social credit code, 18 characters")
    industry: str = Field(description="a scenario pack's name")
    region: str = Field(min_length=2, max_length=200)


@router.get("/enterprises", tags=["enterprises"], response_model=list[Enterprise])
def list_enterprises(user: CurrentUser, platform: PlatformDep) -> list[EnterpriseRow]:
    """The enterprises the caller may see (own tenant's borrowers, or the owner's own enterprise)."""
    return registry.visible_enterprises(platform, user)


@router.post("/enterprises", tags=["enterprises"], status_code=201, response_model=Created)
def create_enterprise(body: EnterpriseIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Register a borrowing enterprise by its unified social credit code (USCC); answers its id."""
    return {"id": registry.create_enterprise(platform, user, body.name, body.uscc, body.industry, body.region)}


@router.get("/enterprises/{enterprise_id}", tags=["enterprises"], response_model=EnterpriseProfile)
def get_enterprise(enterprise_id: Id, user: CurrentUser, platform: PlatformDep) -> dict:
    """One enterprise's profile, within the caller's tenant and consent."""
    return registry.enterprise_profile(platform, user, enterprise_id)


class SiteIn(RequestModel):
    name: str = Field(min_length=1, max_length=200)
    region: str = Field(min_length=2, max_length=200)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    timezone: str | None = Field(
        default=None, max_length=64, description="IANA zone cutting the site's days (default Asia/Shanghai)"
    )


@router.post("/enterprises/{enterprise_id}/sites", tags=["enterprises"], status_code=201, response_model=Created)
def add_site(enterprise_id: Id, body: SiteIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Add a site (a plant, farm, warehouse) to an enterprise; answers its id."""
    return {
        "id": registry.add_site(
            platform, user, enterprise_id, body.name, body.region, body.lat, body.lon, body.timezone
        )
    }


class DeviceIn(RequestModel):
    key: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{1,99}$")
    device_type: str
    source_mode: Literal["bank_installed", "third_party_platform", "enterprise_shared"]
    site_id: Id | None = None
    attributes: dict = Field(default_factory=dict)


@router.get("/enterprises/{enterprise_id}/devices", tags=["devices"], response_model=list[DeviceView] | DevicePage)
def list_devices(
    enterprise_id: Id,
    user: CurrentUser,
    platform: PlatformDep,
    page: Annotated[
        int | None,
        Query(
            ge=1,
            le=1_000_000,
            description="1-based; with any paging or filter "
            "parameter the answer is one page: {total, pages, groups, items}",
        ),
    ] = None,
    page_size: Annotated[int | None, Query(ge=1, le=data_access.MAX_PAGE_SIZE)] = None,
    site: Annotated[Id | None, Query(description="only the devices of this site (its id)")] = None,
    device_type: Annotated[
        str | None, Query(alias="type", max_length=100, description="only devices of this type")
    ] = None,
) -> list[dict] | dict:
    """Every readable device as a list; with page / page_size / site / type one page of them, ordered by site, type and
    key, with the total the filters keep and the groups (site x type, with counts) over all readable devices."""
    if page is None and page_size is None and site is None and device_type is None:
        return data_access.list_devices(platform, user, enterprise_id)
    return data_access.device_page(platform, user, enterprise_id, page or 1, page_size or 50, site, device_type)


@router.post(
    "/enterprises/{enterprise_id}/devices", tags=["devices"], status_code=201, response_model=DeviceCredentials
)
def register_device(enterprise_id: Id, body: DeviceIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Register one device and get its first access token (shown once; only its SHA-256 is stored). For many devices use POST /api/v1/enterprises/{enterprise_id}/devices/import."""
    device_id, token = registry.register_device(
        platform, user, enterprise_id, body.key, body.device_type, body.source_mode, body.site_id, body.attributes
    )
    return {
        "id": device_id,
        "key": body.key,
        "access_token": token,
        "note": "the token is shown once; it is stored hashed",
    }


@router.post("/devices/{device_key}/token/rotate", tags=["devices"], response_model=RotatedToken)
def rotate_token(device_key: str, user: CurrentUser, platform: PlatformDep) -> dict:
    """Issue a new access token for a device (shown once); the old tokens stop working."""
    return {"key": device_key, "access_token": registry.rotate_device_token(platform, user, device_key)}


@router.post("/devices/{device_key}/token/revoke", tags=["devices"], response_model=RevokedTokens)
def revoke_token(device_key: str, user: CurrentUser, platform: PlatformDep) -> dict:
    """Revoke every access token of a device; answers how many were revoked."""
    return {"key": device_key, "revoked": registry.revoke_device_tokens(platform, user, device_key)}


class AlinkSecretIn(RequestModel):
    product_key: str = Field(
        max_length=64,
        description="The productKey the device's LinkKit firmware is built with",
        examples=["a1GpsTrk001"],
    )
    device_name: str | None = Field(None, max_length=64, description="LinkKit's deviceName (default: the device key)")


@router.post(
    "/devices/{device_key}/alink-secret",
    tags=["devices"],
    response_model=AlinkSecret,
    responses={409: {"description": "another device already has this productKey and deviceName"}},
)
def issue_alink_secret(device_key: str, body: AlinkSecretIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Name the device as Alibaba LinkKit will and issue its DeviceSecret (一机一密), shown once and stored
    encrypted; an earlier secret stops working. Who may manage the device's enterprise may do this."""
    secret = device_sdk.issue_alink_secret(platform, user, device_key, body.product_key, body.device_name)
    return {
        "key": device_key,
        "product_key": body.product_key,
        "device_name": body.device_name or device_key,
        "device_secret": secret,
    }


@router.get(
    "/enterprises/{enterprise_id}/devices/{device_key}/telemetry", tags=["telemetry"], response_model=TelemetryRead
)
def read_telemetry(
    enterprise_id: Id,
    device_key: str,
    user: CurrentUser,
    platform: PlatformDep,
    key: str | None = None,
    from_ms: Annotated[EpochMs, Query(alias="from")] = 0,
    to_ms: Annotated[EpochMs, Query(alias="to")] = 2**62,
    limit: int = Query(1000, ge=1, le=10_000),
) -> dict:
    """A device's stored points between from and to (epoch ms), optionally one property key; at most `limit`."""
    return data_access.read_telemetry(platform, user, enterprise_id, device_key, key, from_ms, to_ms, limit)


@router.get(
    "/enterprises/{enterprise_id}/access-log",
    tags=["consent"],
    response_model=None,
    responses={
        200: {
            "model": list[AccessLogEntry],
            "description": "newest first (JSON), or CSV with format=csv",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
def read_access_log(
    enterprise_id: Id,
    request: Request,
    response: Response,
    user: CurrentUser,
    platform: PlatformDep,
    tenant_id: Id | None = None,
    from_ms: Annotated[EpochMs | None, Query(alias="from")] = None,
    to_ms: Annotated[EpochMs | None, Query(alias="to")] = None,
    limit: int | None = Query(None, ge=1, le=10_000, description="100 for JSON, 10000 for CSV unless set"),
    before_id: Id | None = None,
    format: Literal["json", "csv"] = "json",
    tenants_only: bool = Query(False, description="only reads by banks and other organisations"),
) -> list[dict] | Response:
    """Who read this enterprise's data: user, bank (tenant), action, device, consent, rows; newest first. Only the
    enterprise's own users and the platform admin. When more follow, `Link` (rel="next") and `X-Next-Before-Id` give
    the next page; `format=csv` answers the same page as CSV (formula-like cells prefixed with ')."""
    size = limit or (10_000 if format == "csv" else 100)
    rows, next_before_id = access_log.access_page(
        platform, user, enterprise_id, size, before_id, tenant_id, from_ms, to_ms, tenants_only
    )
    headers = {}
    if next_before_id is not None:
        headers["X-Next-Before-Id"] = str(next_before_id)
        headers["Link"] = f'<{request.url.include_query_params(before_id=next_before_id)}>; rel="next"'
    if format == "csv":
        headers["Content-Disposition"] = f'attachment; filename="access-log-enterprise-{enterprise_id}.csv"'
        return Response(access_log.to_csv(rows), media_type="text/csv; charset=utf-8", headers=headers)
    response.headers.update(headers)
    return rows


class ConsentIn(RequestModel):
    tenant_id: Id
    scope: Literal["all", "scenarios", "devices"] = "all"
    scope_items: list[str] = Field(default_factory=list)
    purpose: str = Field(min_length=3, max_length=200)
    expires_ms: EpochMs


class ConsentPatch(RequestModel):
    scope_items: list[str] | None = None
    expires_ms: EpochMs | None = None


@router.get("/consents", tags=["consent"], response_model=list[Consent])
def list_consents(user: CurrentUser, platform: PlatformDep, enterprise_id: Id | None = None) -> list[ConsentRow]:
    """The data-sharing consents the caller can see, with their scope and validity."""
    return consent.list_for(platform, user, enterprise_id)


@router.post("/enterprises/{enterprise_id}/consents", tags=["consent"], status_code=201, response_model=Created)
def grant_consent(enterprise_id: Id, body: ConsentIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """The enterprise grants a lender access to its device data: which devices or properties, until when."""
    consent_id = consent.grant(
        platform, user, enterprise_id, body.tenant_id, body.scope, body.scope_items, body.purpose, body.expires_ms
    )
    return {"id": consent_id}


@router.patch("/consents/{consent_id}", tags=["consent"], response_model=Consent)
def narrow_consent(consent_id: Id, body: ConsentPatch, user: CurrentUser, platform: PlatformDep) -> ConsentRow:
    """Narrow a consent (fewer devices, properties or an earlier end); it can never be widened."""
    return consent.narrow(platform, user, consent_id, body.scope_items, body.expires_ms)


@router.post("/consents/{consent_id}/revoke", tags=["consent"], response_model=Consent)
def revoke_consent(consent_id: Id, user: CurrentUser, platform: PlatformDep) -> ConsentRow:
    """Revoke a consent; the lender's reads stop at once."""
    return consent.revoke(platform, user, consent_id)
