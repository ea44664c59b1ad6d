"""One change request across both platforms, through the real front ends of one app: the engagement
has a home on Slack and one on Teams (mirrored), the client approver works on Slack and the vendor
PM on Teams. The vendor assesses and approves from Adaptive Cards; the client sponsor approves on
Slack; the card is edited in place on both platforms; a Teams non-approver is refused."""

from __future__ import annotations

import json
import re

import aiohttp
import pytest

from bot.kernel.settings import Settings
from tests.frontends.slack.harness import HOME
from tests.frontends.teams.harness import TeamsHarness
from tests.standins.bot_connector import BotConnectorStandIn

CODE_RE = re.compile(r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b")
SCOPE = {
    "title": "Single sign-on",
    "description": "Log in with the corporate IdP.",
    "business_reason": "Audit finding 12",
    "priority": "high",
    "wanted_by": "in 3 weeks",
}


@pytest.fixture
async def teams(slack, core):
    """Teams activities to the same running app (and core) as the Slack harness."""
    connector = await BotConnectorStandIn().start()
    harness = TeamsHarness(core, Settings(database_url="sqlite:///unused.db", teams_insecure_local=True), connector)
    harness.port = int(slack.url.rsplit(":", 1)[1])
    harness.app = slack.web_app  # the one app serves both: its Teams bot's background work is awaited
    harness._http = aiohttp.ClientSession()
    yield harness
    await harness._http.close()
    await connector.stop()


def mention(name: str) -> dict:
    return {
        "type": "mention",
        "text": f"<at>{name.capitalize()}</at>",
        "mentioned": {"id": f"29:{name}", "name": name.capitalize()},
    }


def slack_card(slack, ref: str = "ACME-CR-1"):
    found = [m for m in slack.posts(HOME) if ref in json.dumps(m.get("blocks")) and "Requested by" in json.dumps(m)]
    assert len(found) == 1
    return found[0]


def teams_card(teams, conv, ref: str = "ACME-CR-1"):
    """The request's card in a Teams conversation as it stands (its latest update, else the post)."""
    calls = [
        c
        for c in [*teams.connector.sent(conv.id), *teams.connector.updates(conv.id)]
        if f"{ref} · " in c.text_dump() and "Requested by" in c.text_dump()
    ]
    assert calls, teams.connector.texts(conv.id)
    return calls[-1]


async def test_slack_client_approver_and_teams_vendor_approver_on_one_request(slack, teams, core):
    # Slack: ACME in #acme-project, Alice client sponsor, Carol client PM.
    for name, tz in (("alice", "Europe/London"), ("carol", "America/New_York")):
        slack.user(name, tz=tz)
    await slack.command("alice", "/cadence setup ACME Acme portal")
    await slack.command("carol", "/cadence whoami")
    await slack.command("alice", f"/cadence role {slack.mention('alice')} client_sponsor")
    await slack.command("alice", f"/cadence role {slack.mention('carol')} client_pm")
    # Alice links her Teams identity and adds a Teams channel as a second home.
    await slack.command("alice", "/cadence link", channel="D" + slack.uid("alice")[1:])
    code = CODE_RE.search(slack.last_private("alice")).group(1)
    alice_t = teams.user("alice", tz="Europe/London")
    r = await teams.say(alice_t, f"cadence link {code}")
    assert "Linked" in r.text, r.text
    general = teams.channel("general")
    await teams.say(alice_t, "cadence setup ACME", where=general)
    # Teams: Victor (vendor PM) and Dev (developer).
    victor, dev = teams.user("victor", tz="Asia/Kolkata"), teams.user("dev", tz="Asia/Kathmandu")
    # Alice seats the vendor's first admin; he seats his developer.
    for name, who, role, seater in (("victor", victor, "vendor_pm", alice_t), ("dev", dev, "developer", victor)):
        await teams.say(who, "cadence whoami", where=general)
        r = await teams.say(
            seater, f"cadence role <at>{name.capitalize()}</at> {role}", where=general, entities=[mention(name)]
        )
        assert r.status == 200 and "Announced" in r.text, r.text
    await teams.drain()

    # Carol files the request on Slack; its card is posted in both homes.
    await slack.command("carol", "/cr new Single sign-on")
    r = await slack.submit("carol", slack.opened_view(), SCOPE)
    assert r.status == 200 and r.text == ""
    await teams.drain()
    card_call = teams_card(teams, general)
    assert "Submitted" in card_call.text_dump()

    # Victor assesses from the Teams card: the button answers with the estimate form.
    r = await teams.click(victor, card_call, "Assess impact")
    assert r.status == 200
    form = [c for c in r.replies if "Effort (hours)" in c.text_dump()][-1]  # a dialog launcher in the channel
    dialog = await teams.open_dialog(victor, form.cards()[0], where=teams._conversation_of(form))
    assert "Input.Number" in json.dumps(dialog)
    r = await teams.click(
        victor,
        form,
        "Save estimate",
        inputs={"effort_hours": "40", "cost": "6000", "schedule_impact_days": "5", "risk": "medium"},
    )
    assert r.status == 200 and r.body["task"]["type"] == "message", r.body  # the dialog closes
    await teams.drain()  # the confirmation is his alone: through the outbox, to his 1:1 chat when known
    assert any("sent for approval" in t for t in teams.connector.texts()), teams.connector.texts()
    await slack.settle()
    await teams.drain()
    assert "Pending approval" in json.dumps(slack_card(slack))
    card_call = teams_card(teams, general)
    assert "Pending approval" in card_call.text_dump()

    # In the channel only the approvers with a Teams account (Alice, Victor) get the buttons, in their own
    # view of the card; Dev sees who decides. Carol requested it (and is on Slack only).
    assert card_call.cards()[0]["refresh"]["userIds"] == [alice_t.bf_id, victor.bf_id]
    assert "Approve" in json.dumps((await teams.view(victor, card_call)).get("actions"))
    dev_view = await teams.view(dev, card_call)
    assert "Approve" not in json.dumps(dev_view.get("actions")) and "Approve / Reject: for" in json.dumps(dev_view)
    # A developer who presses anyway (an older client) is refused, privately; nothing changes.
    r = await teams.click(dev, await teams.view(victor, card_call), "Approve", where=general)
    assert "Only approvers can approve or reject ACME-CR-1" in r.text

    # Alice approves on Slack, Victor on Teams (from his 1:1 chat copy of the card).
    await slack.click("alice", slack_card(slack), "Approve")
    assert "You approved ACME-CR-1" in slack.last_private("alice")
    await teams.drain()
    dm_calls = [c for c in teams.connector.sent(teams.personal(victor).id) if "Requested by" in c.text_dump()] or [
        c
        for c in teams.connector.sent()
        if "Requested by" in c.text_dump() and (c.conversation_id or "").startswith("a:")
    ]
    assert dm_calls
    r = await teams.click(victor, dm_calls[-1], "Approve")
    assert "Quorum reached: ACME-CR-1 is approved" in r.text, r.text
    r = await teams.click(victor, dm_calls[-1], "Approve")
    assert "already approved" in r.text
    await slack.settle()
    await teams.drain()

    # Edited in place on both platforms.
    assert "Approved" in json.dumps(slack_card(slack))
    assert "Approved" in teams_card(teams, general).text_dump()
    assert teams_card(teams, general).kind == "update"
    from sqlalchemy import select

    from storage.models.change_requests import ChangeRequest, ChangeRequestDecision

    async with core.session_factory() as s:
        cr = await s.scalar(select(ChangeRequest))
        rows = list(await s.scalars(select(ChangeRequestDecision)))
    assert cr.state == "approved" and len(rows) == 2
