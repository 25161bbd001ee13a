"""Money: a Decimal amount with its currency (CNY unless said otherwise); never a float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from wuxin.errors import InvalidInput

CENT = Decimal("0.01")


@dataclass(frozen=True, order=True)
class Money:
    """An amount in one currency; arithmetic refuses to mix currencies."""

    amount: Decimal
    currency: str = "CNY"

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise InvalidInput(f"money amount must be a finite Decimal, got {self.amount!r}")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise InvalidInput(f"currency must be an ISO 4217 code like CNY, got {self.currency!r}")

    def times(self, rate: Decimal) -> Money:
        return Money(self.amount * rate, self.currency)

    def min(self, other: Money) -> Money:
        self._same_currency(other)
        return self if self.amount <= other.amount else other

    def cents_down(self) -> Money:
        """Rounded down to the cent (limits never round up)."""
        return Money(self.amount.quantize(CENT, rounding=ROUND_DOWN), self.currency)

    def cents(self) -> Money:
        """Rounded to the cent, half to even."""
        return Money(self.amount.quantize(CENT, rounding=ROUND_HALF_EVEN), self.currency)

    def __str__(self) -> str:
        return f"{self.currency} {self.amount:,.2f}"

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise InvalidInput(f"cannot combine {self.currency} with {other.currency}")


def cny(amount: str | int | Decimal) -> Money:
    """CNY from an exact value; floats are refused (use a string)."""
    if isinstance(amount, float):
        raise InvalidInput(f"money from a float loses cents: pass a string or Decimal, got {amount!r}")
    return Money(Decimal(amount), "CNY")
