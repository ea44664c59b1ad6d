"""Events API: App Home, profile changes (time zone), DMs with the bot and @mentions.

DMs and @mentions change things (an @mention is how people of another company run commands), so they are
taken like slash commands: the route (app.py) hands them to the intake, which stores them in the inbox or
runs them before Slack gets its 200 (intake.py). Slack redelivers an event it thinks was not acknowledged
(`X-Slack-Retry-Num`); each event id is applied once (core.claim_event / seen_event, processed_events)."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from bot.kernel.channel_moves import move_channel
from bot.kernel.context import Actor, Place
from bot.kernel.dispatcher import Within
from bot.kernel.messages import Reply
from handlers.slack import installation
from handlers.slack.intake import Request
from handlers.slack.reply import Origin

if TYPE_CHECKING:
    from handlers.slack.app import SlackFrontEnd

log = logging.getLogger("cadence.slack")
LEADING_MENTION = re.compile(r"^\s*<@[A-Z0-9]+(?:\|[^>]*)?>[\s:,]*")


def _team(body: dict[str, Any], event: dict[str, Any]) -> str:
    """The installing workspace: in a Slack Connect channel the outer team_id is the poster's own."""
    return installation.installing_team(body) or event.get("team") or ""


def installing_team(payload: dict[str, Any]) -> str:
    """The workspace an Events API callback is served for (the installation, not the poster's own team)."""
    return _team(payload, payload.get("event") or {})


def register(fe: SlackFrontEnd) -> None:
    async def first_time(body: dict[str, Any]) -> bool:
        event_id = body.get("event_id")
        if not event_id:
            return True
        if await fe.core.seen_event("slack", event_id):
            log.info("slack event %s already applied; redelivery ignored", event_id)
            return False
        return True

    async def on_home_opened(event, body, client) -> None:  # noqa: ANN001 - bolt injects by name
        if event.get("tab") != "home" or not event.get("user") or not await first_time(body):
            return
        team = _team(body, event)
        if event.get("channel"):
            fe.remember_dm(team, event["user"], event["channel"])
        actor = await fe.members.actor(client, team, event["user"])
        await fe.home.publish(client, actor)

    async def on_user_change(event, body, client) -> None:  # noqa: ANN001
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

        async def nothing(ctx):  # noqa: ANN001, ANN202 - the core updates the zone on sight
            return None

        await fe.core.run(actor, Place(platform="slack", workspace_id=team, channel_id="", is_dm=True), nothing)

    async def on_channel_id_changed(event, body) -> None:  # noqa: ANN001 - bolt injects by name
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

    fe.bolt.event("app_home_opened")(fe.tracked(on_home_opened))
    fe.bolt.event("user_change")(fe.tracked(on_user_change))
    fe.bolt.event("channel_id_changed")(fe.tracked(on_channel_id_changed))

    async def on_event(ack, body, client) -> None:  # noqa: ANN001 - bolt injects by name
        """Socket Mode only: over HTTP the route hands DMs and mentions to the intake before bolt sees them
        (app.py). Other messages (channel chatter, edits, bots) are not acted on."""
        kind = inbox_kind(body, fe.bot_user_id)
        if kind is not None:
            team = _team(body, body["event"])
            await fe.intake.receive(
                ack, Request(kind=kind, workspace_id=team, payload=body, client=client, respond=None)
            )

    fe.bolt.event("message")(fe.tracked(on_event))
    fe.bolt.event("app_mention")(fe.tracked(on_event))
    fe.intake.handles("mention", run_mention)
    fe.intake.handles("dm", run_dm)


def inbox_kind(payload: dict[str, Any], bot_user_id: str | None = None) -> str | None:
    """ "mention" or "dm" for an Events API callback Cadence acts on (it goes through the inbox, so a crash
    after Slack's 200 loses nothing), else None (bolt's listeners above, or nothing)."""
    if payload.get("type") != "event_callback":
        return None
    event = payload.get("event") or {}
    if not event.get("user") or event.get("user") == bot_user_id:  # our own messages are not commands
        return None
    if event.get("type") == "app_mention":
        return "mention"
    if event.get("type") == "message" and event.get("channel_type") == "im":
        return None if event.get("subtype") or event.get("bot_id") else "dm"
    return None


def _once(fe: SlackFrontEnd, request: Request, within: Within | None) -> Within | None:
    """The inbox claim (if any) and the event id's claim, in the work's transaction: a redelivered event
    (X-Slack-Retry-Num) or a second inbox row of the same event is taken and does nothing."""
    event_id = request.payload.get("event_id")
    claim_event = fe.core.claim_event("slack", event_id) if event_id else None
    if claim_event is None or within is None:
        return claim_event or within
    inbox_claim, first_time = within, claim_event

    async def both(session: Any) -> bool:
        return await inbox_claim(session) and await first_time(session)

    return both


async def run_dm(fe: SlackFrontEnd, request: Request, within: Within | None) -> tuple[Reply | None, Origin]:
    event, team, client = request.payload["event"], request.workspace_id, request.client
    fe.remember_dm(team, event["user"], event["channel"])
    actor = await fe.members.actor(client, team, event["user"], acting=installation.actor(request.payload))
    place = Place(platform="slack", workspace_id=team, channel_id=event["channel"], is_dm=True)
    async with fe.intake.turn():
        reply = await fe.core.handle_dm(actor, place, event.get("text") or "", within=_once(fe, request, within))
    return reply, Origin(actor=actor, place=place, client=client)


async def run_mention(fe: SlackFrontEnd, request: Request, within: Within | None) -> tuple[Reply | None, Origin]:
    event, team, client = request.payload["event"], request.workspace_id, request.client
    actor = await fe.members.actor(client, team, event["user"], acting=installation.actor(request.payload))
    channel = event.get("channel", "")
    place = Place(platform="slack", workspace_id=team, channel_id=channel, is_dm=channel.startswith("D"))
    text = LEADING_MENTION.sub("", event.get("text") or "", count=1)
    async with fe.intake.turn():
        reply = await fe.core.handle_command(actor, place, text, within=_once(fe, request, within))
    # Answered privately where Slack allows it, else in the mention's thread (a mention inside a thread is
    # answered in that thread); a form it asks for is offered as a button (handlers/slack/form_button.py).
    origin = Origin(
        actor=actor, place=place, client=client, command_text=text, thread_ts=event.get("thread_ts") or event.get("ts")
    )
    return reply, origin
