"""iCalendar invites for demos and meetings (RFC 5545 / 5546), made with the icalendar library.

- UID stable per demo (`demo.uid`); SEQUENCE is the demo's, bumped on every move or cancellation;
- DTSTART/DTEND with TZID and a VTIMEZONE for IANA zones (UTC times for fixed offsets);
- a series carries its RRULE, EXDATEs for cancelled occurrences and one overriding VEVENT
  (RECURRENCE-ID) per moved occurrence;
- METHOD:REQUEST for an invite or an update, METHOD:CANCEL for a cancellation (with RECURRENCE-ID
  when only one occurrence of a series is cancelled).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur

from bot.kernel.messages import Attachment
from bot.shared.when import zone_of

PRODID = "-//Cadence//Calendar invites//EN"


@dataclass
class Override:
    original_start: datetime
    start: datetime
    end: datetime


@dataclass
class IcsDemo:
    uid: str
    sequence: int
    title: str
    description: str
    start: datetime
    duration: timedelta
    zone: str
    rrule: str | None = None
    exdates: list[datetime] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)
    location: str | None = None


def _local(dt: datetime, zone: str) -> datetime:
    tz = zone_of(zone)
    if isinstance(tz, ZoneInfo) and tz.key != "UTC":
        return dt.astimezone(tz)
    return dt.astimezone(UTC)


def _event(
    demo: IcsDemo,
    now: datetime,
    *,
    start: datetime,
    end: datetime,
    recurrence_id: datetime | None,
    cancelled: bool = False,
    master: bool = False,
) -> Event:
    ev = Event()
    ev.add("uid", demo.uid)
    ev.add("dtstamp", now.astimezone(UTC))
    ev.add("sequence", demo.sequence)
    ev.add("summary", demo.title)
    if demo.description:
        ev.add("description", demo.description)
    if demo.location:
        ev.add("location", demo.location)
    ev.add("dtstart", _local(start, demo.zone))
    ev.add("dtend", _local(end, demo.zone))
    if recurrence_id is not None:
        ev.add("recurrence-id", _local(recurrence_id, demo.zone))
    if master and demo.rrule:
        ev.add("rrule", vRecur.from_ical(demo.rrule))
        if demo.exdates:
            ev.add("exdate", [_local(x, demo.zone) for x in demo.exdates])
    ev.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return ev


def _calendar(method: str, demo: IcsDemo) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    return cal


def _finish(cal: Calendar, demo: IcsDemo) -> bytes:
    first = demo.start.date() - timedelta(days=1)
    cal.add_missing_timezones(first_date=date(first.year, 1, 1), last_date=date(first.year + 6, 1, 1))
    return cal.to_ical()


def request(demo: IcsDemo, now: datetime) -> bytes:
    """The full invite (or its update): the demo, its series rule, exceptions and moved occurrences."""
    cal = _calendar("REQUEST", demo)
    cal.add_component(
        _event(demo, now, start=demo.start, end=demo.start + demo.duration, recurrence_id=None, master=True)
    )
    if demo.rrule:
        for o in demo.overrides:
            cal.add_component(_event(demo, now, start=o.start, end=o.end, recurrence_id=o.original_start))
    return _finish(cal, demo)


def cancel(demo: IcsDemo, now: datetime, occurrence: Override | None = None) -> bytes:
    """A cancellation: the whole demo/series, or (for a series) one occurrence."""
    cal = _calendar("CANCEL", demo)
    if occurrence is not None and demo.rrule:
        cal.add_component(
            _event(
                demo,
                now,
                start=occurrence.start,
                end=occurrence.end,
                recurrence_id=occurrence.original_start,
                cancelled=True,
            )
        )
    else:
        cal.add_component(
            _event(
                demo,
                now,
                start=demo.start,
                end=demo.start + demo.duration,
                recurrence_id=None,
                cancelled=True,
                master=True,
            )
        )
    return _finish(cal, demo)


def attachment(ics: bytes, *, filename: str, title: str) -> Attachment:
    return Attachment(
        filename=filename, content_b64=base64.b64encode(ics).decode("ascii"), mime="text/calendar", title=title
    )
