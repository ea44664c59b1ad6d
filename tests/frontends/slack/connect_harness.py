"""The Slack harness in a Slack Connect channel: Cadence is installed in the vendor's workspace (the
harness's `team`), and some people are members of the client's workspace. Their requests look as Slack sends
them (platform-facts.md, section 1): an event carries their team in the outer `team_id` and `event.user_team`,
the installer in `authorizations[0].team_id` and `context_team_id`, with `is_ext_shared_channel: true`; a
click carries the installer in `team.id` and their team in `user.team_id`; a modal submission carries their
team in `team.id` and the installer in `view.app_installed_team_id`. They cannot run slash commands.

    slack = await ConnectHarness(core, SlackConnectStandIn()).start()
    slack.external("priya")                        # a client member of the other workspace (no zone, no DMs)
    await slack.at_mention("priya", "defect s2 Partner checkout times out")
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

from tests.frontends.slack.harness import HOME, HttpResult, SlackHarness
from tests.standins.slack_api import BOT_USER_ID
from tests.standins.slack_connect import EXTERNAL_TEAM, SlackConnectStandIn


class ConnectHarness(SlackHarness):
    api: SlackConnectStandIn

    def external(self, name: str, *, tz: str | None = None, dm_error: str | None = "invalid_user_combination") -> str:
        """Make `name` a member of the other workspace; returns their user id."""
        uid = self.uid(name)
        self.api.add_external(uid, name.lower(), tz=tz, dm_error=dm_error)
        return uid

    def team_of(self, name: str) -> str:
        member = self.api.external.get(self.uid(name))
        return member.team_id if member else self.team

    def _user(self, name: str) -> dict[str, Any]:
        user = super()._user(name) if self.uid(name) not in self.api.external else self._external_user(name)
        return user

    def _external_user(self, name: str) -> dict[str, Any]:
        uid = self.uid(name)
        return {"id": uid, "username": name.lower(), "name": name.lower(), "team_id": self.team_of(name)}

    async def command(self, who: str, line: str, **kw: Any) -> HttpResult:
        if self.uid(who) in self.api.external:
            # "Slash commands … are limited only to the team that has installed the app" (Slack Connect guide)
            raise AssertionError(f"{who} is an external member: Slack does not deliver their slash commands")
        return await super().command(who, line, **kw)

    async def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None, **kw: Any
    ) -> HttpResult:
        """An Events API callback from the shared channel, enveloped as Slack does for the installer's app."""
        user = event.get("user") if isinstance(event.get("user"), str) else ""
        member = self.api.external.get(user or "")
        actor_team = member.team_id if member else self.team
        inner = {"event_ts": f"{time.time():.6f}", **event}
        if user:
            inner.setdefault("team", actor_team)
            inner.setdefault("user_team", actor_team)
        body = {
            "token": "legacy",
            "team_id": actor_team,
            "api_app_id": "A0CADENCE",
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):08d}",
            "event_time": int(time.time()),
            "event": inner,
            "authorizations": [{"enterprise_id": None, "team_id": self.team, "user_id": BOT_USER_ID, "is_bot": True}],
            "context_team_id": self.team,
            "context_enterprise_id": None,
            "is_ext_shared_channel": True,
        }
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        return await self.post(json.dumps(body), content_type="application/json", headers=headers, **kw)

    async def at_mention(self, who: str, text: str, *, channel: str = HOME, **kw: Any) -> HttpResult:
        """`@Cadence <text>` posted by `who` in the shared channel."""
        return await self.event(
            {
                "type": "app_mention",
                "user": self.uid(who),
                "text": f"<@{BOT_USER_ID}> {text}",
                "channel": channel,
                "ts": f"{time.time():.6f}",
            },
            **kw,
        )

    async def interactive(self, payload: dict[str, Any], **kw: Any) -> HttpResult:
        payload = copy.deepcopy(payload)
        uid = (payload.get("user") or {}).get("id", "")
        member = self.api.external.get(uid)
        if member is not None and payload.get("type") == "view_submission":
            payload["team"] = {"id": member.team_id, "domain": "client"}
            payload["view"]["app_installed_team_id"] = self.team
        return await super().interactive(payload, **kw)

    def last_ephemeral(self, who: str) -> dict[str, Any]:
        """The last message only `who` saw in a channel (chat.postEphemeral), as a message a test can click."""
        calls = [
            c for c in self.api.calls_to("chat.postEphemeral", ok_only=True) if c.body.get("user") == self.uid(who)
        ]
        assert calls, f"no ephemeral message for {who}"
        call = calls[-1]
        return {"ts": call.response.get("message_ts", ""), "blocks": call.blocks(), "text": call.body.get("text", "")}

    def thread(self, parent: dict[str, Any], channel: str = HOME) -> list[dict[str, Any]]:
        """The replies in `parent`'s thread, oldest first."""
        return [m for m in self.posts(channel) if m.get("thread_ts") == parent["ts"]]


__all__ = ["EXTERNAL_TEAM", "ConnectHarness"]
