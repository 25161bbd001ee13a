"""Business data that is not telemetry, validated row by row (pure): a bad field refuses its row with
a message naming the field and the value; the good rows go on.

Kinds and their fields are declared as data: `KINDS` holds the kinds every firm has (statements, invoices,
bills, bank flows, stock movements, prices, loan outcomes); a scenario pack adds its industry's fields and kinds
(its business.json, read by `declared_kinds`), and the callers pass the composed kinds in. Amounts are decimal
strings or integers, never floats (money stays exact); dates are ISO 8601; months are YYYY-MM. Each row names its
enterprise by `uscc` except market data (the commodity price index).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, get_args

from wuxin.errors import InvalidInput
from wuxin.indicators.days import CHINA_TZ

SOURCES = {"enterprise_reported": 0.4, "third_party": 0.7, "bank": 0.9}  # trust level 0-1 by who provided it
EPOCH = dt.date(1970, 1, 1)
FieldType = Literal["text", "decimal", "integer", "date", "month", "datetime", "bool", "choice"]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: FieldType
    required: bool = True
    minimum: float | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class KindSpec:
    """One kind of business data: its fields, its key within an enterprise, and the days a row covers."""

    kind: str
    fields: tuple[FieldSpec, ...]
    key: Callable[[Mapping[str, Any]], str]
    days: Callable[[Mapping[str, Any]], tuple[int, int]]
    per_enterprise: bool = True


@dataclass(frozen=True)
class GoodRow:
    index: int
    uscc: str | None
    key: str
    first_day: int
    last_day: int
    data: dict[str, Any]  # normalised: decimals as strings, dates ISO


@dataclass(frozen=True)
class BadRow:
    index: int
    field: str | None
    value: str | None
    message: str
    payload: str


def _day(value: str) -> int:
    return (dt.date.fromisoformat(value) - EPOCH).days


def month_span(month: str) -> tuple[int, int]:
    """First and last local day of a month 'YYYY-MM'."""
    year, mon = (int(p) for p in month.split("-"))
    first = dt.date(year, mon, 1)
    nxt = dt.date(year + (mon == 12), mon % 12 + 1, 1)
    return (first - EPOCH).days, (nxt - EPOCH).days - 1


def _period_days(row: Mapping[str, Any]) -> tuple[int, int]:
    first, last = _day(row["period_start"]), _day(row["period_end"])
    if last < first:
        raise _FieldError(
            "period_end",
            row["period_end"],
            f"period_end {row['period_end']} is before period_start {row['period_start']}",
        )
    return first, last


def _bill_days(row: Mapping[str, Any]) -> tuple[int, int]:
    """A feed-in bill's meter-reading dates when it states both, else its month."""
    if row.get("period_start") and row.get("period_end"):
        return _period_days(row)
    if row.get("period_start") or row.get("period_end"):
        given = "period_start" if row.get("period_start") else "period_end"
        raise _FieldError(given, row[given], "a feed-in bill states both period_start and period_end, or neither")
    return month_span(row["month"])


def _ts_day(row: Mapping[str, Any]) -> tuple[int, int]:
    moment = dt.datetime.fromisoformat(row["ts"])
    local = moment.astimezone(CHINA_TZ).date()
    day = (local - EPOCH).days
    return day, day


