"""Issue 18's scenarios on Teams, through the Bot Connector stand-in: neither side rewrites the rules alone."""

from __future__ import annotations

import copy

from sqlalchemy import func, select

from handlers.teams.cards import DATA_KEY
from storage.models import Engagement
from storage.models.change_requests import ChangeRequest
from storage.models.contract import ContractChange
from tests.frontends.teams.harness import find_action


def mention(name: str) -> dict:
    return {
        "type": "mention",
        "text": f"<at>{name.capitalize()}</at>",
        "mentioned": {"id": f"29:{name}", "name": name.capitalize()},
    }


async def seat(teams):
    asha, victor = teams.user("asha", tz="Europe/London"), teams.user("victor", tz="Asia/Kolkata")
    general = teams.channel("general")
    await teams.say(asha, "cadence setup ACME Acme web shop as client_sponsor", where=general)
    await teams.say(victor, "cadence whoami", where=general)
    r = await teams.say(asha, "cadence role <at>Victor</at> vendor_pm", where=general, entities=[mention("victor")])
    assert "Announced" in r.text, r.text
    await teams.drain()
    return asha, victor, general


async def test_vendor_pm_cannot_take_the_client_side_and_terms_need_the_client(teams):
    asha, victor, general = await seat(teams)
    r = await teams.say(
        victor, "cadence role <at>Victor</at> client_sponsor", where=general, entities=[mention("victor")]
    )
    assert "one side only" in r.text
    r = await teams.say(victor, "cadence role <at>Asha</at> -client_sponsor", where=general, entities=[mention("asha")])
    assert "Only the client side" in r.text
    # The contingency is a contract term: a proposal in the channel, no effect until the client approves.
    r = await teams.say(victor, "cadence settings contingency 40", where=general)
    assert "Proposed Contingency" in r.text, r.text
    await teams.drain()
    card = next(c for c in teams.connector.sent(general.id) if "ACME contract amendment #1" in c.text_dump())
    assert "15 % of the budget → 40 % of the budget" in card.text_dump()
    # Each side's admins see the buttons that are theirs (Teams user-specific views): Asha decides, Victor
    # may withdraw; the card everyone sees says so instead of showing them.
    assert card.cards()[0]["refresh"]["userIds"] == [asha.bf_id, victor.bf_id]
    assert "Approve / Reject: for Asha" in card.text_dump() and "Withdraw: for Victor" in card.text_dump()
    asha_view, victor_view = await teams.view(asha, card), await teams.view(victor, card)
    assert [a["title"] for a in asha_view["actions"]] == ["Approve", "Reject"]
    assert [a["title"] for a in victor_view["actions"]] == ["Withdraw"]
    # Victor presses Approve anyway (a client that shows every button): refused, nothing changes.
    r = await teams.click(victor, asha_view, "Approve", where=general, message_id=teams._message_id(card))
    assert "only the other side" in r.text
    async with teams.core.session_factory() as s:
        assert (await s.scalar(select(Engagement))).contingency_pct == 15.0
    r = await teams.click(asha, asha_view, "Approve", where=general, message_id=teams._message_id(card))
    assert r.status == 200 and "You approved amendment #1" in r.text, r.text
    async with teams.core.session_factory() as s:
        assert (await s.scalar(select(Engagement))).contingency_pct == 40.0
        assert (await s.scalar(select(ContractChange))).decided_by_id is not None
    await teams.drain()
    assert any("was approved by" in t for t in teams.connector.texts(general.id))


async def test_outsider_in_the_channel_files_nothing(teams):
    _, _, general = await seat(teams)
    mallory = teams.user("mallory", tz="UTC")
    r = await teams.say(mallory, "cr new Free work", where=general)
    assert "not a member of ACME" in r.text and "Asha (client sponsor)" in r.text, r.text
    r = await teams.say(mallory, "defect s1 Everything is down", where=general)
    assert "not a member of ACME" in r.text
    async with teams.core.session_factory() as s:
        assert await s.scalar(select(func.count()).select_from(ChangeRequest)) == 0


async def test_forged_form_state_naming_another_engagement_is_refused(teams):
    await seat(teams)
    mallory = teams.user("mallory", tz="UTC")
    beta = teams.channel("beta")
    await teams.say(mallory, "cadence setup BETA Beta", where=beta)
    r = await teams.say(mallory, "cr new Free work", where=beta)
    launcher = next(c for c in reversed(r.replies) if c.cards()).cards()[0]
    async with teams.core.session_factory() as s:
        acme = await s.scalar(select(Engagement).where(Engagement.key == "ACME"))
    # The form opens in a dialog; its submission's hidden state is rewritten to name ACME, as a forger would.
    dialog = await teams.open_dialog(mallory, launcher, where=beta)
    data = copy.deepcopy(find_action(dialog, "Submit").get("data") or {})
    data[DATA_KEY]["state"] = {"engagement_id": acme.id}
    data.update({"title": "Free work", "description": "All of it", "business_reason": "Because", "priority": "high"})
    r = await teams.post(teams.activity(mallory, beta, type="invoke", name="task/submit", value={"data": data}))
    assert r.status == 200
    assert "acts on ACME" in r.text, r.text
    async with teams.core.session_factory() as s:
        assert await s.scalar(select(func.count()).select_from(ChangeRequest)) == 0
