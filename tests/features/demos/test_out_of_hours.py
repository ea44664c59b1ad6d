"""A demo outside an invitee's working hours or on their day off: the confirmation warns before anything is
saved (who, their local time, why, the suggested slot), the organizer may confirm as is or take the suggested
start; a slot inside everyone's hours is confirmed as before. Clock: Mon 4 Jan 2027 08:00 UTC."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.features.demos import service
from bot.kernel import hours
from bot.kernel.text import strip_tokens
from storage.models.demos import Demo, DemoOccurrence
from tests.helpers import click, make_engagement, reply_text, run, submit

NY_BERLIN = {"carol": ("America/New_York", ["client_pm"]), "lena": ("Europe/Berlin", ["vendor_pm"])}
NY_KOLKATA = {"carol": ("America/New_York", ["client_pm"]), "victor": ("Asia/Kolkata", ["vendor_pm"])}


def as_seen(card, tz: str) -> str:
    def render(kind, value, extra):
        if kind == "time":
            return f"{datetime.fromtimestamp(int(value), ZoneInfo(tz)):%a %H:%M}"
        return extra or value

    return strip_tokens("\n".join([card.title, card.text, *(f"{f.label}: {f.value}" for f in card.fields)]), render)


def buttons(card) -> dict[str, str]:
    return {b.label: b.value for b in card.buttons}


async def demos(core) -> list[tuple[Demo, DemoOccurrence]]:
    async with core.session_factory() as s:
        rows = await s.execute(select(Demo, DemoOccurrence).join(DemoOccurrence, DemoOccurrence.demo_id == Demo.id))
        return list(rows.tuples())


async def test_outside_hours_warns_names_and_suggests(core):
    people = await make_engagement(core, members=NY_BERLIN)
    reply = await run(core, people["carol"], "/demo schedule next thu 3pm | Sprint 4 demo")
    card = reply.private[0]
    seen = as_seen(card, "America/New_York")
    assert card.tone == "warning"
    assert "outside someone's working hours" in seen
    assert "Lena — Thu 21:00 Europe/Berlin: after their working hours (09:00–18:00)" in seen
    # Both at work 14:00–17:00 UTC: the nearest hour-long slot starts 16:00 UTC, 11:00 in New York.
    assert "Suggested: Thu 11:00 (your time): inside everyone's working hours." in seen
    assert "Carol" not in seen.split("Outside working hours")[1].split("Suggested")[0]
    assert list(buttons(card)) == ["Confirm", "Use Thu 7 Jan 11:00 America/New_York", "Cancel"]
    assert await demos(core) == []  # nothing saved before a confirmation
    lena_sees = as_seen(card, "Europe/Berlin")
    assert "Suggested: Thu 17:00 (your time)" in lena_sees


async def test_use_the_suggested_time(core):
    people = await make_engagement(core, members=NY_BERLIN)
    reply = await run(core, people["carol"], "/demo schedule next thu 3pm | Sprint 4 demo")
    done = await click(
        core, people["carol"], "demo.confirm", buttons(reply.private[0])["Use Thu 7 Jan 11:00 America/New_York"]
    )
    assert "Scheduled" in done.update.title, reply_text(done)
    [(demo, occ)] = await demos(core)
    assert occ.starts_at == datetime(2027, 1, 7, 16, tzinfo=UTC)
    assert demo.tz == "America/New_York" and demo.title == "Sprint 4 demo"
    # The other button of the same card finds the saved demo: one card, one demo.
    again = await click(core, people["carol"], "demo.confirm", buttons(reply.private[0])["Confirm"])
    assert "Already scheduled" in again.update.title
    assert len(await demos(core)) == 1


async def test_confirm_as_is(core):
    people = await make_engagement(core, members=NY_BERLIN)
    reply = await run(core, people["carol"], "/demo schedule next thu 3pm | Sprint 4 demo")
    await click(core, people["carol"], "demo.confirm", buttons(reply.private[0])["Confirm"])
    [(_, occ)] = await demos(core)
    assert occ.starts_at == datetime(2027, 1, 7, 20, tzinfo=UTC)


async def test_inside_everyone_hours_nothing_changes(core):
    people = await make_engagement(core, members=NY_BERLIN)
    reply = await run(core, people["carol"], "/demo schedule next thu 10am | Sprint 4 demo")
    card = reply.private[0]
    assert card.tone == "info"
    assert list(buttons(card)) == ["Confirm", "Cancel"]
    assert "working hours" not in reply_text(reply)


async def test_a_day_off_and_no_shared_hour_give_the_best_compromise(core):
    people = await make_engagement(core, members=NY_KOLKATA)
    reply = await run(core, people["carol"], "/demo schedule fri 3pm | Review")  # Sat 01:30 in Kolkata
    card = reply.private[0]
    seen = as_seen(card, "America/New_York")
    assert "Victor — Sat 01:30 Asia/Kolkata: their day off (Saturday)" in seen
    # New York and Kolkata share no hour: the time Carol chose already leaves only one outside.
    assert "No time within a week either way suits more people." in seen
    assert list(buttons(card)) == ["Confirm", "Cancel"]


async def test_the_form_warns_too(core):
    people = await make_engagement(core, members=NY_BERLIN)
    reply = await submit(
        core, people["carol"], "demo.new", {"title": "Review", "when": "next thu 3pm", "duration": "30"}
    )
    card = reply.private[0]
    seen = as_seen(card, "America/New_York")
    assert "Lena — Thu 21:00 Europe/Berlin: after their working hours (09:00–18:00)" in seen
    assert "Use Thu 7 Jan 11:30 America/New_York" in buttons(card)  # a 30-minute demo fits until 17:00 UTC


async def test_move_warns_and_can_use_the_suggestion(core):
    people = await make_engagement(core, members=NY_BERLIN)
    reply = await run(core, people["carol"], "/demo schedule next thu 10am | Review")
    await click(core, people["carol"], "demo.confirm", buttons(reply.private[0])["Confirm"])
    moved = await run(core, people["carol"], "/demo move 1 next fri 4pm")
    card = moved.private[0]
    assert "Lena — Fri 22:00 Europe/Berlin: after their working hours (09:00–18:00)" in as_seen(
        card, "America/New_York"
    )
    use = next(label for label in buttons(card) if label.startswith("Use "))
    assert use == "Use Fri 8 Jan 11:00 America/New_York"
    done = await click(core, people["carol"], "demo.confirm", buttons(card)[use])
    assert "Moved" in done.update.title, reply_text(done)
    rows = await demos(core)
    assert [o.starts_at for _, o in rows if o.status == "scheduled"] == [datetime(2027, 1, 8, 16, tzinfo=UTC)]


async def test_a_series_keeps_its_rhythm_on_the_suggested_day(core):
    people = await make_engagement(core, members=NY_BERLIN)
    reply = await run(core, people["carol"], "/demo schedule every thursday at 3pm | Weekly demo")
    card = reply.private[0]
    use = next(label for label in buttons(card) if label.startswith("Use "))
    await click(core, people["carol"], "demo.confirm", buttons(card)[use])
    [(demo, occ)] = await demos(core)
    assert demo.rrule == "FREQ=WEEKLY;INTERVAL=1;BYDAY=TH"
    assert occ.starts_at == datetime(2027, 1, 7, 16, tzinfo=UTC)
    # A suggestion on another weekday carries the series to that day.
    draft = service.Draft(op="new", start="2027-01-07T15:00:00-05:00", tz="America/New_York", rrule=demo.rrule)
    check = hours.SlotCheck(draft.start_at, 60, (), datetime(2027, 1, 8, 15, tzinfo=UTC), True)
    assert service.at_suggestion(draft, check).rrule == "FREQ=WEEKLY;INTERVAL=1;BYDAY=FR"


async def test_a_forged_suggestion_is_refused(core):
    people = await make_engagement(core, members=NY_BERLIN)
    reply = await run(core, people["carol"], "/demo schedule next thu 3pm | Sprint 4 demo")
    value = json.loads(buttons(reply.private[0])["Use Thu 7 Jan 11:00 America/New_York"])
    for forged in ({**value, "start": "2027-01-07T11:00:00"}, {**value, "tz": "Mars/Olympus"}, {**value, "eng": 999}):
        refused = await click(core, people["carol"], "demo.confirm", json.dumps(forged))
        assert refused.private and refused.private[0].tone == "warning", forged
    assert await demos(core) == []
