"""Answering through a response_url on one pooled HTTP session.

bolt's `respond` builds a new webhook client, hence a new HTTP session and connection, for every answer;
under a burst of commands that is a good part of the CPU each answer costs. Same calls, same messages,
kept-alive connections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from handlers.slack.library_logs import library_logger


class PooledRespond(AsyncRespond):
    def __init__(self, *, response_url: str | None, session: Callable[[], aiohttp.ClientSession]) -> None:
        super().__init__(response_url=response_url)
        self._session = session

    async def __call__(self, text: str | dict = "", **kwargs: Any) -> WebhookResponse:  # type: ignore[override]
        if self.response_url is None:
            raise ValueError("respond is unsupported here as there is no response_url")
        fields = dict(text) if isinstance(text, dict) else {"text": text, **kwargs}
        message = {key: value for key, value in fields.items() if value is not None}  # as bolt builds it
        return await AsyncWebhookClient(
            url=self.response_url, session=self._session(), logger=library_logger("cadence.slack.web")
        ).send_dict(message)


class SessionHolder:
    """One aiohttp session, opened on first use (inside the running loop) and closed at stop."""

    def __init__(self) -> None:
        self._http: aiohttp.ClientSession | None = None

    def __call__(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    def respond(self, response_url: str | None) -> PooledRespond | None:
        return PooledRespond(response_url=response_url, session=self) if response_url else None
