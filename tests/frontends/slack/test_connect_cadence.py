"""The rest of the cadence with the client's people in another workspace (Slack Connect): external members
(no zone in their profile, DMs refused, no slash commands) dispute a decision, keep the RAID log and add to a
meeting's agenda by @mention; an action item they own is reminded in the shared channel's thread that mentions
them; and a meeting's confirmation names them as "zone unknown" instead of judging their hours on UTC."""

from __future__ import annotations

import json

import pytest

from tests.frontends.slack.connect_harness import ConnectHarness
from tests.frontends.slack.test_connect import advance, fallback_thread, seat_client
from tests.frontends.slack.test_hours import last_private_message
from tests.standins.slack_connect import SlackConnectStandIn


@pytest.fixture
async def connect(core, probe):
    api = await SlackConnectStandIn().start()
    harness = await ConnectHarness(core, api).start()
    yield harness
    await harness.stop()
    await api.stop()


def text_of(messages: list[dict]) -> str:
    return json.dumps(messages)


async def test_external_client_members_keep_decisions_actions_raid_and_agendas_by_mention(connect):
    await seat_client(connect)  # alice: vendor PM (installer); priya, client PM, and sam, sponsor: external

    # A meeting: priya and sam have no zone Cadence knows, so their hours are not guessed; they are named.
    await connect.command("alice", "/meeting schedule next thu 10:00 | Weekly sync")
    said = connect.last_private("alice")
    assert "Zone unknown" in said and "priya" in said and "sam" in said, said
    assert "Outside working hours" not in said  # nobody judged on UTC
    await connect.click("alice", last_private_message(connect, "alice"), "Confirm", ephemeral=True)
    await connect.at_mention("priya", "meeting agenda add UAT dates for sprint 4")
    assert "UAT dates for sprint 4" in connect.last_private("priya")

    # A decision by the vendor, disputed by the client PM from her own workspace.
    await connect.command("alice", "/decision We ship the beta without SSO")
    await connect.at_mention("priya", "decision dispute ACME-DEC-1 SSO is a launch blocker for us")
    assert "disputed ACME-DEC-1" in text_of(connect.posts())
    assert "SSO is a launch blocker for us" in text_of(connect.posts())

    # A RAID item she owns, added by mention; red, so it is said in the channel.
    await connect.at_mention(
        "priya", f"raid add dependency Sandbox keys from Acme owner <@{connect.uid('priya')}> review fri red"
    )
    assert "ACME-R-1" in text_of(connect.posts())

    # An action item for her: its reminder on the due morning cannot be DMed, so it is said in her thread.
    await connect.command("alice", f"/action {connect.mention('priya')} send the payment sandbox keys by wed")
    assert "Saved ACME-A-1" in connect.last_private("alice")
    await advance(connect, days=2, hours=4)  # Wed 6 Jan 12:00 UTC: past her (UTC) morning of the due day
    _, replies = fallback_thread(connect, "priya")
    reminders = [r for r in replies if "ACME-A-1" in json.dumps(r)]
    assert reminders and f"<@{connect.uid('priya')}>" in json.dumps(reminders[-1])
