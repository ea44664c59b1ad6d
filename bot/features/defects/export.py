"""`/defect export`: every defect of the engagement as CSV (a card attachment, text/csv)."""

from __future__ import annotations

import base64
import csv
import io
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.defects import service
from bot.features.defects.severity import label
from bot.features.defects.sla import Clock
from bot.kernel.context import Ctx
from bot.kernel.errors import UserError
from bot.kernel.messages import Attachment, Card, Reply
from bot.kernel.text import plural
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
        response, resolution = service.clocks(d, now)
        paused = sum(((p.ended_at or now) - p.started_at).total_seconds() for p in d.pauses if p.kind == "waiting")

        policy = service.policy_of(d)
        writer.writerow(
            [
                cell(v)
                for v in (
                    service.ref(engagement, d),
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


async def export_command(ctx: Ctx) -> Reply:
    engagement = ctx.require_engagement()
    if ctx.membership is None:
        raise UserError(f"You are not a member of {engagement.key}.")
    text = await export_csv(ctx.session, engagement, ctx.now)
    count = text.count("\r\n") - 1
    name = f"{engagement.key}-defects-{ctx.now:%Y%m%d}.csv"
    card = Card(
        title=f"{engagement.key} defects export",
        text=f"{plural(count, 'defect')}, times in UTC.",
        attachments=[
            Attachment(
                filename=name,
                content_b64=base64.b64encode(text.encode("utf-8")).decode("ascii"),
                mime="text/csv",
                title=name,
            )
        ],
    )
    # A file reaches the asker only as a delivered message (a Slack upload, a file under ./reports on the
    # console, a download on Teams): an ephemeral answer cannot carry one. So, like `/cadence export`, the
    # file goes by direct message, through the outbox.
    await ctx.core.outbox.dm(ctx.session, ctx.person, card, engagement_id=engagement.id)
    return Reply.say(
        f"{engagement.key} defects export ({plural(count, 'defect')}): I've sent you the CSV by direct message."
    )