MONEY: FieldType = "decimal"
KINDS: dict[str, KindSpec] = {
    spec.kind: spec
    for spec in (
        KindSpec(
            "statements",
            (
                FieldSpec("uscc", "text"),
                FieldSpec("period", "text"),
                FieldSpec("period_start", "date"),
                FieldSpec("period_end", "date"),
                FieldSpec("revenue_cny", MONEY, minimum=0),
                FieldSpec("costs_cny", MONEY, False, 0),
                FieldSpec("net_profit_cny", MONEY, False),
                FieldSpec("total_assets_cny", MONEY, False, 0),
                FieldSpec("total_liabilities_cny", MONEY, False, 0),
            ),
            key=lambda r: r["period"],
            days=_period_days,
        ),
        KindSpec(
            "tax_invoices",
            (
                FieldSpec("uscc", "text"),
                FieldSpec("invoice_no", "text"),
                FieldSpec("date", "date"),
                FieldSpec("amount_cny", MONEY, minimum=0),
                FieldSpec("direction", "choice", False, choices=("sales", "purchase")),
            ),
            key=lambda r: r["invoice_no"],
            days=lambda r: (_day(r["date"]), _day(r["date"])),
        ),
        KindSpec(
            "electricity_bills",
            (
                FieldSpec("uscc", "text"),
                FieldSpec("month", "month"),
                FieldSpec("kwh", "decimal", minimum=0),
                FieldSpec("amount_cny", MONEY, False, 0),
                FieldSpec("meter_id", "text", False),
            ),
            key=lambda r: f"{r['month']}|{r.get('meter_id') or ''}",
            days=lambda r: month_span(r["month"]),
        ),
        KindSpec(
            "bank_flows",
            (
                FieldSpec("uscc", "text"),
                FieldSpec("month", "month"),
                FieldSpec("inflow_cny", MONEY, minimum=0),
                FieldSpec("outflow_cny", MONEY, minimum=0),
                FieldSpec("account", "text", False),
            ),
            key=lambda r: f"{r['month']}|{r.get('account') or ''}",
            days=lambda r: month_span(r["month"]),
        ),
        KindSpec(
            "wms_movements",
            (
                FieldSpec("uscc", "text"),
                FieldSpec("sku", "text"),
                FieldSpec("quantity", "integer", minimum=1),
                FieldSpec("direction", "choice", choices=("in", "out")),
                FieldSpec("ts", "datetime"),
                FieldSpec("movement_id", "text", False),
                FieldSpec("zone_id", "text", False),
                FieldSpec("lot_id", "text", False),
            ),
            key=lambda r: r.get("movement_id") or f"{r['sku']}|{r['ts']}|{r['direction']}|{r['quantity']}",
            days=_ts_day,
        ),
        KindSpec(
            "price_index",
            (
                FieldSpec("sku", "text"),
                FieldSpec("date", "date"),
                FieldSpec("price_cny_per_unit", MONEY, minimum=0),
                FieldSpec("unit", "text", False),
            ),
            key=lambda r: f"{r['sku']}|{r['date']}",
            days=lambda r: (_day(r["date"]), _day(r["date"])),
            per_enterprise=False,
        ),
        KindSpec(
            "loan_outcomes",
            (
                FieldSpec("uscc", "text"),
                FieldSpec("loan_ref", "text"),
                FieldSpec("days_past_due", "integer", minimum=0),
                FieldSpec("defaulted", "bool"),
                FieldSpec("observed_date", "date", False),
            ),
            key=lambda r: r["loan_ref"],
            days=lambda r: (_day(r["observed_date"]),) * 2 if r.get("observed_date") else (0, 0),
        ),
    )
}


# The days a declared kind's row covers, by name, with the fields each needs (a pack's business.json `days`).
DAY_SPANS: dict[str, tuple[Callable[[Mapping[str, Any]], tuple[int, int]], tuple[str, ...]]] = {
    "period": (_period_days, ("period_start", "period_end")),
    "month": (lambda r: month_span(r["month"]), ("month",)),
    "period_or_month": (_bill_days, ("month", "period_start", "period_end")),
    "date": (lambda r: (_day(r["date"]), _day(r["date"])), ("date",)),
    "ts": (_ts_day, ("ts",)),
}


