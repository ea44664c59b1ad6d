"""Surfacing permanent delivery failures: a channel that is archived or lost the bot, a user who was
deactivated. The failure is recorded once on the binding or identity (so nothing more is queued for it),
and the engagement's admins (client sponsor and vendor PM) get one direct message saying what broke
and how to fix it — not one per undelivered message, and not one per replica."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.kernel import dm_fallback
from bot.kernel.messages import Card
from bot.kernel.people import members_with_roles
from bot.kernel.registry import Registry
from storage.models import ChannelBinding, Engagement, Identity, OutboxMessage, Person
from storage.results import rowcount

log = logging.getLogger("cadence.delivery_failures")

ADMIN_ROLES = ("client_sponsor", "vendor_pm")


def _reason(msg: OutboxMessage) -> str:
    return (msg.last_error or "unknown")[:200]


async def _mark_bindings(session: AsyncSession, msg: OutboxMessage) -> list[ChannelBinding]:
    """Mark the bindings of the failed channel; return those this call newly marked (atomic per row)."""
    address = msg.address or {}
    channel = address.get("channel_id")
    if not channel:
        return []
    rows = list(
        await session.scalars(
            select(ChannelBinding).where(
                ChannelBinding.platform == msg.platform,
                ChannelBinding.workspace_id == (address.get("workspace_id") or ""),
                ChannelBinding.channel_id == channel,
            )
        )
    )
    newly = []
    for b in rows:
        # A conditional UPDATE: of two replicas failing on the same channel, only one sees rowcount 1.
        result = await session.execute(
            update(ChannelBinding)
            .where(ChannelBinding.id == b.id, ChannelBinding.failed_reason.is_(None))
            .values(failed_reason=_reason(msg))
            .execution_options(synchronize_session=False)
        )
        if rowcount(result):
            newly.append(b)
    return newly


async def _mark_identity(session: AsyncSession, msg: OutboxMessage) -> Identity | None:
    address = msg.address or {}
    user_id = address.get("user_id")
    if not user_id:
        return None
    ident = await session.scalar(
        select(Identity).where(
            Identity.platform == msg.platform,
            Identity.workspace_id == (address.get("workspace_id") or ""),
            Identity.user_id == user_id,
        )
    )
    if ident is None:
        return None
    result = await session.execute(
        update(Identity)
        .where(Identity.id == ident.id, Identity.unreachable_reason.is_(None))
        .values(unreachable_reason=_reason(msg))
        .execution_options(synchronize_session=False)
    )
    await session.refresh(ident, attribute_names=["unreachable_reason"])  # the outbox's next choice reads it
    return ident if rowcount(result) else None


async def _say_it_elsewhere(session: AsyncSession, core: Any, msg: OutboxMessage) -> None:
    """A DM that failed for good is not lost: it goes again through the outbox, which picks another reachable
    identity of the person, or their thread in the engagement's channel (bot/kernel/dm_fallback.py)."""
    if not dm_fallback.worth_a_thread(msg.last_error):
        return
    person_id = (msg.address or {}).get("person_id")
    person = await session.get(Person, person_id) if person_id else None
    if person is None:
        return
    await core.outbox.dm(session, person, Card.from_dict(msg.payload), engagement_id=msg.engagement_id)


async def _tell_admins(
    session: AsyncSession, core: Any, engagement: Engagement, card: Card, skip_person_id: int | None = None
) -> None:
    for admin in await members_with_roles(session, engagement, ADMIN_ROLES):
        if admin is None or admin.id == skip_person_id:
            continue
        await session.refresh(admin, attribute_names=["identities"])  # reachability may just have changed
        await core.outbox.dm(session, admin, card, engagement_id=engagement.id)


async def on_delivery_failed(session: AsyncSession, core: Any, message: OutboxMessage, **_: Any) -> None:
    """Hook for "delivery_failed": record the dead end once and tell the engagement's admins once."""
    if message.op in ("post", "update") and not (message.address or {}).get("is_dm"):
        for binding in await _mark_bindings(session, message):
            engagement = await session.get(Engagement, binding.engagement_id)
            if engagement is None:
                continue
            where = binding.channel_name or binding.channel_id
            log.warning(
                "engagement %s: %s channel %s unreachable (%s); admins told",
                engagement.key,
                binding.platform,
                binding.channel_id,
                _reason(message),
            )
            await _tell_admins(
                session,
                core,
                engagement,
                Card(
                    title=f"{engagement.key}: Cadence can no longer post in {where}",
                    text=(
                        f"Posting to the {binding.purpose} channel {where} on {binding.platform} failed for good "
                        f"({_reason(message)}). Nothing more is posted there until it is fixed: invite Cadence back "
                        f"and run `/cadence setup {engagement.key}` in that channel, or in the channel that should "
                        "replace it."
                    ),
                    tone="danger",
                ),
            )
        return
    if message.op in ("dm", "post", "update"):
        ident = await _mark_identity(session, message)
        if message.op == "dm":
            await _say_it_elsewhere(session, core, message)
        if ident is None:
            return
        person = await session.get(Person, ident.person_id)
        engagement = await session.get(Engagement, message.engagement_id) if message.engagement_id else None
        log.warning("%s user %s unreachable (%s)", ident.platform, ident.user_id, _reason(message))
        if engagement is None or person is None:
            return
        if ident.external_team_id and dm_fallback.worth_a_thread(message.last_error):
            # Another company's member: DMs refused is expected there, and their thread carries the messages.
            return
        await _tell_admins(
            session,
            core,
            engagement,
            Card(
                title=f"{engagement.key}: Cadence cannot reach {person.display_name}",
                text=(
                    f"Direct messages to {person.display_name} on {ident.platform} fail for good "
                    f"({_reason(message)}), so their prompts and reminders "
                    + (
                        "are posted in a thread in the engagement's channel, mentioning them. "
                        if dm_fallback.worth_a_thread(message.last_error)
                        else "are not arriving. "
                    )
                    + "If they left, remove them with `/cadence role`; "
                    "if not, ask them to open a conversation with Cadence."
                ),
                tone="warning",
            ),
            skip_person_id=person.id,
        )


def register(registry: Registry) -> None:
    registry.add_hook("delivery_failed", on_delivery_failed)
