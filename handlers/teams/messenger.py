"""The Teams messenger: how the outbox delivers to Teams (proactive messages through stored conversation
references). Maps connector errors to RetryLater / PermanentFailure so the outbox can retry or record."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)
from msrest.exceptions import ClientRequestError, HttpOperationError

from bot.kernel import directory
from bot.kernel.delivery import MessageGone, Outgoing, PermanentFailure, RetryLater, Sent
from bot.kernel.messages import Card
from handlers.teams import cards, people, store
from handlers.teams.adapter import OUTBOUND_TIMEOUT_SECONDS, connector_client, tune_connector
from handlers.teams.bot import card_activity
from handlers.teams.files import FileLinks, has_files

log = logging.getLogger("cadence.teams")

NO_DM = "no 1:1 conversation with this user yet"


def _status_of(exc: HttpOperationError) -> tuple[int | None, float | None]:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    retry_after = None
    headers = getattr(response, "headers", None) or {}
    try:
        raw = headers.get("Retry-After") or headers.get("retry-after")
        retry_after = float(raw) if raw is not None else None
    except (TypeError, ValueError):
        retry_after = None
    return status, retry_after


def classify(exc: BaseException) -> Exception:
    """A connector failure as RetryLater or PermanentFailure."""
    if isinstance(exc, (RetryLater, PermanentFailure)):
        return exc
    if isinstance(exc, HttpOperationError):
        status, retry_after = _status_of(exc)
        if status == 429:
            return RetryLater("Teams connector rate limit (HTTP 429)", retry_after=retry_after)
        if status is None or status >= 500 or status in (408, 401):
            # 401: token trouble on our side or the token service; worth retrying, not dropping.
            return RetryLater(f"Teams connector HTTP {status}", retry_after=retry_after)
        if status == 403:
            return PermanentFailure(
                "the bot is not allowed in this conversation any more (HTTP 403: removed or blocked)"
            )
        if status == 404:
            return PermanentFailure(
                "conversation or message not found (HTTP 404: the bot was removed or the conversation deleted)"
            )
        return PermanentFailure(f"Teams connector refused the message (HTTP {status})")
    if isinstance(exc, (ClientRequestError, asyncio.TimeoutError, ConnectionError, OSError)):
        return RetryLater(f"Teams connector unreachable: {type(exc).__name__}")
    return RetryLater(f"{type(exc).__name__}: {exc}")


class TeamsMessenger:
    platform = "teams"

    def __init__(self, core: Any, adapter: CloudAdapter, app_id: str = "", files: FileLinks | None = None) -> None:
        self.core = core
        self.adapter = adapter
        self.app_id = app_id or ""
        self.files = files

    async def send(self, out: Outgoing) -> Sent:
        try:
            if out.op == "dm":
                return await self._dm(out)
            if out.op == "update":
                return await self._update(out)
            if out.op == "ephemeral":
                return await self._ephemeral(out)
            return await self._post(out)
        except (RetryLater, PermanentFailure):
            raise
        except Exception as exc:  # connector errors → the outbox's vocabulary
            mapped = classify(exc)
            if out.op == "update" and isinstance(exc, HttpOperationError) and _status_of(exc)[0] == 404:
                # ActivityNotFoundInConversation: the card was deleted. Microsoft's advice: drop the cached
                # id, do not retry; the outbox posts a fresh card. If the whole conversation is gone, that
                # post fails in turn and is recorded as the conversation's failure.
                mapped = MessageGone("the card to update was not found (HTTP 404: deleted)")
            log.info("Teams %s (outbox %s): %s", out.op, out.outbox_id, mapped)
            raise mapped from exc

    # -- ops --------------------------------------------------------------------------------------
    async def _post(self, out: Outgoing) -> Sent:
        ref = out.address.get("conversation_ref")
        if not ref:
            raise PermanentFailure(
                "no Teams conversation reference for this channel yet (mention the bot there "
                "once, or run setup there again)"
            )
        message_id = await self._send_to(ref, await self._activity(out.card, out.address, out))
        return Sent(message_id=message_id, channel_id=out.address.get("channel_id") or ref["conversation"]["id"])

    async def _update(self, out: Outgoing) -> Sent:
        ref = out.address.get("conversation_ref")
        if not ref and out.address.get("channel_id"):
            ref = await directory.dm_reference_in(
                self.core, self.platform, out.address.get("workspace_id", ""), out.address["channel_id"]
            )
        if not ref or not out.message_id:
            raise PermanentFailure("nothing to update: the message's Teams conversation is unknown")
        activity = await self._activity(out.card, out.address, out)
        conversation_id = ref["conversation"]["id"]

        async def logic(turn_context: TurnContext) -> None:
            tune_connector(turn_context, retries=0, timeout=OUTBOUND_TIMEOUT_SECONDS)
            activity.id = out.message_id
            TurnContext.apply_conversation_reference(activity, turn_context.activity.relates_to)
            activity.reply_to_id = None
            await connector_client(turn_context).conversations.update_activity(
                conversation_id, out.message_id, activity
            )

        await self.adapter.continue_conversation(ConversationReference().deserialize(ref), logic, self.app_id)
        return Sent(message_id=out.message_id, channel_id=out.address.get("channel_id") or conversation_id)

    async def _dm(self, out: Outgoing) -> Sent:
        ref = out.address.get("conversation_ref")
        activity = await self._activity(out.card, out.address)
        if ref:
            message_id = await self._send_to(ref, activity)
            return Sent(message_id=message_id, channel_id=ref["conversation"]["id"])
        return await self._create_and_send(out, activity)

    async def _ephemeral(self, out: Outgoing) -> Sent:
        """Teams has no ephemeral messages: send it to the person's 1:1 chat when we have one, else post it
        in the conversation (addressed to them)."""
        tenant, user_id = out.address.get("workspace_id", ""), out.address.get("user_id")
        dm_ref = await directory.dm_reference(self.core, self.platform, tenant, user_id) if user_id else None
        if dm_ref:
            message_id = await self._send_to(dm_ref, await self._activity(out.card, out.address))
            return Sent(message_id=message_id, channel_id=dm_ref["conversation"]["id"])
        return await self._post(out)

    # -- plumbing ---------------------------------------------------------------------------------
    async def _activity(self, card: Card, address: dict[str, Any], out: Outgoing | None = None) -> Activity:
        tenant = address.get("workspace_id")
        restricted = cards.has_restricted(card)
        # One look-up in the core's directory for everyone the card names or lets press a button.
        named = await people.people_on(self.core, cards.card_person_ids(card) | cards.restricted_ids(card))
        reader, zone = await self._reader(address)
        links: dict[str, cards.FileLink] = {}
        if self.files is not None and has_files(card):
            async with self.core.session_factory() as session, session.begin():
                links = await self.files.publish(session, card)
        views = await self._views(card, address, out, named, reader) if restricted else None
        mentions = people.mentions(named, tenant)
        activity = card_activity(cards.render_card(card, mentions, files=links, views=views), cards.large_images(card))
        # The notification preview: times in the reader's own zone when the message is for one person; a
        # channel's readers differ, so there times are named with their zone (UTC), never as ISO strings.
        activity.summary = cards.card_plain(card, zone)[:200] or None
        return activity

    async def _reader(self, address: dict[str, Any]) -> tuple[int | None, str | None]:
        """The person id and time zone of the one person a message is for (a DM, or a message meant for one
        person), else (None, None)."""
        person_id = address.get("person_id")
        if person_id:
            known = await directory.known_person(self.core, int(person_id))
            return int(person_id), known.tz if known is not None else None
        if address.get("user_id"):
            tenant = address.get("workspace_id") or ""
            known = await directory.known_user(self.core, self.platform, tenant, address["user_id"])
            return (known.person_id, known.tz) if known is not None else (None, None)
        return None, None

    async def _views(
        self,
        card: Card,
        address: dict[str, Any],
        out: Outgoing | None,
        named: dict[int, directory.OnPlatform],
        reader: int | None,
    ) -> cards.Views | None:
        """How the card's restricted buttons are shown: to its one reader as theirs to press or not (a 1:1
        chat), or in a channel as a base card with a refresh for each allowed person's own view. Only a
        message posted under a ref_key gets the refresh: its later states are edits under that key, so a
        refresh shows the card as it stands (`store.refresh_source`), never an old state with live buttons."""
        allowed = {pid: named[pid] for pid in cards.restricted_ids(card) if pid in named}
        mris, names, unreachable = await people.deciders(self.core, allowed, address.get("workspace_id"))
        if reader is not None:
            return cards.Views(mris=mris, names=names, unreachable=unreachable, viewer=reader)
        if out is None or not out.ref_key or out.op not in ("post", "update") or out.outbox_id is None:
            return None
        return cards.Views(mris=mris, names=names, unreachable=unreachable, ref={"o": out.outbox_id})

    async def _send_to(self, ref: dict[str, Any], activity: Activity) -> str | None:
        conversation_id = ref["conversation"]["id"]
        result: dict[str, str | None] = {}

        async def logic(turn_context: TurnContext) -> None:
            tune_connector(turn_context, retries=0, timeout=OUTBOUND_TIMEOUT_SECONDS)
            TurnContext.apply_conversation_reference(activity, turn_context.activity.relates_to)
            activity.reply_to_id = None
            response = await connector_client(turn_context).conversations.send_to_conversation(
                conversation_id, activity
            )
            result["id"] = getattr(response, "id", None)

        await self.adapter.continue_conversation(ConversationReference().deserialize(ref), logic, self.app_id)
        return result.get("id")

    async def _create_and_send(self, out: Outgoing, activity: Activity) -> Sent:
        """Open the 1:1 chat with someone who never wrote to the bot (Teams allows it when the app is
        installed for them or in a team they are in)."""
        tenant, user_id = out.address.get("workspace_id", ""), out.address.get("user_id") or ""
        async with self.core.read_session_factory() as session:  # look-ups only
            known = await store.user(session, tenant, user_id)
            service_url = await store.service_url_for(session, tenant, user_id)
            sample = await store.any_binding_reference(session, tenant)
        if sample is None:
            sample = await directory.any_dm_reference(self.core, self.platform, tenant)
        bot = (sample or {}).get("bot") or {}
        if sample is None or not service_url or not bot.get("id"):
            raise PermanentFailure(NO_DM)
        member_id = known.bf_id if known is not None else user_id
        params = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=bot["id"], name=bot.get("name")),
            members=[ChannelAccount(id=member_id)],
            tenant_id=tenant or None,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )
        result: dict[str, Any] = {}

        async def logic(turn_context: TurnContext) -> None:
            tune_connector(turn_context, retries=0, timeout=OUTBOUND_TIMEOUT_SECONDS)
            conversation: ConversationAccount = turn_context.activity.conversation
            ref = ConversationReference(
                channel_id=turn_context.activity.channel_id or "msteams",
                service_url=service_url,
                conversation=ConversationAccount(
                    id=conversation.id, conversation_type="personal", tenant_id=tenant or None
                ),
                bot=ChannelAccount(id=bot["id"], name=bot.get("name")),
                user=ChannelAccount(id=member_id, aad_object_id=user_id if user_id != member_id else None),
            )
            result["ref"] = ref.serialize()
            result["conversation_id"] = conversation.id
            TurnContext.apply_conversation_reference(activity, ref)
            activity.reply_to_id = None
            response = await connector_client(turn_context).conversations.send_to_conversation(
                conversation.id, activity
            )
            result["id"] = getattr(response, "id", None)

        try:
            await self.adapter.create_conversation(
                self.app_id,
                logic,
                params,
                channel_id=(sample or {}).get("channelId") or "msteams",
                service_url=service_url,
            )
        except HttpOperationError as exc:
            if "ref" in result:
                raise  # created, then the send failed: classified by send()
            mapped = classify(exc)
            if isinstance(mapped, PermanentFailure):
                status, _ = _status_of(exc)
                raise PermanentFailure(f"{NO_DM} (Teams would not open one: HTTP {status})") from exc
            raise mapped from exc
        finally:
            if "ref" in result:  # the 1:1 exists now: keep it, even if the send itself must be retried
                await directory.save_dm_reference(
                    self.core, self.platform, tenant, user_id, result["ref"], result["conversation_id"]
                )
        return Sent(message_id=result.get("id"), channel_id=result.get("conversation_id"))
