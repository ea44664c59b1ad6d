"""The rules of demos: create, move, cancel; occurrences and the timers that follow them; invites; the
agenda; settings; the acceptance record (the client side's outcome); the weekly stale-demo check's timer.
Callers pass the session (a transaction is open) and the injected `now`; look-ups are in queries.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.demos import cards, queries
from bot.features.demos.cards import DEMOS
from bot.features.demos.settings import DEFAULTS, FEATURE, STALE_CHECK_SLOT
from bot.features.events import service as events
from bot.features.events.cards import fmt_in, schedule_text
from bot.features.events.drafts import EventDraft
from bot.features.events.drafts import at_suggestion as at_suggestion  # where test_out_of_hours finds it
from bot.features.events.occurrences import add_occurrence, drop_timers, move_occurrence, plan_reminders, plan_timer
from bot.features.events.occurrences import replan_upcoming as replan_event
from bot.features.events.queries import drafted, member_zones, scheduled_occurrences, upcoming_occurrence
from bot.features.milestones import queries as milestone_queries
from bot.features.milestones import service as milestone_service
from bot.features.milestones.forms import MAX_REASON, MAX_REASONS, reason_lines
from bot.kernel import audit
from bot.kernel.engagements import feature_settings
from bot.kernel.errors import UserError
from bot.kernel.messages import Card
from bot.kernel.people import (
    CLIENT_ROLES,
    REMINDER_AT,
    VENDOR_ROLES,
    members_with_roles,
    membership_of,
    next_workday_at,
    role_label,
)
from bot.kernel.rows import MissingRow, get_or_refuse
from bot.kernel.text import MAX_TEXT, clean, truncate, when
from bot.shared.when import zone_of
from storage.models import Engagement, Person
from storage.models.demos import Demo, DemoAgendaItem, DemoOccurrence, DemoOutcome
from storage.models.milestones import Milestone

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

REMIND, AGENDA, ENDED, STALE = "demo.remind", "demo.agenda", "demo.ended", "demo.stale_check"
OUTCOME_REMIND = "demo.outcome_remind"
# Who is reminded, the next morning, of an outcome never recorded: the client side's deciders.
OUTCOME_REMINDED = ("client_sponsor", "client_pm")
MAX_DURATION = 8 * 60


def settings(engagement: Engagement) -> dict[str, Any]:
    """The engagement's demo settings, sanitised (they are editable data)."""
    s = feature_settings(engagement, FEATURE)
    try:
        offsets = sorted({int(m) for m in s.get("reminder_minutes") or [] if 0 < int(m) <= 14 * 24 * 60}, reverse=True)
    except (TypeError, ValueError):
        offsets = list(DEFAULTS["reminder_minutes"])
    s["reminder_minutes"] = offsets
    try:
        s["agenda_hours_before"] = max(
            1, min(int(s.get("agenda_hours_before") or DEFAULTS["agenda_hours_before"]), 24 * 7)
        )
        s["duration_minutes"] = max(
            5, min(int(s.get("duration_minutes") or DEFAULTS["duration_minutes"]), MAX_DURATION)
        )
    except (TypeError, ValueError):
        s["agenda_hours_before"], s["duration_minutes"] = DEFAULTS["agenda_hours_before"], DEFAULTS["duration_minutes"]
    s["default_title"] = s.get("default_title") or DEFAULTS["default_title"]
    return s


# -- drafts: what a Confirm button carries ----------------------------------------------------------
@dataclass
class Draft(EventDraft):
    max_duration = MAX_DURATION

    op: str  # "new" | "move"
    start: str  # ISO, aware
    tz: str
    rrule: str | None = None
    title: str | None = None
    duration: int | None = None
    key: str | None = None  # new: the future demo's draft_key (a second Confirm finds it)
    demo: int | None = None  # move: the demo id
    occ: int | None = None  # move: the occurrence (None = the whole series)
    seq: int | None = None  # move: the demo's sequence when the draft was made (stale drafts refused)
    eng: int | None = None  # the engagement it was made in
    milestone: int | None = None  # new: the milestone the demo shows (its id)

    def check(self) -> None:
        if self.milestone is not None:
            self.milestone = int(self.milestone)


