"""The little the Teams front end keeps in the database itself: Bot Framework ids and service URLs of Teams
users (teams_users), and the 1:1 conversation reference it creates for someone who never wrote to the bot.
Everything else (people, identities, bindings) belongs to the core."""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.kernel.messages import Card
from storage.models import ChannelBinding, Identity, OutboxMessage, Person
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


async def handle_of(session: AsyncSession, tenant_id: str, user_id: str) -> str | None:
    ident = await session.scalar(
        select(Identity).where(
            Identity.platform == PLATFORM, Identity.workspace_id == tenant_id, Identity.user_id == user_id
        )
    )
    return ident.handle if ident is not None else None


async def people_for(
    session: AsyncSession, person_ids: set[int], tenant_id: str | None = None
) -> dict[int, tuple[str, str]]:
    """person id → (Teams user id, display name) for people with a Teams identity (for @mentions)."""
    if not person_ids:
        return {}
    q = (
        select(Identity, Person)
        .join(Person, Person.id == Identity.person_id)
        .where(Identity.platform == PLATFORM, Identity.person_id.in_(person_ids))
    )
    out: dict[int, tuple[str, str]] = {}
    for ident, person in (await session.execute(q)).all():
        if person.id in out and tenant_id is not None and ident.workspace_id != tenant_id:
            continue
        out[person.id] = (ident.user_id, person.display_name)
    return out


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


async def any_reference(session: AsyncSession, tenant_id: str) -> dict[str, Any] | None:
    """Some stored conversation reference in the tenant (for the bot account and channel id)."""
    for binding in await session.scalars(
        select(ChannelBinding).where(ChannelBinding.platform == PLATFORM, ChannelBinding.workspace_id == tenant_id)
    ):
        if binding.conversation_ref:
            return binding.conversation_ref
    ident = await session.scalar(
        select(Identity)
        .where(
            Identity.platform == PLATFORM, Identity.workspace_id == tenant_id, Identity.conversation_ref.is_not(None)
        )
        .limit(1)
    )
    return ident.conversation_ref if ident is not None else None


async def save_dm_reference(
    session: AsyncSession, tenant_id: str, user_id: str, ref: dict[str, Any], conversation_id: str
) -> None:
    ident = await session.scalar(
        select(Identity).where(
            Identity.platform == PLATFORM, Identity.workspace_id == tenant_id, Identity.user_id == user_id
        )
    )
    if ident is not None:
        ident.conversation_ref = ref
        ident.dm_channel_id = conversation_id
        ident.unreachable_reason = None


async def reference_for_dm_channel(
    session: AsyncSession, tenant_id: str, conversation_id: str
) -> dict[str, Any] | None:
    ident = await session.scalar(
        select(Identity).where(
            Identity.platform == PLATFORM, Identity.workspace_id == tenant_id, Identity.dm_channel_id == conversation_id
        )
    )
    return ident.conversation_ref if ident is not None else None


async def dm_reference(session: AsyncSession, tenant_id: str, user_id: str) -> dict[str, Any] | None:
    ident = await session.scalar(
        select(Identity).where(
            Identity.platform == PLATFORM, Identity.workspace_id == tenant_id, Identity.user_id == user_id
        )
    )
    return ident.conversation_ref if ident is not None else None


async def reader_id(session: AsyncSession, address: dict[str, Any]) -> int | None:
    """The person id of the one person a message is for (a DM or a message meant for one person), else None."""
    person_id = address.get("person_id")
    if not person_id and address.get("user_id"):
        ident = await session.scalar(
            select(Identity).where(
                Identity.platform == PLATFORM,
                Identity.workspace_id == (address.get("workspace_id") or ""),
                Identity.user_id == address["user_id"],
            )
        )
        person_id = ident.person_id if ident is not None else None
    return int(person_id) if person_id else None


async def reader_zone(session: AsyncSession, address: dict[str, Any]) -> str | None:
    """The time zone of the one person a message is for (a DM or a message meant for one person), else None."""
    person_id = await reader_id(session, address)
    person = await session.get(Person, person_id) if person_id else None
    return person.tz if person is not None else None


async def person_of(session: AsyncSession, tenant_id: str, user_id: str) -> int | None:
    """The person id behind a Teams user (as `actor_of` names them), or None for someone Cadence never seated."""
    ident = await session.scalar(
        select(Identity).where(
            Identity.platform == PLATFORM, Identity.workspace_id == tenant_id, Identity.user_id == user_id
        )
    )
    return ident.person_id if ident is not None else None


async def deciders(
    session: AsyncSession, person_ids: set[int], tenant_id: str | None
) -> tuple[dict[int, str], dict[int, str], frozenset[int]]:
    """For the people a card's buttons are restricted to: person id → Teams user id (the `29:…` Bot Framework
    id, which Teams calls the user MRI and wants in `refresh.userIds`), person id → display name, and the
    people who have a Teams identity but whose Bot Framework id Cadence has not seen yet (they never wrote
    in Teams and were not @mentioned). People without a Teams identity are in none of them but the names."""
    if not person_ids:
        return {}, {}, frozenset()
    names = {p.id: p.display_name for p in await session.scalars(select(Person).where(Person.id.in_(person_ids)))}
    idents = list(
        await session.scalars(select(Identity).where(Identity.platform == PLATFORM, Identity.person_id.in_(person_ids)))
    )
    # An Entra object id is the same user in every tenant: a member of another tenant in a shared channel is
    # seated under the host tenant but remembered (teams_users) under their own.
    users = {
        u.user_id: u
        for u in await session.scalars(
            select(TeamsUser).where(TeamsUser.user_id.in_([i.user_id for i in idents])).order_by(TeamsUser.updated_at)
        )
    }
    mris: dict[int, str] = {}
    teams_people: set[int] = set()
    for ident in sorted(idents, key=lambda i: i.workspace_id == tenant_id):  # this tenant's identity wins
        teams_people.add(ident.person_id)
        known = users.get(ident.user_id)
        if known is not None and known.bf_id:
            mris[ident.person_id] = known.bf_id
        elif ident.user_id.startswith("29:"):  # seated by their Bot Framework id (no Entra object id)
            mris[ident.person_id] = ident.user_id
    return mris, names, frozenset(teams_people - set(mris))


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
