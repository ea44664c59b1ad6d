"""Timer handlers (registered in commands.py): reminders before a meeting, its agenda, and its end (the
organizer asked what was decided; a series' next occurrence materialised). Each re-checks the occurrence: a
cancelled or moved one never fires."""

from __future__ import annotations

from datetime import timedelta

from bot.features.meetings import cards, queries, service
from bot.features.meetings.settings import DEFAULTS
from bot.kernel.context import TimerCtx
from bot.kernel.rows import must_get
from storage.models import Engagement, Person
from storage.models.meetings import Meeting, MeetingOccurrence

LATE = timedelta(minutes=5)  # later than this, a post says it is late


async def _live(tctx: TimerCtx) -> tuple[Engagement, Meeting, MeetingOccurrence] | None:
    """The occurrence a timer is for, if it is still scheduled as the timer knew it."""
    occ = await tctx.session.get(MeetingOccurrence, tctx.payload.get("occ"))
    if occ is None or occ.status != "scheduled" or occ.version != tctx.payload.get("v"):
        return None
    meeting = await tctx.session.get(Meeting, occ.meeting_id)
    if meeting is None or meeting.status != "scheduled":
        return None
    return await must_get(tctx.session, Engagement, occ.engagement_id), meeting, occ


def _late_minutes(tctx: TimerCtx) -> int:
    return int(tctx.lateness.total_seconds() // 60) if tctx.lateness > LATE else 0


async def remind(tctx: TimerCtx) -> None:
    live = await _live(tctx)
    if live is None:
        return
    engagement, meeting, occ = live
    if tctx.now >= occ.starts_at:
        return  # Cadence was down past the start: a reminder now would only confuse.
    minutes = int(tctx.payload.get("minutes") or min(DEFAULTS["reminder_minutes"]))
    card = cards.reminder_card(
        engagement,
        meeting,
        occ,
        minutes,
        zones=await queries.member_zones(tctx.session, engagement),
        late_minutes=_late_minutes(tctx),
    )
    await tctx.core.outbox.post_home(tctx.session, engagement, card, ref_key=cards.reminder_ref(occ, minutes))


async def agenda(tctx: TimerCtx) -> None:
    """Build the agenda now, from what is open now; posted late if Cadence was down past its time but the meeting
    has not started, and not at all after the start."""
    live = await _live(tctx)
    if live is None:
        return
    engagement, meeting, occ = live
    if tctx.now >= occ.starts_at:
        return
    await service.post_agenda(
        tctx.session, tctx.core, engagement, meeting, occ, tctx.now, late_minutes=_late_minutes(tctx)
    )


async def ended(tctx: TimerCtx) -> None:
    live = await _live(tctx)
    if live is None:
        # A series cancelled while this occurrence was under way: it still took place.
        occ = await tctx.session.get(MeetingOccurrence, tctx.payload.get("occ"))
        if occ is not None and occ.status == "scheduled" and occ.version == tctx.payload.get("v"):
            occ.status, occ.updated_at = "ended", tctx.now
        return
    engagement, meeting, occ = live
    occ.status, occ.updated_at = "ended", tctx.now
    organizer = await tctx.session.get(Person, meeting.organizer_id) if meeting.organizer_id else None
    if organizer is not None:
        await tctx.core.outbox.dm(
            tctx.session,
            organizer,
            cards.minutes_request(engagement, meeting, occ),
            ref_key=f"meeting:occ:{occ.id}:minutes",
            engagement_id=engagement.id,
        )
    if meeting.rrule:
        nxt = await service.materialise_next(
            tctx.session, tctx.core, engagement, meeting, after=occ.original_start, now=tctx.now
        )
        if nxt is None:
            meeting.status = "ended"
    else:
        meeting.status = "ended"
    meeting.updated_at = tctx.now
