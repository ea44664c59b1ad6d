"""The console's virtual clock in the database, so a restart resumes at the same virtual moment."""

from __future__ import annotations

from datetime import datetime

from bot.kernel.clock import utc
from bot.kernel.dispatcher import Cadence
from storage.models.clock import ClockState

NAME = "console"


async def load(core: Cadence) -> datetime | None:
    """The virtual time saved by the last console session on this database, if any."""
    async with core.session_factory() as session:
        row = await session.get(ClockState, NAME)
        return utc(row.now) if row is not None else None


async def save(core: Cadence, now: datetime) -> None:
    async with core.session_factory() as session, session.begin():
        row = await session.get(ClockState, NAME)
        if row is None:
            session.add(ClockState(name=NAME, now=now))
        else:
            row.now = now
