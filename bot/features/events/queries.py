"""Read-only look-ups of either job's events: by id, the next occurrence, the members' zones, the invite as it
stands. Nothing here changes a row."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.events.kinds import EventKind, Occ, S
from bot.kernel.errors import UserError
from bot.kernel.text import clean, truncate
from bot.shared import ical
from storage.models import Engagement, Membership, Person


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


async def get_by_ref(
    session: AsyncSession, kind: EventKind[S, Occ], engagement: Engagement, ref: str, *, hint: str
) -> S:
    """`3`, `#3` or `ACME-DEMO-3` (the kind's word) → the engagement's event; UserError otherwise, with `hint`
    (where to find the ids) when the text is no id at all."""
    text = (ref or "").strip()
    m = re.fullmatch(rf"(?:#|(?P<key>[A-Za-z][A-Za-z0-9]*)-{kind.ref_word}-)?(?P<n>\d{{1,9}})", text, re.I)
    if not m:
        raise UserError(f"“{truncate(clean(text, multiline=False), 40)}” is not a {kind.name} id; {hint}")
    if m.group("key") and m.group("key").upper() != engagement.key:
        raise UserError(f"That {kind.name} belongs to {m.group('key').upper()}, not {engagement.key}.")
    series = await session.scalar(
        select(kind.series).where(kind.series.engagement_id == engagement.id, kind.series.number == int(m.group("n")))
    )
    if series is None:
        raise UserError(
            f"There is no {kind.name} {engagement.key}-{kind.ref_word}-{m.group('n')}. `/{kind.name} list` shows them."
        )
    return series


async def drafted(session: AsyncSession, kind: EventKind[S, Occ], engagement: Engagement, key: str) -> S | None:
    """The event a confirmation (its draft key) already made, if any: a second Confirm finds it."""
    existing = await session.scalar(select(kind.series).where(kind.series.draft_key == key))
    if existing is not None and existing.engagement_id != engagement.id:
        raise UserError("That confirmation is not valid here. Nothing was changed.")
    return existing


async def upcoming_occurrence(session: AsyncSession, kind: EventKind[S, Occ], series: S, now: datetime) -> Occ | None:
    """The event's next occurrence that has not started."""
    occ = kind.occurrence
    return await session.scalar(
        select(occ)
        .where(occ.series_id == series.id, occ.status == "scheduled", occ.starts_at > now)
        .order_by(occ.starts_at)
        .limit(1)
    )


async def scheduled_occurrences(session: AsyncSession, kind: EventKind[S, Occ], series: S) -> list[Occ]:
    occ = kind.occurrence
    return list(
        await session.scalars(
            select(occ).where(occ.series_id == series.id, occ.status == "scheduled").order_by(occ.starts_at)
        )
    )


async def ics_event(session: AsyncSession, kind: EventKind[S, Occ], engagement: Engagement, series: S) -> ical.IcsDemo:
    """The event as its invite stands: the series rule, cancelled occurrences (EXDATE), moved ones."""
    occ = kind.occurrence
    overrides = [
        ical.Override(o.original_start, o.starts_at, o.ends_at)
        for o in await session.scalars(select(occ).where(occ.series_id == series.id, occ.status != "cancelled"))
        if o.starts_at != o.original_start
    ]
    return ical.IcsDemo(
        uid=series.uid,
        sequence=series.sequence,
        title=f"{series.title} ({engagement.name})",
        description=f"{kind.ref(engagement, series)} — {engagement.name}. {kind.invite_note}",
        start=series.start_at,
        duration=timedelta(minutes=series.duration_minutes),
        zone=series.tz,
        rrule=series.rrule,
        exdates=[datetime.fromisoformat(x) for x in series.exdates or []],
        overrides=overrides,
    )
