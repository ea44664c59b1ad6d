"""The RAID log's part of every meeting agenda (`registry.add_agenda_section("raid", order=60, …)`): the open
items that are red or past their review date, read from the log at the moment the agenda is built."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.raid.cards import line
from bot.features.raid.queries import attention, home_today, people
from storage.models import Engagement


async def lines(session: AsyncSession, engagement: Engagement, now: datetime, kind: str) -> list[str]:
    """One line per red or past-review item, reds first (the same for every kind of meeting)."""
    items = await attention(session, engagement, now)
    owners = await people(session, {i.owner_id for i in items})
    today = home_today(engagement, now)
    return [line(engagement, i, owners, today, limit=100) for i in items]
