"""The milestones' section of the engagement health report (declared with `registry.add_report_section` in
commands.register) and its files of `/cadence export`.

Every date is a date of the client's calendar (`queries.calendar_of`: the home zone, weekends and the client
country's holidays off), read at the report's time:
- *due in the period*: a due date among the period's home-zone dates;
- *submitted*: rounds submitted in the period ([start, end));
- *in window*: milestones waiting for a decision now, with the business days left in their window (today
  counts while it is a business day; the window's last day counts);
- *accepted on time / late*: rounds accepted (with or without remarks, or deemed) in the period; on time when
  the acceptance date is on or before the due date;
- *rounds*: the submissions each accepted milestone took;
- *to project acceptance*: calendar days from the engagement's set-up date to the final acceptance's date;
- *warranty left*: calendar days from today to the warranty's last day (that day counts: 1 on the last day).
Flags: a milestone past its due date and not submitted or accepted (rank 12), a window closing within 2
business days (14), the warranty ending within 30 days (16)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.milestones.queries import acceptance, all_of, calendar_of, item_ref, ref
from bot.features.milestones.window import ClientCalendar
from bot.kernel.messages import Card, Field
from bot.kernel.registry import Period
from bot.kernel.text import day_text, plural
from bot.kernel.zones import zone_or_utc
from bot.shared.csvfile import to_csv
from storage.models import Engagement, Person
from storage.models.milestones import Milestone, MilestoneRound, RectificationItem

ACCEPTED = ("accepted", "accepted_with_remarks", "deemed_accepted")
DONE_STATES = ("accepted", "deemed_accepted")
WINDOW_CLOSING_DAYS = 2
WARRANTY_ATTENTION_DAYS = 30


@dataclass(frozen=True)
class InWindow:
    ref: str
    title: str
    round: int
    last_day: date
    days_left: int  # business days, today included while it is one


@dataclass(frozen=True)
class Accepted:
    ref: str
    title: str
    due: date
    on: date  # the acceptance date, client calendar
    rounds: int

    @property
    def on_time(self) -> bool:
        return self.on <= self.due


@dataclass
class MilestoneFigures:
    today: date
    total: int = 0
    due: list[str] = field(default_factory=list)  # "ACME-M-1 Go-live (Fri 26 Feb 2027)"
    submitted: int = 0  # rounds submitted in the period
    in_window: list[InWindow] = field(default_factory=list)
    accepted: list[Accepted] = field(default_factory=list)  # in the period
    overdue: list[str] = field(default_factory=list)  # "ACME-M-2 (due Fri 8 Jan 2027)"
    next_due: str | None = None
    project_accepted_on: date | None = None
    days_to_acceptance: int | None = None
    warranty_until: date | None = None
    warranty_days_left: int | None = None  # None before the acceptance; 0 once it has ended

    @property
    def on_time(self) -> int:
        return sum(1 for a in self.accepted if a.on_time)

    @property
    def late(self) -> int:
        return sum(1 for a in self.accepted if not a.on_time)


def business_days_left(cal: ClientCalendar, today: date, last_day: date) -> int:
    """Business days from `today` to `last_day`, both counted (0 once `last_day` has passed)."""
    n, day = 0, today
    while day <= last_day:
        if cal.is_business_day(day):
            n += 1
        day += timedelta(days=1)
    return n


async def report_figures(
    session: AsyncSession, engagement: Engagement, period: Period, now: datetime
) -> MilestoneFigures:
    cal = calendar_of(engagement)
    today = cal.local_date(now)
    first, last = period.first_day, period.last_day
    f = MilestoneFigures(today=today)
    milestones = await all_of(session, engagement)
    f.total = len(milestones)
    rounds_by: dict[int, list[MilestoneRound]] = {m.id: [] for m in milestones}
    if milestones:
        for rnd in await session.scalars(
            select(MilestoneRound)
            .where(MilestoneRound.milestone_id.in_(list(rounds_by)))
            .order_by(MilestoneRound.milestone_id, MilestoneRound.round)
        ):
            rounds_by[rnd.milestone_id].append(rnd)
    upcoming: list[Milestone] = []
    for m in milestones:
        r = ref(engagement, m)
        if first <= m.due_date <= last:
            f.due.append(f"{r} {m.title} ({day_text(m.due_date)})")
        if m.state not in DONE_STATES and m.state != "submitted":
            if m.due_date < today:
                f.overdue.append(f"{r} (due {day_text(m.due_date)})")
            else:
                upcoming.append(m)
        for rnd in rounds_by[m.id]:
            if period.start <= rnd.submitted_at < period.end:
                f.submitted += 1
            if rnd.outcome in ACCEPTED and rnd.decided_at is not None and period.start <= rnd.decided_at < period.end:
                f.accepted.append(Accepted(r, m.title, m.due_date, cal.local_date(rnd.decided_at), rnd.round))
            if rnd.outcome is None and m.state == "submitted" and rnd.round == m.round:
                last_day = cal.local_date(rnd.window_ends_at) - timedelta(days=1)
                f.in_window.append(InWindow(r, m.title, rnd.round, last_day, business_days_left(cal, today, last_day)))
    if upcoming:
        nxt = min(upcoming, key=lambda m: (m.due_date, m.number))
        f.next_due = f"{ref(engagement, nxt)} {nxt.title} ({day_text(nxt.due_date)})"
    record = await acceptance(session, engagement)
    if record is not None:
        f.project_accepted_on = record.accepted_on
        if engagement.created_at is not None:
            started = engagement.created_at.astimezone(zone_or_utc(engagement.home_tz)).date()
            f.days_to_acceptance = (record.accepted_on - started).days
        f.warranty_until = record.warranty_until
        f.warranty_days_left = max(0, (record.warranty_until - today).days + 1)
    return f


def _in_window_text(w: InWindow) -> str:
    return f"{w.ref} round {w.round}: {plural(w.days_left, 'business day')} left (until {day_text(w.last_day)})"


def _warranty_text(f: MilestoneFigures) -> str:
    if f.warranty_until is None:
        return "starts at the project acceptance"
    if not f.warranty_days_left:
        return f"ended {day_text(f.warranty_until)}"
    return f"until {day_text(f.warranty_until)} — {plural(f.warranty_days_left, 'day')} left"


def _closing(f: MilestoneFigures) -> list[InWindow]:
    return [w for w in f.in_window if w.days_left <= WINDOW_CLOSING_DAYS]


def _warranty_ending(f: MilestoneFigures) -> bool:
    return f.warranty_days_left is not None and 0 < f.warranty_days_left <= WARRANTY_ATTENTION_DAYS


def report_card(f: MilestoneFigures, period: Period) -> Card:
    span = f"last {period.name}"
    if not f.total:
        return Card(title="Milestones", fields=[Field("Plan", "no milestones yet (`/milestone add`)", short=False)])
    accepted = (
        f"{f.on_time} on time, {f.late} late · "
        + ", ".join(f"{a.ref} on {day_text(a.on)} ({plural(a.rounds, 'round')})" for a in f.accepted)
        if f.accepted
        else "none"
    )
    fields = [
        Field(f"Due ({span})", ", ".join(f.due) or "none", short=False),
        Field(f"Submitted ({span})", plural(f.submitted, "round")),
        Field(f"Accepted ({span})", accepted, short=False),
        Field("In acceptance window", "; ".join(_in_window_text(w) for w in f.in_window) or "none", short=False),
    ]
    if f.overdue:
        fields.append(Field("Overdue", ", ".join(f.overdue), short=False))
    if f.next_due:
        fields.append(Field("Next due", f.next_due, short=False))
    if f.project_accepted_on is not None:
        took = f" — {plural(f.days_to_acceptance, 'day')} after the start" if f.days_to_acceptance is not None else ""
        fields.append(Field("Project acceptance", f"{day_text(f.project_accepted_on)}{took}", short=False))
    fields.append(Field("Warranty", _warranty_text(f), short=False))
    tone = "danger" if f.overdue else ("warning" if _closing(f) or _warranty_ending(f) else "info")
    return Card(title="Milestones", fields=fields, tone=tone)


def report_flags(f: MilestoneFigures, period: Period) -> list[tuple[int, str]]:
    """Overdue milestones (rank 12), a window closing within 2 business days (14), the warranty's last 30
    days (16)."""
    flags = []
    if f.overdue:
        flags.append((12, f"Overdue, not submitted: {', '.join(f.overdue)}."))
    for w in _closing(f):
        flags.append(
            (
                14,
                f"The acceptance window of {w.ref} closes {day_text(w.last_day)} "
                f"({plural(w.days_left, 'business day')} left).",
            )
        )
    if _warranty_ending(f) and f.warranty_until is not None and f.warranty_days_left is not None:
        flags.append(
            (
                16,
                f"The warranty ends {day_text(f.warranty_until)} ({plural(f.warranty_days_left, 'day')} left).",
            )
        )
    return flags


def report_home(f: MilestoneFigures) -> list[Field]:
    if not f.total:
        return []
    parts = [f"{len(f.overdue)} overdue", f"{len(f.in_window)} in acceptance window"]
    if f.next_due:
        parts.append(f"next due {f.next_due}")
    out = [Field("Milestones", " · ".join(parts))]
    if f.warranty_until is not None:
        out.append(Field("Warranty", _warranty_text(f)))
    return out


# -- the export ----------------------------------------------------------------------------------------------
MILESTONE_COLUMNS = [
    "id",
    "title",
    "final",
    "due_date",
    "state",
    "rounds",
    "first_submitted_at_utc",
    "accepted_at_utc",
    "accepted_on",
    "on_time",
    "created_at_utc",
]
ROUND_COLUMNS = [
    "milestone",
    "round",
    "submitted_at_utc",
    "submitted_by",
    "delivered",
    "window_days",
    "window_ends_at_utc",
    "deemed_acceptance",
    "outcome",
    "decided_by",
    "decided_at_utc",
    "remarks",
]
ITEM_COLUMNS = ["item", "milestone", "round", "text", "due_date", "created_at_utc", "done_at_utc", "done_by"]


async def export_range(session: AsyncSession, engagement: Engagement, period: Period, now: datetime) -> dict[str, str]:
    """`milestones.csv` (milestones live in the range: created before its end, not accepted before its start),
    `milestone_rounds.csv` (rounds submitted or decided in the range), `rectification_items.csv` (items created
    before the range's end and not done before its start)."""
    cal = calendar_of(engagement)
    milestones = await all_of(session, engagement)
    by_id = {m.id: m for m in milestones}
    rounds = (
        list(
            await session.scalars(
                select(MilestoneRound)
                .where(MilestoneRound.milestone_id.in_(list(by_id)))
                .order_by(MilestoneRound.milestone_id, MilestoneRound.round)
            )
        )
        if by_id
        else []
    )
    items = (
        list(
            await session.scalars(
                select(RectificationItem)
                .where(RectificationItem.milestone_id.in_(list(by_id)))
                .order_by(RectificationItem.milestone_id, RectificationItem.number)
            )
        )
        if by_id
        else []
    )
    wanted = {r.submitted_by_id for r in rounds} | {r.decided_by_id for r in rounds} | {i.done_by_id for i in items}
    names = (
        {p.id: p.display_name for p in await session.scalars(select(Person).where(Person.id.in_(wanted - {None})))}
        if wanted - {None}
        else {}
    )

    def name(pid: int | None) -> str:
        return names.get(pid, "") if pid else ""

    milestone_rows = []
    for m in milestones:
        own = [r for r in rounds if r.milestone_id == m.id]
        won = next((r for r in own if r.outcome in ACCEPTED), None)
        accepted_at = won.decided_at if won else None
        if m.created_at >= period.end or (accepted_at is not None and accepted_at < period.start):
            continue
        accepted_on = cal.local_date(accepted_at) if accepted_at else None
        milestone_rows.append(
            [
                ref(engagement, m),
                m.title,
                "yes" if m.final else "no",
                m.due_date.isoformat(),
                m.state,
                len(own),
                own[0].submitted_at if own else None,
                accepted_at,
                accepted_on.isoformat() if accepted_on else "",
                ("yes" if accepted_on <= m.due_date else "no") if accepted_on else "",
                m.created_at,
            ]
        )
    round_rows = []
    for r in rounds:
        decided_in = r.decided_at is not None and period.start <= r.decided_at < period.end
        if not (period.start <= r.submitted_at < period.end or decided_in):
            continue
        round_rows.append(
            [
                ref(engagement, by_id[r.milestone_id]),
                r.round,
                r.submitted_at,
                name(r.submitted_by_id),
                r.delivered,
                r.window_days,
                r.window_ends_at,
                "yes" if r.deemed_acceptance else "no",
                r.outcome or "",
                name(r.decided_by_id),
                r.decided_at,
                r.remarks,
            ]
        )
    item_rows = []
    for i in items:
        if i.created_at >= period.end or (i.done_at is not None and i.done_at < period.start):
            continue
        m = by_id[i.milestone_id]
        item_rows.append(
            [
                item_ref(engagement, m, i),
                ref(engagement, m),
                i.round,
                i.text,
                i.due_date.isoformat(),
                i.created_at,
                i.done_at,
                name(i.done_by_id),
            ]
        )
    return {
        "milestones.csv": to_csv(MILESTONE_COLUMNS, milestone_rows),
        "milestone_rounds.csv": to_csv(ROUND_COLUMNS, round_rows),
        "rectification_items.csv": to_csv(ITEM_COLUMNS, item_rows),
    }
