"""Request signatures: a forged or replayed request is refused with 401 and changes nothing."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from sqlalchemy import func, select

from storage.models import Person


async def people(core) -> int:
    async with core.session_factory() as s:
        return await s.scalar(select(func.count(Person.id)))


def outbound(slack) -> list[str]:
    """Web API calls other than the start-up token check."""
    return [c.method for c in slack.api.calls if c.method != "auth.test"]


def command_body(slack, text="/cadence whoami") -> str:
    cmd, _, rest = text.partition(" ")
    return urlencode(
        {
            "team_id": slack.team,
            "channel_id": "C0HOME",
            "channel_name": "acme",
            "user_id": "UMALLORY",
            "user_name": "mallory",
            "command": cmd,
            "text": rest,
            "trigger_id": "t",
            "response_url": slack.api.response_url("UMALLORY.x"),
        }
    )


async def test_bad_signature_is_refused_and_changes_nothing(slack, core):
    body = command_body(slack)
    headers = slack.signed_headers(body, content_type="application/x-www-form-urlencoded")
    headers["X-Slack-Signature"] = "v0=" + "0" * 64
    r = await slack.post(body, content_type="application/x-www-form-urlencoded", headers=headers, sign=False)
    assert r.status == 401
    assert outbound(slack) == [] and await people(core) == 0


async def test_unsigned_request_is_refused(slack, core):
    r = await slack.post(command_body(slack), content_type="application/x-www-form-urlencoded", sign=False)
    assert r.status == 401
    assert outbound(slack) == [] and await people(core) == 0


async def test_stale_timestamp_is_refused_even_with_a_valid_signature(slack, core):
    r = await slack.post(
        command_body(slack), content_type="application/x-www-form-urlencoded", timestamp=int(time.time()) - 600
    )
    assert r.status == 401
    assert outbound(slack) == [] and await people(core) == 0


async def test_signed_with_another_secret_is_refused(slack, core):
    from slack_sdk.signature import SignatureVerifier

    body = command_body(slack)
    ts = str(int(time.time()))
    headers = {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier("not-our-secret").generate_signature(timestamp=ts, body=body),
    }
    r = await slack.post(body, content_type="application/x-www-form-urlencoded", headers=headers, sign=False)
    assert r.status == 401 and await people(core) == 0


async def test_url_verification_answers_the_challenge(slack):
    body = json.dumps({"token": "legacy", "challenge": "c-123", "type": "url_verification"})
    r = await slack.post(body, content_type="application/json")
    assert r.status == 200 and "c-123" in r.text


async def test_a_valid_request_is_accepted(slack, core):
    r = await slack.post(command_body(slack), content_type="application/x-www-form-urlencoded")
    assert r.status == 200 and await people(core) == 1
