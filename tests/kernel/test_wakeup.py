"""The background loop wakes at a timer's due time by itself, not at the next sweep: APScheduler's
wake-up job (a coroutine, run on the loop) is what does it."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from bot.bootstrap import create_core
from bot.kernel.clock import SystemClock
from bot.kernel.registry import Registry


async def test_a_timer_fires_at_its_due_time_with_nothing_else_going_on(db_url: str) -> None:
    core = await create_core(
        db_url, clock=SystemClock(), migrate=False, sqlite_synchronous="NORMAL", sweep_seconds=60
    )  # the sweep is far away: only the due-time wake-up can do it
    fired = asyncio.Event()
    reg = Registry()

    async def ring(_tctx) -> None:
        fired.set()

    reg.add_timer("test.ring", ring)
    core.registry = reg
    await core.start()
    try:
        await asyncio.sleep(0.2)  # the loop's first pass is done; it now waits for a wake-up
        async with core.session_factory() as s, s.begin():
            await core.timers.schedule(
                s, kind="test.ring", due_at=core.clock.now() + timedelta(seconds=0.5), key="ring"
            )
        started = time.monotonic()
        await asyncio.wait_for(fired.wait(), timeout=10)
        assert time.monotonic() - started < 3
    finally:
        await core.stop()
        await core.engine.dispose()
