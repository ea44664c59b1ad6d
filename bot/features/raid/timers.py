"""The owner's review reminder: a timer row per item, owner and review date, due at the owner's own morning
(`bot.kernel.people.REMINDER_AT`, their zone) on the review date. A new review date or a new owner replaces it
(the pending one is cancelled, the new key scheduled); closing the item drops it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.raid.cards import reminder_card
from bot.features.raid.queries import OPEN
from bot.kernel.context import TimerCtx
from bot.kernel.people import REMINDER_AT, zone
from bot.kernel.rows import must_get
from storage.models import Engagement, Person
from storage.models.raid import RaidItem

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

REVIEW = "raid.review"


def review_key(item: RaidItem) -> str:
    # What, for whom, which date: a duplicate is impossible, and a changed date or owner is a new key.
    return f"{REVIEW}:{item.id}:{item.owner_id}:{item.review_on.isoformat() if item.review_on else ''}"


async def cancel_review(session: AsyncSession, core: Cadence, item: RaidItem) -> None:
    await core.timers.cancel_prefix(session, f"{REVIEW}:{item.id}:")


async def plan_review(
    session: AsyncSession, core: Cadence, item: RaidItem, owner: Person, now: datetime, *, late: bool = True
) -> None:
    """From scratch: the pending reminder is dropped, and one is scheduled while the item is open and has a
    review date. A date whose morning has already passed (today, set in the afternoon) is reminded at once;
    with `late` False (re-planning after a change of zone) a date already past in the owner's zone is not."""
    await cancel_review(session, core, item)
    if item.state != OPEN or item.review_on is None:
        return
    if not late and item.review_on < now.astimezone(zone(owner)).date():
        return
    due = datetime.combine(item.review_on, REMINDER_AT, tzinfo=zone(owner))
    await core.timers.schedule(
        session,
        kind=REVIEW,
        due_at=max(due, now),
        key=review_key(item),
        payload={"item_id": item.id, "owner_id": owner.id, "review_on": item.review_on.isoformat()},
        engagement_id=item.engagement_id,
    )


async def on_review(tctx: TimerCtx) -> None:
    """The review date has come: remind the owner by DM (the kernel falls back to the channel for someone who
    cannot be reached by DM). Nothing when the item was closed, re-dated or handed over since."""
    p = tctx.payload
    item = await tctx.session.get(RaidItem, int(p.get("item_id", 0)))
    if item is None or item.state != OPEN or item.owner_id != p.get("owner_id"):
        return
    if item.review_on is None or item.review_on.isoformat() != p.get("review_on"):
        return
    owner = await must_get(tctx.session, Person, item.owner_id)
    eng = await must_get(tctx.session, Engagement, item.engagement_id)
    await tctx.core.outbox.dm(tctx.session, owner, reminder_card(eng, item), engagement_id=eng.id)


async def owner_moved(session: AsyncSession, core: Cadence, *, person: Person, **_: object) -> None:
    """An owner's zone changed: their pending review reminders move to their new local morning."""
    items = await session.scalars(
        select(RaidItem).where(RaidItem.owner_id == person.id, RaidItem.state == OPEN, RaidItem.review_on.is_not(None))
    )
    for item in items:
        await plan_review(session, core, item, person, core.clock.now(), late=False)
