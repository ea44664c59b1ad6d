"""Action items' rules: who may own one (a seated member; from a standup blocker, a member of the client side),
which due dates are accepted (today or later, read in the speaker's zone), creating one (audited, posted, its
timers planned) and marking it done (the owner, the creator, or an admin of the owner's side; its timers dropped)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.decisions import posting, timers
from bot.features.decisions.queries import action_key, action_ref, home_today
from bot.kernel import audit, engagements, sides
from bot.kernel.errors import UserError
from bot.kernel.people import membership_of
from bot.kernel.text import day_text, when
from bot.shared.dates import read_day_ahead
from storage.models import Engagement, Person
from storage.models.decisions import ActionItem
from storage.results import rowcount

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

ENTITY = "action_item"
# An action item is for the next weeks: a due date further ahead than this is a typo more often than a plan.
MAX_YEARS_AHEAD = 2


@dataclass(frozen=True)
class Due:
    day: date
    read: str  # how the phrase was read: "“fri” read as Fri 8 Jan 2027 in your zone, Asia/Kolkata"


def read_due(phrase: str, *, now: datetime, tz: ZoneInfo) -> Due:
    """A due date typed in plain language (bot/shared/dates.py: read_day_ahead, like milestones' `due`), read in
    the speaker's zone; a past date, or one years ahead, is refused with how it was read."""
    if not " ".join((phrase or "").split()):
        raise UserError("When is it due? e.g. `by fri` or `by 2027-03-01`.")
    return Due(*read_day_ahead(phrase, now=now, tz=tz, years=MAX_YEARS_AHEAD))


async def check_owner(session: AsyncSession, eng: Engagement, owner: Person, *, client_only: bool = False) -> None:
    ms = await membership_of(session, eng, owner)
    roles = set(ms.roles or []) if ms else set()
    if not roles:
        raise UserError(f"{owner.display_name} is not seated in {eng.key}; an action item's owner must be.")
    if client_only and sides.side_of(roles) != "client":
        raise UserError(f"{owner.display_name} is not on the client side; an action for the client needs one.")


async def create(
    session: AsyncSession,
    core: Cadence,
    *,
    eng: Engagement,
    actor: Person,
    owner: Person,
    text: str,
    due: date,
    now: datetime,
    meeting: tuple[int, int, str] | None = None,
    from_standup_answer_id: int | None = None,
    card_ref: str | None = None,
) -> ActionItem:
    """A new open action item, audited, with its timers. Posted in its own card unless `card_ref` names the
    card it goes into (a meeting's minutes, posted by the caller)."""
    item = ActionItem(
        engagement_id=eng.id,
        number=await engagements.next_number(session, eng.id, ActionItem.number, ActionItem.engagement_id),
        text=text,
        owner_id=owner.id,
        created_by_id=actor.id,
        created_at=now,
        due_date=due,
        state="open",
        meeting_id=meeting[0] if meeting else None,
        occurrence_id=meeting[1] if meeting else None,
        meeting_ref=meeting[2] if meeting else None,
        from_standup_answer_id=from_standup_answer_id,
    )
    session.add(item)
    await session.flush()
    own_card = card_ref is None
    item.card_ref = card_ref or action_key(item)
    data: dict[str, Any] = {"ref": action_ref(eng, item), "owner": owner.id, "due": due.isoformat()}
    if meeting:
        data["meeting"] = meeting[2]
    if from_standup_answer_id:
        data["from_standup_answer"] = from_standup_answer_id
    await audit.record(
        session,
        now=now,
        engagement_id=eng.id,
        entity_type=ENTITY,
        entity_id=item.id,
        action="created",
        to_state="open",
        actor=actor,
        comment=text,
        data=data,
    )
    await timers.plan(session, core, eng, item, now)
    if own_card:
        await posting.post(session, core, eng, item.card_ref, now)
    return item


async def mark_done(
    session: AsyncSession,
    core: Cadence,
    *,
    eng: Engagement,
    item: ActionItem,
    actor: Person,
    roles: set[str],
    now: datetime,
) -> str:
    """Done, by the owner, the creator or an admin of the owner's side (the other company's admin cannot close
    someone else's item alone); exactly once (a conditional update)."""
    r = action_ref(eng, item)
    if actor.id not in (item.owner_id, item.created_by_id) and not await sides.speaks_for(
        session, eng, roles, item.owner_id
    ):
        raise UserError(
            f"Only {r}'s owner, whoever recorded it, or an admin of the owner's side can mark it done. Nothing changed."
        )
    won = await session.execute(
        update(ActionItem)
        .where(ActionItem.id == item.id, ActionItem.state == "open")
        .values(state="done", done_at=now, done_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(item)
    if rowcount(won) != 1:
        when_done = f" {when(item.done_at)}" if item.done_at else ""
        raise UserError(f"{r} was already marked done{when_done}. Nothing changed.")
    await audit.record(
        session,
        now=now,
        engagement_id=eng.id,
        entity_type=ENTITY,
        entity_id=item.id,
        action="done",
        from_state="open",
        to_state="done",
        actor=actor,
        data={"ref": r},
    )
    await timers.cancel(session, core, item)
    await posting.refresh(session, core, eng, item.card_ref, now)
    late = item.due_date < home_today(eng, now)
    return f"Marked {r} done" + (f" (it was due {day_text(item.due_date)})." if late else ".")
