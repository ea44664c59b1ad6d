"""Series of demos and meetings: RFC 5545 RRULEs (weekly; monthly by weekday for meetings) expanded in the
series' own zone, so 15:00 stays 15:00 local across DST changes (dateutil's rrule runs on the naive local wall
time; each occurrence then gets its zone, and is normalised through UTC if a DST change skipped its wall
time)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from dateutil.rrule import rrulestr

from bot.shared.when import RRULE_DAYS, zone_of

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ALLOWED = re.compile(r"^FREQ=WEEKLY;INTERVAL=(\d{1,2});BYDAY=(MO|TU|WE|TH|FR|SA|SU)(?:;UNTIL=(\d{8}T\d{6}Z))?$")
# The nth (1-4) or last (-1) weekday of every month, as bot.shared.when writes it for `monthly=True` callers.
_MONTHLY = re.compile(r"^FREQ=MONTHLY;BYDAY=(1|2|3|4|-1)(MO|TU|WE|TH|FR|SA|SU)(?:;UNTIL=(\d{8}T\d{6}Z))?$")
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}


def validate_rule(rule: str, *, monthly: bool = False) -> str:
    """Only the rules Cadence writes are accepted (a button value can be tampered with): weekly ones, and with
    `monthly` (meetings) the nth weekday of the month too. Demos pass no `monthly`: they repeat by weeks."""
    m = _ALLOWED.match(rule or "")
    if m and 1 <= int(m.group(1)) <= 12:
        return rule
    if monthly and _MONTHLY.match(rule or ""):
        return rule
    raise ValueError(f"unsupported recurrence rule: {rule!r}")


def is_monthly(rule: str | None) -> bool:
    return bool(_MONTHLY.match(rule or ""))


def _split_until(rule: str) -> tuple[str, datetime | None]:
    m = re.search(r";UNTIL=(\d{8}T\d{6})Z", rule)
    if not m:
        return rule, None
    until = datetime.strptime(m.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    return rule.replace(m.group(0), ""), until


def occurrences(
    rule: str,
    dtstart: datetime,
    zone_name: str,
    *,
    after: datetime | None = None,
    limit: int = 500,
    exclude: Iterable[datetime] = (),
) -> Iterator[datetime]:
    """Occurrences of `rule` from `dtstart` (aware), each aware in `zone_name`, strictly after `after`."""
    zone = zone_of(zone_name)
    bare, until = _split_until(validate_rule(rule, monthly=True))
    local_start = dtstart.astimezone(zone).replace(tzinfo=None)
    skip = {e.astimezone(UTC) for e in exclude}
    produced = 0
    for naive in rrulestr(bare, dtstart=local_start):
        # fold=0 for a repeated wall time; a skipped one is normalised to the real instant.
        occ = naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
        if until is not None and occ > until:
            return
        if after is not None and occ <= after:
            continue
        if occ.astimezone(UTC) in skip:
            continue
        yield occ
        produced += 1
        if produced >= limit:
            return


def next_occurrence(
    rule: str, dtstart: datetime, zone_name: str, after: datetime, exclude: Iterable[datetime] = ()
) -> datetime | None:
    return next(occurrences(rule, dtstart, zone_name, after=after, limit=1, exclude=exclude), None)


def describe(rule: str) -> str:
    """'every 2 weeks on Thursday', 'every month on the first Tuesday' for a rule Cadence wrote."""
    m = _ALLOWED.match(rule or "")
    monthly = _MONTHLY.match(rule or "")
    if m:
        interval, day = int(m.group(1)), DAY_NAMES[RRULE_DAYS.index(m.group(2))]
        text = f"every {day}" if interval == 1 else f"every {interval} weeks on {day}"
    elif monthly:
        m = monthly
        text = f"every month on the {ORDINALS[int(m.group(1))]} {DAY_NAMES[RRULE_DAYS.index(m.group(2))]}"
    else:
        return rule
    if m.group(3):
        until = datetime.strptime(m.group(3), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        text += f" until {until.day} {until:%b %Y}"
    return text


def with_weekday(rule: str, weekday: int) -> str:
    """The same rule on another weekday (a series moved to a new day); a monthly rule keeps its ordinal."""
    return re.sub(r"BYDAY=(-?\d)?[A-Z]{2}", lambda m: f"BYDAY={m.group(1) or ''}{RRULE_DAYS[weekday]}", rule)


def moved_to(start: datetime, zone: str, rule: str | None) -> tuple[str, str | None]:
    """A planned start and its rule moved to `start` (a working-hours suggestion): the ISO start in `zone`, and
    the rule on the new weekday, so a series keeps its rhythm."""
    local = start.astimezone(zone_of(zone))
    return local.isoformat(), with_weekday(rule, local.weekday()) if rule else None
