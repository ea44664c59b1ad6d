"""The decisions' and action items' section of the engagement health report (declared with
`registry.add_report_section` in commands.register) and their files of `/cadence export`.

- *decisions*: recorded in the period ([start, end)), the disputed ones flagged;
- *action items*: open now, overdue now (due before today in the home zone), done in the period.
Flags: overdue action items (rank 18), decisions disputed in the period (22)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.decisions.queries import action_ref, decision_ref, home_today, people
from bot.kernel.messages import Card, Field
from bot.kernel.registry import Period
from bot.kernel.text import day_text, plural, truncate
from bot.shared.csvfile import to_csv
from storage.models import Engagement
from storage.models.decisions import ActionItem, Decision

DECISION_COLUMNS = [
    "id",
    "decision",
    "decided_by",
    "decided_at",
    "meeting",
    "link",
    "dispute_closes_at",
    "disputed_at",
    "disputed_by",
    "dispute_reason",
]
ACTION_COLUMNS = [
    "id",
    "action",
    "owner",
    "due_date",
    "state",
    "created_by",
    "created_at",
    "done_at",
    "done_by",
    "meeting",
    "from_standup_answer",
]
SHOWN = 10  # lines per list in the card; the export has all


@dataclass(frozen=True)
class Figures:
    decisions: list[str] = field(default_factory=list)  # "ACME-DEC-1 · text", recorded in the period
    disputed: list[str] = field(default_factory=list)  # refs of those disputed (and any disputed in the period)
    open: int = 0
    overdue: list[str] = field(default_factory=list)  # "ACME-A-2 · text (Asha, due Mon 4 Jan 2027)"
    done: int = 0  # done in the period


async def report_figures(session: AsyncSession, engagement: Engagement, period: Period, now: datetime) -> Figures:
    ds = list(
        await session.scalars(
            select(Decision)
            .where(Decision.engagement_id == engagement.id, Decision.decided_at < period.end)
            .order_by(Decision.number)
        )
    )
    in_period = [d for d in ds if d.decided_at >= period.start]
    disputed = [
        d
        for d in ds
        if d.disputed_at is not None and (d.decided_at >= period.start or period.start <= d.disputed_at < period.end)
    ]
    items = list(
        await session.scalars(
            select(ActionItem).where(ActionItem.engagement_id == engagement.id).order_by(ActionItem.due_date)
        )
    )
    today = home_today(engagement, now)
    open_items = [i for i in items if i.state == "open"]
    names = await people(session, {i.owner_id for i in open_items})
    overdue = [
        f"{action_ref(engagement, i)} · {truncate(i.text, 80)} "
        f"({names[i.owner_id].display_name if i.owner_id in names else '?'}, due {day_text(i.due_date)})"
        for i in open_items
        if i.due_date < today
    ]
    done = [i for i in items if i.done_at is not None and period.start <= i.done_at < period.end]
    return Figures(
        decisions=[
            f"{decision_ref(engagement, d)}{' ⚠️ disputed' if d.disputed_at else ''} · {truncate(d.text, 100)}"
            for d in in_period
        ],
        disputed=[decision_ref(engagement, d) for d in disputed],
        open=len(open_items),
        overdue=overdue,
        done=len(done),
    )


def _listed(lines: list[str]) -> str:
    shown = "\n".join(lines[:SHOWN])
    return shown + (f"\n… and {len(lines) - SHOWN} more" if len(lines) > SHOWN else "")


def report_card(f: Figures, period: Period) -> Card:
    span = f"last {period.name}"
    fields = [
        Field(f"Decisions ({span})", _listed(f.decisions) or "none", short=False),
        Field("Action items open", str(f.open)),
        Field(f"Done ({span})", str(f.done)),
    ]
    if f.disputed:
        fields.append(Field("Disputed", ", ".join(f.disputed), short=False))
    if f.overdue:
        fields.append(Field("Overdue action items", _listed(f.overdue), short=False))
    tone = "danger" if f.overdue else ("warning" if f.disputed else "info")
    return Card(title="Decisions and action items", fields=fields, tone=tone)


def report_flags(f: Figures, period: Period) -> list[tuple[int, str]]:
    flags = []
    if f.overdue:
        flags.append(
            (18, f"{plural(len(f.overdue), 'action item')} overdue: {', '.join(o.split(' · ')[0] for o in f.overdue)}.")
        )
    if f.disputed:
        flags.append((22, f"Disputed decisions: {', '.join(f.disputed)}."))
    return flags


def report_home(f: Figures) -> list[Field]:
    return [Field("Action items", f"{f.open} open" + (f", {len(f.overdue)} overdue" if f.overdue else ""))]


async def export_range(session: AsyncSession, engagement: Engagement, period: Period, now: datetime) -> dict[str, str]:
    """`decisions.csv` (recorded or disputed in the range) and `action_items.csv` (created before the range's
    end and not done before its start); both always, like every section's files (a header alone says "none in
    this range")."""
    ds = list(
        await session.scalars(select(Decision).where(Decision.engagement_id == engagement.id).order_by(Decision.number))
    )
    items = list(
        await session.scalars(
            select(ActionItem).where(ActionItem.engagement_id == engagement.id).order_by(ActionItem.number)
        )
    )
    ids: set[int | None] = set()
    for d in ds:
        ids |= {d.decided_by_id, d.disputed_by_id}
    for i in items:
        ids |= {i.owner_id, i.created_by_id, i.done_by_id}
    names = {pid: p.display_name for pid, p in (await people(session, ids)).items()}

    def name(pid: int | None) -> str:
        return names.get(pid, "") if pid else ""

    decision_rows = [
        [
            decision_ref(engagement, d),
            d.text,
            name(d.decided_by_id),
            d.decided_at,
            d.meeting_ref or "",
            d.link_ref or "",
            d.dispute_closes_at,
            d.disputed_at,
            name(d.disputed_by_id),
            d.dispute_reason or "",
        ]
        for d in ds
        if period.start <= d.decided_at < period.end
        or (d.disputed_at is not None and period.start <= d.disputed_at < period.end)
    ]
    action_rows = [
        [
            action_ref(engagement, i),
            i.text,
            name(i.owner_id),
            i.due_date.isoformat(),
            i.state,
            name(i.created_by_id),
            i.created_at,
            i.done_at,
            name(i.done_by_id),
            i.meeting_ref or "",
            i.from_standup_answer_id or "",
        ]
        for i in items
        if i.created_at < period.end and (i.done_at is None or i.done_at >= period.start)
    ]
    return {
        "decisions.csv": to_csv(DECISION_COLUMNS, decision_rows),
        "action_items.csv": to_csv(ACTION_COLUMNS, action_rows),
    }
