"""Many Teams turns at once (as bench/teams_ack.py drives them): each is answered exactly once, none fails —
on SQLite they queue for the database (handlers/teams/db_gate.py), on PostgreSQL they overlap."""

from __future__ import annotations

import asyncio


async def test_concurrent_turns_are_each_answered_once(teams) -> None:
    general = teams.channel("general")
    asha = teams.user("asha")
    assert (await teams.say(asha, "cadence setup ACME Acme shop", where=general)).status == 200
    people = [teams.user(f"user{n}") for n in range(12)]
    results = await asyncio.gather(
        *(teams.say(p, "cadence whoami") for p in people),
        *(teams.say(asha, "defect list", where=general) for _ in range(8)),
    )
    assert [r.status for r in results] == [200] * 20
    for p in people:
        [reply] = teams.connector.sent(f"a:dm-{p.key}")
        assert "went wrong" not in reply.text_dump()
    channel_replies = [c for c in teams.connector.sent(general.id) if c.kind == "reply"]
    assert len(channel_replies) >= 8 and not any("went wrong" in c.text_dump() for c in channel_replies)
