"""This part of issue 23 through the real Slack front end (signed requests; Web API → stand-in): the RAID log —
an item added with a Slack mention as its owner and a red status (posted in the channel), listed, refused to a
member who may not update it, updated by its owner, and the owner's review reminder by DM at their own morning —
and a minor change request decided with one click per side on the channel card."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.frontends.slack.harness import HOME

ESTIMATE = {"effort_hours": "6", "cost": "0", "schedule_impact_days": "0", "risk": "low", "notes": ""}
SCOPE = {
    "title": "Rename a button",
    "description": "Call it Checkout.",
    "business_reason": "Usability",
    "priority": "low",
    "wanted_by": "",
}


async def setup(slack):
    for name, tz in (
        ("alice", "Europe/London"),
        ("carol", "America/New_York"),
        ("victor", "Asia/Kolkata"),
        ("dev", "Asia/Kathmandu"),
    ):
        slack.user(name, tz=tz)
    await slack.command("alice", "/cadence setup ACME Acme portal")
    for who in ("carol", "victor", "dev"):
        await slack.command(who, "/cadence whoami")
    for seater, who, role in (
        ("alice", "alice", "client_sponsor"),
        ("alice", "carol", "client_pm"),
        ("alice", "victor", "vendor_pm"),
        ("victor", "dev", "developer"),
    ):
        await slack.command(seater, f"/cadence role {slack.mention(who)} {role}")


async def test_raid_log_on_slack(slack):
    await setup(slack)
    r = await slack.command(
        "dev", f"/raid add dependency Sandbox keys from Acme owner {slack.mention('carol')} review jan 8 red"
    )
    assert r.status == 200
    said = slack.last_private("dev")
    assert "Added ACME-R-1 dependency" in said and "read as Fri 8 Jan 2027 in your zone, Asia/Kathmandu" in said
    red = [m for m in slack.posts(HOME) if "ACME-R-1 dependency raised" in json.dumps(m)]
    assert red and "<@UCAROL>" in json.dumps(red[-1])  # the owner is mentioned in the channel

    await slack.command("victor", "/raid list")
    assert "ACME-R-1" in slack.last_private("victor") and "Sandbox keys from Acme" in slack.last_private("victor")
    # The vendor's PM cannot turn the client's red dependency amber alone; its owner can.
    await slack.command("victor", "/raid update ACME-R-1 amber")
    assert "an admin of the owner's side" in slack.last_private("victor")
    await slack.command("carol", "/raid update ACME-R-1 amber")
    assert "red → amber" in slack.last_private("carol")

    slack.user("quinn", tz="America/St_Johns")
    await slack.command("quinn", "/cadence whoami")
    await slack.command("victor", f"/cadence role {slack.mention('quinn')} qa")
    await slack.command("quinn", "/raid update ACME-R-1 green")
    assert "Only the owner of ACME-R-1" in slack.last_private("quinn")
    await slack.command("carol", "/raid update ACME-R-1 review jan 11 note asked their IT again")
    assert "review Mon 11 Jan 2027" in slack.last_private("carol")

    # Mon 11 Jan 10:00 in New York (15:00 UTC): Carol's reminder arrives by DM.
    slack.core.clock.set(datetime(2027, 1, 11, 15, 0, tzinfo=UTC))
    await slack.settle()
    assert "Review today: ACME-R-1 dependency" in slack.last_private("carol")


async def test_a_minor_change_is_approved_with_one_click_per_side_on_slack(slack):
    await setup(slack)
    await slack.command("dev", "/cr new Rename a button")
    await slack.submit("dev", slack.opened_view(), SCOPE)
    await slack.command("victor", "/cr assess ACME-CR-1")
    await slack.submit("victor", slack.opened_view(), ESTIMATE)

    def card():
        found = [m for m in slack.posts(HOME) if "ACME-CR-1" in json.dumps(m) and "Requested by" in json.dumps(m)]
        return found[-1]

    assert "Minor change (under 8 h, no cost): one approver of each side decides." in json.dumps(card())
    await slack.click("carol", card(), "Approve")  # one client approver is enough; Alice is not asked again
    assert "Still waiting for victor" in slack.last_private("carol")
    await slack.click("victor", card(), "Approve")
    assert "Quorum reached: ACME-CR-1 is approved" in slack.last_private("victor")
    assert "Approved" in json.dumps(card())
