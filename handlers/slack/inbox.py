"""The durable Slack inbox (table `slack_inbox`): record a verified command or click before its ack,
claim it inside the transaction that runs it, list what a crash left behind.

Requests that arrive together are written with one INSERT and one commit (group commit): while one batch
is being committed, the next arrivals gather for the following one. On SQLite, where every commit waits
for the disk and for the single writer, that is what keeps acks fast under a burst."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.kernel.clock import Clock
from storage.models.slack_inbox import SlackInboxItem
from storage.results import rowcount
from storage.writer import WriterTurns

log = logging.getLogger("cadence.slack.inbox")


class Inbox:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        engine: AsyncEngine,
        clock: Clock,
        *,
        turns: WriterTurns | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.engine = engine
        self.clock = clock
        self.turns = turns or WriterTurns(serialise=False)  # SQLite: taken in turn with the inbox work (intake.py)
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[int]]] = []
        self._writer: asyncio.Task | None = None
        # The writer keeps one connection: a pool checkout pings the server first (three round trips on
        # asyncpg), and on PostgreSQL the batch is one autocommitted statement — one round trip in all.
        self._conn: AsyncConnection | None = None
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        self._sqlite = SqliteBatches(engine, database) if database and database != ":memory:" else None

    async def record(self, kind: str, workspace_id: str, payload: dict[str, Any]) -> int:
        """Store one request durably; returns its row id once committed (shared with its batch)."""
        # Slack's legacy verification token is not needed to run the request again: not stored.
        kept = {key: value for key, value in payload.items() if key != "token"}
        row = {"kind": kind, "workspace_id": workspace_id[:32], "payload": kept, "received_at": self.clock.now()}
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append((row, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_batches(), name="slack-inbox-writer")
        return await done

    async def _write_batches(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                async with self.turns():
                    ids = await self._insert([row for row, _ in batch])
            except Exception as exc:  # noqa: BLE001 - every waiter gets the error: none of them is acked
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for (_, done), row_id in zip(batch, ids, strict=False):
                if not done.done():
                    done.set_result(row_id)

    async def _insert(self, rows: list[dict[str, Any]]) -> list[int]:
        if self._sqlite is not None:
            return await self._sqlite.insert(rows)
        statement = insert(SlackInboxItem).returning(SlackInboxItem.id, sort_by_parameter_order=True)
        for attempt in (1, 2):
            try:
                conn = await self._connection()
                async with conn.begin():  # SQLite: BEGIN IMMEDIATE … COMMIT; PostgreSQL: autocommit
                    return list((await conn.execute(statement, rows)).scalars())
            except DBAPIError as exc:
                await self.close()
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    async def _connection(self) -> AsyncConnection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            conn = await self.engine.connect()
            if self.engine.dialect.name == "postgresql":
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            self._conn = conn
        return self._conn

    async def close(self) -> None:
        if self._sqlite is not None:
            await self._sqlite.close()
        if self._conn is not None:
            try:
                await self._conn.close()
            except Exception:
                log.debug("slack inbox: closing the writer's connection failed", exc_info=True)
            self._conn = None

    @staticmethod
    async def claim(session: AsyncSession, row_id: int) -> bool:
        """Inside the work's transaction: take the row (delete it). False if another process already ran
        it; on PostgreSQL a concurrent claim waits for this transaction and then finds nothing."""
        result = await session.execute(delete(SlackInboxItem).where(SlackInboxItem.id == row_id))
        return rowcount(result) == 1

    async def done(self, row_id: int) -> None:
        """Drop the row after work that did not commit (a refusal changes nothing; running it again
        would only refuse again)."""
        async with self.session_factory() as session, session.begin():
            await session.execute(delete(SlackInboxItem).where(SlackInboxItem.id == row_id))

    async def left_over(
        self, *, received_before: datetime, after_id: int = 0, limit: int = 500
    ) -> list[SlackInboxItem]:
        """Rows older than `received_before`, oldest first, a page at a time: work a stopped or crashed
        process left."""
        async with self.session_factory() as session:
            rows = await session.scalars(
                select(SlackInboxItem)
                .where(SlackInboxItem.received_at < received_before, SlackInboxItem.id > after_id)
                .order_by(SlackInboxItem.id)
                .limit(limit)
            )
            return list(rows)

    def stale_before(self, age: timedelta) -> datetime:
        return self.clock.now() - age


def _rowid(cursor: sqlite3.Cursor) -> int:
    """The id an INSERT just gave its row (sqlite3 types lastrowid as optional: None before any INSERT)."""
    if cursor.lastrowid is None:
        raise RuntimeError("the INSERT gave no row id")
    return cursor.lastrowid


class SqliteBatches:
    """SQLite: a batch written in one hand-off to a thread of its own, on its own sqlite3 connection.

    Through aiosqlite, BEGIN, INSERT, fetching the ids and COMMIT are eight hand-offs to its thread, and each
    resumes only on a later turn of the busy event loop: 4 ms for a batch of eight under a burst. Here the
    whole transaction runs in the thread (sqlite3 releases the GIL while it works) and the loop is woken once.
    Values are converted by the columns' own SQLAlchemy types, so the rows read back as if the ORM wrote them."""

    SQL = "INSERT INTO slack_inbox (kind, workspace_id, payload, received_at) VALUES (?, ?, ?, ?)"
    COLUMNS = ("kind", "workspace_id", "payload", "received_at")

    def __init__(self, engine: AsyncEngine, database: str) -> None:
        self.engine = engine
        self.database = database
        columns = SlackInboxItem.__table__.c
        dialect = engine.dialect
        self._convert = [
            columns[name].type.dialect_impl(dialect).bind_processor(dialect) or (lambda v: v) for name in self.COLUMNS
        ]
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="slack-inbox-sqlite")
        self._db: sqlite3.Connection | None = None  # created and used in that thread only
        self._synchronous: int | None = None

    async def insert(self, rows: list[dict[str, Any]]) -> list[int]:
        if self._synchronous is None:  # the same durability as the engine's own commits (FULL unless told)
            async with self.engine.connect() as conn:
                self._synchronous = int(await conn.scalar(text("PRAGMA synchronous")))
        params = [
            tuple(convert(row[name]) for convert, name in zip(self._convert, self.COLUMNS, strict=False))
            for row in rows
        ]
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._write, params)

    def _write(self, params: list[tuple[Any, ...]]) -> list[int]:
        if self._db is None:
            db = sqlite3.connect(self.database, timeout=30, isolation_level=None)
            db.execute("PRAGMA busy_timeout=30000")
            db.execute(f"PRAGMA synchronous={self._synchronous}")
            self._db = db
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            ids = [_rowid(db.execute(self.SQL, values)) for values in params]
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return ids

    async def close(self) -> None:
        def _close() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        await asyncio.get_running_loop().run_in_executor(self._thread, _close)
        self._thread.shutdown(wait=False)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="slack-inbox-sqlite")
