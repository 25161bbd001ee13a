"""Post-loan monitoring endpoints: rules and overrides, alarms, notification channels, loans, pledges."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import Field

from wuxin.api.deps import CurrentUser, PlatformDep
from wuxin.api.fields import EpochMs, Finite, Id, MoneyCny, PriceCny, Quantity, Ratio, RequestModel
from wuxin.api.schemas_loans import Loan, LoanWithHistory, PledgedItem, Price, Reconciliation, Release, Valuation, Zone
from wuxin.api.schemas_monitoring import (
    Alarm,
    AlarmAction,
    AlarmDetail,
    BulkAnswer,
    DescribedAlarm,
    NotificationChannel,
    OverrideDeleted,
    OverrideSet,
    RuleDoc,
    RuleOverride,
)
from wuxin.bootstrap import Platform
from wuxin.services.credit import loans, pledges
from wuxin.services.monitoring import alarm_desk, notifications, overrides, sweeps
from wuxin.services.monitoring import alarms as monitoring
from wuxin.services.monitoring.alarms import AlarmFilter

router = APIRouter(prefix="/api/v1")


def with_sweeper(platform: Platform, inner: Callable) -> Callable:
    """App lifespan: the monitoring sweeper (offline and herd rules, escalation, notification retries, daily rules
    after China midnight) runs around `inner` (another lifespan) and is stopped when the app stops."""

    @asynccontextmanager
    async def lifespan(app) -> AsyncIterator[None]:
        sweeper = sweeps.MonitoringSweeper(platform, platform.settings.sweep_interval_s).start()
        app.state.monitoring_sweeper = sweeper
        try:
            async with inner(app):
                yield
        finally:
            sweeper.stop()

    return lifespan


# ---- rules


@router.get("/rules", tags=["monitoring"], response_model=list[RuleDoc])
def list_rules(user: CurrentUser, scenario: str | None = None) -> list[dict]:
    """The monitoring rules (alarm conditions) and their thresholds, optionally of one scenario."""
    return overrides.list_rules(scenario)


class OverrideIn(RequestModel):
    severity: Literal["critical", "major", "minor", "warning"] | None = None
    enabled: bool | None = None
    params: dict | None = None


@router.put("/rule-overrides/{product}/{rule_id}", tags=["monitoring"], response_model=OverrideSet)
def put_override(product: str, rule_id: str, body: OverrideIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Override one rule's threshold for a loan product."""
    return overrides.set_override(platform, user, product, rule_id, body.model_dump(exclude_none=True))


@router.get("/rule-overrides", tags=["monitoring"], response_model=list[RuleOverride])
def get_overrides(user: CurrentUser, platform: PlatformDep) -> list[dict]:
    """The rule overrides in force for the caller's tenant."""
    return overrides.list_overrides(platform, user)


@router.delete("/rule-overrides/{product}/{rule_id}", tags=["monitoring"], response_model=OverrideDeleted)
def delete_override(product: str, rule_id: str, user: CurrentUser, platform: PlatformDep) -> dict:
    """Remove a rule override; the product's default threshold applies again."""
    return {"deleted": overrides.delete_override(platform, user, product, rule_id)}


# ---- alarms


def alarm_filter(
    status: list[str] | None = Query(None, description="active | acknowledged | cleared; repeat for several"),
    alarm_type: list[str] | None = Query(None, max_length=60, description="repeat for several"),
    severity: list[str] | None = Query(None, description="critical | major | minor | warning; repeat for several"),
    enterprise_id: Id | None = Query(None, description="the borrower"),
    loan_id: Id | None = None,
    opened_from_ms: EpochMs | None = Query(None, description="opened at or after (epoch ms)"),
    opened_to_ms: EpochMs | None = Query(None, description="opened before (epoch ms)"),
) -> AlarmFilter:
    """The alarm list's filters as query parameters (the list and its CSV export take the same)."""
    return AlarmFilter(
        tuple(alarm_type or ()),
        tuple(severity or ()),
        tuple(status or ()),
        enterprise_id,
        loan_id,
        opened_from_ms,
        opened_to_ms,
    )


AlarmFilterDep = Annotated[AlarmFilter, Depends(alarm_filter)]


