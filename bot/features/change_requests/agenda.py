"""Change requests' part of every meeting agenda (`registry.add_agenda_section("change_requests", order=10, …)`):
the requests waiting for a decision, whose approval is missing, and for how long — read at the moment the agenda
is built, through this feature's queries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.change_requests.cards import ref
from bot.features.change_requests.queries import people, tally_of
from bot.features.change_requests.states import State
from bot.kernel.text import duration, truncate, when
from bot.kernel.text import person as mention
from storage.models import Engagement
from storage.models.change_requests import ChangeRequest

TITLE = "Change requests waiting for a decision"


async def lines(session: AsyncSession, engagement: Engagement, now: datetime, kind: str) -> list[str]:
    """One line per request pending approval, longest waiting first: `ACME-CR-3 · Title — waiting for @a, @b
    for 2 d 4 h (since …)`."""
    rows = list(
        await session.scalars(
            select(ChangeRequest)
            .where(ChangeRequest.engagement_id == engagement.id, ChangeRequest.state == State.PENDING_APPROVAL.value)
            .order_by(ChangeRequest.pending_since, ChangeRequest.number)
        )
    )
    out = []
    for cr in rows:
        waiting = (await tally_of(session, cr, engagement)).waiting_for()
        ppl = await people(session, set(waiting))
        names = ", ".join(mention(pid, ppl[pid].display_name) for pid in waiting if pid in ppl)
        since = cr.pending_since or cr.updated_at
        out.append(
            f"{ref(engagement, cr)} · {truncate(cr.title, 80)} — waiting for {names or 'an approver to be seated'} "
            f"for {duration(now - since)} (since {when(since, 'date')})"
        )
    return out
