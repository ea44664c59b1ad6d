"""The core's people directory (bot/kernel/directory.py) on Teams.

The Bot Connector's member info (`GET /v3/conversations/{id}/members/{userId}`, a TeamsChannelAccount)
carries a name, AAD object id, email, UPN and tenant id, but no time zone: Teams tells a bot a user's zone
only in their own activities (`localTimezone`), which the core reads when they act. So a person seated
on Teams before they have written to Cadence has no known zone, and the core asks them (bot/kernel/directory.py:
seat_zone). The tenant is the workspace id Cadence already keeps for them."""

from __future__ import annotations

from bot.kernel.directory import Profile


class TeamsDirectory:
    async def lookup(self, workspace_id: str, user_id: str) -> Profile | None:
        return Profile(tz=None, team=workspace_id or None)