@router.get("/alarms", tags=["alarms"], response_model=list[DescribedAlarm])
def list_alarms(
    request: Request,
    response: Response,
    user: CurrentUser,
    platform: PlatformDep,
    where: AlarmFilterDep,
    limit: int = Query(100, ge=1, le=1000),
    before_id: Id | None = None,
) -> list[dict]:
    """A page of alarms, newest first, each with its borrower, device (key, type, site) and explanation (metric,
    value, threshold or baseline, unit, window); `X-Total-Count` says how many match over all pages. When more
    follow, the `Link` header (rel="next") and `X-Next-Before-Id` give the next page (the same query with `before_id`)."""
    rows, next_before_id, total = alarm_desk.alarm_list(platform, user, where, limit, before_id)
    response.headers["X-Total-Count"] = str(total)
    if next_before_id is not None:
        response.headers["X-Next-Before-Id"] = str(next_before_id)
        response.headers["Link"] = f'<{request.url.include_query_params(before_id=next_before_id)}>; rel="next"'
    return rows


@router.get("/alarms/export.csv", tags=["alarms"], response_class=PlainTextResponse)
def export_alarms(
    user: CurrentUser, platform: PlatformDep, where: AlarmFilterDep, lang: Literal["zh-CN", "zh", "en"] = "zh-CN"
) -> Response:
    """The filtered alarm list as CSV (UTF-8 with BOM; headers and codes in `lang`; times in China time); text
    cells that a spreadsheet would run as a formula start with a quote."""
    text, rows = alarm_desk.export_csv(platform, user, where, "en" if lang == "en" else "zh")
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="alarms.csv"', "X-Row-Count": str(rows)},
    )


@router.get("/alarms/{alarm_id}", tags=["alarms"], response_model=AlarmDetail)
def alarm_detail(alarm_id: Id, user: CurrentUser, platform: PlatformDep) -> dict:
    """One alarm in full: device, reading and threshold, since when, its state history with who and why, its
    ledger entries and evidence bundle."""
    return alarm_desk.alarm_detail(platform, user, alarm_id)


class BulkIn(RequestModel):
    action: Literal["acknowledge", "clear"]
    ids: list[Id] = Field(min_length=1, max_length=alarm_desk.BULK_MAX)
    reason: str = Field(min_length=3, max_length=2000)


