"""Sending the replies of a turn to the Bot Framework connector over one shared aiohttp session.

botbuilder sends a reply through msrest, which runs `requests` in a thread pool with a requests.Session
(and so a new TCP connection) made for that one turn. Profiled with py-spy under bench/teams_ack.py, that
path — thread hand-offs, a fresh connection, msrest's pipeline — was one of the larger costs of a Teams
turn after the database. Here a reply is the same HTTP call (same URL, body, headers and credentials:
`POST {serviceUrl}/v3/conversations/{id}/activities[/{replyToId}]`), made from the event loop over a
pooled keep-alive session.

Only replies inside a turn go this way (`CadenceCloudAdapter.send_activities`). Proactive sends for the
outbox keep botbuilder's client with msrest retries off, because the outbox owns retries there.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import aiohttp
import certifi
from botbuilder.schema import Activity, ResourceResponse

log = logging.getLogger("cadence.teams")

# What msrest/urllib3 would retry for a turn reply: connection errors, 408, 429 and 5xx but 501 and 505.
_NOT_RETRIED_5XX = (501, 505)


class ReplyFailed(Exception):
    """The connector refused or did not take a reply (after the retries)."""

    def __init__(self, status: int | None, detail: str) -> None:
        super().__init__(f"Teams connector: {detail}")
        self.status = status

    @property
    def retryable(self) -> bool:
        """Worth delivering later (connector unreachable, overloaded, failing); not a refusal (403, 404)."""
        return self.status is None or _retryable(self.status)


def _retryable(status: int) -> bool:
    return status in (408, 429) or (status >= 500 and status not in _NOT_RETRIED_5XX)


def _authorization(credentials: Any) -> str | None:
    """The Authorization header botbuilder's credentials would put on the call (none when unauthenticated).
    `signed_session` only sets headers on the session it is given; a token is fetched and cached by the
    credentials object exactly as for botbuilder's own calls."""
    if credentials is None:
        return None
    holder = SimpleNamespace(headers={})
    try:
        credentials.signed_session(holder)
    except (TypeError, AttributeError):  # credentials that insist on making their own requests.Session
        holder = credentials.signed_session()
    return holder.headers.get("Authorization")


class ReplySender:
    """One per process: a lazily made aiohttp session (connections kept alive per service URL)."""

    def __init__(self, *, retries: int, timeout: float) -> None:
        self.retries = retries
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._http: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            # As `requests` did: HTTPS_PROXY & co. honoured (trust_env), certificates checked against certifi's
            # CA bundle (not only the system's).
            connector = aiohttp.TCPConnector(ssl=ssl.create_default_context(cafile=certifi.where()))
            self._http = aiohttp.ClientSession(timeout=self.timeout, trust_env=True, connector=connector)
        return self._http

    async def close(self) -> None:
        if self._http is not None and not self._http.closed:
            await self._http.close()
        self._http = None

    async def send(self, activity: Activity, *, credentials: Any, user_agent: str | None) -> ResourceResponse:
        """Send `activity` (conversation reference already applied) as a reply when it has `reply_to_id`,
        else as a new message in its conversation."""
        conversation_id = activity.conversation.id
        path = f"v3/conversations/{quote(conversation_id, safe='')}/activities"
        if activity.reply_to_id:
            path += f"/{quote(activity.reply_to_id, safe='')}"
        url = activity.service_url.rstrip("/") + "/" + path
        # Model.serialize, not Serializer.body: body() first re-deserializes and validates the whole model
        # (twice the work, same JSON for a model we built).
        body = activity.serialize()
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json; charset=utf-8",
            "x-ms-conversation-id": conversation_id,
        }
        if user_agent:
            headers["User-Agent"] = user_agent
        attempt = 0
        while True:
            auth = _authorization(credentials)
            if auth:
                headers["Authorization"] = auth
            delay = 0.8 * (2 ** (attempt - 1)) if attempt else 0.0  # as urllib3's Retry(backoff_factor=0.8)
            try:
                async with self._session().post(url, json=body, headers=headers) as resp:
                    if resp.status in (200, 201, 202):
                        try:
                            data = await resp.json(content_type=None)
                        except ValueError:  # a 2xx without a JSON body: sent, id unknown
                            data = None
                        rid = data.get("id") if isinstance(data, dict) else None
                        return ResourceResponse(id=rid or "")
                    text = (await resp.text())[:300]
                    status = resp.status
                    if not _retryable(status) or attempt >= self.retries:
                        raise ReplyFailed(status, f"HTTP {status} for a reply: {text}")
                    retry_after = resp.headers.get("Retry-After")
                    if retry_after is not None:
                        try:
                            delay = min(float(retry_after), self.timeout.total or 15)
                        except ValueError:
                            pass
            except (TimeoutError, aiohttp.ClientError) as exc:
                if attempt >= self.retries:
                    raise ReplyFailed(None, f"unreachable ({type(exc).__name__}: {exc})") from exc
            attempt += 1
            log.info("Teams reply to %s: retry %d in %.1f s", conversation_id, attempt, delay)
            await asyncio.sleep(delay)
