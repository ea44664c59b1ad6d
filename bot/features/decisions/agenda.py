"""This feature's parts of every meeting's agenda (`registry.add_agenda_section`), read from live data at the
moment the agenda is built: open action items due on or before the meeting's day (overdue first), and the
decisions disputed since the last meeting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.decisions.queries import action_ref, actions_of, decision_ref, home_today, last_meeting_end, people
from bot.kernel.text import day_text, truncate
from bot.kernel.text import person as mention
from storage.models import Engagement
from storage.models.decisions import Decision

ACTIONS_TITLE = "Action items due or overdue"
DISPUTED_TITLE = "Decisions disputed since the last meeting"


async def action_lines(session: AsyncSession, engagement: Engagement, now: datetime, kind: str) -> list[str]:
    """Each open item due on or before the meeting's day (the home zone's date when the agenda is built, an
    hour or so before it starts), with its owner and due date; overdue ones first (earliest due first)."""
    today = home_today(engagement, now)
    due = [i for i in await actions_of(session, engagement, open_only=True) if i.due_date <= today]
    names = await people(session, {i.owner_id for i in due})
    lines = []
    for i in sorted(due, key=lambda i: (i.due_date >= today, i.due_date, i.number)):
        owner = names.get(i.owner_id)
        who = mention(owner.id, owner.display_name) if owner else "?"
        state = f"overdue since {day_text(i.due_date)}" if i.due_date < today else "due today"
        lines.append(f"{action_ref(engagement, i)} · {truncate(i.text, 150)} — {who}, {state}")
    return lines


async def disputed_lines(session: AsyncSession, engagement: Engagement, now: datetime, kind: str) -> list[str]:
    since = await last_meeting_end(session, engagement, now)
    found = list(
        await session.scalars(
            select(Decision)
            .where(Decision.engagement_id == engagement.id, Decision.disputed_at > since, Decision.disputed_at <= now)
            .order_by(Decision.number)
        )
    )
    names = await people(session, {d.disputed_by_id for d in found})
    lines = []
    for d in found:
        by = names.get(d.disputed_by_id or 0)
        who = mention(by.id, by.display_name) if by else "?"
        lines.append(
            f"{decision_ref(engagement, d)} · {truncate(d.text, 120)} — disputed by {who}: "
            f"{truncate(d.dispute_reason or '', 200)}"
        )
    return lines
