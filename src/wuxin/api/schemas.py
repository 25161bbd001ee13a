"""Response models of the integrator's path (enterprises, sites, devices, tokens, consents, bulk provisioning,
device telemetry): what /docs shows an integrator. Extra members a service adds are kept (extra="allow"),
so these models document answers without ever dropping a field."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


class Created(Answer):
    id: int = Field(description="The new record's id")


class Me(Answer):
    id: int = Field(description="The user's id")
    username: str
    role: str = Field(description="admin, officer, analyst, owner ... (see GET /api/v1/labels)")
    tenant_id: int | None = Field(None, description="The tenant (lender) the user belongs to")
    enterprise_id: int | None = Field(None, description="For an owner: the enterprise they speak for")


class LoginAnswer(Answer):
    access_token: str = Field(description="Bearer token: send as 'Authorization: Bearer <token>'")
    token_type: str = Field(description="Always 'bearer'", examples=["bearer"])


class DeviceCredentials(Answer):
    id: int = Field(description="The device's id")
    key: str = Field(description="The device key (unique per platform)", examples=["loom-01"])
    access_token: str = Field(description="The device's access token (wxd_...): shown once, only its SHA-256 is "
                                          "stored. The device sends it as ThingsBoard devices do (URL, MQTT username)")
    note: str


class RotatedToken(Answer):
    key: str = Field(description="The device key")
    access_token: str = Field(description="The new access token (shown once); earlier tokens stop working")


class RevokedTokens(Answer):
    key: str = Field(description="The device key")
    revoked: int = Field(description="How many access tokens were revoked")


class PointRejection(Answer):
    index: int | None = Field(None, description="Position of the point (or message) in the request")
    device: str | None = Field(None, description="The device key")
    key: str | None = Field(None, description="The property key refused")
    reason: str = Field(description="Short code: unknown_device, bad_timestamp ... (see GET /api/v1/labels)")
    message: str = Field(description="The sentence naming the key and the value")


class PointWarning(PointRejection):
    params: dict | None = Field(None, description="The values the message refers to")


class TelemetryAnswer(Answer):
    """What a device hears back: how many points were stored and why each refused one was quarantined."""
    batch_id: int | None = Field(None, description="The ingest batch the stored points belong to")
    accepted: int = Field(description="Points stored")
    events: int = Field(description="Events stored (ThingsBoard 'event' messages)")
    rejected: int = Field(description="Points refused (and quarantined for replay)")
    errors: list[PointRejection] = Field(description="One entry per refused point")
    warnings: list[PointWarning] = Field(description="Points stored with a reservation")


TELEMETRY_EXAMPLE = {"batch_id": 42, "accepted": 2, "events": 0, "rejected": 1, "warnings": [],
                     "errors": [{"index": 2, "device": "loom-01", "key": None, "reason": "bad_timestamp",
                                 "message": "ts 86400000 is outside [946684800000, 1800000000000] (2000-01-01 .. now + 24 h)"}]}


class ProvisionedDevice(Answer):
    row: int = Field(description="The spreadsheet row (the header is row 1)")
    key: str
    device_id: int
    device_type: str
    site: str = Field(description="The site's name ('' when none)")
    source_mode: str = Field(description="bank_installed, third_party_platform or enterprise_shared")
    access_token: str = Field(description="Shown once; only its SHA-256 is stored")


class RowRefusal(Answer):
    row: int = Field(description="The spreadsheet row (the header is row 1)")
    column: str = Field(description="The column refused")
    value: str = Field(description="The value found")
    reason: str = Field(description="Why, naming the thing and the value")


class ProvisioningReport(Answer):
    enterprise_id: int
    file: str = Field(description="The uploaded file's name")
    dry_run: bool = Field(description="True: checked only, nothing created")
    rows: int = Field(description="Data rows read")
    valid_rows: int = Field(description="Rows that passed every check")
    created_count: int = Field(description="Devices created (0 on a dry run)")
    refused_rows: int = Field(description="How many rows were refused")
    created: list[ProvisionedDevice]
    errors: list[RowRefusal] = Field(description="One entry per refused cell: row, column, value, reason")
    note: str


class DeviceView(Answer):
    id: int
    key: str = Field(description="The device key (what the device is called in every answer)")
    device_type: str = Field(description="Its thing model's device type", examples=["<scenario>.current_bracelet"])
    site_id: int | None = Field(None, description="The site it is installed at")
    attributes: dict | None = Field(None, description="Install attributes (checked against the thing model)")
    source_mode: str = Field(description="bank_installed, third_party_platform or enterprise_shared")
    trust_level: float = Field(description="How far its data is trusted as evidence (from the source mode), 0..1")
    last_seen_ms: int | None = Field(None, description="When it last sent (epoch ms); null: never")
    installed_ms: int | None = Field(None, description="When it was registered (epoch ms)")
    decommissioned_ms: int | None = Field(None, description="When it was decommissioned (epoch ms); null: in service")
    connectivity: str = Field(description="online, offline (silent past its thing model's heartbeat timeout) or "
                                          "unknown (never sent)")
    undeclared_attributes: list[str] = Field(description="Attributes its thing model does not declare")



class DeviceGroup(Answer):
    site_id: int | None = Field(None, description="The site (null: devices not placed at a site)")
    site: str | None = Field(None, description="The site's name")
    device_type: str = Field(description="The device type")
    count: int = Field(description="Readable devices of this site and type")


class PagedDeviceView(DeviceView):
    site_name: str | None = Field(None, description="The name of the device's site")


class DevicePage(Answer):
    total: int = Field(description="Readable devices the site / type filters keep")
    page: int = Field(description="This page, from 1")
    page_size: int = Field(description="Devices per page (at most 200)")
    pages: int = Field(description="Pages in all")
    site_id: int | None = Field(None, description="The site filter, if any")
    device_type: str | None = Field(None, description="The type filter, if any")
    groups: list[DeviceGroup] = Field(description="Site x device type over every readable device, with counts")
    items: list[PagedDeviceView] = Field(description="This page's devices, ordered by site, type and key")

class ThingModelSummary(Answer):
    device_type: str = Field(description="The device type the thing model describes")
    scenario: str | None = Field(None, description="The industry scenario: a scenario pack's name")
    version: str | int | None = Field(None, description="The thing model's version")
    updated_ms: int | None = Field(None, description="When it was last imported (epoch ms)")
