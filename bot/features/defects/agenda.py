"""Defects' part of every meeting agenda (`registry.add_agenda_section("defects", order=20, …)`): open defects
whose SLA clock is past its warning threshold (at risk) or past its target (breached), with which clock and the
time left or how long overdue — computed at the moment the agenda is built, through this feature's queries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.defects import states as st
from bot.features.defects.queries import clocks, ref
from bot.kernel.text import duration, truncate
from storage.models import Engagement
from storage.models.defects import Defect

TITLE = "Defects at risk or breached"


async def lines(session: AsyncSession, engagement: Engagement, now: datetime, kind: str) -> list[str]:
    """One line per running clock at risk or breached: breached first, then by severity and number.
    `ACME-D-4 · S2 Checkout slow — resolution clock overdue by 2 h 10 min` / `… — response clock: 45 min left`.
    A clock that stopped (acknowledged, resolved) or is paused (waiting on the client) is not on the agenda."""
    rows = list(
        await session.scalars(select(Defect).where(Defect.engagement_id == engagement.id, Defect.state.in_(st.ACTIVE)))
    )
    found: list[tuple[bool, str, int, str]] = []
    for d in rows:
        for clock in clocks(d, now):
            if not clock.running:
                continue
            head = f"{ref(engagement, d)} · {d.severity.upper()} {truncate(d.title, 80)} — {clock.name} clock"
            if clock.breached:
                found.append((False, d.severity, d.number, f"{head} overdue by {duration(-clock.remaining)}"))
            elif clock.warn_at is not None and now >= clock.warn_at:
                found.append((True, d.severity, d.number, f"{head}: {duration(clock.remaining)} left"))
    return [line for *_, line in sorted(found)]