# -- occurrences and their timers ------------------------------------------------------------------
async def plan_timers(
    session: AsyncSession, core: Cadence, engagement: Engagement, occ: DemoOccurrence, now: datetime
) -> None:
    """Reminders, the agenda request and the outcome request of one occurrence (past ones skipped)."""
    s = settings(engagement)
    await plan_reminders(session, core, DEMOS, engagement, occ, now, timer=REMIND, offsets=s["reminder_minutes"])
    # Ask for the agenda the day before; a demo planned at short notice is asked at once, if there
    # is still time for answers to reach the last reminder.
    last = min(s["reminder_minutes"] or DEFAULTS["reminder_minutes"])
    agenda_due = max(occ.starts_at - timedelta(hours=s["agenda_hours_before"]), now)
    if agenda_due < occ.starts_at - timedelta(minutes=last + 15):
        await plan_timer(session, core, DEMOS, engagement, occ, timer=AGENDA, name="agenda", due=agenda_due)
    await plan_timer(session, core, DEMOS, engagement, occ, timer=ENDED, name="ended", due=occ.ends_at)


async def replan_upcoming(session: AsyncSession, core: Cadence, engagement: Engagement, now: datetime) -> int:
    """Settings changed: re-plan the pending timers of every upcoming occurrence (fired ones stay fired)."""
    return await replan_event(session, core, DEMOS, plan_timers, engagement, now)


# -- the milestone a demo shows ---------------------------------------------------------------------
def milestone_label(engagement: Engagement, milestone: Milestone | None) -> str | None:
    return f"{milestone_queries.ref(engagement, milestone)} · {milestone.title}" if milestone else None


async def find_milestone(session: AsyncSession, engagement: Engagement, token: str | None) -> Milestone | None:
    """The milestone a typed id names (`ACME-M-1`, `M-1`, `#1`); None for no id; UserError for a wrong one."""
    token = (token or "").strip()
    return await milestone_queries.find(session, engagement, token) if token else None


async def milestone_of(session: AsyncSession, engagement: Engagement, milestone_id: int | None) -> Milestone | None:
    """The milestone of a demo or draft, refused when it is not this engagement's (a tampered button)."""
    if milestone_id is None:
        return None
    found = await session.get(Milestone, milestone_id)
    if found is None or found.engagement_id != engagement.id:
        raise UserError("That milestone is not one of this engagement's. Nothing was saved.")
    return found


# -- create / move / cancel --------------------------------------------------------------------------
async def create(
    session: AsyncSession, core: Cadence, *, engagement: Engagement, person: Person, draft: Draft, now: datetime
) -> tuple[Demo, DemoOccurrence, bool]:
    """Save a confirmed draft; returns (demo, first occurrence, created). A second Confirm of the
    same draft finds the first demo instead of making a duplicate."""
    existing = await drafted(session, DEMOS, engagement, draft.key) if draft.key else None
    if existing is not None:
        occ = await upcoming_occurrence(session, DEMOS, existing, now) or await session.scalar(
            select(DemoOccurrence).where(DemoOccurrence.demo_id == existing.id).order_by(DemoOccurrence.id)
        )
        if occ is None:  # a demo is created with its first occurrence
            raise MissingRow(f"demo {existing.id} has no occurrence")
        return existing, occ, False
    start = draft.start_at
    if start <= now:
        raise UserError("That time has passed since I asked; nothing was saved. Please schedule it again.")
    milestone = await milestone_of(session, engagement, draft.milestone)
    s = settings(engagement)
    demo = await events.save_numbered(
        session,
        DEMOS,
        engagement,
        draft,
        title=draft.title or s["default_title"],
        duration=int(draft.duration or s["duration_minutes"]),
        now=now,
        columns={"created_by_id": person.id, "milestone_id": milestone.id if milestone else None},
    )
    if demo is None:  # a concurrent Confirm of the same draft saved it: find that one
        return await create(session, core, engagement=engagement, person=person, draft=draft, now=now)
    occ = await events.open_series(
        session,
        core,
        DEMOS,
        plan_timers,
        engagement=engagement,
        person=person,
        series=demo,
        now=now,
        data={
            "number": demo.number,
            "title": demo.title,
            "start": start.isoformat(),
            "tz": demo.tz,
            "rrule": demo.rrule,
            "milestone": milestone_label(engagement, milestone),
        },
    )
    await ensure_stale_timer(session, core, engagement, now)
    zones = await member_zones(session, engagement)
    card = cards.announcement(
        engagement=engagement,
        demo=demo,
        occ=occ,
        zones=zones,
        title=f"Demo scheduled: {demo.title}",
        text=f"Scheduled by {person.display_name}: {schedule_text(demo, start)}.",
        milestone=milestone_label(engagement, milestone),
    )
    await events.announce(
        session, core, DEMOS, engagement, demo, card, now, invite_title="Calendar invite", key="announce"
    )
    return demo, occ, True


