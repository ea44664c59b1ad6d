"""Whose court the ball was in (issue 18: both sides own a pause), per defect and per change request.

- A defect is in the client's court while it waits on the client or sits resolved (the client closes or
  reopens it); in the vendor's court the rest of the time from filing until it is closed.
- A change request is in the vendor's court while submitted or assessed (the impact estimate) and once
  approved or scheduled (delivery); in the approvers' court while pending approval (shown as the client's,
  whose decision it waits for in the default policy). Withdrawn, rejected and delivered end it.
Computed from the pauses and the append-only audit record; nothing is stored. The report's own section (it spans
two features: it reads their tables, not their modules), registered by `commands.register`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.kernel.registry import Period
from storage.models import AuditEntry, Engagement
from storage.models.change_requests import ChangeRequest
from storage.models.defects import Defect, DefectPause

ZERO = timedelta(0)
CR_COURT = {
    "submitted": "vendor",
    "assessed": "vendor",
    "pending_approval": "client",
    "approved": "vendor",
    "scheduled": "vendor",
}
LIMIT = 15  # lines per kind in the report


@dataclass
class Court:
    ref: str
    vendor: timedelta
    client: timedelta


def _clip(start: datetime, end: datetime | None, lo: datetime, hi: datetime) -> timedelta:
    """How much of [start, end) falls inside [lo, hi)."""
    end = end or hi
    return max(ZERO, min(end, hi) - max(start, lo))


def defect_court(defect: Defect, pauses: list[DefectPause], now: datetime) -> tuple[timedelta, timedelta]:
    end = defect.closed_at or now
    total = max(ZERO, end - defect.filed_at)
    client = sum((_clip(p.started_at, p.ended_at, defect.filed_at, end) for p in pauses), ZERO)
    return total - client, client


def cr_court(
    created_at: datetime, steps: list[tuple[datetime, str | None]], now: datetime
) -> tuple[timedelta, timedelta]:
    """`steps`: (when, state entered), oldest first; the request starts `submitted` at `created_at`."""
    court = {"vendor": ZERO, "client": ZERO}
    state, since = "submitted", created_at
    for at, to_state in [*steps, (now, None)]:
        side = CR_COURT.get(state)
        if side is not None and at > since:
            court[side] += at - since
        if to_state is None:
            break
        state, since = to_state, at
    return court["vendor"], court["client"]


async def courts(session: AsyncSession, engagement: Engagement, since: datetime, now: datetime) -> list[Court]:
    """Defects and change requests live at some point after `since`, with each side's time so far."""
    out: list[Court] = []
    defects = list(
        await session.scalars(
            select(Defect)
            .where(Defect.engagement_id == engagement.id)
            .where((Defect.closed_at.is_(None)) | (Defect.closed_at >= since))
            .order_by(Defect.number)
            .limit(LIMIT)
        )
    )
    if defects:
        pauses: dict[int, list[DefectPause]] = {d.id: [] for d in defects}
        for p in await session.scalars(select(DefectPause).where(DefectPause.defect_id.in_(list(pauses)))):
            pauses[p.defect_id].append(p)
        for d in defects:
            vendor, client = defect_court(d, pauses[d.id], now)
            out.append(Court(f"{engagement.key}-D-{d.number}", vendor, client))
    requests = list(
        await session.scalars(
            select(ChangeRequest)
            .where(ChangeRequest.engagement_id == engagement.id)
            .order_by(ChangeRequest.number)
            .limit(LIMIT)
        )
    )
    if requests:
        steps: dict[int, list[tuple[datetime, str | None]]] = {cr.id: [] for cr in requests}
        for e in await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_type == "change_request", AuditEntry.entity_id.in_(list(steps)))
            .where(AuditEntry.to_state.is_not(None))
            .order_by(AuditEntry.at, AuditEntry.id)
        ):
            if e.entity_id is not None:
                steps[e.entity_id].append((e.at, e.to_state))
        for cr in requests:
            trail = steps[cr.id]
            if trail and trail[-1][1] not in CR_COURT and trail[-1][0] < since:
                continue  # ended before the period
            vendor, client = cr_court(cr.created_at, trail, now)
            out.append(Court(f"{engagement.key}-CR-{cr.number}", vendor, client))
    return out


async def report_figures(session: AsyncSession, engagement: Engagement, period: Period, now: datetime) -> list[Court]:
    """The ball-in-court section's figures: `courts` since the period's start."""
    return await courts(session, engagement, period.start, now)
