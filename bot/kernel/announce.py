"""Nothing that changes the rules is private: a change of seats, terms or policies is posted in the home
channel (through the outbox, in the same transaction) and appended to the audit log, in one call."""

from __future__ import annotations

from typing import Any

from bot.kernel import audit
from bot.kernel.context import Ctx
from bot.kernel.messages import Card
from storage.models import AuditEntry, Engagement


async def rule_change(
    ctx: Ctx,
    engagement: Engagement,
    card: Card,
    *,
    entity_type: str,
    entity_id: int | None,
    action: str,
    data: dict[str, Any] | None = None,
    comment: str | None = None,
) -> AuditEntry:
    """Post `card` in every home of `engagement` and record the change (who, when, what)."""
    await ctx.core.outbox.post_home(ctx.session, engagement, card)
    return await audit.record(
        ctx.session,
        now=ctx.now,
        engagement_id=engagement.id,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        actor=ctx.person,
        comment=comment,
        data=data,
    )
