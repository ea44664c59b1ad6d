"""Modal submissions (view_submission): per-field errors go back in the ack
(`response_action: errors`); otherwise the modal closes (or shows the next form) and the answer
reaches the person privately."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from bot.kernel.context import Place
from handlers.slack import installation, render
from handlers.slack.reply import Origin, form_metadata, private, show

if TYPE_CHECKING:
    from slack_bolt.context.ack.async_ack import AsyncAck
    from slack_sdk.web.async_client import AsyncWebClient

    from handlers.slack.app import SlackFrontEnd

log = logging.getLogger("cadence.slack")


def _metadata(view: dict[str, Any]) -> dict[str, Any] | None:
    try:
        meta = json.loads(view.get("private_metadata") or "")
    except ValueError:
        return None
    return meta if isinstance(meta, dict) and isinstance(meta.get("f"), str) else None


def register(fe: SlackFrontEnd) -> None:
    async def on_submit(  # bolt injects the arguments by name
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        meta = _metadata(view)
        if meta is None:
            await ack()  # bolt refuses `errors` with no field; closing the modal is all there is to do
            log.warning("slack: a view_submission without our metadata was ignored")
            return
        team = installation.installing_team(body)  # view.app_installed_team_id for an external member
        user = body.get("user") or {}
        actor = await fe.members.actor(
            client, team, user["id"], handle=user.get("username"), acting=installation.actor(body)
        )
        place = Place(
            platform="slack",
            workspace_id=team,
            channel_id=meta.get("c") or "",
            is_dm=bool(meta.get("d")),
            channel_name=meta.get("n"),
        )
        values = render.submitted_values(view)
        state = meta.get("s") if isinstance(meta.get("s"), dict) else {}
        reply = await fe.core.handle_form(actor, place, meta["f"], values, state)
        if reply.errors:
            inputs = [b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"]
            await ack(response_action="errors", errors=render.form_errors(inputs, reply.errors))
            return
        origin = Origin(actor=actor, place=place, client=client)
        if reply.form is not None:  # a next step: the modal turns into the next form
            mentions = await render.load_mentions(fe.core, team, reply.private)
            await ack(response_action="update", view=render.modal(reply.form, form_metadata(reply.form, place)))
            if reply.private:
                await private(origin, reply.private, mentions)
            return
        await ack()
        await show(fe, origin, reply)

    fe.bolt.view("cadence_form")(fe.tracked(on_submit))
