"""A signed Slack request sent again — byte for byte, within Slack's 5-minute window, to this replica or
another — is acknowledged and not applied twice.

Each verified request's signature is inserted into `slack_seen_requests` (primary key: the signature)
before the request is handed on; a second insert of the same signature finds the row and the request is a
replay. The database makes this hold across replicas. Rows older than the window are pruned: a request
that old is refused for its timestamp before it gets here. Slack's own redeliveries of an event carry a
new timestamp and so a new signature; those are recognised by their event id (events.py)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from handlers.slack.transport import REPLAY_WINDOW_SECONDS
from storage.models.slack_inbox import SlackSeenRequest

log = logging.getLogger("cadence.slack")

WINDOW = timedelta(seconds=REPLAY_WINDOW_SECONDS)
# Pruning is one indexed DELETE; once a minute is plenty to keep the table at a few minutes of traffic.
PRUNE_EVERY = timedelta(minutes=1)


class ReplayGuard:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        postgres: bool,
        turn: Callable[[], contextlib.AbstractAsyncContextManager[None]],
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self._insert = postgresql.insert if postgres else sqlite.insert
        self._turn = turn  # SQLite: the write takes its turn with the inbox's (intake.py)
        self._pruned_at: datetime | None = None

    async def first_time(self, signature: str) -> bool:
        """Record `signature`; False if it was already recorded (a replay)."""
        now = self.clock.now()
        statement = self._insert(SlackSeenRequest).values(signature=signature[:80], seen_at=now)
        async with self._turn(), self.session_factory() as session, session.begin():
            result = cast(CursorResult[Any], await session.execute(statement.on_conflict_do_nothing()))
            if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
                self._pruned_at = now
                await session.execute(delete(SlackSeenRequest).where(SlackSeenRequest.seen_at < now - WINDOW))
        return result.rowcount == 1
