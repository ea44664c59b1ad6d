"""Showing a neutral Reply on Slack: a form opens as a modal, `update` edits the clicked message,
`private` cards go to the person alone (ephemeral, or the DM where there is no channel).
`public` cards never come here: the core has already put them in the outbox."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.kernel.context import Actor, Place
from bot.kernel.messages import Card, Form, Reply
from handlers.slack import form_button, render
from handlers.slack.external_hints import card_for_external

if TYPE_CHECKING:
    from handlers.slack.app import SlackFrontEnd

log = logging.getLogger("cadence.slack")


@dataclass
class Origin:
    """Where an interaction came from, and the handles Slack gave us to answer it."""

    actor: Actor
    place: Place
    client: AsyncWebClient
    respond: Any = None  # answers through the response_url (respond.py), if the payload had one
    trigger_id: str | None = None
    message_channel: str | None = None  # the clicked message, if any
    message_ts: str | None = None
    message_is_ephemeral: bool = False
    from_home: bool = False
    command_text: str | None = None  # an @mention's command: a form it asks for is offered as a button
    thread_ts: str | None = None  # the @mention's message: a private answer that cannot be ephemeral goes here


def form_metadata(form: Form, place: Place) -> dict[str, Any]:
    return {"f": form.form_id, "s": form.state, "c": place.channel_id, "d": place.is_dm, "n": place.channel_name}


async def show(fe: SlackFrontEnd, origin: Origin, reply: Reply | None) -> None:
    """Render `reply` for the person who acted. The form goes first: a trigger_id lives 3 seconds."""
    if reply is None:
        return
    mentions = await render.load_mentions(fe.core, origin.place.workspace_id, [*reply.private, reply.update])
    if reply.form is not None:
        await open_form(fe, origin, reply.form, mentions)
    if reply.update is not None:
        await update_clicked(fe, origin, reply.update, mentions)
    if reply.private:
        await private(origin, reply.private, mentions)


async def open_form(fe: SlackFrontEnd, origin: Origin, form: Form, mentions: render.Mentions) -> None:
    try:
        view = render.modal(form, form_metadata(form, origin.place), mentions)
    except ValueError as exc:
        log.error("slack: form %s cannot be shown: %s", form.form_id, exc)
        await private(
            origin,
            [Card(text="That form could not be opened (too much data). Nothing was changed.", tone="warning")],
            mentions,
        )
        return
    if not origin.trigger_id:
        if origin.command_text:
            await private(origin, [form_button.offer(origin.command_text)], mentions)
            return
        await private(
            origin, [Card(text="That form can only be opened from a command or a button.", tone="warning")], mentions
        )
        return
    try:
        await origin.client.views_open(trigger_id=origin.trigger_id, view=view)
    except Exception as exc:  # noqa: BLE001 - tell the person rather than fail silently
        log.warning("slack views.open for %s failed: %s", form.form_id, exc)
        await private(
            origin,
            [Card(text="Slack did not let me open the form in time. Please try again.", tone="warning")],
            mentions,
        )


async def update_clicked(fe: SlackFrontEnd, origin: Origin, card: Card, mentions: render.Mentions) -> None:
    """Replace the clicked message with its new state (App Home: publish the home again)."""
    if origin.from_home:
        await fe.home.publish(origin.client, origin.actor)
        return
    body = render.message(card, mentions)
    if origin.message_ts and origin.message_channel and not origin.message_is_ephemeral:
        try:
            await origin.client.chat_update(channel=origin.message_channel, ts=origin.message_ts, **body)
            return
        except Exception as exc:  # noqa: BLE001 - fall back to the response_url
            log.info("slack chat.update failed (%s); replacing through response_url", exc)
    if origin.respond is not None:
        try:
            await origin.respond(replace_original=True, **body)
        except Exception as exc:  # noqa: BLE001
            log.warning("slack: could not update the clicked message: %s", exc)


async def private(origin: Origin, cards: list[Card], mentions: render.Mentions) -> None:
    """Only the person sees it: response_url (works where the bot is not a member), else
    chat.postEphemeral, else a DM."""
    if origin.actor.is_external:  # slash commands don't reach Cadence from their workspace: hint @mentions
        cards = [card_for_external(c) for c in cards]
    body = render.message(cards, mentions)
    if origin.respond is not None:
        try:
            await origin.respond(response_type="ephemeral", replace_original=False, **body)
            return
        except Exception as exc:  # noqa: BLE001
            log.info("slack respond failed (%s); trying chat.postEphemeral", exc)
    place, client, user = origin.place, origin.client, origin.actor.user_id
    if place.channel_id and not place.is_dm:
        try:
            await client.chat_postEphemeral(channel=place.channel_id, user=user, **body)
            return
        except Exception as exc:  # noqa: BLE001 - e.g. not_in_channel: the DM still reaches them
            log.info("slack chat.postEphemeral failed (%s); sending a DM", exc)
        if origin.thread_ts:  # an @mention: answer in its thread, naming them (a DM may not reach another company)
            try:
                mentioned = {**body, "text": f"<@{user}> {body.get('text') or ''}".strip()}
                await client.chat_postMessage(
                    channel=place.channel_id, thread_ts=origin.thread_ts, unfurl_links=False, **mentioned
                )
                return
            except Exception as exc:  # noqa: BLE001
                log.info("slack: thread answer failed (%s); sending a DM", exc)
    try:
        await client.chat_postMessage(
            channel=place.channel_id if place.is_dm and place.channel_id else user, unfurl_links=False, **body
        )
    except Exception as exc:  # noqa: BLE001
        log.warning("slack: private reply to %s lost: %s", user, exc)
