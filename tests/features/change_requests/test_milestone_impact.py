"""A change request names its milestone; approving it (quorum reached) moves the milestone's due date by its
schedule impact in business days of the client's calendar, as part of the approval: announced and audited,
no second proposal."""

from __future__ import annotations

from datetime import date

from tests.features.change_requests.support import assess, file_cr, get, said
from tests.features.milestones.support import milestone, posts, steps
from tests.helpers import click, make_engagement, run


async def test_approval_moves_the_named_milestone(core):
    people = await make_engagement(core)
    alice, carol, victor = people["alice"], people["carol"], people["victor"]
    await run(core, victor, "/milestone add Beta due feb 1")  # Mon 1 Feb 2027
    cr = await file_cr(core, carol)
    r = await run(core, people["dev"], "/cr milestone ACME-CR-1 ACME-M-1")
    assert r.refused and "Only the requester or an admin" in said(r)
    r = await run(core, carol, "/cr milestone ACME-CR-1 ACME-M-9")
    assert r.refused and "no milestone ACME-M-9" in said(r)
    r = await run(core, carol, "/cr milestone ACME-CR-1 ACME-M-1")
    assert "now names ACME-M-1" in said(r), said(r)
    await assess(core, victor, cr, schedule_impact_days="5")
    assert "Milestone: ACME-M-1 “Beta”" in said(await run(core, carol, "/cr show 1"))
    await click(core, alice, "cr.approve", str(cr.id))
    assert (await milestone(core)).due_date == date(2027, 2, 1)  # not before the quorum
    r = await click(core, victor, "cr.approve", str(cr.id))
    assert "Quorum reached" in said(r)
    assert (await get(core, cr.id)).state == "approved"
    # Five business days in the client's calendar (London, no holidays set): Mon 1 Feb → Mon 8 Feb.
    m = await milestone(core)
    assert m.due_date == date(2027, 2, 8)
    await core.drain()
    assert posts(core, "ACME-CR-1 was approved with 5 business days of schedule impact: ACME-M-1")
    assert ("due_moved", "planned", "planned") in await steps(core, m.id)
