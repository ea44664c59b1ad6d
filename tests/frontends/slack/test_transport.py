"""`/slack/events` as an attacker and as bad luck would use it: unsigned, stale, wrongly signed and malformed
bodies get a 4xx and one log line without a traceback, and change nothing; a signed request replayed byte
for byte is acknowledged and applied once; an event Slack redelivers (X-Slack-Retry-Num) is applied once."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from storage.models import Identity, ProcessedEvent
from storage.models.change_requests import ChangeRequest
from storage.models.defects import Defect
from storage.models.slack_inbox import SlackInboxItem, SlackSeenRequest
from tests.frontends.slack.test_change_requests import SCOPE, setup

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


async def count(core, model) -> int:
    async with core.session_factory() as s:
        return await s.scalar(select(func.count()).select_from(model))


def log_lines(caplog) -> list[logging.LogRecord]:
    """What the request logged (start-up's own INFO lines, and the garbage collector's complaints about an
    earlier test's objects, may land in the same window)."""
    return [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("cadence")]


UNREADABLE = {
    "garbage bytes": (b"\x00\xff\xfe\x9c garbage", FORM),
    "payload= not JSON": (b"payload=%7Bnot+json", FORM),
    "JSON null": (b"null", JSON),
    "JSON list": (b"[1, 2, 3]", JSON),
    "events body not JSON": (b'{"type": "event_callback", "event": ', JSON),
    "empty": (b"", JSON),
    "payload JSON null": (b"payload=null", FORM),
    "block_actions, actions a string": (
        urlencode({"payload": json.dumps({"type": "block_actions", "user": {"id": "U1"}, "actions": "x"})}).encode(),
        FORM,
    ),
    "block_actions without a user": (
        urlencode({"payload": json.dumps({"type": "block_actions", "actions": [{"action_id": "a"}]})}).encode(),
        FORM,
    ),
    "view_submission, view a list": (
        urlencode({"payload": json.dumps({"type": "view_submission", "user": {"id": "U1"}, "view": []})}).encode(),
        FORM,
    ),
    "event a string": (json.dumps({"type": "event_callback", "event": "app_mention"}).encode(), JSON),
    "mention, user a number": (
        json.dumps({"type": "event_callback", "event": {"type": "app_mention", "user": 7, "text": "hi"}}).encode(),
        JSON,
    ),
    "command without a user": (urlencode({"command": "/defect", "text": "s1 x", "team_id": "T1"}).encode(), FORM),
}


@pytest.mark.parametrize("name", sorted(UNREADABLE))
async def test_unsigned_malformed_bodies_are_401_with_one_line(slack, core, caplog, name):
    body, content_type = UNREADABLE[name]
    with caplog.at_level(logging.INFO):
        r = await slack.post(body.decode("latin-1"), content_type=content_type, sign=False)
    assert r.status == 401, (name, r.status, r.text)
    assert len(log_lines(caplog)) == 1, caplog.text
    assert not any(rec.exc_info for rec in caplog.records) and "Traceback" not in caplog.text
    assert await count(core, Identity) == 0 and await count(core, SlackSeenRequest) == 0


@pytest.mark.parametrize("name", sorted(UNREADABLE))
async def test_signed_malformed_bodies_are_400_with_one_line(slack, core, caplog, name):
    body, content_type = UNREADABLE[name]
    ts = str(int(time.time()))
    headers = {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": slack.verifier.generate_signature(timestamp=ts, body=body.decode("latin-1"))
        if body.isascii()
        else _sign_bytes(slack.signing_secret, ts, body),
    }
    with caplog.at_level(logging.INFO):
        async with slack._session.post(
            slack.url + "/slack/events", data=body, headers={**headers, "Content-Type": content_type}
        ) as resp:
            status, text = resp.status, await resp.text()
    await slack.settle()
    assert status == 400, (name, status, text)
    assert len(log_lines(caplog)) == 1, caplog.text
    assert not any(rec.exc_info for rec in caplog.records) and "Traceback" not in caplog.text
    assert await count(core, Identity) == 0 and await count(core, SlackInboxItem) == 0


def _sign_bytes(secret: str, ts: str, body: bytes) -> str:
    return "v0=" + hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()


async def test_a_timestamp_that_is_not_a_number_is_401(slack, core):
    r = await slack.post(
        "command=%2Fcadence&text=whoami&user_id=U1",
        content_type=FORM,
        sign=False,
        headers={"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"},
    )
    assert r.status == 401 and await count(core, Identity) == 0


async def test_a_signed_command_replayed_byte_for_byte_is_applied_once(slack, core):
    await setup(slack)
    await slack.settle()
    body = urlencode(
        {
            "team_id": slack.team,
            "channel_id": "C0HOME",
            "channel_name": "acme",
            "user_id": slack.uid("carol"),
            "user_name": "carol",
            "command": "/defect",
            "text": "s1 Checkout is down",
            "trigger_id": "t.replay",
            "response_url": slack.api.response_url(f"{slack.uid('carol')}.replay"),
        }
    )
    ts = int(time.time())
    statuses = [(await slack.post(body, content_type=FORM, timestamp=ts)).status for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert await count(core, Defect) == 1


async def test_a_signed_modal_submission_replayed_is_applied_once(slack, core):
    await setup(slack)
    await slack.command("carol", "/cr new")
    sent: list[str] = []
    post = slack.post

    async def capture(body: str, **kw):
        sent.append(body)
        return await post(body, timestamp=fixed, **kw)

    fixed = int(time.time())
    slack.post = capture
    try:
        r = await slack.submit("carol", slack.opened_view(), SCOPE)
    finally:
        slack.post = post
    assert r.status == 200 and await count(core, ChangeRequest) == 1
    for _ in range(2):
        again = await slack.post(sent[0], content_type=FORM, timestamp=fixed)
        assert again.status == 200
    assert await count(core, ChangeRequest) == 1


async def test_a_mention_redelivered_by_slack_is_applied_once(slack, core):
    await setup(slack)
    await slack.settle()
    mention = {
        "type": "app_mention",
        "channel": "C0HOME",
        "user": slack.uid("carol"),
        "text": "<@UBOT0001> defect s2 Slow",
    }
    for retry in (None, 1, 2):
        r = await slack.event(mention, event_id="EvMENTION1", retry=retry)
        assert r.status == 200
    assert await count(core, Defect) == 1
    assert await count(core, SlackInboxItem) == 0
    async with core.session_factory() as s:
        keys = list(await s.scalars(select(ProcessedEvent.event_key)))
    assert "slack:EvMENTION1" in keys


async def test_old_signatures_are_pruned(slack, core, clock):
    await slack.command("alice", "/cadence whoami")
    assert await count(core, SlackSeenRequest) == 1
    clock.advance(timedelta(minutes=6))
    await slack.command("alice", "/cadence whoami")
    assert await count(core, SlackSeenRequest) == 1  # the first one pruned, the second kept
