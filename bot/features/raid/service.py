"""The RAID log's rules: adding an item and updating one. Every change is kept as history (who, when, old →
new), audited, and re-plans the owner's review reminder; a new red item, or one turned red, is posted in the
home channel. Items are never deleted: closing keeps the item and its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.raid import timers
from bot.features.raid.cards import red_notice
from bot.features.raid.queries import CLOSED, ENTITY, OPEN, home_today, people, ref
from bot.kernel import audit, engagements, sides
from bot.kernel.errors import UserError
from bot.kernel.people import membership_of
from bot.kernel.rows import must_get
from storage.models import Engagement, Person
from storage.models.raid import RaidChange, RaidItem

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence


async def require_seated(session: AsyncSession, eng: Engagement, person: Person) -> None:
    """An owner must hold a role on either side: someone the reminders and the channel can hold to account."""
    m = await membership_of(session, eng, person)
    if m is None or not m.roles:
        raise UserError(
            f"{person.display_name} is not seated in {eng.key} (no role on either side), so they can't own a RAID "
            "item. Seat them first (`/cadence role @name ROLE`). Nothing was changed."
        )


async def add(
    session: AsyncSession,
    core: Cadence,
    *,
    eng: Engagement,
    actor: Person,
    kind: str,
    text: str,
    owner: Person,
    status: str,
    review_on: date | None,
    now: datetime,
) -> RaidItem:
    await require_seated(session, eng, owner)
    item = RaidItem(
        engagement_id=eng.id,
        number=await engagements.next_number(session, eng.id, RaidItem.number, RaidItem.engagement_id),
        kind=kind,
        text=text,
        status=status,
        state=OPEN,
        owner_id=owner.id,
        created_by_id=actor.id,
        review_on=review_on,
        created_at=now,
        updated_at=now,
    )
    session.add(item)
    await session.flush()
    await audit.record(
        session,
        now=now,
        engagement_id=eng.id,
        entity_type=ENTITY,
        entity_id=item.id,
        action="add",
        to_state=status,
        actor=actor,
        data={
            "ref": ref(eng, item),
            "kind": kind,
            "text": text,
            "owner_id": owner.id,
            "review_on": review_on.isoformat() if review_on else None,
        },
    )
    await timers.plan_review(session, core, item, owner, now)
    if status == "red":
        who = await people(session, {owner.id, actor.id})
        card = red_notice(eng, item, who, actor, home_today(eng, now), new=True)
        await core.outbox.post_home(session, eng, card)
    return item


@dataclass
class Update:
    """What `/raid update` asks for; None: leave as it is."""

    status: str | None = None
    review_on: date | None = None
    owner: Person | None = None
    close: bool = False
    note: str | None = None


async def may_update(session: AsyncSession, eng: Engagement, item: RaidItem, actor: Person, roles: set[str]) -> bool:
    """The owner, whoever raised it, or an admin of the owner's side (the other company's admin cannot turn
    someone else's red risk green alone)."""
    if actor.id in (item.owner_id, item.created_by_id):
        return True
    return await sides.speaks_for(session, eng, roles, item.owner_id)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


async def update(
    session: AsyncSession,
    core: Cadence,
    *,
    eng: Engagement,
    item: RaidItem,
    actor: Person,
    roles: set[str],
    change: Update,
    now: datetime,
) -> dict[str, list[Any]]:
    """Apply `change`; returns what changed ({field: [old, new]}). Refused (UserError, nothing changed) unless
    `actor` may update the item, when it is closed, or when nothing would change."""
    r = ref(eng, item)
    if item.state == CLOSED:  # said to anyone: a closed item is history
        raise UserError(f"{r} is closed; add a new item instead. Nothing was changed.")
    if not await may_update(session, eng, item, actor, roles):
        raise UserError(
            f"Only the owner of {r}, whoever raised it, or an admin of the owner's side can update it. "
            "Nothing was changed."
        )
    if change.owner is not None:
        await require_seated(session, eng, change.owner)
    wanted: dict[str, Any] = {}
    if change.status is not None:
        wanted["status"] = change.status
    if change.review_on is not None:
        wanted["review_on"] = change.review_on
    if change.owner is not None:
        wanted["owner"] = change.owner.id
    if change.close:
        wanted["state"] = CLOSED
    current = {"status": item.status, "review_on": item.review_on, "owner": item.owner_id, "state": item.state}
    diff = {k: [_plain(current[k]), _plain(v)] for k, v in wanted.items() if current[k] != v}
    if not diff and not change.note:
        raise UserError(f"{r} already reads like that. Nothing was changed.")
    was_red = item.status == "red"
    if "status" in diff:
        item.status = str(change.status)
    if "review_on" in diff:
        item.review_on = change.review_on
    if "owner" in diff and change.owner is not None:
        item.owner_id = change.owner.id
    if "state" in diff:
        item.state, item.closed_at = CLOSED, now
    item.updated_at = now
    session.add(RaidChange(item_id=item.id, actor_id=actor.id, at=now, changes=diff, note=change.note))
    await audit.record(
        session,
        now=now,
        engagement_id=eng.id,
        entity_type=ENTITY,
        entity_id=item.id,
        action="close" if "state" in diff else "update",
        from_state=diff.get("status", [item.status])[0],
        to_state=item.status,
        actor=actor,
        comment=change.note,
        data={"ref": r, "changes": diff},
    )
    if {"review_on", "owner", "state"} & diff.keys():
        owner = change.owner if change.owner is not None else await must_get(session, Person, item.owner_id)
        await timers.plan_review(session, core, item, owner, now)
    if item.status == "red" and not was_red and item.state == OPEN:
        who = await people(session, {item.owner_id, actor.id})
        card = red_notice(eng, item, who, actor, home_today(eng, now), new=False)
        await core.outbox.post_home(session, eng, card)
    return diff
