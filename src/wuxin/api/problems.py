"""Every API error as one RFC 9457 problem document (media type application/problem+json).

Members: `type` (a URI naming the kind of problem), `title` (the HTTP status phrase), `status`, `detail`
(the human sentence that names the thing and the value: what clients show), `instance` (the request path).
Extensions kept for the clients written before this format: `error` (the short code, also the end of `type`)
and `message` (the same sentence as `detail`). Validation problems add `errors`: one entry per refused field
with `loc` (where, as a list), `msg` (why) and `value` (what was sent, scalars only, cut short).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from wuxin.logs import redact

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:wuxin:problem:"  # + the short code: urn:wuxin:problem:not_found


class FieldProblem(BaseModel):
    """One refused field of a request."""

    loc: list[str | int] = Field(description="Where the field is: ['body', 'points', 0, 'ts'], ['query', 'limit'] ...")
    msg: str = Field(description="Why it was refused, in English")
    value: Any = Field(None, description="The value sent (scalars only, at most 200 characters; null otherwise)")


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (served as application/problem+json)."""

    type: str = Field(
        description="The kind of problem, a URI: urn:wuxin:problem:<error>", examples=["urn:wuxin:problem:not_found"]
    )
    title: str = Field(description="The HTTP status phrase", examples=["Not Found"])
    status: int = Field(description="The HTTP status code", examples=[404])
    detail: str = Field(
        description="What went wrong, naming the thing and the value", examples=["device 'pump-7' does not exist"]
    )
    instance: str | None = Field(None, description="The request path the problem occurred on")
    error: str = Field(description="The short code (same as the end of `type`)", examples=["not_found"])
    message: str = Field(description="Same as `detail` (kept for clients written before problem+json)")
    errors: list[FieldProblem] | None = Field(None, description="Validation problems only: each refused field")


def problem_body(status: int, code: str, detail: str, instance: str | None = None, **extra: Any) -> dict[str, Any]:
    """The problem document as a dict; `extra` members (errors, retry hints ...) are added as they are."""
    return {
        "type": PROBLEM_TYPE_PREFIX + code,
        "title": _title(status),
        "status": status,
        "detail": detail,
        "instance": redact(instance) if instance else instance,  # a device token in the path is not echoed
        "error": code,
        "message": detail,
        **extra,
    }


def problem_response(
    status: int,
    code: str,
    detail: str,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem document sent with its media type."""
    return JSONResponse(
        problem_body(status, code, detail, instance, **extra),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {  # documents the error body on every operation
    "4XX": {"model": Problem, "description": "Refused: a problem document (application/problem+json)"},
    "5XX": {"model": Problem, "description": "Server or dependency failure: a problem document"},
}


def problem_documents(spec: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with every 4XX/5XX answer documented as a problem document under
    application/problem+json, whatever the route's own media type (text/plain for /metrics, text/csv for exports).
    An answer documented with a body of its own (a telemetry answer, the health report) keeps it, and one documented
    with an empty `content` has no body (a device's long poll that timed out). Changed in place."""
    problem = {"$ref": "#/components/schemas/Problem"}
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            for code, response in operation.get("responses", {}).items():
                schemas = [c.get("schema") for c in response.get("content", {}).values()]
                no_body = response.get("content") == {}
                if code[0] in "45" and not no_body and all(schema in (None, problem) for schema in schemas):
                    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": problem}}
    return spec
