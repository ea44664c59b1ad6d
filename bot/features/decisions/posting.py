"""Posting and refreshing the cards of decisions and action items: one card per item, or one per meeting's
minutes (the items keep the ref of the card they were posted in, so a dispute or a Done edits that card)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.decisions.cards import action_card, decision_card, minutes_card
from bot.features.decisions.queries import admin_ids, home_today, on_card, people
from bot.kernel.messages import Card
from storage.models import Engagement
from storage.models.decisions import ActionItem, Decision

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence


def _ids(decisions: list[Decision], items: list[ActionItem]) -> set[int | None]:
    ids: set[int | None] = set()
    for d in decisions:
        ids |= {d.decided_by_id, d.disputed_by_id}
    for i in items:
        ids |= {i.owner_id, i.created_by_id, i.done_by_id}
    return ids


async def build(session: AsyncSession, eng: Engagement, card_ref: str, now: datetime, meeting: str = "") -> Card | None:
    """The card posted under `card_ref`, as it reads now (None for a ref that is not ours)."""
    decisions, items = await on_card(session, card_ref)
    if not decisions and not items:
        return None
    names = await people(session, _ids(decisions, items))
    today, admins = home_today(eng, now), await admin_ids(session, eng)
    if card_ref.startswith("minutes:"):
        refs = [d.meeting_ref for d in decisions] + [i.meeting_ref for i in items]
        label = meeting or next((r for r in refs if r), None) or "a meeting"
        return minutes_card(eng, label, decisions, items, names, today, admins)
    if decisions:
        return decision_card(eng, decisions[0], names)
    return action_card(eng, items[0], names, today, admins)


async def post(session: AsyncSession, core: Cadence, eng: Engagement, card_ref: str, now: datetime) -> None:
    card = await build(session, eng, card_ref, now)
    if card is not None:
        await core.outbox.post_home(session, eng, card, ref_key=card_ref)


async def refresh(session: AsyncSession, core: Cadence, eng: Engagement, card_ref: str | None, now: datetime) -> None:
    """Edit the posted card in place, everywhere it was posted."""
    if not card_ref:
        return
    card = await build(session, eng, card_ref, now)
    if card is not None:
        await core.outbox.update(session, card_ref, card)
