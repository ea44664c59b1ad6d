"""A person's standup at a glance, for their home view (Slack App Home)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.standups.config import is_participant
from bot.features.standups.prompts import prompt_prefix
from bot.kernel import people
from bot.kernel.messages import Button, Card
from bot.kernel.text import when
from bot.kernel.timers import key_starts_with
from storage.models import Engagement, Membership, Person, Timer
from storage.models.standups import StandupEntry

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

ANSWER_TODAY = "standup.answer_today"


async def home_section(session: AsyncSession, core: Cadence, person: Person) -> list[Card]:
    now: datetime = core.clock.now()
    today = now.astimezone(people.zone(person)).date()
    cards = []
    for m in await session.scalars(select(Membership).where(Membership.person_id == person.id)):
        engagement = await session.get(Engagement, m.engagement_id)
        if engagement is None or not await is_participant(session, engagement, person):
            continue
        entry = await session.scalar(
            select(StandupEntry).where(
                StandupEntry.engagement_id == engagement.id,
                StandupEntry.person_id == person.id,
                StandupEntry.day == today,
            )
        )
        due = await session.scalar(
            select(Timer.due_at)
            .where(key_starts_with(session, prompt_prefix(engagement.id, person.id)), Timer.status == "pending")
            .order_by(Timer.due_at)
            .limit(1)
        )
        status = "answered today ✓" if entry is not None and entry.status == "answered" else "not answered today"
        nxt = f" · next prompt {when(due)}" if due else ""
        cards.append(
            Card(
                title=f"Standup · {engagement.key}",
                text=status + nxt,
                buttons=[
                    Button(
                        "Answer today's standup" if "not" in status else "Edit today's answers",
                        ANSWER_TODAY,
                        str(engagement.id),
                    )
                ],
            )
        )
    return cards
