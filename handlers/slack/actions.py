"""Button clicks (block_actions): ack, core.handle_action, then update the message in place /
open a form / answer privately."""
from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any

from bot.context import Place
from handlers.slack.ack import ack_after
from handlers.slack.render import decode_action_id
from handlers.slack.reply import Origin, show

if TYPE_CHECKING:
    from handlers.slack.app import SlackFrontEnd


def register(fe: "SlackFrontEnd") -> None:
    async def on_action(ack, body, action, client, respond) -> None:  # noqa: ANN001 - bolt injects by name
        started = asyncio.get_running_loop().time()
        # Ack once the click is committed (or at the budget): an acked click is never lost.
        reply, origin = await ack_after(ack, _click(body, action, client, respond), started=started)
        await show(fe, origin, reply)

    async def _click(body, action, client, respond):  # noqa: ANN001, ANN202
        team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id", "")
        user = body.get("user") or {}
        actor = await fe.members.actor(client, team, user["id"], handle=user.get("username"))
        container: dict[str, Any] = body.get("container") or {}
        from_home = container.get("type") == "view" and (body.get("view") or {}).get("type") == "home"
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        if channel:
            is_dm = channel.startswith("D")
            place = Place(platform="slack", workspace_id=team, channel_id=channel, is_dm=is_dm,
                          channel_name=None if is_dm else (body.get("channel") or {}).get("name"))
        else:  # App Home (or a modal): the person's DM with the bot is where they are
            place = Place(platform="slack", workspace_id=team, channel_id=await fe.dm_channel(client, team, user["id"]),
                          is_dm=True)
        message_ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
        ref = {"channel_id": channel, "message_id": message_ts} if message_ts else None
        reply = await fe.core.handle_action(actor, place, decode_action_id(action["action_id"]),
                                            action.get("value") or "", ref)
        origin = Origin(actor=actor, place=place, client=client, respond=respond if body.get("response_url") else None,
                        trigger_id=body.get("trigger_id"), message_channel=channel, message_ts=message_ts,
                        message_is_ephemeral=bool(container.get("is_ephemeral")), from_home=from_home)
        return reply, origin

    fe.bolt.action(re.compile(r".+"))(fe.tracked(on_action))
