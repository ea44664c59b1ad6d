"""Milestones on the console core (SQLite and PostgreSQL): the plan, submission with its acceptance card,
rejection into rectification items, the next round, the final acceptance and its warranty; who may do
what; bad input that changes nothing."""

from __future__ import annotations

from datetime import date

from bot.features.milestones import forms
from tests.features.milestones.support import (
    acceptance,
    card_text,
    dms_to,
    items,
    milestone,
    person_id,
    posts,
    said,
    steps,
    timers,
)
from tests.helpers import click, make_engagement, run, submit


async def test_plan_submit_reject_resubmit_accept_final(core):
    people = await make_engagement(core)
    alice, carol, victor, dev = people["alice"], people["carol"], people["victor"], people["dev"]
    r = await run(core, victor, "/milestone add Go-live due feb 26 final")
    assert "Added ACME-M-1 “Go-live”, due Fri 26 Feb 2027" in said(r) and "Asia/Kolkata" in said(r), said(r)
    await core.drain()
    assert posts(core, "New milestone ACME-M-1 · Go-live")
    r = await run(core, victor, "/milestone criteria ACME-M-1 | All UAT scripts pass\nNo S1 open")
    assert "Saved" in said(r)
    r = await run(core, dev, "/milestone submit ACME-M-1 | Release 1.0 https://staging.example.com")
    assert "Only the vendor lead or vendor pm can submit" in said(r) and r.refused
    r = await run(core, victor, "/milestone submit ACME-M-1 | Release 1.0 https://staging.example.com")
    assert "round 1" in said(r), said(r)
    await core.drain()
    card = posts(core, "Acceptance: ACME-M-1")[-1].card
    text = card_text(card)
    assert "final milestone: accepting it is the project acceptance" in text
    assert "All UAT scripts pass" in text and "0 open critical (S1)" in text and "is met" in text
    assert "10 business days" in text
    approvers = {await person_id(core, "alice"), await person_id(core, "carol")}
    assert [b.label for b in card.buttons] == ["Accept", "Accept with remarks", "Reject"]
    assert all(set(b.allowed) == approvers for b in card.buttons)
    value = card.buttons[0].value

    # Anyone but the client sponsor or PM is told why not; nothing changes.
    r = await click(core, victor, "milestone.accept", value)
    assert "Only the client sponsor or client PM" in said(r)
    assert (await milestone(core)).state == "submitted"

    r = await click(core, alice, "milestone.reject", value)
    assert r.form is not None and r.form.form_id == forms.REJECT
    state = r.form.state
    r = await submit(core, alice, forms.REJECT, {"reasons": "  \n "}, state)
    assert "reasons" in r.errors
    r = await submit(core, alice, forms.REJECT, {"reasons": "VAT column missing\n- Login not translated\n"}, state)
    assert "2 rectification items" in said(r), said(r)
    await core.drain()
    m = await milestone(core)
    assert m.state == "rejected" and m.round == 1
    its = await items(core)
    assert [i.text for i in its] == ["VAT column missing", "Login not translated"]
    assert its[0].due_date == date(2027, 1, 11)  # 5 business days after Mon 4 Jan (London)
    # A second decision on the decided round is refused.
    r = await click(core, carol, "milestone.accept", value)
    assert "not waiting for a decision" in said(r) and r.refused

    items_card = posts(core, "Rectification: ACME-M-1")[-1].card
    r = await click(core, dev, "milestone.done", items_card.buttons[0].value)
    assert "Marked ACME-M-1-R1 done" in said(r)
    r = await run(core, dev, "/milestone done ACME-M-1-R2")
    assert "Every item of round 1 is done" in said(r)
    r = await run(core, dev, "/milestone done ACME-M-1-R2")
    assert "already marked done" in said(r)

    r = await run(core, victor, "/milestone submit 1 | Release 1.1 with VAT and translations")
    assert "round 2" in said(r)
    await core.drain()
    card2 = posts(core, "(round 2)")[-1].card
    r = await click(core, carol, "milestone.remarks", card2.buttons[1].value)
    r = await submit(core, carol, forms.REMARKS, {"remarks": "Docs to follow"}, r.form.state)
    assert "That is the project acceptance" in said(r), said(r)
    await core.drain()
    m = await milestone(core)
    assert m.state == "accepted" and m.round == 2
    record = await acceptance(core)
    assert record.remarks == "Docs to follow" and record.warranty_months == 6
    assert record.accepted_on == date(2027, 1, 4) and record.warranty_until == date(2027, 7, 4)
    assert posts(core, "project accepted — the warranty has started")
    assert [s[0] for s in await steps(core, m.id)] == [
        "added",
        "criteria_set",
        "submitted",
        "rejected",
        "rectified",
        "rectified",
        "submitted",
        "accepted_with_remarks",
    ]
    review = await timers(core, "milestone.warranty_review:")
    assert len(review) == 1 and review[0].due_at.date() == date(2027, 6, 4)
    r = await run(core, alice, "/milestone show ACME-M-1")
    assert "Round 2" in said(r) and "ACME-M-1-R1" in said(r) and "Accepted with remarks" in said(r)
    r = await run(core, alice, "/milestone list")
    assert "warranty until Sun 4 Jul 2027" in said(r)


