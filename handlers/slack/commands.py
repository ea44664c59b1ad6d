"""Slash commands: parse → core.handle_command → render. When they are acknowledged, and how they run
under load, is intake.py's business."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.kernel.context import Place
from bot.kernel.core import Within
from bot.kernel.messages import Reply
from handlers.slack import installation
from handlers.slack.intake import Request
from handlers.slack.reply import Origin

if TYPE_CHECKING:
    from slack_bolt.context.ack.async_ack import AsyncAck
    from slack_sdk.web.async_client import AsyncWebClient

    from handlers.slack.app import SlackFrontEnd

COMMANDS = ("/standup", "/demo", "/cr", "/defect", "/milestone", "/cadence")


def place_of_command(command: dict[str, Any]) -> Place:
    channel = command.get("channel_id", "")
    is_dm = command.get("channel_name") == "directmessage" or channel.startswith("D")
    return Place(
        platform="slack",
        workspace_id=command.get("team_id", ""),
        channel_id=channel,
        is_dm=is_dm,
        channel_name=None if is_dm else command.get("channel_name"),
    )


async def run_command(fe: SlackFrontEnd, request: Request, within: Within | None) -> tuple[Reply | None, Origin]:
    command, client = request.payload, request.client
    place = place_of_command(command)
    actor = await fe.members.actor(
        client,
        request.workspace_id,
        command["user_id"],
        handle=command.get("user_name"),
        acting=installation.actor(command),
    )
    # The text arrives escaped (should_escape): <@U123|name>, <#C123|name>; the core understands it.
    text = f"{command['command']} {command.get('text') or ''}"
    async with fe.intake.turn():
        reply = await fe.core.handle_command(actor, place, text, within=within)
    return reply, Origin(
        actor=actor, place=place, client=client, respond=request.respond, trigger_id=command.get("trigger_id")
    )


def register(fe: SlackFrontEnd) -> None:
    async def on_command(ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient) -> None:  # by name
        await fe.intake.receive(
            ack,
            Request(
                kind="command",
                workspace_id=installation.installing_team(command),
                payload=command,
                client=client,
                respond=fe.responses.respond(command.get("response_url")),
            ),
        )

    fe.intake.handles("command", run_command)
    for name in COMMANDS:
        fe.bolt.command(name)(fe.tracked(on_command))
