"""The agenda on the controlled clock: built at `agenda_lead_minutes` before each occurrence from what is open at
that moment (the registry's sections are read then, not when the meeting was scheduled) and what members added;
posted once, also across a restart at its time with two and three processes; late if Cadence was down past its
time but the meeting has not started, never after the start; a monthly review adds last month's figures."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storage.models import Timer
from tests.features.meetings.support import agendas, flat, occurrences, schedule
from tests.helpers import make_engagement, reply_text, run, sent

# Victor (Kolkata) plans the weekly sync at 15:00 his time: Tue 5 Jan 2027 09:30 UTC; its agenda at 08:30 UTC.
SYNC = "every tuesday 15:00 | Weekly sync"
AGENDA_AT = datetime(2027, 1, 5, 8, 30, tzinfo=UTC)


async def test_members_items_and_the_agenda_posted_once_at_its_time(core):
    people = await make_engagement(core)
    await schedule(core, people["victor"], SYNC)
    r = await run(core, people["dev"], "/meeting agenda add Release date for v2")
    assert "Added to ACME-MTG-1 · Weekly sync" in reply_text(r)
    await run(core, people["alice"], "/meeting agenda add ACME-MTG-1 Budget for Q2")  # a client-side member too
    shown = await run(core, people["carol"], "/meeting agenda")
    assert shown.private[0].title == "Agenda so far: Weekly sync"
    so_far = flat(shown.private[0])
    assert "Release date for v2 — added by Dev" in so_far and "Budget for Q2 — added by Alice" in so_far

    core.clock.set(AGENDA_AT - timedelta(minutes=1))
    await core.drain()
    assert agendas(core) == []
    core.clock.set(AGENDA_AT)
    await core.drain()
    await core.drain()
    [agenda] = agendas(core)
    text = flat(agenda.card)
    assert agenda.card.title == "Agenda: Weekly sync"
    assert "Added by members" in text
    assert text.index("Release date for v2 — added by Dev") < text.index("Budget for Q2 — added by Alice")
    assert "Nothing is on the agenda" not in text and "late" not in agenda.card.footer

    # A point added after the agenda went out: the posted agenda is edited to show it.
    r = await run(core, people["quinn"], "/meeting agenda add Test data for UAT")
    assert "already posted shows it" in reply_text(r)
    await core.drain()
    updated = [d for d in sent(core) if d.op == "update" and d.card.title == "Agenda: Weekly sync"]
    assert updated and "Test data for UAT — added by Quinn" in flat(updated[-1].card)
    assert len(agendas(core)) == 1

    # The next week's occurrence (materialised when this one ends) has nothing on it: one line says so.
    core.clock.set(AGENDA_AT + timedelta(days=7))
    await core.drain()
    second = agendas(core)[1]
    assert "Nothing is on the agenda" in second.card.text and second.card.sections == []
    assert len(await occurrences(core)) == 2  # this week's (ended) and next week's


async def test_sections_are_read_when_the_agenda_is_built(core):
    people = await make_engagement(core)
    open_items: list[str] = []
    seen_kinds: list[str] = []

    async def fake_lines(session, engagement, now, kind):
        seen_kinds.append(kind)
        return [f"{item} (as of {now:%H:%M})" for item in open_items]

    async def nothing(session, engagement, now, kind):
        return []

    core.registry.add_agenda_section(
        "fake_crs", order=10, title="Change requests waiting for a decision", lines=fake_lines
    )
    core.registry.add_agenda_section("quiet", order=20, title="Defects at risk", lines=nothing)
    await schedule(core, people["victor"], SYNC)
    assert seen_kinds == []  # nothing is read at scheduling time
    open_items.append("ACME-CR-1 Export to CSV — waiting for Carol")  # opened after scheduling
    preview = await run(core, people["dev"], "/meeting agenda")  # as things stand now
    assert "ACME-CR-1 Export to CSV — waiting for Carol (as of 08:00)" in flat(preview.private[0])
    core.clock.set(AGENDA_AT)
    await core.drain()
    [agenda] = agendas(core)
    text = flat(agenda.card)
    assert "Change requests waiting for a decision" in text
    assert "ACME-CR-1 Export to CSV — waiting for Carol (as of 08:30)" in text
    assert "Defects at risk" not in text  # an empty section is left out
    assert seen_kinds == ["sync", "sync"]


async def test_a_failing_section_leaves_the_rest_of_the_agenda(core):
    people = await make_engagement(core)

    async def broken(session, engagement, now, kind):
        raise RuntimeError("a bug in another job")

    core.registry.add_agenda_section("broken", order=10, title="Change requests waiting for a decision", lines=broken)
    await schedule(core, people["victor"], SYNC)
    await run(core, people["dev"], "/meeting agenda add Release date for v2")
    core.clock.set(AGENDA_AT)
    await core.drain()
    [agenda] = agendas(core)  # on time, once
    text = flat(agenda.card)
    assert "could not be read just now" in text and "Release date for v2 — added by Dev" in text


async def test_a_restart_across_the_agenda_time_posts_it_once_and_late(any_db_url, clock, make_core):
    first = await make_core(any_db_url)
    people = await make_engagement(first)
    await schedule(first, people["victor"], SYNC)
    await run(first, people["dev"], "/meeting agenda add Release date for v2")
    await first.engine.dispose()  # the process dies before the agenda's time

    clock.set(AGENDA_AT + timedelta(minutes=30))  # back up after the agenda's time, before the start
    second = await make_core(any_db_url)
    third = await make_core(any_db_url)
    await asyncio.gather(second.drain(), third.drain())
    await second.drain()
    posted = agendas(second) + agendas(third)
    assert len(posted) == 1, [d.card.title for d in sent(second) + sent(third)]
    assert "Release date for v2 — added by Dev" in flat(posted[0].card)
    assert "30 min late" in posted[0].card.footer
    [occ, *_] = await occurrences(second)
    assert occ.agenda_posted_at == AGENDA_AT + timedelta(minutes=30)


async def test_no_agenda_after_the_meeting_started(any_db_url, clock, make_core):
    first = await make_core(any_db_url)
    people = await make_engagement(first)
    await schedule(first, people["victor"], SYNC)
    await first.engine.dispose()
    clock.set(datetime(2027, 1, 5, 9, 45, tzinfo=UTC))  # down past the start (09:30)
    second = await make_core(any_db_url)
    await second.drain()
    assert agendas(second) == []
    async with second.session_factory() as s:
        fired = await s.scalar(select(Timer).where(Timer.kind == "meeting.agenda", Timer.status == "done"))
        assert fired is not None  # fired (late) and decided not to post


async def test_the_monthly_review_adds_last_months_figures(core):
    people = await make_engagement(core)
    await schedule(core, people["carol"], "review first tuesday of the month 15:00")  # Tue 5 Jan 20:00 UTC
    await run(core, people["victor"], "/meeting agenda add Plan vs actual for December")
    core.clock.set(datetime(2027, 1, 5, 19, 0, tzinfo=UTC))
    await core.drain()
    [agenda] = agendas(core)
    text = flat(agenda.card)
    assert agenda.card.title == "Agenda: Monthly review"
    assert "The month's figures (December 2026, from the health report)" in text
    figures = next(s for s in agenda.card.sections if s.title.startswith("The month's figures"))
    titles = {s.title for s in figures.sections}
    assert len(figures.sections) == len(core.registry.report_sections) and titles
    assert "Plan vs actual for December — added by Victor" in text


async def test_a_sync_has_no_figures(core):
    people = await make_engagement(core)
    await schedule(core, people["victor"], SYNC)
    core.clock.set(AGENDA_AT)
    await core.drain()
    assert "figures" not in flat(agendas(core)[0].card)


async def test_agenda_needs_a_meeting_and_text(core):
    people = await make_engagement(core)
    r = await run(core, people["dev"], "/meeting agenda add Something")
    assert "no meeting coming up" in reply_text(r)
    await schedule(core, people["victor"], SYNC)
    assert "Usage" in reply_text(await run(core, people["dev"], "/meeting agenda add"))
    assert "There is no meeting ACME-MTG-9" in reply_text(await run(core, people["dev"], "/meeting agenda ACME-MTG-9"))
    # "3 open questions" is text, not an id.
    r = await run(core, people["dev"], "/meeting agenda add 3 open questions")
    assert "“3 open questions”" in reply_text(r)


async def test_a_long_section_shows_its_first_lines_and_how_many_more(core):
    """A busy engagement's agenda stays readable: each section's first 12 lines (its job puts the most pressing
    first), then how many more there are."""
    people = await make_engagement(core)

    async def many(session, engagement, now, kind):
        return [f"ACME-D-{n} at risk" for n in range(1, 31)]

    core.registry.add_agenda_section("many", order=20, title="Defects at risk or breached", lines=many)
    await schedule(core, people["victor"], SYNC)
    core.clock.set(AGENDA_AT)
    await core.drain()
    [agenda] = agendas(core)
    text = flat(agenda.card)
    assert "ACME-D-12 at risk" in text and "ACME-D-13 at risk" not in text
    assert "… and 18 more" in text
