"""Taking in slash commands and clicks: acknowledge once they are durable, run them with bounded concurrency.

An ack tells Slack (and the person) that Cadence has their command or click, so it must never cover work a
crash could lose. Durable means one of two things:

- **Idle**: nothing is running or waiting. The work runs at once and the ack follows its commit (or the
  2-second budget of ack.py), so the answer arrives with the ack and no extra write is made.
- **Busy**: the request is written to the inbox (`slack_inbox`, inbox.py; requests arriving together share
  one INSERT and one commit), acknowledged right after that commit, and run by one of `workers` workers.
  The worker's transaction claims (deletes) the row together with the work's own changes, so the work
  commits exactly once; rows a crash left behind are run at the next start-up (and by a periodic sweep,
  for a replica that never comes back). The answer then goes through the request's response_url.

Modal submissions stay synchronous (views.py): their per-field errors travel in the ack itself."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import event

from bot.kernel.dispatcher import Within
from bot.kernel.messages import Reply
from handlers.slack.ack import ack_after
from handlers.slack.inbox import Inbox
from handlers.slack.reply import Origin, show
from storage.writer import WriterTurns

if TYPE_CHECKING:
    from handlers.slack.app import SlackFrontEnd

log = logging.getLogger("cadence.slack.intake")
# What a person is told when handling their request failed on our side (a bug): never a stack trace.
FAILURE = "Something went wrong on our side and nothing was changed. Please try again."

# Bounded concurrency of inbox work: enough to overlap database round trips, few enough that a burst
# queues in the inbox instead of piling transactions onto the pool. SQLite has one writer at a time (and
# every Cadence transaction begins IMMEDIATE), so there one worker runs, taking turns with the inbox's own
# writes through an asyncio lock: SQLite's busy handler would sleep 1, 2, 5, 10 … ms between tries.
WORKERS = 4
SQLITE_WORKERS = 1
# A row older than this that no worker here knows about was left by another process: run it.
STALE_AFTER = timedelta(seconds=60)
SWEEP_SECONDS = 30.0
# Acks first: the workers start their next request only when no request is waiting for its ack, or, while
# acks keep coming, one request per this interval (so work always progresses). One process shares one CPU
# between acks and work, and Slack gives an ack 3 seconds; the answer after it is not held to that.
ACKS_FIRST_SECONDS = 0.1


@dataclass
class Request:
    """A verified command or click: what Slack sent and the handles to answer it."""

    kind: str  # "command" | "action"
    workspace_id: str
    payload: dict[str, Any]
    client: AsyncWebClient
    respond: Any  # answers through the response_url (respond.py), or None
    row_id: int | None = None


# Runs the request's work in the core (passing `within` on) and says how to answer: (reply, origin).
Work = Callable[["SlackFrontEnd", Request, "Within | None"], Awaitable[tuple[Reply | None, Origin]]]


class Intake:
    def __init__(self, fe: SlackFrontEnd, *, workers: int | None = None) -> None:
        self.fe = fe
        sqlite = fe.core.engine.dialect.name == "sqlite"
        # Opting out of the core's `writer_turns` on purpose, with a queue of its own (storage/writer.py):
        # sharing that one made acks wait behind the outbox's and timers' transactions (bench/slack_ack.py,
        # SQLite, 50 clients: 0.52-0.75 of bare bolt's throughput instead of 0.72-0.99). The two meet only
        # in SQLite's busy handler, briefly.
        self._turns = WriterTurns(serialise=sqlite)
        self.inbox = Inbox(fe.core.session_factory, fe.core.engine, fe.core.clock, turns=self._turns)
        self.workers = workers or (SQLITE_WORKERS if sqlite else WORKERS)
        self._work: dict[str, Work] = {}
        self._queue: asyncio.Queue[Request] = asyncio.Queue()
        self._running = 0
        self._receiving = 0  # requests not acknowledged yet
        self._acked_all = asyncio.Event()
        self._gate = asyncio.Lock()  # the workers pass "acks first" one at a time
        self._known: set[int] = set()  # rows queued or running here
        self._workers: list[asyncio.Task] = []
        self._sweeper: asyncio.Task | None = None

    def handles(self, kind: str, work: Work) -> None:
        self._work[kind] = work

    @property
    def idle(self) -> bool:
        return self._running == 0 and self._queue.empty()

    # -- receiving ---------------------------------------------------------------------------------
    async def receive(self, ack: Callable[..., Awaitable[Any]], request: Request) -> None:
        """Called by a bolt listener; returns when the request is acknowledged (and, if idle, answered)."""
        started = asyncio.get_running_loop().time()
        if self.idle:
            self._running += 1  # from here on, later arrivals go to the inbox
            try:
                reply, origin = await ack_after(ack, self._work[request.kind](self.fe, request, None), started=started)
            finally:
                self._running -= 1
            await show(self.fe, origin, reply)
            return
        try:
            with self.acking():
                request.row_id = await self.inbox.record(request.kind, request.workspace_id, request.payload)
                await ack()
        finally:
            if request.row_id is not None:  # recorded: it runs, even if the ack itself failed
                self._enqueue(request)

    @contextlib.contextmanager
    def acking(self) -> Iterator[None]:
        """Marks a request on its way to its ack (the whole HTTP request, from app.py): workers wait."""
        self._receiving += 1
        self._acked_all.clear()
        try:
            yield
        finally:
            self._receiving -= 1
            if not self._receiving:
                self._acked_all.set()

    def _enqueue(self, request: Request) -> None:
        assert request.row_id is not None
        self._known.add(request.row_id)
        self.fe.work_started()
        self._queue.put_nowait(request)
        self._start_workers()

    # -- running -----------------------------------------------------------------------------------
    def _start_workers(self) -> None:
        self._workers = [t for t in self._workers if not t.done()]
        if not self._workers:
            self._workers = [
                asyncio.create_task(self._worker(), name=f"slack-inbox-worker-{i}") for i in range(self.workers)
            ]

    async def _worker(self) -> None:
        while True:
            request = await self._queue.get()
            self._running += 1  # not idle from here: a new arrival goes to the inbox, behind this one
            async with self._gate:
                if self._receiving:
                    try:
                        await asyncio.wait_for(self._acked_all.wait(), ACKS_FIRST_SECONDS)
                    except TimeoutError:
                        pass
            try:
                await self._run_recorded(request)
            except Exception:
                log.exception("slack inbox: request %s failed", request.row_id)
            finally:
                self._running -= 1
                self._known.discard(request.row_id or 0)
                self.fe.work_finished()

    async def _run_recorded(self, request: Request) -> None:
        row_id = request.row_id
        assert row_id is not None
        committed: list[bool] = []

        async def claim(session: Any) -> bool:
            # Known only at the end: whether the work (and with it the claim) committed or rolled back.
            event.listen(session.sync_session, "after_commit", lambda _s: committed.append(True), once=True)
            return await Inbox.claim(session, row_id)

        try:
            reply, origin = await self._work[request.kind](self.fe, request, claim)
        except Exception:
            # A bug outside the core's transaction (the core itself turns errors into a refusal): the row
            # is dropped so it cannot fail again at every start-up, and the person is told.
            await self.inbox.done(row_id)
            if request.respond is not None:
                await request.respond(response_type="ephemeral", replace_original=False, text=FAILURE)
            raise
        if not committed:  # a refusal rolled back (the claim with it), or no transaction ran (help)
            await self.inbox.done(row_id)
        await show(self.fe, origin, reply)

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Around the core call of a command or click. SQLite: the work's transaction takes its turn with
        the inbox's writes (see SQLITE_WORKERS); only the transaction, never a Slack API call."""
        async with self._turns():
            yield

    # -- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        """Run what a previous process left in the inbox, then keep sweeping for rows of lost replicas."""
        self._start_workers()
        self._sweeper = asyncio.create_task(self._sweep(), name="slack-inbox-sweep")

    async def stop(self) -> None:
        """Stop the workers; what they had not started stays in the inbox for the next start."""
        tasks = [*self._workers, *([self._sweeper] if self._sweeper else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        self._workers, self._sweeper = [], None
        await self.inbox.close()

    async def _sweep(self) -> None:
        cutoff = self.inbox.clock.now()  # at start-up: everything received before this process started
        while True:
            try:
                after = 0
                while page := await self.inbox.left_over(received_before=cutoff, after_id=after):
                    for row in page:
                        if row.id not in self._known:
                            self._enqueue(await self._rebuild(row))
                    after = page[-1].id
            except Exception as exc:  # noqa: BLE001 - the database may be down for a while; try again later
                log.warning("slack inbox: sweep failed (%s); retrying in %.0f s", exc, SWEEP_SECONDS)
            await asyncio.sleep(SWEEP_SECONDS)
            cutoff = self.inbox.stale_before(STALE_AFTER)

    async def _rebuild(self, row: Any) -> Request:
        """A request from its inbox row: a Web API client for its workspace, its response_url."""
        return Request(
            kind=row.kind,
            workspace_id=row.workspace_id,
            payload=row.payload,
            client=await self.fe.client_for(row.workspace_id),
            respond=self.fe.responses.respond(row.payload.get("response_url")),
            row_id=row.id,
        )
