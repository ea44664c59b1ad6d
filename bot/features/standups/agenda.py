"""Standups' part of every meeting agenda (`registry.add_agenda_section("standups", order=30, …)`): the open
blockers from standups — who, since when, the text shortened — read at the moment the agenda is built. A
blocker repeated on later days is one blocker, dated from the day it was first raised."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.kernel.rows import must_get
from bot.kernel.text import day_text, truncate
from bot.kernel.text import person as mention
from storage.models import Engagement, Person
from storage.models.standups import StandupEntry

TITLE = "Open blockers from standups"


async def lines(session: AsyncSession, engagement: Engagement, now: datetime, kind: str) -> list[str]:
    """One line per open blocker, oldest first: `@dev since Mon 4 Jan 2027: Waiting for sandbox keys…`."""
    rows = list(
        await session.scalars(
            select(StandupEntry)
            .where(
                StandupEntry.engagement_id == engagement.id,
                StandupEntry.blocker.is_not(None),
                StandupEntry.blocker_closed_at.is_(None),
                StandupEntry.answered_at.is_not(None),
            )
            .order_by(StandupEntry.day, StandupEntry.id)
        )
    )
    latest: dict[int, StandupEntry] = {}
    for e in rows:  # a repeat stands for its first raising; its latest wording is shown
        latest[e.blocker_of_id or e.id] = e
    out = []
    for root_id, e in latest.items():
        root = e if root_id == e.id else await must_get(session, StandupEntry, root_id)
        who = await must_get(session, Person, e.person_id)
        since, name = root.day, mention(who.id, who.display_name)
        out.append(
            (since, root_id, f"{name} since {day_text(since)}: {truncate(' '.join((e.blocker or '').split()), 100)}")
        )
    return [line for *_, line in sorted(out)]
