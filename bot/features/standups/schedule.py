"""Pure scheduling arithmetic for standups: when each person is prompted, when the digest is posted.

No database, no clock: every function takes the instant it reasons from. Local wall times are
turned into instants with zoneinfo for each date separately, so a prompt stays at 09:30 local on
both sides of a DST switch.

- A wall time that does not exist on that date (the spring-forward gap) is moved forward by the
  length of the gap (02:30 on a 02:00→03:00 switch becomes 03:30).
- A wall time that happens twice (fall back) means its first occurrence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

UTC = UTC
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_hhmm(text: str) -> time:
    """ "9:30", "09:30", "0930", "9.30" → time(9, 30). Raises ValueError with a readable message."""
    raw = text.strip().lower().replace(".", ":").replace("h", ":")
    suffix = None
    for s in ("am", "pm"):
        if raw.endswith(s):
            suffix, raw = s, raw[: -len(s)].strip()
    if ":" in raw:
        hh, _, mm = raw.partition(":")
    elif raw.isdigit() and len(raw) in (3, 4):
        hh, mm = raw[:-2], raw[-2:]
    elif raw.isdigit() and len(raw) <= 2:
        hh, mm = raw, "0"
    else:
        raise ValueError(f"“{text}” is not a time of day; write it like 09:30.")
    if not (hh.strip().isdigit() and (mm.strip() or "0").isdigit()):
        raise ValueError(f"“{text}” is not a time of day; write it like 09:30.")
    h, m = int(hh), int(mm or 0)
    if suffix:
        if not 1 <= h <= 12:
            raise ValueError(f"“{text}” is not a time of day; write it like 09:30.")
        h = h % 12 + (12 if suffix == "pm" else 0)
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ValueError(f"“{text}” is not a time of day; write it like 09:30.")
    return time(h, m)


def format_hhmm(t: time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


def parse_days(text: str) -> list[int]:
    """ "mon-fri", "mon,wed,fri", "sun-thu", "weekdays", "every day" → sorted weekday numbers (Mon=0)."""
    raw = text.strip().lower().replace(" ", "")
    if raw in ("weekdays", "workdays", "mon-fri"):
        return [0, 1, 2, 3, 4]
    if raw in ("everyday", "daily", "all", "mon-sun"):
        return list(range(7))
    out: set[int] = set()
    for part in filter(None, raw.split(",")):
        a, dash, b = part.partition("-")
        try:
            start = WEEKDAYS.index(a[:3])
            end = WEEKDAYS.index(b[:3]) if dash else start
        except ValueError:
            raise ValueError(f"“{text}” is not a list of days; write it like mon-fri or mon,wed,fri.") from None
        d = start
        while True:
            out.add(d)
            if d == end:
                break
            d = (d + 1) % 7
    if not out:
        raise ValueError("Name at least one day, e.g. mon-fri.")
    return sorted(out)


def format_days(days: Iterable[int]) -> str:
    days = sorted(set(days))
    if days == [0, 1, 2, 3, 4]:
        return "Mon–Fri"
    if days == list(range(7)):
        return "every day"
    return ", ".join(WEEKDAYS[d].capitalize() for d in days)


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant at which the wall clock in `zone` shows `at` on `day` (see module notes)."""
    local = datetime.combine(day, at, tzinfo=zone)  # fold=0: first occurrence; in a gap, the old offset
    return local.astimezone(UTC)


def is_wall_time(instant: datetime, day: date, at: time, zone: ZoneInfo) -> bool:
    """True when `instant` shows `at` on `day` in `zone` — or `at` falls in that day's DST gap and
    `instant` is the moment right after it (what local_instant() chooses)."""
    local = instant.astimezone(zone)
    if local.date() == day and local.time().replace(tzinfo=None) == at:
        return True
    naive = datetime.combine(day, at)
    gap = naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive
    return gap and local.date() == day and local.replace(tzinfo=None) > naive


@dataclass(frozen=True)
class PromptRule:
    """When one person is prompted: a wall time in their zone on allowed days, minus skipped dates.

    `days`: weekdays (Mon=0) allowed by both the engagement and the person's own work days.
    `skip(day) -> reason | None`: holidays and out-of-office, in the person's own calendar.
    """

    zone: ZoneInfo
    at: time
    days: frozenset[int]
    skip: Callable[[date], str | None] = field(default=lambda _d: None, compare=False)

    def is_prompt_day(self, day: date) -> bool:
        return day.weekday() in self.days and self.skip(day) is None

    def instant(self, day: date) -> datetime:
        return local_instant(day, self.at, self.zone)

    def slots(self, start: date, end: date) -> Iterator[tuple[date, datetime]]:
        """Every (local date, UTC instant) prompt from `start` to `end` inclusive."""
        day = start
        while day <= end:
            if self.is_prompt_day(day):
                yield day, self.instant(day)
            day += timedelta(days=1)

    def next_slots(
        self, after: datetime, *, include_from: date | None = None, horizon_days: int = 400
    ) -> Iterator[tuple[date, datetime]]:
        """Prompt slots in date order, starting with the person's local date of `after`
        (or `include_from`, to let a caller keep an overdue one). Stops after `horizon_days`."""
        start = include_from or after.astimezone(self.zone).date()
        yield from self.slots(start, start + timedelta(days=horizon_days))

    def next_slot(self, after: datetime) -> tuple[date, datetime] | None:
        """The first prompt strictly after `after`."""
        for day, instant in self.next_slots(after):
            if instant > after:
                return day, instant
        return None


def digest_instant(
    day: date, *, latest_prompt: datetime | None, at: time, zone: ZoneInfo, days: Iterable[int], grace: timedelta
) -> datetime:
    """When the digest of standup `day` is posted: the first `at` wall time in `zone`, on a date
    from `day` on that is one of `days`, no earlier than the last participant's prompt of that day
    plus `grace` (the reminder delay) — "the following client morning"."""
    allowed = set(days) or set(range(7))
    floor = (latest_prompt + grace) if latest_prompt is not None else None
    d = day
    for _ in range(15):
        if d.weekday() in allowed:
            instant = local_instant(d, at, zone)
            if floor is None or instant >= floor:
                return instant
        d += timedelta(days=1)
    return local_instant(d, at, zone)
