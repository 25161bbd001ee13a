"""Indicators: enterprise and device values, the readings behind a figure, industry indexes,
percentiles, and the update of dirty days."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from wuxin.api.deps import CurrentUser, PlatformDep
from wuxin.api.fields import DAY_PATTERN, ID_MAX, Id
from wuxin.api.schemas import (
    DeviceIndicators,
    EnterpriseFigure,
    EnterpriseIndicators,
    IndicatorDeclaration,
    IndicatorsUpdate,
    IndustryIndex,
    Percentile,
    ReadingsBehind,
)
from wuxin.domain.model import Role
from wuxin.errors import InvalidInput
from wuxin.indicators.days import parse_day
from wuxin.security.policy import require_role
from wuxin.services import indicators

router = APIRouter(prefix="/api/v1", tags=["indicators"])
DAY = DAY_PATTERN  # an ISO day between 2000-01-01 and 2100-12-31


def _day(text: str) -> int:
    try:
        return parse_day(text)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


@router.get("/indicators/catalog", response_model=list[IndicatorDeclaration])
def catalog(user: CurrentUser) -> list[dict]:
    """Every declared indicator with its unit, labels, inputs and aggregation."""
    return indicators.catalog()


@router.post("/indicators/update", response_model=IndicatorsUpdate)
def update(user: CurrentUser, platform: PlatformDep, max_batches: int | None = Query(None, ge=1, le=ID_MAX)) -> dict:
    """Recompute the dirty device-days and what they touch (platform admins)."""
    require_role(user, Role.PLATFORM_ADMIN)
    return indicators.update_indicators(platform, max_batches=max_batches).public()


@router.get("/enterprises/{enterprise_id}/indicators", response_model=EnterpriseIndicators)
def enterprise_values(
    enterprise_id: Id,
    user: CurrentUser,
    platform: PlatformDep,
    from_day: str = Query(..., alias="from", pattern=DAY),
    to_day: str = Query(..., alias="to", pattern=DAY),
    period: Literal["day", "month"] = "day",
    name: list[str] | None = Query(None),
) -> dict:
    """The enterprise's computed indicators (utilisation, output ...) per day, from its devices."""
    return indicators.enterprise_indicators(platform, user, enterprise_id, _day(from_day), _day(to_day), period, name)


@router.get("/enterprises/{enterprise_id}/indicators/{indicator}/{day}", response_model=EnterpriseFigure)
def enterprise_figure(enterprise_id: Id, indicator: str, day: str, user: CurrentUser, platform: PlatformDep) -> dict:
    """One enterprise figure and the device values behind it, each linking to its readings."""
    return indicators.enterprise_figure(platform, user, enterprise_id, indicator, _day(day))


@router.get("/enterprises/{enterprise_id}/devices/{device_key}/indicators", response_model=DeviceIndicators)
def device_values(
    enterprise_id: Id,
    device_key: str,
    user: CurrentUser,
    platform: PlatformDep,
    from_day: str = Query(..., alias="from", pattern=DAY),
    to_day: str = Query(..., alias="to", pattern=DAY),
) -> dict:
    """One device's computed indicators per day."""
    return indicators.device_indicators(platform, user, enterprise_id, device_key, _day(from_day), _day(to_day))


@router.get(
    "/enterprises/{enterprise_id}/devices/{device_key}/indicators/{indicator}/{day}/readings",
    response_model=ReadingsBehind,
)
def readings_behind(
    enterprise_id: Id, device_key: str, indicator: str, day: str, user: CurrentUser, platform: PlatformDep
) -> dict:
    """The readings and events a device-day value was computed from (consent checked, access logged)."""
    return indicators.readings_behind(platform, user, enterprise_id, device_key, indicator, _day(day))


@router.get("/industry-index", response_model=IndustryIndex)
def industry_index(
    user: CurrentUser,
    platform: PlatformDep,
    from_day: str = Query(..., alias="from", pattern=DAY),
    to_day: str = Query(..., alias="to", pattern=DAY),
    scenario: str | None = None,
    region: str | None = None,
    indicator: str | None = None,
) -> dict:
    """Peer-group quartiles (groups of at least 5 enterprises): bank, regulator and admin users."""
    return indicators.industry_index(platform, user, scenario, region, indicator, _day(from_day), _day(to_day))


@router.get("/enterprises/{enterprise_id}/percentile", response_model=Percentile)
def percentile(
    enterprise_id: Id, user: CurrentUser, platform: PlatformDep, indicator: str, day: str = Query(..., pattern=DAY)
) -> dict:
    """The enterprise's percentile among its peers; the enterprise sees its own."""
    return indicators.enterprise_percentile(platform, user, enterprise_id, indicator, _day(day))
