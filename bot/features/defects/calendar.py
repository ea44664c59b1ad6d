"""Business-time arithmetic for SLA clocks, pure and exact.

Two calendars share one small interface:

- `AroundTheClock` (24×7): business time is elapsed real time.
- `BusinessHours`: a daily window (default 09:00–18:00 wall time) on chosen weekdays in one zone,
  skipping that country's public holidays (the `holidays` package).

`add(start, duration)` answers "when will `duration` of business time have elapsed, counting from
`start`?" and `elapsed(start, end)` answers "how much business time lies between two instants?".
Windows are computed per local date in the calendar's zone and converted to UTC instants, so a DST
switch, a weekend, a holiday or a night between two windows is handled by construction; all
arithmetic is on aware UTC instants (exact to the microsecond).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

UTC = UTC
ZERO = timedelta(0)
# A calendar without a single business day in this many days is refused (e.g. no work days at all).
_MAX_DAYS = 3 * 366


class Calendar(Protocol):
    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant when `duration` of business time has elapsed, counting from `start`."""

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Business time between two instants (zero if end <= start)."""

    def day_length(self) -> timedelta:
        """How long one business "day" is (24 h around the clock; the window length otherwise)."""

    def describe(self) -> str:
        """A short human description, e.g. "24×7" or "09:00–18:00 Mon–Fri Europe/Berlin, DE holidays"."""


def _aware(dt: datetime, what: str = "instant") -> datetime:
    if dt.tzinfo is None:
        raise ValueError(f"{what} must be zone-aware")
    return dt.astimezone(UTC)


@dataclass(frozen=True)
class AroundTheClock:
    """24×7: every minute counts."""

    def add(self, start: datetime, duration: timedelta) -> datetime:
        if duration < ZERO:
            raise ValueError("duration must not be negative")
        return _aware(start) + duration

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        return max(ZERO, _aware(end) - _aware(start))

    def day_length(self) -> timedelta:
        return timedelta(hours=24)

    def describe(self) -> str:
        return "24×7"


@lru_cache(maxsize=256)
def _holiday_dates(country: str, year: int) -> frozenset[date]:
    import holidays

    code, _, subdiv = country.upper().partition("-")
    try:
        calendar = holidays.country_holidays(code, subdiv=subdiv or None, years=year)
    except NotImplementedError as exc:  # unknown country or subdivision
        raise ValueError(f"No public-holiday calendar for {country!r}.") from exc
    return frozenset(calendar.keys())


def holiday_name(country: str, day: date) -> str | None:
    """The public holiday's name on `day` in `country` ("DE", "US-CA"), or None."""
    import holidays

    code, _, subdiv = country.upper().partition("-")
    return holidays.country_holidays(code, subdiv=subdiv or None, years=day.year).get(day)


def check_country(country: str) -> str:
    """Validate a country code ("DE", "IN", "US-CA"); returns it upper-cased or raises ValueError."""
    country = country.strip().upper()
    _holiday_dates(country, 2030)
    return country


_DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


@dataclass(frozen=True)
class BusinessHours:
    """A daily window [start, end) of wall-clock time in `tz` on `weekdays` (0 = Monday), not on the
    public holidays of `country`. `end <= start` means the window runs overnight into the next day
    (it belongs to the date it starts on)."""

    tz: str = "UTC"
    start: time = time(9, 0)
    end: time = time(18, 0)
    weekdays: frozenset[int] = field(default_factory=lambda: frozenset({0, 1, 2, 3, 4}))
    country: str | None = None

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.tz)
        except (KeyError, ValueError) as exc:  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"Unknown time zone {self.tz!r}.") from exc
        if not self.weekdays or not set(self.weekdays) <= set(range(7)):
            raise ValueError("business hours need at least one weekday (0=Mon … 6=Sun)")
        if self.start == self.end:
            raise ValueError("business hours need a window longer than zero")
        if self.country:
            _holiday_dates(self.country.upper(), 2030)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def is_business_day(self, day: date) -> bool:
        if day.weekday() not in self.weekdays:
            return False
        return not (self.country and day in _holiday_dates(self.country.upper(), day.year))

    def window(self, day: date) -> tuple[datetime, datetime]:
        """The window of local date `day` as UTC instants (whether or not it is a business day)."""
        zone = self.zone
        opens = datetime.combine(day, self.start, tzinfo=zone)
        end_day = day if self.end > self.start else day + timedelta(days=1)
        closes = datetime.combine(end_day, self.end, tzinfo=zone)
        return opens.astimezone(UTC), closes.astimezone(UTC)

    def windows_from(self, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Business windows, in order, that end after `instant` (the first may have begun before it)."""
        instant = _aware(instant)
        day = instant.astimezone(self.zone).date() - timedelta(days=1)  # an overnight window may still run
        idle = 0
        while True:
            if self.is_business_day(day):
                idle = 0
                opens, closes = self.window(day)
                if closes > instant:
                    yield opens, closes
            else:
                idle += 1
                if idle > _MAX_DAYS:
                    raise ValueError("this calendar has no business days")
            day += timedelta(days=1)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        if duration < ZERO:
            raise ValueError("duration must not be negative")
        start = _aware(start)
        if duration == ZERO:
            return start
        remaining = duration
        for opens, closes in self.windows_from(start):
            begin = max(opens, start)
            available = closes - begin
            if available >= remaining:
                return begin + remaining
            remaining -= available
        raise AssertionError("unreachable")  # pragma: no cover

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        start, end = _aware(start), _aware(end)
        if end <= start:
            return ZERO
        total = ZERO
        for opens, closes in self.windows_from(start):
            if opens >= end:
                break
            total += min(closes, end) - max(opens, start)
        return total

    def day_length(self) -> timedelta:
        opens = datetime.combine(date(2001, 1, 1), self.start)
        closes = datetime.combine(date(2001, 1, 1), self.end)
        if closes <= opens:
            closes += timedelta(days=1)
        return closes - opens

    def describe(self) -> str:
        days = sorted(self.weekdays)
        if days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
            day_text = f"{_DAY_NAMES[days[0]]}–{_DAY_NAMES[days[-1]]}"
        else:
            day_text = ", ".join(_DAY_NAMES[d] for d in days)
        text = f"{self.start:%H:%M}–{self.end:%H:%M} {day_text} {self.tz}"
        if self.country:
            text += f", {self.country.upper()} public holidays off"
        return text


def next_business_instant(calendar: Calendar, instant: datetime) -> datetime:
    """The first instant at or after `instant` when the calendar's clock runs."""
    if isinstance(calendar, BusinessHours):
        for opens, _closes in calendar.windows_from(instant):
            return max(opens, _aware(instant))
    return _aware(instant)
