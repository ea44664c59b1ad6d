"""Delivery through the outbox to the Slack Web API stand-in: 429 with Retry-After and 5xx are
retried without losing or duplicating a post; dead ends fail for good; files use the v2 upload flow."""

from __future__ import annotations

import base64
import socket

import pytest
from sqlalchemy import select

from bot.kernel.delivery import Outgoing, PermanentFailure, RetryLater
from bot.kernel.messages import Attachment, Card
from handlers.slack.messenger import SlackMessenger
from storage.models import OutboxMessage
from tests.frontends.slack.harness import BOT_TOKEN, HOME


async def outbox_rows(core):
    async with core.session_factory() as s:
        return list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_429_with_retry_after_then_recovery_loses_nothing(slack, core):
    slack.api.fail_next(2, retry_after=30, methods="chat.postMessage")
    await slack.command("alice", "/cadence setup ACME Acme portal")
    assert slack.posts() == []  # rate limited: nothing delivered yet, nothing lost
    [row] = await outbox_rows(core)
    assert row.status == "pending" and "rate limited" in row.last_error
    assert (row.next_attempt_at - core.clock.now()).total_seconds() >= 30  # Retry-After honoured
    core.clock.advance(seconds=10)
    await slack.settle()
    assert len(slack.api.calls_to("chat.postMessage")) == 1  # still paused: no call before Retry-After
    core.clock.advance(seconds=25)
    await slack.settle()  # second attempt: 429 again
    assert slack.posts() == []
    core.clock.advance(seconds=40)
    await slack.settle()
    assert len(slack.posts()) == 1 and "ACME" in slack.posts()[0]["text"]
    statuses = [c.status for c in slack.api.calls_to("chat.postMessage")]
    assert statuses == [429, 429, 200]
    [row] = await outbox_rows(core)
    assert row.status == "sent" and row.attempts == 3 and row.platform_message_id == slack.posts()[0]["ts"]


async def test_server_errors_are_retried_with_backoff(slack, core):
    slack.api.fail_next(1, status=503, methods="chat.postMessage")
    await slack.command("alice", "/cadence setup ACME Acme portal")
    assert slack.posts() == []
    core.clock.advance(seconds=5)
    await slack.settle()
    assert len(slack.posts()) == 1
    assert [c.status for c in slack.api.calls_to("chat.postMessage")] == [503, 200]


async def test_permanent_errors_are_not_retried(slack, core):
    slack.api.fail_next(1, error="channel_not_found", methods="chat.postMessage")
    await slack.command("alice", "/cadence setup ACME Acme portal")
    core.clock.advance(seconds=600)
    await slack.settle()
    # The set-up person is seated as an admin now, so the failure also reaches them by DM.
    [row] = [r for r in await outbox_rows(core) if r.op == "post"]
    assert row.status == "failed" and "channel_not_found" in row.last_error
    # One attempt at the channel (not retried); any other postMessage is the DM telling the admin.
    assert len([c for c in slack.api.calls_to("chat.postMessage") if c.body.get("channel") == HOME]) == 1


@pytest.fixture
async def messenger(slack_api):
    async def token(_workspace: str) -> str:
        return BOT_TOKEN

    m = SlackMessenger(base_url=slack_api.base_url, token_for=token)
    yield m
    await m.close()


def post(card: Card | None = None, op: str = "post", **address) -> Outgoing:
    return Outgoing(
        op=op,
        address={"workspace_id": "T0CADENCE", "channel_id": HOME, **address},
        card=card or Card(text="hello"),
        outbox_id=1,
    )


async def test_error_mapping(slack_api, messenger):
    slack_api.fail_next(1, retry_after=7)
    with pytest.raises(RetryLater) as exc:
        await messenger.send(post())
    assert exc.value.retry_after == 7.0
    slack_api.fail_next(1, status=500)
    with pytest.raises(RetryLater):
        await messenger.send(post())
    for error in (
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "account_inactive",
        "user_not_found",
        "invalid_auth",
        "token_revoked",
    ):
        slack_api.fail_next(1, error=error)
        with pytest.raises(PermanentFailure, match=error):
            await messenger.send(post())
    assert (await messenger.send(post())).message_id


async def test_unreachable_api_is_retry_later(slack_api):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def token(_workspace: str) -> str:
        return BOT_TOKEN

    messenger = SlackMessenger(base_url=f"http://127.0.0.1:{port}/api/", token_for=token)
    try:
        with pytest.raises(RetryLater, match="unreachable"):
            await messenger.send(post())
    finally:
        await messenger.close()


async def test_dm_update_ephemeral_ops(slack_api, messenger):
    sent = await messenger.send(
        Outgoing(
            op="dm",
            address={"workspace_id": "T0CADENCE", "user_id": "UDEV", "person_id": 3},
            card=Card(text="prompt"),
            outbox_id=2,
        )
    )
    assert slack_api.last("conversations.open").body["users"] == "UDEV"
    assert sent.channel_id == "DDEV" and slack_api.messages["DDEV"][0]["text"] == "prompt"
    await messenger.send(
        Outgoing(
            op="update",
            address={"workspace_id": "T0CADENCE", "channel_id": "DDEV"},
            card=Card(text="prompt (answered)"),
            message_id=sent.message_id,
            outbox_id=3,
        )
    )
    assert slack_api.messages["DDEV"][0]["text"] == "prompt (answered)"
    await messenger.send(post(op="ephemeral", user_id="UDEV"))
    assert slack_api.last("chat.postEphemeral").body["user"] == "UDEV"
    # A known IM channel is used directly.
    await messenger.send(
        Outgoing(
            op="dm",
            address={"workspace_id": "T0CADENCE", "user_id": "UDEV", "dm_channel_id": "DDEV"},
            card=Card(text="again"),
            outbox_id=4,
        )
    )
    assert slack_api.count("conversations.open") == 1


async def test_attachments_use_the_v2_upload_flow(slack_api, messenger):
    content = b"id,title\n1,Add SSO\n"
    card = Card(
        title="Change orders",
        text="CSV attached",
        attachments=[Attachment("change-orders.csv", base64.b64encode(content).decode(), "text/csv")],
    )
    sent = await messenger.send(post(card))
    methods = [c.method for c in slack_api.calls]
    assert methods == ["chat.postMessage", "files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    assert slack_api.uploads[slack_api.last("upload").body["file_id"]] == content
    done = slack_api.last("files.completeUploadExternal").body
    assert done["channel_id"] == HOME and done["thread_ts"] == sent.message_id
    assert slack_api.last("files.getUploadURLExternal").body["filename"] == "change-orders.csv"
