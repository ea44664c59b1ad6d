"""How demos read: times in several zones, ids, and the cards the feature posts."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.demos.parse import zone_of
from bot.features.demos.recurrence import describe
from bot.kernel.messages import Button, Card, Field
from bot.kernel.text import when
from storage.models import Engagement, Membership, Person
from storage.models.demos import Demo, DemoOccurrence

OUTCOME_LABELS = {
    "accepted": "Accepted",
    "accepted_with_remarks": "Accepted with remarks",
    "not_accepted": "Not accepted",
}


def demo_ref(engagement: Engagement, demo: Demo) -> str:
    return f"{engagement.key}-DEMO-{demo.number}"


def offset_label(dt: datetime) -> str:
    off = dt.utcoffset() or timedelta(0)
    minutes = int(off.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    h, m = divmod(abs(minutes), 60)
    return f"UTC{sign}{h:02d}:{m:02d}"


def fmt_in(instant: datetime, zone: str, *, year: bool = True, offset: bool = False) -> str:
    """'Thu 7 Jan 2027 15:00 America/New_York' (the wall time in `zone`)."""
    local = instant.astimezone(zone_of(zone))
    if year:
        text = f"{local:%a} {local.day} {local:%b %Y} {local:%H:%M} {zone}"
    else:
        text = f"{local:%a} {local.day} {local:%b} {local:%H:%M} {zone}"
    if offset:
        text += f" ({offset_label(local)})"
    return text


def duration_label(minutes: int) -> str:
    h, m = divmod(minutes, 60)
    if h and m:
        return f"{h} h {m} min"
    return f"{h} h" if h else f"{m} min"


async def member_zones(session: AsyncSession, engagement: Engagement) -> list[str]:
    """The engagement's home zone first, then each distinct zone of its members."""
    zones = [engagement.home_tz or "UTC"]
    rows = await session.scalars(
        select(Person.tz)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.engagement_id == engagement.id)
        .order_by(Membership.id)
    )
    for tz in rows:
        if tz and tz not in zones:
            zones.append(tz)
    return zones


def zone_lines(start: datetime, zones: list[str], *, home: str) -> str:
    lines = []
    for z in zones:
        label = fmt_in(start, z)
        lines.append(label + (" (engagement)" if z == home else ""))
    return "\n".join(lines)


def schedule_text(demo: Demo, start: datetime) -> str:
    """'Thu 7 Jan 2027 15:00 America/New_York, every 2 weeks on Thursday'."""
    text = fmt_in(start, demo.tz, offset=True)
    if demo.rrule:
        text += f", {describe(demo.rrule)}"
    return text


def outcome_buttons(occ: DemoOccurrence) -> list[Button]:
    return [
        Button("Accepted", "demo.outcome", f"{occ.id}:accepted", "primary"),
        Button("Accepted with remarks", "demo.outcome", f"{occ.id}:accepted_with_remarks"),
        Button("Not accepted", "demo.outcome", f"{occ.id}:not_accepted", "danger"),
    ]


def announcement(
    *,
    engagement: Engagement,
    demo: Demo,
    occ: DemoOccurrence,
    zones: list[str],
    title: str,
    text: str,
    tone: str = "info",
    one_occurrence: bool = False,
) -> Card:
    """`one_occurrence`: only `occ` moved; the series keeps its day and time (shown from the series' start)."""
    fields = [
        Field("Demo", f"{demo_ref(engagement, demo)} · {demo.title}", short=False),
        Field("When (your time)", when(occ.starts_at), short=False),
        Field("Duration", duration_label(demo.duration_minutes)),
    ]
    if demo.rrule:
        local = (demo.start_at if one_occurrence else occ.starts_at).astimezone(zone_of(demo.tz))
        repeats = f"{describe(demo.rrule)} at {local:%H:%M} {demo.tz}"
        if one_occurrence:
            repeats = f"Unchanged: {repeats}. Only this occurrence moves."
        fields.append(Field("Repeats", repeats, short=False))
    fields.append(Field("Time zones", zone_lines(occ.starts_at, zones, home=engagement.home_tz), short=False))
    return Card(
        title=title,
        text=text,
        fields=fields,
        tone=tone,
        footer="Add the attached invite to your calendar. `/demo list` shows what is planned.",
    )
