"""Who a Slack user is: display name and time zone from `users.info`, cached per workspace and
refreshed by `user_change` events (the Actor's `tz`; `/cadence tz` overrides it in the core)."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.kernel.context import Actor
from handlers.slack.installation import Acting

log = logging.getLogger("cadence.slack.members")


@dataclass(frozen=True)
class Member:
    name: str | None
    tz: str | None
    is_bot: bool = False
    team_id: str | None = None  # the user's own workspace (another company's, for an external member)


def member_from_user(user: dict[str, Any]) -> Member:
    profile = user.get("profile") or {}
    name = profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name")
    return Member(
        name=name or None, tz=user.get("tz") or None, is_bot=bool(user.get("is_bot")), team_id=user.get("team_id")
    )


class Members:
    """A small TTL cache of users.info answers; a failed lookup is not cached for long."""

    def __init__(
        self, ttl_seconds: float = 6 * 3600, negative_ttl_seconds: float = 60, timeout_seconds: float = 2.0
    ) -> None:
        self.ttl = ttl_seconds
        self.negative_ttl = negative_ttl_seconds
        self.timeout = timeout_seconds  # a modal's trigger_id lives 3 s: never wait long for a profile
        self._cache: dict[tuple[str, str], tuple[float, Member | None]] = {}

    def remember(self, workspace_id: str, user: dict[str, Any]) -> Member:
        member = member_from_user(user)
        self._cache[(workspace_id, user["id"])] = (time.monotonic() + self.ttl, member)
        return member

    def forget(self, workspace_id: str, user_id: str) -> None:
        self._cache.pop((workspace_id, user_id), None)

    async def get(self, client: AsyncWebClient, workspace_id: str, user_id: str) -> Member | None:
        hit = self._cache.get((workspace_id, user_id))
        if hit and hit[0] > time.monotonic():
            return hit[1]
        try:
            resp = await asyncio.wait_for(client.users_info(user=user_id), timeout=self.timeout)
            return self.remember(workspace_id, resp["user"])
        except Exception as exc:  # noqa: BLE001 - the zone is a nicety; never block a command on it
            log.warning("slack users.info %s failed: %s", user_id, exc)
            self._cache[(workspace_id, user_id)] = (time.monotonic() + self.negative_ttl, None)
            return None

    async def actor(
        self,
        client: AsyncWebClient,
        workspace_id: str,
        user_id: str,
        handle: str | None = None,
        acting: Acting | None = None,
    ) -> Actor:
        """`workspace_id` is the installing workspace; `acting` (installation.actor) says whose team they are
        on. Without it, or when the payload named no team, users.info's `team_id` decides."""
        member = await self.get(client, workspace_id, user_id)
        home = (acting.team_id if acting else None) or (member.team_id if member else None) or workspace_id
        external = acting.is_external if acting and acting.team_id else home != workspace_id
        return Actor(
            platform="slack",
            workspace_id=workspace_id,
            user_id=user_id,
            display_name=(member.name if member else None) or handle,
            tz=member.tz if member else None,
            handle=handle,
            home_team=home,
            is_external=external,
        )
