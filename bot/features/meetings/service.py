"""The rules of meetings: schedule (from a confirmed draft), move, cancel; occurrences and the timers that follow
them; invites; members' agenda items; the agenda built from live data at the moment it is posted (once per
occurrence); the request for decisions after a meeting. Callers pass the session (a transaction is open) and the
injected `now`; look-ups are in queries.py."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.events import service as events
from bot.features.events.cards import fmt_in, schedule_text
from bot.features.events.drafts import EventDraft
from bot.features.events.occurrences import move_occurrence, plan_reminders, plan_timer
from bot.features.events.occurrences import replan_upcoming as replan_event
from bot.features.events.queries import drafted, member_zones
from bot.features.meetings import cards, queries
from bot.features.meetings.queries import MEETINGS, meeting_ref
from bot.features.meetings.settings import KINDS, MAX_DURATION, settings
from bot.kernel import audit
from bot.kernel.errors import UserError
from bot.kernel.messages import Card
from bot.kernel.people import role_label
from bot.kernel.registry import Period, Registry
from bot.kernel.rows import MissingRow
from bot.kernel.sides import ALL_ADMINS
from bot.kernel.text import MAX_TEXT, clean
from bot.shared.when import zone_of
from storage.models import Engagement, Person
from storage.models.meetings import Meeting, MeetingAgendaItem, MeetingOccurrence
from storage.results import rowcount

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

log = logging.getLogger("cadence.meetings")
T = TypeVar("T")

REMIND, AGENDA, ENDED = "meeting.remind", "meeting.agenda", "meeting.ended"
MAX_ITEMS = 30  # points members may add to one occurrence's agenda


# -- drafts: what a Confirm button carries ----------------------------------------------------------
@dataclass
class Draft(EventDraft):
    monthly = True  # a monthly review repeats by the nth weekday of the month
    max_duration = MAX_DURATION

    op: str  # "new" | "move"
    start: str  # ISO, aware
    tz: str
    kind: str = "sync"
    rrule: str | None = None
    title: str | None = None
    duration: int | None = None
    key: str | None = None  # new: the future meeting's draft_key (a second Confirm finds it)
    meeting: int | None = None  # move: the meeting id
    occ: int | None = None  # move: the occurrence
    seq: int | None = None  # move: the meeting's sequence when the draft was made (stale drafts refused)
    eng: int | None = None  # the engagement it was made in

    def check(self) -> None:
        if self.kind not in KINDS:
            raise ValueError("kind")
        for name in ("meeting", "occ", "seq", "eng"):
            if getattr(self, name) is not None:
                setattr(self, name, int(getattr(self, name)))


# -- who may change a meeting --------------------------------------------------------------------------
MANAGERS = ", ".join(role_label(r) for r in sorted(ALL_ADMINS))


async def check_may_manage(session: AsyncSession, person: Person, roles: set[str], meeting: Meeting, verb: str) -> None:
    """The organizer or an admin of either side; anyone else is told who can."""
    if meeting.organizer_id == person.id or roles & ALL_ADMINS:
        return
    organizer = await session.get(Person, meeting.organizer_id) if meeting.organizer_id else None
    who = f"its organizer ({organizer.display_name})" if organizer else "its organizer"
    raise UserError(f"Only {who} or an admin of either side ({MANAGERS}) can {verb} this meeting. Nothing was changed.")


# -- occurrences and their timers ------------------------------------------------------------------
async def plan_timers(
    session: AsyncSession, core: Cadence, engagement: Engagement, occ: MeetingOccurrence, now: datetime
) -> None:
    """Reminders, the agenda and the end of one occurrence (reminders already past are skipped; an agenda whose
    time has passed before the meeting starts is posted at once)."""
    s = settings(engagement)
    await plan_reminders(session, core, MEETINGS, engagement, occ, now, timer=REMIND, offsets=s["reminder_minutes"])
    agenda_due = max(occ.starts_at - timedelta(minutes=s["agenda_lead_minutes"]), now)
    await plan_timer(session, core, MEETINGS, engagement, occ, timer=AGENDA, name="agenda", due=agenda_due)
    await plan_timer(session, core, MEETINGS, engagement, occ, timer=ENDED, name="ended", due=occ.ends_at)


async def replan_upcoming(session: AsyncSession, core: Cadence, engagement: Engagement, now: datetime) -> None:
    """Settings changed: re-plan the pending timers of every upcoming occurrence (fired ones stay fired: an
    agenda already posted is not posted again, and post_agenda marks the row)."""
    await replan_event(session, core, MEETINGS, plan_timers, engagement, now)


# -- schedule / move / cancel ------------------------------------------------------------------------
async def create(
    session: AsyncSession, core: Cadence, *, engagement: Engagement, person: Person, draft: Draft, now: datetime
) -> tuple[Meeting, MeetingOccurrence, bool]:
    """Save a confirmed draft; returns (meeting, first occurrence, created). A second Confirm of the same draft
    finds the first meeting instead of making a duplicate."""
    existing = await drafted(session, MEETINGS, engagement, draft.key) if draft.key else None
    if existing is not None:
        occ = await session.scalar(
            select(MeetingOccurrence)
            .where(MeetingOccurrence.meeting_id == existing.id)
            .order_by(MeetingOccurrence.id.desc())
        )
        if occ is None:  # a meeting is created with its first occurrence
            raise MissingRow(f"meeting {existing.id} has no occurrence")
        return existing, occ, False
    start = draft.start_at
    if start <= now:
        raise UserError("That time has passed since I asked; nothing was saved. Please schedule it again.")
    meeting = await events.save_numbered(
        session,
        MEETINGS,
        engagement,
        draft,
        title=draft.title or KINDS[draft.kind],
        duration=int(draft.duration or settings(engagement)["duration_minutes"]),
        now=now,
        columns={"kind": draft.kind, "organizer_id": person.id},
    )
    if meeting is None:  # a concurrent Confirm of the same draft saved it: find that one
        return await create(session, core, engagement=engagement, person=person, draft=draft, now=now)
    occ = await events.open_series(
        session,
        core,
        MEETINGS,
        plan_timers,
        engagement=engagement,
        person=person,
        series=meeting,
        now=now,
        data={
            "number": meeting.number,
            "kind": meeting.kind,
            "title": meeting.title,
            "start": start.isoformat(),
            "tz": meeting.tz,
            "rrule": meeting.rrule,
        },
    )
    card = cards.announcement(
        engagement=engagement,
        meeting=meeting,
        occ=occ,
        zones=await member_zones(session, engagement),
        title=f"Meeting scheduled: {meeting.title}",
        text=f"Scheduled by {person.display_name}: {schedule_text(meeting, start)}.",
    )
    await events.announce(
        session, core, MEETINGS, engagement, meeting, card, now, invite_title="Calendar invite", key="announce"
    )
    return meeting, occ, True


async def move(
    session: AsyncSession,
    core: Cadence,
    *,
    engagement: Engagement,
    person: Person,
    roles: set[str],
    draft: Draft,
    now: datetime,
) -> tuple[Meeting, MeetingOccurrence]:
    """Apply a confirmed move of the next occurrence (or the one-off): its reminders, agenda and end follow; the
    invite's SEQUENCE is bumped."""
    meeting = await events.live_series(session, MEETINGS, engagement, draft.meeting)
    await check_may_manage(session, person, roles, meeting, "move")
    start = events.check_move(MEETINGS, engagement, meeting, draft, now)
    occ = await events.occurrence_to_move(session, MEETINGS, meeting, draft.occ, now)
    old_text = await move_occurrence(
        session, core, MEETINGS, plan_timers, engagement, meeting, occ, start=start, tz=draft.tz, now=now
    )
    occ.agenda_posted_at = None  # the agenda is built again before the new time
    meeting.sequence += 1
    meeting.updated_at = now
    await events.record(
        session,
        MEETINGS,
        engagement=engagement,
        person=person,
        series=meeting,
        action="moved",
        now=now,
        data={"occurrence": occ.id, "from": old_text, "to": start.isoformat(), "sequence": meeting.sequence},
    )
    card = cards.announcement(
        engagement=engagement,
        meeting=meeting,
        occ=occ,
        zones=await member_zones(session, engagement),
        title=f"Meeting moved: {meeting.title}",
        text=f"Moved by {person.display_name} (was {old_text}). Now {fmt_in(start, meeting.tz, offset=True)}. "
        "The updated invite is attached.",
        tone="warning",
        one_occurrence=bool(meeting.rrule),
    )
    moved = f"moved:{meeting.sequence}"
    await events.announce(
        session, core, MEETINGS, engagement, meeting, card, now, invite_title="Updated invite", key=moved
    )
    return meeting, occ


