"""What the transport fuzz suite (test_fuzz_transport.py) needs: real `python app.py serve` replicas with
their stand-ins (the Slack Web API, the Bot Framework connector, the Bot Framework's signing keys) running on
an event loop in a background thread, so that hypothesis can drive them from plain synchronous tests, and
the strategies that make hostile request bodies."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import http.client
import json
import sqlite3
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from hypothesis import strategies as st

T = TypeVar("T")

# Tables a request may write to: none of them may change for a request that is not properly signed.
STORED = ("people", "identities", "slack_inbox", "slack_seen_requests", "processed_events", "engagements", "outbox")


class LoopThread:
    """An asyncio loop of its own in a daemon thread: the stand-ins live there."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fuzz-standins", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def post(url: str, path: str, body: bytes, headers: dict[str, str]) -> int:
    """POST raw bytes (exactly these, so a signature covers them) and return the status."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def counts(database: Path) -> dict[str, int]:
    db = sqlite3.connect(database, timeout=30)
    try:
        return {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in STORED}
    finally:
        db.close()


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    return "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()


# -- values -------------------------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["", "U123", "C0HOME", "T0CADENCE", "<!channel>", "\u202e", "\x00", "null", "0" * 300]),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


@st.composite
def mutated(draw: st.DrawFn, template: dict[str, Any]) -> dict[str, Any]:
    """`template` with some of its fields (at any depth) replaced by random JSON values or removed."""
    out = json.loads(json.dumps(template))

    def walk(obj: Any) -> None:
        if isinstance(obj, dict):
            for key in list(obj):
                choice = draw(st.integers(min_value=0, max_value=9))
                if choice == 0:
                    obj[key] = draw(JSON_VALUES)
                elif choice == 1:
                    del obj[key]
                else:
                    walk(obj[key])
        elif isinstance(obj, list):
            for item in obj:
                walk(item)

    walk(out)
    if draw(st.booleans()):
        out[draw(st.text(max_size=10))] = draw(JSON_VALUES)
    return out


# -- Slack --------------------------------------------------------------------------------------------

SLACK_USER = {"id": "UFUZZ", "username": "fuzz", "name": "fuzz", "team_id": "T0CADENCE"}
SLACK_TEMPLATES: dict[str, dict[str, Any]] = {
    "command": {
        "team_id": "T0CADENCE",
        "channel_id": "C0HOME",
        "channel_name": "acme",
        "user_id": "UFUZZ",
        "user_name": "fuzz",
        "command": "/cadence",
        "text": "whoami",
        "trigger_id": "t.1",
        "response_url": "http://127.0.0.1:9/respond",
    },
    "block_actions": {
        "type": "block_actions",
        "user": SLACK_USER,
        "team": {"id": "T0CADENCE"},
        "trigger_id": "t.2",
        "container": {"type": "message", "message_ts": "1.2", "channel_id": "C0HOME"},
        "channel": {"id": "C0HOME", "name": "acme"},
        "message": {"ts": "1.2", "text": "x"},
        "actions": [{"type": "button", "action_id": "cadence.help", "block_id": "b", "value": "1"}],
        "response_url": "http://127.0.0.1:9/respond",
    },
    "view_submission": {
        "type": "view_submission",
        "user": SLACK_USER,
        "team": {"id": "T0CADENCE"},
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": "cadence_form",
            "private_metadata": json.dumps({"f": "cr.new", "c": "C0HOME"}),
            "blocks": [{"type": "input", "block_id": "title", "element": {"type": "plain_text_input"}}],
            "state": {"values": {"title": {"title": {"type": "plain_text_input", "value": "x"}}}},
        },
    },
    "shortcut": {"type": "shortcut", "user": SLACK_USER, "team": {"id": "T0CADENCE"}, "callback_id": "x"},
    "message_action": {"type": "message_action", "user": SLACK_USER, "callback_id": "x", "message": {"ts": "1"}},
    "app_mention": {
        "type": "event_callback",
        "team_id": "T0CADENCE",
        "event_id": "Ev1",
        "event": {"type": "app_mention", "user": "UFUZZ", "channel": "C0HOME", "text": "<@UBOT0001> help"},
    },
    "message.im": {
        "type": "event_callback",
        "team_id": "T0CADENCE",
        "event_id": "Ev2",
        "event": {"type": "message", "channel_type": "im", "user": "UFUZZ", "channel": "DFUZZ", "text": "help"},
    },
    "app_home_opened": {
        "type": "event_callback",
        "team_id": "T0CADENCE",
        "event_id": "Ev3",
        "event": {"type": "app_home_opened", "user": "UFUZZ", "channel": "DFUZZ", "tab": "home"},
    },
    "user_change": {
        "type": "event_callback",
        "team_id": "T0CADENCE",
        "event_id": "Ev4",
        "event": {"type": "user_change", "user": {"id": "UFUZZ", "tz": "Europe/Berlin"}},
    },
    "url_verification": {"type": "url_verification", "challenge": "c-1", "token": "legacy"},
}
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@st.composite
def slack_bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    """(body, content type): a mutated payload of every kind, form-encoded or JSON, or junk."""
    how = draw(st.sampled_from(["payload", "form", "json", "junk", "text"]))
    content_type = draw(st.sampled_from([FORM, JSON, "text/plain", "", "multipart/form-data; boundary=x"]))
    if how == "junk":
        return draw(st.binary(max_size=400)), content_type
    if how == "text":
        text = draw(st.text(max_size=200))
        encoding = draw(st.sampled_from(["utf-8", "utf-16", "latin-1", "utf-32"]))
        return text.encode(encoding, "replace"), content_type
    kind = draw(st.sampled_from(sorted(SLACK_TEMPLATES)))
    payload: Any = draw(mutated(SLACK_TEMPLATES[kind])) if draw(st.booleans()) else SLACK_TEMPLATES[kind]
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        payload = draw(JSON_VALUES)
    if kind == "command" and how == "form" and isinstance(payload, dict):
        return urlencode(
            {str(k): json.dumps(v) if not isinstance(v, str) else v for k, v in payload.items()}
        ).encode(), FORM
    raw = json.dumps(payload, ensure_ascii=draw(st.booleans()))
    if how == "payload":
        return urlencode({"payload": raw}).encode(), content_type or FORM
    return raw.encode(), content_type or JSON


# -- Teams --------------------------------------------------------------------------------------------


def teams_templates(service_url: str) -> dict[str, dict[str, Any]]:
    base = {
        "id": "act-1",
        "timestamp": "2027-01-04T08:00:00Z",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": "29:fuzz", "name": "Fuzz", "aadObjectId": "aad-fuzz"},
        "recipient": {"id": "28:cadence-bot", "name": "Cadence"},
        "conversation": {"id": "a:dm-fuzz", "conversationType": "personal", "tenantId": "tenant-contoso"},
        "channelData": {"tenant": {"id": "tenant-contoso"}},
        "locale": "en-US",
        "localTimezone": "Europe/Berlin",
    }
    return {
        "message": {**base, "type": "message", "text": "help", "textFormat": "plain", "entities": []},
        "channel message": {
            **base,
            "type": "message",
            "text": "<at>Cadence</at> cadence whoami",
            "conversation": {"id": "19:general@thread.tacv2", "conversationType": "channel", "isGroup": True},
            "entities": [{"type": "mention", "text": "<at>Cadence</at>", "mentioned": {"id": "28:cadence-bot"}}],
            "channelData": {
                "tenant": {"id": "tenant-contoso"},
                "team": {"id": "19:team"},
                "channel": {"id": "19:general"},
            },
        },
        "submit": {**base, "type": "message", "value": {"cadence": "x", "verb": "help"}},
        "invoke": {
            **base,
            "type": "invoke",
            "name": "adaptiveCard/action",
            "value": {"action": {"type": "Action.Execute", "verb": "cadence.help", "data": {}}, "trigger": "manual"},
        },
        "conversationUpdate": {**base, "type": "conversationUpdate", "membersAdded": [{"id": "28:cadence-bot"}]},
        "installationUpdate": {**base, "type": "installationUpdate", "action": "add"},
        "messageReaction": {**base, "type": "messageReaction", "reactionsAdded": [{"type": "like"}]},
    }


@st.composite
def teams_bodies(draw: st.DrawFn, service_url: str) -> bytes:
    how = draw(st.sampled_from(["activity", "activity", "activity", "junk", "json"]))
    if how == "junk":
        return draw(st.binary(max_size=300))
    if how == "json":
        return json.dumps(draw(JSON_VALUES)).encode()
    templates = teams_templates(service_url)
    activity = draw(mutated(templates[draw(st.sampled_from(sorted(templates)))]))
    return json.dumps(activity).encode()


def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)
