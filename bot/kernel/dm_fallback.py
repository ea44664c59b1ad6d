"""No message lost to a direct message that cannot be delivered.

A DM can fail for good: the person is a member of another company's workspace in a Slack Connect channel
(`invalid_user_combination`, `cannot_dm_bot`), their admin forbids DMs from apps, or on Teams the bot cannot
open a 1:1 chat across tenants. Then what Cadence had to say goes to the engagement's channel instead, as a
reply in one thread per person that mentions them. Their identity keeps the failure (`unreachable_reason`),
so later DMs go straight to the thread, until they write to Cadence directly again (core._context clears
it: a DM works again). Platform-neutral: a front end threads a post whose address has `thread_id`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.kernel.messages import Card
from bot.kernel.text import person as mention
from storage.models import ChannelBinding, Engagement, Identity, MessageRef, OutboxMessage, Person

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence
    from bot.kernel.outbox import QueuedMessage

log = logging.getLogger("cadence.dm_fallback")

NOTE = (
    "Cadence cannot send you direct messages, so this is posted here. Use its buttons; plain replies in "
    "this thread are not read — to type a command, mention @Cadence."
)


# Failures that mean the person is gone (left the company, account deleted): nobody is there to read a
# thread either, so these stay failed and the admins are told (bot/kernel/delivery_failures.py).
GONE = ("account_inactive", "user_not_found", "user_disabled", "deleted")


def worth_a_thread(reason: str | None) -> bool:
    """Whether a DM that failed for this reason should be said in the channel instead."""
    return not any(word in (reason or "") for word in GONE)


def thread_ref(person_id: int) -> str:
    """The ref_key of a person's fallback thread (one per channel: message refs are per channel)."""
    return f"dm-fallback:{person_id}"


async def _channel(session: AsyncSession, engagement_id: int, platform: str | None) -> ChannelBinding | None:
    """The engagement's home channel, on the person's platform if it has one there (mirrored engagements)."""
    homes = list(
        await session.scalars(
            select(ChannelBinding)
            .where(
                ChannelBinding.engagement_id == engagement_id,
                ChannelBinding.purpose == "home",
                ChannelBinding.failed_reason.is_(None),
            )
            .order_by(ChannelBinding.id)
        )
    )
    same = [b for b in homes if b.platform == platform]
    chosen = same or homes
    return chosen[0] if chosen else None


async def _has_thread(session: AsyncSession, binding: ChannelBinding, ref: str) -> bool:
    """Whether the person's thread was started in this channel (posted, or on its way)."""
    posted = await session.scalar(
        select(MessageRef.id).where(
            MessageRef.ref_key == ref,
            MessageRef.platform == binding.platform,
            MessageRef.channel_id == binding.channel_id,
        )
    )
    if posted is not None:
        return True
    on_its_way = await session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.ref_key == ref,
            OutboxMessage.platform == binding.platform,
            OutboxMessage.conversation_key == f"{binding.platform}:{binding.workspace_id}:{binding.channel_id}",
            OutboxMessage.status != "failed",
        )
    )
    return on_its_way is not None


def in_thread(card: Card, person: Person) -> Card:
    """The card as a thread reply: it names the person (a mention notifies them) and says why it is here."""
    return Card(
        title=card.title,
        text=f"{mention(person.id, person.display_name)} {card.text}".strip(),
        fields=list(card.fields),
        buttons=list(card.buttons),
        sections=list(card.sections),
        footer=NOTE,
        tone=card.tone,
        attachments=list(card.attachments),
        image_url=card.image_url,
    )


async def post(
    session: AsyncSession,
    core: Cadence,
    person: Person,
    card: Card,
    *,
    engagement_id: int | None,
    platform: str | None,
    reason: str,
) -> list[OutboxMessage | QueuedMessage]:
    """Say `card` to `person` in the engagement's channel, in their thread (started here if it is not yet)."""
    if engagement_id is None:
        log.warning("person %s cannot get DMs (%s) and the message names no engagement; not sent", person.id, reason)
        return []
    binding = await _channel(session, engagement_id, platform)
    if binding is None:
        log.warning("person %s cannot get DMs and engagement %s has no reachable channel", person.id, engagement_id)
        return []
    ref = thread_ref(person.id)
    await core.outbox.insert_queued(session)  # a thread started earlier in this transaction must be seen
    out: list[OutboxMessage | QueuedMessage] = []
    if not await _has_thread(session, binding, ref):
        engagement = await session.get(Engagement, engagement_id)
        key = f"{engagement.key}: " if engagement else ""
        out.append(
            await core.outbox.post_binding(
                session,
                binding,
                Card(
                    text=(
                        f"{key}messages for {mention(person.id, person.display_name)}. Cadence cannot send them "
                        f"direct messages ({reason}), so what it has for them comes in this thread."
                    ),
                    tone="warning",
                ),
                ref_key=ref,
            )
        )
    out.append(await core.outbox.post_binding(session, binding, in_thread(card, person), thread_ref=ref))
    return out


async def fallback_identity(session: AsyncSession, person: Person) -> Identity | None:
    """The identity whose DMs failed for good, if every one of the person's identities is unreachable."""
    identities = list(await session.scalars(select(Identity).where(Identity.person_id == person.id)))
    if not identities or any(not i.unreachable_reason for i in identities):
        return None
    return max(identities, key=lambda i: (i.last_seen_at is not None, i.last_seen_at, i.id))
