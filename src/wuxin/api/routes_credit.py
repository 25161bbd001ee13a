"""HTTP routes of the credit part: business-data imports, assessment, models, decisions, the credit report."""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import Field

from wuxin.api.deps import CurrentUser, PlatformDep
from wuxin.api.fields import DAY_PATTERN, Id, MoneyCny, RequestModel, raw_body
from wuxin.api.schemas_credit import (
    Assessment,
    BusinessImport,
    BusinessRecords,
    BusinessRejections,
    CreditDecision,
    CreditModel,
    CreditModelDetail,
    CreditReport,
    DecisionStarted,
    ModelStability,
    TrainedModel,
)
from wuxin.errors import InvalidInput
from wuxin.indicators.days import parse_day
from wuxin.risk.report import REPORT_CSP, render_html, render_pdf
from wuxin.services.credit import assessment as credit
from wuxin.services.credit import business_data
from wuxin.services.credit import decisions as credit_decisions
from wuxin.services.credit import governance as model_governance
from wuxin.services.credit import workflow as credit_workflow

router = APIRouter(prefix="/api/v1", tags=["credit"])
DAY = DAY_PATTERN  # an ISO day between 2000-01-01 and 2100-12-31


def _as_of(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return parse_day(text)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


@router.post(
    "/business-data/{kind}",
    status_code=201,
    response_model=BusinessImport,
    openapi_extra=raw_body(
        "rows: a JSON list, JSON Lines or CSV",
        {
            "application/json": {"type": "array", "items": {"type": "object"}},
            "application/x-ndjson": {"type": "string"},
            "text/csv": {"type": "string"},
        },
    ),
)
async def import_business_data(
    kind: str,
    request: Request,
    user: CurrentUser,
    platform: PlatformDep,
    source: Literal["enterprise_reported", "bank", "third_party"] = "enterprise_reported",
) -> dict:
    """Rows as a JSON list (numbers kept exact), JSON Lines or CSV (by Content-Type); bad rows are listed, good rows kept."""
    raw = await request.body()
    media = request.headers.get("content-type", "application/json").split(";")[0].strip()
    suffix = {"text/csv": ".csv", "application/x-ndjson": ".jsonl", "application/jsonl": ".jsonl"}.get(media, ".json")
    rows = business_data.parse_rows(raw, suffix)
    return business_data.import_rows(platform, user, kind, rows, source, hashlib.sha256(raw).hexdigest())


@router.get("/business-data/imports/{import_id}/rejections", response_model=BusinessRejections)
def business_rejections(import_id: Id, user: CurrentUser, platform: PlatformDep) -> dict:
    """The rows of one business-data import that were refused, each with row, column, value and reason."""
    return business_data.rejections(platform, user, import_id)


@router.get("/enterprises/{enterprise_id}/business-data", response_model=BusinessRecords)
def business_records(enterprise_id: Id, user: CurrentUser, platform: PlatformDep, kind: str | None = None) -> dict:
    """The enterprise's imported business records, optionally of one kind."""
    return business_data.records(platform, user, enterprise_id, kind)


@router.get("/enterprises/{enterprise_id}/credit/assessment", response_model=Assessment)
def assessment(
    enterprise_id: Id, user: CurrentUser, platform: PlatformDep, as_of: str | None = Query(None, pattern=DAY)
) -> dict:
    """Features and cross-verification findings (credit officers and risk managers under consent)."""
    return credit.assess(platform, user, enterprise_id, _as_of(as_of))


class TrainIn(RequestModel):
    simulated: int | None = Field(
        default=None,
        ge=200,
        le=2000,
        description="train on a simulated book of this size (larger books: `wuxin credit train`)",
    )
    seed: int = Field(default=2024, ge=0, le=2**32 - 2, description="of the simulated book (a NumPy seed)")


@router.post("/credit/models", status_code=201, response_model=TrainedModel)
def train(body: TrainIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Train and register a scorecard (risk managers): on the bank's loan outcomes, or a simulated book."""
    return credit_decisions.train_model(platform, user, body.simulated, body.seed)


@router.get("/credit/models", response_model=list[CreditModel])
def models(user: CurrentUser, platform: PlatformDep) -> list[dict]:
    """The credit models the caller may use."""
    return credit_decisions.list_models(platform, user)


MODEL_VERSION = r"^[0-9a-f]{64}$"  # a model's content hash


@router.get("/credit/models/{version}", response_model=CreditModelDetail)
def model(user: CurrentUser, platform: PlatformDep, version: str = Path(pattern=MODEL_VERSION)) -> dict:
    """One model with its lifecycle in the caller's tenant and its stored validation report."""
    return model_governance.model_detail(platform, user, version)


@router.post("/credit/models/{version}/{action}", response_model=CreditModel)
def govern(
    user: CurrentUser,
    platform: PlatformDep,
    version: str = Path(pattern=MODEL_VERSION),
    action: Literal["validate", "approve", "activate", "retire"] = Path(),
) -> dict:
    """Model governance (risk managers of the tenant): validate on the tenant's loan outcomes (out of time),
    approve (not by who trained it), activate (retires the previous active model), retire."""
    step = {
        "validate": model_governance.validate_model,
        "approve": model_governance.approve_model,
        "activate": model_governance.activate_model,
        "retire": model_governance.retire_model,
    }[action]
    return step(platform, user, version)


@router.get("/credit/model-stability", response_model=list[ModelStability])
def model_stability(user: CurrentUser, platform: PlatformDep, limit: int = Query(100, ge=1, le=1000)) -> list[dict]:
    """Daily population stability of the tenant's active models; `warning` when the score PSI is above 0.25."""
    return model_governance.stability_records(platform, user, limit)


class DecisionIn(RequestModel):
    product_code: str = Field(max_length=40)
    pledged_value_cny: MoneyCny | None = Field(
        default=None,
        description=(
            "collateral products lend on the lots in the pledge registry; a declared value can only lower that"
        ),
    )
    model_version: str | None = Field(default=None, max_length=64)
    as_of: str | None = Field(default=None, pattern=DAY)
    loan_id: Id | None = Field(default=None, description="the loan application the decision moves on (credit_workflow)")


@router.post("/enterprises/{enterprise_id}/credit/decisions", status_code=201, response_model=DecisionStarted)
def decide(enterprise_id: Id, body: DecisionIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Decide, then put the decision on the officer's workflow (four eyes above the product's threshold)."""
    credit_workflow.check_application(platform, user, enterprise_id, body.loan_id)
    decision = credit_decisions.decide_credit(
        platform, user, enterprise_id, body.product_code, body.pledged_value_cny, body.model_version, _as_of(body.as_of)
    )
    return credit_workflow.start(platform, user, decision, body.loan_id)


@router.get("/enterprises/{enterprise_id}/credit/decisions", response_model=list[CreditDecision])
def decisions(enterprise_id: Id, user: CurrentUser, platform: PlatformDep) -> list[dict]:
    """The credit decisions recorded for an enterprise."""
    return credit_decisions.decisions(platform, user, enterprise_id)


@router.get(
    "/enterprises/{enterprise_id}/credit/report",
    response_model=None,
    responses={
        200: {
            "model": CreditReport,
            "description": "format=json: the report as data; html: a page; pdf: a document",
            "content": {"text/html": {"schema": {"type": "string"}}, "application/pdf": {"schema": {"type": "string"}}},
        }
    },
)
def report(
    enterprise_id: Id,
    request: Request,
    user: CurrentUser,
    platform: PlatformDep,
    format: Literal["json", "html", "pdf"] = "html",
    as_of: str | None = Query(None, pattern=DAY),
    lang: Literal["zh-CN", "en"] | None = None,
):
    """The credit report in the reader's language (`lang`, else the Accept-Language header, else zh-CN); every
    figure links to the API data behind it."""
    data = credit_decisions.credit_report(platform, user, enterprise_id, _as_of(as_of), format)
    base = (platform.settings.public_url or str(request.base_url)).rstrip("/")
    if format == "json":
        return Response(json.dumps(data, ensure_ascii=False, default=str), media_type="application/json")
    if format == "pdf":
        return Response(
            render_pdf(data, base, reader_lang(lang, request)),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="credit-report-{enterprise_id}.pdf"'},
        )
    return HTMLResponse(
        render_html(data, base, reader_lang(lang, request)),
        headers={"Content-Security-Policy": REPORT_CSP, "Content-Language": reader_lang(lang, request)},
    )


def reader_lang(lang: str | None, request: Request) -> str:
    """The asked language, else English when the browser's first language is English, else zh-CN."""
    if lang:
        return lang
    first = request.headers.get("accept-language", "").split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "zh-CN"
