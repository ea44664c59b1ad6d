"""Defects' part of a meeting agenda, built at the moment it is asked for (controlled clock, Mon 4 Jan 2027
08:00 UTC, a 24×7 S1: response 1 h, warning at 75 %): a defect past the warning threshold of a running clock is
at risk with the time left, one past the target is breached and overdue; a stopped clock leaves it."""

from __future__ import annotations

from datetime import timedelta

from tests.features.defects.support import engagement
from tests.features.raid.support import agenda_lines
from tests.helpers import run


async def test_defects_at_risk_or_breached(core):
    people = await engagement(core)
    await run(core, people["carol"], "/defect s1 Checkout is down")
    await run(core, people["carol"], "/defect s4 Logo is blurry")
    assert await agenda_lines(core, "defects") == []  # nothing near a target yet
    core.clock.advance(timedelta(minutes=50))  # S1 response: 50 of 60 min, past 75 %
    assert await agenda_lines(core, "defects") == ["ACME-D-1 · S1 Checkout is down — response clock: 10 min left"]
    core.clock.advance(timedelta(minutes=25))
    assert await agenda_lines(core, "defects") == ["ACME-D-1 · S1 Checkout is down — response clock overdue by 15 min"]
    await run(core, people["victor"], "/defect ack ACME-D-1")
    assert await agenda_lines(core, "defects") == []  # acknowledged: the response clock stopped
    core.clock.advance(timedelta(hours=18))  # resolution: 19 h 15 min of 24 h, past 75 %
    assert await agenda_lines(core, "defects") == ["ACME-D-1 · S1 Checkout is down — resolution clock: 4 h 45 min left"]
