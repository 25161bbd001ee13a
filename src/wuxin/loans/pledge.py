"""Movable-asset pledges (动产质押): item identity, valuation, coverage and margin calls; pure, Decimal money."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from wuxin.errors import InvalidInput

IDENTITY_KINDS = ("rfid", "serial", "lot")
CENT = Decimal("0.01")
DOUBLE_PLEDGE_MESSAGE = "item {identity} cannot be pledged: it is already under an active pledge on this platform"


def item_identity(kind: str, value: str) -> str:
    """The platform-wide identity of a pledged item: 'rfid:E200...' (upper-case, no spaces)."""
    if kind not in IDENTITY_KINDS:
        raise InvalidInput(f"identity kind {kind!r} is not one of {list(IDENTITY_KINDS)}")
    cleaned = re.sub(r"[\s-]+", "", value or "").upper() if kind == "rfid" else (value or "").strip().upper()
    if not cleaned or len(cleaned) > 120 or not re.fullmatch(r"[A-Z0-9._:/-]+", cleaned):
        raise InvalidInput(f"{kind} identity {value!r} must be 1-120 letters, digits or . _ : / -")
    return f"{kind}:{cleaned}"


@dataclass(frozen=True)
class Holding:
    """One pledged item or lot as valued today."""

    identity: str
    sku: str
    quantity: Decimal  # monitored quantity when a device measures it, else the registered one
    unit_price_cny: Decimal | None  # from the price index; None = unknown
    haircut: Decimal  # 0-1


def item_value_cny(h: Holding) -> Decimal | None:
    """quantity x price x (1 - haircut), to the cent; None when the price is unknown (never zero)."""
    if h.unit_price_cny is None:
        return None
    if not Decimal(0) <= h.haircut < Decimal(1):
        raise InvalidInput(f"haircut of {h.identity} must be in [0, 1), got {h.haircut}")
    return (h.quantity * h.unit_price_cny * (Decimal(1) - h.haircut)).quantize(CENT, ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Coverage:
    pledged_value_cny: Decimal
    outstanding_cny: Decimal
    ratio: Decimal | None  # None when nothing is outstanding
    unpriced: tuple[str, ...]  # items without a price: left out of the value, and said so
    status: str  # ok | margin_call | liquidation | no_exposure


def coverage(
    holdings: Iterable[Holding], outstanding_cny: Decimal, maintenance_ratio: Decimal, liquidation_ratio: Decimal
) -> Coverage:
    """Pledged value / outstanding against the maintenance line (margin call) and the liquidation line."""
    total, unpriced = Decimal(0), []
    for h in holdings:
        value = item_value_cny(h)
        if value is None:
            unpriced.append(h.identity)
        else:
            total += value
    if outstanding_cny <= 0:
        return Coverage(total, outstanding_cny, None, tuple(unpriced), "no_exposure")
    ratio = (total / outstanding_cny).quantize(Decimal("0.0001"), ROUND_HALF_EVEN)
    status = "liquidation" if ratio < liquidation_ratio else "margin_call" if ratio < maintenance_ratio else "ok"
    return Coverage(total, outstanding_cny, ratio, tuple(unpriced), status)


def top_up_cny(cov: Coverage, maintenance_ratio: Decimal) -> Decimal:
    """Value to add (after haircut) to get back to the maintenance line."""
    need = cov.outstanding_cny * maintenance_ratio - cov.pledged_value_cny
    return max(need, Decimal(0)).quantize(CENT, ROUND_HALF_EVEN)


def release_allowed(loan_state: str, released_value_cny: Decimal, substitute_value_cny: Decimal) -> str | None:
    """None when goods may leave the pledge (loan repaid, or substituted by at least equal value), else why not."""
    if loan_state in ("closed", "rejected"):
        return None
    if substitute_value_cny > 0 and substitute_value_cny >= released_value_cny:
        return None
    return (
        f"release refused: the loan is {loan_state}, not repaid, and the substitute is worth {substitute_value_cny} CNY "
        f"against {released_value_cny} CNY released"
    )
