"""The Teams turn handler: parse what Teams sent, call the core, render the neutral reply.

- message with text → a command (`core.handle_command`), or in a personal chat `core.handle_dm`
  (commands and standup answers);
- message with `value` and no text → an Action.Submit click or form submission;
- invoke `adaptiveCard/action` → an Action.Execute click or form submission (answered in the invoke
  response: the updated card, or a short message), or the refresh of a card whose buttons only some people
  may press (answered with the asker's own view of it);
- conversationUpdate / installationUpdate → remember where the bot was added, say hello.

No business rule lives here; the core decides, this file only translates.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Coroutine
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes, Attachment, ChannelAccount, ConversationReference

from bot.kernel import directory
from bot.kernel.context import Actor, Ctx, Place
from bot.kernel.messages import Card, Form, Reply
from handlers.teams import cards, people, store
from handlers.teams.adapter import TURN_REPLY_RETRIES, connector_client, tune_connector
from handlers.teams.files import FileLinks, has_files
from handlers.teams.invoke_answers import InvokeAnswers
from handlers.teams.replies import ReplyFailed
from handlers.teams.shared_channels import SharedChannels

log = logging.getLogger("cadence.teams")

PLATFORM = "teams"
_AT_RE = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_TAG_RE = re.compile(
    r"</?(?:p|div|span|br|b|i|u|strong|em|s|strike|pre|code|blockquote|ul|ol|li|h\d)\b[^>]*>", re.IGNORECASE
)
_SLUG_RE = re.compile(r"[^\w.\-]+")
# turn_state: the turn's work committed (so a later failure must not say "nothing was changed").
COMMITTED = "cadence.committed"
# What asks for the personal "my Cadence" card (Slack's App Home has no Teams equivalent but this card).
HOME_WORDS = frozenset({"home", "my cadence", "cadence home"})
# How much of an answer fits the pop-up message of an invoke response.
INVOKE_MESSAGE_LIMIT = 500


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

    def __init__(self, core: Any, app_id: str = "", files: FileLinks | None = None) -> None:
        self.core = core
        self.app_id = app_id
        self.files = files
        self.known_senders = store.KnownSenders()
        self.db_turn = core.writer_turns  # SQLite: one writer at a time (storage/writer.py)
        self.shared = SharedChannels(core.session_factory)  # another tenant's members in a shared channel
        self.invoke_answers = InvokeAnswers()
        self._later: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run what follows an answered invoke after the answer (kept referenced until done)."""
        task = asyncio.get_running_loop().create_task(work)
        self._later.add(task)
        task.add_done_callback(self._later.discard)

    async def settle(self) -> None:
        """Wait for the work left after answered invokes (at shutdown; tests)."""
        while self._later:
            await asyncio.gather(*list(self._later), return_exceptions=True)

    # -- dispatch ---------------------------------------------------------------------------------
    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        tune_connector(turn_context, retries=TURN_REPLY_RETRIES)
        try:
            if activity.type == ActivityTypes.invoke:
                await self._on_invoke(turn_context)
                return
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
            # Work that committed is never reported as failed: retrying it would do it twice.
            text = (
                "That was done, but I could not show the confirmation here."
                if turn_context.turn_state.get(COMMITTED)
                else "Something went wrong on our side and nothing was changed. Please try again."
            )
            if activity.type == ActivityTypes.invoke:
                await self._invoke_reply(turn_context, cards.invoke_message_response(text))
            else:
                try:
                    await self._send_card(turn_context, Card(text=text, tone="warning"))
                except Exception:  # the connector itself may be the problem
                    log.exception("could not tell the user about the failure")

    # -- text -------------------------------------------------------------------------------------
    async def _on_message(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        actor, place = await self.shared.resolve(actor_of(activity), place_of(activity))
        text = await self._command_text(turn_context)
        if text.strip().lstrip("/").lower() in HOME_WORDS:
            await self._send_home(turn_context, actor)
            return
        once = self._once(activity)
        async with self.db_turn():
            if place.is_dm:
                reply = await self.core.handle_dm(actor, place, text, within=once)
            else:
                reply = await self.core.handle_command(actor, place, text, within=once)
        if reply is not None:
            turn_context.turn_state[COMMITTED] = reply.succeeded
            if not place.is_dm:
                reply = await self._keep_private(reply, actor, place)
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
        # A look-up only: a read session, which on SQLite neither waits for nor holds up a writer.
        async with self.core.read_session_factory() as session:
            known = await store.user_by_bf_id(session, tenant, bf_id)
            if known is None and mentioned.get("aadObjectId"):
                known = await store.user(session, tenant, mentioned["aadObjectId"])
            person = await directory.known_user(self.core, PLATFORM, tenant, known.user_id) if known else None
            if person is not None and person.handle:
                return person.handle
        member = await self._member(turn_context, bf_id) if bf_id else None
        aad = getattr(member, "aad_object_id", None) or mentioned.get("aadObjectId")
        name = getattr(member, "name", None) or name
        handle = handle_for(name) or "someone"
        if aad:
            async with self.db_turn():
                seated = await directory.record_profile(
                    self.core, Actor(PLATFORM, tenant, aad, display_name=name, handle=handle)
                )
                handle = seated.handle or handle
                async with self.core.session_factory() as session, session.begin():
                    await store.remember_user(
                        session,
                        tenant_id=tenant,
                        user_id=aad,
                        bf_id=bf_id,
                        name=name,
                        service_url=activity.service_url,
                        now=self.core.clock.now(),
                    )
            self.known_senders.forget(tenant, aad)  # stored other values than a turn of theirs would
        return handle

    @staticmethod
    async def _member(turn_context: TurnContext, bf_id: str) -> ChannelAccount | None:
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
        actor, place = await self.shared.resolve(actor_of(activity), place_of(activity))
        reply = await self._dispatch(actor, place, sub, activity)
        if reply is None:  # delivered before and already applied
            return
        turn_context.turn_state[COMMITTED] = reply.succeeded
        card_id = activity.reply_to_id
        replacement = self._replacement(reply, sub, actor)
        if replacement is not None and card_id:
            # Action.Submit has no answer of its own: the card is updated for everyone, so it is what they see.
            _, everyone = await self._views_for(replacement, actor, place, sub.ref)
            content = await self._render(replacement, actor.workspace_id, reply=reply, sub=sub, views=everyone)
            await self._update_card(turn_context, card_id, content)
        if reply.refused and not place.is_dm:
            # Action.Submit has no pop-up answer: the refusal goes to the presser alone (their 1:1 chat when
            # Cadence has one), not to everyone in the channel.
            await self._tell_privately(actor, place, reply.private)
            return
        await self._render_reply(turn_context, reply, tenant=actor.workspace_id, skip_update=True)

    async def _on_invoke(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.name == "task/fetch":
            await self._on_task_fetch(turn_context)
            return
        if activity.name == "task/submit":
            await self._on_task_submit(turn_context)
            return
        if activity.name != "adaptiveCard/action":
            await self._invoke_reply(turn_context, None, status=200)
            return
        await self._remember_sender(activity)
        value = activity.value if isinstance(activity.value, dict) else {}
        raw_action = value.get("action")
        action: dict[str, Any] = raw_action if isinstance(raw_action, dict) else {}
        if action.get("verb") == cards.REFRESH_VERB:
            await self._on_refresh(turn_context, action.get("data"))
            return
        sub = cards.parse_submission(action.get("data") or {}, action.get("verb"))
        if sub is None:
            await self._invoke_reply(turn_context, cards.invoke_message_response("That button is not ours."))
            return
        actor, place = await self.shared.resolve(actor_of(activity), place_of(activity))
        key = self._event_key(activity)
        reply = await self._dispatch(actor, place, sub, activity)
        if reply is None:  # the same invoke again (Teams repeats a slow one): applied once, answered alike
            again = self.invoke_answers.get(key) or cards.invoke_message_response("That was already done.")
            await self._invoke_reply(turn_context, again)
            return
        turn_context.turn_state[COMMITTED] = reply.succeeded
        replacement = self._replacement(reply, sub, actor)
        body: dict[str, Any]
        content: dict[str, Any] | None = None
        if replacement is not None:
            mine, everyone = await self._views_for(replacement, actor, place, sub.ref)
            content = await self._render(replacement, actor.workspace_id, reply=reply, sub=sub, views=mine)
            body = cards.invoke_card_response(content)
            if everyone is not mine:  # the presser's own view differs from what everyone else sees
                content = await self._render(replacement, actor.workspace_id, reply=reply, sub=sub, views=everyone)
        else:
            body = cards.invoke_message_response(self._pop_up(reply, actor.tz))
        self.invoke_answers.put(key, body)
        await self._invoke_reply(turn_context, body)
        # The work is committed and the presser has their answer: the rest (the card updated for everyone,
        # confirmations, a next form) must not hold the invoke answer back, nor its connector retries.
        self.spawn(self._after_invoke(turn_context, reply, content if reply.succeeded else None, actor, place))

    async def _on_refresh(self, turn_context: TurnContext, data: Any) -> None:
        """A card's `refresh` (Teams asks for the viewer's own view of a card whose buttons only some people may
        press): answer with the card as it stands, with the buttons this person may press. The message it
        names comes from the card's data, so it is checked to be this conversation's: a forged or unknown
        one gets a 4xx answer and shows nothing. Nothing is changed, so nothing is claimed or recorded."""
        activity = turn_context.activity
        target = cards.refresh_target(data)
        if target is None:
            body = cards.invoke_error_response(400, "That card cannot be refreshed.")
            await self._invoke_reply(turn_context, body, status=400)
            return
        actor, place = await self.shared.resolve(actor_of(activity), place_of(activity))
        async with self.core.read_session_factory() as session:  # a look-up only
            card = await store.refresh_source(session, target["o"], place.workspace_id, place.channel_id)
        if card is None or place.is_dm:
            log.info("Teams refresh of a message not in %s refused (%s)", place.channel_id, target)
            body = cards.invoke_error_response(404, "That card is not one of this conversation's.")
            await self._invoke_reply(turn_context, body, status=404)
            return
        mine, _ = await self._views_for(card, actor, place, target)
        content = await self._render(card, actor.workspace_id, views=mine)
        await self._invoke_reply(turn_context, cards.invoke_card_response(content))

    async def _views_for(
        self, item: Card | Form, actor: Actor, place: Place, ref: dict[str, int] | None
    ) -> tuple[cards.Views | None, cards.Views | None]:
        """How a card with restricted buttons is shown after a press or a refresh: (the presser's own view,
        what everyone else sees). In a 1:1 chat both are the presser's; in a channel everyone else gets the
        base card with its refresh, when the card names the stored message it came from (`ref`), else the
        buttons stay for everyone (the server refuses whoever may not press)."""
        if not isinstance(item, Card) or not cards.has_restricted(item) or (ref is None and not place.is_dm):
            return None, None
        # Look-ups only (read sessions): no writer's turn to wait for.
        allowed = await people.people_on(self.core, cards.restricted_ids(item))
        mris, names, unreachable = await people.deciders(self.core, allowed, place.workspace_id)
        who = await directory.known_user(self.core, PLATFORM, actor.workspace_id, actor.user_id)
        viewer = who.person_id if who is not None else None
        if place.is_dm:
            mine = cards.Views(mris=mris, names=names, unreachable=unreachable, viewer=viewer)
            return mine, mine
        base = cards.Views(mris=mris, names=names, unreachable=unreachable, ref=ref)
        if viewer is None:
            return base, base
        return cards.Views(mris=mris, names=names, unreachable=unreachable, viewer=viewer, ref=ref), base

    # -- dialogs (task modules) --------------------------------------------------------------------
    async def _on_task_fetch(self, turn_context: TurnContext) -> None:
        """A dialog launcher was pressed: answer with its form, in a dialog only the presser sees."""
        activity = turn_context.activity
        value = activity.value if isinstance(activity.value, dict) else {}
        form = cards.dialog_form(value.get("data"))
        if form is None:
            await self._invoke_reply(turn_context, cards.task_message("That button is not ours."))
            return
        content = await self._render(form, tenant_of(activity), dialog=True)
        await self._invoke_reply(turn_context, cards.task_continue(form.title, content))

    async def _on_task_submit(self, turn_context: TurnContext) -> None:
        """A form submitted from a dialog. Per-field errors and refusals keep the dialog open with the form
        (the presser alone sees why); a next form replaces it; success closes it with a short message."""
        activity = turn_context.activity
        await self._remember_sender(activity)
        value = activity.value if isinstance(activity.value, dict) else {}
        sub = cards.parse_submission(value.get("data"))
        if sub is None or sub.kind != "form":
            await self._invoke_reply(turn_context, cards.task_message("That form is not ours."))
            return
        actor, place = actor_of(activity), place_of(activity)
        key = self._event_key(activity)
        reply = await self._dispatch(actor, place, sub, activity)
        if reply is None:  # the same submission again: applied once, answered alike
            await self._invoke_reply(turn_context, self.invoke_answers.get(key) or cards.task_message("Already done."))
            return
        turn_context.turn_state[COMMITTED] = reply.succeeded
        tenant = actor.workspace_id
        body: dict[str, Any]
        if (reply.errors or reply.refused) and sub.form is not None:
            errors = dict(reply.errors)
            if reply.refused:
                errors["_refused"] = " ".join(cards.card_plain(c, actor.tz) for c in reply.private)
            content = cards.render_form(
                sub.form, await self._people(sub.form, tenant), errors=errors, values=sub.values, dialog=True
            )
            body = cards.task_continue(sub.form.title, content)
        elif reply.form is not None:
            body = cards.task_continue(reply.form.title, await self._render(reply.form, tenant, dialog=True))
        else:
            body = cards.task_message(self._pop_up(reply, actor.tz))
        self.invoke_answers.put(key, body)
        await self._invoke_reply(turn_context, body)
        if reply.succeeded and reply.private:
            self.spawn(self._after_invoke(turn_context, Reply(private=reply.private), None, actor, place))

    @staticmethod
    def _pop_up(reply: Reply, tz: str | None) -> str:
        """The short message an invoke answer shows the presser alone, times in their own zone."""
        if reply.private:
            text = cards.card_plain(reply.private[0], tz)
        elif reply.errors:  # a button's per-field error: nothing was done
            text = " ".join(reply.errors.values())
        else:
            text = "Please fill in the form below." if reply.form else "Done."
        return text[:INVOKE_MESSAGE_LIMIT]

    async def _after_invoke(
        self, turn_context: TurnContext, reply: Reply, content: dict[str, Any] | None, actor: Actor, place: Place
    ) -> None:
        activity = turn_context.activity
        try:
            # Everyone else sees the new state too (the invoke response refreshes only the presser's view).
            if content is not None and activity.reply_to_id:
                await self._update_card(turn_context, activity.reply_to_id, content)
            rest = reply.private
            if reply.refused and len(reply.private) == 1:
                shown = len(cards.card_plain(reply.private[0], actor.tz)) <= INVOKE_MESSAGE_LIMIT
                rest = [] if shown else rest  # the pop-up said it, to the presser alone
            if rest:
                await self._tell_privately(actor, place, rest)
            if reply.form is not None:
                await self._render_reply(turn_context, Reply(form=reply.form), tenant=actor.workspace_id)
        except Exception:  # the invoke is answered; nobody is waiting for this
            log.exception("Teams: what follows an answered invoke failed")

    async def _keep_private(self, reply: Reply, actor: Actor, place: Place) -> Reply:
        """A command typed in a channel: a refusal, and a card with buttons meant for the asker alone (a
        draft to confirm or cancel), go to their 1:1 chat with Cadence when it has one, so nobody else can
        read or press them; the channel gets a one-line pointer. Without a 1:1 chat they stay in the
        channel (the server still refuses anyone else's press)."""
        private = [c for c in reply.private if reply.refused or c.buttons]
        if not private:
            return reply
        async with self.db_turn():
            known = await directory.dm_reference(self.core, PLATFORM, actor.workspace_id, actor.user_id)
        if not known:
            return reply
        await self._tell_privately(actor, place, private)
        pointer = Card(text="I answered you in our personal chat.", tone="info")
        rest = [c for c in reply.private if c not in private]
        return Reply(private=[*rest, pointer], form=reply.form, update=reply.update, refused=reply.refused)

    async def _tell_privately(self, actor: Actor, place: Place, items: list[Card]) -> None:
        """Cards meant for one person, through the outbox: their 1:1 chat with Cadence when it has one
        (Teams has no ephemeral messages), else the conversation where they acted."""
        if not items:
            return
        async with self.db_turn(), self.core.session_factory() as session, session.begin():
            person = await directory.person_behind(session, PLATFORM, actor.workspace_id, actor.user_id)
            for card in items:
                if person is not None and not place.is_dm:
                    queued = await self.core.outbox.ephemeral(session, place, person, card)
                    if queued is not None:
                        continue
                await self.core.outbox.post_place(session, place, card)

    def _once(self, activity: Activity):  # noqa: ANN202 - a core `within` step, or None
        """A message activity is applied once (Teams may deliver one again when it thinks the bot did not
        answer): its id is recorded in the transaction that does its work (`core.claim_event`), and a
        second delivery finds it and does nothing. A refused command rolls the record back with the rest,
        so a second delivery of it is refused again."""
        if activity.type not in (ActivityTypes.message, ActivityTypes.invoke) or not activity.id:
            return None
        return self.core.claim_event(PLATFORM, self._event_key(activity))

    @staticmethod
    def _event_key(activity: Activity) -> str:
        conversation = activity.conversation.id if activity.conversation else ""
        return f"{conversation}:{activity.id}"

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
        """What the clicked card becomes: the updated card, the form again with errors, or a receipt. A
        refused submission leaves the form as it is (the refusal is the presser's alone)."""
        if reply.errors and sub.kind == "form" and sub.form is not None:
            return sub.form
        if reply.refused:
            return None
        if reply.update is not None:
            return reply.update
        if sub.kind == "form" and not reply.errors:
            who = actor.display_name or "you"
            return Card(title=sub.title or "Form", text=f"Submitted by {who}.", tone="good")
        return None

    async def _people(self, item: Card | Form, tenant: str) -> dict[int, tuple[str, str]]:
        person_ids = cards.card_person_ids(item)
        if not person_ids:
            return {}
        # A read session (directory.people_on): no writer's turn to wait for.
        return people.mentions(await people.people_on(self.core, person_ids), tenant)

    async def _render(
        self,
        item: Card | Form,
        tenant: str,
        *,
        reply: Reply | None = None,
        sub: cards.Submission | None = None,
        dialog: bool = False,
        views: cards.Views | None = None,
    ) -> dict[str, Any]:
        named = await self._people(item, tenant)
        if isinstance(item, Form):
            errors = reply.errors if reply is not None else None
            values = sub.values if sub is not None and errors else None
            return cards.render_form(item, named, errors=errors, values=values, dialog=dialog)
        links: dict[str, cards.FileLink] = {}
        if self.files is not None and has_files(item):
            async with self.db_turn(), self.core.session_factory() as session, session.begin():
                links = await self.files.publish(session, item)
        return cards.render_card(item, named, files=links, views=views)

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

            async def remember(ctx: Ctx) -> Reply | None:  # the core stores place.conversation_ref
                return None

            async with self.db_turn():
                await self.core.run(actor, place, remember)
        if installed and activity.type == ActivityTypes.conversation_update:
            where = "here" if place.is_dm else "in this conversation"
            hint = (
                "Type `help` to see what I can do, or `home` for what waits for you."
                if place.is_dm
                else "Mention me with a command, e.g. `@Cadence help` or `@Cadence cadence setup KEY Name` "
                "to make this the home of an engagement."
            )
            await self._send_card(
                turn_context,
                Card(
                    title="Hi, I'm Cadence 👋",
                    text=f"I run the cadence of your engagement {where}: standups, "
                    f"demos, change requests, defects and milestones. {hint}",
                ),
            )
        if installed and place.is_dm and activity.from_property is not None:
            await self._send_home(turn_context, actor_of(activity))  # the app opened in personal scope

    async def _send_home(self, turn_context: TurnContext, actor: Actor) -> None:
        """The personal "my Cadence" card: what each feature has for this person (what waits for them, their
        defects, next standup, next demo), as Slack shows in its App Home."""
        async with self.db_turn():
            sections = await self.core.home(actor)
        card = Card(
            title="My Cadence",
            text="" if sections else "Nothing waits for you. Type **help** to see what I can do.",
            sections=sections,
            footer="Type **home** any time to see this again.",
        )
        await self._render_reply(turn_context, Reply(private=[card]), tenant=actor.workspace_id)

    async def _remember_sender(self, activity: Activity) -> None:
        sender = activity.from_property
        if sender is None or not sender.id or (activity.recipient and sender.id == activity.recipient.id):
            return
        actor = actor_of(activity)
        seen = (actor.workspace_id, actor.user_id, sender.id, sender.name, activity.service_url)
        if self.known_senders.is_current(*seen):
            return
        # The writer's turn only when there is something to write (a known sender costs nothing).
        async with self.db_turn(), self.core.session_factory() as session, session.begin():
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
        in_channel = not place_of(turn_context.activity).is_dm
        for n, item in enumerate(items):
            if isinstance(item, Form) and in_channel:
                # A form is one person's: in a channel it opens in a dialog for whoever presses the button.
                content = cards.dialog_launcher(item)
            else:
                content = await self._render(item, tenant)
            extra = cards.large_images(item) if isinstance(item, Card) else []
            try:
                await turn_context.send_activity(card_activity(content, extra))
            except ReplyFailed as exc:
                if exc.retryable:
                    await self._reply_later(turn_context, items[n:], exc)
                elif turn_context.turn_state.get(COMMITTED):
                    await self._confirm_elsewhere(turn_context, items[n:], exc)
                else:
                    raise
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

    async def _confirm_elsewhere(self, turn_context: TurnContext, items: list[Card | Form], exc: ReplyFailed) -> None:
        """The connector refused the reply of work that committed (403: not allowed here, 404: conversation
        gone, 413: too large). The person is told what was done, privately (their 1:1 chat when Cadence has
        one), or only that the confirmation could not be shown: never that nothing changed, which would have
        them do it again."""
        activity = turn_context.activity
        actor, place = actor_of(activity), place_of(activity)
        done = [item for item in items if isinstance(item, Card)]
        note = Card(
            text=f"Done. Teams would not show the confirmation where you asked (HTTP {exc.status}).",
            tone="info",
        )
        later = [note] if exc.status == 413 or not done else [note, *done]
        if any(isinstance(item, Form) for item in items):
            later.append(
                Card(text="The next form could not be shown; run the command again to open it.", tone="warning")
            )
        log.warning("Teams refused the reply of committed work (%s); told the person privately", exc)
        await self._tell_privately(actor, place, later)

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
