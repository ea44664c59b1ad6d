"""handlers/teams/db_gate.py: on SQLite, Teams turns take the database one at a time, first come first served;
elsewhere the gate is open."""

from __future__ import annotations

import asyncio

from handlers.teams.db_gate import DatabaseGate
from handlers.teams.store import KnownSenders


async def test_the_gate_serialises_in_arrival_order() -> None:
    gate = DatabaseGate(asyncio.Lock())
    inside, order = 0, []

    async def turn(n: int) -> None:
        nonlocal inside
        async with gate():
            inside += 1
            assert inside == 1
            order.append(n)
            await asyncio.sleep(0.001)
            inside -= 1

    await asyncio.gather(*(turn(n) for n in range(20)))
    assert order == list(range(20))


async def test_an_open_gate_lets_turns_overlap() -> None:
    gate = DatabaseGate(None)
    inside, most = 0, 0

    async def turn() -> None:
        nonlocal inside, most
        async with gate():
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.001)
            inside -= 1

    await asyncio.gather(*(turn() for _ in range(5)))
    assert most == 5


def test_known_senders_skip_only_unchanged_fresh_entries() -> None:
    known = KnownSenders(ttl=60, size=2)
    assert not known.is_current("t", "u1", "29:u1", "Asha", "https://s/")
    known.note("t", "u1", "29:u1", "Asha", "https://s/")
    assert known.is_current("t", "u1", "29:u1", "Asha", "https://s/")
    assert not known.is_current("t", "u1", "29:u1", "Asha Rao", "https://s/")  # renamed: store again
    assert not known.is_current("t", "u1", "29:u1", "Asha", "https://other/")  # moved tenant region
    known.forget("t", "u1")
    assert not known.is_current("t", "u1", "29:u1", "Asha", "https://s/")
    for n in range(3):
        known.note("t", f"x{n}", "b", None, None)
    assert not known.is_current("t", "x0", "b", None, None)  # bounded: the oldest went
    expired = KnownSenders(ttl=0)
    expired.note("t", "u", "b", None, None)
    assert not expired.is_current("t", "u", "b", None, None)
