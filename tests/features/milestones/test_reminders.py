"""Reminders left from part 1: a pending due-date proposal is reminded to the deciding side's admins at 10:00
their own time on their next work day (like contract amendments) until decided; a rectification item still
open after its due date is flagged to the vendor admins once."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.features.milestones import forms
from tests.features.milestones.support import dms_to, said, timers
from tests.helpers import make_engagement, run, submit


async def test_pending_due_date_proposal_is_reminded_until_decided(core):
    people = await make_engagement(core)
    alice, victor = people["alice"], people["victor"]
    await run(core, victor, "/milestone add Beta due feb 1")
    r = await run(core, victor, "/milestone edit 1 due feb 8")
    assert "Proposed moving ACME-M-1" in said(r), said(r)
    # Mon 4 Jan: the client's admins at 10:00 on their next work day (London 10:00, New York 10:00).
    due = sorted(t.due_at for t in await timers(core, "milestone.change_remind:"))
    assert due == [datetime(2027, 1, 5, 10, 0, tzinfo=UTC), datetime(2027, 1, 5, 15, 0, tzinfo=UTC)]
    core.clock.set(datetime(2027, 1, 5, 16, 0, tzinfo=UTC))
    await core.drain()
    assert len(dms_to(core, "alice", "Reminder: moving the due date of ACME-M-1")) == 1
    assert len(dms_to(core, "carol", "Reminder: moving the due date of ACME-M-1")) == 1
    assert not dms_to(core, "victor", "Reminder: moving the due date")
    assert len(await timers(core, "milestone.change_remind:")) == 2  # again on Wednesday
    r = await run(core, alice, "/milestone proposal approve 1")
    assert "You approved proposal #1" in said(r), said(r)
    assert await timers(core, "milestone.change_remind:") == []
    core.clock.set(datetime(2027, 1, 8, 16, 0, tzinfo=UTC))
    await core.drain()
    assert len(dms_to(core, "alice", "Reminder: moving the due date")) == 1


async def test_overdue_rectification_item_is_flagged_to_vendor_admins_once(core):
    people = await make_engagement(core)
    alice, victor = people["alice"], people["victor"]
    await run(core, victor, "/milestone add Beta due feb 1")
    await run(core, victor, "/milestone submit 1 | Beta on staging")
    r = await run(core, alice, "/milestone reject 1")
    r = await submit(core, alice, forms.REJECT, {"reasons": "VAT column missing\nLogin not translated"}, r.form.state)
    assert "2 rectification items" in said(r), said(r)
    await run(core, people["dev"], "/milestone done ACME-M-1-R1")
    # Due Mon 11 Jan (five business days, London); flagged the morning after, once.
    core.clock.set(datetime(2027, 1, 12, 12, 0, tzinfo=UTC))
    await core.drain()
    for name in ("victor", "lena"):
        assert len(dms_to(core, name, "Rectification ACME-M-1-R2 is overdue")) == 1
        assert not dms_to(core, name, "ACME-M-1-R1 is overdue")
    assert not dms_to(core, "dev", "is overdue")
    core.clock.set(datetime(2027, 1, 20, 12, 0, tzinfo=UTC))
    await core.drain()
    assert len(dms_to(core, "victor", "Rectification ACME-M-1-R2 is overdue")) == 1
