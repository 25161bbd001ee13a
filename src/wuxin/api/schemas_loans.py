"""Response models of loans and their collateral (/api/v1/loans, pledges, zones, valuation, the price index).
Amounts, quantities and ratios are decimal strings (e.g. "1500000.00"), never binary floats."""

from __future__ import annotations

from pydantic import BaseModel, Field

Number = float | int  # an int stays an int in the answer (a float field would write 3 as 3.0)


class MonitoringPlan(BaseModel):
    devices: list[str] = Field(description="The device keys the loan is monitored from (set by plan_monitoring)")


class Loan(BaseModel):
    id: int = Field(description="The loan's id")
    tenant_id: int = Field(description="The lender")
    enterprise_id: int = Field(description="The borrower")
    product: str = Field(description="The credit product code")
    state: str = Field(description="application, assessment, monitoring_plan ... (see GET /api/v1/labels)")
    risk_class: str = Field(description="normal, special_mention, substandard, doubtful or loss")
    monitoring_plan: MonitoringPlan
    created_ms: int
    updated_ms: int
    amount_cny: str = Field(description="The amount lent, CNY", examples=["1500000.00"])
    outstanding_cny: str = Field(description="What is still owed, CNY")
    maintenance_ratio: str = Field(description="Collateral value / outstanding below which a top-up is asked")
    liquidation_ratio: str = Field(description="Collateral value / outstanding below which it is liquidated")


class LoanChange(BaseModel):
    at_ms: int
    kind: str = Field(description="state or risk_class")
    from_value: str | None
    to_value: str | None
    action: str | None = Field(description="The lifecycle action, for a state change")
    user_id: int | None = Field(description="Who made the change; null when an alarm made it")
    role: str | None
    reason: str | None
    alarm_id: int | None = Field(description="The alarm that made the change, if any")


class LoanWithHistory(Loan):
    history: list[LoanChange] = Field(description="Every state and risk-class change, oldest first")


class PledgedItem(BaseModel):
    id: int = Field(description="The pledged item's id")
    identity: str = Field(description="kind:value, e.g. 'rfid:E200...' or 'lot:L-7'")
    sku: str
    quantity: str = Field(description="In the item's unit, decimal string")
    unit: str
    zone_id: str | None = Field(description="The geofence zone it is kept in")
    haircut: str = Field(description="Share of the value not lent on, e.g. '0.3'")
    pledged_ms: int
    released_ms: int | None
    release_reason: str | None


class Zone(BaseModel):
    id: int = Field(description="The zone's row id")
    zone_id: str = Field(description="The zone's name within the loan")
    polygon: list[list[float]] = Field(description="[[lon, lat], ...]")


class ItemValue(BaseModel):
    identity: str
    sku: str
    quantity: str = Field(description="Monitored quantity when devices report it, else the declared one")
    unit_price_cny: str | None = Field(description="Latest price index of the SKU; null: unpriced")
    haircut: str
    value_cny: str | None = Field(description="quantity x price x (1 - haircut); null: unpriced")


class Valuation(BaseModel):
    loan_id: int
    monitored: bool = Field(description="Whether quantities come from the borrower's devices (under consent)")
    items: list[ItemValue]
    pledged_value_cny: str
    outstanding_cny: str
    coverage_ratio: str | None = Field(description="pledged value / outstanding; null when nothing is outstanding")
    status: str = Field(description="ok, top_up (below maintenance) or liquidate (below liquidation)")
    unpriced: list[str] = Field(description="SKUs without a price")
    top_up_cny: str = Field(description="What brings the coverage back to the maintenance ratio")


class OutboundUnits(BaseModel):
    camera_out: Number | None = Field(description="Units counted leaving the zone by camera")
    rfid_out: Number | None = Field(description="Tags that left the zone")
    wms_out: Number | None = Field(description="Units booked out in the WMS, as sent")


class Mismatch(BaseModel):
    high: str = Field(description="The source that counted most")
    low: str = Field(description="The source that counted least")
    gap: Number = Field(description="high - low, in units")
    values: dict[str, Number] = Field(description="The sources that gave a count")


class Reconciliation(BaseModel):
    zone_id: str
    values: OutboundUnits
    mismatch: bool = Field(description="Whether the gap is beyond the industry rule's tolerance (an alarm is raised)")
    detail: Mismatch | None = Field(description="The gap, when beyond tolerance")


class Release(BaseModel):
    released: list[str] = Field(description="Identities released")
    substituted: list[str] = Field(description="Identities pledged in their place")
    items: list[PledgedItem] = Field(description="Every item of the loan after the release")


class Price(BaseModel):
    sku: str
    price_cny: str = Field(description="Unit price, decimal string")
    at_ms: int
    source: str
