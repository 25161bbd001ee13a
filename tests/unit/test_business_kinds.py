"""Business-data kinds: the core holds the kinds every firm has; each pack adds its industry's fields and kinds
(business.json), passed in as data. A pack that contradicts the core or another pack is refused by name."""

from __future__ import annotations

import pytest

from wuxin.errors import InvalidInput
from wuxin.risk.business import KINDS, declared_kinds, validate_rows
from wuxin.services.bootstrap import business_kinds

STATEMENT = {
    "uscc": "X",
    "period": "2026-Q1",
    "period_start": "2026-01-01",
    "period_end": "2026-03-31",
    "revenue_cny": 9,
}
MILK = {"name": "milk_sales_kg", "type": "decimal", "minimum": 0}
BILL = {
    "kind": "bills",
    "key": ["month", "meter_id"],
    "days": "month",
    "fields": [
        {"name": "uscc", "type": "text", "required": True},
        {"name": "month", "type": "month", "required": True},
        {"name": "meter_id", "type": "text"},
    ],
}


def test_the_core_names_no_industry_field_and_the_packs_add_theirs():
    row = {**STATEMENT, "milk_sales_kg": "1200.5"}
    good, bad = validate_rows("statements", [row], str, KINDS)
    assert good == [] and bad[0].field == "milk_sales_kg" and "not a statements field" in bad[0].message
    good, bad = validate_rows("statements", [row, {**row, "milk_sales_kg": "-3"}], str, business_kinds())
    assert good[0].data["milk_sales_kg"] == "1200.5" and bad[0].field == "milk_sales_kg"
    assert "feed_in_bills" not in KINDS and "feed_in_bills" in business_kinds()


def test_a_declared_kind_is_keyed_and_dated_as_declared():
    kinds = declared_kinds([("a", {"kinds": [BILL]})])
    good, bad = validate_rows("bills", [{"uscc": "X", "month": "2026-02"}, {"uscc": "X"}], str, kinds)
    assert good[0].key == "2026-02|" and good[0].last_day - good[0].first_day == 27
    assert bad[0].field == "month" and "required" in bad[0].message


def test_two_packs_may_declare_alike_but_not_differently():
    assert declared_kinds([("a", {"kinds": [BILL]}), ("b", {"kinds": [BILL]})])["bills"].fields
    other = {**BILL, "days": "date"}
    with pytest.raises(InvalidInput, match="scenario pack b: bills days must be one of"):
        declared_kinds([("a", {"kinds": [BILL]}), ("b", {"kinds": [other]})])
    with pytest.raises(InvalidInput, match="scenario pack b: business data kind bills is declared already"):
        declared_kinds([("a", {"kinds": [BILL]}), ("b", {"kinds": [{**BILL, "key": ["uscc"]}]})])
    milk = {"fields": {"statements": [MILK]}}
    assert len(declared_kinds([("a", milk), ("b", milk)])["statements"].fields) == len(KINDS["statements"].fields) + 1
    with pytest.raises(InvalidInput, match="scenario pack b: statements field milk_sales_kg is declared differently"):
        declared_kinds([("a", milk), ("b", {"fields": {"statements": [{**MILK, "type": "integer"}]}})])


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"kinds": [{**BILL, "kind": "statements"}]}, "business data kind statements is declared already"),
        ({"kinds": [{**BILL, "key": ["meter"]}]}, r"bills key must name some of its fields, got \['meter'\]"),
        ({"fields": {"receipts": [MILK]}}, "adds fields to unknown kind 'receipts'"),
        ({"fields": {"statements": [{**MILK, "type": "float"}]}}, "field milk_sales_kg type must be one of"),
        ({"kinds": [{**BILL, "fields": BILL["fields"][1:]}]}, "bills rows name their enterprise: it needs a uscc"),
    ],
)
def test_a_bad_declaration_is_refused_naming_the_pack(doc, message):
    with pytest.raises(InvalidInput, match=f"scenario pack p: .*{message}"):
        declared_kinds([("p", doc)])
