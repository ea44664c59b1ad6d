"""`POST /api/messages`, handled by hand rather than with `CloudAdapter.process()`: botbuilder 4.17.1
serialises an invoke response body twice there, which turns every Action.Execute answer into HTTP 500.

Before the turn runs: the token (auth.py; with credentials) — checked before the body is read; the body
read as a JSON object with the shape of an activity (`check_shape`, else 400); in local-testing mode
without credentials, the serviceUrl must be a loopback address (else 403), so the bot never calls out to
an address a stranger chose. Every refusal is one log line and a 4xx, never a traceback."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from botbuilder.core import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult, ClaimsIdentity
from msrest.exceptions import DeserializationError
from msrest.serialization import Model

from handlers.teams.adapter import is_loopback
from handlers.teams.auth import TokenValidator, Unauthorized
from handlers.teams.bot import TeamsBot

log = logging.getLogger("cadence.teams")

MAX_BODY = 1_000_000  # bytes; a Bot Framework activity is far smaller


class BadActivity(Exception):
    """A body that is not an activity we can take (400)."""


def make_handler(
    adapter: CloudAdapter, bot: TeamsBot, validator: TokenValidator | None
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """`validator` None: local-testing mode (no credentials): no token, loopback service URLs only."""

    async def messages(request: web.Request) -> web.Response:
        claims: dict[str, Any] | None = None
        if validator is not None:
            try:
                claims = await validator.validate(request.headers.get("Authorization", ""))
            except Unauthorized as refused:
                return _refuse(request, 401, f"unauthorized: {refused}")
        if "application/json" not in request.headers.get("Content-Type", ""):
            return _refuse(request, 415, "expected application/json")
        if request.content_length and request.content_length > MAX_BODY:
            return _refuse(request, 413, "activity too large")
        try:
            activity = read_activity(await request.read())
        except BadActivity as bad:
            return _refuse(request, 400, str(bad))
        if claims is not None:
            try:
                TokenValidator.check_activity(claims, activity.channel_id, activity.service_url)
            except Unauthorized as refused:
                return _refuse(request, 401, f"unauthorized: {refused}")
            auth: str | AuthenticateRequestResult = authenticated(adapter, claims)
        else:
            if not is_loopback(activity.service_url):
                return _refuse(request, 403, "serviceUrl is not a loopback address (TEAMS_INSECURE_LOCAL)")
            auth = ""  # botbuilder's own anonymous path: authentication is disabled without an app id
        try:
            invoke_response = await adapter.process_activity(auth, activity, bot.on_turn)
        except Exception:
            log.exception("Teams: failed to process a %s activity", activity.type)
            return web.json_response({"error": "internal error"}, status=500)
        if invoke_response is not None:
            return web.json_response(_body(invoke_response.body), status=int(invoke_response.status or 200))
        return web.Response(status=200)

    return messages


def _refuse(request: web.Request, status: int, reason: str) -> web.Response:
    log.warning("Teams: refused a request from %s (HTTP %s): %s", request.remote, status, reason)
    return web.json_response({"error": reason}, status=status)


def authenticated(adapter: CloudAdapter, claims: dict[str, Any]) -> AuthenticateRequestResult:
    """What botbuilder's own authentication would have produced for these (already verified) claims: the
    turn's identity, and a connector factory that calls the channel with our app's credentials."""
    auth = adapter.bot_framework_authentication
    identity = ClaimsIdentity({k: v for k, v in claims.items() if not k.startswith("_")}, True, "Bearer")
    result = AuthenticateRequestResult()
    result.claims_identity = identity
    result.audience = auth.get_originating_audience()
    result.caller_id = None  # as botbuilder sets it for a channel (not a skill) when no CALLER_ID is configured
    result.connector_factory = auth.create_connector_factory(identity)
    return result


# -- reading the body ---------------------------------------------------------------------------------

_STRINGS = (
    "type",
    "id",
    "text",
    "serviceUrl",
    "channelId",
    "locale",
    "textFormat",
    "name",
    "replyToId",
    "localTimezone",
    "action",
    "summary",
)
_ACCOUNTS = ("from", "recipient", "conversation")
_LISTS = ("entities", "attachments", "membersAdded", "membersRemoved", "reactionsAdded", "reactionsRemoved")
_TIMES = ("timestamp", "localTimestamp", "expiration")


def read_activity(raw: bytes) -> Activity:
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadActivity("invalid JSON") from None
    if not isinstance(body, dict):
        raise BadActivity("expected an activity (a JSON object)")
    check_shape(body)
    try:
        activity = Activity().deserialize(body)
    except (DeserializationError, ValueError, TypeError, AttributeError, KeyError) as exc:
        raise BadActivity(f"not an activity ({type(exc).__name__})") from None
    if not activity.type:
        raise BadActivity("activity without a type")
    return activity


def check_shape(body: dict[str, Any]) -> None:
    """The fields the turn reads must have the types the Bot Framework schema gives them."""
    for key in _STRINGS:
        if body.get(key) is not None and not isinstance(body[key], str):
            raise BadActivity(f"{key} must be a string")
    if not body.get("type"):
        raise BadActivity("activity without a type")
    for key in ("conversation", "from"):  # every turn reads them; the Bot Connector always sends both
        value = body.get(key)
        if not isinstance(value, dict) or not isinstance(value.get("id"), str) or not value["id"]:
            raise BadActivity(f"{key}.id is missing")
    for key in _ACCOUNTS:
        value = body.get(key)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise BadActivity(f"{key} must be an object")
        for field in ("id", "name", "aadObjectId", "tenantId", "conversationType", "role"):
            if value.get(field) is not None and not isinstance(value[field], str):
                raise BadActivity(f"{key}.{field} must be a string")
        if "isGroup" in value and value["isGroup"] is not None and not isinstance(value["isGroup"], bool):
            raise BadActivity(f"{key}.isGroup must be true or false")
    for key in _LISTS:
        value = body.get(key)
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, dict) for v in value)):
            raise BadActivity(f"{key} must be a list of objects")
    for key in _TIMES:
        value = body.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not _is_time(value):
            raise BadActivity(f"{key} must be an ISO 8601 time")
    if body.get("type") == "invoke" and body.get("name") == "adaptiveCard/action":  # an Action.Execute click
        value = body.get("value")
        action = value.get("action") if isinstance(value, dict) else None
        if not isinstance(action, dict):
            raise BadActivity("value.action must be an object")
        if action.get("verb") is not None and not isinstance(action["verb"], str):
            raise BadActivity("value.action.verb must be a string")
        if action.get("data") is not None and not isinstance(action["data"], dict):
            raise BadActivity("value.action.data must be an object")
    channel_data = body.get("channelData")
    if channel_data is not None and not isinstance(channel_data, dict):
        raise BadActivity("channelData must be an object")
    for key in ("tenant", "team", "channel"):
        inner = (channel_data or {}).get(key)
        if inner is None:
            continue
        if not isinstance(inner, dict):
            raise BadActivity(f"channelData.{key} must be an object")
        for field in ("id", "name"):
            if inner.get(field) is not None and not isinstance(inner[field], str):
                raise BadActivity(f"channelData.{key}.{field} must be a string")


def _is_time(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _body(body: Any) -> Any:
    """An invoke response body as JSON data, whether a dict (ours) or a botbuilder model."""
    if body is None or isinstance(body, (dict, list, str, int, float, bool)):
        return body
    if isinstance(body, Model):
        return serializer_helper(body)
    return body


def mount(
    web_app: web.Application,
    adapter: CloudAdapter,
    bot: TeamsBot,
    validator: TokenValidator | None,
    path: str = "/api/messages",
) -> None:
    web_app.router.add_post(path, make_handler(adapter, bot, validator))
