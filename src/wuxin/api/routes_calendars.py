"""Calendars and time zones: the official PRC calendar, an enterprise's declared periods (shutdowns, maintenance
windows, extra rest days), a site's time zone and a device's install and decommission dates."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from wuxin.api.deps import CurrentUser, PlatformDep
from wuxin.api.fields import EpochMs, Id, RequestModel, raw_body
from wuxin.api.schemas import ServiceDates
from wuxin.api.schemas_operations import CalendarImport, CalendarPeriod, OfficialCalendar, SiteTimezone
from wuxin.errors import InvalidInput
from wuxin.services.devices import calendars

router = APIRouter(prefix="/api/v1", tags=["calendars"])


@router.get("/calendars/official", response_model=OfficialCalendar)
def official_calendar(
    user: CurrentUser, start: dt.date = Query(alias="from"), end: dt.date = Query(alias="to")
) -> dict:
    """Each day's kind in the official PRC calendar: workday (a make-up weekend workday flagged), holiday (named), rest day."""
    return calendars.official_days(start, end)


class PeriodIn(RequestModel):
    kind: Literal["shutdown", "maintenance", "holiday_extra"]
    start_ms: EpochMs
    end_ms: EpochMs = Field(description="exclusive")
    note: str = Field(default="", max_length=500)
    site_id: Id | None = None
    device: str | None = Field(default=None, max_length=100, description="a device key of the enterprise")


@router.get("/enterprises/{enterprise_id}/calendar", response_model=list[CalendarPeriod])
def list_periods(
    enterprise_id: Id,
    user: CurrentUser,
    platform: PlatformDep,
    from_ms: EpochMs | None = None,
    to_ms: EpochMs | None = None,
) -> list[dict]:
    """The enterprise's calendar: planned stops, holidays and shifts that explain idle days."""
    return calendars.list_periods(platform, user, enterprise_id, from_ms, to_ms)


@router.post("/enterprises/{enterprise_id}/calendar", status_code=201, response_model=CalendarPeriod)
def add_period(enterprise_id: Id, body: PeriodIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Add a calendar period (a planned stop, holiday ...) to the enterprise; answers its id."""
    return calendars.add_periods(platform, user, enterprise_id, [body.model_dump()])[0]


@router.post(
    "/enterprises/{enterprise_id}/calendar/import",
    status_code=201,
    response_model=CalendarImport,
    openapi_extra=raw_body("calendar CSV", {"text/csv": {"type": "string"}}),
)
async def import_periods(enterprise_id: Id, request: Request, user: CurrentUser, platform: PlatformDep) -> dict:
    """CSV with columns kind,start,end[,note,site_id,device] (times ISO with offset, or epoch ms): all rows or none."""
    body = await request.body()
    if len(body) > 2_000_000:
        raise InvalidInput(f"the calendar CSV is {len(body)} bytes, more than 2000000")
    # rights first, then decoding and parsing, all off the event loop
    added = await run_in_threadpool(calendars.import_periods_csv, platform, user, enterprise_id, body)
    return {"added": len(added), "periods": added}


@router.delete("/enterprises/{enterprise_id}/calendar/{period_id}", status_code=204)
def delete_period(enterprise_id: Id, period_id: Id, user: CurrentUser, platform: PlatformDep) -> None:
    """Remove one calendar period of the enterprise."""
    calendars.delete_period(platform, user, enterprise_id, period_id)


class TimezoneIn(RequestModel):
    timezone: str | None = Field(default=None, max_length=64, description="IANA name; null = Asia/Shanghai")


@router.put("/enterprises/{enterprise_id}/sites/{site_id}/timezone", response_model=SiteTimezone)
def set_site_timezone(
    enterprise_id: Id, site_id: Id, body: TimezoneIn, user: CurrentUser, platform: PlatformDep
) -> dict:
    """Set the IANA time zone that cuts a site's days (default Asia/Shanghai)."""
    return calendars.set_site_timezone(platform, user, enterprise_id, site_id, body.timezone)


class ServiceDatesIn(RequestModel):
    installed_ms: EpochMs | None = None
    decommissioned_ms: EpochMs | None = None


@router.put("/devices/{device_key}/service-dates", tags=["devices"], response_model=ServiceDates)
def set_service_dates(device_key: str, body: ServiceDatesIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """A device's install and decommission times: out of service before and after, it raises no outage or drop."""
    return calendars.set_service_dates(platform, user, device_key, body.installed_ms, body.decommissioned_ms)