@router.post("/alarms/bulk", tags=["alarms"], response_model=BulkAnswer)
def bulk(body: BulkIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Acknowledge or clear several alarms with one reason; each is checked and done on its own, and the answer
    lists every id with its result (ok and its new state, or the error: not_found, invalid_input ...)."""
    return alarm_desk.bulk_action(platform, user, body.action, body.ids, body.reason)


class ReasonIn(RequestModel):
    reason: str = Field(min_length=3, max_length=2000)


@router.post("/alarms/{alarm_id}/acknowledge", tags=["alarms"], response_model=Alarm)
def acknowledge(alarm_id: Id, body: ReasonIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Acknowledge an alarm (someone is looking at it); recorded in its audit trail."""
    return monitoring.acknowledge(platform, user, alarm_id, body.reason)


@router.post("/alarms/{alarm_id}/clear", tags=["alarms"], response_model=Alarm)
def clear(alarm_id: Id, body: ReasonIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Clear an alarm, with the reason; recorded in its audit trail."""
    return monitoring.clear(platform, user, alarm_id, body.reason)


@router.get("/alarms/{alarm_id}/audit", tags=["alarms"], response_model=list[AlarmAction])
def audit(alarm_id: Id, user: CurrentUser, platform: PlatformDep) -> list[dict]:
    """The audit trail of one alarm: raised, acknowledged, cleared, by whom and when."""
    return monitoring.alarm_audit(platform, user, alarm_id)


class ChannelIn(RequestModel):
    kind: Literal["webhook", "email"]
    target: str = Field(min_length=3, max_length=300)
    min_severity: Literal["critical", "major", "minor", "warning"] = "major"


@router.post("/notification-channels", tags=["alarms"], status_code=201, response_model=NotificationChannel)
def add_channel(body: ChannelIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Add a notification channel (kind, target, minimum severity) for the tenant's alarms."""
    return notifications.add_channel(platform, user, body.kind, body.target, body.min_severity)


# ---- loans


class LoanIn(RequestModel):
    enterprise_id: Id
    product: str = Field(min_length=1, max_length=60)
    amount_cny: MoneyCny
    maintenance_ratio: Ratio = Decimal("1.3")
    liquidation_ratio: Ratio = Decimal("1.1")


@router.post("/loans", tags=["loans"], status_code=201, response_model=Loan)
def create_loan(body: LoanIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Record a loan to an enterprise, to be monitored from its devices; answers its id."""
    return loans.create_loan(
        platform,
        user,
        body.enterprise_id,
        body.product,
        body.amount_cny,
        body.maintenance_ratio,
        body.liquidation_ratio,
    )


@router.get("/loans", tags=["loans"], response_model=list[Loan])
def list_loans(user: CurrentUser, platform: PlatformDep, enterprise_id: Id | None = None) -> list[dict]:
    """The tenant's loans with their state and risk class."""
    return loans.list_loans(platform, user, enterprise_id)


@router.get("/loans/{loan_id}", tags=["loans"], response_model=LoanWithHistory)
def get_loan(loan_id: Id, user: CurrentUser, platform: PlatformDep) -> dict:
    """One loan of the caller's tenant: its borrower, product, amount and state."""
    return loans.get_loan(platform, user, loan_id)


class TransitionIn(RequestModel):
    action: str
    reason: str = Field(min_length=3, max_length=2000)
    devices: list[str] | None = Field(default=None, description="for plan_monitoring: the device keys to watch")


@router.post("/loans/{loan_id}/transitions", tags=["loans"], response_model=Loan)
def transition(loan_id: Id, body: TransitionIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Apply an action to a loan's state (with the reason); a refused action names the loan's state."""
    return loans.transition(platform, user, loan_id, body.action, body.reason, body.devices)


class RiskClassIn(RequestModel):
    risk_class: Literal["normal", "special_mention", "substandard", "doubtful", "loss"]
    reason: str = Field(min_length=3, max_length=2000)


@router.post("/loans/{loan_id}/risk-class", tags=["loans"], response_model=Loan)
def risk_class(loan_id: Id, body: RiskClassIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Set the loan's risk class, with the reason."""
    return loans.set_risk_class(platform, user, loan_id, body.risk_class, body.reason)


# ---- pledges


class ItemIn(RequestModel):
    kind: Literal["rfid", "serial", "lot"]
    value: str = Field(min_length=1, max_length=120)
    sku: str = Field(min_length=1, max_length=80)
    quantity: Quantity
    unit: str = "unit"
    zone_id: str | None = None
    haircut: Ratio = Decimal("0.3")


class PledgeIn(RequestModel):
    items: list[ItemIn] = Field(min_length=1, max_length=1000)


@router.post("/loans/{loan_id}/pledges", tags=["pledges"], status_code=201, response_model=list[PledgedItem])
def pledge(loan_id: Id, body: PledgeIn, user: CurrentUser, platform: PlatformDep) -> list[dict]:
    """Pledge collateral (devices, goods) to a loan."""
    return pledges.pledge(platform, user, loan_id, [i.model_dump(mode="json") for i in body.items])


class ZoneIn(RequestModel):
    zone_id: str = Field(min_length=1, max_length=60)
    polygon: list[list[Finite]] = Field(min_length=3, max_length=500, description="[[lon, lat], ...]")


@router.post("/loans/{loan_id}/zones", tags=["pledges"], status_code=201, response_model=Zone)
def add_zone(loan_id: Id, body: ZoneIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Add a geofence zone to the loan (where its pledged assets are expected)."""
    return pledges.add_zone(platform, user, loan_id, body.zone_id, body.polygon)


@router.get("/loans/{loan_id}/valuation", tags=["pledges"], response_model=Valuation)
def valuation(loan_id: Id, user: CurrentUser, platform: PlatformDep) -> dict:
    """The current valuation of the loan's pledged collateral."""
    return pledges.valuation(platform, user, loan_id)


class ReconcileIn(RequestModel):
    zone_id: str
    from_ms: EpochMs
    to_ms: EpochMs
    wms_out_units: Finite | None = None


@router.post("/loans/{loan_id}/reconcile", tags=["pledges"], response_model=Reconciliation)
def reconcile(loan_id: Id, body: ReconcileIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Reconcile the loan's pledged goods against what its devices report."""
    return pledges.reconcile(platform, user, loan_id, body.zone_id, body.from_ms, body.to_ms, body.wms_out_units)


class ReleaseIn(RequestModel):
    item_ids: list[Id] = Field(min_length=1)
    reason: str = Field(min_length=3, max_length=2000)
    substitutes: list[ItemIn] | None = None


@router.post("/loans/{loan_id}/release", tags=["pledges"], response_model=Release)
def release(loan_id: Id, body: ReleaseIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Release pledged collateral from the loan."""
    subs = [s.model_dump(mode="json") for s in body.substitutes] if body.substitutes else None
    return pledges.release(platform, user, loan_id, body.item_ids, body.reason, subs)


class PriceIn(RequestModel):
    sku: str = Field(min_length=1, max_length=80)
    price_cny: PriceCny
    at_ms: EpochMs
    source: str = Field(min_length=1, max_length=100)


@router.post("/price-index", tags=["pledges"], status_code=201, response_model=Price)
def set_price(body: PriceIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Record a commodity price used to value pledged goods."""
    return pledges.set_price(platform, user, body.sku, body.price_cny, body.at_ms, body.source)
