"""Plain-language calendar dates ("dec 24", "tomorrow", "2027-01-10") in a person's own zone."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import dateparser

from bot.errors import UserError

RANGE_SPLIT = re.compile(r"\s+(?:to|until|till|through|-|–)\s+", re.IGNORECASE)


def parse_date(text: str, *, now: datetime, tz: ZoneInfo, prefer: str = "future") -> date:
    """One calendar date, read in the person's zone relative to `now`; UserError if it does not parse."""
    raw = " ".join(text.split())
    if not raw:
        raise UserError("Give a date, e.g. `dec 24` or `2027-01-10`.")
    base = now.astimezone(tz).replace(tzinfo=None)
    parsed = dateparser.parse(
        raw,
        settings={
            "RELATIVE_BASE": base,
            "PREFER_DATES_FROM": prefer,
            "PREFER_DAY_OF_MONTH": "first",
            "RETURN_AS_TIMEZONE_AWARE": False,
            "DATE_ORDER": "YMD" if re.match(r"^\d{4}", raw) else "DMY",
        },
        languages=["en"],
    )
    if parsed is None:
        raise UserError(f"I couldn't read “{raw}” as a date. Try `dec 24` or `2027-01-10`.")
    return parsed.date()


def parse_range(text: str, *, now: datetime, tz: ZoneInfo) -> tuple[date, date]:
    """ "dec 24 to jan 2" → (2026-12-24, 2027-01-02); a single date is a one-day range."""
    parts = RANGE_SPLIT.split(text.strip(), maxsplit=1)
    start = parse_date(parts[0], now=now, tz=tz)
    end = parse_date(parts[1], now=now, tz=tz) if len(parts) > 1 else start
    if end < start:
        try:
            end = end.replace(year=end.year + 1)
        except ValueError:
            end = end.replace(year=end.year + 1, day=28)
    if (end - start).days > 366:
        raise UserError("That range is longer than a year; please give a shorter one.")
    return start, end
