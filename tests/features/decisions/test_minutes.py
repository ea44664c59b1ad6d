"""After a meeting: the organizer's button opens the form (only for a meeting of the clicker's engagement);
decisions and action items one per line, all linked to the meeting and posted in one card; a line that cannot
be read is refused with an error naming it, and nothing is saved."""

from __future__ import annotations

from datetime import timedelta

from bot.features.decisions import forms
from bot.features.decisions.cards import DISPUTE, DONE, MINUTES
from tests.features.decisions.support import action_items, card_text, decisions, meeting, posts, said
from tests.helpers import click, dm, make_engagement, submit


async def test_minutes_recorded_in_one_card(core, clock):
    people = await make_engagement(core)
    victor, carol = people["victor"], people["carol"]
    occ = await meeting(core, ends_at=clock.now() - timedelta(minutes=5))
    r = await click(core, victor, MINUTES, str(occ.id), where=dm(victor))
    assert r.form is not None and r.form.form_id == forms.MINUTES, said(r)
    state = r.form.state

    bad = {
        "decisions": "Beta slips a week\nShip it | CR-4",
        "actions": "Carol: send the sandbox keys by fri\nsomeone: do it by fri\nDev: fix the build",
    }
    r = await submit(core, victor, forms.MINUTES, bad, state, where=dm(victor))
    assert r.errors["decisions"].startswith("Line 2 “Ship it | CR-4”: There is no change request ACME-CR-4.")
    assert r.errors["actions"].startswith("Line 2 “someone: do it by fri”: “someone” is not one seated member")
    r = await submit(core, victor, forms.MINUTES, {"decisions": "", "actions": "Dev: fix the build"}, state)
    assert "Line 1" in r.errors["actions"] and "owner: what by when" in r.errors["actions"]
    r = await submit(core, victor, forms.MINUTES, {"decisions": "", "actions": "Dev: fix it by 2026-12-01"}, state)
    assert "which is past" in r.errors["actions"]
    r = await submit(core, victor, forms.MINUTES, {"decisions": " ", "actions": ""}, state)
    assert "at least one" in r.errors["decisions"]
    assert await decisions(core) == [] and await action_items(core) == []

    good = {
        "decisions": "- Beta slips a week\n\nSSO after the beta",
        "actions": "Carol: send the sandbox keys by fri\n@dev: fix the flaky login test by jan 6",
    }
    r = await submit(core, victor, forms.MINUTES, good, state, where=dm(victor))
    assert "Recorded ACME-DEC-1, ACME-DEC-2, ACME-A-1, ACME-A-2 from ACME-MTG-1 · Weekly sync" in said(r), said(r)
    await core.drain()
    [card] = [d.card for d in posts(core, "Decisions and action items · ACME-MTG-1 · Weekly sync")]
    text = card_text(card) + "".join(card_text(s) for s in card.sections)
    assert "Beta slips a week" in text and "send the sandbox keys" in text and "fix the flaky login test" in text
    assert [b.action_id for s in card.sections for b in s.buttons] == [DISPUTE, DISPUTE, DONE, DONE]
    assert all(d.meeting_ref == "ACME-MTG-1 · Weekly sync" and d.occurrence_id == occ.id for d in await decisions(core))
    items = await action_items(core)
    assert [(i.text, i.due_date.isoformat()) for i in items] == [
        ("send the sandbox keys", "2027-01-08"),
        ("fix the flaky login test", "2027-01-06"),
    ]
    assert not posts(core, "Decision ACME-DEC-1")  # no card of its own: the meeting's card holds it

    # A dispute edits the meeting's card in place.
    r = await click(core, carol, DISPUTE, card.sections[0].buttons[0].value)
    r = await submit(core, carol, forms.DISPUTE, {"reason": "Not agreed"}, r.form.state)
    assert "You disputed ACME-DEC-1" in said(r)
    await core.drain()
    update = [d for d in core.messengers["console"].log if d.op == "update"][-1]
    assert update.card.title.startswith("Decisions and action items") and "disputed" in update.card.sections[0].title


async def test_forged_or_foreign_meeting_refused(core, clock):
    people = await make_engagement(core)
    victor = people["victor"]
    other = await make_engagement(core, "BETA", channel="beta", members={"zed": ("UTC", ["client_pm"])})
    theirs = await meeting(core, key="BETA", ends_at=clock.now(), number=1)
    for value in ("", "abc", "999", str(theirs.id)):
        r = await click(core, victor, MINUTES, value, where=dm(victor))
        assert r.refused, value
    r = await submit(core, victor, forms.MINUTES, {"decisions": "x"}, {"occurrence_id": theirs.id}, where=dm(victor))
    assert r.refused
    r = await click(core, other["zed"], MINUTES, str(theirs.id), where=dm(other["zed"]))
    assert r.form is not None
