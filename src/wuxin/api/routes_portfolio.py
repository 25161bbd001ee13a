"""The risk workbench: the bank's borrowers with their risk figures, the portfolio summary, the exports and the
caller's watch-list (credit officers and risk managers; consent checked as on every enterprise read)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from wuxin.api.deps import CurrentUser, PlatformDep
from wuxin.api.fields import Id
from wuxin.api.routes_credit import reader_lang
from wuxin.api.schemas_portfolio import BorrowerPage, PortfolioSummary, Watched, Watchlist
from wuxin.risk.portfolio import COLUMNS, PAGE_SIZE_MAX
from wuxin.risk.portfolio import Query as TableQuery
from wuxin.services.credit import portfolio, portfolio_export

router = APIRouter(prefix="/api/v1/portfolio", tags=["portfolio"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table_query(
    q: str | None = Query(None, max_length=100, description="part of the borrower's name"),
    industry: str | None = Query(None, max_length=40, description="a scenario code"),
    outcome: Literal["approve", "refer", "decline", "none"] | None = Query(
        None, description="the latest decision's outcome; none: no decision yet"
    ),
    critical: bool = Query(False, description="only borrowers with an open critical alarm"),
    watched: bool = Query(False, description="only borrowers on the caller's watch-list"),
    sort: str = Query("exposure_cny", description=f"one of {', '.join(COLUMNS)}"),
    order: Literal["asc", "desc"] = "desc",
    page: int = Query(1, ge=1, le=1_000_000),
    page_size: int = Query(50, ge=1, le=PAGE_SIZE_MAX),
) -> TableQuery:
    return TableQuery(q or None, industry or None, outcome, critical, watched, sort, order, page, page_size)


TableQueryDep = Annotated[TableQuery, Depends(table_query)]


@router.get("/borrowers", response_model=BorrowerPage)
def borrowers(user: CurrentUser, platform: PlatformDep, query: TableQueryDep) -> dict:
    """One page of the bank's borrowers: latest decision (outcome, grade, score and their change), exposure and limit
    use, 30 days of activity with the industry median, open alarms by severity, evidence coverage, devices online,
    pledge coverage, watch-list; searched, filtered and sorted (missing figures last), with the total count."""
    return portfolio.borrowers(platform, user, query)


@router.get(
    "/borrowers/export",
    response_model=None,
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}, XLSX: {"schema": {"type": "string"}}}}},
)
def export(
    request: Request,
    user: CurrentUser,
    platform: PlatformDep,
    query: TableQueryDep,
    format: Literal["csv", "xlsx"] = "csv",
    lang: Literal["zh-CN", "en"] | None = None,
) -> Response:
    """Every row the search, filters and sort select (no pages), headers and codes in `lang` (else Accept-Language,
    else zh-CN); formula-like text cells prefixed with '."""
    rows = portfolio.export_rows(platform, user, query)
    language = reader_lang(lang, request)
    name = f"borrowers.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Content-Language": language}
    if format == "xlsx":
        return Response(portfolio_export.to_xlsx(rows, language), media_type=XLSX, headers=headers)
    return Response(portfolio_export.to_csv(rows, language), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/summary", response_model=PortfolioSummary)
def summary(user: CurrentUser, platform: PlatformDep) -> dict:
    """Exposure by industry and by latest grade, and the last 7 days: grade downgrades, new critical alarms, decisions."""
    return portfolio.summary(platform, user)


@router.get("/watchlist", response_model=Watchlist)
def watchlist(user: CurrentUser, platform: PlatformDep) -> dict:
    """The borrowers on the caller's own watch-list that the bank may still see."""
    return {"enterprise_ids": portfolio.watchlist(platform, user)}


@router.put("/watchlist/{enterprise_id}", response_model=Watched)
def watch(enterprise_id: Id, user: CurrentUser, platform: PlatformDep) -> dict:
    """Put a borrower on the caller's watch-list (again: no change); audited."""
    return portfolio.set_watched(platform, user, enterprise_id, True)


@router.delete("/watchlist/{enterprise_id}", response_model=Watched)
def unwatch(enterprise_id: Id, user: CurrentUser, platform: PlatformDep) -> dict:
    """Take a borrower off the caller's watch-list; audited."""
    return portfolio.set_watched(platform, user, enterprise_id, False)
