"""The acceptance window's end: the channel told and the client sponsor escalated to once; deemed
acceptance (when the engagement's rule says so) recorded once — also across a restart, and with two
processes draining at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from tests.features.milestones.support import (
    acceptance,
    dms_to,
    milestone,
    posts,
    set_engagement,
    set_settings,
    steps,
    timers,
)
from tests.helpers import make_engagement, run, sent


async def test_window_end_escalates_once_and_stays_open(core):
    people = await make_engagement(core)
    await set_engagement(core, client_country="GB")
    await run(core, people["victor"], "/milestone add Beta due feb 1")
    await run(core, people["victor"], "/milestone submit 1 | Beta on staging")
    await core.drain()
    end = (await timers(core, "milestone.window_end:"))[0].due_at
    # Mon 4 Jan 08:00 London: ten business days → the end of Mon 18 Jan (London).
    assert end == datetime(2027, 1, 19, 0, 0, tzinfo=UTC)
    # Approvers are reminded at their morning on work days while the window is open.
    for day in (5, 6):
        core.clock.set(datetime(2027, 1, day, 15, 0, tzinfo=UTC))
        await core.drain()
    assert len(dms_to(core, "carol", "Reminder: your decision")) == 2  # Tue and Wed 09:00 New York
    core.clock.set(datetime(2027, 1, 20, 12, 0, tzinfo=UTC))
    await core.drain()
    assert len(posts(core, "Acceptance window ended: ACME-M-1")) == 1
    assert len(dms_to(core, "alice", "Escalation: the acceptance window of ACME-M-1 ended")) == 1
    assert not dms_to(core, "carol", "Escalation")
    assert (await milestone(core)).state == "submitted"  # deemed acceptance is off by default
    reminders = len(dms_to(core, "carol", "Reminder: your decision"))
    core.clock.set(datetime(2027, 1, 27, 12, 0, tzinfo=UTC))
    await core.drain()
    assert len(dms_to(core, "alice", "Escalation")) == 1  # once
    assert len(dms_to(core, "carol", "Reminder: your decision")) == reminders  # not after the window


async def test_deemed_acceptance_of_the_final_milestone_starts_the_warranty(core):
    people = await make_engagement(core)
    await set_settings(core, deemed_acceptance=True, warranty_months=12)
    await run(core, people["victor"], "/milestone add Go-live due feb 1 final")
    await run(core, people["victor"], "/milestone submit 1 | Everything")
    core.clock.set(datetime(2027, 1, 25, 12, 0, tzinfo=UTC))
    await core.drain()
    m = await milestone(core)
    assert m.state == "deemed_accepted"
    record = await acceptance(core)
    assert record.deemed and record.accepted_by_id is None
    assert record.accepted_on == date(2027, 1, 19) and record.warranty_until == date(2028, 1, 19)
    assert ("deemed_accepted", "submitted", "deemed_accepted") in await steps(core, m.id)
    assert len(posts(core, "is deemed accepted")) == 1
    # Thirty days before the warranty ends, both PMs are asked to hold the review.
    core.clock.set(datetime(2027, 12, 21, 12, 0, tzinfo=UTC))
    await core.drain()
    assert len(dms_to(core, "carol", "time for the warranty review")) == 1
    assert len(dms_to(core, "victor", "time for the warranty review")) == 1
    assert not dms_to(core, "alice", "warranty review")


async def test_a_restart_while_the_window_ends_fires_it_once(any_db_url, clock, make_core):
    first = await make_core(any_db_url)
    people = await make_engagement(first)
    await set_settings(first, deemed_acceptance=True)
    await run(first, people["victor"], "/milestone add Beta due feb 1")
    await run(first, people["victor"], "/milestone submit 1 | Beta")
    await first.drain()
    await first.engine.dispose()  # the process dies before the window ends

    clock.set(datetime(2027, 1, 19, 6, 0, tzinfo=UTC))  # down past the window's end
    second = await make_core(any_db_url)
    third = await make_core(any_db_url)
    await asyncio.gather(second.drain(), third.drain())
    await second.drain()
    ended = posts(second, "Acceptance window ended") + posts(third, "Acceptance window ended")
    assert len(ended) == 1, [d.text[:60] for d in sent(second) + sent(third)]
    escalations = dms_to(second, "alice", "Escalation") + dms_to(third, "alice", "Escalation")
    assert len(escalations) == 1
    m = await milestone(second)
    assert m.state == "deemed_accepted"
    assert [s for s in await steps(second, m.id) if s[0] == "deemed_accepted"] == [
        ("deemed_accepted", "submitted", "deemed_accepted")
    ]
    fired = await timers(second, "milestone.window_end:", "done")
    assert len(fired) == 1 and fired[0].lateness_seconds > 0