async def move(
    session: AsyncSession, core: Cadence, *, engagement: Engagement, person: Person, draft: Draft, now: datetime
) -> tuple[Demo, DemoOccurrence]:
    """Apply a confirmed move: one occurrence (draft.occ) or the whole series (draft.occ None)."""
    demo = await events.live_series(session, DEMOS, engagement, draft.demo)
    start = events.check_move(DEMOS, engagement, demo, draft, now)
    old_text = None
    if draft.occ is not None:
        occ = await events.occurrence_to_move(session, DEMOS, demo, draft.occ, now)
        old_text = await move_occurrence(
            session, core, DEMOS, plan_timers, engagement, demo, occ, start=start, tz=draft.tz, now=now
        )
    else:
        # The series is re-planned from the new first date; upcoming occurrences are replaced.
        upcoming = [o for o in await scheduled_occurrences(session, DEMOS, demo) if o.starts_at > now]
        if upcoming:
            old_text = fmt_in(upcoming[0].starts_at, demo.tz, offset=True)
        for o in upcoming:
            await drop_timers(session, core, DEMOS, o)
            o.status = "replaced"
            o.updated_at = now
        demo.start_at = start
        demo.tz = draft.tz
        demo.rrule = draft.rrule or demo.rrule
        demo.exdates = []
        await session.flush()
        occ = await _add_replacing(session, core, engagement, demo, start, now)
    demo.sequence += 1
    demo.updated_at = now
    await events.record(
        session,
        DEMOS,
        engagement=engagement,
        person=person,
        series=demo,
        action="moved",
        now=now,
        data={
            "occurrence": draft.occ,
            "from": old_text,
            "to": start.isoformat(),
            "tz": demo.tz,
            "rrule": demo.rrule,
            "sequence": demo.sequence,
        },
    )
    zones = await member_zones(session, engagement)
    if draft.occ is None:
        now_text = f"The series now runs: {schedule_text(demo, occ.starts_at)}"
    else:
        now_text = f"This occurrence is now: {fmt_in(occ.starts_at, demo.tz, offset=True)}"
    card = cards.announcement(
        engagement=engagement,
        demo=demo,
        occ=occ,
        zones=zones,
        title=f"Demo moved: {demo.title}",
        text=(
            f"Moved by {person.display_name}"
            + (f" (was {old_text})" if old_text else "")
            + f". {now_text}. The updated invite is attached."
        ),
        tone="warning",
        one_occurrence=draft.occ is not None and bool(demo.rrule),
        milestone=milestone_label(engagement, await milestone_of(session, engagement, demo.milestone_id)),
    )
    moved = f"moved:{demo.sequence}"
    await events.announce(session, core, DEMOS, engagement, demo, card, now, invite_title="Updated invite", key=moved)
    return demo, occ


async def _add_replacing(
    session: AsyncSession, core: Cadence, engagement: Engagement, demo: Demo, start: datetime, now: datetime
) -> DemoOccurrence:
    """A new first occurrence of a re-planned series (a replaced row with the same start is reused)."""
    start = start.astimezone(UTC)
    row = await session.scalar(
        select(DemoOccurrence).where(DemoOccurrence.demo_id == demo.id, DemoOccurrence.original_start == start)
    )
    if row is None:
        return await add_occurrence(session, core, DEMOS, plan_timers, engagement, demo, start, now)
    row.status, row.starts_at = "scheduled", start
    row.ends_at = start + timedelta(minutes=demo.duration_minutes)
    row.version += 1
    row.updated_at = now
    await plan_timers(session, core, engagement, row, now)
    return row


