"""Events API: App Home, profile changes (time zone), DMs with the bot and @mentions.
Slack redelivers an event it thinks was not acknowledged (`X-Slack-Retry-Num`); each event id is
applied once (core.seen_event, backed by processed_events)."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from bot.channel_moves import move_channel
from bot.context import Actor, Place
from handlers.slack import installation
from handlers.slack.reply import Origin, show

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.context import Ctx
    from bot.messages import Reply
    from handlers.slack.app import SlackFrontEnd

log = logging.getLogger("cadence.slack")
LEADING_MENTION = re.compile(r"^\s*<@[A-Z0-9]+(?:\|[^>]*)?>[\s:,]*")


def _team(body: dict[str, Any], event: dict[str, Any]) -> str:
    """The installing workspace: in a Slack Connect channel the outer team_id is the poster's own."""
    return installation.installing_team(body) or event.get("team") or ""


def register(fe: SlackFrontEnd) -> None:
    async def first_time(body: dict[str, Any]) -> bool:
        event_id = body.get("event_id")
        if not event_id:
            return True
        if await fe.core.seen_event("slack", event_id):
            log.info("slack event %s already applied; redelivery ignored", event_id)
            return False
        return True

    # Bolt injects each listener's arguments by name.
    async def on_home_opened(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab") != "home" or not await first_time(body):
            return
        team = _team(body, event)
        if event.get("channel"):
            fe.remember_dm(team, event["user"], event["channel"])
        actor = await fe.members.actor(client, team, event["user"])
        await fe.home.publish(client, actor)

    async def on_user_change(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        user = event.get("user") or {}
        if not user.get("id") or not await first_time(body):
            return
        team = installation.installing_team(body) or user.get("team_id", "")
        member = fe.members.remember(team, user)
        if member.is_bot or not member.tz or not await fe.known(team, user["id"]):
            return
        actor = Actor(
            platform="slack",
            workspace_id=team,
            user_id=user["id"],
            display_name=member.name,
            tz=member.tz,
            handle=user.get("name"),
        )

        async def nothing(ctx: Ctx) -> Reply | None:  # the core updates the zone on sight
            return None

        await fe.core.run(actor, Place(platform="slack", workspace_id=team, channel_id="", is_dm=True), nothing)

    async def on_message(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        if not event.get("user") or not await first_time(body):
            return
        team = _team(body, event)
        fe.remember_dm(team, event["user"], event["channel"])
        actor = await fe.members.actor(client, team, event["user"], acting=installation.actor(body))
        place = Place(platform="slack", workspace_id=team, channel_id=event["channel"], is_dm=True)
        reply = await fe.core.handle_dm(actor, place, event.get("text") or "")
        await show(fe, Origin(actor=actor, place=place, client=client), reply)

    async def on_mention(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        if not event.get("user") or not await first_time(body):
            return
        team = _team(body, event)
        actor = await fe.members.actor(client, team, event["user"], acting=installation.actor(body))
        channel = event.get("channel", "")
        place = Place(platform="slack", workspace_id=team, channel_id=channel, is_dm=channel.startswith("D"))
        text = LEADING_MENTION.sub("", event.get("text") or "", count=1)
        reply = await fe.core.handle_command(actor, place, text)
        origin = Origin(
            actor=actor,
            place=place,
            client=client,
            command_text=text,
            thread_ts=event.get("thread_ts") or event.get("ts"),
        )
        await show(fe, origin, reply)

    async def on_channel_id_changed(event, body) -> None:  # noqa: ANN001
        """A private channel shared with another organization gets a new id: the engagement follows it."""
        if not await first_time(body):
            return
        async with fe.core.session_factory() as session, session.begin():
            await move_channel(
                session,
                platform="slack",
                workspace_id=_team(body, event),
                old=str(event.get("old_channel_id") or ""),
                new=str(event.get("new_channel_id") or ""),
            )

    fe.bolt.event("channel_id_changed")(fe.tracked(on_channel_id_changed))
    fe.bolt.event("app_home_opened")(fe.tracked(on_home_opened))
    fe.bolt.event("user_change")(fe.tracked(on_user_change))
    fe.bolt.event("message")(fe.tracked(on_message))
    fe.bolt.event("app_mention")(fe.tracked(on_mention))
