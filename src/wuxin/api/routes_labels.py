"""Labels: the zh-CN and English words of every code the API returns, for the console and any client."""

from __future__ import annotations

from fastapi import APIRouter, Response

from wuxin.api.deps import CurrentUser
from wuxin.api.schemas_console import Labels
from wuxin.labels import all_labels

router = APIRouter(prefix="/api/v1", tags=["labels"])


@router.get("/labels", response_model=Labels, response_model_exclude_unset=True)
def labels(user: CurrentUser, response: Response) -> dict:
    """{kind: {code: {zh, en[, unit]}}} for device types, metrics, events, indicators, alarm types, severities and
    states, loan products, states and risk classes, decision outcomes, conditions and bases, model and review
    states, calendar kinds, roles, source modes and consent purposes. The same for every user: cacheable."""
    response.headers["Cache-Control"] = "private, max-age=3600"
    return all_labels()