async def cancel(
    session: AsyncSession,
    core: Cadence,
    *,
    engagement: Engagement,
    person: Person,
    demo: Demo,
    whole: bool,
    now: datetime,
) -> tuple[str, DemoOccurrence | None]:
    """Cancel the next occurrence (a series continues) or the whole demo. Returns (summary, next occ)."""
    return await events.cancel(
        session,
        core,
        DEMOS,
        plan_timers,
        engagement=engagement,
        person=person,
        series=demo,
        whole=whole,
        now=now,
        refusal=f"{cards.demo_ref(engagement, demo)} has no upcoming occurrence to cancel; "
        f"`/demo cancel {demo.number} all` ends the series.",
        no_later="there are no later occurrences.",
    )


# -- the stale-demo check ------------------------------------------------------------------------------
def next_weekly_slot(engagement: Engagement, now: datetime) -> datetime:
    """The next weekly check: the report's weekday and time in the engagement's home zone."""
    report = {**STALE_CHECK_SLOT, **feature_settings(engagement, "report")}
    zone = zone_of(engagement.home_tz or "UTC")
    try:
        weekday, at = _weekly_slot(report)
    except (TypeError, ValueError):
        weekday, at = _weekly_slot(STALE_CHECK_SLOT)
    local_now = now.astimezone(zone)
    day = local_now.date() + timedelta(days=(weekday - local_now.weekday()) % 7)
    candidate = datetime.combine(day, at, tzinfo=zone)
    if candidate <= now:
        candidate = datetime.combine(day + timedelta(days=7), at, tzinfo=zone)
    return candidate.astimezone(UTC)


def _weekly_slot(report: dict[str, Any]) -> tuple[int, time]:
    hh, mm = (int(x) for x in str(report["time"]).split(":", 1))
    return int(report["weekday"]) % 7, time(hh, mm)


async def ensure_stale_timer(session: AsyncSession, core: Cadence, engagement: Engagement, now: datetime) -> None:
    key = f"demo.stale:{engagement.id}"
    existing = await core.timers.get(session, key)
    if existing is not None and existing.status == "pending":
        return
    await core.timers.schedule(
        session,
        kind=STALE,
        due_at=next_weekly_slot(engagement, now),
        key=key,
        payload={"engagement": engagement.id},
        engagement_id=engagement.id,
    )


# -- reminders and the agenda ------------------------------------------------------------------------
async def reminder_card(
    session: AsyncSession,
    engagement: Engagement,
    demo: Demo,
    occ: DemoOccurrence,
    minutes: int,
    *,
    late_minutes: int = 0,
) -> Card:
    """The reminder `minutes` before `occ`, with the zones and the agenda as they stand."""
    offsets = settings(engagement)["reminder_minutes"]
    zones = await member_zones(session, engagement)
    agenda = await queries.agenda_lines(session, occ)
    return cards.reminder_card(
        engagement, demo, occ, minutes, offsets=offsets, zones=zones, agenda=agenda, late_minutes=late_minutes
    )


async def refresh_last_reminder(
    session: AsyncSession,
    core: Cadence,
    engagement: Engagement,
    demo: Demo,
    occ: DemoOccurrence,
) -> bool:
    """An agenda item arrived after the last reminder was posted: edit that reminder to include it."""
    offsets = settings(engagement)["reminder_minutes"]
    if not offsets:
        return False
    last = min(offsets)
    timer = await core.timers.get(session, f"demo:{occ.id}:v{occ.version}:remind:{last}")
    if timer is None or timer.status != "done":
        return False
    await session.flush()
    card = await reminder_card(session, engagement, demo, occ, last)
    await core.outbox.update(session, DEMOS.reminder_ref(occ, last), card)
    return True


