"""How calendar events read, the same in demos and meetings: a time in a zone, a length, the zones of an
engagement's members, how long before it starts, the schedule line, the announcement. No database here."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.kernel.messages import Card, Field
from bot.kernel.text import when
from bot.shared.recurrence import describe
from bot.shared.when import zone_of
from storage.models.events import EventOccurrenceColumns, EventSeriesColumns


def offset_label(dt: datetime) -> str:
    """'UTC+05:45', 'UTC−05:00' (a typographic minus)."""
    minutes = int((dt.utcoffset() or timedelta(0)).total_seconds() // 60)
    h, m = divmod(abs(minutes), 60)
    return f"UTC{'+' if minutes >= 0 else '−'}{h:02d}:{m:02d}"


def fmt_in(instant: datetime, zone: str, *, year: bool = True, offset: bool = False) -> str:
    """'Thu 7 Jan 2027 15:00 America/New_York' (the wall time in `zone`)."""
    local = instant.astimezone(zone_of(zone))
    day = f"{local:%a} {local.day} {local:%b %Y}" if year else f"{local:%a} {local.day} {local:%b}"
    text = f"{day} {local:%H:%M} {zone}"
    return text + (f" ({offset_label(local)})" if offset else "")


def duration_label(minutes: int) -> str:
    h, m = divmod(minutes, 60)
    if h and m:
        return f"{h} h {m} min"
    return f"{h} h" if h else f"{m} min"


def zone_lines(start: datetime, zones: list[str], *, home: str) -> str:
    """`start` in each zone, one a line, the engagement's marked."""
    return "\n".join(fmt_in(start, z) + (" (engagement)" if z == home else "") for z in zones)


def lead_label(minutes: int) -> str:
    """How long before the start a reminder goes: 'tomorrow', 'in 3 days', 'in 1 hour', 'in 15 minutes'."""
    if minutes % 1440 == 0:
        return "tomorrow" if minutes == 1440 else f"in {minutes // 1440} days"
    if minutes % 60 == 0:
        return "in 1 hour" if minutes == 60 else f"in {minutes // 60} hours"
    return f"in {minutes} minutes"


def schedule_text(series: EventSeriesColumns, start: datetime) -> str:
    """'Thu 7 Jan 2027 15:00 America/New_York (UTC−05:00), every 2 weeks on Thursday'."""
    text = fmt_in(start, series.tz, offset=True)
    return text + (f", {describe(series.rrule)}" if series.rrule else "")


def rhythm(series: EventSeriesColumns, occ: EventOccurrenceColumns) -> str:
    """What a list line adds after the next time: the series' rhythm, and whether that occurrence was moved."""
    text = f", {describe(series.rrule)}" if series.rrule else ""
    return text + (" (moved)" if occ.starts_at != occ.original_start else "")


def announcement(
    series: EventSeriesColumns,
    occ: EventOccurrenceColumns,
    *,
    head: list[Field],
    repeats: str | None,
    zones: list[str],
    home: str,
    title: str,
    text: str,
    tone: str,
    footer: str,
) -> Card:
    """An event's announcement (scheduled, moved): `head`, the fields that name it; then when it is in each
    reader's own time, how long, `repeats` (a series' rhythm), and the time in every member's zone (`home`, the
    engagement's, marked)."""
    fields = [
        *head,
        Field("When (your time)", when(occ.starts_at), short=False),
        Field("Duration", duration_label(series.duration_minutes)),
    ]
    if repeats:
        fields.append(Field("Repeats", repeats, short=False))
    fields.append(Field("Time zones", zone_lines(occ.starts_at, zones, home=home), short=False))
    return Card(title=title, text=text, fields=fields, tone=tone, footer=footer)
