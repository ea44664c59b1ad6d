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
