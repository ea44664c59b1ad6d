"""The background work of a Cadence process: fire due timers and deliver due messages, woken by
APScheduler at the next due time (and by a periodic sweep, as a safety net); start and graceful stop."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

if TYPE_CHECKING:
    from bot.kernel.outbox import Outbox
    from bot.kernel.runtime import Runtime
    from bot.kernel.timers import TimerService

log = logging.getLogger("cadence.core")


class Worker:
    def __init__(self, runtime: Runtime, timers: TimerService, outbox: Outbox, *, sweep_seconds: float = 30.0) -> None:
        self.runtime = runtime
        self.timers = timers
        self.outbox = outbox
        self.sweep_seconds = sweep_seconds
        self._scheduler: AsyncIOScheduler | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._tick_lock = asyncio.Lock()
        self._next_wake: datetime | None = None
        runtime.wakeups = self  # timers and the outbox wake us through the runtime

    @property
    def _stopping(self) -> bool:
        return self.runtime.stopping.is_set()

    async def tick(self) -> tuple[int, int]:
        """Fire due timers and deliver due messages until there is nothing left to do now."""
        async with self._tick_lock:
            fired_total = sent_total = 0
            for _ in range(1000):
                if self._stopping:  # SIGTERM: finish what is in hand, take nothing new
                    break
                fired = await self.timers.run_due()
                sent = await self.outbox.deliver_due() if self.runtime.messengers else 0
                fired_total += fired
                sent_total += sent
                if not fired and not sent:
                    break
            return fired_total, sent_total

    async def _pipelined_tick(self) -> int:
        """The server's pass: fire due timers and deliver messages at the same time, so the first messages
        of a large batch of due timers go out while later timers are still firing (measured in
        bench/timer_lateness.py). drain() stays sequential for tests. Returns how much it did (timers
        fired + messages sent); the loop runs it again until that is nothing."""
        async with self._tick_lock:
            firing_done = asyncio.Event()
            done = {"fired": 0, "sent": 0}

            async def fire() -> None:
                try:
                    while not self._stopping:
                        fired = await self.timers.run_due()
                        done["fired"] += fired
                        if not fired:
                            break
                finally:
                    firing_done.set()

            async def deliver() -> None:
                while self.runtime.messengers and not self._stopping:
                    sent = await self.outbox.deliver_due()
                    done["sent"] += sent
                    if not sent:
                        if firing_done.is_set():
                            return
                        await asyncio.sleep(0.02)

            await asyncio.gather(fire(), deliver())
            return done["fired"] + done["sent"]

    def note_due(self, due_at: datetime) -> None:
        """A timer was scheduled: wake earlier if it is due before the planned wake-up."""
        if self._scheduler is None:
            return
        if self._next_wake is None or due_at < self._next_wake:
            self._arm(due_at)

    def note_outbox(self) -> None:
        if self._scheduler is not None:
            self._wake.set()

    async def _wake_up(self) -> None:
        """APScheduler's job. A coroutine on purpose: APScheduler runs a plain function in a worker thread,
        and asyncio.Event is not thread-safe; set() from there only worked because the executor's completion
        happens to wake the loop. As a coroutine it runs on the loop itself (tests/kernel/test_wakeup.py)."""
        self._wake.set()

    def _arm(self, when: datetime) -> None:
        self._next_wake = when
        if self._scheduler is not None:
            run_at = max(when, self.runtime.clock.now())
            self._scheduler.add_job(
                self._wake_up,
                DateTrigger(run_date=run_at),
                id="cadence-next-due",
                replace_existing=True,
                misfire_grace_time=None,
                coalesce=True,
            )

    async def start(self) -> None:
        """Start background work: overdue timers fire at once; APScheduler wakes us for the rest."""
        self.runtime.stopping.clear()
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.add_job(
            self._wake_up,
            IntervalTrigger(seconds=self.sweep_seconds),
            id="cadence-sweep",
            misfire_grace_time=None,
            coalesce=True,
        )
        self._scheduler.start()
        self._task = asyncio.create_task(self._loop(), name="cadence-background")

    async def stop(self) -> None:
        """Graceful: no new timers are taken; in-flight work finishes."""
        self.runtime.stopping.set()
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=30)
            except TimeoutError:
                self._task.cancel()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        try:
            await self.outbox.release_born()
        except Exception:
            log.exception("could not put back undelivered messages at shutdown; they go after their lease")

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                # Again while there was work: a timer that fell due during a pass (or just after an early
                # wake-up) goes through the pipelined pass too, not a fire-everything-then-deliver one.
                while await self._pipelined_tick() and not self._stopping:
                    pass
                await self._plan_next_wake()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background tick failed; retrying after a pause")
                await asyncio.sleep(1)
            if self._stopping:
                break
            await self._wake.wait()
            self._wake.clear()

    async def _plan_next_wake(self) -> None:
        candidates = [t for t in (await self.timers.next_due(), await self.outbox.next_attempt()) if t]
        for until in self.outbox.paused_until.values():
            if until > self.runtime.clock.now():
                candidates.append(until)
        if candidates:
            self._arm(min(candidates))
        else:
            self._next_wake = None
