"""What the background services (timers, the outbox) need of the running process, and nothing more.

They used to hold the whole core and read its internals (its stopping flag, its SQLite lock); they take
this instead, so what they depend on is written down in one place."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

if TYPE_CHECKING:
    from bot.kernel.clock import Clock
    from bot.kernel.delivery import Messenger
    from bot.kernel.dispatcher import Cadence
    from bot.kernel.registry import Registry
    from storage.writer import WriterTurns


class Wakeups(Protocol):
    """Who wakes the background loop (bot/kernel/worker.py) when new work is planned."""

    def note_due(self, due_at: datetime) -> None: ...

    def note_outbox(self) -> None: ...


@dataclass(eq=False)
class Runtime:
    clock: Clock
    session_factory: async_sessionmaker[AsyncSession]
    registry: Registry
    is_postgres: bool
    writer_turns: WriterTurns  # on SQLite, the process's writers take turns (storage/writer.py)
    messengers: dict[str, Messenger]  # the core's own dict: front ends add theirs there
    # The core, handed on to feature handlers (TimerCtx.core, hooks) because their API gives it to them;
    # the services themselves read nothing of it.
    core: Cadence
    # Set from SIGTERM (Worker.stop) on: finish what is in hand, take nothing new.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    wakeups: Wakeups | None = None  # the worker, once there is one

    def note_due(self, due_at: datetime) -> None:
        """A timer was scheduled for `due_at`: the loop may need to wake earlier."""
        if self.wakeups is not None:
            self.wakeups.note_due(due_at)

    def note_outbox(self) -> None:
        """A message was queued: the loop delivers it on its next pass."""
        if self.wakeups is not None:
            self.wakeups.note_outbox()

    async def emit(self, session: AsyncSession, event: str, **kwargs: Any) -> None:
        """Run the features' hooks for `event` (registry.add_hook) in the caller's transaction."""
        for hook in self.registry.hooks.get(event, []):
            await hook(session, self.core, **kwargs)
