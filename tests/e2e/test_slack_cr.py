"""A change request through Slack end to end: intake modal (refused, then valid), the vendor's impact
modal from the card's button, and the approval buttons — not allowed, own request, allowed, twice."""

from __future__ import annotations

import json

from tests.e2e.slack_harness import HOME

SCOPE = {
    "title": "Single sign-on",
    "description": "Log in with the corporate IdP (SAML).",
    "business_reason": "Security audit finding 12",
    "priority": "high",
    "wanted_by": "",
}
ESTIMATE = {"effort_hours": "40", "cost": "6000", "schedule_impact_days": "5", "risk": "medium", "notes": ""}


async def engagement(slack):
    slack.user("alice", tz="Europe/London")
    slack.user("carol", tz="America/New_York")
    slack.user("victor", tz="Asia/Kolkata")
    await slack.command("alice", "/cadence setup ACME Acme portal")
    for who in ("carol", "victor", "dev"):
        await slack.command(who, "/cadence whoami")
    # Seated as vendor PM by default; alone, she switches to her own side's role.
    await slack.command("alice", f"/cadence role {slack.mention('alice')} client_sponsor")
    await slack.command("alice", f"/cadence role {slack.mention('carol')} client_pm")
    await slack.command("alice", f"/cadence role {slack.mention('victor')} vendor_pm")
    await slack.command("victor", f"/cadence role {slack.mention('dev')} developer")


def home_updates(slack) -> int:
    return sum(1 for c in slack.api.calls_to("chat.update", ok_only=True) if c.body.get("channel") == HOME)


def card_of(slack, ref: str) -> dict:
    for msg in reversed(slack.posts()):
        if ref in json.dumps(msg["blocks"]):
            return msg
    raise AssertionError(f"no message about {ref}: {[m['text'][:80] for m in slack.posts()]}")


async def test_change_request_from_intake_to_approval(slack):
    await engagement(slack)

    await slack.command("carol", "/cr new")
    view = slack.opened_view()
    assert view["title"]["text"] == "New change request"
    r = await slack.submit("carol", view, {**SCOPE, "title": "x" * 400})
    assert r.json()["response_action"] == "errors" and "title" in r.json()["errors"]
    r = await slack.submit("carol", view, SCOPE)
    assert r.status == 200 and r.text == ""
    card = card_of(slack, "ACME-CR-1")
    assert "Single sign-on" in json.dumps(card["blocks"])

    # The vendor assesses from the card's button: a modal opened with the click's trigger.
    await slack.click("victor", card, "Assess impact")
    assert slack.api.last("views.open").body["trigger_id"].startswith("trig.click.")
    r = await slack.submit("victor", slack.opened_view(), ESTIMATE)
    assert r.status == 200 and r.text == ""
    card = card_of(slack, "ACME-CR-1")
    slack.button(card, "Approve")

    updates = home_updates(slack)
    await slack.click("dev", card, "Approve")  # not an approver
    assert "approve" in slack.last_private("dev").lower()
    await slack.click("carol", card, "Approve")  # the requester
    assert "own" in slack.last_private("carol").lower()
    assert home_updates(slack) == updates  # nothing changed

    # The policy wants both sides: the client sponsor, then the vendor PM.
    await slack.click("alice", card, "Approve")
    assert "You approved ACME-CR-1" in slack.last_private("alice")
    await slack.click("victor", card, "Approve")
    after = card_of(slack, "ACME-CR-1")
    assert home_updates(slack) > updates and after.get("edited")
    assert "approved" in json.dumps(after["blocks"]).lower()
    n = home_updates(slack)
    await slack.click("victor", card, "Approve")  # double click on the old rendering
    assert "already" in slack.last_private("victor").lower()
    assert home_updates(slack) == n


async def test_reject_asks_for_a_reason(slack):
    await engagement(slack)
    await slack.command("carol", "/cr new")
    await slack.submit("carol", slack.opened_view(), SCOPE)
    await slack.click("victor", card_of(slack, "ACME-CR-1"), "Assess impact")
    await slack.submit("victor", slack.opened_view(), ESTIMATE)
    await slack.click("alice", card_of(slack, "ACME-CR-1"), "Reject")
    view = slack.opened_view()
    assert view["title"]["text"].startswith("Reject")
    r = await slack.submit("alice", view, {"reason": ""})
    assert r.json() == {"response_action": "errors", "errors": {"reason": "A rejection needs a reason."}}
    r = await slack.submit("alice", view, {"reason": "Out of scope for phase 1"})
    assert r.text == ""
    assert "rejected" in json.dumps(card_of(slack, "ACME-CR-1")["blocks"]).lower()


async def test_app_home_lists_my_pending_approvals(slack):
    await engagement(slack)
    await slack.command("carol", "/cr new")
    await slack.submit("carol", slack.opened_view(), SCOPE)
    await slack.click("victor", card_of(slack, "ACME-CR-1"), "Assess impact")
    await slack.submit("victor", slack.opened_view(), ESTIMATE)
    await slack.open_home("alice")
    view = slack.api.last("views.publish")
    assert view.body["user_id"] == "UALICE"
    assert "ACME-CR-1" in json.dumps(view.view()["blocks"])
