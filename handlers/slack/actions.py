"""Button clicks (block_actions): core.handle_action, then update the message in place / open a form /
answer privately. When they are acknowledged, and how they run under load, is intake.py's business."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from bot.kernel.context import Place
from bot.kernel.dispatcher import Within
from bot.kernel.messages import Reply
from handlers.slack import form_button, installation
from handlers.slack.intake import Request
from handlers.slack.render import decode_action_id
from handlers.slack.reply import Origin

if TYPE_CHECKING:
    from slack_bolt.context.ack.async_ack import AsyncAck
    from slack_sdk.web.async_client import AsyncWebClient

    from handlers.slack.app import SlackFrontEnd


def workspace_of(body: dict[str, Any]) -> str:
    """The installing workspace (not the clicker's own team: see installation.py)."""
    return installation.installing_team(body)


async def run_click(fe: SlackFrontEnd, request: Request, within: Within | None) -> tuple[Reply | None, Origin]:
    body, client, team = request.payload, request.client, request.workspace_id
    action = (body.get("actions") or [{}])[0]
    user = body.get("user") or {}
    actor = await fe.members.actor(
        client, team, user["id"], handle=user.get("username"), acting=installation.actor(body)
    )
    container: dict[str, Any] = body.get("container") or {}
    from_home = container.get("type") == "view" and (body.get("view") or {}).get("type") == "home"
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    if channel:
        is_dm = channel.startswith("D")
        place = Place(
            platform="slack",
            workspace_id=team,
            channel_id=channel,
            is_dm=is_dm,
            channel_name=None if is_dm else (body.get("channel") or {}).get("name"),
        )
    else:  # App Home (or a modal): the person's DM with the bot is where they are
        place = Place(
            platform="slack", workspace_id=team, channel_id=await fe.dm_channel(client, team, user["id"]), is_dm=True
        )
    message_ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    ref = {"channel_id": channel, "message_id": message_ts} if message_ts else None
    action_id, value = decode_action_id(action.get("action_id") or ""), action.get("value") or ""
    async with fe.intake.turn():
        if action_id == form_button.OPEN_FORM:  # the command of an @mention, again, now with a trigger_id
            reply = await fe.core.handle_command(actor, place, value, within=within)
        else:
            reply = await fe.core.handle_action(actor, place, action_id, value, ref, within=within)
    origin = Origin(
        actor=actor,
        place=place,
        client=client,
        respond=request.respond,
        trigger_id=body.get("trigger_id"),
        message_channel=channel,
        message_ts=message_ts,
        message_is_ephemeral=bool(container.get("is_ephemeral")),
        from_home=from_home,
    )
    return reply, origin


def register(fe: SlackFrontEnd) -> None:
    async def on_action(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:  # bolt injects by name
        await fe.intake.receive(
            ack,
            Request(
                kind="action",
                workspace_id=workspace_of(body),
                payload=body,
                client=client,
                respond=fe.responses.respond(body.get("response_url")),
            ),
        )

    fe.intake.handles("action", run_click)
    fe.bolt.action(re.compile(r".+"))(fe.tracked(on_action))
