"""Change requests through the real Slack front end (signed requests; Web API → stand-in): the intake
modal with per-field errors, the vendor's estimate modal, Approve on the channel card by a client
approver, a non-approver's click refused privately, a double click, the card edited in place, the
rejection modal, the CSV export uploaded as files, and the App Home listing what waits for an approver."""

from __future__ import annotations

import json

from tests.frontends.slack.harness import HOME

SCOPE = {
    "title": "Single sign-on",
    "description": "Log in with the corporate IdP.",
    "business_reason": "Audit finding 12",
    "priority": "high",
    "wanted_by": "march 3",
}
ESTIMATE = {"effort_hours": "40", "cost": "6000", "schedule_impact_days": "5", "risk": "medium", "notes": ""}


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
    # Alice (alone, so free to switch) takes the sponsor's seat and seats the vendor's first admin, who
    # seats his developer: each side seats its own people.
    for seater, who, role in (
        ("alice", "alice", "client_sponsor"),
        ("alice", "carol", "client_pm"),
        ("alice", "victor", "vendor_pm"),
        ("victor", "dev", "developer"),
    ):
        await slack.command(seater, f"/cadence role {slack.mention(who)} {role}")


def mrkdwn(value) -> list[str]:
    """Every mrkdwn text in a message (where Slack would turn <!channel> into a ping)."""
    out = []
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn":
            out.append(value.get("text", ""))
        for v in value.values():
            out += mrkdwn(v)
    elif isinstance(value, list):
        for v in value:
            out += mrkdwn(v)
    return out


def cr_card(slack, ref: str = "ACME-CR-1"):
    found = [m for m in slack.posts(HOME) if ref in json.dumps(m.get("blocks")) and "Requested by" in json.dumps(m)]
    assert len(found) == 1, [m.get("text") for m in slack.posts(HOME)]
    return found[0]


async def test_change_request_on_slack(slack):
    await setup(slack)
    r = await slack.command("carol", "/cr new Single sign-on")
    assert r.status == 200
    view = slack.opened_view()
    assert view["type"] == "modal" and view["title"]["text"] == "New change request"
    r = await slack.submit("carol", view, {**SCOPE, "title": "x" * 400})
    assert r.json()["response_action"] == "errors" and "title" in r.json()["errors"]
    r = await slack.submit("carol", view, {**SCOPE, "wanted_by": "last tuesday"})
    errors = r.json()["errors"]
    assert "in the past" in errors["wanted_by"]
    r = await slack.submit("carol", view, {**SCOPE, "title": "SSO <!channel>"})
    assert r.status == 200 and r.text == ""
    card = cr_card(slack)
    assert "<!channel>" not in card["text"] and "&lt;!channel&gt;" in card["text"]
    assert not [t for t in mrkdwn(card) if "<!channel>" in t]  # plain_text headers are never parsed

    # The vendor PM adds the estimate from the card's button.
    await slack.click("victor", card, "Assess impact")
    assert slack.api.last("views.open").body["trigger_id"].startswith("trig.click.")  # the click's trigger
    r = await slack.submit("victor", slack.opened_view(), {**ESTIMATE, "cost": "six grand"})
    assert "not a number" in r.json()["errors"]["cost"]
    r = await slack.submit("victor", slack.opened_view(), ESTIMATE)
    assert r.status == 200
    card = cr_card(slack)
    assert "Pending approval" in json.dumps(card) and "6,000.00" in json.dumps(card)

    # A developer's click is refused privately and changes nothing.
    before = json.dumps(cr_card(slack))
    await slack.click("dev", card, "Approve")
    assert "Only approvers can approve or reject ACME-CR-1" in slack.last_private("dev")
    assert json.dumps(cr_card(slack)) == before
    # The requester cannot approve her own request.
    await slack.click("carol", card, "Approve")
    assert "You requested ACME-CR-1" in slack.last_private("carol")

    # The client sponsor approves from the channel card; a double click is harmless.
    await slack.click("alice", card, "Approve")
    assert "You approved ACME-CR-1" in slack.last_private("alice")
    await slack.click("alice", card, "Approve")
    assert "You already approved ACME-CR-1" in slack.last_private("alice")
    assert "<@UALICE> approved" in json.dumps(cr_card(slack)) and "Pending approval" in json.dumps(cr_card(slack))

    # The vendor PM approves from his DM copy; the channel card is edited in place.
    uid = slack.uid("victor")
    dm_copies = [
        m
        for ch, msgs in slack.api.messages.items()
        if ch in (uid, "D" + uid[1:])
        for m in msgs
        if "Requested by" in json.dumps(m)
    ]
    assert dm_copies
    await slack.click("victor", dm_copies[-1], "Approve", channel="D" + uid[1:])
    assert "Quorum reached: ACME-CR-1 is approved" in slack.last_private("victor")
    final = cr_card(slack)
    assert "Approved" in json.dumps(final) and not any(
        b.get("type") == "actions" for b in final["blocks"] if "Approve" in json.dumps(b)
    )
    # A click on the old rendering after the decision: already decided, nothing edited.
    updates = slack.api.count("chat.update")
    await slack.click("victor", card, "Approve")
    assert "already" in slack.last_private("victor").lower()
    assert slack.api.count("chat.update") == updates

    # A second request is rejected through the modal (a reason is required).
    await slack.command("carol", "/cr new Dark mode")
    await slack.submit("carol", slack.opened_view(), {**SCOPE, "title": "Dark mode", "wanted_by": ""})
    await slack.command("victor", "/cr assess ACME-CR-2")
    await slack.submit("victor", slack.opened_view(), ESTIMATE)
    await slack.click("alice", cr_card(slack, "ACME-CR-2"), "Reject")
    reject_view = slack.opened_view()
    assert reject_view["title"]["text"].startswith("Reject")
    r = await slack.submit("alice", reject_view, {"reason": ""})
    assert r.json() == {"response_action": "errors", "errors": {"reason": "A rejection needs a reason."}}
    await slack.submit("alice", reject_view, {"reason": "Not this quarter"})
    assert "Rejected" in json.dumps(cr_card(slack, "ACME-CR-2")) and "Not this quarter" in json.dumps(
        cr_card(slack, "ACME-CR-2")
    )

    # Export: the two CSV files are uploaded to the channel.
    await slack.command("carol", "/cr export")
    uploads = slack.api.calls_to("files.completeUploadExternal", ok_only=True)
    assert uploads
    contents = [v.decode() if isinstance(v, bytes) else str(v) for v in slack.api.uploads.values()]
    assert any("ACME-CR-1" in c and "approved" in c for c in contents)
    assert any("Not this quarter" in c for c in contents)


async def test_app_home_lists_my_pending_approvals(slack):
    await setup(slack)
    await slack.command("carol", "/cr new")
    await slack.submit("carol", slack.opened_view(), SCOPE)
    await slack.click("victor", cr_card(slack), "Assess impact")
    await slack.submit("victor", slack.opened_view(), ESTIMATE)
    await slack.open_home("alice")
    view = slack.api.last("views.publish")
    assert view.body["user_id"] == "UALICE"
    assert "ACME-CR-1" in json.dumps(view.view()["blocks"])
