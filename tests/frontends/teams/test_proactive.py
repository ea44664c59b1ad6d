"""Teams front end: proactive delivery from the scheduler and the outbox — channel posts, DMs through stored
and newly created 1:1 conversations, in-place updates, and the connector failing (429, 5xx, 403/404)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.kernel.delivery import PermanentFailure, RetryLater
from bot.kernel.messages import Card
from handlers.teams.messenger import NO_DM
from storage.models import Engagement, Identity, OutboxMessage, Person
from tests.frontends.teams.harness import TeamsHarness


@pytest.fixture
def probe_registry(teams_probe):
    from bot.bootstrap import default_registry

    registry = default_registry()
    teams_probe.register(registry)

    async def post_home(tctx):
        eng = await tctx.session.scalar(select(Engagement).where(Engagement.key == tctx.payload["key"]))
        await tctx.core.outbox.post_home(
            tctx.session, eng, Card(title=tctx.payload["title"]), ref_key=tctx.payload.get("ref_key")
        )

    async def dm(tctx):
        person = await tctx.session.scalar(
            select(Person).options(selectinload(Person.identities)).where(Person.display_name == tctx.payload["name"])
        )
        await tctx.core.outbox.dm(
            tctx.session, person, Card(title=tctx.payload["title"]), ref_key=tctx.payload.get("ref_key")
        )

    async def update(tctx):
        await tctx.core.outbox.update(tctx.session, tctx.payload["ref_key"], Card(title=tctx.payload["title"]))

    registry.add_timer("zzteams.post_home", post_home)
    registry.add_timer("zzteams.dm", dm)
    registry.add_timer("zzteams.update", update)
    return registry


async def schedule(teams: TeamsHarness, kind: str, minutes: float = 1, **payload) -> None:
    core = teams.core
    async with core.session_factory() as s, s.begin():
        await core.timers.schedule(s, kind=kind, due_at=core.clock.now() + timedelta(minutes=minutes), payload=payload)


async def home_in_general(teams: TeamsHarness):
    asha = teams.user("asha", tz="Europe/London")
    general = teams.channel("general")
    await teams.say(asha, "cadence setup ACME Acme", where=general)
    await teams.drain()
    return asha, general


async def outbox_rows(teams: TeamsHarness) -> list[OutboxMessage]:
    async with teams.core.session_factory() as s:
        return list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_scheduled_post_reaches_the_channel(teams):
    _, general = await home_in_general(teams)
    before = len(teams.connector.sent(general.id))
    await schedule(teams, "zzteams.post_home", key="ACME", title="Standup digest")
    await teams.advance(minutes=2)
    posts = teams.connector.sent(general.id)[before:]
    assert [p.kind for p in posts] == ["send"]
    assert "Standup digest" in posts[0].text_dump()
    assert posts[0].body["from"]["id"] == "28:cadence-bot"


async def test_scheduled_update_edits_the_post_in_place(teams):
    _, general = await home_in_general(teams)
    await schedule(teams, "zzteams.post_home", key="ACME", title="Digest v1", ref_key="digest:1")
    await teams.advance(minutes=2)
    posted = teams.connector.last(general.id)
    await schedule(teams, "zzteams.update", ref_key="digest:1", title="Digest v2 (late answer added)")
    await teams.advance(minutes=2)
    updates = teams.connector.updates(general.id)
    assert len(updates) == 1
    assert updates[0].activity_id in teams.connector.messages[general.id]
    assert "Digest v2" in updates[0].text_dump()
    assert teams.connector.messages[general.id][updates[0].activity_id] is updates[0].body
    assert posted.status == 200


async def test_dm_uses_the_stored_personal_conversation(teams):
    await home_in_general(teams)
    asha = teams.user("asha", tz="Europe/London")
    await teams.say(asha, "cadence whoami")  # a personal message stores the 1:1 reference
    await schedule(teams, "zzteams.dm", name="Asha", title="Time for your standup")
    await teams.advance(minutes=2)
    dms = teams.connector.sent("a:dm-asha")
    assert dms[-1].kind == "send" and "Time for your standup" in dms[-1].text_dump()
    assert teams.connector.created == []


async def test_dm_to_someone_who_never_wrote_creates_the_conversation(teams):
    await home_in_general(teams)
    dev = teams.user("dev", tz="Asia/Kolkata")
    await teams.say(dev, "cadence whoami", where=teams.channel("general"))  # seen in the channel only
    await schedule(teams, "zzteams.dm", name="Dev", title="Standup prompt for Dev")
    await teams.advance(minutes=2)
    assert len(teams.connector.created) == 1
    created = teams.connector.created[0]
    assert created["members"] == [{"id": "29:dev"}] and created["channelData"]["tenant"]["id"] == "tenant-contoso"
    assert created["bot"]["id"] == "28:cadence-bot"
    sent = teams.connector.sent("a:1on1-29:dev")
    assert sent and "Standup prompt for Dev" in sent[-1].text_dump()
    async with teams.core.session_factory() as s:
        ident = await s.scalar(select(Identity).where(Identity.user_id == "aad-dev"))
        assert ident.dm_channel_id == "a:1on1-29:dev"
        assert ident.conversation_ref["conversation"]["id"] == "a:1on1-29:dev"
    # the next DM reuses it
    await schedule(teams, "zzteams.dm", name="Dev", title="Reminder")
    await teams.advance(minutes=2)
    assert len(teams.connector.created) == 1
    assert "Reminder" in teams.connector.sent("a:1on1-29:dev")[-1].text_dump()


async def test_dm_refused_by_the_tenant_fails_for_good_with_a_reason(teams):
    await home_in_general(teams)
    dev = teams.user("dev")
    await teams.say(dev, "cadence whoami", where=teams.channel("general"))
    teams.connector.refuse_create = 403
    await schedule(teams, "zzteams.dm", name="Dev", title="Prompt")
    await teams.advance(minutes=2)
    rows = [r for r in await outbox_rows(teams) if r.op == "dm"]
    assert rows[-1].status == "failed" and NO_DM in rows[-1].last_error


async def test_connector_429_then_recovery_loses_nothing_and_keeps_order(teams):
    _, general = await home_in_general(teams)
    before = len(teams.connector.sent(general.id))
    teams.connector.fail_next(1, status=429, retry_after=30)
    await schedule(teams, "zzteams.post_home", key="ACME", title="First")
    await schedule(teams, "zzteams.post_home", minutes=1.5, key="ACME", title="Second")
    await teams.advance(minutes=2)
    assert teams.connector.sent(general.id)[before:] == []  # 429: nothing got through yet …
    assert [c.status for c in teams.connector.failed()] == [429]
    rows = [r for r in await outbox_rows(teams) if r.status != "sent"]
    assert rows and "429" in rows[0].last_error
    await teams.advance(seconds=31)  # … after Retry-After, both, in order, once each
    titles = [c.text_dump() for c in teams.connector.sent(general.id)[before:]]
    assert len(titles) == 2 and "First" in titles[0] and "Second" in titles[1]


async def test_connector_5xx_is_retried_with_backoff_until_it_recovers(teams):
    _, general = await home_in_general(teams)
    before = len(teams.connector.sent(general.id))
    teams.connector.fail_next(3, status=503)
    await schedule(teams, "zzteams.post_home", key="ACME", title="Survives outages")
    await teams.advance(minutes=2)
    for _ in range(10):
        if teams.connector.sent(general.id)[before:]:
            break
        await teams.advance(seconds=30)
    delivered = teams.connector.sent(general.id)[before:]
    assert len(delivered) == 1 and "Survives outages" in delivered[0].text_dump()
    assert [c.status for c in teams.connector.failed()] == [503, 503, 503]


async def test_bot_removed_from_channel_is_a_permanent_failure(teams):
    _, _general = await home_in_general(teams)
    teams.connector.fail_next(1, status=403)
    await schedule(teams, "zzteams.post_home", key="ACME", title="Nobody hears this")
    await teams.advance(minutes=2)
    rows = [r for r in await outbox_rows(teams) if r.op == "post"]  # (the set-up person, an admin, is told by DM)
    assert rows[-1].status == "failed" and "403" in rows[-1].last_error


def test_connector_errors_map_to_retry_or_permanent():
    from msrest.exceptions import ClientRequestError

    from handlers.teams.messenger import classify

    assert isinstance(classify(ClientRequestError("connection refused")), RetryLater)
    assert isinstance(classify(TimeoutError()), RetryLater)
    assert isinstance(classify(ConnectionRefusedError()), RetryLater)
    assert isinstance(classify(PermanentFailure("x")), PermanentFailure)


async def test_connector_unreachable_is_retried(teams):
    _, _general = await home_in_general(teams)
    async with teams.core.session_factory() as s, s.begin():
        from storage.models import ChannelBinding

        b = await s.scalar(select(ChannelBinding))
        ref = dict(b.conversation_ref)
        ref["serviceUrl"] = "http://127.0.0.1:9/"  # nothing listens there
        b.conversation_ref = ref
    await schedule(teams, "zzteams.post_home", key="ACME", title="Later")
    await teams.advance(minutes=2)
    rows = await outbox_rows(teams)
    assert rows[-1].status == "pending" and "unreachable" in (rows[-1].last_error or "")


async def test_update_of_a_dm_sent_through_a_created_conversation(teams):
    await home_in_general(teams)
    dev = teams.user("dev")
    await teams.say(dev, "cadence whoami", where=teams.channel("general"))
    await schedule(teams, "zzteams.dm", name="Dev", title="Prompt v1", ref_key="prompt:dev")
    await teams.advance(minutes=2)
    await schedule(teams, "zzteams.update", ref_key="prompt:dev", title="Prompt v2 (answered)")
    await teams.advance(minutes=2)
    updates = teams.connector.updates("a:1on1-29:dev")
    assert len(updates) == 1 and "Prompt v2" in updates[0].text_dump()
