"""CSV export for the contract's change orders: every request, and every recorded step (transitions,
decisions, resets, escalations) from the append-only audit record."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.change_requests.cards import ref
from bot.features.change_requests.queries import ENTITY, people
from bot.kernel.messages import Attachment
from bot.shared.csvfile import stamp, to_csv
from storage.models import AuditEntry, Engagement
from storage.models.change_requests import ChangeRequest, ChangeRequestDecision

REQUEST_COLUMNS = [
    "id",
    "title",
    "state",
    "priority",
    "requested_by",
    "requested_at_utc",
    "wanted_by",
    "description",
    "business_reason",
    "effort_hours",
    "cost",
    "schedule_impact_days",
    "risk",
    "assessed_by",
    "assessed_at_utc",
    "approval_round",
    "decisions_this_round",
    "decided_at_utc",
    "decision_comment",
    "scheduled_for",
    "from_standup_answer",
]
STEP_COLUMNS = ["request", "at_utc", "action", "from_state", "to_state", "by", "on_behalf_of", "comment", "data"]


async def build(session: AsyncSession, engagement: Engagement) -> tuple[str, str]:
    """(requests CSV, steps CSV) for every change request of `engagement`."""
    crs = list(
        await session.scalars(
            select(ChangeRequest).where(ChangeRequest.engagement_id == engagement.id).order_by(ChangeRequest.number)
        )
    )
    by_id = {cr.id: cr for cr in crs}
    decisions = list(
        await session.scalars(
            select(ChangeRequestDecision)
            .where(ChangeRequestDecision.request_id.in_(list(by_id) or [0]))
            .order_by(ChangeRequestDecision.at, ChangeRequestDecision.id)
        )
    )
    steps = list(
        await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_type == ENTITY, AuditEntry.engagement_id == engagement.id)
            .order_by(AuditEntry.at, AuditEntry.id)
        )
    )
    ids = {cr.requester_id for cr in crs} | {cr.assessed_by_id for cr in crs if cr.assessed_by_id}
    ids |= {d.approver_id for d in decisions} | {d.decided_by_id for d in decisions}
    ids |= {e.on_behalf_of_id for e in steps if e.on_behalf_of_id}
    ppl = await people(session, ids)

    def name(pid: int | None) -> str:
        return ppl[pid].display_name if pid in ppl else ""

    rows = []
    for cr in crs:
        current = [d for d in decisions if d.request_id == cr.id and d.round == cr.round]
        summary = "; ".join(
            f"{name(d.decided_by_id)}"
            + (f" on behalf of {name(d.approver_id)}" if d.decided_by_id != d.approver_id else "")
            + f": {d.decision} at {stamp(d.at)}"
            + (f" ({d.comment})" if d.comment else "")
            for d in current
        )
        rows.append(
            [
                ref(engagement, cr),
                cr.title,
                cr.state,
                cr.priority,
                name(cr.requester_id),
                cr.created_at,
                cr.wanted_by.isoformat() if cr.wanted_by else "",
                cr.description,
                cr.business_reason,
                cr.effort_hours,
                cr.cost,
                cr.schedule_impact_days,
                cr.risk,
                name(cr.assessed_by_id),
                cr.assessed_at,
                cr.round,
                summary,
                cr.decided_at,
                cr.decision_comment,
                cr.scheduled_for.isoformat() if cr.scheduled_for else "",
                cr.from_standup_answer_id,
            ]
        )
    step_rows = []
    for e in steps:
        request = by_id.get(e.entity_id) if e.entity_id is not None else None
        step_rows.append(
            [
                ref(engagement, request) if request else (e.data or {}).get("ref", e.entity_id),
                e.at,
                e.action,
                e.from_state,
                e.to_state,
                e.actor_label,
                name(e.on_behalf_of_id),
                e.comment,
                json.dumps(e.data or {}, sort_keys=True, default=str),
            ]
        )
    return to_csv(REQUEST_COLUMNS, rows), to_csv(STEP_COLUMNS, step_rows)


def attachments(engagement: Engagement, requests_csv: str, steps_csv: str, now: datetime) -> list[Attachment]:
    stamp = now.strftime("%Y%m%d-%H%M")
    return [
        Attachment(
            filename=f"{engagement.key}-change-requests-{stamp}.csv",
            content_b64=base64.b64encode(requests_csv.encode("utf-8")).decode("ascii"),
            mime="text/csv",
            title=f"{engagement.key} change requests",
        ),
        Attachment(
            filename=f"{engagement.key}-change-request-history-{stamp}.csv",
            content_b64=base64.b64encode(steps_csv.encode("utf-8")).decode("ascii"),
            mime="text/csv",
            title=f"{engagement.key} change request history (every transition)",
        ),
    ]
