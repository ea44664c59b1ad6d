"""Timer handlers (registered in commands.py): reminders before a meeting, its agenda, and its end (the
organizer asked what was decided; a series' next occurrence materialised). Each re-checks the occurrence: a
cancelled or moved one never fires."""

from __future__ import annotations

from bot.features.events.occurrences import continue_series, due_reminder, late_minutes
from bot.features.events.occurrences import live as live_occurrence
from bot.features.events.queries import member_zones
from bot.features.meetings import cards, service
from bot.features.meetings.queries import MEETINGS
from bot.features.meetings.settings import DEFAULTS
from bot.kernel.context import TimerCtx
from storage.models import Person
from storage.models.meetings import MeetingOccurrence


async def remind(tctx: TimerCtx) -> None:
    due = await due_reminder(tctx, MEETINGS, DEFAULTS["reminder_minutes"])
    if due is None:
        return
    engagement, meeting, occ, minutes = due
    card = cards.reminder_card(
        engagement,
        meeting,
        occ,
        minutes,
        zones=await member_zones(tctx.session, engagement),
        late_minutes=late_minutes(tctx),
    )
    await tctx.core.outbox.post_home(tctx.session, engagement, card, ref_key=MEETINGS.reminder_ref(occ, minutes))


async def agenda(tctx: TimerCtx) -> None:
    """Build the agenda now, from what is open now; posted late if Cadence was down past its time but the meeting
    has not started, and not at all after the start."""
    live = await live_occurrence(tctx, MEETINGS)
    if live is None:
        return
    engagement, meeting, occ = live
    if tctx.now >= occ.starts_at:
        return
    await service.post_agenda(
        tctx.session, tctx.core, engagement, meeting, occ, tctx.now, late_minutes=late_minutes(tctx)
    )


async def ended(tctx: TimerCtx) -> None:
    live = await live_occurrence(tctx, MEETINGS)
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
    await continue_series(tctx.session, tctx.core, MEETINGS, service.plan_timers, engagement, meeting, occ, tctx.now)