async def test_bad_input_is_refused_and_changes_nothing(core):
    people = await make_engagement(core)
    victor, quinn = people["victor"], people["quinn"]
    for text, expected in [
        ("/milestone add Beta due feb 30", "February has"),
        ("/milestone add Beta due last monday", "past"),
        ("/milestone add due march 3", "title"),
        ("/milestone add Beta", "no date"),
        ("/milestone add Beta due next blursday", "blursday"),
    ]:
        r = await run(core, victor, text)
        assert r.refused and expected in said(r), (text, said(r))
    r = await run(core, quinn, "/milestone add Beta due march 3")
    assert r.refused and "Only" in said(r)
    assert await milestone(core) is None
    await run(core, victor, "/milestone add Beta due march 3 final")
    r = await run(core, victor, "/milestone add Other due march 4 final")
    assert r.refused and "already the final milestone" in said(r)
    r = await run(core, victor, "/milestone show ACME-M-9")
    assert r.refused and "no milestone ACME-M-9" in said(r)
    r = await run(core, victor, "/milestone done ACME-M-1-R1")
    assert r.refused and "no rectification item R1" in said(r)


async def test_moving_a_due_date_needs_the_other_sides_approval(core):
    people = await make_engagement(core)
    victor, alice = people["victor"], people["alice"]
    await run(core, victor, "/milestone add Beta due march 3")
    r = await run(core, victor, "/milestone edit ACME-M-1 due march 10")
    assert "Proposed moving ACME-M-1" in said(r) and (await milestone(core)).due_date == date(2027, 3, 3)
    await core.drain()
    card = posts(core, "Due date of ACME-M-1")[-1].card
    assert set(card.buttons[0].allowed) == {await person_id(core, "alice"), await person_id(core, "carol")}
    r = await click(core, victor, "milestone.change_approve", card.buttons[0].value)
    assert r.refused and "only the other side's admins" in said(r)
    r = await click(core, alice, "milestone.change_approve", card.buttons[0].value)
    assert "You approved" in said(r)
    assert (await milestone(core)).due_date == date(2027, 3, 10)
    r = await click(core, people["carol"], "milestone.change_reject", card.buttons[0].value)
    assert r.refused and "already approved" in said(r)
    # The reminders follow the new date: three business days before, at each vendor admin's morning.
    soon = await timers(core, "milestone.due_soon:")
    assert {t.key.rsplit(":", 1)[1] for t in soon} == {"2027-03-05"}
    assert len(soon) == 2  # victor and lena


async def test_due_reminders_the_day_and_overdue_once(core):
    people = await make_engagement(core)
    await run(core, people["victor"], "/milestone add Beta due jan 8")  # Friday
    await core.drain()
    core.clock.set(core.clock.now().replace(day=9, hour=12))  # Saturday noon: everything before is due
    await core.drain()
    assert len(dms_to(core, "victor", "is due Fri 8 Jan 2027")) == 1
    assert len(dms_to(core, "lena", "is due Fri 8 Jan 2027")) == 1
    assert len(posts(core, "is due today")) == 1
    assert len(posts(core, "is overdue")) == 1
    core.clock.set(core.clock.now().replace(day=12))
    await core.drain()
    assert len(posts(core, "is overdue")) == 1
