"""Timers are data: every future action is a row with its due time. A due timer is claimed inside the
same transaction that runs its handler and marks it done, so its effects commit exactly once — on
PostgreSQL with FOR UPDATE SKIP LOCKED so replicas share the work, on SQLite under BEGIN IMMEDIATE.
A crash rolls the transaction back and the timer stays due: it fires after restart, late, once."""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import ColumnElement, and_, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.kernel.context import TimerCtx
from bot.kernel.engagements import prefetch_bindings
from storage.models import Engagement, Timer
from storage.results import rowcount

if TYPE_CHECKING:
    from bot.kernel.outbox import Outbox
    from bot.kernel.runtime import Runtime

log = logging.getLogger("cadence.timers")

MAX_ATTEMPTS = 5


class _Unknown(Enum):
    UNKNOWN = 0  # schedule(existing=…) not given


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def key_starts_with(session: AsyncSession, prefix: str) -> ColumnElement[bool]:
    """`Timer.key` starts with `prefix`, in the form each database answers from an index: a key range on
    SQLite (binary collation, where LIKE … ESCAPE scans the table), LIKE on PostgreSQL (the
    varchar_pattern_ops index of migration 0009_perf)."""
    if session.bind is not None and session.bind.dialect.name == "sqlite":
        return and_(Timer.key >= prefix, Timer.key < prefix + "\U0010ffff")
    return Timer.key.startswith(prefix, autoescape=True)


# Marks a batch's fired timers done: a Core statement on the table, run with one parameter set per timer.
_MARK_DONE = (
    update(Timer.__table__)
    .where(Timer.__table__.c.id == bindparam("timer_id"))
    .values(
        status=bindparam("status"),
        fired_at=bindparam("fired_at"),
        lateness_seconds=bindparam("lateness_seconds"),
        fired_by=bindparam("fired_by"),
    )
)


class _BatchNeedsCare(Exception):
    """A handler failed in a batch fired without savepoints: roll back and fire it one by one."""

    def __init__(self, timer_id: int, error: Exception) -> None:
        super().__init__(f"timer {timer_id} failed")
        self.timer_id = timer_id
        self.error = error


