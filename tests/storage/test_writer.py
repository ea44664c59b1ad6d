"""storage/writer.py: on SQLite, writers take the database one at a time, first come first served;
elsewhere the turns are open."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import create_async_engine

from storage.writer import WriterTurns


async def test_serialised_turns_go_one_at_a_time_in_arrival_order() -> None:
    turns = WriterTurns(serialise=True)
    inside, order = 0, []

    async def turn(n: int) -> None:
        nonlocal inside
        async with turns():
            inside += 1
            assert inside == 1
            order.append(n)
            await asyncio.sleep(0.001)
            inside -= 1

    await asyncio.gather(*(turn(n) for n in range(20)))
    assert order == list(range(20))


async def test_open_turns_let_writers_overlap() -> None:
    turns = WriterTurns(serialise=False)
    inside, most = 0, 0

    async def turn() -> None:
        nonlocal inside, most
        async with turns():
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.001)
            inside -= 1

    await asyncio.gather(*(turn() for _ in range(5)))
    assert most == 5


def test_sqlite_is_serialised_and_postgres_is_open() -> None:
    assert WriterTurns.for_engine(create_async_engine("sqlite+aiosqlite:///:memory:")).serialised
    assert not WriterTurns.for_engine(create_async_engine("postgresql+asyncpg://u@127.0.0.1/x")).serialised
