"""Response models of the operator's endpoints: quarantine (routes_admin), calendars and time zones
(routes_calendars), and /health. Every field is listed; none is added or dropped, except in a health part,
whose fields vary by part (extra="allow")."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class QuarantineEntry(BaseModel):
    """A point or message refused at ingest, kept for replay."""

    id: int
    received_ms: int = Field(description="When it arrived (epoch ms)")
    channel: str = Field(description="How it arrived: http, mqtt, bulk, jt808 ...")
    device_key: str | None
    reason: str = Field(description="Short code: unknown_device, bad_timestamp ... (see GET /api/v1/labels)")
    message: str = Field(description="The sentence naming the key and the value")
    payload: str = Field(description="The refused bulk-import line, or the raw body")
    status: str = Field(description="open, replayed or discarded")
    resolved_ms: int | None = Field(description="When it was replayed or discarded (epoch ms)")


class Replayed(BaseModel):
    replayed: list[int] = Field(description="Entries now accepted and stored")
    still_refused: list[int] = Field(description="Entries ingest still refuses (they stay open)")


class Discarded(BaseModel):
    discarded: int = Field(description="How many entries were discarded")


class HolidayName(BaseModel):
    en: str
    zh: str


class OfficialDay(BaseModel):
    date: str = Field(description="ISO date")
    kind: str = Field(description="workday, holiday or rest_day (calendar_kind labels)")
    holiday: HolidayName | None = Field(description="The holiday's name, on a holiday")
    makeup_workday: bool = Field(description="A weekend day worked to make up for a holiday")


class OfficialCalendar(BaseModel):
    source: str = Field(description="Where the official days come from")
    covered_years: list[int] = Field(description="[first, last] year the source covers")
    days: list[OfficialDay]


class CalendarPeriod(BaseModel):
    """A period an enterprise declared: a planned stop, a maintenance window, an extra rest day."""

    id: int
    enterprise_id: int
    site_id: int | None = Field(description="The site it concerns; null: the whole enterprise")
    device: str | None = Field(description="The device key it concerns; null: every device")
    kind: str = Field(description="shutdown, maintenance or holiday_extra")
    start_ms: int
    end_ms: int = Field(description="Exclusive")
    note: str
    created_ms: int
    declared_by_enterprise: bool = Field(description="Declared by the enterprise itself (not by its bank)")


class CalendarImport(BaseModel):
    added: int = Field(description="How many periods were added (all rows, or none)")
    periods: list[CalendarPeriod]


class SiteTimezone(BaseModel):
    site_id: int
    timezone: str = Field(description="The IANA zone that now cuts the site's days")


class HealthPart(BaseModel):
    """One part's state; its other fields vary by part (dialect, address, free_bytes ...): extra="allow"."""

    model_config = ConfigDict(extra="allow")

    status: str = Field(description="ok, down, low or not_configured")


class HealthParts(BaseModel):
    database: HealthPart
    broker: HealthPart
    workers: HealthPart
    scheduler: HealthPart
    disk: HealthPart


class Health(BaseModel):
    status: str = Field(description="ok, degraded, read_only or unavailable (the last two with 503)")
    database: str = Field(description="The database dialect, or 'unreachable'")
    writes: str = Field(description="'ok', or why writes would fail")
    version: str = Field(description="Wuxin's version")
    parts: HealthParts
