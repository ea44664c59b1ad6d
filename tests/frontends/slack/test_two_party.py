"""Issue 18's scenarios on Slack, over signed HTTP: neither side rewrites the rules alone."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from storage.models import Engagement
from storage.models.change_requests import ChangeRequest
from storage.models.contract import ContractChange
from tests.frontends.slack.harness import HOME

SCOPE = {
    "title": "Free work",
    "description": "Everything, for nothing.",
    "business_reason": "Because",
    "priority": "high",
    "wanted_by": "",
}


async def seat(slack) -> None:
    for name, tz in (("alice", "Europe/London"), ("victor", "Asia/Kolkata"), ("lena", "Asia/Kolkata")):
        slack.user(name, tz=tz)
    await slack.command("alice", "/cadence setup ACME Acme portal as client_sponsor")
    for who in ("victor", "lena"):
        await slack.command(who, "/cadence whoami")
    await slack.command("alice", f"/cadence role {slack.mention('victor')} vendor_pm")
    await slack.command("victor", f"/cadence role {slack.mention('lena')} vendor_lead")
    await slack.settle()


def dump(message: dict) -> str:
    return json.dumps(message.get("blocks")) + message.get("text", "")


async def test_vendor_pm_cannot_seat_herself_on_the_client_side(slack, core):
    await seat(slack)
    await slack.command("victor", f"/cadence role {slack.mention('victor')} client_sponsor")
    assert "one side only" in slack.last_private("victor")
    await slack.command("victor", f"/cadence role {slack.mention('alice')} -client_sponsor")
    assert "Only the client side" in slack.last_private("victor")
    await slack.settle()
    seats = [m for m in slack.posts(HOME) if "Seats in ACME" in dump(m)]
    assert len(seats) == 2  # victor, lena (the set-up card seated alice): the refusals said nothing


async def test_sla_change_is_a_proposal_the_other_side_approves_by_button(slack, core):
    await seat(slack)
    await slack.command("victor", "/defect policy s1 resolution 72h")
    assert "client side approves" in slack.last_private("victor")
    await slack.settle()
    card = next(m for m in slack.posts(HOME) if "amendment #1" in dump(m))
    assert "resolution 24h" in dump(card) and "resolution 72h" in dump(card)
    # Lena is on the proposer's side: her click is refused and changes nothing.
    await slack.click("lena", card, "Approve")
    await slack.settle()
    assert "only the other side" in slack.last_private("lena")
    async with core.session_factory() as s:
        assert (await s.scalar(select(ContractChange))).status == "pending"
    await slack.click("alice", card, "Approve")
    await slack.settle()
    async with core.session_factory() as s:
        assert (await s.scalar(select(ContractChange))).status == "approved"
        eng = await s.scalar(select(Engagement).where(Engagement.key == "ACME"))
        assert eng.settings["defect"]["s1"]["resolution"] == "72h"
    card = next(m for m in slack.posts(HOME) if "amendment #1" in dump(m))
    assert "Approved" in dump(card) and "Approve" not in [
        el["text"]["text"] for b in card["blocks"] if b["type"] == "actions" for el in b["elements"]
    ]
    assert any("was approved by" in dump(m) for m in slack.posts(HOME))


async def test_outsider_files_nothing_and_a_forged_channel_in_a_modal_is_refused(slack, core):
    await seat(slack)
    slack.user("mallory", tz="UTC")
    await slack.command("mallory", "/cr new Free work")
    assert "not a member of ACME" in slack.last_private("mallory")
    # Mallory opens the form in her own channel (her engagement BETA) and points its hidden channel at ACME's.
    await slack.command("mallory", "/cadence setup BETA Beta", channel="C0BETA", channel_name="beta")
    await slack.command("mallory", "/cr new Free work", channel="C0BETA", channel_name="beta")
    view = slack.opened_view()
    meta = json.loads(view["private_metadata"])
    meta["c"] = HOME
    view["private_metadata"] = json.dumps(meta)
    r = await slack.submit("mallory", view, SCOPE)
    assert r.status == 200
    await slack.settle()
    assert "not a member of ACME" in slack.last_private("mallory")
    async with core.session_factory() as s:
        assert await s.scalar(select(func.count()).select_from(ChangeRequest)) == 0
