"""Change requests' part of a meeting agenda, built at the moment it is asked for (controlled clock, Mon 4 Jan
2027 08:00 UTC): a request waiting for approval is listed with whose approval is missing and how long it has
waited; one not yet assessed, or already decided, is not."""

from __future__ import annotations

from datetime import timedelta

from tests.features.change_requests.support import file_cr, pending_cr
from tests.features.raid.support import agenda_lines
from tests.helpers import make_engagement, run


async def test_requests_waiting_for_a_decision_and_on_whom(core):
    people = await make_engagement(core)
    assert await agenda_lines(core, "change_requests") == []
    waiting = await pending_cr(core, people)  # filed by carol: alice (client) and victor (vendor) decide
    await file_cr(core, people["carol"], title="Dark mode")  # submitted, not assessed: no decision asked yet
    core.clock.advance(timedelta(days=2, hours=3))
    [line] = await agenda_lines(core, "change_requests")
    assert line.startswith("ACME-CR-1 · Single sign-on — waiting for Alice, Victor for 2 d 3 h (since ")
    await run(core, people["alice"], f"/cr approve ACME-CR-{waiting.number}")
    [line] = await agenda_lines(core, "change_requests", kind="review")
    assert "waiting for Victor for" in line and "Alice" not in line
    await run(core, people["victor"], "/cr approve ACME-CR-1")
    assert await agenda_lines(core, "change_requests") == []  # approved: off the agenda
