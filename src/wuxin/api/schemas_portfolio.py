"""Response models of the risk workbench (/api/v1/portfolio): the borrowers table, the summary, the watch-list.
Amounts are decimal strings (CNY); *_ratio figures are numbers rounded to 4 places; null means unknown."""

from __future__ import annotations

from pydantic import BaseModel, Field

Number = float | int  # an int stays an int in the answer (a float field would write 3 as 3.0)


class LatestDecision(BaseModel):
    id: int = Field(description="The credit decision's id")
    outcome: str = Field(description="approve, refer or decline, after the officer's workflow")
    standing: str | None = Field(description="Where the decision's workflow stands (null: no workflow)")
    grade: str
    score: Number = Field(description="Rounded to 0.1")
    pd: Number = Field(description="Probability of default, 0..1")
    product_code: str
    decided_ms: int
    as_of: str = Field(description="The day the features were computed for (ISO date)")
    previous_grade: str | None
    grade_change: int | None = Field(description="Notches from the previous grade; positive: downgraded")
    score_change: Number | None


class Activity(BaseModel):
    indicator: str | None = Field(description="The industry's activity indicator; null without full consent")
    unit: str | None
    values: list[Number | None] | None = Field(description="One value per day of `days`; null: unknown")
    industry_median: list[Number | None] | None = Field(description="The industry's median per day")
    trend_ratio: Number | None = Field(description="Mean of the last days over the mean of the window")


class OpenAlarms(BaseModel):
    critical: int
    major: int
    minor: int
    warning: int
    total: int


class Borrower(BaseModel):
    enterprise_id: int
    name: str
    region: str | None
    industry: str = Field(description="The scenario code")
    consent_partial: bool = Field(description="True when the consent does not cover every figure (some are null)")
    watched: bool = Field(description="On the caller's watch-list")
    decision: LatestDecision | None = Field(description="The latest credit decision; null: none yet")
    exposure_cny: str | None = Field(description="Outstanding on the bank's live loans; null: no live loan")
    limit_cny: str | None = Field(description="The approved limit of the latest decision")
    limit_use_ratio: Number | None
    activity: Activity = Field(description="30 days of activity with the industry median")
    alarms_open: OpenAlarms
    evidence_days: int | None = Field(description="Days with device evidence in the window")
    evidence_coverage_ratio: Number | None
    devices: int
    devices_online: int
    online_share_ratio: Number | None
    pledged_value_cny: str | None = Field(description="Monitored value of the pledged collateral; null: no pledge")
    pledge_coverage_ratio: Number | None


class BorrowerPage(BaseModel):
    items: list[Borrower]
    total: int = Field(description="Rows the search and filters select")
    page: int
    page_size: int
    pages: int
    sort: str
    order: str
    days: list[str] = Field(description="The ISO days the activity values are for")
    as_of_ms: int


class Concentration(BaseModel):
    key: str | None = Field(description="The industry or the grade (null: no decision)")
    exposure_cny: str
    borrowers: int
    share_ratio: Number | None = Field(description="Share of the total exposure")


class Downgrade(BaseModel):
    enterprise_id: int
    name: str
    from_grade: str
    to_grade: str
    decided_ms: int


class CriticalAlarms(BaseModel):
    enterprise_id: int
    name: str
    alarms: int = Field(description="New critical alarms in the week")


class WeekDecisions(BaseModel):
    total: int
    by_outcome: dict[str, int] = Field(description="approve, refer, decline")


class Week(BaseModel):
    from_ms: int
    to_ms: int
    downgrades: list[Downgrade]
    new_critical_alarms: list[CriticalAlarms]
    decisions: WeekDecisions


class PortfolioSummary(BaseModel):
    as_of_ms: int
    borrowers: int
    exposure_cny: str = Field(description="Outstanding over every borrower the bank may see")
    by_industry: list[Concentration]
    by_grade: list[Concentration]
    week: Week = Field(description="The last 7 days")


class Watchlist(BaseModel):
    enterprise_ids: list[int]


class Watched(BaseModel):
    enterprise_id: int
    watched: bool = Field(description="Whether the borrower is on the watch-list now")
    changed: bool = Field(description="False when it already was (or was not)")
