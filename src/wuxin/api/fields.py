"""Bounded integers for every route's path, query and body. A number the store cannot hold is refused at the
boundary (422 naming the parameter and the value) instead of overflowing the database driver: ids are INTEGER
columns (32 bits on PostgreSQL), times BIGINT (64 bits, SQLite's limit for any integer; the bound of +-2^62 is
exact as a JSON number's double, so that the OpenAPI states it exactly). tests/integration/test_api_fuzz.py checks
that the OpenAPI has no integer without both bounds inside 64 bits."""
from __future__ import annotations

from typing import Annotated

from annotated_types import Interval

ID_MAX = 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

Id = Annotated[int, Interval(ge=1, le=ID_MAX)]  # a row id: enterprise, consent, loan, alarm, batch ...
EPOCH_MS_LIMIT = 2**62  # 146 million years either side of 1970
EpochMs = Annotated[int, Interval(ge=-EPOCH_MS_LIMIT, le=EPOCH_MS_LIMIT)]



def raw_body(description: str, schemas: dict[str, dict]) -> dict:
    """`openapi_extra` of a route that reads its body itself, so that the OpenAPI (the docs, the fuzzing) still says
    what it takes: {media type: JSON schema}."""
    content = {media_type: {"schema": schema} for media_type, schema in schemas.items()}
    return {"requestBody": {"required": True, "description": description, "content": content}}