async def cancel(
    session: AsyncSession,
    core: Cadence,
    *,
    engagement: Engagement,
    person: Person,
    roles: set[str],
    meeting: Meeting,
    next_only: bool,
    now: datetime,
) -> str:
    """Cancel the next occurrence (a series continues) or the whole meeting; returns what to tell the person."""
    await check_may_manage(session, person, roles, meeting, "cancel")
    ref = meeting_ref(engagement, meeting)
    summary, _ = await events.cancel(
        session,
        core,
        MEETINGS,
        plan_timers,
        engagement=engagement,
        person=person,
        series=meeting,
        whole=not next_only,
        now=now,
        refusal=f"{ref} has no upcoming occurrence to cancel; `/meeting cancel {ref}` ends the series.",
        no_later="no later one is planned.",
    )
    return summary


# -- the agenda ------------------------------------------------------------------------------------------
UNAVAILABLE = "(this part could not be read just now; the rest of the agenda is complete)"


async def _guarded(session: AsyncSession, name: str, work: Awaitable[T]) -> tuple[bool, T | None]:
    """Another job's part of the agenda, in a savepoint: (True, its value), or (False, None) when it failed — the
    agenda is still posted at its time without that part (the failure is logged), instead of waiting for a fix."""
    try:
        async with session.begin_nested():
            return True, await work
    except Exception:
        log.exception("agenda: the section %s failed", name)
        return False, None


