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
    access_token: str = Field(
        description="The device's access token (wxd_...): shown once, only its SHA-256 is "
        "stored. The device sends it as ThingsBoard devices do (URL, MQTT username)"
    )
    note: str


class RotatedToken(Answer):
    key: str = Field(description="The device key")
    access_token: str = Field(description="The new access token (shown once); earlier tokens stop working")


class AlinkSecret(Answer):
    key: str = Field(description="The device key")
    product_key: str = Field(description="The productKey LinkKit sends (username deviceName&productKey)")
    device_name: str = Field(description="LinkKit's deviceName")
    device_secret: str = Field(
        description="The DeviceSecret LinkKit signs its connection with: shown once, kept "
        "encrypted; an earlier one stops working"
    )


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


TELEMETRY_EXAMPLE = {
    "batch_id": 42,
    "accepted": 2,
    "events": 0,
    "rejected": 1,
    "warnings": [],
    "errors": [
        {
            "index": 2,
            "device": "loom-01",
            "key": None,
            "reason": "bad_timestamp",
            "message": "ts 86400000 is outside [946684800000, 1800000000000] (2000-01-01 .. now + 24 h)",
        }
    ],
}


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


class ProvisionProfile(Answer):
    id: int
    provision_key: str = Field(
        description="ThingsBoard's provisionDeviceKey: what the device sends, with the secret, to /provision/request",
        examples=["wxpk_3q2Xl0b9Yw4kP1Zs"],
    )
    name: str = Field(description="What the profile is for (free text)")
    enterprise_id: int
    site_id: int = Field(description="The site its devices are created under")
    device_type: str = Field(description="The device type of its devices")
    source_mode: str = Field(description="The source mode of its devices")
    max_devices: int = Field(description="How many devices it may create")
    provisioned: int = Field(description="How many it created so far")
    expires_ms: int = Field(description="After this (epoch ms) no device is provisioned under it")
    created_by: int | None = Field(description="The user who made it (null: the platform itself)")
    created_ms: int
    revoked_ms: int | None = Field(description="When it was revoked (epoch ms); null: not revoked")
    revoked_by: int | None
    state: str = Field(description="active, exhausted, expired or revoked")


class ProvisionProfileCreated(ProvisionProfile):
    provision_secret: str = Field(
        description="ThingsBoard's provisionDeviceSecret: shown once, only its SHA-256 is stored"
    )
    note: str


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
    connectivity: str = Field(
        description="online, offline (silent past its thing model's heartbeat timeout) or unknown (never sent)"
    )
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


class LoggedOut(Answer):
    logged_out: str = Field(description="The username whose bearer token was ended")


class Site(Answer):
    id: int
    enterprise_id: int
    name: str = Field(description="The site's name, unique in its enterprise", examples=["一号车间"])
    region: str = Field(description="Province / city / district", examples=["江苏省苏州市吴江区"])
    lat: float | None = Field(None, description="WGS-84 latitude")
    lon: float | None = Field(None, description="WGS-84 longitude")
    timezone: str | None = Field(None, description="IANA zone cutting the site's days; null: Asia/Shanghai")


class Enterprise(Answer):
    id: int
    name: str
    uscc: str = Field(description="Unified social credit code (18 characters)")
    industry: str = Field(description="The scenario its devices and indicators belong to")
    region: str
    onboarded_by_tenant_id: int | None = Field(None, description="The tenant that onboarded it, if any")
    created_ms: int | None = Field(None, description="When it was registered (epoch ms)")


class EnterpriseProfile(Enterprise):
    sites: list[Site] = Field(description="Its sites")


class Consent(Answer):
    id: int
    enterprise_id: int = Field(description="The enterprise that granted it")
    tenant_id: int = Field(description="The tenant (bank, installer) it was granted to")
    scope: str = Field(description="all, scenarios or devices")
    scope_items: list[str] = Field(description="The scenarios or device keys of a narrower scope")
    purpose: str
    granted_ms: int = Field(description="When it was granted (epoch ms)")
    expires_ms: int = Field(description="When it ends (epoch ms)")
    revoked_ms: int | None = Field(None, description="When it was revoked (epoch ms); null: not revoked")