async def agenda_target(
    session: AsyncSession, person: Person, occ: DemoOccurrence, now: datetime
) -> tuple[Engagement, Demo]:
    """The engagement and demo of `occ`, if `person` (vendor side) may add to its agenda now."""
    demo = await get_or_refuse(session, Demo, occ.demo_id)
    engagement = await get_or_refuse(session, Engagement, occ.engagement_id)
    membership = await membership_of(session, engagement, person)
    roles = set(membership.roles or []) if membership else set()
    if not roles & VENDOR_ROLES:
        raise UserError(
            "The agenda comes from the vendor side ("
            + ", ".join(role_label(r) for r in sorted(VENDOR_ROLES))
            + "). Nothing was changed."
        )
    if occ.status != "scheduled" or occ.starts_at <= now:
        raise UserError("That demo is not upcoming any more; nothing was changed.")
    return engagement, demo


async def save_agenda(
    session: AsyncSession, core: Cadence, *, person: Person, occ: DemoOccurrence, text: str, now: datetime
) -> tuple[Engagement, Demo, str, bool]:
    """Save `person`'s agenda item for `occ` (one per person, replaced). Returns (engagement, demo, the
    saved text, whether the last reminder was already posted and now shows it)."""
    engagement, demo = await agenda_target(session, person, occ, now)
    text = clean(text, limit=MAX_TEXT, what="Your agenda item")
    if not text:
        raise UserError("Tell me what you will show, e.g. `/demo agenda 3 the new checkout flow`.", field="text")
    item = await queries.own_agenda_item(session, occ, person)
    if item is None:
        session.add(
            DemoAgendaItem(occurrence_id=occ.id, person_id=person.id, text=text, created_at=now, updated_at=now)
        )
    else:
        item.text, item.updated_at = text, now
    refreshed = await refresh_last_reminder(session, core, engagement, demo, occ)
    return engagement, demo, text, refreshed


# -- the acceptance record: the client side records the outcome; one per occurrence, never edited ----------
async def outcome_target(session: AsyncSession, occ_id: object) -> tuple[Engagement, Demo, DemoOccurrence]:
    try:
        occ = await session.get(DemoOccurrence, int(str(occ_id)))
    except ValueError:
        occ = None
    if occ is None:
        raise UserError("I can't find that demo any more. Nothing was recorded.")
    demo = await get_or_refuse(session, Demo, occ.demo_id)
    engagement = await get_or_refuse(session, Engagement, occ.engagement_id)
    return engagement, demo, occ


async def check_outcome(
    session: AsyncSession, person: Person, engagement: Engagement, occ: DemoOccurrence, now: datetime
) -> None:
    """Refuse anyone but the client side, an outcome before the demo began, and a second outcome."""
    membership = await membership_of(session, engagement, person)
    roles = set(membership.roles or []) if membership else set()
    if not roles & CLIENT_ROLES:
        raise UserError(
            "Only the client side ("
            + ", ".join(role_label(r) for r in sorted(CLIENT_ROLES))
            + f") records a demo's outcome; your roles in {engagement.key}: "
            + (", ".join(role_label(r) for r in sorted(roles)) or "none")
            + ". Nothing was changed."
        )
    existing = await session.scalar(select(DemoOutcome).where(DemoOutcome.occurrence_id == occ.id))
    if existing is not None:
        who = await session.get(Person, existing.recorded_by_id)
        raise UserError(
            f"The outcome of this demo is already recorded: {cards.OUTCOME_LABELS[existing.outcome]} "
            f"by {who.display_name if who else 'someone'} ({when(existing.recorded_at)}). "
            "Recorded outcomes are not changed."
        )
    if occ.status == "cancelled":
        raise UserError("That demo was cancelled; there is no outcome to record.")
    if now < occ.starts_at:
        raise UserError("That demo has not taken place yet; record the outcome after it.")


