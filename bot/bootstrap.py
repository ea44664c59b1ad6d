"""Build a Cadence core on a database: migrate, connect, register every feature."""

from __future__ import annotations

import asyncio

from bot.clock import Clock, SystemClock
from bot.core import Cadence, default_registry
from bot.registry import Registry
from storage.db import create_engine, session_factory
from storage.migrate import upgrade


async def create_core(
    database_url: str,
    *,
    clock: Clock | None = None,
    registry: Registry | None = None,
    migrate: bool = True,
    sweep_seconds: float = 30.0,
    sqlite_synchronous: str = "FULL",
) -> Cadence:
    """A core on `database_url`, schema upgraded by Alembic first (in a thread: Alembic blocks)."""
    if migrate:
        await asyncio.to_thread(upgrade, database_url)
    engine = create_engine(database_url, sqlite_synchronous=sqlite_synchronous)
    return Cadence(
        engine=engine,
        session_factory=session_factory(engine),
        clock=clock or SystemClock(),
        registry=registry or default_registry(),
        sweep_seconds=sweep_seconds,
    )
