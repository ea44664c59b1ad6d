"""storage/db.py: a read session on SQLite begins a deferred transaction, so a look-up (the directory's
questions from a front end) reads a snapshot while a writer holds the database instead of queuing behind it;
every other session still begins IMMEDIATE."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from storage.db import create_engine, read_session_factory, session_factory


async def test_a_read_session_does_not_wait_for_a_writer(tmp_path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'read.db'}", sqlite_synchronous="NORMAL")
    writes, reads = session_factory(engine), read_session_factory(engine)
    try:
        async with writes() as s, s.begin():
            await s.execute(text("CREATE TABLE t (v INTEGER)"))
            await s.execute(text("INSERT INTO t VALUES (1)"))
        async with writes() as writer, writer.begin():
            await writer.execute(text("UPDATE t SET v = 2"))  # holds the write lock, not committed
            async with reads() as reader:  # would wait for the writer (busy timeout: 30 s) if it began IMMEDIATE
                seen = await asyncio.wait_for(reader.scalar(text("SELECT v FROM t")), timeout=5)
            assert seen == 1  # the snapshot before the writer's change
    finally:
        await engine.dispose()
