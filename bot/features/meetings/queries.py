"""Read-only look-ups of meetings: what other jobs read (a decision names the meeting that has just ended)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Engagement
from storage.models.meetings import Meeting, MeetingOccurrence

# A decision or an action recorded this long after a meeting's end still belongs to that meeting.
JUST_ENDED = timedelta(hours=2)


def meeting_ref(engagement: Engagement, meeting: Meeting) -> str:
    return f"{engagement.key}-MTG-{meeting.number}"


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
