"""Replies inside a Teams turn go over Cadence's own pooled aiohttp session (handlers/teams/replies.py), not
botbuilder's msrest client: same connector call, same body and credentials; retries as msrest did them."""

from __future__ import annotations

from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount
from botframework.connector.auth import MicrosoftAppCredentials

from handlers.teams.replies import ReplyFailed, ReplySender
from tests.standins.bot_connector import BotConnectorStandIn


async def test_a_reply_is_the_connector_call_botbuilder_would_make(teams) -> None:
    asha = teams.user("asha")
    r = await teams.say(asha, "cadence whoami")
    assert r.status == 200
    [reply] = r.replies
    assert reply.kind == "reply" and reply.conversation_id == "a:dm-asha"
    assert reply.activity_id and reply.activity_id.startswith("act-")  # answers the activity it came from
    body = reply.body
    assert body["type"] == "message"
    assert body["from"]["id"] == "28:cadence-bot" and body["recipient"]["id"] == "29:asha"
    assert body["conversation"]["id"] == "a:dm-asha" and body["replyToId"] == reply.activity_id
    assert body["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert reply.headers.get("Content-Type", "").startswith("application/json")
    assert "Authorization" not in reply.headers  # unauthenticated mode: no token, as botbuilder


async def test_a_reply_is_retried_after_a_server_error_and_a_429(teams) -> None:
    asha = teams.user("asha")
    teams.connector.fail_next(1, status=503)
    teams.connector.fail_next(1, status=429, retry_after=0)
    r = await teams.say(asha, "cadence whoami")
    assert r.status == 200
    assert [c.status for c in r.calls if c.kind == "reply"] == [503, 429, 200]
    assert "whoami" in r.text.lower() or r.replies


async def test_a_refused_reply_is_not_retried_and_the_work_is_not_reported_as_failed(teams) -> None:
    asha = teams.user("asha")
    teams.connector.fail_next(1, status=403)
    r = await teams.say(asha, "cadence whoami")
    assert r.status == 200
    replies = [c for c in r.calls if c.kind == "reply"]
    assert [c.status for c in replies] == [403]  # not retried
    await teams.drain()
    said = "\n".join(teams.connector.texts("a:dm-asha"))
    assert "nothing was changed" not in said and "went wrong" not in said
    assert "Done. Teams would not show the confirmation" in said and "Asha" in said


async def _activity(connector: BotConnectorStandIn) -> Activity:
    return Activity(
        type=ActivityTypes.message,
        text="hi",
        service_url=connector.service_url,
        conversation=ConversationAccount(id="19:x@thread.tacv2;messageid=7"),
        from_property=ChannelAccount(id="28:bot"),
        recipient=ChannelAccount(id="29:u"),
        reply_to_id="1:act@x y",
    )


async def test_reply_sender_signs_with_botbuilders_credentials_and_quotes_ids() -> None:
    connector = await BotConnectorStandIn().start()
    sender = ReplySender(retries=0, timeout=5)
    creds = MicrosoftAppCredentials("00000000-0000-0000-0000-0000000000aa", "secret")
    creds.get_access_token = lambda force_refresh=False: "token-123"  # type: ignore[method-assign]
    try:
        res = await sender.send(await _activity(connector), credentials=creds, user_agent="Cadence-test")
        [call] = connector.calls
        assert res.id and call.kind == "reply"
        assert call.conversation_id == "19:x@thread.tacv2;messageid=7" and call.activity_id == "1:act@x y"
        assert call.headers["Authorization"] == "Bearer token-123"
        assert call.headers["User-Agent"] == "Cadence-test"
        assert call.body["text"] == "hi"
    finally:
        await sender.close()
        await connector.stop()


async def test_reply_sender_gives_up_after_its_retries() -> None:
    connector = await BotConnectorStandIn().start()
    sender = ReplySender(retries=1, timeout=5)
    connector.fail_next(5, status=500)
    try:
        try:
            await sender.send(await _activity(connector), credentials=None, user_agent=None)
        except ReplyFailed as exc:
            assert exc.status == 500
        else:
            raise AssertionError("expected ReplyFailed")
        assert [c.status for c in connector.calls] == [500, 500]
    finally:
        await sender.close()
        await connector.stop()


async def test_a_reply_the_connector_will_not_take_now_is_left_to_the_outbox(teams) -> None:
    asha = teams.user("asha")
    teams.connector.fail_next(3, status=503)  # the first try and both retries of the turn
    r = await teams.say(asha, "cadence whoami")
    assert r.status == 200
    assert [c.status for c in r.calls if c.kind == "reply"] == [503, 503, 503]
    assert not any("went wrong" in c.text_dump() for c in r.calls)
    await teams.drain()
    delivered = [c for c in teams.connector.sent("a:dm-asha") if c.kind == "send"]
    assert len(delivered) == 1 and "Asha" in delivered[0].text_dump()
