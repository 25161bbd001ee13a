"""HTTP routes of the officer's workflow on credit decisions: override with a reason, four-eyes review,
what waits for review, where a decision stands (services.credit_workflow)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from wuxin.api.deps import CurrentUser, PlatformDep
from wuxin.api.fields import Id, MoneyCny, RequestModel
from wuxin.api.schemas_credit import PendingReview, Product, Workflow
from wuxin.services.credit import workflow as credit_workflow

router = APIRouter(prefix="/api/v1/credit", tags=["credit"])


class OverrideIn(RequestModel):
    outcome: Literal["approve", "decline"]
    limit_cny: MoneyCny | None = Field(default=None, description="the limit granted (approve only)")
    reason: str = Field(max_length=2000, description="why the person decides otherwise (required, written)")


class ReviewIn(RequestModel):
    reason: str = Field(max_length=2000)


@router.get("/decisions/{decision_id}/workflow", response_model=Workflow)
def workflow(decision_id: Id, user: CurrentUser, platform: PlatformDep) -> dict:
    """The review workflow of one credit decision: who reviewed, approved or rejected it and when."""
    return credit_workflow.decision_workflow(platform, user, decision_id)


@router.post("/decisions/{decision_id}/override", status_code=201, response_model=Workflow)
def override(decision_id: Id, body: OverrideIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Change a referred decision's outcome with a written reason; a risk manager approves it (four eyes)."""
    return credit_workflow.override(platform, user, decision_id, body.outcome, body.limit_cny, body.reason)


@router.get("/reviews", response_model=list[PendingReview])
def reviews(
    user: CurrentUser,
    platform: PlatformDep,
    request: Request,
    response: Response,
    limit: int = Query(50, ge=1, le=credit_workflow.PAGE_MAX),
    before_id: Id | None = None,
) -> list[dict]:
    """Overrides and limits above a product's threshold waiting for a risk manager of the bank, on borrowers it
    may still lend on; newest first, `limit` a page. When more follow, `Link` (rel="next") and
    `X-Next-Before-Id` give the next page."""
    rows, next_before_id = credit_workflow.pending(platform, user, limit, before_id)
    if next_before_id is not None:
        response.headers["X-Next-Before-Id"] = str(next_before_id)
        response.headers["Link"] = f'<{request.url.include_query_params(before_id=next_before_id)}>; rel="next"'
    return rows


@router.post("/reviews/{review_id}/approve", response_model=Workflow)
def approve(review_id: Id, body: ReviewIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Approve a credit review (a different person than the proposer)."""
    return credit_workflow.review(platform, user, review_id, True, body.reason)


@router.post("/reviews/{review_id}/reject", response_model=Workflow)
def reject(review_id: Id, body: ReviewIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Reject a credit review, with the reason."""
    return credit_workflow.review(platform, user, review_id, False, body.reason)


@router.get("/products", response_model=list[Product])
def products(user: CurrentUser, platform: PlatformDep) -> list[dict]:
    """The credit products a bank decides on: names in zh-CN and en, cap and four-eyes threshold (CNY)."""
    return credit_workflow.products(user)
