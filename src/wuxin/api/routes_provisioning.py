"""Bulk device provisioning: upload a CSV/XLSX of devices for one enterprise, get a per-row report and the
created devices' access tokens (once)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import PlainTextResponse

from wuxin.api.deps import CurrentUser, PlatformDep
from wuxin.api.fields import Id
from wuxin.api.schemas import ProvisioningReport
from wuxin.errors import InvalidInput
from wuxin.services.devices import provisioning

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
