"""A notice: a timer kind that posts a card to an engagement's home channel(s) when it is due.

The smallest real promise Cadence keeps — "tell the channel X at time T" — used by operators and by the
reliability tests and benchmarks (every notice must arrive exactly once, whatever the replicas do)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.kernel.context import TimerCtx
from bot.kernel.messages import Card
from bot.kernel.registry import Registry
from bot.kernel.text import clean
from storage.models import Engagement, Timer

KIND = "cadence.notice"


async def schedule(
    session: AsyncSession,
    core: Any,
    engagement: Engagement,
    *,
    due_at: datetime,
    title: str,
    text: str = "",
    key: str | None = None,
) -> Timer:
    """Post `title`/`text` to the engagement's home at `due_at` (once, even with several replicas)."""
    return await core.timers.schedule(
        session,
        kind=KIND,
        due_at=due_at,
        key=key,
        engagement_id=engagement.id,
        payload={
            "engagement_id": engagement.id,
            "title": clean(title, limit=200, what="A notice title"),
            "text": clean(text, limit=3000, what="A notice text"),
        },
    )


async def fire(tctx: TimerCtx) -> None:
    payload = tctx.timer.payload or {}
    engagement = await tctx.session.get(Engagement, payload.get("engagement_id") or tctx.timer.engagement_id)
    if engagement is None:
        return  # the engagement is gone: nothing to tell
    card = Card(title=str(payload.get("title") or "Notice"), text=str(payload.get("text") or ""))
    await tctx.core.outbox.post_home(tctx.session, engagement, card)


def register(registry: Registry) -> None:
    registry.add_timer(KIND, fire)