def previous_month(engagement: Engagement, at: datetime) -> Period:
    """The calendar month before the one `at` falls in, in the engagement's home zone: the monthly review's."""
    zone = zone_of(engagement.home_tz or "UTC")
    first_this = at.astimezone(zone).date().replace(day=1)
    last_day = first_this - timedelta(days=1)
    first_day = last_day.replace(day=1)

    def midnight(d: date) -> datetime:
        return datetime.combine(d, time(0), tzinfo=zone).astimezone(UTC)

    return Period("month", midnight(first_day), midnight(first_this), first_day, last_day)


async def build_agenda(
    session: AsyncSession,
    registry: Registry,
    engagement: Engagement,
    meeting: Meeting,
    occ: MeetingOccurrence,
    now: datetime,
    *,
    late_minutes: int = 0,
) -> Card:
    """The agenda from live data at `now`: every registered agenda section (read now, not when the meeting was
    scheduled), what members added, and for a monthly review the previous month's figures from the report."""
    sections = []
    for section in registry.agenda_sections:
        ok, lines = await _guarded(session, section.name, section.lines(session, engagement, now, meeting.kind))
        sections.append((section.title, lines if ok and lines is not None else [UNAVAILABLE]))
    items = [(item.text, who.display_name) for item, who in await queries.agenda_items(session, occ)]
    figures: list[Card] = []
    month = None
    if meeting.kind == "review":
        period = previous_month(engagement, occ.starts_at)
        month = f"{period.first_day:%B %Y}"
        for s in registry.report_sections:
            ok, value = await _guarded(session, s.name, s.figures(session, engagement, period, now))
            figures.append(s.card(value, period) if ok else Card(title=s.name, text=UNAVAILABLE))
    return cards.agenda_card(
        engagement,
        meeting,
        occ,
        sections=sections,
        items=items,
        figures=figures,
        month=month,
        late_minutes=late_minutes,
    )


async def post_agenda(
    session: AsyncSession,
    core: Cadence,
    engagement: Engagement,
    meeting: Meeting,
    occ: MeetingOccurrence,
    now: datetime,
    *,
    late_minutes: int = 0,
) -> bool:
    """Post the agenda of `occ` once: the row is marked in the same transaction by a conditional update, so a
    second process (or a timer fired again after a rollback) finds it taken and posts nothing."""
    taken = await session.execute(
        update(MeetingOccurrence)
        .where(MeetingOccurrence.id == occ.id, MeetingOccurrence.agenda_posted_at.is_(None))
        .values(agenda_posted_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(taken) != 1:
        return False
    await session.refresh(occ)
    card = await build_agenda(session, core.registry, engagement, meeting, occ, now, late_minutes=late_minutes)
    await core.outbox.post_home(session, engagement, card, ref_key=cards.agenda_ref(occ))
    return True


async def add_agenda_item(
    session: AsyncSession,
    core: Cadence,
    *,
    engagement: Engagement,
    person: Person,
    meeting: Meeting,
    occ: MeetingOccurrence,
    text: str,
    now: datetime,
) -> tuple[str, bool]:
    """Put `person`'s point on `occ`'s agenda. Returns (the saved text, whether the agenda already posted was
    updated to show it)."""
    text = clean(text, limit=MAX_TEXT, what="Your agenda point")
    if not text:
        raise UserError("Tell me what to put on the agenda, e.g. `/meeting agenda add Release date for v2`.")
    count = await session.scalar(
        select(func.count(MeetingAgendaItem.id)).where(MeetingAgendaItem.occurrence_id == occ.id)
    )
    if (count or 0) >= MAX_ITEMS:
        raise UserError(f"That agenda already has {MAX_ITEMS} points added by members; nothing was added.")
    session.add(
        MeetingAgendaItem(
            occurrence_id=occ.id, engagement_id=engagement.id, person_id=person.id, text=text, created_at=now
        )
    )
    await session.flush()
    await audit.record(
        session,
        now=now,
        engagement_id=engagement.id,
        entity_type="meeting_occurrence",
        entity_id=occ.id,
        action="agenda_item_added",
        actor=person,
        comment=text,
    )
    if occ.agenda_posted_at is None:
        return text, False
    card = await build_agenda(session, core.registry, engagement, meeting, occ, now)
    await core.outbox.update(session, cards.agenda_ref(occ), card)
    return text, True
