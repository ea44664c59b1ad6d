"""The Teams turn handler: parse what Teams sent, call the core, render the neutral reply.

- message with text → a command (`core.handle_command`), or in a personal chat `core.handle_dm`
  (commands and standup answers);
- message with `value` and no text → an Action.Submit click or form submission;
- invoke `adaptiveCard/action` → an Action.Execute click or form submission (answered in the invoke
  response: the updated card, or a short message);
- conversationUpdate / installationUpdate → remember where the bot was added, say hello.

No business rule lives here; the core decides, this file only translates.
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes, Attachment, ConversationReference

from bot.context import Actor, Place
from bot.messages import Card, Form, Reply
from bot.people import identity_for, person_for_actor
from handlers.teams import cards, store
from handlers.teams.adapter import TURN_REPLY_RETRIES, connector_client, tune_connector
from handlers.teams.db_gate import DatabaseGate
from handlers.teams.replies import ReplyFailed

log = logging.getLogger("cadence.teams")

PLATFORM = "teams"
_AT_RE = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_TAG_RE = re.compile(
    r"</?(?:p|div|span|br|b|i|u|strong|em|s|strike|pre|code|blockquote|ul|ol|li|h\d)\b[^>]*>", re.IGNORECASE
)
_SLUG_RE = re.compile(r"[^\w.\-]+")


def tenant_of(activity: Activity) -> str:
    data = activity.channel_data or {}
    tenant = (data.get("tenant") or {}).get("id") if isinstance(data, dict) else None
    if not tenant and activity.conversation is not None:
        tenant = activity.conversation.tenant_id
    return tenant or ""


def handle_for(name: str | None) -> str | None:
    """A mention-friendly handle from a display name ("Asha Rao" → "Asha.Rao"): Teams has no @handles,
    and the core's grammar reads `@word` mentions."""
    if not name:
        return None
    slug = _SLUG_RE.sub(".", name.strip()).strip(".")
    return slug[:200] or None


def channel_id_of(conversation_id: str) -> str:
    """A channel's id without the thread suffix (`19:…@thread.tacv2;messageid=123`)."""
    return conversation_id.split(";messageid=", 1)[0]


def actor_of(activity: Activity) -> Actor:
    sender = activity.from_property
    user_id = (getattr(sender, "aad_object_id", None) or sender.id) if sender else ""
    name = sender.name if sender else None
    return Actor(
        platform=PLATFORM,
        workspace_id=tenant_of(activity),
        user_id=user_id,
        display_name=name,
        tz=activity.local_timezone or None,
        handle=handle_for(name),
    )


def reference_of(activity: Activity, *, top_level: bool) -> dict[str, Any]:
    """The serialized ConversationReference of this conversation; `top_level` drops the thread suffix so
    proactive posts start a new thread in a channel."""
    ref: ConversationReference = TurnContext.get_conversation_reference(activity)
    ref.activity_id = None
    data = ref.serialize()
    if top_level and data.get("conversation", {}).get("id"):
        data["conversation"]["id"] = channel_id_of(data["conversation"]["id"])
    return data


def place_of(activity: Activity) -> Place:
    conv = activity.conversation
    is_dm = (conv.conversation_type or "personal") == "personal" if conv is not None else True
    conv_id = conv.id if conv is not None else ""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    channel_name = (data.get("channel") or {}).get("name") or (conv.name if conv is not None else None)
    return Place(
        platform=PLATFORM,
        workspace_id=tenant_of(activity),
        channel_id=conv_id if is_dm else channel_id_of(conv_id),
        is_dm=is_dm,
        channel_name=channel_name,
        conversation_ref=reference_of(activity, top_level=not is_dm),
    )