def declared_kinds(packs: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, KindSpec]:
    """`KINDS` with each pack's business.json added: its `kinds` (new kinds) and its `fields` (more fields of a
    kind, e.g. a statement's milk sold). Two packs may declare the same field or kind alike, never differently."""
    kinds = dict(KINDS)
    raws: dict[str, Any] = {}  # kind -> its declaration, to tell alike from different
    declared = list(packs)
    for pack, doc in declared:
        for raw in doc.get("kinds", []):
            spec = _declared_kind(raw, f"scenario pack {pack}")
            if spec.kind in kinds and raws.get(spec.kind) != raw:
                raise InvalidInput(f"scenario pack {pack}: business data kind {spec.kind} is declared already")
            kinds.setdefault(spec.kind, spec)
            raws[spec.kind] = raw
    for pack, doc in declared:
        for kind, fields in doc.get("fields", {}).items():
            if kind not in kinds:
                raise InvalidInput(f"scenario pack {pack}: business.json adds fields to unknown kind {kind!r}")
            for raw in fields:
                kinds[kind] = _with_field(kinds[kind], _declared_field(raw, f"scenario pack {pack}: {kind}"), pack)
    return kinds


def _with_field(spec: KindSpec, field: FieldSpec, pack: str) -> KindSpec:
    same = next((f for f in spec.fields if f.name == field.name), None)
    if same is not None and same != field:
        raise InvalidInput(f"scenario pack {pack}: {spec.kind} field {field.name} is declared differently elsewhere")
    return spec if same else KindSpec(spec.kind, (*spec.fields, field), spec.key, spec.days, spec.per_enterprise)


def _declared_field(raw: Any, where: str) -> FieldSpec:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
        raise InvalidInput(f"{where}: a business data field needs a name, got {raw!r}")
    if raw.get("type") not in get_args(FieldType):
        raise InvalidInput(f"{where}: field {raw['name']} type must be one of {list(get_args(FieldType))}")
    minimum = raw.get("minimum")
    return FieldSpec(
        raw["name"],
        raw["type"],
        bool(raw.get("required", False)),
        None if minimum is None else float(minimum),
        tuple(str(c) for c in raw.get("choices", ())),
    )


def _declared_kind(raw: Any, where: str) -> KindSpec:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("kind"), str):
        raise InvalidInput(f"{where}: a business data kind needs a name (kind), got {raw!r}")
    fields = tuple(_declared_field(f, f"{where}: {raw['kind']}") for f in raw.get("fields", []))
    names = {f.name for f in fields}
    span, needs = DAY_SPANS.get(raw.get("days", ""), (None, ()))
    key_fields = tuple(raw.get("key", ()))
    if span is None or not set(needs) <= names:
        raise InvalidInput(f"{where}: {raw['kind']} days must be one of {sorted(DAY_SPANS)} with its fields")
    if not key_fields or not set(key_fields) <= names:
        raise InvalidInput(f"{where}: {raw['kind']} key must name some of its fields, got {list(key_fields)}")
    per_enterprise = bool(raw.get("per_enterprise", True))
    if per_enterprise and "uscc" not in names:
        raise InvalidInput(f"{where}: {raw['kind']} rows name their enterprise: it needs a uscc field")
    return KindSpec(
        raw["kind"],
        fields,
        key=lambda r: "|".join(str(r.get(f) or "") for f in key_fields),
        days=span,
        per_enterprise=per_enterprise,
    )


class _FieldError(Exception):
    def __init__(self, field: str | None, value: Any, message: str):
        super().__init__(message)
        self.field, self.value, self.message = field, value, message


def kind_spec(kind: str, kinds: Mapping[str, KindSpec]) -> KindSpec:
    """One kind of `kinds` (`KINDS`, or `declared_kinds` with the packs')."""
    if kind not in kinds:
        raise InvalidInput(f"business data kind {kind!r} is unknown; known: {sorted(kinds)}")
    return kinds[kind]


def trust_of_source(source: str) -> float:
    if source not in SOURCES:
        raise InvalidInput(f"source {source!r} is unknown; known: {sorted(SOURCES)}")
    return SOURCES[source]


def validate_rows(
    kind: str, rows: Sequence[Any], payload_of: Callable[[Any], str], kinds: Mapping[str, KindSpec]
) -> tuple[list[GoodRow], list[BadRow]]:
    """Each row checked on its own against its kind in `kinds`: good rows normalised, bad rows with the field,
    value and reason."""
    spec = kind_spec(kind, kinds)
    good, bad = [], []
    for index, row in enumerate(rows):
        try:
            good.append(_validate(spec, index, row))
        except _FieldError as exc:
            shown = None if exc.value is None else str(exc.value)[:200]
            bad.append(BadRow(index, exc.field, shown, f"row {index + 1}: {exc.message}", payload_of(row)))
    return good, bad


