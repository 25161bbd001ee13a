"""HTTP routes of the trace part: EPCIS 2.0 capture and query (/epcis), consumer verification
(/verify, GS1 Digital Link paths, public and rate-limited), product batches and identities (/api/v1/trace)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from wuxin.api.deps import CurrentUser, PlatformDep
from wuxin.api.fields import EpochMs, Id, RequestModel, raw_body
from wuxin.api.problems import problem_response
from wuxin.api.schemas_trace import EpcisCaptured, EpcisQueryDocument, IssuedIdentities, ProductBatch, Verification
from wuxin.services.evidence import trace
from wuxin.trace.epcis import EpcisError, EpcisValidationError, load_document, problem_details

router = APIRouter()

EPCIS_MEDIA_TYPES = ("application/json", "application/ld+json")
VERIFY_BURST = 30  # scans a client may make at once
VERIFY_REFILL_PER_S = 0.5  # then one every two seconds
_EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


def _problem(status: int, kind: str, title: str, detail: str, instance: str) -> JSONResponse:
    body = {"type": f"epcisException:{kind}", "title": title, "status": status, "detail": detail, "instance": instance}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


# ---- EPCIS 2.0 -------------------------------------------------------------------------------------


@router.post(
    "/epcis/capture",
    tags=["epcis"],
    status_code=202,
    response_model=EpcisCaptured,
    openapi_extra=raw_body(
        "an EPCISDocument",
        {media_type: {"type": "object"} for media_type in ("application/ld+json", "application/json")},
    ),
)
async def epcis_capture(
    request: Request, user: CurrentUser, platform: PlatformDep, enterprise_id: Id | None = None
) -> JSONResponse:
    """Capture an EPCISDocument (JSON / JSON-LD); idempotent on each event's CBV 2.0 hash ID."""
    path = request.url.path
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in EPCIS_MEDIA_TYPES:
        return _problem(
            415,
            "UnsupportedMediaTypeException",
            "Unsupported media type",
            f"content type {media_type or '(none)'!r} is not one of {', '.join(EPCIS_MEDIA_TYPES)}",
            path,
        )
    try:
        result = trace.capture(platform, user, load_document(await request.body()), enterprise_id)
    except EpcisValidationError as error:
        return JSONResponse(problem_details(error.errors, path), status_code=400, media_type="application/problem+json")
    except trace.CaptureLimitExceeded as error:
        return _problem(413, "CaptureLimitExceededException", "Capture limit exceeded", str(error), path)
    except EpcisError as error:
        return JSONResponse(problem_details([str(error)], path), status_code=400, media_type="application/problem+json")
    return JSONResponse(result, status_code=202)


@router.get(
    "/epcis/events",
    tags=["epcis"],
    response_model=EpcisQueryDocument,
    responses={
        200: {"content": {"application/ld+json": {"schema": {"$ref": "#/components/schemas/EpcisQueryDocument"}}}}
    },
)
def epcis_events(request: Request, user: CurrentUser, platform: PlatformDep) -> JSONResponse:
    """SimpleEventQuery over the REST binding; paginated by perPage / nextPageToken (also in a Link header)."""
    params = list(request.query_params.multi_items())
    try:
        events, token = trace.query(platform, user, params)
    except trace.EpcisQueryError as error:
        return _problem(400, "QueryParameterException", "Invalid query parameter", str(error), request.url.path)
    document = {
        "@context": [_EPCIS_CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": trace.iso_ms(platform.clock_ms()),
        "epcisBody": {"queryResults": {"queryName": "SimpleEventQuery", "resultsBody": {"eventList": events}}},
    }
    headers = {}
    if token:
        kept = [(k, v) for k, v in params if k != "nextPageToken"] + [("nextPageToken", token)]
        document["nextPageToken"] = token
        headers["Link"] = f'<{request.url.path}?{urlencode(kept)}>; rel="next"'
    return JSONResponse(document, headers=headers, media_type="application/ld+json")


# ---- consumer verification ------------------------------------------------------------------------


@dataclass
class _Bucket:
    tokens: float
    at_ms: int


@dataclass
class RateLimiter:
    """Token buckets per client: `burst` at once, refilled at `per_s`; the clock is passed in."""

    burst: int
    per_s: float
    buckets: dict[str, _Bucket] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def retry_after_s(self, client: str, now_ms: int) -> float:
        """0 when the client may go ahead (a token is taken), else the seconds until the next token."""
        with self.lock:
            bucket = self.buckets.setdefault(client, _Bucket(self.burst, now_ms))
            bucket.tokens = min(self.burst, bucket.tokens + (now_ms - bucket.at_ms) / 1000 * self.per_s)
            bucket.at_ms = now_ms
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.per_s


def _limiter(request: Request) -> RateLimiter:
    state = request.app.state
    if not hasattr(state, "verify_limiter"):
        state.verify_limiter = RateLimiter(VERIFY_BURST, VERIFY_REFILL_PER_S)
    return state.verify_limiter


@router.get("/verify/01/{gtin}/21/{serial}", tags=["verification"], response_model=Verification)
def verify(
    gtin: str,
    serial: str,
    request: Request,
    platform: PlatformDep,
    lat: float | None = Query(None, ge=-90, le=90),
    lon: float | None = Query(None, ge=-180, le=180),
) -> JSONResponse:
    """Public (no login): is this product unit genuine, unknown or suspicious, and its verified history."""
    client = request.client.host if request.client else "unknown"
    wait_s = _limiter(request).retry_after_s(client, platform.clock_ms())
    if wait_s:
        return problem_response(
            429,
            "rate_limited",
            f"too many verifications from this client; retry in {wait_s:.0f} s",
            request.url.path,
            {"Retry-After": str(max(1, round(wait_s)))},
        )
    return JSONResponse(trace.verify_scan(platform, gtin, serial, client, lat, lon))


# ---- product batches and identities ----------------------------------------------------------------


class BatchIn(RequestModel):
    gtin: str = Field(pattern=r"^[0-9]{8,14}$")
    lot: str = Field(pattern=r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$")
    origin: str = Field(min_length=2, max_length=200)
    production_start_ms: EpochMs
    production_end_ms: EpochMs
    company_prefix_digits: int = Field(ge=6, le=12)
    enterprise_id: Id | None = None


class IdentitiesIn(RequestModel):
    count: int = Field(ge=1, le=trace.MAX_IDENTITIES_PER_REQUEST)


@router.post("/api/v1/trace/batches", tags=["trace"], status_code=201, response_model=ProductBatch)
def create_batch(body: BatchIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Register a production batch; its identities will be capped by the IoT-measured output (产量锁定)."""
    return trace.create_batch(
        platform,
        user,
        body.gtin,
        body.lot,
        body.origin,
        body.production_start_ms,
        body.production_end_ms,
        body.company_prefix_digits,
        body.enterprise_id,
    )


@router.get("/api/v1/trace/batches/{batch_id}", tags=["trace"], response_model=ProductBatch)
def get_batch(batch_id: Id, user: CurrentUser, platform: PlatformDep) -> dict:
    """One product batch: its IoT-measured output, the identities issued and how many more it supports."""
    return trace.batch_view(platform, user, batch_id)


@router.post(
    "/api/v1/trace/batches/{batch_id}/identities", tags=["trace"], status_code=201, response_model=IssuedIdentities
)
def issue_identities(batch_id: Id, body: IdentitiesIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Issue SGTIN identities (EPC URI + GS1 Digital Link); 409 beyond the measured output."""
    return trace.issue_identities(platform, user, batch_id, body.count)
