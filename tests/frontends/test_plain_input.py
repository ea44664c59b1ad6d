"""Issue 20 on the real front ends: the date phrase found inside a text, impossible input refused naming
the part, and zone abbreviations asked about — the same words and answers on Slack and Teams."""

from __future__ import annotations

from tests.frontends.slack.test_demos import setup as slack_setup
from tests.frontends.teams.test_demos import _engagement as teams_setup


async def test_slack_reads_the_title_beside_the_time_and_refuses_impossible_times(slack):
    await slack_setup(slack)
    await slack.command("carol", "/demo schedule Sprint 4 demo next thu 3pm")
    said = slack.last_private("carol")
    assert "Thu 7 Jan 2027 15:00 America/New_York" in said and "with “Sprint 4 demo” as the title" in said
    for text, why in (
        ("tomorrow at 25:30 Retro", "“25:30” is not a time of day"),
        ("feb 30 at 10:00 Retro", "“feb 30” is not a date"),
        ("next blursday at noon Retro", "“blursday”"),
    ):
        await slack.command("carol", f"/demo schedule {text}")
        assert why in slack.last_private("carol"), text
    await slack.command("carol", "/cadence tz EST")
    said = slack.last_private("carol")
    assert "America/New_York" in said and "won't guess" in said


async def test_teams_reads_the_title_beside_the_time_and_refuses_impossible_times(teams):
    _asha, carl, _dev, general = await teams_setup(teams)
    r = await teams.say(carl, "demo schedule Sprint 4 demo tomorrow 15:00", where=general)
    assert "Tue 5 Jan 2027 15:00 America/New_York" in r.text and "with “Sprint 4 demo” as the title" in r.text
    r = await teams.say(carl, "demo schedule tomorrow at 99pm | x", where=general)
    assert "“99pm” is not a time of day" in r.text
    r = await teams.say(carl, "cadence tz CST", where=general)
    assert "Asia/Shanghai" in r.text and "won't guess" in r.text
