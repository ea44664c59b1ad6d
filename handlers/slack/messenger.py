"""The Slack messenger: how the core's outbox delivers to Slack (see docs/core-api.md, "Messengers").

No slack_sdk retry handlers here: the outbox retries durably, so a 429, a 5xx or a refused connection
is reported as RetryLater at once (with Slack's Retry-After), and a dead end as PermanentFailure."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.kernel.delivery import MessageGone, Outgoing, PermanentFailure, RetryLater, Sent
from handlers.slack import render
from handlers.slack.library_logs import library_logger
from handlers.slack.respond import SessionHolder

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

log = logging.getLogger("cadence.slack.messenger")

PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "account_inactive",
        "user_not_found",
        "invalid_auth",
        "token_revoked",
        "not_authed",
        "team_access_not_granted",
        "missing_scope",
        "cannot_dm_bot",
        "user_disabled",
        "restricted_action",
        "ekm_access_denied",
        "no_permission",
        "msg_too_long",
        "invalid_blocks",
        "invalid_blocks_format",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "channel_is_archived",
        "user_not_in_channel",
        "not_allowed_token_type",
        "app_uninstalled",
        "org_login_required",
        # A DM to a member of another workspace (Slack Connect) that Slack refuses: "those organizations must
        # be in at least one channel together", or the person is not visible to this installation.
        "invalid_user_combination",
        "user_not_visible",
    }
)

TokenLookup = Callable[[str], Awaitable[str | None]]


def to_delivery_error(exc: BaseException) -> Exception:
    """Map a Web API failure onto the outbox's RetryLater / PermanentFailure."""
    if isinstance(exc, SlackApiError):
        resp = exc.response
        status = getattr(resp, "status_code", 0) or 0
        error = ""
        try:
            error = (resp.get("error") or "") if resp is not None else ""
        except Exception:  # noqa: BLE001 - a non-JSON body
            error = ""
        if status == 429 or error == "ratelimited":
            retry_after = None
            try:
                raw = (resp.headers or {}).get("Retry-After") or (resp.headers or {}).get("retry-after")
                retry_after = float(raw) if raw is not None else None
            except (TypeError, ValueError):
                retry_after = None
            return RetryLater(f"slack rate limited ({error or status})", retry_after=retry_after)
        if status >= 500:
            return RetryLater(f"slack HTTP {status} {error}".strip())
        if error == "message_not_found":  # a deleted message: the outbox posts it afresh (bot/kernel/delivery.py)
            return MessageGone(f"slack: {error}")
        if error in PERMANENT_ERRORS:
            return PermanentFailure(f"slack: {error}")
        if error in ("fatal_error", "internal_error", "service_unavailable", "request_timeout"):
            return RetryLater(f"slack: {error}")
        return RetryLater(f"slack: {error or 'HTTP ' + str(status)}")
    if isinstance(
        exc, (asyncio.TimeoutError, TimeoutError, aiohttp.ClientError, ConnectionError, OSError, SlackRequestError)
    ):
        return RetryLater(f"slack unreachable: {type(exc).__name__}: {exc}")
    return RetryLater(f"{type(exc).__name__}: {exc}")


async def _call(client: AsyncWebClient, method: str, **fields: Any) -> Any:
    """A message method through `api_call`, as a JSON body, which is what `chat_postMessage` & co. send
    after they have walked the body for Block Kit objects to convert and None values to drop. Ours is
    plain dicts from render.message, so that walk was pure cost. Together with library_logs, the messenger
    went from 270–320 to 165–225 µs of CPU per message (docs/benchmarks.md, section 3, third session)."""
    return await client.api_call(method, json={k: v for k, v in fields.items() if v is not None})