async def record_outcome(
    session: AsyncSession,
    core: Cadence,
    *,
    person: Person,
    occ_id: object,
    outcome: str,
    remarks: str | None,
    now: datetime,
) -> tuple[Engagement, Demo]:
    """Record the outcome of an occurrence: audited, and the outcome request edited into the result."""
    engagement, demo, occ = await outcome_target(session, occ_id)
    if outcome not in cards.OUTCOME_LABELS:
        raise UserError("That is not an outcome I know. Nothing was recorded.")
    await check_outcome(session, person, engagement, occ, now)
    remarks = clean(remarks, limit=MAX_TEXT, what="The remarks") or None
    if outcome in cards.NEEDS_REMARKS and not remarks:
        raise UserError(
            f"{cards.NEEDS_REMARKS[outcome]} are required for “{cards.OUTCOME_LABELS[outcome]}”.", field="remarks"
        )
    row = DemoOutcome(
        occurrence_id=occ.id,
        engagement_id=engagement.id,
        outcome=outcome,
        remarks=remarks,
        recorded_by_id=person.id,
        recorded_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        raise UserError(
            "Someone recorded this demo's outcome a moment ago; recorded outcomes are not changed."
        ) from None
    await audit.record(
        session,
        now=now,
        engagement_id=engagement.id,
        entity_type="demo_occurrence",
        entity_id=occ.id,
        action="outcome_recorded",
        to_state=outcome,
        actor=person,
        comment=remarks,
        data={
            "demo_id": demo.id,
            "demo": cards.demo_ref(engagement, demo),
            "title": demo.title,
            "starts_at": occ.starts_at.isoformat(),
        },
    )
    milestone = await milestone_of(session, engagement, demo.milestone_id)
    made: list[str] = []
    if milestone is not None and outcome == "not_accepted" and remarks:
        made = await _rectify(session, core, engagement, demo, milestone, remarks, person, now)
    await core.timers.cancel_prefix(session, f"{DEMOS.timer_prefix(occ)}outcome_remind:")
    card = cards.result_card(
        engagement, demo, occ, row, person, milestone=milestone_label(engagement, milestone), items=made
    )
    await core.outbox.update(session, f"demo:occ:{occ.id}:outcome", card)
    return engagement, demo


def reasons_of(remarks: str) -> tuple[str, ...]:
    """The reasons of a "not accepted" outcome, read as a rejection's are (one per line). The remarks were
    already accepted as the outcome's text, so instead of refusing them, the milestone's bounds are applied:
    at most MAX_REASONS items, each cut to MAX_REASON characters."""
    return tuple(truncate(line, MAX_REASON) for line in reason_lines(remarks)[:MAX_REASONS])


async def _rectify(
    session: AsyncSession,
    core: Cadence,
    engagement: Engagement,
    demo: Demo,
    milestone: Milestone,
    remarks: str,
    person: Person,
    now: datetime,
) -> list[str]:
    """A demo of a milestone not accepted: each reason becomes a rectification item of that milestone (the
    milestones feature's rule and card). Returns the items' ids."""
    locked = await milestone_queries.load(session, milestone.id, lock=True) or milestone
    items = await milestone_service.rectification(
        session,
        core,
        eng=engagement,
        m=locked,
        round_=locked.round,
        reasons=reasons_of(remarks),
        now=now,
        actor=person,
        source=cards.demo_ref(engagement, demo),
    )
    return [milestone_queries.item_ref(engagement, locked, i) for i in items]


# -- an outcome never recorded: the client's deciders reminded the next morning, once --------------------
def outcome_remind_key(occ: DemoOccurrence, person_id: int) -> str:
    return f"{DEMOS.timer_prefix(occ)}outcome_remind:{person_id}"


async def plan_outcome_reminders(
    session: AsyncSession, core: Cadence, engagement: Engagement, occ: DemoOccurrence, now: datetime
) -> None:
    """At the demo's end: one reminder each for the client sponsor and client PM, at 09:00 their time on their
    next work day (fired only if the outcome is still not recorded then)."""
    for person in await members_with_roles(session, engagement, OUTCOME_REMINDED):
        due, _ = next_workday_at(person, now, REMINDER_AT)  # the morning reminder time every job uses
        await core.timers.schedule(
            session,
            kind=OUTCOME_REMIND,
            due_at=due,
            key=outcome_remind_key(occ, person.id),
            payload={"occ": occ.id, "person": person.id},
            engagement_id=engagement.id,
        )
