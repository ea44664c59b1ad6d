"""The milestones' section of the health report and its export files, on the controlled clock (SQLite and
PostgreSQL), with figures computed by hand.

Timeline (home zone London = UTC in winter; no client country, so weekends are the only days off):
- Mon 4 Jan 08:00 set-up; victor adds ACME-M-1 Design due Fri 8 Jan, ACME-M-2 Build due Wed 6 Jan,
  ACME-M-3 Go-live due Fri 15 Jan (final); submits M-1 (round 1); alice rejects it with two reasons
  (items R1, R2 due Mon 11 Jan: 5 business days).
- Thu 7 Jan 10:00 victor resubmits M-1 (round 2); Fri 8 Jan 09:00 carol accepts it: on Fri 8 Jan = its due
  date, so on time, after 2 rounds. Fri 8 Jan 10:00 victor submits M-3: window of 10 business days after
  Fri 8 Jan, last day Fri 22 Jan.
- Report Mon 11 Jan 09:00: the week is [Mon 4 Jan 09:00, Mon 11 Jan 09:00) (the 7 days back), dates Tue 5 – Mon
  11 Jan. Due: M-1 (8 Jan), M-2 (6 Jan). Submitted: M-1 round 2 and M-3 round 1 = 2 (round 1 of M-1 was at
  08:00 on the 4th, before the period). Accepted: M-1 on time, 2 rounds. In window: M-3 with Mon 11 – Fri
  22 Jan = 10 business days left. Overdue: M-2 (due 6 Jan, never submitted).
- Thu 21 Jan 09:00: M-3's window has Thu 21 and Fri 22 = 2 business days left: flagged. carol accepts it at
  09:30: late (due Fri 15 Jan), 1 round; the project acceptance on Thu 21 Jan, 17 days after the set-up on
  Mon 4 Jan; the warranty (6 months) until Wed 21 Jul 2027.
- Tue 22 Jun 2027 09:00 London (08:00 UTC): 22 Jun … 21 Jul = 30 days of warranty left: flagged.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from sqlalchemy import select

from bot.features.milestones import forms
from bot.features.milestones.report import business_days_left, report_card, report_flags, report_home
from bot.features.milestones.window import ClientCalendar
from bot.features.reports import figures
from bot.kernel.registry import Period
from storage.models import Engagement
from tests.features.milestones.support import card_text, said
from tests.helpers import make_engagement, run, submit


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def _section(core):
    async with core.session_factory() as s:
        eng = await s.scalar(select(Engagement).where(Engagement.key == "ACME"))
        f = await figures.gather(s, core.registry.report_sections, eng, core.clock.now(), trends=False)
        return f["milestones"], f


async def _go(core, when: datetime) -> None:
    core.clock.set(when)
    await core.drain()


def test_business_days_left_counts_today_and_the_last_day():
    cal = ClientCalendar(tz="Europe/London")
    assert business_days_left(cal, date(2027, 1, 11), date(2027, 1, 22)) == 10
    assert business_days_left(cal, date(2027, 1, 21), date(2027, 1, 22)) == 2
    assert business_days_left(cal, date(2027, 1, 23), date(2027, 1, 22)) == 0  # Saturday after: over
    assert business_days_left(cal, date(2027, 1, 16), date(2027, 1, 18)) == 1  # the weekend does not count


async def test_figures_card_flags_and_export_of_the_milestones_section(core):
    people = await make_engagement(core)
    alice, carol, victor = people["alice"], people["carol"], people["victor"]
    for text in (
        "/milestone add Design due jan 8",
        "/milestone add Build due jan 6",
        "/milestone add Go-live due jan 15 final",
    ):
        r = await run(core, victor, text)
        assert "Added" in said(r), said(r)
    await run(core, victor, "/milestone submit ACME-M-1 | Wireframes")
    r = await run(core, alice, "/milestone reject ACME-M-1")
    r = await submit(core, alice, forms.REJECT, {"reasons": "=HYPERLINK(1)\nLogo missing"}, r.form.state)
    assert "2 rectification items" in said(r), said(r)
    await core.drain()

    await _go(core, at(2027, 1, 7, 10))
    await run(core, people["dev"], "/milestone done ACME-M-1-R1")
    await run(core, victor, "/milestone submit ACME-M-1 | Wireframes v2")
    await _go(core, at(2027, 1, 8, 9))
    r = await run(core, carol, "/milestone accept ACME-M-1")
    assert "You accepted ACME-M-1 (round 2)" in said(r), said(r)
    await _go(core, at(2027, 1, 8, 10))
    await run(core, victor, "/milestone submit ACME-M-3 | Release candidate")

    await _go(core, at(2027, 1, 11, 9))
    m, whole = await _section(core)
    assert m.today == date(2027, 1, 11)
    assert m.due == ["ACME-M-1 Design (Fri 8 Jan 2027)", "ACME-M-2 Build (Wed 6 Jan 2027)"]
    assert m.submitted == 2
    assert [(a.ref, a.on, a.on_time, a.rounds) for a in m.accepted] == [("ACME-M-1", date(2027, 1, 8), True, 2)]
    assert (m.on_time, m.late) == (1, 0)
    assert [(w.ref, w.round, w.last_day, w.days_left) for w in m.in_window] == [("ACME-M-3", 1, date(2027, 1, 22), 10)]
    assert m.overdue == ["ACME-M-2 (due Wed 6 Jan 2027)"]
    assert m.next_due is None  # M-2 is overdue, M-3 submitted: nothing left to come
    assert m.project_accepted_on is None and m.warranty_until is None and m.warranty_days_left is None
    card = card_text(report_card(m, whole.period))
    assert "Submitted (last week): 2 rounds" in card, card
    assert "Accepted (last week): 1 on time, 0 late · ACME-M-1 on Fri 8 Jan 2027 (2 rounds)" in card
    assert "ACME-M-3 round 1: 10 business days left (until Fri 22 Jan 2027)" in card
    assert "Warranty: starts at the project acceptance" in card
    assert report_card(m, whole.period).tone == "danger"
    assert report_flags(m, whole.period) == [(12, "Overdue, not submitted: ACME-M-2 (due Wed 6 Jan 2027).")]
    assert "Overdue, not submitted: ACME-M-2 (due Wed 6 Jan 2027)." in whole.flags
    assert [(f.label, f.value) for f in report_home(m)] == [("Milestones", "1 overdue · 1 in acceptance window")]

    # The whole report renders with the section, and its flag is in the summary.
    await run(core, alice, "/cadence report")
    await core.drain()
    from tests.helpers import sent

    report = [d for d in sent(core) if d.op == "post" and d.card and "health report" in (d.card.title or "")][-1]
    assert "Milestones" in [s.title for s in report.card.sections]
    assert "ACME-M-2" in card_text(report.card)

    # Two business days left in M-3's window: flagged; then accepted late, the project acceptance.
    await _go(core, at(2027, 1, 21, 9))
    m, whole = await _section(core)
    assert [(w.ref, w.days_left) for w in m.in_window] == [("ACME-M-3", 2)]
    assert (14, "The acceptance window of ACME-M-3 closes Fri 22 Jan 2027 (2 business days left).") in report_flags(
        m, whole.period
    )
    await _go(core, at(2027, 1, 21, 9, 30))
    r = await run(core, carol, "/milestone accept ACME-M-3")
    assert "project acceptance" in said(r), said(r)
    await _go(core, at(2027, 1, 21, 10))  # the period ends at the report's time: [start, end)
    m, whole = await _section(core)
    assert [(a.ref, a.on_time, a.rounds) for a in m.accepted] == [("ACME-M-3", False, 1)]
    assert (m.on_time, m.late) == (0, 1)
    assert m.project_accepted_on == date(2027, 1, 21) and m.days_to_acceptance == 17
    assert m.warranty_until == date(2027, 7, 21) and m.warranty_days_left == 182
    assert not [f for f in report_flags(m, whole.period) if f[0] != 12]
    card = card_text(report_card(m, whole.period))
    assert "Project acceptance: Thu 21 Jan 2027 — 17 days after the start" in card
    assert "Warranty: until Wed 21 Jul 2027 — 182 days left" in card

    # The warranty's last 30 days: a "needs attention" line.
    await _go(core, at(2027, 6, 22, 8))
    m, whole = await _section(core)
    assert m.warranty_days_left == 30
    assert (16, "The warranty ends Wed 21 Jul 2027 (30 days left).") in report_flags(m, whole.period)
    assert "The warranty ends Wed 21 Jul 2027 (30 days left)." in whole.flags
    assert ("Warranty", "until Wed 21 Jul 2027 — 30 days left") in [(f.label, f.value) for f in report_home(m)]

    # The export files for January (home-zone dates), formula-safe.
    section = next(s for s in core.registry.report_sections if s.name == "milestones")
    async with core.session_factory() as s:
        eng = await s.scalar(select(Engagement).where(Engagement.key == "ACME"))
        jan = Period("range", at(2027, 1, 1), at(2027, 2, 1), date(2027, 1, 1), date(2027, 1, 31))
        files = await section.export(s, eng, jan, core.clock.now())
        later = Period("range", at(2027, 3, 1), at(2027, 4, 1), date(2027, 3, 1), date(2027, 3, 31))
        march = await section.export(s, eng, later, core.clock.now())

    def rows(text: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(text)))

    ms = rows(files["milestones.csv"])
    assert [(r["id"], r["state"], r["rounds"], r["accepted_on"], r["on_time"], r["final"]) for r in ms] == [
        ("ACME-M-1", "accepted", "2", "2027-01-08", "yes", "no"),
        ("ACME-M-2", "planned", "0", "", "", "no"),
        ("ACME-M-3", "accepted", "1", "2027-01-21", "no", "yes"),
    ]
    rounds = rows(files["milestone_rounds.csv"])
    assert [(r["milestone"], r["round"], r["outcome"], r["decided_by"]) for r in rounds] == [
        ("ACME-M-1", "1", "rejected", "Alice"),
        ("ACME-M-1", "2", "accepted", "Carol"),
        ("ACME-M-3", "1", "accepted", "Carol"),
    ]
    assert rounds[0]["submitted_at_utc"] == "2027-01-04T08:00:00+00:00" and rounds[0]["submitted_by"] == "Victor"
    its = rows(files["rectification_items.csv"])
    assert [(r["item"], r["text"], r["due_date"], r["done_by"]) for r in its] == [
        ("ACME-M-1-R1", "'=HYPERLINK(1)", "2027-01-11", "Dev"),
        ("ACME-M-1-R2", "Logo missing", "2027-01-11", ""),
    ]
    # March: only what was still live then (M-2 never submitted; R2 never done).
    assert [r["id"] for r in rows(march["milestones.csv"])] == ["ACME-M-2"]
    assert rows(march["milestone_rounds.csv"]) == []
    assert [r["item"] for r in rows(march["rectification_items.csv"])] == ["ACME-M-1-R2"]
