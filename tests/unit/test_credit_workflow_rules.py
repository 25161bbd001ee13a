"""The workflow's pure rules: where a new decision stands against the product's four-eyes threshold, the
written reason, and the threshold read (and checked) from products.json."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from wuxin.errors import InvalidInput
from wuxin.risk.products import load_products
from wuxin.services.bootstrap import packs
from wuxin.services.bootstrap import products as pack_products
from wuxin.services.credit.workflow import initial_state, written_reason


@pytest.mark.parametrize(
    "outcome, limit, threshold, state",
    [
        ("approve", "1000000", "1000000", "approved"),  # at the threshold: one person suffices
        ("approve", "1000000.01", "1000000", "pending_approval"),  # above it: four eyes
        ("approve", "5", None, "pending_approval"),  # no threshold set: every limit waits
        ("refer", "5", "1000000", "referred"),
        ("refer", "9000000", "1000000", "referred"),  # a person decides first; the override then waits
        ("decline", None, "1000000", "declined"),
    ],
)
def test_where_a_new_decision_stands(outcome, limit, threshold, state):
    assert initial_state(outcome, limit and Decimal(limit), threshold and Decimal(threshold)) == state


def test_a_reason_is_written_and_bounded():
    assert written_reason("  证据充分，同意  ", "an approval") == "证据充分，同意"
    for bad in (None, "", "ok", "    "):
        with pytest.raises(InvalidInput, match="written reason of at least 5"):
            written_reason(bad, "an override")
    with pytest.raises(InvalidInput, match="2001 characters"):
        written_reason("x" * 2001, "an override")


def test_every_product_states_its_threshold_within_its_cap_and_a_bad_one_is_named():
    products = pack_products()
    assert {
        code: str(products[code].four_eyes_limit.amount)
        for code in ("digital_manufacturing", "livestock", "charging_station", "movable_pledge", "logistics_transport")
    } == {
        "digital_manufacturing": "1000000",
        "livestock": "5000000",
        "charging_station": "1500000",
        "movable_pledge": "10000000",
        "logistics_transport": "500000",
    }
    assert all(p.four_eyes_limit is not None for p in products.values())  # every pack's product states one
    assert all(p.four_eyes_limit.amount <= p.cap.amount for p in products.values())
    raw = {
        "products": [
            {"scenario": name, **entry}
            for name in ["manufacturing"]
            for entry in packs()[name].document("products.json")["products"]
        ]
    }
    raw["products"][0]["four_eyes_limit_cny"] = "3000000.01"
    with pytest.raises(InvalidInput, match="'digital_manufacturing': four_eyes_limit_cny must be within 0 and the cap"):
        load_products(json.dumps(raw))
    raw["products"][0]["four_eyes_limit_cny"] = 1000000.0
    with pytest.raises(InvalidInput, match="four_eyes_limit_cny must be a decimal string"):
        load_products(json.dumps(raw))
