"""The RAID log's section of the health report, its export files and its part of meeting agendas, on the
controlled clock (Mon 4 Jan 2027 08:00 UTC; home zone London, UTC in winter)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from sqlalchemy import select

from bot.features.raid.report import RaidFigures, report_card, report_flags, report_home
from bot.features.reports import figures
from bot.kernel.registry import Period
from storage.models import Engagement
from tests.features.raid.support import agenda_lines, card_text
from tests.helpers import make_engagement, run


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def _section(core):
    async with core.session_factory() as s:
        eng = await s.scalar(select(Engagement).where(Engagement.key == "ACME"))
        f = await figures.gather(s, core.registry.report_sections, eng, core.clock.now(), trends=False)
        return f["raid"], f


async def _seed(core):
    people = await make_engagement(core)
    dev, carol = people["dev"], people["carol"]
    await run(core, dev, "/raid add risk Go-live slips owner @victor red")
    await run(core, dev, "/raid add dependency Sandbox keys from Acme owner @carol review jan 6")
    await run(core, dev, "/raid add assumption Users on Chrome owner @carol green")
    # Raised by Carol (client) for the vendor's developer: as whoever raised it, she may close it.
    await run(core, carol, "/raid add issue =HYPERLINK(1) owner @dev")
    await run(core, carol, "/raid update ACME-R-4 closed note fixed")
    return people


async def test_figures_card_flags_home_and_export(core):
    await _seed(core)
    core.clock.set(at(2027, 1, 8, 9))  # Fri 8 Jan: ACME-R-2's review (Wed 6 Jan) is past
    f, whole = await _section(core)
    assert f.by_kind == {"risk": 1, "assumption": 1, "issue": 0, "dependency": 1}
    assert f.by_status == {"red": 1, "amber": 1, "green": 1}
    assert (f.open, f.added, f.closed) == (3, 4, 1)
    assert f.red == ["ACME-R-1 risk: Go-live slips (owner Victor)"]
    assert f.past_review == ["ACME-R-2 (review Wed 6 Jan 2027, owner Carol)"]
    card = report_card(f, whole.period)
    text = card_text(card)
    assert "Open by kind: 1 risk, 1 assumption, 1 dependency" in text
    assert "Open by status: 1 red, 1 amber, 1 green" in text
    assert card.tone == "danger"
    assert report_flags(f, whole.period) == [
        (35, "Red: ACME-R-1 risk: Go-live slips (owner Victor)."),
        (45, "RAID items past their review date: ACME-R-2 (review Wed 6 Jan 2027, owner Carol)."),
    ]
    assert "Red: ACME-R-1 risk: Go-live slips (owner Victor)." in whole.flags
    assert [(x.label, x.value) for x in report_home(f)] == [("RAID", "3 open items · 1 red · 1 past review")]

    section = next(s for s in whole.sections if s.name == "raid")
    async with core.session_factory() as s:
        eng = await s.scalar(select(Engagement).where(Engagement.key == "ACME"))
        jan = Period("range", at(2027, 1, 1), at(2027, 2, 1), date(2027, 1, 1), date(2027, 1, 31))
        files = await section.export(s, eng, jan, core.clock.now())
    items = list(csv.DictReader(io.StringIO(files["raid.csv"])))
    assert [(r["id"], r["kind"], r["status"], r["state"], r["owner"]) for r in items] == [
        ("ACME-R-1", "risk", "red", "open", "Victor"),
        ("ACME-R-2", "dependency", "amber", "open", "Carol"),
        ("ACME-R-3", "assumption", "green", "open", "Carol"),
        ("ACME-R-4", "issue", "amber", "closed", "Dev"),
    ]
    assert items[3]["text"].startswith("'=")  # formula-safe
    changes = list(csv.DictReader(io.StringIO(files["raid_history.csv"])))
    assert [(r["item"], r["by"], r["field"], r["from"], r["to"], r["note"]) for r in changes] == [
        ("ACME-R-4", "Carol", "state", "open", "closed", "fixed")
    ]


async def test_an_empty_log_has_a_quiet_section():
    period = Period("week", at(2027, 1, 4), at(2027, 1, 11), date(2027, 1, 5), date(2027, 1, 11))
    f = RaidFigures(today=date(2027, 1, 11))
    assert "nothing open" in card_text(report_card(f, period))
    assert report_flags(f, period) == [] and report_home(f) == []


async def test_the_agenda_lists_reds_then_items_past_review_at_the_moment_it_is_built(core):
    people = await _seed(core)
    # Mon 4 Jan: nothing is past review yet; the red one is there, the green and the closed one never.
    lines = await agenda_lines(core, "raid")
    assert len(lines) == 1 and "ACME-R-1 risk · Go-live slips — owner Victor · no review date" in lines[0]
    core.clock.set(at(2027, 1, 7, 9))
    lines = await agenda_lines(core, "raid", kind="review")
    assert [ln.split()[1] for ln in lines] == ["ACME-R-1", "ACME-R-2"]
    assert "review Wed 6 Jan 2027 (past)" in lines[1]
    # A new review date takes it off; turning the red one green too: an empty section (left out).
    await run(core, people["carol"], "/raid update ACME-R-2 review jan 20")
    await run(core, people["victor"], "/raid update ACME-R-1 green")
    assert await agenda_lines(core, "raid") == []
    section = next(s for s in core.registry.agenda_sections if s.name == "raid")
    assert (section.order, section.title) == (60, "RAID: red and past review")
