"""Build a Cadence core on a database: migrate, connect, register every feature.

The one list of what Cadence runs: each feature (and each kernel service that registers commands, buttons or
timers) has `register(registry)`; the order is the order of `/help`."""

from __future__ import annotations

import asyncio

from bot.features.change_requests import commands as change_requests
from bot.features.decisions import commands as decisions
from bot.features.defects import commands as defects
from bot.features.demos import commands as demos
from bot.features.engagement import commands as engagement
from bot.features.engagement import linking, zone_ask
from bot.features.meetings import commands as meetings
from bot.features.milestones import commands as milestones
from bot.features.raid import commands as raid
from bot.features.reports import commands as reports
from bot.features.standups import commands as standups
from bot.kernel import contract, delivery_failures, notices
from bot.kernel.clock import Clock, SystemClock
from bot.kernel.dispatcher import Cadence
from bot.kernel.registry import Registry
from storage.db import create_engine, session_factory
from storage.migrate import upgrade

FEATURES = (
    engagement,
    contract,
    linking,
    notices,
    delivery_failures,
    zone_ask,
    standups,
    demos,
    change_requests,
    defects,
    milestones,
    meetings,
    decisions,
    raid,
    reports,
)


def default_registry() -> Registry:
    """A registry with every feature registered."""
    registry = Registry()
    for feature in FEATURES:
        feature.register(registry)
    return registry


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
