"""Loan products as data: each scenario pack's `products.json` read into frozen dataclasses and checked.

The fields (seeds 000 §4-5, 004): amounts in CNY as strings (exact decimals); shares and rates 0-1. basis: revenue =
a share of annual revenue, min(reported, IoT-evidenced); collateral = the lots in the pledge registry (quantity x
price index x (1 - lot haircut)) x pledge rate. lgd: loss given default for expected loss. max_pd: applications above
it are declined. unverified_haircut: cut applied when the evidence only supports (enterprise-shared devices) and does
not verify. unevidenced_revenue: what a revenue product does when no IoT evidence decided the revenue: refuse (no
limit) or haircut (the reported revenue, cut by its rate, labelled 'reported, not verified'). policy: grades ->
approve / refer (a person decides) / decline, and conditions that force refer or decline, each with its threshold;
the outcome is the strictest. four_eyes_limit_cny: a bank policy setting (not fitted to any data), a limit above it -
decided by the policy or by an override - needs a second person, a risk manager, before the loan application moves
on; every override needs one whatever its limit. `scenario` is the pack the product lies in.

Each product carries its decision policy (`Policy`): which grades approve, refer to a person or decline,
and the conditions that force a referral or a decline, each with its threshold. `wuxin.risk.policy`
evaluates them; this module only reads and checks them, so a bad file names the product and the field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from wuxin.errors import InvalidInput, NotFound
from wuxin.risk.money import Money

Basis = Literal["revenue", "collateral"]
Outcome = Literal["approve", "refer", "decline"]
OUTCOMES: tuple[Outcome, ...] = ("approve", "refer", "decline")  # mildest first: the strictest wins
GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C")  # best first (decisions.DEFAULT_GRADES)
# Every policy condition and the kind of its threshold: none (a fact), count (whole number) or rate (0-1).
CONDITIONS: dict[str, Literal["none", "count", "rate"]] = {
    "cross_verification_failed": "none",
    "cross_verification_undecided": "none",
    "evidence_days_below": "count",
    "iot_coverage_below": "rate",
    "missing_features_above": "count",
    "tamper_alarms_open": "count",
    "fabricated_data_alarms_open": "count",
    "clock_alarms_open": "count",
    "devices_offline_above": "rate",
    "enterprise_shared_evidence_only": "none",
}


@dataclass(frozen=True)
class Condition:
    """A condition that, when it holds, asks for `outcome` (refer or decline); `threshold` per its kind."""

    condition: str
    outcome: Outcome
    threshold: Decimal | None = None


@dataclass(frozen=True)
class Policy:
    """Grades to outcomes, and the conditions forcing a stricter one."""

    grade_outcomes: tuple[tuple[str, Outcome], ...]
    conditions: tuple[Condition, ...]

    def outcome_of_grade(self, grade: str) -> Outcome:
        return dict(self.grade_outcomes)[grade]


@dataclass(frozen=True)
class UnevidencedRevenue:
    """What a revenue product does when no IoT evidence decided the revenue: refuse, or cut the reported one."""

    action: Literal["refuse", "haircut"]
    haircut: Decimal = Decimal(0)


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
    revenue_share: Decimal | None = None  # of the annual revenue basis, for basis "revenue"
    pledge_rate: Decimal | None = None  # of pledged value, for basis "collateral"
    note: str = ""
    policy: Policy = field(default_factory=lambda: default_policy())
    unevidenced_revenue: UnevidencedRevenue = UnevidencedRevenue("refuse")
    four_eyes_limit: Money | None = None  # a limit above it needs a risk manager's approval (None: every limit does)


def default_policy() -> Policy:
    """Approve B and better, refer CCC, decline below; no conditions (a product file states its own)."""
    return Policy(
        tuple((g, "approve" if i < 6 else "refer" if g == "CCC" else "decline") for i, g in enumerate(GRADES)), ()
    )


def load_products(text: str) -> dict[str, Product]:
    """Products by code, from a JSON text {"currency": ..., "products": [...]} (each entry naming its scenario)."""
    data = json.loads(text)
    return catalogue({None: data["products"]}, data.get("currency", "CNY"))


def catalogue(entries_by_pack: Mapping[str | None, list[dict[str, Any]]], currency: str = "CNY") -> dict[str, Product]:
    """Products by code from each pack's entries (a pack's entries lie in it: `scenario` is the pack, or absent)."""
    products = []
    for pack, entries in entries_by_pack.items():
        for entry in entries:
            if pack is not None and entry.get("scenario", pack) != pack:
                raise InvalidInput(
                    f"product {entry.get('code')!r} lies in pack {pack} but names scenario {entry['scenario']!r}"
                )
            products.append(_product({"scenario": pack, **entry}, currency))
    codes = [p.code for p in products]
    if len(set(codes)) != len(codes):
        raise InvalidInput(f"a product code repeats: {sorted({c for c in codes if codes.count(c) > 1})}")
    return {p.code: p for p in products}


def get_product(code: str, products: Mapping[str, Product]) -> Product:
    if code not in products:
        raise NotFound(f"credit product {code!r} does not exist; known: {sorted(products)}")
    return products[code]


def _product(entry: dict[str, Any], currency: str) -> Product:
    code = str(entry.get("code", "?"))
    basis = entry.get("basis")
    if basis not in ("revenue", "collateral"):
        raise InvalidInput(f"product {code!r}: basis must be revenue or collateral, got {basis!r}")
    share_key = "revenue_share" if basis == "revenue" else "pledge_rate"
    product = Product(
        code=code,
        name_zh=str(entry["name_zh"]),
        name_en=str(entry["name_en"]),
        scenario=str(entry["scenario"]),
        basis=basis,
        cap=Money(_decimal(code, "cap", entry.get("cap")), currency),
        lgd=_rate(code, "lgd", entry.get("lgd")),
        max_pd=_rate(code, "max_pd", entry.get("max_pd")),
        unverified_haircut=_rate(code, "unverified_haircut", entry.get("unverified_haircut")),
        revenue_share=_rate(code, share_key, entry.get(share_key)) if basis == "revenue" else None,
        pledge_rate=_rate(code, share_key, entry.get(share_key)) if basis == "collateral" else None,
        note=str(entry.get("note", "")),
        policy=_policy(code, entry.get("policy")),
        unevidenced_revenue=_unevidenced(code, entry.get("unevidenced_revenue", {"action": "refuse"})),
        four_eyes_limit=Money(_decimal(code, "four_eyes_limit_cny", entry["four_eyes_limit_cny"]), currency)
        if entry.get("four_eyes_limit_cny") is not None
        else None,
    )
    if product.cap.amount <= 0:
        raise InvalidInput(f"product {code!r}: cap must be positive, got {product.cap}")
    if product.four_eyes_limit is not None and not 0 <= product.four_eyes_limit.amount <= product.cap.amount:
        raise InvalidInput(
            f"product {code!r}: four_eyes_limit_cny must be within 0 and the cap {product.cap}, "
            f"got {product.four_eyes_limit}"
        )
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


def _policy(code: str, raw: Any) -> Policy:
    if not isinstance(raw, dict) or not isinstance(raw.get("grades"), dict):
        raise InvalidInput(f"product {code!r}: policy must be an object with grades and conditions, got {raw!r}")
    grades: dict[str, Outcome] = {}
    for outcome, listed in raw["grades"].items():
        if outcome not in OUTCOMES or not isinstance(listed, list):
            raise InvalidInput(
                f"product {code!r}: policy grades maps one of {list(OUTCOMES)} to a list, got {outcome!r}"
            )
        for grade in listed:
            if grade not in GRADES or grade in grades:
                raise InvalidInput(
                    f"product {code!r}: policy grade {grade!r} is unknown or listed twice (grades: {list(GRADES)})"
                )
            grades[grade] = outcome
    if set(grades) != set(GRADES):
        raise InvalidInput(f"product {code!r}: policy grades leave out {sorted(set(GRADES) - set(grades))}")
    conditions = tuple(_condition(code, c) for c in raw.get("conditions", []))
    return Policy(tuple((g, grades[g]) for g in GRADES), conditions)


def _condition(code: str, raw: Any) -> Condition:
    name = raw.get("condition") if isinstance(raw, dict) else None
    if name not in CONDITIONS:
        raise InvalidInput(f"product {code!r}: policy condition {name!r} is unknown; known: {sorted(CONDITIONS)}")
    outcome = raw.get("outcome")
    if outcome not in ("refer", "decline"):
        raise InvalidInput(f"product {code!r}: condition {name} must refer or decline, got outcome {outcome!r}")
    kind = CONDITIONS[name]
    if kind == "none":
        if raw.get("threshold") is not None:
            raise InvalidInput(f"product {code!r}: condition {name} takes no threshold, got {raw['threshold']!r}")
        return Condition(name, outcome)
    threshold = (
        _rate(code, f"{name} threshold", raw.get("threshold"))
        if kind == "rate"
        else _decimal(code, f"{name} threshold", raw.get("threshold"))
    )
    if kind == "count" and (threshold < 0 or threshold != threshold.to_integral_value()):
        raise InvalidInput(f"product {code!r}: condition {name} needs a whole number >= 0, got {threshold}")
    return Condition(name, outcome, threshold)


def _unevidenced(code: str, raw: Any) -> UnevidencedRevenue:
    action = raw.get("action") if isinstance(raw, dict) else None
    if action == "refuse":
        return UnevidencedRevenue("refuse")
    if action == "haircut":
        return UnevidencedRevenue("haircut", _rate(code, "unevidenced_revenue haircut", raw.get("haircut")))
    raise InvalidInput(f"product {code!r}: unevidenced_revenue action must be refuse or haircut, got {action!r}")
