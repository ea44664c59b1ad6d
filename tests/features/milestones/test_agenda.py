"""Milestones' part of a meeting agenda, built at the moment it is asked for (controlled clock, Mon 4 Jan 2027
08:00 UTC; home zone London): milestones not accepted that are overdue or due within two weeks; one further
out, or accepted, is not listed."""

from __future__ import annotations

from datetime import timedelta

from tests.features.raid.support import agenda_lines
from tests.helpers import make_engagement, run


async def test_milestones_due_within_two_weeks_or_overdue(core):
    people = await make_engagement(core)
    victor, carol = people["victor"], people["carol"]
    for text in (
        "/milestone add Design due jan 6",
        "/milestone add Beta due jan 18",
        "/milestone add Go-live due feb 26 final",
        "/milestone add Docs due jan 4",
    ):
        await run(core, victor, text)
    await run(core, victor, "/milestone submit ACME-M-4 | The docs")
    await run(core, carol, "/milestone accept ACME-M-4")
    assert await agenda_lines(core, "milestones") == [
        "ACME-M-1 · Design — due Wed 6 Jan 2027, in 2 days",
        "ACME-M-2 · Beta — due Mon 18 Jan 2027, in 14 days",
    ]
    await run(core, victor, "/milestone submit ACME-M-2 | Beta build")
    core.clock.advance(timedelta(days=3))  # Thu 7 Jan
    assert await agenda_lines(core, "milestones", kind="review") == [
        "ACME-M-1 · Design — overdue since Wed 6 Jan 2027 (1 day)",
        "ACME-M-2 · Beta — due Mon 18 Jan 2027, in 11 days · submitted, waiting for acceptance",
    ]
    core.clock.advance(timedelta(days=38))  # Sun 14 Feb: Go-live is 12 days away
    assert "ACME-M-3 · Go-live (final) — due Fri 26 Feb 2027, in 12 days" in await agenda_lines(core, "milestones")
