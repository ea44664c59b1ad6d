"""Teams shared channels across tenants: an activity from a member of another organization.

A shared channel lives in the host team's tenant, where Cadence is installed and the engagement was set up;
members of another tenant post in it too. Their activities may carry their own tenant (`channelData.tenant`,
`conversation.tenantId`; Microsoft's own guide says this part "might need further clarification"), which
would find no engagement. Channel ids (`19:…@thread.tacv2`) are the same for everyone, so the engagement is
found by the channel, and the installation by the binding's tenant: the actor keeps their own id, and is
recorded as external (their tenant is not the host's). Direct messages across tenants do not work on Teams
(bot/kernel/dm_fallback.py posts in the channel instead)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.kernel.context import Actor, Place
from storage.models import ChannelBinding

PLATFORM = "teams"


class SharedChannels:
    """Which tenant a bound channel belongs to (cached: a binding's tenant does not change)."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory
        self._host: dict[str, str] = {}

    async def host_tenant(self, channel_id: str) -> str | None:
        """The tenant whose installation the channel is bound in, or None if it is not bound."""
        if channel_id in self._host:
            return self._host[channel_id]
        async with self.session_factory() as session:
            tenant = await session.scalar(
                select(ChannelBinding.workspace_id)
                .where(ChannelBinding.platform == PLATFORM, ChannelBinding.channel_id == channel_id)
                .order_by(ChannelBinding.id)
                .limit(1)
            )
        if tenant is not None:
            self._host[channel_id] = tenant
        return tenant

    async def resolve(self, actor: Actor, place: Place) -> tuple[Actor, Place]:
        """The actor and place as the host's installation sees them. In a 1:1 chat, or a channel not bound to
        an engagement (yet), nothing changes."""
        if place.is_dm or not place.channel_id:
            return actor, place
        host = await self.host_tenant(place.channel_id)
        if host is None or not actor.workspace_id:
            return actor, place
        if host == actor.workspace_id:
            return replace(actor, home_team=actor.workspace_id, is_external=False), place
        external = replace(actor, workspace_id=host, home_team=actor.workspace_id, is_external=True)
        return external, replace(place, workspace_id=host)
