"""A minor change request through the real Teams front end (Bot Framework activities, connector stand-in), the
Teams twin of the Slack test: everyone in one channel — Asha client sponsor and Carol client PM (the client
approvers), Victor vendor PM, Dev developer. Dev files a request from the form's dialog, Victor estimates it
under the threshold (4 h, no cost), and the channel's card says it is a minor change, with Approve / Reject
shown only in the approvers' own views of the card. One client approver's click settles the client side (the
answer says it now waits for the vendor), Victor's click approves it, and the card shows it approved."""

from __future__ import annotations

from tests.frontends.teams.harness import card_text
from tests.standins.bot_connector import Call

MINOR_CARD = "Minor change (under 8 h, no cost): one approver of each side decides."
SCOPE = {
    "title": "Rename a button",
    "description": "Call it Checkout.",
    "business_reason": "Usability",
    "priority": "low",
}
ESTIMATE = {"effort_hours": "4", "cost": "0", "schedule_impact_days": "0", "risk": "low"}


def _mention(key: str) -> list[dict]:
    name = key.capitalize()
    return [{"type": "mention", "text": f"<at>{name}</at>", "mentioned": {"id": f"29:{key}", "name": name}}]


def _actions(content: dict) -> list[str]:
    return [a["title"] for a in content.get("actions", [])]


def _cr_card(teams, conv) -> Call:
    """ACME-CR-1's card in the channel as it stands (its latest update, else the post)."""
    calls = [
        c
        for c in [*teams.connector.sent(conv.id), *teams.connector.updates(conv.id)]
        if "ACME-CR-1 · " in c.text_dump() and "Requested by" in c.text_dump()
    ]
    assert calls, teams.connector.texts(conv.id)
    return calls[-1]


async def test_a_minor_change_is_approved_with_one_click_per_side_on_teams(teams):
    asha, carol, victor, dev = (
        teams.user("asha", tz="Europe/London"),
        teams.user("carol", tz="America/New_York"),
        teams.user("victor", tz="Asia/Kolkata"),
        teams.user("dev", tz="Asia/Kathmandu"),
    )
    general = teams.channel("general")
    await teams.say(asha, "cadence setup ACME Acme web shop as client_sponsor", where=general)
    for user in (carol, victor, dev):
        await teams.say(user, "cadence whoami", where=general)
    for seater, user, role in ((asha, carol, "client_pm"), (asha, victor, "vendor_pm"), (victor, dev, "developer")):
        text = f"cadence role <at>{user.name}</at> {role}"
        r = await teams.say(seater, text, where=general, entities=_mention(user.key))
        assert "Announced" in r.text, r.text
    await teams.drain()

    # Dev files the request: the form opens in a dialog from the channel.
    r = await teams.say(dev, "cr new Rename a button", where=general)
    form = [c for c in r.replies if "Business reason" in c.text_dump()][-1]
    assert (await teams.click(dev, form, "Submit", inputs=SCOPE)).status == 200
    # Victor estimates it under the threshold: 4 hours, no cost.
    r = await teams.say(victor, "cr assess ACME-CR-1", where=general)
    form = [c for c in r.replies if "Effort (hours)" in c.text_dump()][-1]
    r = await teams.click(victor, form, "Save estimate", inputs=ESTIMATE)
    assert "sent for approval" in r.text, r.text
    await teams.drain()

    # The channel's card: a minor change, any one approver of each side; the buttons only in approvers' views.
    card = _cr_card(teams, general)
    base = card.cards()[0]
    assert "Pending approval" in card_text(base) and MINOR_CARD in card_text(base), card_text(base)
    assert "Client side — any one must approve (waiting)" in card_text(base)
    assert base["refresh"]["userIds"] == [asha.bf_id, carol.bf_id, victor.bf_id]
    assert "Approve" not in _actions(base) and "Approve / Reject: for Asha, Carol and Victor" in card_text(base)
    for approver in (asha, carol, victor):
        assert _actions(await teams.view(approver, card))[:2] == ["Approve", "Reject"]
    assert "Approve" not in _actions(await teams.view(dev, card))  # the requester never decides

    # Carol's one click is enough for the client side: it now waits for the vendor only.
    card_id = teams._message_id(card)
    r = await teams.click(carol, await teams.view(carol, card), "Approve", where=general, message_id=card_id)
    assert r.status == 200 and "You approved ACME-CR-1. Still waiting for Victor." in r.text, r.text
    await teams.drain()
    card = _cr_card(teams, general)
    shown = card.text_dump()
    assert card.kind == "update" and "Pending approval" in shown and MINOR_CARD in shown, shown
    assert "Client side — any one must approve (✔ quorum reached)" in shown
    assert "Vendor side — any one must approve (waiting)" in shown

    # Victor's click decides it.
    r = await teams.click(victor, await teams.view(victor, card), "Approve", where=general, message_id=card_id)
    assert r.status == 200 and "Quorum reached: ACME-CR-1 is approved" in r.text, r.text
    await teams.drain()
    card = _cr_card(teams, general)
    final = card.cards()[0]
    assert card.kind == "update" and "Approved" in card_text(final), card_text(final)
    assert "Approve" not in _actions(final) and "refresh" not in final
