"""A standup blocker's third button, "Action for the client": the `action.new` form pre-filled with the blocker,
its owner picked among the client side's members (a vendor pick or a forged id refused per field), a due date;
saving tracks it as ACME-A-n linked back to the standup answer."""

from __future__ import annotations

from datetime import date

from bot.features.decisions import forms
from bot.features.standups.cards import TO_ACTION
from tests.features.decisions.support import action_items, blocker, person_id, posts, said
from tests.helpers import click, make_engagement, submit


async def test_blocker_becomes_an_action_for_the_client(core):
    people = await make_engagement(core)
    victor, dev = people["victor"], people["dev"]
    answer = await blocker(core, "dev", "Waiting for sandbox keys from Acme", date(2027, 1, 4))
    r = await click(core, dev, TO_ACTION, str(answer))
    form = r.form
    assert form is not None and form.form_id == forms.ACTION_NEW, said(r)
    inputs = {i.id: i for i in form.inputs}
    assert inputs["text"].initial == "Waiting for sandbox keys from Acme"
    assert [o.label for o in inputs["owner"].options] == ["Alice", "Carol"]  # the client side only
    assert form.state["from_standup_answer"] == answer and "owners" not in form.state

    carol = await person_id(core, "carol")
    vendor = await person_id(core, "victor")
    values = {"text": "Send the sandbox keys", "owner": str(vendor), "due": "2026-12-01"}
    r = await submit(core, dev, forms.ACTION_NEW, values, form.state)
    assert "not on the client side" in r.errors["owner"] and "past" in r.errors["due"]
    r = await submit(core, dev, forms.ACTION_NEW, {**values, "owner": "99999", "due": "2027-01-08"}, form.state)
    assert "owner" in r.errors
    assert await action_items(core) == []

    r = await submit(core, dev, forms.ACTION_NEW, {**values, "owner": str(carol), "due": "2027-01-08"}, form.state)
    assert "Tracked as ACME-A-1" in said(r) and "Fri 8 Jan 2027" in said(r), said(r)
    await core.drain()
    assert posts(core, "Action ACME-A-1")
    [item] = await action_items(core)
    assert item.owner_id == carol and item.from_standup_answer_id == answer

    # A forged standup answer id is not linked (and not another engagement's).
    state = {**form.state, "from_standup_answer": 424242}
    await submit(core, victor, forms.ACTION_NEW, {**values, "owner": str(carol), "due": "2027-01-09"}, state)
    assert (await action_items(core))[-1].from_standup_answer_id is None
