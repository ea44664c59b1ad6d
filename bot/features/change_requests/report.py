"""The change requests' section of the engagement health report (declared with `registry.add_report_section`
in commands.register): the current state of every request; filed and approved in the period; the approved cost
(approved, scheduled and delivered requests: what is drawn from the contingency) and the contingency left;
requests `pending_approval` for more than 3 days. Its files of `/cadence export`: the requests filed in the range
or with a recorded step in it, and the steps in the range."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.change_requests import export
from bot.features.change_requests.cards import ref
from bot.features.change_requests.queries import contingency, policy_of, settings
from bot.features.change_requests.states import State, label
from bot.kernel.messages import Card, Field
from bot.kernel.registry import Period
from bot.shared.csvfile import instant, read_rows, write_rows
from storage.models import Engagement
from storage.models.change_requests import ChangeRequest

APPROVAL_WAIT = timedelta(days=3)


@dataclass
class WaitingApproval:
    ref: str
    title: str
    since: datetime
    days: int


@dataclass
class ChangeRequestFigures:
    by_state: dict[str, int]
    filed: int  # in the period
    approved: int  # decided "approved" in the period
    approved_cost: Decimal  # drawn from the contingency (all time)
    contingency_fund: Decimal | None
    contingency_left: Decimal | None
    currency: str
    waiting: list[WaitingApproval] = field(default_factory=list)
    minor_approved: int = 0  # of `approved`: decided by the minor-change rule


async def report_figures(
    session: AsyncSession, engagement: Engagement, period: Period, now: datetime
) -> ChangeRequestFigures:
    crs = list(
        await session.scalars(
            select(ChangeRequest).where(ChangeRequest.engagement_id == engagement.id).order_by(ChangeRequest.number)
        )
    )
    by_state = {s.value: 0 for s in State}
    for cr in crs:
        by_state[cr.state] = by_state.get(cr.state, 0) + 1
    cont = await contingency(session, engagement)
    waiting = [
        WaitingApproval(ref(engagement, cr), cr.title, cr.pending_since, (period.end - cr.pending_since).days)
        for cr in crs
        if cr.state == State.PENDING_APPROVAL
        and cr.pending_since is not None
        and period.end - cr.pending_since > APPROVAL_WAIT
    ]
    approved_now = [
        cr
        for cr in crs
        if cr.decided_at is not None
        and period.start <= cr.decided_at < period.end
        and cr.state in (State.APPROVED, State.SCHEDULED, State.DELIVERED)
    ]
    approved = len(approved_now)
    return ChangeRequestFigures(
        by_state=by_state,
        filed=sum(1 for cr in crs if period.start <= cr.created_at < period.end),
        approved=approved,
        approved_cost=cont.committed,
        contingency_fund=cont.fund,
        contingency_left=cont.remaining,
        currency=settings(engagement).get("currency") or "",
        waiting=waiting,
        minor_approved=sum(1 for cr in approved_now if policy_of(cr, engagement).minor_applied),
    )


def _money(amount: Decimal | None, currency: str = "") -> str:
    if amount is None:
        return "—"
    text = f"{amount:,.2f}"
    return f"{currency} {text}".strip() if currency else text


def report_card(c: ChangeRequestFigures, period: Period) -> Card:
    states = ", ".join(f"{label(k)} {v}" for k, v in c.by_state.items() if v) or "none yet"
    fields = [
        Field("By state", states, short=False),
        Field(f"Filed (last {period.name})", str(c.filed)),
        Field(
            f"Approved (last {period.name})",
            f"{c.approved} ({c.minor_approved} minor)" if c.minor_approved else str(c.approved),
        ),
        Field("Approved cost", _money(c.approved_cost, c.currency)),
    ]
    if c.contingency_fund is None or c.contingency_left is None:
        fields.append(Field("Contingency left", "no budget set (`/cadence settings budget …`)"))
    else:
        share = f" ({float(c.contingency_left / c.contingency_fund * 100):.0f} %)" if c.contingency_fund else ""
        left, fund = _money(c.contingency_left, c.currency), _money(c.contingency_fund, c.currency)
        fields.append(Field("Contingency left", f"{left} of {fund}{share}"))
    return Card(title="Change requests", fields=fields, tone="warning" if c.waiting else "info")


def report_flags(c: ChangeRequestFigures, period: Period) -> list[tuple[int, str]]:
    """Approvals waiting more than 3 days (rank 30), an overdrawn contingency (rank 50)."""
    flags = [(30, f"{w.ref} has waited {w.days} days for approval.") for w in c.waiting]
    if c.contingency_left is not None and c.contingency_left < 0:
        flags.append((50, f"The contingency is overdrawn by {-c.contingency_left:,.2f} {c.currency}".rstrip() + "."))
    return flags


def report_home(c: ChangeRequestFigures) -> list[Field]:
    left = (
        f"{_money(c.contingency_left, c.currency)} contingency left"
        if c.contingency_fund is not None
        else "no budget set"
    )
    return [Field("Change requests", f"{c.by_state.get('pending_approval', 0)} pending approval · {left}")]


async def export_range(session: AsyncSession, engagement: Engagement, period: Period, now: datetime) -> dict[str, str]:
    """`change_requests.csv` (requests filed in the range or with a recorded step in it) and
    `change_request_history.csv` (the steps in the range), from the feature's own export."""
    requests_csv, steps_csv = await export.build(session, engagement)
    s_header, steps = read_rows(steps_csv)
    steps = [s for s in steps if (at := instant(s.get("at_utc"))) is not None and period.start <= at < period.end]
    touched = {s["request"] for s in steps}
    r_header, requests = read_rows(requests_csv)
    requests = [
        r
        for r in requests
        if r.get("id") in touched
        or ((at := instant(r.get("requested_at_utc"))) is not None and period.start <= at < period.end)
    ]
    return {
        "change_requests.csv": write_rows(r_header, requests),
        "change_request_history.csv": write_rows(s_header, steps),
    }
