"""Read-only look-ups of demos: ids, occurrences, the agenda, the acceptance record, the invite as it
stands, and the stale-demo flag other features read (the weekly report). Nothing here changes a row."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.demos.cards import DEMOS
from bot.features.events.queries import get_by_ref, ics_event
from bot.kernel.people import CLIENT_ROLES, VENDOR_ROLES
from bot.kernel.rows import must_get
from bot.shared import ical
from bot.shared.when import zone_of
from storage.models import Engagement, Membership, Person
from storage.models.demos import Demo, DemoAgendaItem, DemoOccurrence, DemoOutcome


async def get_demo(session: AsyncSession, engagement: Engagement, ref: str) -> Demo:
    """`3`, `#3` or `ACME-DEMO-3` → the demo; UserError otherwise."""
    hint = f"use the number from `/demo list`, e.g. `3` or `{engagement.key}-DEMO-3`."
    return await get_by_ref(session, DEMOS, engagement, ref, hint=hint)


async def agenda_lines(session: AsyncSession, occ: DemoOccurrence) -> list[str]:
    rows = await session.execute(
        select(DemoAgendaItem, Person)
        .join(Person, Person.id == DemoAgendaItem.person_id)
        .where(DemoAgendaItem.occurrence_id == occ.id)
        .order_by(DemoAgendaItem.created_at, DemoAgendaItem.id)
    )
    return [f"• {person.display_name}: {item.text}" for item, person in rows]


async def invite_for_uid(session: AsyncSession, uid: str, now: datetime) -> tuple[str, bytes] | None:
    """(filename, current .ics) of the demo with this UID — for a link where files cannot be sent
    (Teams): the UID is random, so it works as the link's secret. None if unknown."""
    demo = await session.scalar(select(Demo).where(Demo.uid == uid))
    if demo is None:
        return None
    engagement = await must_get(session, Engagement, demo.engagement_id)
    event = await ics_event(session, DEMOS, engagement, demo)
    ics = ical.cancel(event, now) if demo.status == "cancelled" else ical.request(event, now)
    return DEMOS.ics_filename(engagement, demo), ics


async def last_demo_start(session: AsyncSession, engagement: Engagement, now: datetime) -> datetime | None:
    return await session.scalar(
        select(func.max(DemoOccurrence.starts_at)).where(
            DemoOccurrence.engagement_id == engagement.id,
            DemoOccurrence.starts_at <= now,
            DemoOccurrence.status.in_(("scheduled", "ended")),
        )
    )


async def stale_demo_flag(session: AsyncSession, engagement: Engagement, now: datetime) -> str | None:
    """A warning if the engagement's last demo is older than its iteration length (None if fine).
    An engagement that never had a demo is flagged once it is older than one iteration."""
    days = max(1, int(engagement.iteration_days or 14))
    last = await last_demo_start(session, engagement, now)
    if last is None:
        since = engagement.created_at
        if since is None or now - since <= timedelta(days=days):
            return None
        return (
            f"{engagement.key} has had no demo since it started {(now - since).days} days ago "
            f"(iteration length: {days} days). Schedule one with `/demo schedule`."
        )
    if now - last <= timedelta(days=days):
        return None
    local = last.astimezone(zone_of(engagement.home_tz or "UTC"))
    return (
        f"{engagement.key}'s last demo was {(now - last).days} days ago ({local:%a} {local.day} {local:%b %Y}), "
        f"longer than its {days}-day iteration. Schedule one with `/demo schedule`."
    )


async def upcoming_by_demo(
    session: AsyncSession, engagement: Engagement, now: datetime
) -> list[tuple[Demo, DemoOccurrence | None]]:
    """Every scheduled demo with its next occurrence not yet over (None when nothing is upcoming), soonest
    first, those with nothing upcoming last."""
    demos = list(
        await session.scalars(
            select(Demo).where(Demo.engagement_id == engagement.id, Demo.status == "scheduled").order_by(Demo.number)
        )
    )
    rows = []
    for demo in demos:
        occ = await session.scalar(
            select(DemoOccurrence)
            .where(
                DemoOccurrence.demo_id == demo.id,
                DemoOccurrence.status == "scheduled",
                DemoOccurrence.ends_at > now,
            )
            .order_by(DemoOccurrence.starts_at)
            .limit(1)
        )
        rows.append((occ.starts_at if occ else datetime.max.replace(tzinfo=now.tzinfo), demo, occ))
    rows.sort(key=lambda r: r[0])
    return [(demo, occ) for _, demo, occ in rows]


