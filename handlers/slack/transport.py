"""What a request to `POST /slack/events` must be before anything reads it.

In this order: the signature is checked on the raw bytes (HMAC-SHA256 of `v0:{timestamp}:{body}` with the
signing secret, timestamp within 5 minutes), before the body is decoded or parsed, so an unsigned sender
cannot reach a parser at all; then the body is decoded and parsed as Slack sends it (a form, a form with a
JSON `payload`, or JSON) and the fields Cadence's listeners read are checked for the types Slack documents.
Anything else is refused with a `Refused` (401 authentication, 400 a body that cannot be used), which the
route turns into one log line and the status — never a traceback."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

# Slack: "If the X-Slack-Request-Timestamp is more than five minutes from local time, it could be a replay
# attack, so let's ignore it." The replay record (replays.py) is kept for the same window.
REPLAY_WINDOW_SECONDS = 5 * 60


class Refused(Exception):
    """A request Cadence will not take: `status` is the HTTP answer, the message says why (for the log)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> str:
    """The request's signature if it is Slack's, for this body, within the window; else Refused(401)."""
    timestamp = headers.get("X-Slack-Request-Timestamp") or ""
    signature = headers.get("X-Slack-Signature") or ""
    if not timestamp or not signature:
        raise Refused(401, "unsigned (no X-Slack-Signature or X-Slack-Request-Timestamp)")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise Refused(401, "malformed X-Slack-Request-Timestamp")
    if abs(now - int(timestamp)) > REPLAY_WINDOW_SECONDS:
        raise Refused(401, "stale timestamp (more than 5 minutes from now)")
    basestring = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), basestring, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise Refused(401, "invalid signature")
    return expected


def parse(body: bytes, content_type: str) -> dict[str, Any]:
    """The payload as slack-bolt will see it (same rules as its parse_body), with the shape checked."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "body is not UTF-8") from None
    if not text:
        raise Refused(400, "empty body")
    try:
        if content_type == "application/json" or text.startswith("{"):
            payload = json.loads(text)
        else:
            form = dict(parse_qsl(text, keep_blank_values=True))
            payload = json.loads(form["payload"]) if "payload" in form else form
    except ValueError as exc:  # JSONDecodeError, and parse_qsl's own ValueErrors
        raise Refused(400, f"body is not JSON or a form ({type(exc).__name__})") from None
    if not isinstance(payload, dict):
        raise Refused(400, "payload is not an object")
    check_shape(payload)
    return payload


# -- shapes: the fields the listeners read, with the types Slack documents ------------------------------


def _str(obj: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> None:
    value = obj.get(key)
    if value is None and not required:
        return
    if not isinstance(value, str) or (required and not value):
        raise Refused(400, f"{where}.{key} must be a{' non-empty' if required else ''} string")


def _obj(obj: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> dict[str, Any]:
    value = obj.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise Refused(400, f"{where}.{key} must be an object")
    return value


def _list_of_objects(obj: Mapping[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise Refused(400, f"{where}.{key} must be a list of objects")
    return value


def _strings(obj: Mapping[str, Any], where: str, *keys: str) -> None:
    for key in keys:
        _str(obj, key, where)


_ENVELOPE: dict[str, tuple[type, ...]] = {
    "event": (dict,),
    "user": (dict, str),
    "team": (dict, str),
    "enterprise": (dict, str),
    "channel": (dict, str),
    "view": (dict,),
    "actions": (list,),
    "container": (dict,),
    "message": (dict,),
    "authorizations": (list,),
    "is_enterprise_install": (bool, str),
}


def check_shape(payload: dict[str, Any]) -> None:
    """Refuse (400) a payload whose fields do not have the types the listeners rely on."""
    _strings(payload, "body", "type", "team_id", "api_app_id", "token", "enterprise_id", "event_id", "challenge")
    # Fields slack-bolt's own middleware reads in any payload: their documented types (Slack sends some as
    # null, e.g. "enterprise": null; an event never).
    for key, types in _ENVELOPE.items():
        if key in payload and (payload[key] is not None or key == "event") and not isinstance(payload[key], types):
            raise Refused(400, f"body.{key} has the wrong type")
    for item in payload.get("authorizations") or []:
        if not isinstance(item, dict):
            raise Refused(400, "body.authorizations must be a list of objects")
    kind = payload.get("type")
    if "command" in payload and kind is None:  # a slash command: a form, so every value is a string
        if not all(isinstance(value, str) for value in payload.values()):
            raise Refused(400, "a slash command's fields must be strings")
        _str(payload, "command", "command", required=True)
        _str(payload, "user_id", "command", required=True)
        return
    if kind in ("block_actions", "view_submission", "view_closed", "shortcut", "message_action", "block_suggestion"):
        _check_interaction(payload)
    elif kind == "event_callback":
        _check_event(_obj(payload, "event", "body", required=True))
    elif kind == "url_verification":
        _str(payload, "challenge", "body", required=True)


def _check_interaction(payload: dict[str, Any]) -> None:
    user = _obj(payload, "user", "body", required=True)
    _str(user, "id", "user", required=True)
    _strings(user, "user", "username", "name", "team_id")
    _strings(_obj(payload, "team", "body"), "team", "id", "domain")
    _strings(_obj(payload, "channel", "body"), "channel", "id", "name")
    _strings(_obj(payload, "container", "body"), "container", "type", "message_ts", "channel_id", "view_id")
    _strings(_obj(payload, "message", "body"), "message", "ts", "text")
    _strings(payload, "body", "response_url", "trigger_id", "callback_id")
    for action in _list_of_objects(payload, "actions", "body"):
        _strings(action, "action", "action_id", "block_id", "value", "type")
    view = _obj(payload, "view", "body", required=payload.get("type") == "view_submission")
    if view:
        _strings(view, "view", "id", "type", "callback_id", "private_metadata")
        for block in _list_of_objects(view, "blocks", "view"):
            _strings(block, "block", "type", "block_id")
            _obj(block, "element", "block")
        values = _obj(_obj(view, "state", "view"), "values", "view.state")
        for block_values in values.values():
            if not isinstance(block_values, dict) or not all(isinstance(v, dict) for v in block_values.values()):
                raise Refused(400, "view.state.values must map blocks to objects of objects")


def _check_event(event: dict[str, Any]) -> None:
    _str(event, "type", "event", required=True)
    _strings(event, "event", "channel", "channel_type", "subtype", "bot_id", "text", "tab", "team", "ts")
    if event["type"] == "user_change":
        user = _obj(event, "user", "event", required=True)
        _strings(user, "user", "id", "team_id", "tz", "name", "real_name")
    else:
        _str(event, "user", "event")
