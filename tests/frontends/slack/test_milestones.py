"""A milestone through the real Slack front end: added and submitted by the vendor PM, rejected by the
client sponsor from the channel card with reasons in the modal, rectified from the items card, resubmitted
and accepted by the client PM; a developer's click on Accept is refused privately. After the warranty, an
out-of-warranty defect converted to a change request from its card through the intake modal."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.frontends.slack.harness import HOME


def card(slack, contains: str):
    found = [m for m in slack.posts(HOME) if contains in json.dumps(m)]
    assert found, [m.get("text") for m in slack.posts(HOME)]
    return found[-1]


async def test_milestone_on_slack(slack):
    for name, tz in (("alice", "Europe/London"), ("carol", "America/New_York"), ("victor", "Asia/Kolkata")):
        slack.user(name, tz=tz)
    slack.user("dev", tz="Asia/Kathmandu")
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

    await slack.command("victor", "/milestone add Beta release due march 1")
    assert "Added ACME-M-1" in slack.last_private("victor")
    assert card(slack, "New milestone ACME-M-1")
    await slack.command("victor", "/milestone submit ACME-M-1 | Beta on https://staging.example.com")
    acceptance = card(slack, "Acceptance: ACME-M-1")
    await slack.click("dev", acceptance, "Accept")
    assert "Only the client sponsor or client PM" in slack.last_private("dev")

    await slack.click("alice", acceptance, "Reject")
    view = slack.opened_view()
    r = await slack.submit("alice", view, {"reasons": ""})
    assert "reasons" in r.json()["errors"]
    r = await slack.submit("alice", view, {"reasons": "Search is slow\nNo export"})
    assert r.status == 200
    assert "Rejected" in json.dumps(card(slack, "Acceptance: ACME-M-1"))
    items = card(slack, "Rectification: ACME-M-1")
    await slack.click("dev", items, "Done: R1")
    assert "Marked ACME-M-1-R1 done" in slack.last_private("dev")
    await slack.command("dev", "/milestone done ACME-M-1-R2")

    await slack.command("victor", "/milestone submit ACME-M-1 | Beta 2 with export")
    second = card(slack, "Beta release (round 2)")
    await slack.click("carol", second, "Accept")
    assert "You accepted ACME-M-1 (round 2)" in slack.last_private("carol")
    assert "Accepted by" in json.dumps(card(slack, "Beta release (round 2)"))


async def test_out_of_warranty_defect_converted_to_a_change_request_on_slack(slack):
    for name, tz in (("alice", "Europe/London"), ("carol", "America/New_York"), ("victor", "Asia/Kolkata")):
        slack.user(name, tz=tz)
    await slack.command("alice", "/cadence setup ACME Acme portal")
    for who in ("carol", "victor"):
        await slack.command(who, "/cadence whoami")
    for who, role in (("alice", "client_sponsor"), ("carol", "client_pm"), ("victor", "vendor_pm")):
        await slack.command("alice", f"/cadence role {slack.mention(who)} {role}")
    await slack.command("victor", "/milestone add Go-live due march 1 final")
    await slack.command("victor", "/milestone submit ACME-M-1 | Release 1.0")
    await slack.click("alice", card(slack, "Acceptance: ACME-M-1"), "Accept")
    assert "project acceptance" in slack.last_private("alice")

    # Seven months on: the six-month warranty has ended.
    slack.core.clock.set(slack.core.clock.now() + timedelta(days=214))
    await slack.command("carol", "/defect s3 Export is slow")
    defect = card(slack, "Out of warranty (filed after the warranty ended")
    assert "Export is slow" in json.dumps(defect)
    await slack.click("victor", defect, "Convert to change request")
    assert "Only the client sponsor or client PM" in slack.last_private("victor")
    await slack.click("carol", defect, "Convert to change request")
    view = slack.opened_view()
    assert "Converted from ACME-D-1" in json.dumps(view)
    r = await slack.submit(
        "carol",
        view,
        {
            "title": "Faster export",
            "description": "Converted from ACME-D-1",
            "business_reason": "Month-end close",
            "priority": "medium",
            "wanted_by": "",
        },
    )
    assert r.status == 200, r.text
    await slack.settle()
    assert "Converted from" in json.dumps(card(slack, "ACME-CR-1"))
    assert "Export is slow" in json.dumps(card(slack, "Converted to change request ACME-CR-1"))
