"""Two companies, two workspaces (issue 21): Cadence installed in the vendor's workspace, the client's people
external members of a Slack Connect channel. They work through @mentions, buttons and modals; DMs to them
are refused, so what Cadence needs to tell them goes to a thread in the shared channel."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from storage.models import Identity
from tests.e2e.slack_connect_harness import EXTERNAL_TEAM, ConnectHarness
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
    await slack.command("alice", "/cadence setup ACME Acme portal")
    await slack.command("alice", f"/cadence role {slack.mention('priya')} client_pm")
    await slack.command("alice", f"/cadence role {slack.mention('sam')} client_sponsor")


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


async def test_a_private_answer_that_cannot_be_ephemeral_goes_to_the_mentions_thread(connect):
    await seat_client(connect)
    connect.api.fail_next(1, error="user_not_in_channel", methods="chat.postEphemeral")
    await connect.at_mention("priya", "cadence whoami")
    replies = [m for m in connect.posts() if m.get("thread_ts")]
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
