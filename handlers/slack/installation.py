"""Which installation serves a Slack request, and who acted — kept apart because in a Slack Connect channel
they are different workspaces.

The bot is installed in one workspace (usually the vendor's); the channel is shared with another. A request
from a member of the other workspace carries *their* team in the places one would naively read the workspace
from: the outer `team_id` of an event, `event.team` / `event.user_team`, `user.team_id` and, for a modal,
`team.id`. The installing workspace is in `authorizations[0].team_id` and `context_team_id` (events) and in
`view.app_installed_team_id` (modals); for a click on the bot's own message `team.id` is the installer's
(slackapi/java-slack-sdk#1041, bolt-js#1614, bolt-python's `slack_bolt/request/internals.py`). The
engagement is found by installation and channel (channel ids are the same for both workspaces); the person is
found by their own user id, and is external when their team is not the installer's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def installing_team(body: dict[str, Any]) -> str:
    """The workspace whose installation of Cadence serves this request ("" if the payload says nothing)."""
    authorizations = body.get("authorizations")
    if isinstance(authorizations, list) and authorizations:
        team = _dict(authorizations[0]).get("team_id")
        if team:
            return str(team)
    if body.get("context_team_id"):
        return str(body["context_team_id"])
    installed = _dict(body.get("view")).get("app_installed_team_id")
    if installed:
        return str(installed)
    team = body.get("team")
    if isinstance(team, dict) and team.get("id"):
        return str(team["id"])
    if body.get("team_id"):  # slash commands (only ever from the installing workspace), plain events
        return str(body["team_id"])
    return str(_dict(body.get("user")).get("team_id") or "")


def _installing_enterprise(body: dict[str, Any]) -> str:
    authorizations = body.get("authorizations")
    if isinstance(authorizations, list) and authorizations:
        enterprise = _dict(authorizations[0]).get("enterprise_id")
        if enterprise:
            return str(enterprise)
    return str(body.get("context_enterprise_id") or "")


@dataclass(frozen=True)
class Acting:
    """Who acted: their own user id and team ("" when the payload does not say: users.info will), and whether
    that team is not the installer's."""

    user_id: str
    team_id: str
    is_external: bool


def actor(body: dict[str, Any]) -> Acting:
    """The person behind an event, a slash command, a click or a modal submission."""
    event = _dict(body.get("event"))
    user = body.get("user")
    if event:
        user_id = str(event.get("user") or "")
        # user_team is the poster's team (it may be an Enterprise org id "E…"); `team` is where it happened.
        team = str(event.get("user_team") or event.get("team") or body.get("team_id") or "")
    elif isinstance(user, dict):
        user_id = str(user.get("id") or "")
        team = str(user.get("team_id") or "")
    else:  # a slash command: flat form fields
        user_id = str(body.get("user_id") or "")
        team = str(body.get("team_id") or "")
    installer = installing_team(body)
    own = {installer, _installing_enterprise(body)} - {""}
    return Acting(user_id=user_id, team_id=team, is_external=bool(team) and team not in own)
