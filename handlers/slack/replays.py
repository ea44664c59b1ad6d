"""A signed Slack request sent again — byte for byte, within Slack's 5-minute window, to this replica or
another — is acknowledged and not applied twice.

Each verified request's signature is inserted into `slack_seen_requests` (primary key: the signature)
before the request is handed on; a second insert of the same signature finds the row and the request is a
replay. The database makes this hold across replicas. Rows older than the window are pruned: a request
that old is refused for its timestamp before it gets here. Slack's own redeliveries of an event carry a
new timestamp and so a new signature; those are recognised by their event id (events.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.kernel.clock import Clock
from handlers.slack.transport import REPLAY_WINDOW_SECONDS
from storage.models.slack_inbox import SlackSeenRequest

log = logging.getLogger("cadence.slack")

WINDOW = timedelta(seconds=REPLAY_WINDOW_SECONDS)
# Pruning is one indexed DELETE; once a minute is plenty to keep the table at a few minutes of traffic.
PRUNE_EVERY = timedelta(minutes=1)


class ReplayGuard:
    """Requests that arrive together are recorded with one INSERT and one commit (group commit, as the
    inbox does): a transaction per request made acks wait behind each other on SQLite's single writer
    (bench/slack_ack.py, 50 clients: p99 114 ms → 316 ms)."""

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        *,
        turn: Callable[[], contextlib.AbstractAsyncContextManager[None]],
    ) -> None:
        self.engine = engine
        self.clock = clock
        self._postgres = engine.dialect.name == "postgresql"
        self._insert = postgresql.insert if self._postgres else sqlite.insert
        # One connection kept for these writes: a pool checkout pings the server first, and on PostgreSQL the
        # batch is one autocommitted statement, one round trip (as the inbox's writer, inbox.py).
        self._conn: AsyncConnection | None = None
        self._turn = turn  # SQLite: the write takes its turn with the inbox's (intake.py)
        self._pruned_at: datetime | None = None
        self._waiting: list[tuple[str, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def first_time(self, signature: str) -> bool:
        """Record `signature`; False if it was already recorded (a replay)."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((signature[:80], done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_batches(), name="slack-replay-writer")
        return await done

    async def _write_batches(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                inserted = await self._record({signature for signature, _ in batch})
            except Exception as exc:  # noqa: BLE001 - every waiter gets the error (the route answers 503)
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for signature, done in batch:
                if not done.done():
                    done.set_result(signature in inserted)
                inserted.discard(signature)  # the same signature twice in one batch: the second is a replay

    async def _record(self, signatures: set[str]) -> set[str]:
        """Insert the signatures; returns those that were new."""
        now = self.clock.now()
        statement = (
            self._insert(SlackSeenRequest)
            .values([{"signature": signature, "seen_at": now} for signature in sorted(signatures)])
            .on_conflict_do_nothing()
            .returning(SlackSeenRequest.signature)
        )
        prune = self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY
        for attempt in (1, 2):
            try:
                async with self._turn():
                    conn = await self._connection()
                    async with conn.begin():  # SQLite: BEGIN IMMEDIATE … COMMIT; PostgreSQL: autocommit
                        inserted = set((await conn.execute(statement)).scalars())
                        if prune:
                            await conn.execute(delete(SlackSeenRequest).where(SlackSeenRequest.seen_at < now - WINDOW))
                if prune:
                    self._pruned_at = now
                return inserted
            except DBAPIError as exc:
                await self.close()
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    async def _connection(self) -> AsyncConnection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            conn = await self.engine.connect()
            if self._postgres:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            self._conn = conn
        return self._conn

    async def close(self) -> None:
        if self._conn is not None:
            try:
                await self._conn.close()
            except Exception:  # closing a broken connection
                log.debug("slack replays: closing the writer's connection failed", exc_info=True)
            self._conn = None
