"""Standups' part of a meeting agenda, built at the moment it is asked for (controlled clock): open blockers
with who raised them, since when (a repeated blocker dates from its first day) and the text shortened; closed
ones and answers without a blocker are not listed."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from storage.models import Engagement, Person
from storage.models.standups import StandupEntry
from tests.features.raid.support import agenda_lines
from tests.helpers import make_engagement


async def _entry(s, eng, person, day, blocker, *, of=None, closed=False):
    at = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    e = StandupEntry(
        engagement_id=eng.id,
        person_id=person.id,
        day=day,
        questions=[],
        answers=[],
        status="answered",
        answered_at=at,
        updated_at=at,
        blocker=blocker,
        blocker_of_id=of.id if of else None,
        blocker_closed_at=at if closed else None,
    )
    s.add(e)
    await s.flush()
    return e


async def test_open_blockers_who_and_since_when(core):
    await make_engagement(core)
    assert await agenda_lines(core, "standups") == []
    async with core.session_factory() as s, s.begin():
        eng = await s.scalar(select(Engagement).where(Engagement.key == "ACME"))
        dev = await s.scalar(select(Person).where(Person.display_name == "Dev"))
        quinn = await s.scalar(select(Person).where(Person.display_name == "Quinn"))
        first = await _entry(s, eng, dev, date(2027, 1, 4), "Waiting for sandbox keys from Acme")
        await _entry(s, eng, dev, date(2027, 1, 5), "waiting for sandbox keys from Acme", of=first)
        await _entry(s, eng, quinn, date(2027, 1, 5), "Test devices " + "x" * 200)
        await _entry(s, eng, quinn, date(2027, 1, 4), "VPN down", closed=True)
        await _entry(s, eng, dev, date(2027, 1, 3), None)
    lines = await agenda_lines(core, "standups", kind="kickoff")
    assert lines[0] == "Dev since Mon 4 Jan 2027: waiting for sandbox keys from Acme"
    assert lines[1].startswith("Quinn since Tue 5 Jan 2027: Test devices xxx") and lines[1].endswith("…")
    assert len(lines) == 2
