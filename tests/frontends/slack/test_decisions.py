"""Decisions and action items through the real Slack front end: a decision recorded and posted with its
Dispute button, disputed by the client PM in the modal (the card edited in place); an action item for the
client PM by mention, refused to a developer's Done and done by its owner; a standup blocker's third button,
"Action for the client", opening the action modal with the client side as owners."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.features.standups.support import goto
from tests.frontends.slack.harness import HOME


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def card(slack, contains: str) -> dict:
    found = [m for m in slack.posts(HOME) if contains in json.dumps(m)]
    assert found, [m.get("text") for m in slack.posts(HOME)]
    return found[-1]


async def seat(slack) -> None:
    for name, tz in (
        ("alice", "Europe/London"),
        ("carol", "America/New_York"),
        ("victor", "Asia/Kolkata"),
        ("dev", "Asia/Kathmandu"),
    ):
        slack.user(name, tz=tz)
    await slack.command("alice", "/cadence setup ACME Acme portal as client_sponsor")
    for who in ("carol", "victor", "dev"):
        await slack.command(who, "/cadence whoami")
    for seater, who, role in (
        ("alice", "carol", "client_pm"),
        ("alice", "victor", "vendor_pm"),
        ("victor", "dev", "developer"),
    ):
        await slack.command(seater, f"/cadence role {slack.mention(who)} {role}")


async def test_decision_dispute_and_action_on_slack(slack):
    await seat(slack)
    await slack.command("victor", "/decision We ship the beta without SSO")
    assert "Recorded ACME-DEC-1" in slack.last_private("victor")
    decision = card(slack, "Decision ACME-DEC-1")
    assert "We ship the beta without SSO" in json.dumps(decision["blocks"])
    await slack.click("carol", decision, "Dispute")
    view = slack.opened_view()
    r = await slack.submit("carol", view, {"reason": ""})
    assert "reason" in r.json()["errors"]
    r = await slack.submit("carol", view, {"reason": "SSO is a launch blocker for us"})
    assert r.status == 200
    await slack.settle()
    edited = slack.api.last("chat.update").body
    assert edited["ts"] == decision["ts"] and "SSO is a launch blocker for us" in json.dumps(edited["blocks"])
    assert card(slack, "(client side) disputed ACME-DEC-1")

    await slack.command("victor", f"/action {slack.mention('carol')} send the sandbox keys by fri")
    said = slack.last_private("victor")
    assert "Saved ACME-A-1" in said and "read as Fri 8 Jan 2027 in your zone, Asia/Kolkata" in said, said
    action = card(slack, "Action ACME-A-1")
    await slack.click("dev", action, "Done")
    assert "Only ACME-A-1's owner" in slack.last_private("dev")
    await slack.click("carol", action, "Done")
    assert "Marked ACME-A-1 done" in slack.last_private("carol")
    await slack.settle()
    assert "done" in json.dumps(slack.api.last("chat.update").body["blocks"])


async def test_blocker_becomes_an_action_for_the_client_on_slack(slack, core):
    await seat(slack)
    await goto(core, at(2027, 1, 5, 4, 0))  # Tuesday's prompts (09:30 Kathmandu and Kolkata)
    await slack.settle()
    await slack.dm("dev", "Login API")
    await slack.dm("dev", "Tests")
    await slack.dm("dev", "Waiting for sandbox keys from Acme")
    await goto(core, at(2027, 1, 5, 10, 0))  # the digest, 10:00 London
    await slack.settle()
    digest = card(slack, "Standup digest")
    r = await slack.click("victor", digest, "Action for the client")
    assert r.status == 200
    view = slack.opened_view()
    meta = json.loads(view["private_metadata"])
    assert meta["f"] == "action.new" and "from_standup_answer" in meta["s"]
    assert "Waiting for sandbox keys from Acme" in json.dumps(view["blocks"])
    owner = next(b for b in view["blocks"] if b.get("block_id") == "owner")["element"]
    names = {o["text"]["text"]: o["value"] for o in owner["options"]}
    assert len(names) == 2 and not any("ictor" in n or n.lower() == "ev" for n in names)
    carol = next(v for n, v in names.items() if "arol" in n)
    r = await slack.submit("victor", view, {"text": "Send the sandbox keys", "owner": carol, "due": "2027-01-04"})
    assert "past" in r.json()["errors"]["due"]
    r = await slack.submit("victor", view, {"text": "Send the sandbox keys", "owner": carol, "due": "2027-01-08"})
    assert r.status == 200
    await slack.settle()
    assert "Tracked as ACME-A-1" in slack.last_private("victor")
    assert "Send the sandbox keys" in json.dumps(card(slack, "Action ACME-A-1")["blocks"])