async def last_taken_place(session: AsyncSession, demo: Demo, now: datetime) -> DemoOccurrence | None:
    """The most recent occurrence of `demo` that has started (the one an outcome is for)."""
    return await session.scalar(
        select(DemoOccurrence)
        .where(
            DemoOccurrence.demo_id == demo.id,
            DemoOccurrence.starts_at <= now,
            DemoOccurrence.status.in_(("scheduled", "ended")),
        )
        .order_by(DemoOccurrence.starts_at.desc())
        .limit(1)
    )


async def own_agenda_item(session: AsyncSession, occ: DemoOccurrence, person: Person) -> DemoAgendaItem | None:
    return await session.scalar(
        select(DemoAgendaItem).where(DemoAgendaItem.occurrence_id == occ.id, DemoAgendaItem.person_id == person.id)
    )


async def outcome_history(
    session: AsyncSession, engagement: Engagement, now: datetime, limit: int = 30
) -> list[tuple[DemoOccurrence, Demo, DemoOutcome | None, Person | None]]:
    """The acceptance record: occurrences that took place, newest first, with their outcome and who recorded it."""
    rows = await session.execute(
        select(DemoOccurrence, Demo, DemoOutcome, Person)
        .join(Demo, Demo.id == DemoOccurrence.demo_id)
        .outerjoin(DemoOutcome, DemoOutcome.occurrence_id == DemoOccurrence.id)
        .outerjoin(Person, Person.id == DemoOutcome.recorded_by_id)
        .where(
            DemoOccurrence.engagement_id == engagement.id,
            DemoOccurrence.starts_at <= now,
            DemoOccurrence.status.in_(("scheduled", "ended")),
        )
        .order_by(DemoOccurrence.starts_at.desc())
        .limit(limit)
    )
    return [(occ, demo, outcome, who) for occ, demo, outcome, who in rows]


HOME_WINDOW = timedelta(days=14)
HOME_OUTCOME_WINDOW = timedelta(days=30)


async def home_demos(
    session: AsyncSession, person: Person, now: datetime
) -> list[tuple[Engagement, list[tuple[DemoOccurrence, Demo, bool]], list[tuple[DemoOccurrence, Demo]]]]:
    """For each engagement of `person` (by key): the next two weeks' demos, each with whether their agenda item
    is wanted (vendor side, none sent yet), and, for the client side, the last 30 days' demos with no outcome."""
    out = []
    rows = await session.execute(
        select(Membership, Engagement)
        .join(Engagement, Engagement.id == Membership.engagement_id)
        .where(Membership.person_id == person.id)
        .order_by(Engagement.key)
    )
    for membership, engagement in rows:
        roles = set(membership.roles or [])
        upcoming = list(
            await session.execute(
                select(DemoOccurrence, Demo)
                .join(Demo, Demo.id == DemoOccurrence.demo_id)
                .where(
                    DemoOccurrence.engagement_id == engagement.id,
                    DemoOccurrence.status == "scheduled",
                    DemoOccurrence.starts_at > now,
                    DemoOccurrence.starts_at <= now + HOME_WINDOW,
                )
                .order_by(DemoOccurrence.starts_at)
            )
        )
        items = []
        for occ, demo in upcoming:
            ask = False
            if roles & VENDOR_ROLES:
                mine = await session.scalar(
                    select(DemoAgendaItem.id).where(
                        DemoAgendaItem.occurrence_id == occ.id, DemoAgendaItem.person_id == person.id
                    )
                )
                ask = mine is None
            items.append((occ, demo, ask))
        waiting: list[tuple[DemoOccurrence, Demo]] = []
        if roles & CLIENT_ROLES:
            waiting = [
                (occ, demo)
                for occ, demo in await session.execute(
                    select(DemoOccurrence, Demo)
                    .join(Demo, Demo.id == DemoOccurrence.demo_id)
                    .outerjoin(DemoOutcome, DemoOutcome.occurrence_id == DemoOccurrence.id)
                    .where(
                        DemoOccurrence.engagement_id == engagement.id,
                        DemoOccurrence.status == "ended",
                        DemoOccurrence.starts_at > now - HOME_OUTCOME_WINDOW,
                        DemoOutcome.id.is_(None),
                    )
                    .order_by(DemoOccurrence.starts_at)
                )
            ]
        if items or waiting:
            out.append((engagement, items, waiting))
    return out
