"""Read models the web console needs beyond the resource endpoints (consent checked as everywhere)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from wuxin.api.deps import CurrentUser, PlatformDep
from wuxin.api.fields import DAY_PATTERN, Id
from wuxin.api.schemas_console import ConsentTenant, EquipmentTimeline, MapPoints, Portfolio, PortfolioTrend
from wuxin.services.console import overview
from wuxin.services.console import timeline as console

router = APIRouter(prefix="/api/v1/console", tags=["console"])


@router.get("/portfolio", response_model=Portfolio)
def portfolio(user: CurrentUser, platform: PlatformDep) -> dict:
    """Visible enterprises with device counts by connectivity (online / offline / unknown)."""
    return overview.portfolio(platform, user)


@router.get("/portfolio/trend", response_model=PortfolioTrend)
def portfolio_trend(
    user: CurrentUser, platform: PlatformDep, days: int = Query(30, ge=1, le=overview.MAX_TREND_DAYS)
) -> dict:
    """Per day: each scenario's key indicator (median over the visible enterprises) and the alarms raised and open."""
    return overview.portfolio_trend(platform, user, days)


@router.get("/map", response_model=MapPoints)
def map_points(user: CurrentUser, platform: PlatformDep) -> dict:
    """Sites with coordinates and each readable vehicle's last position."""
    return overview.map_points(platform, user)


@router.get("/tenants", response_model=list[ConsentTenant])
def consent_tenants(user: CurrentUser, platform: PlatformDep) -> list[dict]:
    """Banks and operators an enterprise can grant a consent to."""
    return overview.consent_tenants(platform, user)


@router.get("/enterprises/{enterprise_id}/equipment-timeline", response_model=EquipmentTimeline)
def equipment_timeline(
    enterprise_id: Id,
    user: CurrentUser,
    platform: PlatformDep,
    days: int = Query(30, ge=1, le=console.MAX_TIMELINE_DAYS),
    end_day: str | None = Query(
        None, pattern=DAY_PATTERN, description="last local day, ISO date 2000-01-01..2100-12-31; default today"
    ),
) -> dict:
    """Per machine, per 15-minute slot (China local time): R running, S stopped, - unknown."""
    return console.equipment_timeline(platform, user, enterprise_id, days, end_day)
