"""On SQLite, Teams turns use the database one at a time, in arrival order.

SQLite has a single writer, and Cadence opens every transaction with BEGIN IMMEDIATE (storage/db.py), so
two turns never really run their transactions at once. When they try, the loser waits inside SQLite's
busy handler, which naps 1, 2, 5 … up to 100 ms between attempts and favours no one: under
bench/teams_ack.py at 10 concurrent chats that made the p99 of a turn 1.6 s while the median was 60 ms, and
the naps left the processor idle. Queuing the turns on an asyncio lock (FIFO in CPython) instead hands the
database to the next turn the moment the previous one is done with it.

Only the database part of a turn is held (the idempotency record, the sender's row, the core's work);
rendering and the reply to the connector run outside it. The lock is the core's `sqlite_turns`, shared
with the timers and the outbox (Slack's inbox keeps its own). PostgreSQL needs none of this: no gate there.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class DatabaseGate:
    def __init__(self, lock: asyncio.Lock | None) -> None:
        self._lock = lock  # None: the gate is open

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[None]:
        """`async with gate():` around a turn's database work. Not re-entrant: never nest."""
        if self._lock is None:
            yield
            return
        async with self._lock:
            yield
