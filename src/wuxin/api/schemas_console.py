"""Response models of the web console's read models (routes_console) and of the labels (routes_labels). Every
field is listed; none is added or dropped."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ConnectivityCounts(BaseModel):
    online: int
    offline: int
    unknown: int


class PortfolioEnterprise(BaseModel):
    id: int
    name: str
    uscc: str = Field(description="Unified social credit code")
    industry: str = Field(description="The scenario (scenario labels)")
    region: str
    devices: int | None = Field(description="null where the caller may not read its devices (no consent)")
    connectivity: ConnectivityCounts
    machines: int = Field(description="Devices that report a running current (equipment timeline)")


class Portfolio(BaseModel):
    enterprises: list[PortfolioEnterprise]
    as_of_ms: int = Field(description="When it was computed (epoch ms)")


class ScenarioTrend(BaseModel):
    scenario: str
    indicator: str = Field(description="The scenario's key indicator (indicator labels)")
    median: list[float | None] = Field(description="Per day: the median over the enterprises; null without data")
    enterprises: list[int] = Field(description="Per day: how many enterprises the median is over")


class AlarmTrend(BaseModel):
    raised: list[int] = Field(description="Per day: alarms raised")
    open: list[int] = Field(description="Per day: alarms open at the day's end")


class PortfolioTrend(BaseModel):
    days: list[str] = Field(description="The local days (ISO dates), oldest first")
    scenarios: list[ScenarioTrend]
    hidden_enterprises: int = Field(description="Enterprises left out: their consent covers part of the devices")
    alarms: AlarmTrend | None = Field(description="null where the role reads no alarms")


class MapSite(BaseModel):
    enterprise_id: int
    enterprise: str = Field(description="The enterprise's name")
    industry: str
    name: str = Field(description="The site's name")
    region: str
    lat: float
    lon: float


class MapVehicle(BaseModel):
    enterprise_id: int
    enterprise: str = Field(description="The enterprise's name")
    key: str = Field(description="The device key")
    plate: str | int | float | None = Field(description="The licence plate (device attribute)")
    connectivity: str = Field(description="online, offline or unknown")
    lat: float
    lon: float
    ts: int = Field(description="When the position was reported (epoch ms)")
    speed_kmh: int | float | None


class MapPoints(BaseModel):
    sites: list[MapSite] = Field(description="Sites with coordinates")
    vehicles: list[MapVehicle] = Field(description="Each readable vehicle's last position (the last 10 minutes)")


class ConsentTenant(BaseModel):
    id: int
    name: str
    kind: str = Field(description="bank or operator (tenant_kind labels)")


class PartialDay(BaseModel):
    day: str = Field(description="The local day still open (ISO date)")
    run_hours: float
    observed_hours: float


class RunSummary(BaseModel):
    run_hours_per_day: float | None = Field(description="Over the complete days with data; null without any")
    days_with_data: int
    run_hours: float = Field(description="Over the complete days with data")
    first_day_with_data: str | None
    partial_day: PartialDay | None = Field(description="Today, reported on its own; null when out of range")


class MachineTimeline(BaseModel):
    key: str = Field(description="The device key")
    machine_id: str = Field(description="The machine's label (attribute machine_id, else the key)")
    run_threshold_a: int | float | str = Field(description="The current (A) above which it runs (device attribute)")
    connectivity: str
    source_mode: str
    trust_level: float
    slots: str = Field(description="One character per 15-minute slot: R running, S stopped, - unknown")
    summary: RunSummary


class EquipmentTimeline(BaseModel):
    partial_day: str | None = Field(description="The day still open, when in range (ISO date)")
    now_ms: int
    first_day_with_data: str | None
    enterprise_id: int
    first_day: str = Field(description="ISO date")
    last_day: str = Field(description="ISO date")
    days: int
    slot_minutes: int
    timezone: str = Field(description="IANA name of the zone that cuts the days")
    states: dict[str, str] = Field(description="{R: running, S: stopped, -: unknown}")
    machines: list[MachineTimeline]
    machine_days_from_read_model: int = Field(description="Machine-days read from the stored slots")


class Label(BaseModel):
    """A code's words; a pack may add more (unit, colour, roles): extra="allow" keeps them."""

    model_config = ConfigDict(extra="allow")

    zh: str
    en: str


class Labels(BaseModel):
    """{kind: {code: {zh, en[, unit]}}}: the kinds below, and any a pack defines (extra="allow" keeps them)."""

    model_config = ConfigDict(extra="allow")

    scenario: dict[str, Label] = Field(default_factory=dict)
    device_type: dict[str, Label] = Field(default_factory=dict)
    metric: dict[str, Label] = Field(default_factory=dict)
    event: dict[str, Label] = Field(default_factory=dict)
    indicator: dict[str, Label] = Field(default_factory=dict)
    alarm_type: dict[str, Label] = Field(default_factory=dict)
    severity: dict[str, Label] = Field(default_factory=dict)
    alarm_state: dict[str, Label] = Field(default_factory=dict)
    loan_state: dict[str, Label] = Field(default_factory=dict)
    risk_class: dict[str, Label] = Field(default_factory=dict)
    role: dict[str, Label] = Field(default_factory=dict)
    command_state: dict[str, Label] = Field(default_factory=dict)
    product: dict[str, Label] = Field(default_factory=dict)
    unit: dict[str, Label] = Field(default_factory=dict)
