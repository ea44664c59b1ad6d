"""Two companies, two workspaces (issue 21): Cadence installed in the vendor's workspace, the client's people
external members of a Slack Connect channel. They work through @mentions, buttons and modals; DMs to them
are refused, so what Cadence needs to tell them goes to a thread in the shared channel."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from storage.models import Identity
from tests.features.standups.support import goto
from tests.frontends.slack.connect_harness import EXTERNAL_TEAM, ConnectHarness
from tests.standins.slack_connect import SlackConnectStandIn


@pytest.fixture
async def connect(core, probe):
    api = await SlackConnectStandIn().start()
    harness = await ConnectHarness(core, api).start()
    yield harness
    await harness.stop()
    await api.stop()


async def seat_client(slack: ConnectHarness) -> None:
    """Vendor PM alice sets up in the shared channel; priya (client PM) and sam (sponsor) are external."""
    slack.external("priya")
    slack.external("sam")
    await slack.command("alice", "/cadence setup ACME Acme portal")  # seated as vendor PM (the default)
    # The vendor PM seats the client's first admin; from then on the client seats its own people (by mention:
    # slash commands are not shared with the other workspace).
    await slack.command("alice", f"/cadence role {slack.mention('priya')} client_pm")
    await slack.at_mention("priya", f"cadence role <@{slack.uid('sam')}> client_sponsor")


async def test_an_external_mention_resolves_to_the_engagement_by_installation_and_channel(connect, core):
    await seat_client(connect)
    await connect.at_mention("priya", "defect s2 Partner checkout times out")
    texts = json.dumps(connect.posts())
    assert "ACME-D-1" in texts and "Partner checkout times out" in texts
    assert "not bound" not in "\n".join(connect.private("priya"))
    async with core.session_factory() as session:
        ident = await session.scalar(select(Identity).where(Identity.user_id == connect.uid("priya")))
        assert ident.workspace_id == connect.team  # the installation that serves her
        assert ident.external_team_id == EXTERNAL_TEAM  # recorded as the other company's
        alice = await session.scalar(select(Identity).where(Identity.user_id == connect.uid("alice")))
        assert alice.external_team_id is None


async def test_external_members_cannot_run_slash_commands(connect):
    connect.external("priya")
    with pytest.raises(AssertionError, match="slash commands"):
        await connect.command("priya", "/cadence whoami")


async def test_help_for_an_external_member_shows_the_mention_form(connect):
    await seat_client(connect)
    await connect.at_mention("priya", "help")
    text = connect.last_private("priya")
    assert "@Cadence cr" in text and "slash commands" in text and "`/cr`" not in text
    await connect.at_mention("priya", "cr help")
    assert "@Cadence cr new" in connect.last_private("priya")
    await connect.command("alice", "/cr help")  # the installer's own people still see the slash form
    assert "`/cr new" in connect.last_private("alice")


async def test_a_form_asked_for_by_mention_opens_from_a_button(connect):
    await seat_client(connect)
    await connect.at_mention("priya", "cr new Partner API")
    offer = connect.last_ephemeral("priya")
    assert "Open the form" in json.dumps(offer["blocks"])
    assert connect.api.count("views.open") == 0  # a mention has no trigger_id
    await connect.click("priya", offer, "Open the form", ephemeral=True)
    view = connect.opened_view()
    r = await connect.submit(
        "priya",
        view,
        {
            "title": "Partner API",
            "description": "Expose orders to partners.",
            "business_reason": "New channel",
            "priority": "high",
            "wanted_by": "",
        },
    )
    assert r.status == 200 and r.text == ""
    assert "ACME-CR-1" in json.dumps(connect.posts()) and "Partner API" in json.dumps(connect.posts())
    # The hints in her answers name what she can type: @mentions, not slash commands.
    await connect.at_mention("priya", "cr list")
    await connect.at_mention("priya", "cr nonsense")
    texts = "\n".join(connect.private("priya"))
    assert "@Cadence cr" in texts and "`/cr" not in texts


async def test_a_private_answer_that_cannot_be_ephemeral_goes_to_the_mentions_thread(connect):
    await seat_client(connect)
    connect.api.fail_next(1, error="user_not_in_channel", methods="chat.postEphemeral")
    await connect.at_mention("priya", "cadence whoami")
    bot_posts = {m["ts"] for m in connect.posts()}
    replies = [m for m in connect.posts() if m.get("thread_ts") and m["thread_ts"] not in bot_posts]  # her mention's
    assert replies and replies[-1]["text"].startswith(f"<@{connect.uid('priya')}>")
    uid = connect.uid("priya")
    assert not [c for c in connect.api.calls_to("chat.postMessage") if c.body.get("channel") in (uid, "D" + uid[1:])]


ESTIMATE = {"effort_hours": "40", "cost": "6000", "schedule_impact_days": "5", "risk": "medium", "notes": ""}


def fallback_thread(slack: ConnectHarness, who: str) -> tuple[dict, list[dict]]:
    """The thread in the shared channel that carries what Cadence could not DM to `who`."""
    uid = slack.uid(who)
    parents = [
        m for m in slack.posts() if not m.get("thread_ts") and "direct messages" in m["text"] and uid in m["text"]
    ]
    assert len(parents) == 1, [m["text"] for m in slack.posts()]
    return parents[0], slack.thread(parents[0])


async def test_a_refused_dm_is_said_in_a_thread_that_mentions_them_and_keeps_being_used(connect, core):
    await seat_client(connect)
    connect.user("victor")
    await connect.command("alice", f"/cadence role {connect.mention('victor')} vendor_pm")
    await file_and_assess(connect, "Partner API", 1)
    # The approval requests to the client's sponsor could not be DMed: they are in her thread, mentioning her.
    parent, replies = fallback_thread(connect, "sam")
    assert "invalid_user_combination" in parent["text"]
    asks = [r for r in replies if "ACME-CR-1" in json.dumps(r)]
    assert asks and all(f"<@{connect.uid('sam')}>" in json.dumps(r["blocks"]) for r in asks)
    await connect.click("sam", asks[-1], "Approve")
    assert "You approved ACME-CR-1" in connect.last_private("sam")
    # Later messages go straight to the thread: no DM is tried again.
    tried = dm_tries(connect, "sam")
    await file_and_assess(connect, "Second", 2)
    _, replies = fallback_thread(connect, "sam")
    assert any("ACME-CR-2" in json.dumps(r) for r in replies)
    assert dm_tries(connect, "sam") == tried
    # Her admin allows DMs now and she writes to Cadence directly: DMs are used again.
    connect.api.external[connect.uid("sam")].dm_error = None
    await connect.dm("sam", "cr list")
    await file_and_assess(connect, "Third", 3)
    assert dm_tries(connect, "sam") > tried


async def file_and_assess(slack: ConnectHarness, title: str, n: int) -> None:
    """Vendor PM victor files change request n and adds its estimate: the approvers are asked to decide."""
    await slack.command("victor", f"/cr new {title}")
    fields = {"title": title, "description": "d", "business_reason": "b", "priority": "high"}
    await slack.submit("victor", slack.opened_view(), fields)
    await slack.command("victor", f"/cr assess ACME-CR-{n}")
    await slack.submit("victor", slack.opened_view(), ESTIMATE)


def dm_tries(slack: ConnectHarness, who: str) -> int:
    uid = slack.uid(who)
    return len(
        [
            c
            for c in slack.api.calls
            if (c.method == "conversations.open" and uid in str(c.body.get("users")))
            or (c.method == "chat.postMessage" and c.body.get("channel") in (uid, "D" + uid[1:]))
        ]
    )


async def advance(slack: ConnectHarness, **delta: float) -> None:
    slack.core.clock.advance(timedelta(**delta))
    await slack.settle()


def cr_card(slack: ConnectHarness, ref: str) -> dict:
    found = [m for m in slack.posts() if not m.get("thread_ts") and ref in json.dumps(m) and "Requested by" in str(m)]
    assert found, [m["text"] for m in slack.posts()]
    return found[-1]


async def test_the_clients_people_work_entirely_from_another_workspace(connect):
    """Client PM priya and sponsor sam are external (no zone in their profiles, DMs refused); vendor PM alice
    installed Cadence. They seat, file defects and change requests, approve, accept a demo, and every
    reminder reaches them in the shared channel."""
    slack = connect
    slack.external("priya")
    slack.external("sam")
    slack.user("alice", tz="Europe/London")
    await slack.command("alice", "/cadence setup ACME Acme portal")
    await slack.command("alice", f"/cadence role {slack.mention('alice')} vendor_pm")
    await slack.command("alice", f"/cadence role {slack.mention('priya')} client_pm")
    # The client's own admin seats the client's sponsor, by mention.
    await slack.at_mention("priya", f"cadence role <@{slack.uid('sam')}> client_sponsor")
    assert "→ client sponsor" in json.dumps(slack.posts(), ensure_ascii=False)

    # A defect by mention.
    await slack.at_mention("priya", "defect s2 Partner checkout times out")
    assert "ACME-D-1" in json.dumps(slack.posts())
    # Her profile withholds her zone: she is asked once, in her thread, with the likely zones as buttons.
    _, replies = fallback_thread(slack, "priya")
    asks = [r for r in replies if "which time zone" in json.dumps(r["blocks"])]
    assert len(asks) == 1 and "scheduled in UTC" in json.dumps(asks[0]["blocks"])
    await slack.click("priya", asks[0], "Europe/London")
    assert "Time zone set: Europe/London" in slack.last_private("priya")
    await slack.at_mention("priya", "cadence tz")
    assert "Europe/London (set by you)" in slack.last_private("priya")

    # A change request from the form behind the mention's button; the vendor estimates it.
    await slack.at_mention("priya", "cr new Partner API")
    await slack.click("priya", slack.last_ephemeral("priya"), "Open the form", ephemeral=True)
    fields = {"title": "Partner API", "description": "d", "business_reason": "b", "priority": "high"}
    await slack.submit("priya", slack.opened_view(), fields)
    # Roles hold for her as for anyone: the estimate is the vendor's.
    await slack.at_mention("priya", "cr assess ACME-CR-1")
    assert "vendor" in slack.last_private("priya").lower() and slack.api.count("views.open") == 1
    await slack.command("alice", "/cr assess ACME-CR-1")
    await slack.submit("alice", slack.opened_view(), ESTIMATE)
    _, replies = fallback_thread(slack, "sam")
    assert any("ACME-CR-1" in json.dumps(r) for r in replies)
    # The daily reminder to approvers reaches sam in his thread too.
    before = len(replies)
    await advance(slack, days=1, hours=3)
    _, replies = fallback_thread(slack, "sam")
    assert len(replies) > before and "ACME-CR-1" in json.dumps(replies[before:])
    # sam approves from the thread; the vendor PM approves too.
    ask = next(r for r in reversed(replies) if "Approve" in json.dumps(r.get("blocks")))
    await slack.click("sam", ask, "Approve")
    assert "approved" in slack.last_private("sam").lower()
    await slack.click("alice", cr_card(slack, "ACME-CR-1"), "Approve")
    assert "Approved" in json.dumps(cr_card(slack, "ACME-CR-1"))

    # A demo: the client's sponsor records the acceptance from the channel.
    await slack.command("alice", "/demo schedule tomorrow 15:00 | Sprint 4 demo")
    call = [c for c in slack.private_calls("alice") if "Confirm" in c.text_dump()][-1]
    await slack.click("alice", {"blocks": call.blocks(), "ts": ""}, "Confirm", ephemeral=True)
    await advance(slack, days=1, hours=12)
    ask = [m for m in slack.posts() if "How did the demo go?" in str(m)][-1]
    await slack.click("sam", ask, "Accepted")
    assert "Recorded" in slack.last_private("sam")
    # Nothing was lost to a refused DM: every DM to them failed, and each is in their threads.
    for who in ("priya", "sam"):
        uid = slack.uid(who)
        delivered = [
            c
            for c in slack.api.calls_to("chat.postMessage", ok_only=True)
            if c.body.get("channel") in (uid, "D" + uid[1:])
        ]
        assert not delivered


async def test_a_standup_prompt_that_cannot_be_dmed_says_so_in_the_thread_and_opens_the_form(connect, core):
    slack = connect
    slack.external("dev", tz="Asia/Kathmandu")  # the vendor's developer, in the other workspace
    slack.user("alice", tz="Europe/London")
    await slack.command("alice", "/cadence setup ACME Acme portal")
    await slack.command("alice", f"/cadence role {slack.mention('alice')} vendor_pm")
    await slack.at_mention("dev", "cadence whoami")
    await slack.command("alice", f"/cadence role {slack.mention('dev')} developer")
    await goto(core, datetime(2027, 1, 5, 4, 0, tzinfo=UTC))  # Tuesday 09:45 in Kathmandu
    await slack.settle()
    _, replies = fallback_thread(slack, "dev")
    prompt = next(r for r in replies if "What did you finish" in json.dumps(r["blocks"]))
    assert "cannot send you direct messages" in json.dumps(prompt["blocks"])
    await slack.click("dev", prompt, "Answer in a form")
    r = await slack.submit("dev", slack.opened_view(), {"q0": "Login API", "q1": "Checkout", "q2": ""})
    assert r.status == 200 and r.text == ""
    assert "Thanks" in slack.last_private("dev")
    assert "which time zone" not in json.dumps(replies)  # his profile gave his zone: nothing to ask


async def test_a_private_channel_shared_with_another_company_keeps_its_engagement_under_its_new_id(connect):
    slack = connect
    await slack.command("alice", "/cadence setup ACME Acme portal", channel="G0PRIVATE")
    await slack.event({"type": "channel_id_changed", "old_channel_id": "G0PRIVATE", "new_channel_id": "C0SHARED"})
    slack.external("priya")
    await slack.at_mention("priya", "cadence whoami", channel="C0SHARED")
    assert "not bound" not in "\n".join(slack.private("priya"))
    await slack.command("alice", "/cadence members", channel="C0SHARED")
    assert "ACME members" in slack.last_private("alice")
