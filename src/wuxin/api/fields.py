"""Bounded integers for every route's path, query and body. A number the store cannot hold is refused at the
boundary (422 naming the parameter and the value) instead of overflowing the database driver: ids are INTEGER
columns (32 bits on PostgreSQL), times BIGINT (64 bits, SQLite's limit for any integer; the bound of +-2^62 is
exact as a JSON number's double, so that the OpenAPI states it exactly). tests/integration/test_api_fuzz.py checks
that the OpenAPI has no integer without both bounds inside 64 bits."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Annotated, Any

from annotated_types import Interval
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

ID_MAX = 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

Id = Annotated[int, Interval(ge=1, le=ID_MAX)]  # a row id: enterprise, consent, loan, alarm, batch ...
EPOCH_MS_LIMIT = 2**62  # 146 million years either side of 1970
EpochMs = Annotated[int, Interval(ge=-EPOCH_MS_LIMIT, le=EPOCH_MS_LIMIT)]


class RequestModel(BaseModel):
    """Base of every request body: a float or Decimal must be finite (a JSON number like 1e999999 parses to inf,
    which no answer can carry back as JSON, nor PostgreSQL's JSON store), refused with 422 naming the field; in
    free-form parts (a dict of parameters) too."""

    model_config = ConfigDict(allow_inf_nan=False)

    @model_validator(mode="after")
    def _finite_numbers(self) -> RequestModel:
        """Typed fields refused inf already (naming the field); this finds it in free-form ones (dict, Any)."""
        where = _non_finite(self.__dict__, "")
        if where is not None:
            raise ValueError(
                f"the number at {where.lstrip('.')} is beyond a double (inf) or not a number (NaN): "
                f"send a finite number"
            )
        return self


def _non_finite(value: Any, where: str) -> str | None:
    """Where in a parsed JSON value a non-finite float is, or None."""
    stack = [(where, value)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return where
        if isinstance(value, dict):
            stack += [(f"{where}.{key}", item) for key, item in value.items()]
        elif isinstance(value, list):
            stack += [(f"{where}.{index}", item) for index, item in enumerate(value)]
    return None


Finite = Annotated[float, Field(allow_inf_nan=False)]  # a float query parameter or body field


def decimal_amount(max_digits: int, decimal_places: int, description: str) -> Any:
    """The bounds of a non-negative Decimal (a JSON string like "1500000.00" or a number) that fits its
    NUMERIC(max_digits, decimal_places) column; larger values (1e26) are refused with 422 naming the field and the
    value. Used as Annotated[Decimal, decimal_amount(...)], a type alias mypy reads."""
    below = Decimal(10) ** (max_digits - decimal_places)  # also in the OpenAPI, so that the fuzzing keeps to it
    return Field(
        ge=0,
        lt=below,
        max_digits=max_digits,
        decimal_places=decimal_places,
        allow_inf_nan=False,
        description=f"{description}; at most {max_digits} digits, {decimal_places} after the point",
    )


# loans.amount_cny NUMERIC(18, 2); price_index.price_cny NUMERIC(18, 4); pledge_items.quantity NUMERIC(18, 3);
# loans.maintenance_ratio NUMERIC(8, 4), haircut NUMERIC(6, 4)
MoneyCny = Annotated[Decimal, decimal_amount(18, 2, "an amount in CNY, e.g. '1500000.00'")]
PriceCny = Annotated[Decimal, decimal_amount(18, 4, "a unit price in CNY, e.g. '452.50'")]
Quantity = Annotated[Decimal, decimal_amount(18, 3, "a quantity in the item's unit")]
Ratio = Annotated[Decimal, decimal_amount(8, 4, "a ratio, e.g. '1.3'")]

# A calendar day: ISO date between 2000-01-01 and 2100-12-31 (day arithmetic on year 1 or 9999 leaves Python's
# date range). A pattern, so that the OpenAPI (and the fuzzing) states the bound.
DAY_PATTERN = r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
Day = Annotated[str, StringConstraints(pattern=DAY_PATTERN)]


def raw_body(description: str, schemas: dict[str, dict]) -> dict:
    """`openapi_extra` of a route that reads its body itself, so that the OpenAPI (the docs, the fuzzing) still says
    what it takes: {media type: JSON schema}."""
    content = {media_type: {"schema": schema} for media_type, schema in schemas.items()}
    return {"requestBody": {"required": True, "description": description, "content": content}}
