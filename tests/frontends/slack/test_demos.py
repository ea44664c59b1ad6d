"""Demos through the real Slack front end (signed requests; Web API → stand-in): schedule with a
confirmation, the announcement with the .ics uploaded, local-time tokens in reminders, the agenda
and the outcome buttons with their permissions."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar


async def setup(slack):
    slack.user("alice", tz="Europe/London")
    slack.user("carol", tz="America/New_York")
    slack.user("victor", tz="Asia/Kolkata")
    await slack.command("alice", "/cadence setup ACME Acme portal")
    for who in ("carol", "victor"):
        await slack.command(who, "/cadence whoami")
    await slack.command("alice", f"/cadence role {slack.mention('alice')} client_sponsor")
    await slack.command("alice", f"/cadence role {slack.mention('carol')} client_pm")
    await slack.command("alice", f"/cadence role {slack.mention('victor')} vendor_pm")


def last_private_message(slack, who):
    call = slack.private_calls(who)[-1]
    return {"blocks": call.body.get("blocks"), "text": call.body.get("text", ""), "ts": call.body.get("ts", "")}


async def advance(slack, **delta):
    slack.core.clock.advance(timedelta(**delta))
    await slack.settle()


async def test_demo_on_slack(slack):
    await setup(slack)
    r = await slack.command("carol", "/demo schedule tomorrow 15:00 | Sprint 4 demo")
    assert r.status == 200
    confirm = slack.last_private("carol")
    assert "Tue 5 Jan 2027 15:00 America/New_York" in confirm and "Tue 5 Jan 2027 20:00 Europe/London" in confirm
    await slack.click("carol", last_private_message(slack, "carol"), "Confirm", ephemeral=True)
    announce = [m for m in slack.posts() if "Demo scheduled: Sprint 4 demo" in str(m)]
    assert len(announce) == 1
    assert "<!date^" in str(announce[0])  # each reader sees their own local time
    uploads = slack.api.calls_to("files.completeUploadExternal", ok_only=True)
    assert uploads
    ics = slack.api.uploads[slack.api.last("upload").body["file_id"]]
    ev = next(iter(Calendar.from_ical(ics).walk("VEVENT")))
    assert str(ev["summary"]).startswith("Sprint 4 demo")

    # A refusal is private, says why, and saves nothing.
    await slack.command("carol", "/demo schedule on the 5th 3pm")
    assert "no month" in slack.last_private("carol")

    # Agenda by command, then the 1 h reminder carries it.
    await advance(slack, hours=12)
    await slack.command("victor", "/demo agenda 1 The new checkout")
    await advance(slack, hours=23)
    hour = [m for m in slack.posts() if "Demo in 1 hour" in str(m)]
    assert hour and "The new checkout" in str(hour[0])

    # Outcome: the vendor may not, the client may, a second click is told.
    await advance(slack, hours=2)
    ask = [m for m in slack.posts() if "How did the demo go?" in str(m)][-1]
    await slack.click("victor", ask, "Accepted")
    assert "Only the client side" in slack.last_private("victor")
    await slack.click("alice", ask, "Accepted")
    assert "Recorded" in slack.last_private("alice")
    await slack.click("carol", ask, "Accepted")
    assert "already recorded" in slack.last_private("carol")
    updated = [m for m in slack.posts() if "Demo outcome: Sprint 4 demo" in str(m)]
    assert updated and "Accepted" in str(updated[0])
