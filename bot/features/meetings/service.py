"""The rules of meetings: schedule (from a confirmed draft), move, cancel; occurrences and the timers that follow
them; invites; members' agenda items; the agenda built from live data at the moment it is posted (once per
occurrence); the request for decisions after a meeting. Callers pass the session (a transaction is open) and the
injected `now`; look-ups are in queries.py."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.meetings import cards, queries
from bot.features.meetings.settings import FEATURE, KINDS, MAX_DURATION, settings
from bot.kernel import audit, hours
from bot.kernel.engagements import update_feature_settings
from bot.kernel.errors import UserError
from bot.kernel.messages import Card
from bot.kernel.people import role_label
from bot.kernel.registry import Period, Registry
from bot.kernel.rows import MissingRow
from bot.kernel.sides import ALL_ADMINS
from bot.kernel.text import MAX_TEXT, MAX_TITLE, clean
from bot.shared import ical
from bot.shared.recurrence import moved_to, next_occurrence, validate_rule
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
class Draft:
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

    def to_value(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}, separators=(",", ":"))

    @property
    def start_at(self) -> datetime:
        return datetime.fromisoformat(self.start).astimezone(UTC)

    @classmethod
    def from_value(cls, value: str) -> Draft:
        """Parse and re-check a button value (a client can tamper with it)."""
        try:
            data = json.loads(value)
            draft = cls(**{k: data[k] for k in data if k in cls.__dataclass_fields__})
            if draft.op not in ("new", "move") or draft.kind not in KINDS:
                raise ValueError("op or kind")
            if datetime.fromisoformat(draft.start).tzinfo is None:
                raise ValueError("naive")
            zone_of(draft.tz)
            if draft.rrule is not None:
                validate_rule(draft.rrule, monthly=True)
            if draft.duration is not None and not 5 <= int(draft.duration) <= MAX_DURATION:
                raise ValueError("duration")
            if draft.title is not None:
                draft.title = clean(draft.title, limit=MAX_TITLE, what="The title", multiline=False)
            for name in ("meeting", "occ", "seq", "eng"):
                if getattr(draft, name) is not None:
                    setattr(draft, name, int(getattr(draft, name)))
        except (ValueError, TypeError, KeyError, AttributeError, UserError) as exc:
            raise UserError("That confirmation is not valid any more. Nothing was changed; please ask again.") from exc
        return draft


def at_suggestion(draft: Draft, check: hours.SlotCheck) -> Draft | None:
    """The same draft at the start suggested by a working-hours check (a series keeps its rhythm on the
    suggested weekday), or None when there is no suggestion."""
    if check.suggestion is None:
        return None
    start, rule = moved_to(check.suggestion, draft.tz, draft.rrule)
    return replace(draft, start=start, rrule=rule)


def new_draft_key() -> str:
    return uuid.uuid4().hex


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
def _prefix(occ: MeetingOccurrence) -> str:
    return f"meeting:{occ.id}:"


async def plan_timers(
    session: AsyncSession, core: Cadence, engagement: Engagement, occ: MeetingOccurrence, now: datetime
) -> None:
    """Reminders, the agenda and the end of one occurrence (reminders already past are skipped; an agenda whose
    time has passed before the meeting starts is posted at once)."""
    s = settings(engagement)
    prefix = f"{_prefix(occ)}v{occ.version}:"
    payload = {"occ": occ.id, "v": occ.version}
    for minutes in s["reminder_minutes"]:
        due = occ.starts_at - timedelta(minutes=minutes)
        if due > now:
            await core.timers.schedule(
                session,
                kind=REMIND,
                due_at=due,
                key=f"{prefix}remind:{minutes}",
                payload={**payload, "minutes": minutes},
                engagement_id=engagement.id,
            )
    agenda_due = max(occ.starts_at - timedelta(minutes=s["agenda_lead_minutes"]), now)
    await core.timers.schedule(
        session, kind=AGENDA, due_at=agenda_due, key=f"{prefix}agenda", payload=payload, engagement_id=engagement.id
    )
    await core.timers.schedule(
        session, kind=ENDED, due_at=occ.ends_at, key=f"{prefix}ended", payload=payload, engagement_id=engagement.id
    )


async def drop_timers(session: AsyncSession, core: Cadence, occ: MeetingOccurrence) -> None:
    await core.timers.cancel_prefix(session, _prefix(occ))


async def replan_upcoming(session: AsyncSession, core: Cadence, engagement: Engagement, now: datetime) -> None:
    """Settings changed: re-plan the pending timers of every upcoming occurrence (fired ones stay fired)."""
    for occ in await session.scalars(
        select(MeetingOccurrence).where(
            MeetingOccurrence.engagement_id == engagement.id,
            MeetingOccurrence.status == "scheduled",
            MeetingOccurrence.starts_at > now,
        )
    ):
        # An agenda already posted is not posted again: its timer has fired (and post_agenda marks the row).
        await core.timers.cancel_prefix(session, f"{_prefix(occ)}v{occ.version}:")
        await plan_timers(session, core, engagement, occ, now)


async def add_occurrence(
    session: AsyncSession, core: Cadence, engagement: Engagement, meeting: Meeting, start: datetime, now: datetime
) -> MeetingOccurrence:
    start = start.astimezone(UTC)
    occ = MeetingOccurrence(
        meeting_id=meeting.id,
        engagement_id=engagement.id,
        original_start=start,
        starts_at=start,
        ends_at=start + timedelta(minutes=meeting.duration_minutes),
        status="scheduled",
        version=0,
        created_at=now,
        updated_at=now,
    )
    session.add(occ)
    await session.flush()
    await plan_timers(session, core, engagement, occ, now)
    return occ


async def materialise_next(
    session: AsyncSession, core: Cadence, engagement: Engagement, meeting: Meeting, *, after: datetime, now: datetime
) -> MeetingOccurrence | None:
    """For a series: the next occurrence after `after` that has no row yet (and is not excluded)."""
    if not meeting.rrule or meeting.status != "scheduled":
        return None
    taken = list(
        await session.scalars(
            select(MeetingOccurrence.original_start).where(MeetingOccurrence.meeting_id == meeting.id)
        )
    )
    excluded = [datetime.fromisoformat(x) for x in meeting.exdates or []] + taken
    nxt = next_occurrence(meeting.rrule, meeting.start_at, meeting.tz, max(after, now), exclude=excluded)
    if nxt is None:
        return None
    return await add_occurrence(session, core, engagement, meeting, nxt, now)


async def _invite(session: AsyncSession, engagement: Engagement, meeting: Meeting, now: datetime, title: str) -> Card:
    """The card's attachment: the invite (or its update) as it stands."""
    ics = ical.request(await queries.ics_meeting(session, engagement, meeting), now)
    return Card(attachments=[ical.attachment(ics, filename=queries.ics_filename(engagement, meeting), title=title)])


