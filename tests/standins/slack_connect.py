"""The Slack Web API stand-in, with members of another company's workspace in a Slack Connect channel.

Cadence is installed in the stand-in's own workspace (`team_id`, the vendor's). External members belong to
another workspace and behave as Slack documents ("Understanding Slack Connect", docs.slack.dev/apis/
slack-connect; see /work/shared/platform-facts.md):

- `users.info` answers for them, with *their* `team_id`, `is_stranger: false`, and no locale; their zone only
  if the test gives one (Slack does not promise `tz` for external members);
- a direct message to them can be refused: `conversations.open` answers `invalid_user_combination` (or
  whatever `dm_error` says, e.g. `cannot_dm_bot`), and `chat.postMessage` to their user id the same;
- `chat.postEphemeral` works for them in the shared channel.

    api = SlackConnectStandIn(); await api.start()
    api.add_external("UCLIENTPM", "priya")                       # another company's member, no zone
    api.add_external("USPONSOR", "sam", tz="Europe/London", dm_error=None)   # one whose DMs work
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.standins.slack_api import SlackApiStandIn

EXTERNAL_TEAM = "T0CLIENT"
EXTERNAL_ENTERPRISE = "E0CLIENT"


@dataclass
class ExternalMember:
    """A member of the other workspace, as Slack shows them to the installing workspace's bot."""

    user_id: str
    name: str
    team_id: str = EXTERNAL_TEAM
    tz: str | None = None  # withheld unless given
    dm_error: str | None = "invalid_user_combination"  # None: DMs to them work

    def user_object(self) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": self.user_id,
            "team_id": self.team_id,
            "name": self.name,
            "real_name": self.name.title(),
            "deleted": False,
            "is_bot": False,
            "is_stranger": False,
            "profile": {"display_name": self.name, "real_name": self.name.title(), "team": self.team_id},
        }
        if self.tz:
            user.update(tz=self.tz, tz_label=self.tz, tz_offset=0)
        return user


class SlackConnectStandIn(SlackApiStandIn):
    """See the module docstring."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.external: dict[str, ExternalMember] = {}

    def add_external(
        self,
        user_id: str,
        name: str,
        *,
        team_id: str = EXTERNAL_TEAM,
        tz: str | None = None,
        dm_error: str | None = "invalid_user_combination",
    ) -> ExternalMember:
        member = ExternalMember(user_id=user_id, name=name, team_id=team_id, tz=tz, dm_error=dm_error)
        self.external[user_id] = member
        return member

    def dm_refusal(self, channel_or_user: str) -> str | None:
        """The error a DM to this user id (or their IM channel id) gets, if it is refused."""
        for uid, member in self.external.items():
            if channel_or_user in (uid, "D" + uid[1:]):
                return member.dm_error
        return None

    def _m_users_info(self, body: dict[str, Any]) -> dict[str, Any]:
        member = self.external.get(body.get("user", ""))
        if member is None:
            return super()._m_users_info(body)
        return {"ok": True, "user": member.user_object()}

    def _m_conversations_open(self, body: dict[str, Any]) -> dict[str, Any]:
        users = body.get("users", "")
        for uid in users.split(",") if isinstance(users, str) else users:
            error = self.dm_refusal(uid)
            if error:
                return {"ok": False, "error": error}
        return super()._m_conversations_open(body)

    def _m_chat_postMessage(self, body: dict[str, Any]) -> dict[str, Any]:
        error = self.dm_refusal(body.get("channel", ""))
        if error:
            return {"ok": False, "error": error}
        answer = super()._m_chat_postMessage(body)
        if body.get("thread_ts"):  # a threaded reply: kept in the channel's list, marked with its thread
            answer["message"]["thread_ts"] = body["thread_ts"]
        return answer
