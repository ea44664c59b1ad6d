"""Business days in the client's calendar, pure: the acceptance window, rectification due dates, the
day a due-date reminder goes out, and the warranty's end.

The client's calendar is the engagement's home zone (the client's) with weekends off and the client
country's public holidays off (the `holidays` package). A window of N business days that starts with a
submission ends at the end of the Nth business day after the submission's local date (local midnight
that follows it), so a submission on Friday evening does not lose the Friday to the night."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from dateutil.relativedelta import relativedelta

WEEKDAYS = frozenset({0, 1, 2, 3, 4})
# A calendar that never reaches a business day in this many days is a bug, not a long wait.
_MAX_DAYS = 3 * 366


@lru_cache(maxsize=256)
def _holidays(country: str, year: int) -> dict[date, str]:
    code, _, subdiv = country.upper().partition("-")
    try:
        return dict(holidays.country_holidays(code, subdiv=subdiv or None, years=year))
    except (NotImplementedError, KeyError):  # no calendar for that country: no holidays, never a crash
        return {}


@dataclass(frozen=True)
class ClientCalendar:
    tz: str = "UTC"
    country: str | None = None
    weekdays: frozenset[int] = field(default=WEEKDAYS)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def holiday(self, day: date) -> str | None:
        return _holidays(self.country, day.year).get(day) if self.country else None

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and self.holiday(day) is None

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def add_days(self, day: date, n: int) -> date:
        """The Nth business day after `day` (`day` itself never counts); n = 0 is `day`."""
        counted = 0
        for _ in range(_MAX_DAYS):
            if counted >= n:
                return day
            day += timedelta(days=1)
            if self.is_business_day(day):
                counted += 1
        raise ValueError("this calendar has no business days")

    def subtract_days(self, day: date, n: int) -> date:
        """The Nth business day before `day`."""
        counted = 0
        for _ in range(_MAX_DAYS):
            if counted >= n:
                return day
            day -= timedelta(days=1)
            if self.is_business_day(day):
                counted += 1
        raise ValueError("this calendar has no business days")

    def skipped(self, start: date, end: date) -> list[tuple[date, str]]:
        """The public holidays on weekdays after `start` up to `end`: what the window skipped, to say so."""
        out = []
        day = start + timedelta(days=1)
        while day <= end:
            name = self.holiday(day)
            if name and day.weekday() in self.weekdays:
                out.append((day, name))
            day += timedelta(days=1)
        return out

    def at(self, day: date, clock: time) -> datetime:
        """Wall time `clock` on `day` in the calendar's zone, as an aware instant."""
        return datetime.combine(day, clock, tzinfo=self.zone)


@dataclass(frozen=True)
class Window:
    """An acceptance window: its last business day and the instant it closes (the local midnight after)."""

    last_day: date
    ends_at: datetime
    skipped: list[tuple[date, str]]


def acceptance_window(calendar: ClientCalendar, submitted_at: datetime, days: int) -> Window:
    """The window of `days` business days that a submission at `submitted_at` opens."""
    if days < 1:
        raise ValueError("an acceptance window is at least one business day")
    start = calendar.local_date(submitted_at)
    last = calendar.add_days(start, days)
    # Local midnight after the last day; a zone whose midnight is skipped by DST lands an hour later.
    ends = datetime.combine(last + timedelta(days=1), time(0, 0), tzinfo=calendar.zone)
    return Window(last_day=last, ends_at=ends, skipped=calendar.skipped(start, last))


def warranty_end(accepted_on: date, months: int) -> date:
    """The warranty's last day: the acceptance date plus `months`, at month ends clamped (Jan 31 + 1 month
    = Feb 28, or 29 in a leap year)."""
    return accepted_on + relativedelta(months=months)
