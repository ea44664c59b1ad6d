"""Forms, DMs, series moves and the text outcome command."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storage.models.demos import Demo, DemoOccurrence, DemoOutcome
from tests.helpers import advance, click, dm, make_engagement, reply_text, run, sent, submit

UTC = UTC
NY = ZoneInfo("America/New_York")


async def test_form_refuses_per_field_then_confirms(core):
    people = await make_engagement(core)
    r = await run(core, people["carol"], "/demo new")
    assert r.form is not None and r.form.form_id == "demo.new"
    bad = await submit(
        core, people["carol"], "demo.new", {"title": "Review", "when": "on the 5th 3pm", "duration": "lots"}
    )
    assert set(bad.errors) == {"duration"}
    bad = await submit(
        core, people["carol"], "demo.new", {"title": "Review", "when": "on the 5th 3pm", "duration": "45"}
    )
    assert "no month" in bad.errors["when"]
    ok = await submit(core, people["carol"], "demo.new", {"title": "Review", "when": "tomorrow 9am", "duration": "45"})
    assert not ok.errors and "Duration: 45 min" in reply_text(ok)
    await click(core, people["carol"], "demo.confirm", ok.private[0].buttons[0].value)
    async with core.session_factory() as s:
        demo = await s.scalar(select(Demo))
        assert demo.title == "Review" and demo.duration_minutes == 45


async def test_schedule_from_a_dm_announces_in_the_home_channel(core):
    people = await make_engagement(core)
    r = await run(
        core, people["victor"], "/demo schedule next thu 3pm Europe/Berlin | Sprint 5", where=dm(people["victor"])
    )
    assert "Thu 7 Jan 2027 15:00 Europe/Berlin" in reply_text(r)
    assert "Thu 7 Jan 2027 19:30 Asia/Kolkata" in reply_text(r)  # Victor's own zone
    await click(core, people["victor"], "demo.confirm", r.private[0].buttons[0].value, where=dm(people["victor"]))
    await core.drain()
    assert [d for d in sent(core) if "Demo scheduled: Sprint 5" in d.text and d.channel_id == "general"]


async def test_move_a_series_to_a_new_day(core):
    people = await make_engagement(core)
    r = await run(core, people["carol"], "/demo schedule every other thursday at 3pm | Sprint demo")
    await click(core, people["carol"], "demo.confirm", r.private[0].buttons[0].value)
    r = await run(core, people["carol"], "/demo move 1 all next fri 10:00")
    assert "whole series" in reply_text(r) and "every 2 weeks on Friday" in reply_text(r)
    await click(core, people["carol"], "demo.confirm", r.private[0].buttons[0].value)
    async with core.session_factory() as s:
        demo = await s.scalar(select(Demo))
        assert demo.rrule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR" and demo.sequence == 1
        occs = list(await s.scalars(select(DemoOccurrence).order_by(DemoOccurrence.id)))
        assert [o.status for o in occs] == ["replaced", "scheduled"]
        assert occs[1].starts_at == datetime(2027, 1, 8, 10, tzinfo=NY)
    await core.drain()
    await advance(core, days=3, hours=12)  # Thu 20:00 UTC: the old Thursday slot passes silently
    assert not [d for d in sent(core) if "Demo in 1 hour" in d.text or "How did" in d.text]
    await advance(core, hours=18)  # Fri 14:00 UTC = 09:00 New York: one hour before the new slot
    texts = [d.text for d in sent(core) if "Demo in 1 hour" in d.text]
    assert len(texts) == 1 and "Fri 8 Jan" in texts[0]


async def test_outcome_by_command(core):
    people = await make_engagement(core)
    r = await run(core, people["carol"], "/demo schedule tomorrow 10:00 | Demo A")
    await click(core, people["carol"], "demo.confirm", r.private[0].buttons[0].value)
    r = await run(core, people["carol"], "/demo outcome 1 accepted")
    assert "has not taken place" in reply_text(r)
    await advance(core, days=2)
    r = await run(core, people["carol"], "/demo outcome 1 rejected")
    assert "Reasons are required" in reply_text(r)
    r = await run(core, people["lena"], "/demo outcome 1 rejected totals wrong")
    assert "Only the client side" in reply_text(r)
    r = await run(core, people["carol"], "/demo outcome 1 rejected totals wrong")
    assert "Recorded: Not accepted" in reply_text(r)
    async with core.session_factory() as s:
        row = await s.scalar(select(DemoOutcome))
        assert row.outcome == "not_accepted" and row.remarks == "totals wrong"
    h = reply_text(await run(core, people["alice"], "/demo history"))
    assert "Not accepted by Carol" in h


async def test_ids_and_unknowns(core):
    people = await make_engagement(core)
    for text, why in [
        ("/demo cancel 9", "no demo ACME-DEMO-9"),
        ("/demo cancel xyz", "not a demo id"),
        ("/demo cancel OTHER-DEMO-1", "belongs to OTHER"),
        ("/demo move 1", "Usage"),
    ]:
        assert why in reply_text(await run(core, people["carol"], text)), text


async def test_home_shows_next_demos_and_what_they_wait_for(core):
    people = await make_engagement(core)
    r = await run(core, people["carol"], "/demo schedule tomorrow 10:00 | Demo A")
    await click(core, people["carol"], "demo.confirm", r.private[0].buttons[0].value)
    cards = await core.home(people["victor"])
    demo_cards = [c for c in cards if c.title == "Demos · ACME"]
    assert demo_cards and "ACME-DEMO-1 · Demo A" in demo_cards[0].text
    assert [b.action_id for b in demo_cards[0].buttons] == ["demo.agenda_open"]
    await advance(core, days=2)
    cards = await core.home(people["alice"])
    section = [s for c in cards if c.title == "Demos · ACME" for s in c.sections]
    assert section and "Outcome needed" in section[0].title
    value = next(b.value for b in section[0].buttons if b.value.endswith(":accepted"))
    await click(core, people["alice"], "demo.outcome", value)
    cards = await core.home(people["alice"])
    assert not [c for c in cards if c.title == "Demos · ACME"]


async def test_late_agenda_item_edits_the_posted_reminder(core):
    people = await make_engagement(core)
    r = await run(core, people["carol"], "/demo schedule tomorrow 15:00 | Demo A")  # Tue 20:00 UTC
    await click(core, people["carol"], "demo.confirm", r.private[0].buttons[0].value)
    await advance(core, hours=35)  # the 1 h reminder is out
    assert [d for d in sent(core) if "Demo in 1 hour" in d.text and "Nobody has sent" in d.text]
    r = await run(core, people["lena"], "/demo agenda 1 Search filters")
    assert "added to the reminder already posted" in reply_text(r)
    await core.drain()
    edits = [d for d in sent(core) if d.op == "update" and "Demo in 1 hour" in d.text]
    assert edits and "Lena: Search filters" in edits[-1].text


async def test_concurrent_confirms(core):
    import asyncio

    from sqlalchemy import func

    people = await make_engagement(core)
    a = await run(core, people["carol"], "/demo schedule tomorrow 10:00 | Demo A")
    b = await run(core, people["victor"], "/demo schedule tomorrow 11:00 | Demo B")
    va, vb = a.private[0].buttons[0].value, b.private[0].buttons[0].value
    results = await asyncio.gather(
        click(core, people["carol"], "demo.confirm", va),
        click(core, people["carol"], "demo.confirm", va),
        click(core, people["victor"], "demo.confirm", vb),
    )
    titles = sorted(r.update.title for r in results if r.update is not None)
    assert titles[0] == "Already scheduled" and len(titles) == 3, [reply_text(r) for r in results]
    async with core.session_factory() as s:
        assert await s.scalar(select(func.count()).select_from(Demo)) == 2
        assert sorted(await s.scalars(select(Demo.number))) == [1, 2]
