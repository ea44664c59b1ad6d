"""Every defect of the engagement as CSV (`/defect export` sends it as a card attachment, text/csv; the
engagement export narrows it to a range)."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.defects.queries import clocks, policy_of, ref
from bot.features.defects.severity import label
from bot.features.defects.sla import Clock
from bot.shared.csvfile import cell, stamp
from storage.models import Engagement, Person
from storage.models.defects import Defect

COLUMNS = [
    "id",
    "title",
    "severity",
    "state",
    "reporter",
    "assignee",
    "filed_at_utc",
    "acknowledged_at_utc",
    "resolved_at_utc",
    "closed_at_utc",
    "response_target",
    "response_due_utc",
    "response_met",
    "resolution_target",
    "resolution_due_utc",
    "resolution_met",
    "resolution_paused_hours",
    "reopened",
    "response_breached_at_utc",
    "resolution_breached_at_utc",
    "out_of_warranty",
    "environment",
    "affected_users",
    "attachment_url",
]


def _iso(dt: datetime | None) -> str:
    return stamp(dt)


async def export_csv(session: AsyncSession, engagement: Engagement, now: datetime) -> str:
    rows = list(
        await session.scalars(select(Defect).where(Defect.engagement_id == engagement.id).order_by(Defect.number))
    )
    names: dict[int | None, str] = {}
    for pid in {i for d in rows for i in (d.reporter_id, d.assignee_id) if i}:
        p = await session.get(Person, pid)
        names[pid] = p.display_name if p else str(pid)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for d in rows:
        response, resolution = clocks(d, now)
        paused = sum(((p.ended_at or now) - p.started_at).total_seconds() for p in d.pauses if p.kind == "waiting")

        policy = policy_of(d)
        writer.writerow(
            [
                cell(v)
                for v in (
                    ref(engagement, d),
                    d.title,
                    label(d.severity),
                    d.state,
                    names.get(d.reporter_id, ""),
                    names.get(d.assignee_id, ""),
                    _iso(d.filed_at),
                    _iso(d.acknowledged_at),
                    _iso(d.resolved_at),
                    _iso(d.closed_at),
                    policy.describe_target(d.severity, "response"),
                    _iso(response.due_at),
                    _met(d, response),
                    policy.describe_target(d.severity, "resolution"),
                    _iso(resolution.due_at),
                    _met(d, resolution),
                    f"{paused / 3600:.2f}",
                    d.reopen_count or 0,
                    _iso(d.response_breached_at),
                    _iso(d.resolution_breached_at),
                    "yes" if d.out_of_warranty else "no",
                    d.environment or "",
                    d.affected_users or "",
                    d.attachment_url or "",
                )
            ]
        )
    return out.getvalue()


def _met(defect: Defect, clock: Clock) -> str:
    """Whether the clock's target was met: "no" once breached, "yes" once stopped in time, else blank."""
    if clock.breached or getattr(defect, f"{clock.name}_breached_at"):
        return "no"
    return "yes" if clock.stopped_at else ""