class TimerService:
    def __init__(self, runtime: Runtime, outbox: Outbox) -> None:
        self.runtime = runtime
        self.outbox = outbox  # a batch's messages go in with it (Outbox.batch)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.batch_size = 200  # the most timers fired in one transaction
        self.first_batch = 25  # a burst starts with a batch this small (see run_due)

    # -- scheduling (inside the caller's transaction) -------------------------------------------
    async def schedule(
        self,
        session: AsyncSession,
        *,
        kind: str,
        due_at: datetime,
        payload: dict[str, Any] | None = None,
        key: str | None = None,
        engagement_id: int | None = None,
        existing: Timer | Literal[_Unknown.UNKNOWN] | None = _Unknown.UNKNOWN,
    ) -> Timer:
        """Create a timer; with a `key`, a pending one is rescheduled and a fired one is left alone.
        `existing`: the caller already loaded the timer under `key` (None: there is none), which saves the
        look-up when planning many at once."""
        if due_at.tzinfo is None:
            raise ValueError("due_at must be zone-aware")
        if key is not None:
            if isinstance(existing, _Unknown):
                found = await session.scalar(select(Timer).where(Timer.key == key))
            else:
                found = existing
            if found is not None:
                if found.status in ("pending", "cancelled"):
                    found.due_at = due_at
                    found.payload = payload or {}
                    found.status = "pending"
                    found.attempts = 0
                    self.runtime.note_due(due_at)
                return found
        values = {
            "kind": kind,
            "key": key,
            "due_at": due_at,
            "payload": payload or {},
            "status": "pending",
            "engagement_id": engagement_id,
            "attempts": 0,
            "created_at": self.runtime.clock.now(),
        }
        if key is None:
            timer = Timer(**values)
            session.add(timer)
            await session.flush()
        else:
            # INSERT … ON CONFLICT (key) DO NOTHING: one statement where a savepoint, an INSERT and a release
            # were three (planning 10,000 standup prompts, bench/standup_fanout.py). Nothing comes back if
            # another replica created the same key since our look-up: theirs stands.
            insert_ = pg_insert if self.runtime.is_postgres else sqlite_insert
            stmt = insert_(Timer).values(**values).on_conflict_do_nothing(index_elements=["key"]).returning(Timer)
            inserted = (await session.scalars(stmt)).first()
            if inserted is None:
                theirs = await session.scalar(select(Timer).where(Timer.key == key))
                if theirs is None:
                    raise RuntimeError(f"timer {key!r} neither inserted nor found")
                return theirs
            timer = inserted
        self.runtime.note_due(due_at)
        return timer

    async def cancel(self, session: AsyncSession, key: str) -> bool:
        result = await session.execute(
            update(Timer).where(Timer.key == key, Timer.status == "pending").values(status="cancelled")
        )
        return rowcount(result) > 0

    async def cancel_prefix(self, session: AsyncSession, key_prefix: str) -> int:
        result = await session.execute(
            update(Timer)
            .where(key_starts_with(session, key_prefix), Timer.status == "pending")
            .values(status="cancelled")
        )
        return rowcount(result)

    async def get(self, session: AsyncSession, key: str) -> Timer | None:
        return await session.scalar(select(Timer).where(Timer.key == key))

    async def next_due(self) -> datetime | None:
        async with self.runtime.session_factory() as session:
            return await session.scalar(
                select(Timer.due_at).where(Timer.status == "pending").order_by(Timer.due_at).limit(1)
            )

    # -- firing -----------------------------------------------------------------------------------
    async def run_due(self, limit: int | None = None) -> int:
        """Fire every due timer (in batches); returns how many fired.

        The first batch is small and each next one twice as large, up to `batch_size`: the first messages
        of a burst leave soon (delivery starts when a batch commits), and the rest go in fewer, larger
        transactions."""
        total = 0
        size = min(limit or self.batch_size, self.first_batch)
        while True:
            fired, claimed = await self._run_batch(size)
            total += fired
            if claimed < size or self.runtime.stopping.is_set():
                return total
            size = min(size * 2, limit or self.batch_size)

    async def _run_batch(self, limit: int) -> tuple[int, int]:
        """Claim up to `limit` due timers and fire them in one transaction.

        Every handler of the batch runs straight in that transaction (no savepoint each: 1,000 due timers
        were 2,000 extra round trips). If any handler raises, the whole batch rolls back and is fired
        again one savepoint per timer, so one failing handler still cannot block or undo the others."""
        now = self.runtime.clock.now()
        try:
            return await self._claim_and_fire(limit, now, careful=None)
        except _BatchNeedsCare as failure:
            return await self._claim_and_fire(limit, now, careful=failure)

    async def _claim_and_fire(self, limit: int, now: datetime, *, careful: _BatchNeedsCare | None) -> tuple[int, int]:
        fired = 0
        # Without savepoints (careful is None) the batch's messages may be written together at its end.
        together = careful is None
        async with (
            self.runtime.writer_turns(),
            self.runtime.session_factory() as session,
            self.outbox.batch(session, together=together),
        ):
            q = (
                select(Timer)
                .where(Timer.status == "pending", Timer.due_at <= now)
                .order_by(Timer.due_at, Timer.id)
                .limit(limit)
            )
            if self.runtime.is_postgres:
                q = q.with_for_update(skip_locked=True)
            timers = list(await session.scalars(q))
            await self._prefetch(session, timers)
            marks: list[dict[str, Any]] | None = [] if together else None
            for timer in timers:
                if marks is not None:  # careful is None
                    fired += await self._fire_straight(session, timer, now, marks)
                elif careful is not None and timer.id == careful.timer_id:
                    # Its handler already ran (and failed) for this attempt: count it, do not re-run.
                    self._failed(timer, now, careful.error)
                else:
                    fired += await self._fire(session, timer, now)
            if marks:
                await session.execute(_MARK_DONE, marks)
        return fired, len(timers)

    @staticmethod
    async def _prefetch(session: AsyncSession, timers: list[Timer]) -> None:
        """Load the batch's engagements and their bindings in two queries, not two per timer: handlers
        then find them in the session (session.get answers from its identity map)."""
        ids = {t.engagement_id for t in timers if t.engagement_id}
        if len(ids) > 1:
            # Held in session.info: the identity map keeps only weak references.
            session.info["cadence.prefetched_engagements"] = list(
                await session.scalars(select(Engagement).where(Engagement.id.in_(sorted(ids))))
            )
            await prefetch_bindings(session, ids)

    async def _fire_straight(
        self, session: AsyncSession, timer: Timer, now: datetime, marks: list[dict[str, Any]]
    ) -> int:
        handler = self.runtime.registry.timers.get(timer.kind)
        if handler is None:
            return await self._fire(session, timer, now)  # records the failure; no handler to run
        lateness = max(now - timer.due_at, timedelta(0))
        try:
            await handler(TimerCtx(session=session, core=self.runtime.core, timer=timer, now=now, lateness=lateness))
        except Exception as exc:
            log.debug("timer %s (%s) failed in a batch; the batch runs again one by one", timer.id, timer.kind)
            raise _BatchNeedsCare(timer.id, exc) from exc
        return self._done(timer, now, lateness, marks)

    async def _fire(self, session: AsyncSession, timer: Timer, now: datetime) -> int:
        handler = self.runtime.registry.timers.get(timer.kind)
        lateness = max(now - timer.due_at, timedelta(0))
        if handler is None:
            timer.status = "failed"
            timer.last_error = f"no handler for timer kind {timer.kind!r}"
            log.error("timer %s: %s", timer.id, timer.last_error)
            return 0
        try:
            async with session.begin_nested():
                await handler(
                    TimerCtx(session=session, core=self.runtime.core, timer=timer, now=now, lateness=lateness)
                )
        except Exception as exc:  # noqa: BLE001 - a failing handler, whatever it raised, must not block the others
            self._failed(timer, now, exc)
            return 0
        return self._done(timer, now, lateness)

    @staticmethod
    def _failed(timer: Timer, now: datetime, exc: Exception) -> None:
        """One attempt used: retry after a backoff, or give up after MAX_ATTEMPTS."""
        timer.attempts = (timer.attempts or 0) + 1
        timer.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        log.error("timer %s (%s) failed (attempt %s)", timer.id, timer.kind, timer.attempts, exc_info=exc)
        if timer.attempts >= MAX_ATTEMPTS:
            timer.status = "failed"
        else:
            timer.due_at = now + _backoff(timer.attempts)

    def _done(self, timer: Timer, now: datetime, lateness: timedelta, marks: list[dict[str, Any]] | None = None) -> int:
        """Mark a fired timer done, unless its handler rescheduled or cancelled it. With `marks`, the row is
        written later by one executemany UPDATE for the whole batch (_MARK_DONE) and the object only shows
        the new values: through the unit of work, marking 1,000 timers cost as much as their handlers."""
        if timer.status == "done" or (timer.status == "pending" and timer.due_at <= now):
            values = {
                "status": "done",
                "fired_at": now,
                "lateness_seconds": lateness.total_seconds(),
                "fired_by": self.worker_id,
            }
            for name, value in values.items():
                if marks is None:
                    setattr(timer, name, value)
                else:
                    set_committed_value(timer, name, value)
            if marks is not None:
                marks.append({"timer_id": timer.id, **values})
            if lateness > timedelta(minutes=1):
                log.warning("timer %s (%s) fired %.0f s late", timer.id, timer.kind, lateness.total_seconds())
        return 1
