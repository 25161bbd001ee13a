"""Loan products as data: `products.json` read into frozen dataclasses and checked."""
from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any, Literal

from wuxin.errors import InvalidInput, NotFound
from wuxin.risk.money import Money

Basis = Literal["revenue", "collateral"]


@dataclass(frozen=True)
class Product:
    """A credit product: how its limit is based, capped and haircut, and its LGD and PD ceiling."""

    code: str
    name_zh: str
    name_en: str
    scenario: str
    basis: Basis
    cap: Money
    lgd: Decimal
    max_pd: Decimal
    unverified_haircut: Decimal
    revenue_share: Decimal | None = None  # of verified annual revenue, for basis "revenue"
    pledge_rate: Decimal | None = None  # of pledged value, for basis "collateral"
    note: str = ""


def load_products(text: str | None = None) -> dict[str, Product]:
    """Products by code, from `text` (JSON) or the packaged products.json."""
    raw = text if text is not None else resources.files("wuxin.risk").joinpath("products.json").read_text("utf-8")
    data = json.loads(raw)
    currency = data.get("currency", "CNY")
    products = [_product(entry, currency) for entry in data["products"]]
    codes = [p.code for p in products]
    if len(set(codes)) != len(codes):
        raise InvalidInput(f"products file repeats a code: {sorted(c for c in codes if codes.count(c) > 1)}")
    return {p.code: p for p in products}


def get_product(code: str, products: dict[str, Product] | None = None) -> Product:
    catalogue = products if products is not None else load_products()
    if code not in catalogue:
        raise NotFound(f"credit product {code!r} does not exist; known: {sorted(catalogue)}")
    return catalogue[code]


def _product(entry: dict[str, Any], currency: str) -> Product:
    code = str(entry.get("code", "?"))
    basis = entry.get("basis")
    if basis not in ("revenue", "collateral"):
        raise InvalidInput(f"product {code!r}: basis must be revenue or collateral, got {basis!r}")
    share_key = "revenue_share" if basis == "revenue" else "pledge_rate"
    product = Product(
        code=code, name_zh=str(entry["name_zh"]), name_en=str(entry["name_en"]), scenario=str(entry["scenario"]),
        basis=basis, cap=Money(_decimal(code, "cap", entry.get("cap")), currency),
        lgd=_rate(code, "lgd", entry.get("lgd")), max_pd=_rate(code, "max_pd", entry.get("max_pd")),
        unverified_haircut=_rate(code, "unverified_haircut", entry.get("unverified_haircut")),
        revenue_share=_rate(code, share_key, entry.get(share_key)) if basis == "revenue" else None,
        pledge_rate=_rate(code, share_key, entry.get(share_key)) if basis == "collateral" else None,
        note=str(entry.get("note", "")),
    )
    if product.cap.amount <= 0:
        raise InvalidInput(f"product {code!r}: cap must be positive, got {product.cap}")
    return product


def _decimal(code: str, key: str, value: Any) -> Decimal:
    if isinstance(value, float) or value is None:
        raise InvalidInput(f"product {code!r}: {key} must be a decimal string, got {value!r}")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise InvalidInput(f"product {code!r}: {key} is not a number: {value!r}") from exc


def _rate(code: str, key: str, value: Any) -> Decimal:
    rate = _decimal(code, key, value)
    if not Decimal(0) <= rate <= Decimal(1):
        raise InvalidInput(f"product {code!r}: {key} must be within 0-1, got {rate}")
    return rate
