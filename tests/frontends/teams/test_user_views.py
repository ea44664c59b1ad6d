"""Teams user-specific views (issue 24, item 6), through the real app and the Bot Connector stand-in: a change
request's Approve / Reject are shown in the channel only to its approvers, each in their own view of the card
(Universal Actions `refresh`); everyone else sees who decides. A forged refresh shows nothing."""

from __future__ import annotations

import json

from sqlalchemy import select

from handlers.teams.cards import DATA_KEY
from storage.models.change_requests import ChangeRequest
from tests.frontends.teams.harness import card_text
from tests.standins.bot_connector import Call


def _mention(key: str) -> list[dict]:
    name = key.capitalize()
    return [{"type": "mention", "text": f"<at>{name}</at>", "mentioned": {"id": f"29:{key}", "name": name}}]


def actions(content: dict) -> list[str]:
    return [a["title"] for a in content.get("actions", [])]


def cr_card(teams, conv) -> Call:
    """ACME-CR-1's card in the channel as it stands (its latest update, else the post)."""
    calls = [
        c
        for c in [*teams.connector.sent(conv.id), *teams.connector.updates(conv.id)]
        if "ACME-CR-1 · " in c.text_dump() and "Requested by" in c.text_dump()
    ]
    assert calls, teams.connector.texts(conv.id)
    return calls[-1]


async def pending_request(teams):
    """ACME in #general: Asha client sponsor, Victor vendor PM (the approvers), Dev developer, who files
    ACME-CR-1; Victor estimates it, so it waits for Asha and Victor."""
    asha, victor, dev = (
        teams.user("asha", tz="Europe/London"),
        teams.user("victor", tz="Asia/Kolkata"),
        teams.user("dev", tz="Asia/Kathmandu"),
    )
    general = teams.channel("general")
    await teams.say(asha, "cadence setup ACME Acme web shop as client_sponsor", where=general)
    for user in (victor, dev):
        await teams.say(user, "cadence whoami", where=general)
    for seater, user, role in ((asha, victor, "vendor_pm"), (victor, dev, "developer")):
        text = f"cadence role <at>{user.name}</at> {role}"
        r = await teams.say(seater, text, where=general, entities=_mention(user.key))
        assert "Announced" in r.text, r.text
    r = await teams.say(dev, "cr new Add SSO", where=general)
    form = [c for c in r.replies if "Business reason" in c.text_dump()][-1]
    fields = {"title": "Add SSO", "description": "Log in with the IdP", "business_reason": "Audit", "priority": "high"}
    assert (await teams.click(dev, form, "Submit", inputs=fields)).status == 200
    r = await teams.say(victor, "cr assess ACME-CR-1", where=general)
    form = [c for c in r.replies if "Effort (hours)" in c.text_dump()][-1]
    estimate = {"effort_hours": "40", "cost": "6000", "schedule_impact_days": "5", "risk": "medium"}
    r = await teams.click(victor, form, "Save estimate", inputs=estimate)
    assert "sent for approval" in r.text, r.text
    await teams.drain()
    card = cr_card(teams, general)
    assert "Pending approval" in card.text_dump()
    return asha, victor, dev, general, card


async def test_only_the_approvers_see_approve_and_reject_in_the_channel(teams):
    asha, victor, dev, _, card = await pending_request(teams)
    base = card.cards()[0]
    # The card everyone sees: who decides instead of the buttons, and a refresh for exactly the approvers.
    assert base["refresh"]["userIds"] == [asha.bf_id, victor.bf_id]
    assert "Approve" not in actions(base) and "Reject" not in actions(base)
    assert "Approve / Reject: for Asha and Victor" in card_text(base)
    assert "Ask a question" in actions(base)  # open to everyone: shown to everyone

    # An approver's Teams client refreshes the card: their view has the buttons (and keeps its refresh).
    r = await teams.refresh(victor, card)
    assert r.status == 200 and r.body["type"] == "application/vnd.microsoft.card.adaptive"
    mine = r.card()
    assert actions(mine)[:2] == ["Approve", "Reject"] and "Approve / Reject: for" not in card_text(mine)
    assert mine["refresh"]["userIds"] == [asha.bf_id, victor.bf_id]
    assert "Pending approval" in card_text(mine) and "ACME-CR-1 · Add SSO" in card_text(mine)

    # Anyone else who refreshes (by hand) gets the card everyone sees; the requester cannot approve either.
    theirs = (await teams.refresh(dev, card)).card()
    assert "Approve" not in actions(theirs) and "Approve / Reject: for Asha and Victor" in card_text(theirs)
    assert await teams.view(dev, card) == base  # not listed: Teams does not refresh it for him at all
    async with teams.core.session_factory() as s:
        assert (await s.scalar(select(ChangeRequest))).state == "pending_approval"


