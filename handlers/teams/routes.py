"""`POST /api/messages`, handled by hand rather than with `CloudAdapter.process()`: botbuilder 4.17.1
serialises an invoke response body twice there, which turns every Action.Execute answer into HTTP 500."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
from aiohttp import web
from botbuilder.core import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from msrest.serialization import Model

from handlers.teams.bot import TeamsBot

log = logging.getLogger("cadence.teams")

MAX_BODY = 1_000_000  # bytes; a Bot Framework activity is far smaller


def make_handler(adapter: CloudAdapter, bot: TeamsBot) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def messages(request: web.Request) -> web.Response:
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.json_response({"error": "expected application/json"}, status=415)
        if request.content_length and request.content_length > MAX_BODY:
            return web.json_response({"error": "activity too large"}, status=413)
        try:
            body = await request.json()
        except (ValueError, json.JSONDecodeError):
            return web.json_response({"error": "invalid JSON"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"error": "expected an activity"}, status=400)
        activity = Activity().deserialize(body)
        if not activity.type:
            return web.json_response({"error": "activity without a type"}, status=400)
        auth_header = request.headers.get("Authorization", "")
        try:
            invoke_response = await adapter.process_activity(auth_header, activity, bot.on_turn)
        except (PermissionError, jwt.PyJWTError):  # missing, forged or malformed token: not the caller's turn
            log.warning("Teams: refused an unauthenticated request (%s from %s)", activity.type, request.remote)
            return web.json_response({"error": "unauthorized"}, status=401)
        except Exception:
            log.exception("Teams: failed to process a %s activity", activity.type)
            return web.json_response({"error": "internal error"}, status=500)
        if invoke_response is not None:
            return web.json_response(_body(invoke_response.body), status=int(invoke_response.status or 200))
        return web.Response(status=200)

    return messages


def _body(body: Any) -> Any:
    """An invoke response body as JSON data, whether a dict (ours) or a botbuilder model."""
    if body is None or isinstance(body, (dict, list, str, int, float, bool)):
        return body
    if isinstance(body, Model):
        return serializer_helper(body)
    return body


def mount(web_app: web.Application, adapter: CloudAdapter, bot: TeamsBot, path: str = "/api/messages") -> None:
    web_app.router.add_post(path, make_handler(adapter, bot))
