"""A bound channel whose id changed. Slack gives a private channel a new id (G… becomes C…) when it is
shared with another organization (Slack Connect, event `channel_id_changed`), "even if the channel is never
successfully shared"; without this the engagement would lose its home: posts to the old id fail for good.
The binding, the places messages were posted (so later updates still edit them) and the messages still
waiting in the outbox follow the new id."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.kernel.outbox import UNSENT
from bot.kernel.text import plural
from storage.models import ChannelBinding, MessageRef, OutboxMessage

log = logging.getLogger("cadence.channel_moves")


async def move_channel(session: AsyncSession, *, platform: str, workspace_id: str, old: str, new: str) -> int:
    """Point everything bound to channel `old` at `new`; returns how many bindings moved."""
    if not old or not new or old == new:
        return 0
    bindings = list(
        await session.scalars(
            select(ChannelBinding).where(
                ChannelBinding.platform == platform,
                ChannelBinding.workspace_id == workspace_id,
                ChannelBinding.channel_id == old,
            )
        )
    )
    for binding in bindings:
        binding.channel_id = new
        binding.failed_reason = None  # a failure on the old id says nothing about the new one
    refs = await session.scalars(
        select(MessageRef).where(
            MessageRef.platform == platform, MessageRef.workspace_id == workspace_id, MessageRef.channel_id == old
        )
    )
    for ref in refs:
        ref.channel_id = new
    old_key, new_key = f"{platform}:{workspace_id}:{old}", f"{platform}:{workspace_id}:{new}"
    waiting = await session.scalars(
        select(OutboxMessage).where(OutboxMessage.conversation_key == old_key, OutboxMessage.status.in_(UNSENT))
    )
    for msg in waiting:
        msg.conversation_key = new_key
        msg.address = {**(msg.address or {}), "channel_id": new}
    if bindings:
        log.info("%s channel %s is now %s (%s)", platform, old, new, plural(len(bindings), "binding") + " moved")
    return len(bindings)
