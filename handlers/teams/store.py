"""The little the Teams front end keeps in the database itself: Bot Framework ids and service URLs of Teams
users (teams_users), and where a refresh of a card finds the card's latest state (the outbox's rows). People,
identities and their 1:1 chats' references belong to the core: Teams reaches them through the core's
directory (bot/kernel/directory.py, handlers/teams/people.py); channel bindings are the core's too, read here
only for a conversation reference and service URL to reach a tenant with."""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.kernel.messages import Card
from storage.models import ChannelBinding, OutboxMessage
from storage.models.teams import TeamsUser

PLATFORM = "teams"


class KnownSenders:
    """What `remember_user` last stored for each Teams user, in this process. A turn from someone whose Bot
    Framework id, name and service URL are what we stored skips the database: one transaction fewer per
    turn (on SQLite every transaction takes the single write lock, even one that only reads). Entries
    expire after `ttl` seconds, so a row another replica changed is looked at again soon; the worst a stale
    entry does is delay the refresh of a name or service URL by that long. Bounded: least recently used out.
    """

    def __init__(self, ttl: float = 300.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._seen: OrderedDict[tuple[str, str], tuple[tuple[str, str | None, str | None], float]] = OrderedDict()

    def is_current(self, tenant_id: str, user_id: str, bf_id: str, name: str | None, service_url: str | None) -> bool:
        entry = self._seen.get((tenant_id, user_id))
        if entry is None or entry[0] != (bf_id, name, service_url) or time.monotonic() - entry[1] >= self.ttl:
            return False
        self._seen.move_to_end((tenant_id, user_id))
        return True

    def note(self, tenant_id: str, user_id: str, bf_id: str, name: str | None, service_url: str | None) -> None:
        """Call after the transaction that stored these values committed."""
        self._seen[(tenant_id, user_id)] = ((bf_id, name, service_url), time.monotonic())
        self._seen.move_to_end((tenant_id, user_id))
        while len(self._seen) > self.size:
            self._seen.popitem(last=False)

    def forget(self, tenant_id: str, user_id: str) -> None:
        self._seen.pop((tenant_id, user_id), None)


async def remember_user(
    session: AsyncSession,
    *,
    tenant_id: str,
    user_id: str,
    bf_id: str,
    name: str | None,
    service_url: str | None,
    now: datetime,
) -> None:
    """Upsert what we know of a Teams user (called for every inbound activity with a sender)."""
    row = await session.scalar(select(TeamsUser).where(TeamsUser.tenant_id == tenant_id, TeamsUser.user_id == user_id))
    if row is None:
        session.add(
            TeamsUser(
                tenant_id=tenant_id,
                user_id=user_id,
                bf_id=bf_id,
                name=(name or "")[:200] or None,
                service_url=(service_url or "")[:500] or None,
                updated_at=now,
            )
        )
        return
    changed = (row.bf_id, row.name, row.service_url) != (bf_id, name, service_url)
    if changed:
        row.bf_id = bf_id
        row.name = (name or row.name or "")[:200] or None
        row.service_url = (service_url or row.service_url or "")[:500] or None
        row.updated_at = now


async def user_by_bf_id(session: AsyncSession, tenant_id: str, bf_id: str) -> TeamsUser | None:
    return await session.scalar(select(TeamsUser).where(TeamsUser.tenant_id == tenant_id, TeamsUser.bf_id == bf_id))


async def user(session: AsyncSession, tenant_id: str, user_id: str) -> TeamsUser | None:
    return await session.scalar(select(TeamsUser).where(TeamsUser.tenant_id == tenant_id, TeamsUser.user_id == user_id))


async def service_url_for(session: AsyncSession, tenant_id: str, user_id: str | None = None) -> str | None:
    """The serviceUrl to reach a tenant: the user's own, else any we saw in that tenant."""
    if user_id:
        row = await user(session, tenant_id, user_id)
        if row is not None and row.service_url:
            return row.service_url
    row = await session.scalar(
        select(TeamsUser)
        .where(TeamsUser.tenant_id == tenant_id, TeamsUser.service_url.is_not(None))
        .order_by(TeamsUser.updated_at.desc())
        .limit(1)
    )
    if row is not None:
        return row.service_url
    for binding in await session.scalars(
        select(ChannelBinding).where(ChannelBinding.platform == PLATFORM, ChannelBinding.workspace_id == tenant_id)
    ):
        ref = binding.conversation_ref or {}
        if ref.get("serviceUrl"):
            return ref["serviceUrl"]
    return None


async def any_binding_reference(session: AsyncSession, tenant_id: str) -> dict[str, Any] | None:
    """Some stored channel conversation reference in the tenant (for the bot account and channel id); the
    core's directory has the 1:1 chats' (`directory.any_dm_reference`)."""
    for binding in await session.scalars(
        select(ChannelBinding).where(ChannelBinding.platform == PLATFORM, ChannelBinding.workspace_id == tenant_id)
    ):
        if binding.conversation_ref:
            return binding.conversation_ref
    return None


async def bf_ids(session: AsyncSession, user_ids: set[str]) -> dict[str, str]:
    """Teams user id (Entra object id) → the Bot Framework id Teams last gave us for them, in any tenant (an
    Entra object id is the same user in every tenant); the newest row wins."""
    if not user_ids:
        return {}
    rows = await session.scalars(
        select(TeamsUser).where(TeamsUser.user_id.in_(user_ids)).order_by(TeamsUser.updated_at)
    )
    return {u.user_id: u.bf_id for u in rows}


async def refresh_source(session: AsyncSession, outbox_id: int, tenant_id: str, channel_id: str) -> Card | None:
    """The card to show again for a refresh of the message stored as outbox row `outbox_id`: its latest state
    (the newest edit of it in that conversation), or None when no such Teams message was posted in the
    conversation `channel_id` of `tenant_id`. Which message a refresh names comes from the card's data, which
    a client could forge: a message of another conversation (another engagement's card) is never shown."""
    msg = await session.get(OutboxMessage, outbox_id)
    if msg is None or msg.platform != PLATFORM or msg.op not in ("post", "update"):
        return None
    address = msg.address or {}
    if address.get("channel_id") != channel_id or address.get("workspace_id", "") != tenant_id:
        return None
    if msg.ref_key:
        latest = await session.scalar(
            select(OutboxMessage)
            .where(
                OutboxMessage.conversation_key == msg.conversation_key,
                OutboxMessage.ref_key == msg.ref_key,
                OutboxMessage.platform == PLATFORM,
                OutboxMessage.op.in_(("post", "update")),
            )
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
        msg = latest or msg
    try:
        return Card.from_dict(msg.payload)
    except (TypeError, ValueError, KeyError):
        return None
