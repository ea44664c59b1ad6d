"""The one parser for every number a person types (a budget, a contingency, hours, a cost, a length), and
the currencies amounts may carry (ISO 4217, from pycountry's maintained list).

A number is refused with a clear message when it is not finite (NaN, Infinity), negative where that means
nothing, beyond what its column holds, or more precise than the column keeps: storing `NaN` in a
NUMERIC budget made every later assessment fail on PostgreSQL (issue 17)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import pycountry

# Symbols that name one currency. "$" and "¥" name several (USD, CAD, AUD…; JPY, CNY), so they are
# accepted as decoration but name no currency: the engagement's currency applies.
SYMBOLS = {"€": "EUR", "£": "GBP", "₹": "INR", "₩": "KRW", "₪": "ILS", "₺": "TRY", "₽": "RUB", "₱": "PHP"}
_DECORATION = "$€£¥₹₩₪₺₽₱"
_CODE_EDGE = re.compile(r"^(?P<pre>[A-Za-z]{3})(?![A-Za-z])\s*|\s*(?<![A-Za-z])(?P<post>[A-Za-z]{3})$")


class NumberError(ValueError):
    """A number that cannot be taken; str() is the message for the person."""


@lru_cache(maxsize=1)
def _iso_codes() -> frozenset[str]:
    return frozenset(c.alpha_3 for c in pycountry.currencies)


def currency_code(text: str) -> str:
    """`eur`, `EUR`, `€` → "EUR". NumberError unless it is an ISO 4217 code or a symbol of one currency."""
    raw = (text or "").strip()
    if raw in SYMBOLS:
        return SYMBOLS[raw]
    code = raw.upper()
    if re.fullmatch(r"[A-Z]{3}", code) and code in _iso_codes():
        return code
    raise NumberError(f"“{raw[:20]}” is not an ISO 4217 currency code (e.g. EUR, USD, INR, GBP).")


def parse_number(
    text: str | None,
    *,
    what: str,
    maximum: Decimal,
    minimum: Decimal = Decimal(0),
    places: int = 2,
    example: str = "12500",
) -> Decimal:
    """ "12,500", "12 500.50", "12500,5" (a decimal comma) → Decimal. NumberError with a message naming
    `what` for anything else: empty, not a number, not finite, below `minimum`, above `maximum` (what the
    column holds) or with more than `places` decimals."""
    raw = (text or "").strip()
    if not raw:
        raise NumberError(f"{what} is required.")
    t = re.sub(r"[\s_']", "", raw)
    if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", t, re.ASCII):
        t = t.replace(",", "")
    elif re.fullmatch(r"[+-]?\d+,\d{1,2}", t, re.ASCII):  # a decimal comma
        t = t.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", t, re.ASCII):
        # Decimal() would take "NaN", "Infinity", "1e400": a number is digits, nothing else.
        raise NumberError(f"{what} “{raw[:40]}” is not a number (e.g. {example}).")
    try:
        value = Decimal(t)
    except InvalidOperation:  # pragma: no cover - the pattern above admits only valid decimals
        raise NumberError(f"{what} “{raw[:40]}” is not a number (e.g. {example}).") from None
    if value < minimum:
        raise NumberError(f"{what} can't be negative." if minimum == 0 else f"{what} must be at least {minimum}.")
    if value > maximum:
        raise NumberError(f"{what} is too large (at most {maximum:,}).")
    step = Decimal(1).scaleb(-places)
    if value != value.quantize(step):
        raise NumberError(f"{what} has more than {places} decimal place{'s' if places != 1 else ''}.")
    return value.quantize(step)


def whole_number(text: str | None, *, what: str, minimum: int, maximum: int) -> int:
    """A whole number from `minimum` to `maximum` (a count of days, a percentage, minutes). Unlike
    str.isdigit(), refuses "²" and other digits int() cannot read; the message names the range."""
    try:
        return int(parse_number(text, what=what, minimum=Decimal(minimum), maximum=Decimal(maximum), places=0))
    except NumberError as exc:
        raise NumberError(f"{exc} {what} is a whole number from {minimum} to {maximum}.") from None


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str | None  # None: the text named no currency


def parse_money(text: str | None, *, what: str, maximum: Decimal) -> Money:
    """ "USD 6,000.50", "6000.50 eur", "€12 500", "$ 300" → Money. The currency, when the text names one,
    is kept and must be ISO 4217."""
    raw = (text or "").strip()
    currency: str | None = None
    m = _CODE_EDGE.search(raw)
    if m and re.search(r"\d", raw[: m.start()] + raw[m.end() :]):  # a code beside a number, not "NaN" or "six"
        currency = currency_code(m.group("pre") or m.group("post"))
        raw = raw[: m.start()] + raw[m.end() :]
    symbols = [ch for ch in raw if ch in _DECORATION]
    if symbols:
        named = {SYMBOLS[ch] for ch in symbols if ch in SYMBOLS}
        if len(named) > 1 or (currency and named and named != {currency}):
            raise NumberError(f"{what} “{text}” names two currencies.")
        currency = currency or (named.pop() if named else None)
        raw = "".join(ch for ch in raw if ch not in _DECORATION)
    return Money(parse_number(raw, what=what, maximum=maximum), currency)
