"""A Teams message activity delivered twice is applied once: its id is recorded in the same transaction as
its work (core.claim_event), so the record and the work commit, or roll back, together."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from storage.models import ProcessedEvent
from tests.frontends.teams.harness import BOT_ID


def _mention() -> list[dict]:
    return [{"type": "mention", "text": "<at>Cadence</at>", "mentioned": {"id": BOT_ID, "name": "Cadence"}}]


async def test_a_direct_message_delivered_twice_is_answered_once(teams) -> None:
    asha = teams.user("asha")
    activity = teams.activity(asha, teams.personal(asha), text="cadence whoami")
    first = await teams.post(activity)
    second = await teams.post(activity)
    assert first.status == second.status == 200
    assert len(first.replies) == 1 and second.calls == []


async def test_the_same_activity_twice_at_once_is_applied_once(teams) -> None:
    asha = teams.user("asha")
    general = teams.channel("general")
    await teams.post(
        teams.activity(asha, general, text="<at>Cadence</at> cadence setup ACME Acme shop", entities=_mention())
    )
    activity = teams.activity(asha, general, text="<at>Cadence</at> defect s2 Checkout is slow", entities=_mention())
    results = await asyncio.gather(teams.post(activity), teams.post(activity))
    assert [r.status for r in results] == [200, 200]
    assert sum(len(r.replies) for r in results) >= 1
    async with teams.core.session_factory() as s:
        from storage.models.defects import Defect

        assert await s.scalar(select(func.count()).select_from(Defect)) == 1


async def test_a_refused_command_leaves_no_record(teams) -> None:
    asha = teams.user("asha")
    general = teams.channel("general")  # not bound to an engagement: `defect list` is refused
    activity = teams.activity(asha, general, text="<at>Cadence</at> defect list", entities=_mention())
    first = await teams.post(activity)
    assert "not bound" in first.text
    async with teams.core.session_factory() as s:
        assert await s.scalar(select(func.count()).select_from(ProcessedEvent)) == 0
    second = await teams.post(activity)  # refused again, nothing applied either time
    assert "not bound" in second.text
