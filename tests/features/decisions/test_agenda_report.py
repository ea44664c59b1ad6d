"""The agenda sections (action items due or overdue, overdue first; decisions disputed since the last
meeting), read at the moment the agenda is built, and the weekly report section and export files."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from bot.features.reports.figures import period_of
from tests.features.decisions.support import engagement, meeting
from tests.helpers import make_engagement, run


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def agenda(core, name: str, when: datetime) -> list[str]:
    section = next(s for s in core.registry.agenda_sections if s.name == name)
    eng = await engagement(core)
    async with core.session_factory() as s:
        return await section.lines(s, eng, when, "sync")


async def test_agenda_lines_at_the_moment_they_are_built(core, clock):
    people = await make_engagement(core)
    victor, carol = people["victor"], people["carol"]
    assert [s.order for s in core.registry.agenda_sections if s.name in ("actions", "disputed_decisions")] == [40, 45]
    await run(core, victor, "/action @carol send the sandbox keys by 2027-01-05")
    await run(core, carol, "/action @victor share the test plan by 2027-01-07")
    await run(core, carol, "/action @victor fix the login by 2027-01-06")
    await run(core, carol, "/action @victor later thing by 2027-01-20")
    await run(core, victor, "/action @carol done already by 2027-01-05")
    await run(core, carol, "/action done A-5")
    # Thu 7 Jan 10:00 London, an hour before the sync: overdue (earliest first), A-2 due today.
    lines = await agenda(core, "actions", at(2027, 1, 7, 10, 0))
    assert [line.split(" · ")[0] for line in lines] == ["ACME-A-1", "ACME-A-3", "ACME-A-2"]
    assert "overdue since Tue 5 Jan 2027" in lines[0] and "due today" in lines[2]
    # Built on Monday, nothing was due yet: the section is left out.
    assert await agenda(core, "actions", at(2027, 1, 4, 10, 0)) == []

    # Disputed since the last meeting: a dispute before that meeting's end is not repeated.
    await run(core, victor, "/decision Beta slips a week")
    await run(core, victor, "/decision SSO after the beta")
    await run(core, carol, "/decision dispute DEC-1 Not what we agreed")
    clock.set(clock.now() + timedelta(hours=2))
    await meeting(core, ends_at=clock.now() - timedelta(minutes=30))
    await run(core, carol, "/decision dispute DEC-2 We need SSO first")
    lines = await agenda(core, "disputed_decisions", clock.now())
    assert len(lines) == 1 and lines[0].startswith("ACME-DEC-2 · SSO after the beta — disputed by")
    assert "We need SSO first" in lines[0]


async def test_report_section_and_export(core, clock):
    people = await make_engagement(core)
    victor, carol = people["victor"], people["carol"]
    await run(core, victor, '/decision =HYPERLINK("x") Beta slips a week')
    await run(core, carol, "/decision dispute DEC-1 Not agreed")
    await run(core, victor, "/action @carol send the keys by 2027-01-05")
    await run(core, carol, "/action @victor share the plan by 2027-01-20")
    await run(core, victor, "/action done A-2")
    clock.set(at(2027, 1, 8, 9, 0))
    section = next(s for s in core.registry.report_sections if s.name == "decisions")
    eng = await engagement(core)
    period = period_of(eng, clock.now(), "week")
    async with core.session_factory() as s:
        figures = await section.figures(s, eng, period, clock.now())
        files = await section.export(s, eng, period, clock.now())
    card = section.card(figures, period)
    fields = {f.label: f.value for f in card.fields}
    assert "ACME-DEC-1 ⚠️ disputed" in fields["Decisions (last week)"] and fields["Disputed"] == "ACME-DEC-1"
    assert fields["Action items open"] == "1" and fields["Done (last week)"] == "1"
    assert "ACME-A-1" in fields["Overdue action items"] and card.tone == "danger"
    flags = section.flags(figures, period)
    assert [rank for rank, _ in flags] == [18, 22] and "ACME-A-1" in flags[0][1]
    decisions = list(csv.DictReader(io.StringIO(files["decisions.csv"])))
    assert [(d["id"], d["dispute_reason"], d["disputed_by"]) for d in decisions] == [
        ("ACME-DEC-1", "Not agreed", "Carol")
    ]
    assert decisions[0]["decision"].startswith("'=HYPERLINK")  # no formula smuggled into a spreadsheet
    items = list(csv.DictReader(io.StringIO(files["action_items.csv"])))
    assert [(i["id"], i["owner"], i["state"], i["due_date"]) for i in items] == [
        ("ACME-A-1", "Carol", "open", "2027-01-05"),
        ("ACME-A-2", "Victor", "done", "2027-01-20"),
    ]
