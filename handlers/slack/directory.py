"""The core's people directory (bot/kernel/directory.py) on Slack: `users.info` through the front end's cached
Members, with the workspace's own bot token."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.kernel.directory import Profile

if TYPE_CHECKING:
    from handlers.slack.app import SlackFrontEnd


class SlackDirectory:
    def __init__(self, frontend: SlackFrontEnd) -> None:
        self.frontend = frontend

    async def lookup(self, workspace_id: str, user_id: str) -> Profile | None:
        token = await self.frontend.bot_token(workspace_id)
        if not token:
            return None
        client = self.frontend.messenger.client(token)
        member = await self.frontend.members.get(client, workspace_id, user_id)
        if member is None:
            return None
        return Profile(tz=member.tz, name=member.name, team=workspace_id, is_bot=member.is_bot)
