"""Engagement set-up from Slack: binding the channel, members, zones from users.info."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import ChannelBinding, Person
from tests.frontends.slack.harness import HOME


async def test_setup_binds_the_channel_and_announces_it(slack, core):
    slack.user("alice", tz="Europe/London")
    r = await slack.command("alice", "/cadence setup ACME Acme portal")
    assert r.status == 200
    async with core.session_factory() as s:
        binding = await s.scalar(select(ChannelBinding).where(ChannelBinding.channel_id == HOME))
    assert binding is not None and binding.platform == "slack" and binding.workspace_id == slack.team
    assert "ACME" in slack.posts()[-1]["text"]
    # Running it again says so, privately, and posts nothing more.
    await slack.command("alice", "/cadence setup ACME Acme portal")
    assert "already" in slack.last_private("alice")
    assert len(slack.posts()) == 1


async def test_member_zone_comes_from_the_slack_profile(slack, core):
    slack.user("victor", tz="Asia/Kolkata")
    await slack.command("victor", "/cadence tz")
    assert "Asia/Kolkata" in slack.last_private("victor")
    assert slack.api.count("users.info") == 1
    await slack.command("victor", "/cadence tz")
    assert slack.api.count("users.info") == 1  # cached


async def test_profile_change_updates_the_zone_unless_set_by_the_person(slack, core):
    slack.user("victor", tz="Asia/Kolkata")
    await slack.command("victor", "/cadence tz")
    await slack.event(
        {
            "type": "user_change",
            "user": {
                "id": "UVICTOR",
                "team_id": slack.team,
                "name": "victor",
                "tz": "Europe/Berlin",
                "profile": {"display_name": "victor"},
            },
        }
    )
    async with core.session_factory() as s:
        assert (await s.scalar(select(Person.tz))) == "Europe/Berlin"
    await slack.command("victor", "/cadence tz Asia/Tokyo")
    await slack.event(
        {
            "type": "user_change",
            "user": {"id": "UVICTOR", "team_id": slack.team, "name": "victor", "tz": "America/Chicago", "profile": {}},
        }
    )
    async with core.session_factory() as s:
        assert (await s.scalar(select(Person.tz))) == "Asia/Tokyo"
    await slack.command("victor", "/cadence tz auto")  # back to the profile's zone (cached from the event)
    await slack.command("victor", "/cadence tz")
    assert "America/Chicago" in slack.last_private("victor")


async def test_profile_change_of_a_stranger_creates_nobody(slack, core):
    await slack.event(
        {"type": "user_change", "user": {"id": "USTRANGER", "team_id": slack.team, "name": "x", "tz": "Europe/Berlin"}}
    )
    async with core.session_factory() as s:
        assert (await s.scalar(select(Person.id))) is None


async def test_roles_by_escaped_mention(slack, core):
    await slack.command("alice", "/cadence setup ACME Acme portal")
    await slack.command("carol", "/cadence whoami")
    await slack.command("alice", f"/cadence role {slack.mention('carol')} client_pm")
    assert "client" in slack.posts()[-1]["text"].lower()
    await slack.command("alice", "/cadence members")
    assert "*carol*\nclient pm" in slack.last_private("alice")
