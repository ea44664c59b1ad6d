"""The milestones' contract terms (acceptance window, deemed acceptance, warranty length): changed through the
amendment rule with `/milestone settings`, held to their ranges; the warranty's end is derived from the
project acceptance and shown by `/cadence contract`, never typed."""

from __future__ import annotations

from datetime import date

from storage.models.milestones import MilestoneRound
from tests.features.milestones.support import acceptance, said
from tests.helpers import make_engagement, run


async def test_terms_change_by_amendment_within_their_ranges(core):
    people = await make_engagement(core)
    alice, carol, victor = people["alice"], people["carol"], people["victor"]
    for text, why in (
        ("/milestone settings warranty_months 13", "6–12 months"),
        ("/milestone settings warranty_months 5", "6–12 months"),
        ("/milestone settings deemed_acceptance maybe", "`on` or `off`"),
        ("/milestone settings window_days 0", "1–60 business days"),
        ("/milestone settings colour blue", "No milestone setting"),
    ):
        r = await run(core, victor, text)
        assert r.refused and why in said(r), said(r)
    r = await run(core, people["dev"], "/milestone settings window_days 15")
    assert r.refused and "Only an admin" in said(r)

    r = await run(core, victor, "/milestone settings window_days 15")
    assert "Proposed Acceptance window: 10 business days (client's calendar) → 15 business days" in said(r), said(r)
    assert "10 business days" in said(await run(core, victor, "/milestone settings"))  # no effect yet
    r = await run(core, carol, "/cadence contract approve 1")
    assert "You approved amendment #1" in said(r), said(r)
    assert "15 business days" in said(await run(core, victor, "/milestone settings"))

    r = await run(core, alice, "/milestone settings deemed_acceptance on")
    assert "Proposed Deemed acceptance at the window's end: off → on" in said(r)
    await run(core, victor, "/cadence contract approve 2")
    r = await run(core, alice, "/milestone settings warranty_months 12")
    assert "Proposed Warranty: 6 months from the project acceptance; starts at the project acceptance" in said(r)
    await run(core, victor, "/cadence contract approve 3")
    text = said(await run(core, victor, "/cadence contract"))
    assert "Warranty: 12 months from the project acceptance; starts at the project acceptance" in text, text
    assert "Acceptance window: 15 business days" in text and "Deemed acceptance at the window's end: on" in text

    # A round copies the window in force; the final milestone's acceptance derives the warranty's end.
    await run(core, victor, "/milestone add Go-live due feb 26 final")
    await run(core, victor, "/milestone submit 1 | Release 1.0")
    async with core.session_factory() as s:
        rnd = await s.get(MilestoneRound, 1)
        assert rnd.window_days == 15 and rnd.deemed_acceptance
    r = await run(core, alice, "/milestone accept ACME-M-1")
    assert "project acceptance" in said(r), said(r)
    record = await acceptance(core)
    assert record.warranty_months == 12 and record.warranty_until == date(2028, 1, 4)
    text = said(await run(core, victor, "/cadence contract"))
    assert "Warranty: 12 months from the project acceptance; until 2028-01-04" in text, text
    # Once started, the warranty's length no longer changes; its end is never typed.
    r = await run(core, alice, "/milestone settings warranty_months 6")
    assert r.refused and "already started" in said(r)
    r = await run(core, alice, "/cadence settings warranty_end 2030-01-01")
    assert r.refused and "no longer typed" in said(r)