class Provenance(Answer):
    device: str = Field(description="The device key")
    source_mode: str = Field(description="bank_installed, third_party_platform or enterprise_shared")
    trust_level: float = Field(description="How far its data is trusted as evidence, 0..1")


class StoredReading(Answer):
    key: str = Field(description="The property (thing model identifier)")
    ts: int = Field(description="When it was measured (epoch ms)")
    value: float | str | bool | None = Field(description="The value (a number, or text for text properties)")
    received_ms: int = Field(description="When the platform received it (epoch ms)")
    batch_id: int | None = Field(None, description="The ingest batch: its proof in the ledger")


class StoredEvent(Answer):
    event: str = Field(description="The thing model's event identifier")
    ts: int
    params: dict | None = None
    batch_id: int | None = None


class TelemetryRead(Answer):
    provenance: Provenance
    readings: list[StoredReading] = Field(description="Oldest first, at most `limit`")
    events: list[StoredEvent]


class AccessLogEntry(Answer):
    id: int = Field(description="Give it as before_id for the next (older) page")
    at_ms: int = Field(description="When the read happened (epoch ms)")
    user_id: int | None = None
    username: str | None = None
    display_name: str | None = None
    role: str | None = None
    tenant_id: int | None = Field(None, description="The reader's tenant (bank); null: the enterprise or the platform")
    tenant_name: str | None = None
    action: str = Field(description="What was read: telemetry.read, indicators.enterprise_day ...")
    device_key: str | None = Field(None, description="The device read; null: the enterprise as a whole")
    consent_id: int | None = Field(None, description="The consent the read was made under")
    rows: int | None = Field(None, description="How many records the read returned")


class ThingModelDetail(Answer):
    """The thing model as imported (Alibaba TSL with the platform's `wuxin` section); `schema` is kept as given."""

    profile: dict = Field(description="productKey (the device type) and version")
    properties: list[dict] = Field(description="identifier, name, dataType (type, unit, min/max) of each property")
    events: list[dict] = Field(default_factory=list)
    services: list[dict] = Field(default_factory=list)
    wuxin: dict | None = Field(None, description="Scenario, labels, install attributes, heartbeat timeout")


class ImportedThingModel(Answer):
    device_type: str = Field(description="The device type the model was imported as")


class Transition(Answer):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    device: str = Field(description="The device key")
    from_state: str = Field(alias="from", description="unknown, online or offline")
    to_state: str = Field(alias="to", description="online or offline")
    at_ms: int
    cause: str = Field(
        description="data, heartbeat_timeout, mqtt_connect, mqtt_disconnect, gateway_connect, jt808_logout ..."
    )
    last_seen_ms: int | None = None


class Jt808Enrolment(Answer):
    key: str = Field(description="The device key")
    phone: str = Field(description="The SIM number the terminal registers with")
    terminal_id: str
    manufacturer_id: str | None = None
    terminal_model: str | None = None
    imei: str | None = None
    enrol_until_ms: int = Field(description="Until when it may register (0x0100), epoch ms")
    auth_code_dropped: bool = Field(description="True: an earlier auth code was dropped; the terminal registers again")
    header_version: str = Field(description="auto, 2013 or 2019")


class GatewayChild(Answer):
    gateway: str = Field(description="The gateway's device key")
    child: str = Field(description="The sub-device's key")


class PushPlatform(Answer):
    name: str
    secret: str = Field(description="The HMAC secret of its pushes: shown once")


class ServedEnterprise(Answer):
    platform: str
    enterprise_id: int


class DeviceAttributes(Answer):
    client: dict = Field(description="The device's own (client) attributes asked for")
    shared: dict = Field(description="Shared attributes (the platform sets none: always empty)")


class DeviceRpcAnswer(Answer):
    time: int | None = Field(None, description="getCurrentTime: the platform's time (epoch ms)")
    error: str | None = Field(None, description="An unknown method, named")


