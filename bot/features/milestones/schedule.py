"""Planning the milestones' timers. Timers are rows whose keys say what, for whom and for which local date
(or round), so a duplicate is impossible: a fired key is never scheduled again, and re-planning (a moved
due date, a new round) cancels what is pending and schedules under the new keys."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.milestones.queries import calendar_of
from bot.features.milestones.settings import morning, settings
from bot.kernel.people import members_with_roles, next_workday_at, zone
from storage.models import Engagement, Person
from storage.models.milestones import Milestone, MilestoneChange, MilestoneRound, ProjectAcceptance, RectificationItem

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

DUE_SOON = "milestone.due_soon"  # a vendor admin, a few business days before the due date
DUE_TODAY = "milestone.due_today"  # the channel, on the due date
OVERDUE = "milestone.overdue"  # the channel, the morning after the due date, once per due date
APPROVER = "milestone.approver"  # a client approver, each work-day morning while a window is open
WINDOW_END = "milestone.window_end"  # the window of one round ends
WARRANTY_REVIEW = "milestone.warranty_review"  # both PMs, before the warranty ends
CHANGE_REMIND = "milestone.change_remind"  # a deciding admin, while a due-date proposal waits
ITEM_OVERDUE = "milestone.item_overdue"  # the vendor admins, once, when a rectification item is late
# A pending due-date proposal is reminded like a contract amendment: each admin of the deciding side at this
# local time on their next work day.
REMIND_AT = time(10, 0)

VENDOR_ADMINS = ("vendor_pm", "vendor_lead")
APPROVERS = ("client_sponsor", "client_pm")
PMS = ("client_pm", "vendor_pm")
# Still waiting for a submission: the due date matters.
DUE_STATES = ("planned", "rejected")


def due_soon_key(m: Milestone, person_id: int, day: object) -> str:
    return f"{DUE_SOON}:{m.id}:{person_id}:{day}"


def approver_key(m: Milestone, round_: int, person_id: int, day: object) -> str:
    return f"{APPROVER}:{m.id}:{round_}:{person_id}:{day}"


def window_key(m: Milestone, round_: int) -> str:
    return f"{WINDOW_END}:{m.id}:{round_}"


async def cancel_due(session: AsyncSession, core: Cadence, m: Milestone) -> None:
    for kind in (DUE_SOON, DUE_TODAY, OVERDUE):
        await core.timers.cancel_prefix(session, f"{kind}:{m.id}:")


async def plan_due(session: AsyncSession, core: Cadence, eng: Engagement, m: Milestone, now: datetime) -> None:
    """The due date's reminders, from scratch: vendor admins N business days before at their own morning,
    the channel on the day at the home zone's morning, an overdue flag the morning after. Only what is still
    ahead is scheduled."""
    await cancel_due(session, core, m)
    if m.state not in DUE_STATES:
        return
    cal, at = calendar_of(eng), morning(eng)
    day = cal.subtract_days(m.due_date, int(settings(eng)["due_reminder_days"]))
    payload = {"milestone_id": m.id, "due": m.due_date.isoformat()}
    for p in await members_with_roles(session, eng, VENDOR_ADMINS):
        due = datetime.combine(day, at, tzinfo=zone(p))
        if due > now:
            await core.timers.schedule(
                session,
                kind=DUE_SOON,
                due_at=due,
                key=due_soon_key(m, p.id, day.isoformat()),
                payload={**payload, "person_id": p.id},
                engagement_id=eng.id,
            )
    today = cal.at(m.due_date, at)
    if today > now:
        await core.timers.schedule(
            session,
            kind=DUE_TODAY,
            due_at=today,
            key=f"{DUE_TODAY}:{m.id}:{m.due_date.isoformat()}",
            payload=payload,
            engagement_id=eng.id,
        )
    after = cal.at(m.due_date + timedelta(days=1), at)
    if after > now:
        await core.timers.schedule(
            session,
            kind=OVERDUE,
            due_at=after,
            key=f"{OVERDUE}:{m.id}:{m.due_date.isoformat()}",
            payload=payload,
            engagement_id=eng.id,
        )


async def schedule_approver(
    session: AsyncSession,
    core: Cadence,
    eng: Engagement,
    m: Milestone,
    rnd: MilestoneRound,
    person: Person,
    after: datetime,
) -> None:
    """The approver's next work-day morning, if the window is still open then."""
    due, day = next_workday_at(person, after, morning(eng))
    if due >= rnd.window_ends_at:
        return
    await core.timers.schedule(
        session,
        kind=APPROVER,
        due_at=due,
        key=approver_key(m, rnd.round, person.id, day.isoformat()),
        payload={"milestone_id": m.id, "round": rnd.round, "person_id": person.id},
        engagement_id=eng.id,
    )