def _validate(spec: KindSpec, index: int, row: Any) -> GoodRow:
    if not isinstance(row, Mapping):
        raise _FieldError(None, row, f"a {spec.kind} row must be an object with fields, got {type(row).__name__}")
    known = {f.name for f in spec.fields}
    extra = sorted(k for k in row if k not in known)
    if extra:
        raise _FieldError(
            extra[0], row[extra[0]], f"field {extra[0]!r} is not a {spec.kind} field (known: {sorted(known)})"
        )
    data = {f.name: value for f in spec.fields if (value := _field(f, row.get(f.name))) is not None}
    try:
        first, last = spec.days(data)
    except ValueError as exc:
        raise _FieldError(None, None, f"dates do not make a period: {exc}") from None
    return GoodRow(index, data.get("uscc"), spec.key(data), first, last, data)


def _field(spec: FieldSpec, value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        if spec.required:
            raise _FieldError(spec.name, value, f"{spec.name} is required")
        return None
    parse = _PARSERS[spec.type]
    try:
        parsed = parse(spec, value)
    except (ValueError, InvalidOperation, TypeError) as exc:
        raise _FieldError(spec.name, value, f"{spec.name} {value!r} is not a valid {spec.type}: {exc}") from None
    if (
        spec.minimum is not None
        and spec.type in ("decimal", "integer")
        and Decimal(str(parsed)) < Decimal(str(spec.minimum))
    ):
        raise _FieldError(spec.name, value, f"{spec.name} {value!r} is below the minimum {spec.minimum:g}")
    return parsed


def _text(spec: FieldSpec, value: Any) -> str:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise TypeError(f"expected text, got {type(value).__name__}")
    text = str(value).strip()
    if len(text) > 190:
        raise ValueError(f"longer than 190 characters ({len(text)})")
    return text


def _decimal(spec: FieldSpec, value: Any) -> str:
    if isinstance(value, float) or isinstance(value, bool):
        raise TypeError('floats lose cents: send a decimal string like "1234.50"')
    number = Decimal(str(value).strip().replace(",", ""))
    if not number.is_finite():
        raise ValueError("not a finite number")
    return str(number)


def _integer(spec: FieldSpec, value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise TypeError("expected a whole number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("not finite")
    return int(str(value).strip()) if isinstance(value, str) else int(value)


def _date(spec: FieldSpec, value: Any) -> str:
    return dt.date.fromisoformat(str(value).strip()).isoformat()


def _month(spec: FieldSpec, value: Any) -> str:
    text = str(value).strip()
    year, mon = text.split("-")
    if len(year) != 4 or not 1 <= int(mon) <= 12:
        raise ValueError("expected YYYY-MM")
    return f"{int(year):04d}-{int(mon):02d}"


def _datetime(spec: FieldSpec, value: Any) -> str:
    moment = dt.datetime.fromisoformat(str(value).strip())
    if moment.tzinfo is None:
        raise ValueError("needs a UTC offset, e.g. 2026-09-01T08:00:00+08:00")
    return moment.isoformat()


def _bool(spec: FieldSpec, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ValueError("expected true or false")


def _choice(spec: FieldSpec, value: Any) -> str:
    text = str(value).strip()
    if text not in spec.choices:
        raise ValueError(f"expected one of {list(spec.choices)}")
    return text


_PARSERS: dict[str, Callable[[FieldSpec, Any], Any]] = {
    "text": _text,
    "decimal": _decimal,
    "integer": _integer,
    "date": _date,
    "month": _month,
    "datetime": _datetime,
    "bool": _bool,
    "choice": _choice,
}


def month_label(first_day: int) -> str:
    date = EPOCH + dt.timedelta(days=first_day)
    return f"{date.year:04d}-{date.month:02d}"
