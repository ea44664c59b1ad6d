"""The core's people directory (bot/kernel/directory.py) on the console: the people introduced with
`as NAME [ZONE]` in this session, with the zone they were given."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from bot.kernel.directory import Profile


class _Known(Protocol):
    name: str
    tz: str


class ConsoleDirectory:
    def __init__(self, users: Mapping[str, _Known]) -> None:
        self.users = users

    async def lookup(self, workspace_id: str, user_id: str) -> Profile | None:
        user = self.users.get(user_id.lower())
        if user is None:
            return None
        return Profile(tz=user.tz, name=user.name)
