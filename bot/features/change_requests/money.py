"""Money and the contingency fund, in exact decimals (never floats)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from bot.shared.numbers import parse_money

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")  # Numeric(14, 2)
MAX_HOURS = Decimal("99999999.99")  # Numeric(10, 2)


def parse_amount(text: str | None, *, what: str = "The amount", maximum: Decimal = MAX_AMOUNT) -> Decimal:
    """ "12,500", "$12 500.50", "12500 EUR" → Decimal("12500.00"); ValueError (NumberError) with a clear message.
    Use `parse_money` where the currency matters."""
    return parse_money(text, what=what, maximum=maximum).amount


def parse_days(text: str | None, *, what: str = "Schedule impact") -> int:
    raw = (text or "").strip().lower().removesuffix("days").removesuffix("day").strip()
    if not raw:
        raise ValueError(f"{what} is required (0 if none).")
    if not re.fullmatch(r"\d{1,4}", raw):
        raise ValueError(f"{what} must be a whole number of days, 0 or more.")
    return int(raw)


def fmt(amount: Decimal | None, currency: str = "") -> str:
    if amount is None:
        return "—"
    text = f"{amount.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"
    return f"{currency} {text}".strip() if currency else text


def fmt_hours(hours: Decimal | None) -> str:
    if hours is None:
        return "—"
    return f"{hours.normalize():f} h"


@dataclass(frozen=True)
class Contingency:
    """The engagement's contingency fund and what approved requests have drawn from it."""

    fund: Decimal | None  # None: no budget set
    committed: Decimal

    @classmethod
    def of(cls, budget: Decimal | None, pct: float | Decimal | None, committed: Decimal) -> Contingency:
        if budget is None:
            return cls(fund=None, committed=committed)
        pct_d = Decimal(str(pct if pct is not None else 15))
        fund = (Decimal(budget) * pct_d / Decimal(100)).quantize(CENT, rounding=ROUND_HALF_UP)
        return cls(fund=fund, committed=committed)

    @property
    def remaining(self) -> Decimal | None:
        return None if self.fund is None else self.fund - self.committed

    def ratio(self, committed: Decimal | None = None) -> Decimal | None:
        c = self.committed if committed is None else committed
        if self.fund is None or self.fund == 0:
            return None
        return c / self.fund

    def would_exceed(self, cost: Decimal | None) -> Decimal | None:
        """By how much approving `cost` would overdraw the fund, or None."""
        if self.fund is None or cost is None:
            return None
        over = self.committed + cost - self.fund
        return over if over > 0 else None

    def crosses(self, cost: Decimal, threshold_pct: float | int) -> bool:
        """Whether drawing `cost` moves the committed share from below to at/above the threshold."""
        if self.fund is None or self.fund == 0:
            return False
        limit = self.fund * Decimal(str(threshold_pct)) / Decimal(100)
        return self.committed < limit <= self.committed + cost
