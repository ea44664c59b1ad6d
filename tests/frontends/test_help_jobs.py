"""Issue 20, item 2: `/cadence help` names the jobs (`/standup`, `/demo`, `/cr`, `/defect`) as well as the
set-up commands, on every front end: on Slack it is the only help a user can reach."""

from __future__ import annotations

from tests.helpers import actor, reply_text, run

JOBS = ("`/standup`", "`/demo`", "`/cr`", "`/defect`")


async def test_cadence_help_on_slack_names_every_job(slack):
    await slack.command("alice", "/cadence help")
    said = slack.last_private("alice")
    for job in JOBS:
        assert job.strip("`") in said, job
    assert "/cadence setup" in said


async def test_cadence_help_on_teams_names_every_job(teams):
    r = await teams.say(teams.user("asha"), "cadence help")
    for job in JOBS:
        # Teams users type commands without the slash (handlers/teams rewrites the hints as they type them).
        assert f"**{job.strip('`/')}**" in r.text, job


async def test_cadence_help_on_the_console_names_every_job(core):
    r = await run(core, actor("alice"), "/cadence help")
    for job in JOBS:
        assert job in reply_text(r), job
