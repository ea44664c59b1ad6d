"""Decisions' rules: recording one (who, when, the meeting that has just ended, an optional link), disputing
it (any seated member of either side, with a reason, within the dispute window of business days in the home
calendar; once), and recording a meeting's minutes (its decisions and action items together, in one card).
Every step is audited and said in the home channel; a decision is never edited afterwards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.decisions import actions, posting
from bot.features.decisions.queries import (
    Link,
    decision_key,
    decision_ref,
    dispute_closes,
    last_open_day,
    minutes_key,
)
from bot.features.decisions.settings import dispute_days
from bot.kernel import audit, engagements, sides
from bot.kernel.errors import UserError
from bot.kernel.messages import Card
from bot.kernel.text import day_text, truncate
from bot.kernel.text import person as mention
from storage.models import Engagement, Person
from storage.models.decisions import ActionItem, Decision
from storage.results import rowcount

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

ENTITY = "decision"


async def record(
    session: AsyncSession,
    core: Cadence,
    *,
    eng: Engagement,
    actor: Person,
    text: str,
    now: datetime,
    link: Link | None = None,
    meeting: tuple[int, int, str] | None = None,
    card_ref: str | None = None,
) -> Decision:
    """A decision, recorded at once and audited. Posted in its own card with a Dispute button unless `card_ref`
    names the card it goes into (a meeting's minutes, posted by the caller)."""
    d = Decision(
        engagement_id=eng.id,
        number=await engagements.next_number(session, eng.id, Decision.number, Decision.engagement_id),
        text=text,
        decided_by_id=actor.id,
        decided_at=now,
        meeting_id=meeting[0] if meeting else None,
        occurrence_id=meeting[1] if meeting else None,
        meeting_ref=meeting[2] if meeting else None,
        link_kind=link.kind if link else None,
        link_id=link.id if link else None,
        link_ref=link.ref if link else None,
        dispute_closes_at=dispute_closes(eng, now, dispute_days(eng)),
    )
    session.add(d)
    await session.flush()
    own_card = card_ref is None
    d.card_ref = card_ref or decision_key(d)
    data: dict[str, Any] = {"ref": decision_ref(eng, d), "dispute_closes_at": d.dispute_closes_at.isoformat()}
    if meeting:
        data["meeting"] = meeting[2]
    if link:
        data["link"] = link.ref
    await audit.record(
        session,
        now=now,
        engagement_id=eng.id,
        entity_type=ENTITY,
        entity_id=d.id,
        action="recorded",
        actor=actor,
        comment=text,
        data=data,
    )
    if own_card:
        await posting.post(session, core, eng, d.card_ref, now)
    return d


def check_open(eng: Engagement, d: Decision, now: datetime) -> None:
    """Refuse a dispute of a decision already disputed or whose window has closed (saying when it closed)."""
    r = decision_ref(eng, d)
    if d.disputed_at is not None:
        raise UserError(f"{r} is already disputed ({truncate(d.dispute_reason or '', 200)}). Nothing changed.")
    if now >= d.dispute_closes_at:
        raise UserError(
            f"{r} can no longer be disputed: the window closed at the end of {day_text(last_open_day(eng, d))} "
            f"({dispute_days(eng)} business days in {eng.key}'s home calendar, {eng.home_tz}). Nothing changed."
        )


async def dispute(
    session: AsyncSession,
    core: Cadence,
    *,
    eng: Engagement,
    d: Decision,
    actor: Person,
    roles: set[str],
    reason: str,
    now: datetime,
) -> str:
    """Mark `d` disputed: any seated member of either side, with a reason, within the window; exactly once."""
    side = sides.side_of(roles)
    if side is None:
        raise UserError(f"Only members seated in {eng.key} can dispute its decisions.")
    if not reason:
        raise UserError("Say why it is disputed. Nothing changed.")
    check_open(eng, d, now)
    won = await session.execute(
        update(Decision)
        .where(Decision.id == d.id, Decision.disputed_at.is_(None), Decision.dispute_closes_at > now)
        .values(disputed_at=now, disputed_by_id=actor.id, dispute_reason=reason)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(d)
    if rowcount(won) != 1:
        check_open(eng, d, now)  # someone else was first: say who and why
        raise UserError(f"{decision_ref(eng, d)} can no longer be disputed. Nothing changed.")
    r = decision_ref(eng, d)
    await audit.record(
        session,
        now=now,
        engagement_id=eng.id,
        entity_type=ENTITY,
        entity_id=d.id,
        action="disputed",
        actor=actor,
        comment=reason,
        data={"ref": r, "side": side},
    )
    await posting.refresh(session, core, eng, d.card_ref, now)
    await core.outbox.post_home(
        session,
        eng,
        Card(
            text=f"⚠️ {mention(actor.id, actor.display_name)} ({side} side) disputed {r} “{truncate(d.text, 200)}”: "
            f"{reason}",
            tone="warning",
        ),
    )
    return f"You disputed {r}; said in the home channel."


# -- a meeting's minutes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionDraft:
    owner: Person
    text: str
    due: date


async def record_minutes(
    session: AsyncSession,
    core: Cadence,
    *,
    eng: Engagement,
    actor: Person,
    meeting: tuple[int, int, str],
    decisions: list[tuple[str, Link | None]],
    drafts: list[ActionDraft],
    now: datetime,
) -> tuple[list[Decision], list[ActionItem]]:
    """Every decision and action item of one meeting, linked to it, posted together in the meeting's card (a
    second submission adds to that card and edits it)."""
    key = minutes_key(meeting[1])
    made = [
        await record(session, core, eng=eng, actor=actor, text=text, now=now, link=link, meeting=meeting, card_ref=key)
        for text, link in decisions
    ]
    items = [
        await actions.create(
            session,
            core,
            eng=eng,
            actor=actor,
            owner=a.owner,
            text=a.text,
            due=a.due,
            now=now,
            meeting=meeting,
            card_ref=key,
        )
        for a in drafts
    ]
    card = await posting.build(session, eng, key, now, meeting[2])
    # A second submission for the same meeting edits the card already posted.
    if card is not None and not await core.outbox.update(session, key, card):
        await core.outbox.post_home(session, eng, card, ref_key=key)
    return made, items