async def test_an_approver_decides_from_their_own_view_and_the_card_follows(teams):
    asha, victor, dev, general, card = await pending_request(teams)
    card_id = teams._message_id(card)
    # Victor presses Approve in his view of the channel's card.
    r = await teams.click(victor, await teams.view(victor, card), "Approve", where=general, message_id=card_id)
    assert r.status == 200 and "You approved ACME-CR-1. Still waiting for Asha" in r.text, r.text
    # The card is edited in place for everyone: still waiting for Asha, still without buttons but in her view.
    await teams.drain()
    card = cr_card(teams, general)
    assert card.kind == "update" and card.activity_id == card_id
    updated = card.cards()[0]
    assert "Approve" not in actions(updated) and updated["refresh"]["userIds"] == [asha.bf_id, victor.bf_id]
    assert "✅" in card_text(updated) and "Approve" in actions(await teams.view(asha, card))

    # The requester pressing anyway (a client without refresh, or a forged press) is refused; nothing changes.
    r = await teams.click(dev, await teams.view(asha, card), "Approve", where=general, message_id=card_id)
    assert "You requested ACME-CR-1, so you can't approve or reject it" in r.text and r.updates == []

    # Asha approves from her view: decided, and nobody has anything left to press.
    r = await teams.click(asha, await teams.view(asha, card), "Approve", where=general, message_id=card_id)
    assert "ACME-CR-1 is approved" in r.text, r.text
    await teams.drain()
    final = cr_card(teams, general).cards()[0]
    assert "Approved" in card_text(final) and "Approve" not in actions(final) and "refresh" not in final
    async with teams.core.session_factory() as s:
        assert (await s.scalar(select(ChangeRequest))).state == "approved"


async def test_a_forged_refresh_shows_nothing_of_another_engagement(teams):
    _, victor, _, _, card = await pending_request(teams)
    mallory = teams.user("mallory", tz="UTC")
    beta = teams.channel("beta")
    await teams.say(mallory, "cadence setup BETA Beta", where=beta)
    # Mallory replays ACME's refresh data from her own engagement's channel.
    r = await teams.refresh(mallory, card, where=beta)
    assert r.status == 404 and r.body["type"] == "application/vnd.microsoft.error", r.body
    assert "ACME" not in json.dumps(r.body) and "Add SSO" not in json.dumps(r.body)
    # ... or in a 1:1 chat, or names a message that is not there, or sends no usable reference.
    r = await teams.refresh(mallory, card, where=teams.personal(mallory))
    assert r.status == 404 and "Add SSO" not in json.dumps(r.body)
    for data in (
        {DATA_KEY: {"t": "refresh", "o": 999_999}},
        {DATA_KEY: {"t": "refresh", "o": "1 or 1=1"}},
        {DATA_KEY: {"t": "refresh", "o": True}},
        {DATA_KEY: "x"},
        {},
    ):
        r = await teams.refresh(victor, card, data=data)
        assert r.status in (400, 404) and "Add SSO" not in json.dumps(r.body), (data, r.status, r.body)
    async with teams.core.session_factory() as s:
        assert (await s.scalar(select(ChangeRequest))).state == "pending_approval"
