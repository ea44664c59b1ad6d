"""The demos' section of the engagement health report (declared with `registry.add_report_section` in
commands.register): the last occurrence that started by the report's time and its recorded outcome, the next
one, and the demos' own "no demo within the iteration" rule (`queries.stale_demo_flag`). Its file of
`/cadence export`: every demo that took (or was to take) place in the range, with its outcome and agenda."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.demos.cards import OUTCOME_LABELS, demo_ref
from bot.features.demos.queries import stale_demo_flag
from bot.kernel.messages import Card, Field
from bot.kernel.registry import Period
from bot.kernel.text import when
from bot.shared.csvfile import to_csv
from storage.models import Engagement, Person
from storage.models.demos import Demo, DemoAgendaItem, DemoOccurrence, DemoOutcome

# The outcomes that accept the iteration shown.
ACCEPTED = ("accepted", "accepted_with_remarks")


@dataclass
class DemoFigures:
    last_title: str | None
    last_ref: str | None
    last_at: datetime | None
    last_outcome: str | None  # accepted | accepted_with_remarks | not_accepted | None (not recorded)
    last_remarks: str | None
    next_title: str | None
    next_ref: str | None
    next_at: datetime | None
    stale_flag: str | None
    # Iterations accepted (the KPI of the seed): demos whose outcome is accepted (with or without remarks),
    # of those with an outcome recorded, to date and among the demos held in the period.
    accepted: int = 0
    decided: int = 0
    accepted_in_period: int = 0
    decided_in_period: int = 0


async def report_figures(session: AsyncSession, engagement: Engagement, period: Period, now: datetime) -> DemoFigures:
    last = (
        await session.execute(
            select(DemoOccurrence, Demo, DemoOutcome)
            .join(Demo, Demo.id == DemoOccurrence.demo_id)
            .outerjoin(DemoOutcome, DemoOutcome.occurrence_id == DemoOccurrence.id)
            .where(
                DemoOccurrence.engagement_id == engagement.id,
                DemoOccurrence.starts_at <= now,
                DemoOccurrence.status.in_(("scheduled", "ended")),
            )
            .order_by(DemoOccurrence.starts_at.desc(), DemoOccurrence.id.desc())
            .limit(1)
        )
    ).first()
    nxt = (
        await session.execute(
            select(DemoOccurrence, Demo)
            .join(Demo, Demo.id == DemoOccurrence.demo_id)
            .where(
                DemoOccurrence.engagement_id == engagement.id,
                DemoOccurrence.starts_at > now,
                DemoOccurrence.status == "scheduled",
                Demo.status == "scheduled",
            )
            .order_by(DemoOccurrence.starts_at, DemoOccurrence.id)
            .limit(1)
        )
    ).first()
    flag = await stale_demo_flag(session, engagement, now)
    outcomes = (
        await session.execute(
            select(DemoOutcome.outcome, DemoOccurrence.starts_at)
            .join(DemoOccurrence, DemoOccurrence.id == DemoOutcome.occurrence_id)
            .where(DemoOccurrence.engagement_id == engagement.id, DemoOutcome.recorded_at <= now)
        )
    ).all()
    in_period = [o for o, starts in outcomes if period.start <= starts < period.end]
    return DemoFigures(
        last_title=last[1].title if last else None,
        last_ref=demo_ref(engagement, last[1]) if last else None,
        last_at=last[0].starts_at if last else None,
        last_outcome=last[2].outcome if last and last[2] else None,
        last_remarks=last[2].remarks if last and last[2] else None,
        next_title=nxt[1].title if nxt else None,
        next_ref=demo_ref(engagement, nxt[1]) if nxt else None,
        next_at=nxt[0].starts_at if nxt else None,
        stale_flag=flag,
        accepted=sum(1 for o, _ in outcomes if o in ACCEPTED),
        decided=len(outcomes),
        accepted_in_period=sum(1 for o in in_period if o in ACCEPTED),
        decided_in_period=len(in_period),
    )


def report_card(m: DemoFigures, period: Period) -> Card:
    if m.last_at is None:
        last = "none yet"
    else:
        outcome = (
            OUTCOME_LABELS.get(m.last_outcome, "outcome not recorded yet")
            if m.last_outcome
            else "outcome not recorded yet"
        )
        last = f"{m.last_ref} {m.last_title} · {when(m.last_at)} — {outcome}"
        if m.last_remarks:
            last += f": {m.last_remarks[:200]}"
    nxt = f"{m.next_ref} {m.next_title} · {when(m.next_at)}" if m.next_at else "none planned (`/demo schedule`)"
    tone = "danger" if m.last_outcome == "not_accepted" else ("warning" if m.stale_flag else "info")
    iterations = (
        f"{m.accepted} of {m.decided} demos with an outcome; this {period.name}: {m.accepted_in_period} of "
        f"{m.decided_in_period}"
        if m.decided
        else "no outcome recorded yet"
    )
    return Card(
        title="Demos",
        fields=[
            Field("Last demo", last, short=False),
            Field("Next demo", nxt, short=False),
            Field("Iterations accepted", iterations, short=False),
        ],
        tone=tone,
    )


def report_flags(m: DemoFigures, period: Period) -> list[tuple[int, str]]:
    """No demo within the iteration (rank 10); a last demo not accepted (rank 20)."""
    flags = []
    if m.stale_flag:
        flags.append((10, m.stale_flag))
    if m.last_outcome == "not_accepted":
        flags.append((20, f"The last demo ({m.last_ref}) was not accepted."))
    return flags


def report_home(m: DemoFigures) -> list[Field]:
    return [
        Field(
            "Last demo",
            (f"{when(m.last_at, 'date')} — " + (OUTCOME_LABELS.get(m.last_outcome or "", "no outcome yet")))
            if m.last_at
            else "none yet",
        ),
        Field("Next demo", when(m.next_at) if m.next_at else "none planned"),
    ]


OUTCOME_COLUMNS = [
    "demo",
    "title",
    "starts_at_utc",
    "ends_at_utc",
    "status",
    "outcome",
    "remarks",
    "recorded_by",
    "recorded_at_utc",
    "agenda",
]


async def export_outcomes(
    session: AsyncSession, engagement: Engagement, period: Period, now: datetime
) -> dict[str, str]:
    """`demo_outcomes.csv`: every demo that took (or was to take) place in the range, with its outcome and
    agenda."""
    rows = list(
        await session.execute(
            select(DemoOccurrence, Demo, DemoOutcome, Person)
            .join(Demo, Demo.id == DemoOccurrence.demo_id)
            .outerjoin(DemoOutcome, DemoOutcome.occurrence_id == DemoOccurrence.id)
            .outerjoin(Person, Person.id == DemoOutcome.recorded_by_id)
            .where(
                DemoOccurrence.engagement_id == engagement.id,
                DemoOccurrence.starts_at >= period.start,
                DemoOccurrence.starts_at < period.end,
                DemoOccurrence.status != "replaced",
            )
            .order_by(DemoOccurrence.starts_at, DemoOccurrence.id)
        )
    )
    out = []
    for occ, demo, outcome, who in rows:
        agenda = list(
            await session.execute(
                select(Person.display_name, DemoAgendaItem.text)
                .join(Person, Person.id == DemoAgendaItem.person_id)
                .where(DemoAgendaItem.occurrence_id == occ.id)
                .order_by(DemoAgendaItem.id)
            )
        )
        out.append(
            [
                demo_ref(engagement, demo),
                demo.title,
                occ.starts_at,
                occ.ends_at,
                occ.status,
                OUTCOME_LABELS.get(outcome.outcome, outcome.outcome) if outcome else "",
                outcome.remarks if outcome else "",
                who.display_name if who else "",
                outcome.recorded_at if outcome else None,
                " | ".join(f"{name}: {text}" for name, text in agenda),
            ]
        )
    return {"demo_outcomes.csv": to_csv(OUTCOME_COLUMNS, out)}
