"""Bulk device provisioning: upload a CSV/XLSX of devices for one enterprise, get a per-row report and the
created devices' access tokens (once). Provision profiles: the key and secret with which devices register
themselves over MQTT, as ThingsBoard's do (services/devices/provision_profiles.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import PlainTextResponse
from pydantic import Field

from wuxin.api.deps import CurrentUser, PlatformDep
from wuxin.api.fields import EpochMs, Id, RequestModel
from wuxin.api.schemas import ProvisioningReport, ProvisionProfile, ProvisionProfileCreated
from wuxin.errors import InvalidInput
from wuxin.services.devices import provision_profiles, provisioning

router = APIRouter(prefix="/api/v1", tags=["devices"])


@router.post(
    "/enterprises/{enterprise_id}/devices/import",
    response_model=ProvisioningReport,
    responses={
        404: {"description": "the enterprise does not exist or is not known to the caller"},
        403: {"description": "the caller may not manage this enterprise's devices (no consent, wrong role)"},
        413: {"description": "the request body is over the server's limit"},
        422: {"description": "the file is refused whole (not CSV/XLSX, wrong header, too big, too many rows)"},
    },
)
def import_devices(
    enterprise_id: Id,
    user: CurrentUser,
    platform: PlatformDep,
    file: Annotated[
        UploadFile,
        File(description="devices: .csv (UTF-8) or .xlsx, header row key,device_type,site,source_mode,attr.<name>..."),
    ],
    dry_run: bool = Query(False, description="check every row, create nothing"),
) -> dict:
    """Valid rows are created in one transaction, each device with its access token (shown here once);
    refused rows are listed with row number, column, value and reason and create nothing."""
    raw = file.file.read(provisioning.MAX_FILE_BYTES + 1)
    if len(raw) > provisioning.MAX_FILE_BYTES:
        raise InvalidInput(f"device file {file.filename!r} is over {provisioning.MAX_FILE_BYTES} bytes")
    return provisioning.provision_devices(platform, user, enterprise_id, raw, file.filename or "upload.csv", dry_run)


@router.get("/devices/import/template.csv", response_class=PlainTextResponse)
def import_template(user: CurrentUser) -> PlainTextResponse:
    """An example device file with the columns the import reads."""
    return PlainTextResponse(provisioning.template_csv(), media_type="text/csv; charset=utf-8")


class ProvisionProfileIn(RequestModel):
    site_id: Id = Field(description="The enterprise's site its devices are created under")
    device_type: str = Field(max_length=80, description="A device type with a thing model")
    source_mode: str = Field(
        max_length=30,
        description="bank_installed, third_party_platform or enterprise_shared (an enterprise user: the last only)",
    )
    max_devices: int = Field(ge=1, le=provision_profiles.MAX_DEVICES, description="How many devices it may create")
    expires_ms: EpochMs = Field(description="Until when devices may use it (epoch ms, within 366 days)")
    name: str = Field("", max_length=200, description="What it is for (free text)")


PROFILE_REFUSALS: dict = {
    403: {"description": "the caller may not register this enterprise's devices (a bank user, no consent)"},
    404: {"description": "the enterprise (or profile) does not exist or is not known to the caller"},
}


@router.post(
    "/enterprises/{enterprise_id}/provision-profiles",
    tags=["provisioning"],
    status_code=201,
    response_model=ProvisionProfileCreated,
    responses={**PROFILE_REFUSALS, 422: {"description": "a bad site, device type, source mode, count or expiry"}},
)
def add_provision_profile(
    enterprise_id: Id, body: ProvisionProfileIn, user: CurrentUser, platform: PlatformDep
) -> dict:
    """A provision profile: devices given its key and secret register themselves under its site over MQTT
    (ThingsBoard's /provision/request). The secret is shown here once. Who may register the enterprise's devices
    may make one; that right is checked again at every device's request."""
    return provision_profiles.create_profile(
        platform,
        user,
        enterprise_id,
        body.site_id,
        body.device_type,
        body.source_mode,
        body.max_devices,
        body.expires_ms,
        body.name,
    )


@router.get(
    "/enterprises/{enterprise_id}/provision-profiles",
    tags=["provisioning"],
    response_model=list[ProvisionProfile],
    responses=PROFILE_REFUSALS,
)
def list_provision_profiles(enterprise_id: Id, user: CurrentUser, platform: PlatformDep) -> list[dict]:
    """The enterprise's provision profiles, newest first, with their state and count (never their secrets)."""
    return provision_profiles.list_profiles(platform, user, enterprise_id)


@router.post(
    "/provision-profiles/{profile_id}/revoke",
    tags=["provisioning"],
    response_model=ProvisionProfile,
    responses=PROFILE_REFUSALS,
)
def revoke_provision_profile(profile_id: Id, user: CurrentUser, platform: PlatformDep) -> dict:
    """Revoke a provision profile: no device registers itself under it any more; devices it made keep their tokens."""
    return provision_profiles.revoke_profile(platform, user, profile_id)
