"""Working hours through the real Slack front end: `/cadence hours` and `/cadence overlap` (each reader's own
time as Slack date tokens), and a demo at 01:30 on the vendor's Saturday warned about on its confirmation,
then confirmed at the suggested time with the second button."""

from __future__ import annotations

import json
import re


def last_private_message(slack, who):
    call = slack.private_calls(who)[-1]
    return {"blocks": call.body.get("blocks"), "text": call.body.get("text", ""), "ts": call.body.get("ts", "")}


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


async def test_hours_and_overlap_on_slack(slack):
    await setup(slack)
    r = await slack.command("victor", "/cadence hours 10am-7pm")
    assert r.status == 200
    assert "Your working hours are now 10:00–19:00 on mon, tue, wed, thu, fri, in Asia/Kolkata" in slack.last_private(
        "victor"
    )
    await slack.command("victor", "/cadence hours 25:00-26:00")
    assert "is not a time of day" in slack.last_private("victor")
    await slack.command("victor", "/cadence whoami")
    assert "10:00–19:00" in slack.last_private("victor")

    # London and Kolkata overlap; New York and Kolkata do not: no time when all three are at work.
    await slack.command("carol", "/cadence overlap")
    said = slack.last_private("carol")
    assert "Working hours overlap — Mon 4 Jan 2027 (your date, America/New_York)" in said
    assert "No overlap" in said and "Closest:" in said
    assert "<!date^" in said  # each reader's own time
    assert "victor (Asia/Kolkata, 10:00–19:00)" in said

    await slack.command("alice", "/cadence overlap")
    assert "(your date, Europe/London)" in slack.last_private("alice")


async def test_demo_outside_hours_warns_then_uses_the_suggestion_on_slack(slack):
    await setup(slack)
    await slack.command("carol", "/demo schedule fri 3pm | Review")  # Sat 01:30 in Kolkata, 20:00 in London
    said = slack.last_private("carol")
    assert "victor — Sat 01:30 Asia/Kolkata: their day off (Saturday)" in said
    assert "alice — Fri 20:00 Europe/London: after their working hours (09:00–18:00)" in said
    assert "best compromise" in said
    assert not [m for m in slack.posts() if "Demo scheduled" in str(m)]  # nothing saved yet
    message = last_private_message(slack, "carol")
    labels = [el["text"]["text"] for b in message["blocks"] if b["type"] == "actions" for el in b["elements"]]
    use = next(label for label in labels if label.startswith("Use "))
    # London's day ends 18:00 UTC, New York's begins 14:00 UTC: the nearest hour with only Victor outside.
    assert use == "Use Fri 8 Jan 12:00 America/New_York"
    await slack.click("carol", message, use, ephemeral=True)
    announce = [m for m in slack.posts() if "Demo scheduled: Review" in json.dumps(m)]
    assert len(announce) == 1
    stamps = {int(t) for t in re.findall(r"<!date\^(\d+)\^", json.dumps(announce[0]))}
    assert 1799427600 in stamps  # Fri 8 Jan 2027 17:00 UTC