class DeviceCommand(Answer):
    id: int = Field(description="The command id: answer it with POST /api/v1/{token}/rpc/{id}")
    method: str = Field(description="The operation (a thing model service, set_report_interval ...)")
    params: dict | None = None


class CommandAnswered(Answer):
    command_id: int
    state: str = Field(description="The command's state after the answer: acknowledged or failed")


class ServiceDates(Answer):
    device: str = Field(description="The device key")
    installed_ms: int | None = Field(None, description="In service from (epoch ms); null: since registration")
    decommissioned_ms: int | None = Field(None, description="Out of service from (epoch ms); null: in service")


# ---- indicators (what a bank reads of a borrower)

Quality = float | str | None


class IndicatorDeclaration(Answer):
    scenario: str
    name: str = Field(description="The indicator's name, as in the other answers", examples=["run_hours"])
    unit: str | None = None
    label: dict | None = Field(None, description="zh and en labels")
    level: str = Field(description="device, enterprise or derived")
    device_type: str | None = None
    properties: list[str] = Field(default_factory=list, description="The thing model properties it reads")
    events: list[str] = Field(default_factory=list)
    aggregation: str | None = Field(None, description="How device values make the enterprise's (mean, sum ...)")
    inputs: list[str] = Field(default_factory=list)
    month: str | None = Field(None, description="How days make a month")
    index: bool = Field(description="Part of the industry index")


class IndicatorsUpdate(Answer):
    device_days: int
    enterprise_days: int
    enterprise_months: int
    index_groups: int
    points: int = Field(description="Readings and events read")
    seconds: float
    batches: int
    timings_s: dict = Field(default_factory=dict)


class IndicatorValue(Answer):
    indicator: str
    value: float | None = Field(None, description="null: unknown, never zero for a missing day")
    unit: str | None = None
    quality: Quality = Field(None, description="How complete the observation was")


class EnterpriseIndicatorValue(IndicatorValue):
    day: str | None = Field(None, description="YYYY-MM-DD (period=day)")
    month: str | None = Field(None, description="YYYY-MM (period=month)")
    devices: int | None = Field(None, description="Devices behind the day's value (period=day)")
    days: int | None = Field(None, description="Days behind the month's value (period=month)")


class EnterpriseIndicators(Answer):
    enterprise_id: int
    scenario: str
    period: str = Field(description="day or month")
    values: list[EnterpriseIndicatorValue]
    note: str


class DeviceBehindFigure(Answer):
    device: str
    device_type: str
    value: float | None = None
    quality: Quality = None
    points: int | None = Field(None, description="Readings and events the value was computed from")
    readings: str = Field(description="Where those readings are (an API path)")


class EnterpriseFigure(IndicatorValue):
    enterprise_id: int
    day: str
    devices: list[DeviceBehindFigure]


class DeviceIndicatorValue(IndicatorValue):
    day: str
    points: int | None = None


class DeviceIndicators(Answer):
    enterprise_id: int
    device: str
    values: list[DeviceIndicatorValue]


class EvidenceReading(Answer):
    key: str
    ts: int
    value: float | str | bool | None = None
    batch_id: int | None = None


class ReadingsBehind(Answer):
    enterprise_id: int
    device: str
    day: str
    indicator: str
    unit: str | None = None
    value: float | None = None
    quality: Quality = None
    window: dict = Field(description="from_ms, to_ms, timezone: the local day and the look-back hour before it")
    readings: list[EvidenceReading]
    events: list[StoredEvent]


class IndexValue(Answer):
    scenario: str
    region: str | None = None
    day: str
    indicator: str
    unit: str | None = None
    enterprises: int = Field(description="Enterprises in the peer group")
    p25: float | None = None
    median: float | None = None
    p75: float | None = None
    mean: float | None = None


class IndustryIndex(Answer):
    min_enterprises: int = Field(description="Smaller peer groups are not published")
    values: list[IndexValue]


class Percentile(Answer):
    enterprise_id: int
    scenario: str
    region: str | None = None
    day: str
    indicator: str
    value: float | None = None
    peers: int | None = None
    percentile: float | None = Field(None, description="0-100; null: see reason")
    reason: str | None = None
