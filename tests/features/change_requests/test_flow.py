"""A change request end to end on the console: intake, assessment, two-sided approval, scheduling,
delivery; the card edited in place at every step; every transition in the audit record."""

from __future__ import annotations

from bot.features.change_requests import forms
from tests.features.change_requests.support import (
    SCOPE,
    assess,
    decisions,
    dms_to,
    file_cr,
    get,
    posts,
    said,
    steps,
    transitions,
    updates,
)
from tests.helpers import click, make_engagement, reply_text, run, submit


async def test_full_flow(core):
    people = await make_engagement(core)
    cr = await file_cr(core, people["carol"])
    assert cr.number == 1 and cr.state == "submitted" and str(cr.wanted_by) == "2027-03-03"
    card_posts = posts(core, "ACME-CR-1 · Single sign-on")
    assert len(card_posts) == 1 and card_posts[0].channel_id == "general"
    assert [b.action_id for b in card_posts[0].card.buttons] == ["cr.assess", "cr.question"]
    assert dms_to(core, "victor", "New change request to assess")

    r = await assess(core, people["victor"], cr)
    assert "sent for approval" in reply_text(r)
    cr = await get(core, cr.id)
    assert cr.state == "pending_approval" and str(cr.cost) == "6000.00" and str(cr.effort_hours) == "40.00"
    # Approvers asked by DM: alice (client sponsor) and victor (vendor PM); carol requested it.
    assert dms_to(core, "alice", "Your decision is needed on ACME-CR-1")
    assert dms_to(core, "victor", "Your decision is needed on ACME-CR-1")
    assert not dms_to(core, "carol", "Your decision is needed")
    last = updates(core, "ACME-CR-1")[-1].card
    assert [b.action_id for b in last.buttons] == ["cr.approve", "cr.reject", "cr.question"]

    r = await click(core, people["alice"], "cr.approve", str(cr.id))
    assert "You approved ACME-CR-1" in reply_text(r) and "Still waiting for Victor" in reply_text(r)
    r = await click(core, people["victor"], "cr.approve", str(cr.id))
    assert "Quorum reached: ACME-CR-1 is approved" in reply_text(r)
    await core.drain()
    cr = await get(core, cr.id)
    assert cr.state == "approved"
    last = updates(core, "ACME-CR-1")[-1].card
    assert "Approved" in last.plain() and not last.buttons
    assert dms_to(core, "carol", "was approved")

    r = await run(core, people["victor"], "/cr schedule ACME-CR-1 march 1")
    assert "scheduled for Mon 1 Mar 2027" in reply_text(r)
    r = await run(core, people["lena"], "/cr deliver 1 shipped in 2.3")
    assert "delivered" in reply_text(r)
    assert (await get(core, cr.id)).state == "delivered"
    assert await transitions(core, cr.id) == [
        (None, "submitted"),
        ("submitted", "assessed"),
        ("assessed", "pending_approval"),
        ("pending_approval", "approved"),
        ("approved", "scheduled"),
        ("scheduled", "delivered"),
    ]
    entries = await steps(core, cr.id)
    assert [e.action for e in entries if e.action in ("approve",) and e.from_state == e.to_state] == ["approve"] * 2
    assert {e.actor_label for e in entries if e.action == "deliver"} == {"Lena"}
    assert len(await decisions(core, cr.id)) == 2
    # Each step edited the one card in place (no second post of it).
    assert len(posts(core, "ACME-CR-1 · Single sign-on")) == 1


async def test_intake_validation(sqlite_core):
    core = sqlite_core
    people = await make_engagement(core)
    r = await run(core, people["carol"], "/cr new Add SSO")
    assert next(i.initial for i in r.form.inputs if i.id == "title") == "Add SSO"
    bad = {**SCOPE, "title": "", "priority": "urgent!!", "wanted_by": "yesterday"}
    r = await submit(core, people["carol"], forms.NEW, bad, {})
    assert set(r.errors) == {"title", "priority", "wanted_by"}
    assert "in the past" in r.errors["wanted_by"] and "Sun 3 Jan 2027" in r.errors["wanted_by"]
    r = await submit(core, people["carol"], forms.NEW, {**SCOPE, "wanted_by": "the twelfth of never-ish"}, {})
    assert "couldn't read" in r.errors["wanted_by"]
    # Nothing was filed.
    r = await run(core, people["carol"], "/cr list all")
    assert "None." in reply_text(r)
    # Empty wanted-by is allowed; a standup blocker links back.
    r = await submit(core, people["carol"], forms.NEW, {**SCOPE, "wanted_by": ""}, {"from_standup_answer": 42})
    assert "Filed ACME-CR-1" in reply_text(r)
    r = await run(core, people["carol"], "/cr show ACME-CR-1")
    assert "standup blocker (answer #42)" in said(r)
