"""Demos tied to a milestone (SQLite and PostgreSQL): the milestone phrase is taken out of the date and title;
the cards name the milestone; a demo not accepted turns each reason into a rectification item of that
milestone and offers the re-demo, pre-filled; an outcome never recorded reminds the client sponsor and PM the
next morning, once.

Clock: Mon 4 Jan 2027 08:00 UTC. alice (client sponsor, London), carol (client PM, New York)."""

from __future__ import annotations

from sqlalchemy import select

from bot.features.demos.service import reasons_of
from bot.features.milestones.forms import MAX_REASON, MAX_REASONS, reason_lines
from bot.shared.when import split_milestone
from storage.models import Timer
from storage.models.demos import Demo
from tests.features.demos.test_flow import confirm_button, flat
from tests.features.milestones.support import dms_to, items, posts
from tests.helpers import advance, click, make_engagement, reply_text, run, sent, submit


def test_the_milestone_phrase_is_neither_date_nor_title():
    assert split_milestone("next thu 3pm milestone ACME-M-1 | Sprint demo") == (
        "next thu 3pm | Sprint demo",
        "ACME-M-1",
    )
    assert split_milestone("milestone M-2 Sprint demo next thu 3pm") == ("Sprint demo next thu 3pm", "M-2")
    assert split_milestone("Milestone review next thu 3pm") == ("Milestone review next thu 3pm", None)
    assert split_milestone("next thu 3pm | Milestone 2 review") == ("next thu 3pm | Milestone 2 review", None)


async def test_demo_of_a_milestone_not_accepted_rectification_redemo_and_reminder(core):
    people = await make_engagement(core)
    alice, carol, victor = people["alice"], people["carol"], people["victor"]
    await run(core, victor, "/milestone add Go-live due feb 26 final")

    # A wrong milestone is refused and nothing is saved.
    r = await run(core, carol, "/demo schedule tomorrow 3pm milestone ACME-M-9 | Sprint demo")
    assert "There is no milestone ACME-M-9" in reply_text(r)
    r = await run(core, carol, "/demo schedule Sprint demo tomorrow 3pm Europe/London milestone ACME-M-1")
    card = r.private[0]
    assert ("Title", "Sprint demo") in [(f.label, f.value) for f in card.fields], flat(card)
    assert ("Milestone", "ACME-M-1 · Go-live") in [(f.label, f.value) for f in card.fields]
    done = await click(core, carol, "demo.confirm", confirm_button(r).value)
    assert "Scheduled ACME-DEMO-1: Sprint demo" in done.update.title
    await core.drain()
    announced = posts(core, "Demo scheduled: Sprint demo")[-1].card
    assert ("Milestone", "ACME-M-1 · Go-live") in [(f.label, f.value) for f in announced.fields]
    async with core.session_factory() as s:
        demo = await s.scalar(select(Demo))
        assert demo.milestone_id is not None
    # Moved (and moved back): the announcement still names the milestone.
    for when_ in ("tomorrow 4pm Europe/London", "tomorrow 3pm Europe/London"):
        r = await run(core, carol, f"/demo move 1 {when_}")
        await click(core, carol, "demo.confirm", confirm_button(r).value)
    await core.drain()
    moved = posts(core, "Demo moved: Sprint demo")
    assert len(moved) == 2
    assert ("Milestone", "ACME-M-1 · Go-live") in [(f.label, f.value) for f in moved[-1].card.fields]

    # Tue 5 Jan 15:00–16:00 London; nobody records the outcome.
    await advance(core, hours=32, minutes=5)
    assert posts(core, "How did the demo go? Sprint demo")
    assert "(milestone ACME-M-1 · Go-live)" in flat(posts(core, "How did the demo go?")[-1].card)
    async with core.session_factory() as s:
        keys = sorted(t.key for t in await s.scalars(select(Timer).where(Timer.kind == "demo.outcome_remind")))
        assert len(keys) == 2 and all(":outcome_remind:" in k for k in keys)
    # Wed 6 Jan 10:00 London: alice; 10:00 New York (15:00 UTC): carol. Once each.
    await advance(core, hours=17)
    assert not dms_to(core, "alice", "Outcome not recorded")  # 09:00 London: not yet
    await advance(core, hours=1)
    assert len(dms_to(core, "alice", "Outcome not recorded")) == 1 and not dms_to(core, "carol", "Outcome not")
    await advance(core, hours=5)
    assert len(dms_to(core, "carol", "Outcome not recorded")) == 1
    await advance(core, days=2)
    assert len(dms_to(core, "alice", "Outcome not recorded")) == 1
    assert len(dms_to(core, "carol", "Outcome not recorded")) == 1

    # Not accepted with two reasons: two rectification items of ACME-M-1, and the re-demo offered.
    button = next(b for b in dms_to(core, "alice", "Outcome not recorded")[0].card.buttons if "not_accepted" in b.value)
    r = await click(core, alice, "demo.outcome", button.value)
    r = await submit(core, alice, "demo.outcome", {"remarks": "- Totals wrong\n- Search is slow\n"}, r.form.state)
    assert "Recorded: Not accepted" in reply_text(r), reply_text(r)
    await core.drain()
    assert [(i.text, i.round) for i in await items(core)] == [("Totals wrong", 0), ("Search is slow", 0)]
    assert posts(core, "Rectification: ACME-M-1")
    result = [d for d in sent(core) if d.op == "update" and "Demo outcome: Sprint demo" in d.text][-1].card
    fields = {f.label: f.value for f in result.fields}
    assert fields["Rectification items"] == "ACME-M-1-R1, ACME-M-1-R2"
    redemo = next(b for b in result.buttons if b.action_id == "demo.redemo")
    assert redemo.label == "Schedule the re-demo"
    r = await click(core, victor, "demo.redemo", redemo.value)
    initial = {i.id: i.initial or "" for i in r.form.inputs}
    assert initial["title"] == "Re-demo: Sprint demo" and initial["milestone"] == "ACME-M-1"
    r = await submit(core, victor, "demo.new", {**initial, "when": "next thu 3pm"}, r.form.state)
    assert ("Milestone", "ACME-M-1 · Go-live") in [(f.label, f.value) for f in r.private[0].fields]
    # A wrong milestone in the form is a field error.
    r = await submit(core, victor, "demo.new", {**initial, "when": "next thu 3pm", "milestone": "M-7"}, {})
    assert "milestone" in r.errors


def test_not_accepted_remarks_are_read_as_a_rejections_reasons_within_the_milestones_bounds():
    """One rule for reasons typed one per line (the milestone's reject form and a demo's remarks); a demo's
    remarks were already accepted as its outcome, so they are bounded rather than refused."""
    remarks = "- Search is slow\n\n  • No   export \n" + "x" * 900 + "\n" + "\n".join(f"item {i}" for i in range(40))
    reasons = reasons_of(remarks)
    assert reasons[:2] == ("Search is slow", "No export")
    assert len(reasons) == MAX_REASONS and all(len(r) <= MAX_REASON for r in reasons)
    assert reasons[2].startswith("xxx") and len(reasons[2]) == MAX_REASON
    assert reason_lines("- Search is slow\n\n  • No   export ") == ("Search is slow", "No export")
