"""On SQLite, the process's writers take turns, in arrival order: one place that owns the rule.

SQLite has a single writer, and Cadence opens every transaction with BEGIN IMMEDIATE (storage/db.py), so
two writers never really run their transactions at once. When they try, the loser waits inside SQLite's
busy handler, which naps 1, 2, 5 … up to 100 ms between attempts and favours no one: back-to-back timer
batches starved the outbox's delivery claim for up to 0.6 s, and under bench/teams_ack.py at 10 concurrent
chats the p99 of a Teams turn was 1.6 s while the median was 60 ms, the naps leaving the processor idle.
Queuing the writers on an asyncio lock (FIFO in CPython) instead hands the database to the next writer
the moment the previous one is done with it.

The core holds one `WriterTurns` for the process (`core.writer_turns`): timer batches, the outbox's claims
and records, and Teams turns take it. Slack's inbox keeps a queue of its own, explicitly
(handlers/slack/intake.py says why). PostgreSQL needs none of this: there the turns are open.
"""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import is_sqlite


class WriterTurns:
    """`async with turns():` around a write transaction. On SQLite (`serialise`) one at a time, first come
    first served; otherwise open. Not re-entrant: hold it only around a transaction, never around a call
    that may take it again."""

    def __init__(self, *, serialise: bool) -> None:
        self._lock = asyncio.Lock() if serialise else None  # None: the turns are open

    @classmethod
    def for_engine(cls, engine: AsyncEngine) -> WriterTurns:
        """Serialised on SQLite, open on PostgreSQL."""
        return cls(serialise=is_sqlite(engine))

    @property
    def serialised(self) -> bool:
        return self._lock is not None

    def __call__(self) -> contextlib.AbstractAsyncContextManager[object]:
        return self._lock if self._lock is not None else contextlib.nullcontext()
