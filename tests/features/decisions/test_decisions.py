"""Decisions on the console core: recorded at once with who, when, the meeting that has just ended and a link
checked in this engagement; the card with its Dispute button; disputes by either side within 2 business days
of the home calendar (weekends and the client country's holidays skipped), refused after with the day it
closed; lists; bad input that changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.features.decisions import forms
from bot.features.decisions.cards import DISPUTE
from tests.features.decisions.support import (
    audit_steps,
    card_text,
    decisions,
    meeting,
    posts,
    said,
    set_engagement,
)
from tests.helpers import click, make_engagement, run, submit


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def test_record_post_and_dispute_by_each_side(core):
    people = await make_engagement(core)
    victor, carol, alice = people["victor"], people["carol"], people["alice"]
    r = await run(core, victor, "/decision We ship the beta without SSO")
    assert "Recorded ACME-DEC-1." in said(r) and "dispute it until" in said(r), said(r)
    await core.drain()
    card = posts(core, "Decision ACME-DEC-1")[-1].card
    text = card_text(card)
    assert "We ship the beta without SSO" in text and "Decided by" in text and "Victor" in text
    assert [b.label for b in card.buttons] == ["Dispute"]
    [d] = await decisions(core)
    # Mon 4 Jan 08:00 UTC in London: two business days → the window closes at the end of Wed 6 Jan.
    assert d.dispute_closes_at == at(2027, 1, 7, 0, 0)
    assert d.meeting_ref is None and d.link_ref is None
    assert await audit_steps(core, "decision") == [("recorded", "We ship the beta without SSO")]

    # The client PM disputes it from the card: the form, a reason required.
    r = await click(core, carol, DISPUTE, card.buttons[0].value)
    assert r.form is not None and r.form.form_id == forms.DISPUTE
    state = r.form.state
    r = await submit(core, carol, forms.DISPUTE, {"reason": "  "}, state)
    assert "reason" in r.errors
    r = await submit(core, carol, forms.DISPUTE, {"reason": "SSO is a launch blocker for us"}, state)
    assert "You disputed ACME-DEC-1" in said(r), said(r)
    await core.drain()
    assert posts(core, "(client side) disputed ACME-DEC-1")
    [d] = await decisions(core)
    assert d.dispute_reason == "SSO is a launch blocker for us" and d.disputed_at is not None
    updated = [x for x in core.messengers["console"].log if x.op == "update"]
    assert updated and "Disputed" in card_text(updated[-1].card) and not updated[-1].card.buttons
    # Once disputed, a second dispute (the other side, by command) is refused and changes nothing.
    r = await run(core, alice, "/decision dispute ACME-DEC-1 me too")
    assert r.refused and "already disputed" in said(r)
    assert [a for a, _ in await audit_steps(core, "decision")] == ["recorded", "disputed"]

    # The vendor side disputes another one by command.
    await run(core, carol, "/decision Weekly sync moves to Tuesdays")
    r = await run(core, victor, "/decision dispute DEC-2 Tuesdays clash with our sprint review")
    assert "You disputed ACME-DEC-2" in said(r)
    await core.drain()
    assert posts(core, "(vendor side) disputed ACME-DEC-2")

    r = await run(core, alice, "/decision list disputed")
    text = said(r)
    assert "ACME-DEC-1" in text and "ACME-DEC-2" in text and "disputed" in text
    r = await run(core, alice, "/decision list")
    assert "ACME-DEC-2" in said(r) and "Weekly sync moves to Tuesdays" in said(r)


async def test_window_counts_business_days_of_the_home_calendar(core, clock):
    people = await make_engagement(core)
    carol, victor = people["carol"], people["victor"]
    await set_engagement(core, home_tz="America/New_York", client_country="US")
    # Thu 14 Jan 2027 16:00 in New York; Mon 18 Jan is Martin Luther King Jr. Day: Fri 15 and Tue 19 count.
    clock.set(at(2027, 1, 14, 21, 0))
    await run(core, victor, "/decision The API stays on v2 until March")
    [d] = await decisions(core)
    assert d.dispute_closes_at == at(2027, 1, 20, 5, 0)  # midnight after Tue 19 Jan, New York
    clock.set(at(2027, 1, 20, 4, 59))  # 23:59 Tue in New York: still open
    r = await run(core, carol, "/decision dispute ACME-DEC-1")
    assert r.form is not None and r.form.form_id == forms.DISPUTE
    clock.set(at(2027, 1, 20, 5, 0))
    r = await click(core, carol, DISPUTE, str(d.id))
    assert r.refused and "window closed at the end of Tue 19 Jan 2027" in said(r), said(r)
    r = await run(core, carol, "/decision dispute ACME-DEC-1 too late?")
    assert r.refused and "Tue 19 Jan 2027" in said(r)
    assert (await decisions(core))[0].disputed_at is None


async def test_window_in_a_quarter_hour_zone(core, clock):
    people = await make_engagement(core)
    await set_engagement(core, home_tz="Asia/Kathmandu")
    clock.set(at(2027, 1, 8, 17, 0))  # Fri 22:45 in Kathmandu → Mon and Tue count
    await run(core, people["victor"], "/decision Freeze the schema")
    [d] = await decisions(core)
    assert d.dispute_closes_at == at(2027, 1, 12, 18, 15)  # midnight after Tue 12 Jan, +05:45


async def test_meeting_that_has_just_ended_and_links(core, clock):
    people = await make_engagement(core)
    victor, carol = people["victor"], people["carol"]
    await run(core, victor, "/milestone add Beta release due march 1")
    await run(core, carol, "/defect s3 Export is slow")
    await meeting(core, ends_at=clock.now() - timedelta(minutes=30))
    r = await run(core, carol, "/decision Beta slips a week | M-1")
    assert "Linked to ACME-M-1 · Beta release." in said(r) and "From ACME-MTG-1 · Weekly sync." in said(r), said(r)
    r = await run(core, victor, "/decision ACME-D-1 is fixed in the beta, not before")
    assert "Linked to ACME-D-1 · Export is slow" in said(r)
    await core.drain()
    text = card_text(posts(core, "Decision ACME-DEC-1")[-1].card)
    assert "Meeting: ACME-MTG-1 · Weekly sync" in text and "Link: ACME-M-1 · Beta release" in text
    d1, d2 = await decisions(core)
    assert d1.link_kind == "milestone" and d1.meeting_id is not None and d1.text == "Beta slips a week"
    assert d2.link_kind == "defect" and d2.text == "ACME-D-1 is fixed in the beta, not before"

    # Two hours after the meeting's end a decision no longer belongs to it.
    clock.set(clock.now() + timedelta(hours=2))
    await run(core, victor, "/decision Demo on Thursday")
    assert (await decisions(core))[-1].meeting_ref is None


async def test_bad_input_records_nothing(core):
    people = await make_engagement(core)
    victor = people["victor"]
    for text, expected in (
        ("/decision | M-1", "What was decided?"),
        ("/decision Ship it | CR-9", "There is no change request ACME-CR-9. Nothing was recorded."),
        ("/decision Ship it | ACME-D-4", "There is no defect ACME-D-4. Nothing was recorded."),
        ("/decision Ship it | tomorrow", "is none of them"),
        ("/decision Ship it, see OTHER-M-1", "not a milestone of ACME"),
        ("/decision dispute ACME-DEC-7 why", "There is no decision ACME-DEC-7"),
        ("/decision dispute", "Which decision?"),
    ):
        r = await run(core, victor, text)
        assert r.refused and expected in said(r), (text, said(r))
    assert await decisions(core) == []
    r = await run(core, victor, "/decision")
    assert "/decision dispute ACME-DEC-1 <reason>" in said(r) and "/decision list [disputed]" in said(r)
    # A forged button value or form state is refused, never a 500.
    for value in ("", "abc", "999"):
        r = await click(core, victor, DISPUTE, value)
        assert r.refused and "no longer exists" in said(r)
    r = await submit(core, victor, forms.DISPUTE, {"reason": "x"}, {"decision_id": "1; drop"})
    assert r.refused


async def test_another_engagements_decision_is_refused(core):
    people = await make_engagement(core)
    await run(core, people["victor"], "/decision Keep v2")
    other = await make_engagement(core, "BETA", channel="beta", members={"zed": ("UTC", ["client_pm"])})
    [d] = await decisions(core)
    r = await click(core, other["zed"], DISPUTE, str(d.id), where=None)
    assert r.refused
