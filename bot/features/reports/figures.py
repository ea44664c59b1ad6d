"""The figures of an engagement's health report, gathered section by section.

The sections are the ones features declare (`registry.add_report_section`): each feature owns its figures, their
definitions and how they read (standups: `bot/features/standups/report.py`, change requests:
`bot/features/change_requests/report.py`, defects: `bot/features/defects/report.py`, demos:
`bot/features/demos/report.py`); a feature that is not registered has no section. This module imports no
feature: it works out the period, asks every section for its figures once (and for its weekly series, the
chart's), and collects the "needs attention" lines. The ball-in-court section is the report's own
(`court.py`, registered by `commands.register`): it spans defects and change requests.

Trends ("over the last weeks") are computed from the same data, week by week: nothing is stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.kernel.clock import utc
from bot.kernel.registry import Period, ReportSection
from bot.kernel.zones import zone_or_utc
from storage.models import Engagement, Membership, Person

PERIODS = {"week": 7, "month": 30}
TREND_WEEKS = 8


def period_of(engagement: Engagement, now: datetime, name: str = "week") -> Period:
    """The `name` period ending at `now`: the last 7 (or 30) days, and as many home-zone dates
    ending with today's (the same dates `/standup report` counts)."""
    days = PERIODS[name]
    zone = zone_or_utc(engagement.home_tz)
    last_day = now.astimezone(zone).date()
    start, first_day = now - timedelta(days=days), last_day - timedelta(days=days - 1)
    if engagement.created_at is not None:
        # A period never starts before the engagement existed.
        born = utc(engagement.created_at)
        start, first_day = max(start, min(born, now)), max(first_day, min(born, now).astimezone(zone).date())
    return Period(name, start, now, first_day, last_day)


@dataclass
class Figures:
    engagement: Engagement
    period: Period
    now: datetime
    sections: list[ReportSection]  # the registered sections, in order
    values: dict[str, Any]  # section name -> what its `figures` gathered
    trends: dict[str, Any] = field(default_factory=dict)  # section name -> its weekly series (the chart's)
    flags: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> Any:
        """A section's figures; None when that section is not registered."""
        return self.values.get(name)


async def gather(
    session: AsyncSession,
    sections: Iterable[ReportSection],
    engagement: Engagement,
    now: datetime,
    period: str = "week",
    *,
    trends: bool = True,
) -> Figures:
    """Every figure of the report for the `period` ending at `now`; `sections`: the registry's."""
    p = period_of(engagement, now, period)
    ordered = sorted(sections, key=lambda s: s.order)
    figures = Figures(engagement=engagement, period=p, now=now, sections=ordered, values={})
    for s in ordered:
        figures.values[s.name] = await s.figures(session, engagement, p, now)
    if trends:
        for s in ordered:
            if s.trend is not None:
                figures.trends[s.name] = await s.trend(session, engagement, now, TREND_WEEKS)
    figures.flags = flags_of(figures)
    return figures


def flags_of(f: Figures) -> list[str]:
    """What needs attention: every section's lines, by rank (the sections' `flags`). Every section shown as
    needing attention has its line here, so the summary never says "Nothing needs attention" above one."""
    lines = [line for s in f.sections if s.flags is not None for line in s.flags(f.values[s.name], f.period)]
    return [text for _, text in sorted(lines, key=lambda line: line[0])]


async def member_engagements(session: AsyncSession, person: Person) -> list[Engagement]:
    """The engagements `person` belongs to, by key."""
    return list(
        await session.scalars(
            select(Engagement)
            .join(Membership, Membership.engagement_id == Engagement.id)
            .where(Membership.person_id == person.id)
            .order_by(Engagement.key)
        )
    )