# -- schedule / move / cancel ------------------------------------------------------------------------
async def create(
    session: AsyncSession, core: Cadence, *, engagement: Engagement, person: Person, draft: Draft, now: datetime
) -> tuple[Meeting, MeetingOccurrence, bool]:
    """Save a confirmed draft; returns (meeting, first occurrence, created). A second Confirm of the same draft
    finds the first meeting instead of making a duplicate."""
    if draft.key:
        existing = await session.scalar(select(Meeting).where(Meeting.draft_key == draft.key))
        if existing is not None and existing.engagement_id != engagement.id:
            raise UserError("That confirmation is not valid here. Nothing was changed.")
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
    s = settings(engagement)
    for _ in range(3):
        number = (
            await session.scalar(select(func.max(Meeting.number)).where(Meeting.engagement_id == engagement.id)) or 0
        ) + 1
        meeting = Meeting(
            engagement_id=engagement.id,
            number=number,
            kind=draft.kind,
            title=draft.title or KINDS[draft.kind],
            tz=draft.tz,
            start_at=start,
            duration_minutes=int(draft.duration or s["duration_minutes"]),
            rrule=draft.rrule,
            status="scheduled",
            uid=f"{uuid.uuid4()}@cadence",
            sequence=0,
            exdates=[],
            draft_key=draft.key,
            organizer_id=person.id,
            created_at=now,
            updated_at=now,
        )
        try:
            async with session.begin_nested():
                session.add(meeting)
                await session.flush()
            break
        except IntegrityError:
            # A concurrent Confirm of the same draft (draft_key), or another meeting took the number.
            if draft.key and await session.scalar(select(Meeting.id).where(Meeting.draft_key == draft.key)):
                return await create(session, core, engagement=engagement, person=person, draft=draft, now=now)
    else:
        raise UserError("Several meetings were being scheduled at once; nothing was saved. Please confirm again.")
    occ = await add_occurrence(session, core, engagement, meeting, start, now)
    await audit.record(
        session,
        now=now,
        engagement_id=engagement.id,
        entity_type="meeting",
        entity_id=meeting.id,
        action="scheduled",
        to_state="scheduled",
        actor=person,
        data={
            "number": number,
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
        zones=await queries.member_zones(session, engagement),
        title=f"Meeting scheduled: {meeting.title}",
        text=f"Scheduled by {person.display_name}: {cards.schedule_text(meeting, start)}.",
    )
    card.attachments = (await _invite(session, engagement, meeting, now, "Calendar invite")).attachments
    await core.outbox.post_home(session, engagement, card, ref_key=f"meeting:{meeting.id}:announce")
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
    meeting = await session.get(Meeting, draft.meeting or 0)
    if meeting is None or meeting.engagement_id != engagement.id:
        raise UserError("That meeting no longer exists here. Nothing was changed.")
    await check_may_manage(session, person, roles, meeting, "move")
    ref = queries.meeting_ref(engagement, meeting)
    if meeting.status != "scheduled":
        raise UserError(f"{ref} is {meeting.status}; nothing was changed.")
    if draft.seq is not None and draft.seq != meeting.sequence:
        raise UserError(f"{ref} changed since I asked. Nothing was changed; please run `/meeting move` again.")
    start = draft.start_at
    if start <= now:
        raise UserError("That time has passed since I asked; nothing was changed.")
    occ = await session.get(MeetingOccurrence, draft.occ or 0)
    if occ is None or occ.meeting_id != meeting.id or occ.status != "scheduled" or occ.starts_at <= now:
        raise UserError("That occurrence is no longer upcoming. Nothing was changed.")
    old_text = cards.fmt_in(occ.starts_at, meeting.tz, offset=True)
    await drop_timers(session, core, occ)
    occ.starts_at = start
    occ.ends_at = start + timedelta(minutes=meeting.duration_minutes)
    occ.version += 1
    occ.agenda_posted_at = None  # the agenda is built again before the new time
    occ.updated_at = now
    if not meeting.rrule:
        meeting.start_at, meeting.tz, occ.original_start = start, draft.tz, start
    await plan_timers(session, core, engagement, occ, now)
    meeting.sequence += 1
    meeting.updated_at = now
    await audit.record(
        session,
        now=now,
        engagement_id=engagement.id,
        entity_type="meeting",
        entity_id=meeting.id,
        action="moved",
        actor=person,
        data={"occurrence": occ.id, "from": old_text, "to": start.isoformat(), "sequence": meeting.sequence},
    )
    card = cards.announcement(
        engagement=engagement,
        meeting=meeting,
        occ=occ,
        zones=await queries.member_zones(session, engagement),
        title=f"Meeting moved: {meeting.title}",
        text=f"Moved by {person.display_name} (was {old_text}). Now {cards.fmt_in(start, meeting.tz, offset=True)}. "
        "The updated invite is attached.",
        tone="warning",
        one_occurrence=bool(meeting.rrule),
    )
    await session.flush()
    card.attachments = (await _invite(session, engagement, meeting, now, "Updated invite")).attachments
    await core.outbox.post_home(session, engagement, card, ref_key=f"meeting:{meeting.id}:moved:{meeting.sequence}")
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
    ref = queries.meeting_ref(engagement, meeting)
    if meeting.status != "scheduled":
        raise UserError(f"{ref} is already {meeting.status}.")
    upcoming = await queries.upcoming_occurrence(session, meeting, now)
    whole = not next_only or not meeting.rrule
    if not whole and upcoming is None:
        raise UserError(f"{ref} has no upcoming occurrence to cancel; `/meeting cancel {ref}` ends the series.")
    event = await queries.ics_meeting(session, engagement, meeting)
    if whole:
        for o in await queries.scheduled_occurrences(session, meeting):
            if o.starts_at > now:
                await drop_timers(session, core, o)
                o.status, o.updated_at = "cancelled", now
        meeting.status, meeting.cancelled_at = "cancelled", now
        meeting.sequence += 1
        event.sequence = meeting.sequence
        ics = ical.cancel(event, now)
        summary = f"{ref} ({meeting.title}) is cancelled" + (" — the whole series" if meeting.rrule else "") + "."
    else:
        assert upcoming is not None  # refused above
        await drop_timers(session, core, upcoming)
        upcoming.status, upcoming.updated_at = "cancelled", now
        meeting.exdates = [*(meeting.exdates or []), upcoming.original_start.isoformat()]
        meeting.sequence += 1
        event.sequence = meeting.sequence
        ics = ical.cancel(event, now, ical.Override(upcoming.original_start, upcoming.starts_at, upcoming.ends_at))
        await session.flush()
        nxt = await materialise_next(session, core, engagement, meeting, after=upcoming.original_start, now=now)
        summary = f"{ref} ({meeting.title}) on {cards.fmt_in(upcoming.starts_at, meeting.tz)} is cancelled; " + (
            f"the series continues {cards.fmt_in(nxt.starts_at, meeting.tz)}." if nxt else "no later one is planned."
        )
    meeting.updated_at = now
    await audit.record(
        session,
        now=now,
        engagement_id=engagement.id,
        entity_type="meeting",
        entity_id=meeting.id,
        action="cancelled" if whole else "occurrence_cancelled",
        from_state="scheduled",
        to_state="cancelled" if whole else "scheduled",
        actor=person,
        data={"occurrence": None if whole or upcoming is None else upcoming.id, "sequence": meeting.sequence},
    )
    card = Card(
        title=f"Meeting cancelled: {meeting.title}",
        text=f"{summary} (by {person.display_name})",
        tone="warning",
        footer="The attached cancellation removes it from your calendar.",
        attachments=[ical.attachment(ics, filename=queries.ics_filename(engagement, meeting), title="Cancellation")],
    )
    await core.outbox.post_home(session, engagement, card, ref_key=f"meeting:{meeting.id}:cancel:{meeting.sequence}")
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


# -- settings ----------------------------------------------------------------------------------------------
async def change_settings(
    session: AsyncSession,
    core: Cadence,
    *,
    engagement: Engagement,
    person: Person,
    changes: dict[str, Any],
    now: datetime,
) -> None:
    """Save checked setting changes; the timers follow (engagement_settings_changed) and the audit log has it."""
    update_feature_settings(engagement, FEATURE, changes)
    await core.emit(session, "engagement_settings_changed", engagement=engagement, feature=FEATURE)
    await audit.record(
        session,
        now=now,
        engagement_id=engagement.id,
        entity_type="engagement",
        entity_id=engagement.id,
        action="meeting_settings_changed",
        actor=person,
        data=changes,
    )
