"""Slash commands: ack at once, then parse → core.handle_command → render."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.context import Place
from handlers.slack.reply import Origin, show

if TYPE_CHECKING:
    from handlers.slack.app import SlackFrontEnd

COMMANDS = ("/standup", "/demo", "/cr", "/defect", "/cadence")


def place_of_command(command: dict[str, Any]) -> Place:
    channel = command.get("channel_id", "")
    is_dm = command.get("channel_name") == "directmessage" or channel.startswith("D")
    return Place(platform="slack", workspace_id=command.get("team_id", ""), channel_id=channel, is_dm=is_dm,
                 channel_name=None if is_dm else command.get("channel_name"))


def register(fe: "SlackFrontEnd") -> None:
    async def on_command(ack, command, client, respond) -> None:  # noqa: ANN001 - bolt injects by name
        await ack()
        team = command.get("team_id", "")
        actor = await fe.members.actor(client, team, command["user_id"], handle=command.get("user_name"))
        place = place_of_command(command)
        # The text arrives escaped (should_escape): <@U123|name>, <#C123|name>; the core understands it.
        reply = await fe.core.handle_command(actor, place, f"{command['command']} {command.get('text') or ''}")
        origin = Origin(actor=actor, place=place, client=client, respond=respond,
                        trigger_id=command.get("trigger_id"))
        await show(fe, origin, reply)

    for name in COMMANDS:
        fe.bolt.command(name)(fe.tracked(on_command))
