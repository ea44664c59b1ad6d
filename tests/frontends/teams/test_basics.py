"""Teams front end: the endpoint, authentication, text commands, installs, time zones."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from storage.models import ChannelBinding, Identity, Person
from tests.frontends.teams.harness import BOT_ID, card_text


async def test_help_in_personal_chat_unauthenticated(teams):
    asha = teams.user("asha")
    r = await teams.say(asha, "help")
    assert r.status == 200
    assert len(r.replies) == 1
    assert r.replies[0].conversation_id == "a:dm-asha"
    card = r.replies[0].cards()[0]
    shown = card_text(card)
    # Teams users type the words (after @Cadence in a channel): no slash and no raw backticks in the help.
    assert "cadence" in shown and "cr new" in shown
    assert "/cr" not in shown and "/cadence" not in shown and "`" not in shown
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"


async def test_setup_logs_loud_warning_without_credentials(any_db_url, clock, probe_registry, caplog):
    from tests.frontends.teams.harness import TeamsHarness

    with caplog.at_level(logging.WARNING, logger="cadence.teams"):
        async with TeamsHarness.running(any_db_url, clock, registry=probe_registry):
            pass
    assert any("UNAUTHENTICATED" in rec.getMessage() for rec in caplog.records)


async def test_request_without_token_is_refused_when_app_id_is_set(teams_auth):
    asha = teams_auth.user("asha")
    r = await teams_auth.say(asha, "cadence setup ACME Acme", where=teams_auth.channel())
    assert r.status == 401
    assert teams_auth.connector.calls == []
    async with teams_auth.core.session_factory() as s:
        assert await s.scalar(select(func.count()).select_from(Person)) == 0
        assert await s.scalar(select(func.count()).select_from(ChannelBinding)) == 0


async def test_request_with_a_forged_token_is_refused(teams_auth):
    asha = teams_auth.user("asha")
    activity = teams_auth.activity(asha, teams_auth.personal(asha), text="help")
    r = await teams_auth.post(activity, headers={"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."})
    assert r.status == 401
    assert teams_auth.connector.calls == []


async def test_help_in_channel_after_mention(teams):
    asha = teams.user("asha")
    general = teams.channel("general")
    r = await teams.say(asha, "help", where=general)
    assert r.status == 200
    assert r.replies and r.replies[0].conversation_id == general.id
    assert "cr new" in r.text and "/cadence" not in r.text and "/cr" not in r.text


async def test_group_chat_commands_work(teams):
    asha = teams.user("asha")
    r = await teams.say(asha, "/cadence whoami", where=teams.group())
    assert r.status == 200 and r.replies
    assert "Asha" in r.text


async def test_unknown_command_gets_a_friendly_correction(teams):
    asha = teams.user("asha")
    r = await teams.say(asha, "crr new thing", where=teams.channel())
    assert r.status == 200
    assert "Traceback" not in r.text
    assert "cr" in r.text


async def test_setup_binds_channel_and_posts_publicly(teams):
    asha = teams.user("asha", tz="Europe/London")
    general = teams.channel("general")
    r = await teams.say(asha, "cadence setup ACME Acme web shop", where=general)
    assert r.status == 200
    await teams.drain()
    posted = teams.connector.sent(general.id)
    assert posted, teams.connector.calls
    assert "ACME" in posted[-1].text_dump() and "now lives in this channel" in posted[-1].text_dump()
    # a proactive post is a new message in the channel, not a reply to some activity
    assert posted[-1].kind == "send"
    async with teams.core.session_factory() as s:
        b = await s.scalar(select(ChannelBinding))
        assert (b.platform, b.workspace_id, b.channel_id) == ("teams", "tenant-contoso", general.id)
        assert b.conversation_ref["serviceUrl"] == teams.connector.service_url
        assert b.conversation_ref["conversation"]["id"] == general.id


async def test_thread_reply_in_channel_finds_the_binding(teams):
    asha = teams.user("asha")
    general = teams.channel("general")
    await teams.say(asha, "cadence setup ACME Acme", where=general)
    await teams.drain()
    from tests.frontends.teams.harness import Conversation

    thread = Conversation(id=general.id + ";messageid=1700000000000", type="channel", name="general")
    r = await teams.say(asha, "cadence members", where=thread)
    assert "ACME" in r.text or "Asha" in r.text
    assert "not bound" not in r.text


async def test_install_in_personal_scope_stores_the_conversation_reference(teams):
    asha = teams.user("asha", tz="Asia/Kolkata")
    r = await teams.added(asha)
    assert r.status == 200
    assert r.replies and "Cadence" in r.text
    async with teams.core.session_factory() as s:
        ident = await s.scalar(select(Identity).where(Identity.platform == "teams"))
        assert ident.user_id == "aad-asha" and ident.workspace_id == "tenant-contoso"
        assert ident.dm_channel_id == "a:dm-asha"
        assert ident.conversation_ref["conversation"]["id"] == "a:dm-asha"
        assert ident.conversation_ref["bot"]["id"] == BOT_ID


async def test_time_zone_comes_from_local_timezone_and_tz_command_overrides(teams):
    asha = teams.user("asha", tz="Asia/Kolkata")
    await teams.say(asha, "cadence whoami")
    async with teams.core.session_factory() as s:
        p = await s.scalar(select(Person))
        assert p.tz == "Asia/Kolkata"
    await teams.say(asha, "cadence tz Europe/Berlin")
    await teams.say(asha, "cadence whoami")  # still sends Asia/Kolkata: the person's choice wins
    async with teams.core.session_factory() as s:
        p = await s.scalar(select(Person))
        assert p.tz == "Europe/Berlin"


async def test_duplicate_delivery_of_an_activity_is_applied_once(teams):
    asha = teams.user("asha")
    general = teams.channel("general")
    activity = teams.activity(
        asha,
        general,
        text="<at>Cadence</at> cadence setup ACME Acme",
        entities=[{"type": "mention", "text": "<at>Cadence</at>", "mentioned": {"id": BOT_ID, "name": "Cadence"}}],
    )
    first = await teams.post(activity)
    second = await teams.post(activity)
    assert first.status == second.status == 200
    assert second.calls == []
    await teams.drain()
    # The first delivery was applied: the engagement is announced in the channel.
    posts = [c for c in teams.connector.sent(general.id) if "now lives in this channel" in c.text_dump()]
    assert len(posts) == 1, teams.connector.calls


async def test_bad_requests_are_refused_cleanly(teams):
    assert teams._http is not None
    async with teams._http.post(teams.url, data="not json", headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 400
    async with teams._http.post(teams.url, data="{}", headers={"Content-Type": "text/plain"}) as resp:
        assert resp.status == 415
    r = await teams.post({"text": "no type"})
    assert r.status == 400


async def test_mentioning_someone_never_seen_looks_them_up_and_gives_the_role(teams):
    asha = teams.user("asha")
    general = teams.channel("general")
    await teams.say(asha, "cadence setup ACME Acme", where=general)
    teams.connector.members[general.id] = [{"id": "29:sam", "name": "Sam Lee", "aadObjectId": "aad-sam"}]
    r = await teams.say(
        asha,
        "cadence role <at>Sam Lee</at> client_pm",
        where=general,
        entities=[{"type": "mention", "text": "<at>Sam Lee</at>", "mentioned": {"id": "29:sam", "name": "Sam Lee"}}],
    )
    assert r.status == 200
    await teams.drain()
    assert any("Sam Lee: client pm in ACME" in t for t in teams.connector.texts(general.id)), r.text
    async with teams.core.session_factory() as s:
        ident = await s.scalar(select(Identity).where(Identity.user_id == "aad-sam"))
        assert ident is not None and ident.handle == "Sam.Lee"
    # when Sam writes later, he is the same person
    sam = teams.user("sam", name="Sam Lee")
    r = await teams.say(sam, "cadence whoami")
    assert "client pm" in r.text
