"""Slash commands: ack at once, then parse → core.handle_command → render."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import asyncio

from bot.context import Place
from handlers.slack.ack import ack_after
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
        started = asyncio.get_running_loop().time()
        team = command.get("team_id", "")
        place = place_of_command(command)

        async def run() -> tuple:
            actor = await fe.members.actor(client, team, command["user_id"], handle=command.get("user_name"))
            # The text arrives escaped (should_escape): <@U123|name>, <#C123|name>; the core understands it.
            text = f"{command['command']} {command.get('text') or ''}"
            return actor, await fe.core.handle_command(actor, place, text)

        # Ack once the command is committed (or at the budget), so an ack never covers lost work.
        actor, reply = await ack_after(ack, run(), started=started)
        origin = Origin(actor=actor, place=place, client=client, respond=respond,
                        trigger_id=command.get("trigger_id"))
        await show(fe, origin, reply)

    for name in COMMANDS:
        fe.bolt.command(name)(fe.tracked(on_command))