async def plan_round(
    session: AsyncSession, core: Cadence, eng: Engagement, m: Milestone, rnd: MilestoneRound, now: datetime
) -> None:
    """A new round: the approvers' morning reminders and the window's end."""
    for p in await members_with_roles(session, eng, APPROVERS):
        await schedule_approver(session, core, eng, m, rnd, p, now)
    await core.timers.schedule(
        session,
        kind=WINDOW_END,
        due_at=rnd.window_ends_at,
        key=window_key(m, rnd.round),
        payload={"milestone_id": m.id, "round": rnd.round},
        engagement_id=eng.id,
    )


async def cancel_round(session: AsyncSession, core: Cadence, m: Milestone, round_: int, *, window: bool = True) -> None:
    await core.timers.cancel_prefix(session, f"{APPROVER}:{m.id}:{round_}:")
    if window:
        await core.timers.cancel(session, window_key(m, round_))


async def plan_warranty_review(
    session: AsyncSession, core: Cadence, eng: Engagement, record: ProjectAcceptance, now: datetime
) -> None:
    """Ask both PMs to hold the warranty review N days before the warranty ends (the home zone's morning);
    at once when the warranty is shorter than that from now."""
    cal = calendar_of(eng)
    day = record.warranty_until - timedelta(days=int(settings(eng)["review_days_before"]))
    await core.timers.schedule(
        session,
        kind=WARRANTY_REVIEW,
        due_at=max(cal.at(day, morning(eng)), now),
        key=f"{WARRANTY_REVIEW}:{eng.id}",
        payload={"engagement_id": eng.id, "until": record.warranty_until.isoformat()},
        engagement_id=eng.id,
    )


async def schedule_change_reminder(
    session: AsyncSession, core: Cadence, eng: Engagement, change: MilestoneChange, person: Person, after: datetime
) -> None:
    """Remind a deciding admin of a pending due-date proposal at 10:00 their time on their next work day."""
    due, day = next_workday_at(person, after, REMIND_AT)
    await core.timers.schedule(
        session,
        kind=CHANGE_REMIND,
        due_at=due,
        # One per proposal, admin and local date.
        key=f"{CHANGE_REMIND}:{change.id}:{person.id}:{day.isoformat()}",
        payload={"change_id": change.id, "person_id": person.id},
        engagement_id=eng.id,
    )


async def cancel_change_reminders(session: AsyncSession, core: Cadence, change: MilestoneChange) -> None:
    await core.timers.cancel_prefix(session, f"{CHANGE_REMIND}:{change.id}:")


async def plan_item_overdue(
    session: AsyncSession, core: Cadence, eng: Engagement, item: RectificationItem, now: datetime
) -> None:
    """Flag a rectification item still open after its due date to the vendor admins, once (the morning after,
    in the client's calendar: the due date is theirs)."""
    cal = calendar_of(eng)
    await core.timers.schedule(
        session,
        kind=ITEM_OVERDUE,
        due_at=max(cal.at(item.due_date + timedelta(days=1), morning(eng)), now),
        key=f"{ITEM_OVERDUE}:{item.id}",
        payload={"item_id": item.id},
        engagement_id=eng.id,
    )