class TeamsBot:
    """`on_turn(turn_context)` for the adapter."""

    def __init__(self, core: Any, app_id: str = "") -> None:
        self.core = core
        self.app_id = app_id
        self.known_senders = store.KnownSenders()
        self.db_turn = DatabaseGate(core.sqlite_turns)

    # -- dispatch ---------------------------------------------------------------------------------
    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        tune_connector(turn_context, retries=TURN_REPLY_RETRIES)
        try:
            if activity.type == ActivityTypes.invoke:
                await self._on_invoke(turn_context)
                return
            async with self.db_turn():
                await self._remember_sender(activity)
            if activity.type == ActivityTypes.message:
                if activity.value is not None and not (activity.text or "").strip():
                    await self._on_submit(turn_context)
                else:
                    await self._on_message(turn_context)
            elif activity.type in (ActivityTypes.conversation_update, ActivityTypes.installation_update):
                await self._on_installed(turn_context)
        except Exception:
            log.exception("Teams turn failed (%s)", activity.type)
            if activity.type == ActivityTypes.invoke:
                await self._invoke_reply(
                    turn_context,
                    cards.invoke_message_response(
                        "Something went wrong on our side and nothing was changed. Please try again."
                    ),
                )
            else:
                try:
                    await self._send_card(
                        turn_context, Card(text="Something went wrong on our side. Please try again.", tone="warning")
                    )
                except Exception:  # the connector itself may be the problem
                    log.exception("could not tell the user about the failure")

    # -- text -------------------------------------------------------------------------------------
    async def _on_message(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        actor, place = actor_of(activity), place_of(activity)
        text = await self._command_text(turn_context)
        once = self._once(activity)
        async with self.db_turn():
            if place.is_dm:
                reply = await self.core.handle_dm(actor, place, text, within=once)
            else:
                reply = await self.core.handle_command(actor, place, text, within=once)
        if reply is not None:
            await self._render_reply(turn_context, reply, tenant=actor.workspace_id)

    async def _command_text(self, turn_context: TurnContext) -> str:
        """The text without the bot's @mention; other people's mentions become `@handle`."""
        activity = turn_context.activity
        text = activity.text or ""
        bot_id = activity.recipient.id if activity.recipient else None
        others: dict[str, str] = {}
        for entity in activity.entities or []:
            props = entity.additional_properties if hasattr(entity, "additional_properties") else {}
            if (entity.type or "").lower() != "mention":
                continue
            mentioned = props.get("mentioned") or {}
            mention_text = props.get("text") or ""
            if mentioned.get("id") == bot_id:
                if mention_text:
                    text = text.replace(mention_text, " ")
            elif mention_text:
                others[mention_text] = await self._mention_handle(turn_context, mentioned)
        for mention_text, handle in others.items():
            text = text.replace(mention_text, f" @{handle} ")
        # Any other <at>…</at> (the bot's name without an entity): dropped at the start, else its name kept.
        text = text.strip()
        first = _AT_RE.match(text)
        if first:
            text = text[first.end() :]
        text = _AT_RE.sub(lambda m: m.group(1), text)
        text = html.unescape(_TAG_RE.sub(" ", text))
        return " ".join(text.split()) if "\n" not in text else text.strip()

    async def _mention_handle(self, turn_context: TurnContext, mentioned: dict[str, Any]) -> str:
        """The handle the core knows a mentioned person by. Someone Cadence has never seen is looked up in
        the conversation's member list (for their Entra object id) and remembered, as Slack mentions are."""
        activity = turn_context.activity
        tenant = tenant_of(activity)
        name = mentioned.get("name") or ""
        bf_id = mentioned.get("id") or ""
        async with self.db_turn(), self.core.session_factory() as session:
            known = await store.user_by_bf_id(session, tenant, bf_id)
            if known is None and mentioned.get("aadObjectId"):
                known = await store.user(session, tenant, mentioned["aadObjectId"])
            if known is not None:
                handle = await store.handle_of(session, tenant, known.user_id)
                if handle:
                    return handle
        member = await self._member(turn_context, bf_id) if bf_id else None
        aad = getattr(member, "aad_object_id", None) or mentioned.get("aadObjectId")
        name = getattr(member, "name", None) or name
        handle = handle_for(name) or "someone"
        if aad:
            async with self.db_turn(), self.core.session_factory() as session, session.begin():
                now = self.core.clock.now()
                await person_for_actor(session, Actor(PLATFORM, tenant, aad, display_name=name, handle=handle), now)
                ident = await identity_for(session, PLATFORM, tenant, aad)
                if ident is not None and ident.handle:
                    handle = ident.handle
                await store.remember_user(
                    session,
                    tenant_id=tenant,
                    user_id=aad,
                    bf_id=bf_id,
                    name=name,
                    service_url=activity.service_url,
                    now=now,
                )
            self.known_senders.forget(tenant, aad)  # stored other values than a turn of theirs would
        return handle

    @staticmethod
    async def _member(turn_context: TurnContext, bf_id: str):  # noqa: ANN205
        client = connector_client(turn_context)
        conversation_id = channel_id_of(turn_context.activity.conversation.id)
        try:
            return await client.conversations.get_conversation_member(conversation_id, bf_id)
        except Exception as exc:  # noqa: BLE001 - not available (permissions, old channel): use the name
            log.info("could not look up Teams member %s (%s: %s)", bf_id, type(exc).__name__, exc)
            return None

    # -- clicks and forms -------------------------------------------------------------------------
    async def _on_submit(self, turn_context: TurnContext) -> None:
        """Action.Submit: a message activity whose `value` is the action's data (plus input values)."""
        activity = turn_context.activity
        sub = cards.parse_submission(activity.value)
        if sub is None:
            return
        actor, place = actor_of(activity), place_of(activity)
        reply = await self._dispatch(actor, place, sub, activity)
        if reply is None:  # delivered before and already applied
            return
        card_id = activity.reply_to_id
        replacement = self._replacement(reply, sub, actor)
        if replacement is not None and card_id:
            content = await self._render(replacement, actor.workspace_id, reply=reply, sub=sub)
            await self._update_card(turn_context, card_id, content)
        await self._render_reply(turn_context, reply, tenant=actor.workspace_id, skip_update=True)

    async def _on_invoke(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.name != "adaptiveCard/action":
            await self._invoke_reply(turn_context, None, status=200)
            return
        async with self.db_turn():
            await self._remember_sender(activity)
        value = activity.value if isinstance(activity.value, dict) else {}
        action = value.get("action") if isinstance(value.get("action"), dict) else {}
        sub = cards.parse_submission(action.get("data") or {}, action.get("verb"))
        if sub is None:
            await self._invoke_reply(turn_context, cards.invoke_message_response("That button is not ours."))
            return
        actor, place = actor_of(activity), place_of(activity)
        reply = await self._dispatch(actor, place, sub, activity)
        replacement = self._replacement(reply, sub, actor)
        body: dict[str, Any]
        if replacement is not None:
            content = await self._render(replacement, actor.workspace_id, reply=reply, sub=sub)
            body = cards.invoke_card_response(content)
            # Everyone else sees the new state too (the invoke response refreshes only the clicker's view).
            if activity.reply_to_id and not reply.errors:
                await self._update_card(turn_context, activity.reply_to_id, content)
        else:
            first = (
                reply.private[0].plain()
                if reply.private
                else ("Done." if not reply.form else "Please fill in the form below.")
            )
            body = cards.invoke_message_response(first[:500])
        await self._invoke_reply(turn_context, body)
        await self._render_reply(turn_context, reply, tenant=actor.workspace_id, skip_update=True)

    def _once(self, activity: Activity):  # noqa: ANN202 - a core `within` step, or None
        """A message activity is applied once (Teams may deliver one again when it thinks the bot did not
        answer): its id is recorded in the transaction that does its work (`core.claim_event`), and a
        second delivery finds it and does nothing. A refused command rolls the record back with the rest,
        so a second delivery of it is refused again."""
        if activity.type != ActivityTypes.message or not activity.id:
            return None
        return self.core.claim_event(PLATFORM, f"{activity.conversation.id}:{activity.id}")

    async def _dispatch(self, actor: Actor, place: Place, sub: cards.Submission, activity: Activity) -> Reply:
        once = self._once(activity)
        async with self.db_turn():
            if sub.kind == "form":
                return await self.core.handle_form(actor, place, sub.id, sub.values, sub.state, within=once)
            message_ref = {
                "conversation_id": activity.conversation.id if activity.conversation else None,
                "activity_id": activity.reply_to_id,
            }
            return await self.core.handle_action(actor, place, sub.id, sub.value, message_ref, within=once)

    @staticmethod
    def _replacement(reply: Reply, sub: cards.Submission, actor: Actor) -> Card | Form | None:
        """What the clicked card becomes: the updated card, the form again with errors, or a receipt."""
        if reply.errors and sub.kind == "form" and sub.form is not None:
            return sub.form
        if reply.update is not None:
            return reply.update
        if sub.kind == "form" and not reply.errors:
            who = actor.display_name or "you"
            return Card(title=sub.title or "Form", text=f"Submitted by {who}.", tone="good")
        return None

    async def _render(
        self, item: Card | Form, tenant: str, *, reply: Reply | None = None, sub: cards.Submission | None = None
    ) -> dict[str, Any]:
        person_ids = cards.card_person_ids(item)
        people: dict[int, tuple[str, str]] = {}
        if person_ids:
            async with self.db_turn(), self.core.session_factory() as session:
                people = await store.people_for(session, person_ids, tenant)
        if isinstance(item, Form):
            errors = reply.errors if reply is not None else None
            values = sub.values if sub is not None and errors else None
            return cards.render_form(item, people, errors=errors, values=values)
        return cards.render_card(item, people)

    # -- install ----------------------------------------------------------------------------------
    async def _on_installed(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        added = [m.id for m in activity.members_added or []]
        installed = (
            activity.type == ActivityTypes.installation_update and (activity.action or "").startswith("add")
        ) or (bot_id is not None and bot_id in added)
        place = place_of(activity)
        if place.is_dm and activity.from_property is not None:
            # Remember the 1:1 conversation so standup prompts and reminders can reach this person.
            actor = actor_of(activity)

            async def remember(ctx):  # noqa: ANN001, ANN202 - the core stores place.conversation_ref
                return None

            async with self.db_turn():
                await self.core.run(actor, place, remember)
        if installed and activity.type == ActivityTypes.conversation_update:
            where = "here" if place.is_dm else "in this conversation"
            hint = (
                "Type `help` to see what I can do."
                if place.is_dm
                else "Mention me with a command, e.g. `@Cadence help` or `@Cadence cadence setup KEY Name` "
                "to make this the home of an engagement."
            )
            await self._send_card(
                turn_context,
                Card(
                    title="Hi, I'm Cadence 👋",
                    text=f"I run the cadence of your engagement {where}: standups, "
                    f"demos, change requests and defects. {hint}",
                ),
            )

    async def _remember_sender(self, activity: Activity) -> None:
        sender = activity.from_property
        if sender is None or not sender.id or (activity.recipient and sender.id == activity.recipient.id):
            return
        actor = actor_of(activity)
        seen = (actor.workspace_id, actor.user_id, sender.id, sender.name, activity.service_url)
        if self.known_senders.is_current(*seen):
            return
        async with self.core.session_factory() as session, session.begin():
            await store.remember_user(
                session,
                tenant_id=actor.workspace_id,
                user_id=actor.user_id,
                bf_id=sender.id,
                name=sender.name,
                service_url=activity.service_url,
                now=self.core.clock.now(),
            )
        self.known_senders.note(*seen)

    # -- sending ----------------------------------------------------------------------------------
    async def _render_reply(
        self, turn_context: TurnContext, reply: Reply, *, tenant: str, skip_update: bool = False
    ) -> None:
        items: list[Card | Form] = list(reply.private)
        if reply.update is not None and not skip_update:
            items.append(reply.update)
        if reply.form is not None:
            items.append(reply.form)
        if reply.errors and not skip_update:
            items.append(Card(text="\n".join(f"• {msg}" for msg in reply.errors.values()), tone="warning"))
        for n, item in enumerate(items):
            content = await self._render(item, tenant)
            extra = cards.large_images(item) if isinstance(item, Card) else []
            try:
                await turn_context.send_activity(card_activity(content, extra))
            except ReplyFailed as exc:
                if not exc.retryable:
                    raise
                await self._reply_later(turn_context, items[n:], exc)
                return

    async def _reply_later(self, turn_context: TurnContext, items: list[Card | Form], exc: ReplyFailed) -> None:
        """The connector did not take a reply (after its retries): the turn's work is committed, so hand the
        rest of the answer to the outbox, which retries with backoff, in order, and records a permanent
        failure. It arrives as a new message in the conversation (in a channel: a new thread), not as a
        threaded reply. A form cannot wait in the outbox (it is a card with inputs): the user is told to
        ask again instead."""
        place = place_of(turn_context.activity)
        later = [
            item
            if isinstance(item, Card)
            else Card(text="The form could not be shown just now; please run the command again.", tone="warning")
            for item in items
        ]
        async with self.db_turn(), self.core.session_factory() as session, session.begin():
            for card in later:
                await self.core.outbox.post_place(session, place, card)
        log.warning(
            "Teams reply to %s not delivered in the turn (%s); %d message(s) left to the outbox",
            place.channel_id,
            exc,
            len(later),
        )

    async def _send_card(self, turn_context: TurnContext, card: Card) -> None:
        await turn_context.send_activity(card_activity(cards.render_card(card)))

    async def _update_card(self, turn_context: TurnContext, activity_id: str, content: dict[str, Any]) -> None:
        update = card_activity(content)
        update.id = activity_id
        try:
            await turn_context.update_activity(update)
        except Exception:
            log.warning("could not update card %s in place", activity_id, exc_info=True)

    @staticmethod
    async def _invoke_reply(turn_context: TurnContext, body: Any, status: int = 200) -> None:
        await turn_context.send_activity(
            Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=status, body=body))
        )


def card_activity(content: dict[str, Any], extra: list[dict[str, str]] | None = None) -> Activity:
    attachments = [Attachment(content_type=cards.CONTENT_TYPE, content=content)]
    for a in extra or []:
        attachments.append(Attachment(content_type=a["contentType"], content_url=a["contentUrl"], name=a["name"]))
    return Activity(type=ActivityTypes.message, attachments=attachments)