class SlackMessenger:
    """`core.messengers["slack"]`: turns an Outgoing into Web API calls."""

    platform = "slack"

    def __init__(
        self,
        *,
        base_url: str,
        token_for: TokenLookup,
        core: Cadence | None = None,  # to look up whom a card mentions
        timeout: int = 15,
        http: SessionHolder | None = None,
    ) -> None:
        self.base_url = base_url
        self._token_for = token_for
        self._core = core
        self._timeout = timeout
        self._clients: dict[str, AsyncWebClient] = {}
        # One pooled HTTP session for every call (the front end's, shared with response_url answers):
        # without it slack_sdk opens (and closes) a new session, so a new connection, per call — a third
        # of the cost of a delivery (bench/timer_lateness.py).
        self._http = http if http is not None else SessionHolder()
        self._own_http = http is None

    def client(self, token: str) -> AsyncWebClient:
        session = self._http()
        client = self._clients.get(token)
        if client is None or client.session is not session:  # first use, or the session was reopened
            # retry_handlers=[]: no silent in-process retries; the outbox decides.
            client = AsyncWebClient(
                token=token,
                base_url=self.base_url,
                timeout=self._timeout,
                retry_handlers=[],
                session=session,
                logger=library_logger("cadence.slack.web"),
            )
            self._clients[token] = client
        return client

    async def close(self) -> None:
        self._clients.clear()
        if self._own_http:
            await self._http.close()

    async def send(self, out: Outgoing) -> Sent:
        try:
            return await self._send(out)
        except (RetryLater, PermanentFailure):
            raise
        except Exception as exc:
            raise to_delivery_error(exc) from exc

    async def _send(self, out: Outgoing) -> Sent:
        address = out.address or {}
        workspace = address.get("workspace_id", "")
        token = await self._token_for(workspace)
        if not token:
            raise PermanentFailure(f"Cadence is not installed in Slack workspace {workspace or '?'}")
        client = self.client(token)
        mentions = await render.load_mentions(self._core, workspace, [out.card])
        body = render.message(out.card, mentions)
        if out.op == "update":
            channel = await self._channel(client, address)
            resp = await _call(client, "chat.update", channel=channel, ts=out.message_id, **body)
            return Sent(message_id=resp.get("ts") or out.message_id, channel_id=resp.get("channel") or channel)
        if out.op == "ephemeral":
            channel = address["channel_id"]
            resp = await _call(client, "chat.postEphemeral", channel=channel, user=address["user_id"], **body)
            return Sent(message_id=resp.get("message_ts"), channel_id=channel)
        if out.op == "dm":
            channel = await self._channel(client, {**address, "channel_id": None})
        elif out.op == "post":
            channel = await self._channel(client, address)
        else:
            raise PermanentFailure(f"unknown outbox op {out.op!r}")
        thread = (
            address.get("thread_id") if out.op == "post" else None
        )  # a reply in a thread (bot/kernel/dm_fallback.py)
        resp = await _call(
            client,
            "chat.postMessage",
            channel=channel,
            thread_ts=thread,
            unfurl_links=False,
            unfurl_media=False,
            **body,
        )
        sent = Sent(message_id=resp.get("ts"), channel_id=resp.get("channel") or channel)
        if out.card.attachments:
            await self._upload(client, sent, out)
        return sent

    @staticmethod
    async def _channel(client: AsyncWebClient, address: dict[str, Any]) -> str:
        """The conversation to use: the channel, else the person's IM channel (opened if unknown)."""
        channel = address.get("channel_id") or address.get("dm_channel_id")
        if channel:
            return channel
        if not address.get("user_id"):
            raise PermanentFailure("no channel and no user to send to")
        opened = await client.conversations_open(users=address["user_id"])
        return opened["channel"]["id"]

    async def _upload(self, client: AsyncWebClient, sent: Sent, out: Outgoing) -> None:
        """Attachments go into the message's thread (files.getUploadURLExternal → upload →
        files.completeUploadExternal). The message itself is already delivered, so a failure here is
        logged rather than retried: retrying would post the message twice."""
        uploads = [
            {"content": base64.b64decode(a.content_b64), "filename": a.filename, "title": a.title or a.filename}
            for a in out.card.attachments
        ]
        try:
            await client.files_upload_v2(file_uploads=uploads, channel=sent.channel_id, thread_ts=sent.message_id)
        except Exception as exc:  # noqa: BLE001
            log.warning("slack: attachments of outbox message %s not uploaded: %s", out.outbox_id, exc)
