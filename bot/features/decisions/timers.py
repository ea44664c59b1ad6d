"""Action items' timers, as rows: the owner's reminder at their local morning on the due day (their last work
day before it when the due day is not one), and the overdue flag in the channel the morning after the due day
(home zone), once. Keys hold the item and its due date, so a duplicate is impossible and a fired one never
comes back; marking an item done drops both. Each handler checks the item is still open, still due that day
and still owned by that person; otherwise it does nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.decisions.cards import overdue_card, reminder_card
from bot.features.decisions.queries import admin_ids, load_action, open_actions_of_owner, people
from bot.features.milestones.queries import calendar_of
from bot.kernel.context import TimerCtx
from bot.kernel.people import REMINDER_AT, is_workday, membership_of, zone
from bot.kernel.rows import must_get
from storage.models import Engagement, Person
from storage.models.decisions import ActionItem

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

REMIND = "action.remind"  # the owner, at their morning on the due day
OVERDUE = "action.overdue"  # the home channel, the morning after the due day, once


def remind_day(owner: Person, due: date) -> date:
    """The due day, or the owner's last work day before it when the due day is not one of theirs."""
    day = due
    for _ in range(7):
        if is_workday(owner, day):
            return day
        day -= timedelta(days=1)
    return due


def remind_at(owner: Person, due: date) -> datetime:
    return datetime.combine(remind_day(owner, due), REMINDER_AT, tzinfo=zone(owner))


def overdue_at(eng: Engagement, due: date) -> datetime:
    return calendar_of(eng).at(due + timedelta(days=1), REMINDER_AT)


async def cancel(session: AsyncSession, core: Cadence, item: ActionItem) -> None:
    await core.timers.cancel_prefix(session, f"{REMIND}:{item.id}:")
    await core.timers.cancel_prefix(session, f"{OVERDUE}:{item.id}:")


async def plan(session: AsyncSession, core: Cadence, eng: Engagement, item: ActionItem, now: datetime) -> None:
    """The item's timers from scratch; only what is still ahead is scheduled."""
    await cancel(session, core, item)
    if item.state != "open":
        return
    owner = await must_get(session, Person, item.owner_id)
    due = item.due_date.isoformat()
    payload = {"action_id": item.id, "due": due, "owner_id": owner.id}
    at = remind_at(owner, item.due_date)
    if at > now:
        await core.timers.schedule(
            session, kind=REMIND, due_at=at, key=f"{REMIND}:{item.id}:{due}", payload=payload, engagement_id=eng.id
        )
    flag = overdue_at(eng, item.due_date)
    await core.timers.schedule(
        session,
        kind=OVERDUE,
        due_at=max(flag, now),
        key=f"{OVERDUE}:{item.id}:{due}",
        payload=payload,
        engagement_id=eng.id,
    )


async def _current(tctx: TimerCtx) -> tuple[ActionItem, Engagement] | None:
    """The item the timer is about, if it is still open, due that day and owned by that person."""
    try:
        item = await load_action(tctx.session, int(tctx.payload.get("action_id") or 0))
    except (TypeError, ValueError):
        return None
    if item is None or item.state != "open" or item.due_date.isoformat() != tctx.payload.get("due"):
        return None
    if item.owner_id != tctx.payload.get("owner_id"):
        return None
    return item, await must_get(tctx.session, Engagement, item.engagement_id)


async def on_remind(tctx: TimerCtx) -> None:
    found = await _current(tctx)
    if found is None:
        return
    item, eng = found
    owner = await must_get(tctx.session, Person, item.owner_id)
    seat = await membership_of(tctx.session, eng, owner)
    if seat is None or not seat.roles:  # no longer seated: the overdue flag still tells the channel
        return
    card = reminder_card(eng, item, await admin_ids(tctx.session, eng))
    await tctx.core.outbox.dm(tctx.session, owner, card, engagement_id=eng.id)


async def on_overdue(tctx: TimerCtx) -> None:
    found = await _current(tctx)
    if found is None or found[0].overdue_flagged_at is not None:
        return
    item, eng = found
    item.overdue_flagged_at = tctx.now
    names = await people(tctx.session, {item.owner_id})
    await tctx.core.outbox.post_home(tctx.session, eng, overdue_card(eng, item, names))


async def on_tz_changed(session: AsyncSession, core: Cadence, person: Person, **_: object) -> None:
    """A new zone moves the owner's reminders to their new morning."""
    now = core.clock.now()
    for item in await open_actions_of_owner(session, person):
        eng = await must_get(session, Engagement, item.engagement_id)
        await plan(session, core, eng, item, now)
