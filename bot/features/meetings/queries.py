"""Read-only look-ups of meetings: what other jobs read (a decision names the meeting that has just ended)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.events.kinds import EventKind
from bot.features.events.queries import get_by_ref
from storage.models import Engagement, Membership, Person
from storage.models.meetings import Meeting, MeetingAgendaItem, MeetingOccurrence

# A decision or an action recorded this long after a meeting's end still belongs to that meeting.
JUST_ENDED = timedelta(hours=2)


MEETINGS: EventKind[Meeting, MeetingOccurrence] = EventKind(
    Meeting,
    MeetingOccurrence,
    name="meeting",
    plural="meetings",
    ref_word="MTG",
    invite_note="The agenda is posted in the engagement's home channel before each meeting.",
)


def meeting_ref(engagement: Engagement, meeting: Meeting) -> str:
    return MEETINGS.ref(engagement, meeting)


async def just_ended(
    session: AsyncSession, engagement: Engagement, now: datetime
) -> tuple[Meeting, MeetingOccurrence] | None:
    """The meeting of `engagement` that ended last, if it ended within JUST_ENDED before `now` and was not
    cancelled: (the meeting, that occurrence)."""
    row = (
        await session.execute(
            select(Meeting, MeetingOccurrence)
            .join(MeetingOccurrence, MeetingOccurrence.meeting_id == Meeting.id)
            .where(
                MeetingOccurrence.engagement_id == engagement.id,
                MeetingOccurrence.status.in_(("scheduled", "ended")),
                MeetingOccurrence.ends_at <= now,
                MeetingOccurrence.ends_at > now - JUST_ENDED,
            )
            .order_by(MeetingOccurrence.ends_at.desc(), MeetingOccurrence.id.desc())
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def occurrence(
    session: AsyncSession, engagement: Engagement, occurrence_id: int
) -> tuple[Meeting, MeetingOccurrence] | None:
    """An occurrence of `engagement` by id, with its meeting; None for another engagement's or an unknown id."""
    occ = await session.get(MeetingOccurrence, occurrence_id)
    if occ is None or occ.engagement_id != engagement.id:
        return None
    meeting = await session.get(Meeting, occ.meeting_id)
    return (meeting, occ) if meeting is not None else None


# An id written before an agenda item (`/meeting agenda add ACME-MTG-2 …`): only the explicit forms, so that
# "3 open questions" stays text.
EXPLICIT_REF_RE = re.compile(r"^(?:#\d{1,9}|[A-Za-z][A-Za-z0-9]*-MTG-\d{1,9})$", re.I)


async def get_meeting(session: AsyncSession, engagement: Engagement, ref: str) -> Meeting:
    """`2`, `#2` or `ACME-MTG-2` → the meeting of `engagement`; UserError otherwise."""
    hint = f"use the one from `/meeting list`, e.g. `{engagement.key}-MTG-2`."
    return await get_by_ref(session, MEETINGS, engagement, ref, hint=hint)


async def upcoming(
    session: AsyncSession, engagement: Engagement, now: datetime
) -> list[tuple[Meeting, MeetingOccurrence]]:
    """Every scheduled meeting with its next occurrence not yet over, soonest first."""
    rows = await session.execute(
        select(Meeting, MeetingOccurrence)
        .join(MeetingOccurrence, MeetingOccurrence.meeting_id == Meeting.id)
        .where(
            Meeting.engagement_id == engagement.id,
            Meeting.status == "scheduled",
            MeetingOccurrence.status == "scheduled",
            MeetingOccurrence.ends_at > now,
        )
        .order_by(MeetingOccurrence.starts_at, Meeting.number)
    )
    seen: set[int] = set()
    out = []
    for meeting, occ in rows:
        if meeting.id not in seen:
            seen.add(meeting.id)
            out.append((meeting, occ))
    return out


async def next_occurrence_of_engagement(
    session: AsyncSession, engagement: Engagement, now: datetime
) -> tuple[Meeting, MeetingOccurrence] | None:
    """The engagement's next meeting that has not started (the one `/meeting agenda add` adds to)."""
    row = (
        await session.execute(
            select(Meeting, MeetingOccurrence)
            .join(MeetingOccurrence, MeetingOccurrence.meeting_id == Meeting.id)
            .where(
                Meeting.engagement_id == engagement.id,
                Meeting.status == "scheduled",
                MeetingOccurrence.status == "scheduled",
                MeetingOccurrence.starts_at > now,
            )
            .order_by(MeetingOccurrence.starts_at, Meeting.number)
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def agenda_items(session: AsyncSession, occ: MeetingOccurrence) -> list[tuple[MeetingAgendaItem, Person]]:
    """What members added to `occ`'s agenda, oldest first, with who added each."""
    rows = await session.execute(
        select(MeetingAgendaItem, Person)
        .join(Person, Person.id == MeetingAgendaItem.person_id)
        .where(MeetingAgendaItem.occurrence_id == occ.id)
        .order_by(MeetingAgendaItem.created_at, MeetingAgendaItem.id)
    )
    return [(item, who) for item, who in rows]


HOME_WINDOW = timedelta(days=14)


async def home_meetings(
    session: AsyncSession, person: Person, now: datetime
) -> list[tuple[Engagement, list[tuple[Meeting, MeetingOccurrence]]]]:
    """For each engagement of `person` (by key): its meetings in the next two weeks."""
    out = []
    engagements = await session.scalars(
        select(Engagement)
        .join(Membership, Membership.engagement_id == Engagement.id)
        .where(Membership.person_id == person.id)
        .order_by(Engagement.key)
    )
    for engagement in list(engagements):
        rows = [(m, o) for m, o in await upcoming(session, engagement, now) if o.starts_at <= now + HOME_WINDOW]
        if rows:
            out.append((engagement, rows))
    return out
