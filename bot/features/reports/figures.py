"""The figures of an engagement's health report, gathered from each feature.

One section per feature. Each feature is imported once, at the top, inside `try`, so the report still
works (with that section marked "not installed") when a feature is absent. Where a feature exposes a
function for its figures it is used (`bot.features.standups.queries.count_participation`,
`bot.features.defects.report.defect_stats`, `bot.features.demos.queries.stale_demo_flag`,
`bot.features.change_requests.queries.contingency`); otherwise the feature's tables are read directly, with
the same definitions the feature's own report uses:

- standups: a person's participation is the standups feature's own (`count_participation`): answered /
  prompted standups over the local dates of the period in the home zone, today's unanswered one left open
  until its digest; a blocker is raised on the standup date of the answer that first states it (repeats are
  not new), and closed (in the period of its closing instant) when it and every repeat are closed;
- change requests: current state of every request; approved cost = the cost of approved, scheduled
  and delivered requests (what is drawn from the contingency); waiting approvals = requests
  `pending_approval` for more than 3 days;
- defects: `defect_stats()` — compliance per clock counted in the period its outcome became known,
  MTTA/MTTR over acknowledgements/resolutions in the period;
- demos: the last occurrence that started before the end of the period and its outcome, the next one.

Trends ("over the last weeks") are computed from the same data, week by week: nothing is stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.reports.court import Court, courts
from bot.kernel.clock import utc
from bot.kernel.text import plural
from bot.kernel.zones import zone_or_utc
from storage.models import Engagement, Membership, Person

# The features the report reads, each optional: a name set to None here is a feature not installed on
# this Cadence, and its section says so.
try:
    from bot.features.standups import queries as standup_queries
    from bot.features.standups.config import participants
    from storage.models.standups import StandupEntry
except ImportError:
    standup_queries = None  # type: ignore[assignment]
try:
    from bot.features.change_requests import queries as cr_queries
    from bot.features.change_requests.cards import ref as cr_ref
    from bot.features.change_requests.states import State
    from storage.models.change_requests import ChangeRequest
except ImportError:
    cr_queries = None  # type: ignore[assignment]
try:
    from bot.features.defects import report as defect_report
    from storage.models.defects import Defect
except ImportError:
    defect_report = None  # type: ignore[assignment]
try:
    from bot.features.demos import queries as demo_queries
    from bot.features.demos.cards import demo_ref
    from storage.models.demos import Demo, DemoOccurrence, DemoOutcome
except ImportError:
    demo_queries = None  # type: ignore[assignment]

log = logging.getLogger("cadence.reports")

PERIODS = {"week": 7, "month": 30}
APPROVAL_WAIT = timedelta(days=3)
TREND_WEEKS = 8


@dataclass
class Period:
    """[start, end) in UTC, and the home-zone calendar dates it covers (inclusive)."""

    name: str  # week | month
    start: datetime
    end: datetime
    first_day: date
    last_day: date


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


# -- standups --------------------------------------------------------------------------------------
@dataclass
class PersonParticipation:
    person_id: int
    name: str
    expected: int
    answered: int

    @property
    def pct(self) -> float | None:
        return round(100.0 * self.answered / self.expected, 1) if self.expected else None


@dataclass
class StandupFigures:
    people: list[PersonParticipation]
    expected: int
    answered: int
    blockers_raised: int
    blockers_closed: int
    blockers_open: int  # now, whenever raised

    @property
    def pct(self) -> float | None:
        return round(100.0 * self.answered / self.expected, 1) if self.expected else None


async def standup_figures(session: AsyncSession, engagement: Engagement, period: Period) -> StandupFigures | None:
    if standup_queries is None:  # the standups feature is not installed
        return None
    rows = list(
        await session.scalars(
            select(StandupEntry)
            .where(StandupEntry.engagement_id == engagement.id)
            .order_by(StandupEntry.day, StandupEntry.id)
        )
    )
    # Today's standup not answered yet is still open, not missed, until the day's digest is out.
    open_day = await standup_queries.open_day(session, engagement, period.last_day)
    counts = {
        pid: c
        for pid, c in standup_queries.count_participation(
            rows, period.first_day, period.last_day, open_day=open_day
        ).items()
        if c.settled
    }
    # Everyone taking part shows, even with nothing expected yet (a new joiner): the standups'
    # own participant rule.
    ids = set(counts) | {p.id for p in await participants(session, engagement)}
    names = await _names(session, ids)
    people = [
        PersonParticipation(
            pid,
            names.get(pid, str(pid)),
            counts[pid].settled if pid in counts else 0,
            counts[pid].answered if pid in counts else 0,
        )
        for pid in ids
    ]
    people.sort(key=lambda p: (p.name.lower(), p.person_id))
    by_root: dict[int, list[Any]] = {}
    for e in rows:
        if e.blocker_of_id is not None:
            by_root.setdefault(e.blocker_of_id, []).append(e)
    raised = closed = still_open = 0
    for e in rows:
        if not e.blocker or e.blocker_of_id is not None or e.answered_at is None:
            continue
        if period.first_day <= e.day <= period.last_day:
            raised += 1
        closes = [e.blocker_closed_at, *(r.blocker_closed_at for r in by_root.get(e.id, []))]
        if any(c is None for c in closes):
            still_open += 1
        elif period.start <= max(closes) < period.end:
            closed += 1
    return StandupFigures(
        people=people,
        expected=sum(p.expected for p in people),
        answered=sum(p.answered for p in people),
        blockers_raised=raised,
        blockers_closed=closed,
        blockers_open=still_open,
    )


async def participation_by_week(
    session: AsyncSession, engagement: Engagement, now: datetime, weeks: int = TREND_WEEKS
) -> list[float | None] | None:
    """Answered / prompted standups (%) for each of the last `weeks` 7-day windows, oldest first (the
    standups feature's own count)."""
    if standup_queries is None:
        return None
    return await standup_queries.participation_by_week(session, engagement, now, weeks)


# -- change requests ---------------------------------------------------------------------------------
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


async def change_request_figures(
    session: AsyncSession, engagement: Engagement, period: Period
) -> ChangeRequestFigures | None:
    if cr_queries is None:
        return None
    crs = list(
        await session.scalars(
            select(ChangeRequest).where(ChangeRequest.engagement_id == engagement.id).order_by(ChangeRequest.number)
        )
    )
    by_state = {s.value: 0 for s in State}
    for cr in crs:
        by_state[cr.state] = by_state.get(cr.state, 0) + 1
    cont = await cr_queries.contingency(session, engagement)
    waiting = [
        WaitingApproval(cr_ref(engagement, cr), cr.title, cr.pending_since, (period.end - cr.pending_since).days)
        for cr in crs
        if cr.state == State.PENDING_APPROVAL
        and cr.pending_since is not None
        and period.end - cr.pending_since > APPROVAL_WAIT
    ]
    approved = sum(
        1
        for cr in crs
        if cr.decided_at is not None
        and period.start <= cr.decided_at < period.end
        and cr.state in (State.APPROVED, State.SCHEDULED, State.DELIVERED)
    )
    return ChangeRequestFigures(
        by_state=by_state,
        filed=sum(1 for cr in crs if period.start <= cr.created_at < period.end),
        approved=approved,
        approved_cost=cont.committed,
        contingency_fund=cont.fund,
        contingency_left=cont.remaining,
        currency=cr_queries.settings(engagement).get("currency") or "",
        waiting=waiting,
    )


# -- defects ---------------------------------------------------------------------------------------
async def defect_figures(session: AsyncSession, engagement: Engagement, period: Period) -> dict[str, Any] | None:
    """`bot.features.defects.report.defect_stats()` for the period (see its docstring for the definitions)."""
    if defect_report is None:
        return None
    return await defect_report.defect_stats(session, engagement, period.start, period.end)


@dataclass
class DefectWeek:
    start: datetime
    end: datetime
    response_pct: float | None
    resolution_pct: float | None
    open_at_end: int


async def defects_by_week(
    session: AsyncSession, engagement: Engagement, now: datetime, weeks: int = TREND_WEEKS
) -> list[DefectWeek] | None:
    """SLA compliance in each of the last `weeks` 7-day windows ending at `now`, and how many defects
    were open (filed, not resolved or closed) at each window's end — from the defects and the
    intervals they sat resolved, so past weeks are exact even after later changes."""
    if defect_report is None:
        return None
    defects = list(await session.scalars(select(Defect).where(Defect.engagement_id == engagement.id)))
    out = []
    for w in range(weeks, 0, -1):
        end = now - timedelta(days=7 * (w - 1))
        start = end - timedelta(days=7)
        stats = await defect_report.defect_stats(session, engagement, start, end)
        out.append(
            DefectWeek(
                start,
                end,
                stats["response"]["pct"],
                stats["resolution"]["pct"],
                sum(1 for d in defects if _open_at(d, end)),
            )
        )
    return out


def _open_at(defect: Any, at: datetime) -> bool:
    if defect.filed_at >= at:
        return False
    if defect.closed_at is not None and defect.closed_at <= at:
        return False
    for p in defect.pauses:
        if p.kind == "resolved" and p.started_at <= at and (p.ended_at is None or at < p.ended_at):
            return False
    return True


# -- demos -------------------------------------------------------------------------------------------
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


async def demo_figures(session: AsyncSession, engagement: Engagement, now: datetime) -> DemoFigures | None:
    if demo_queries is None:
        return None
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
    flag = await demo_queries.stale_demo_flag(session, engagement, now)
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
    )


# -- everything --------------------------------------------------------------------------------------
@dataclass
class Figures:
    engagement: Engagement
    period: Period
    now: datetime
    standups: StandupFigures | None
    change_requests: ChangeRequestFigures | None
    defects: dict[str, Any] | None
    demos: DemoFigures | None
    defect_weeks: list[DefectWeek] | None = None
    participation_weeks: list[float | None] | None = None
    flags: list[str] = field(default_factory=list)
    courts: list[Court] = field(default_factory=list)  # whose court the ball was in, per item (court.py)


async def gather(
    session: AsyncSession, engagement: Engagement, now: datetime, period: str = "week", *, trends: bool = True
) -> Figures:
    """Every figure of the report for the `period` ending at `now`."""
    p = period_of(engagement, now, period)
    figures = Figures(
        engagement=engagement,
        period=p,
        now=now,
        standups=await standup_figures(session, engagement, p),
        change_requests=await change_request_figures(session, engagement, p),
        defects=await defect_figures(session, engagement, p),
        demos=await demo_figures(session, engagement, now),
        courts=await courts(session, engagement, p.start, now),
    )
    if trends:
        figures.defect_weeks = await defects_by_week(session, engagement, now)
        figures.participation_weeks = await participation_by_week(session, engagement, now)
    figures.flags = flags_of(figures)
    return figures


def flags_of(f: Figures) -> list[str]:
    """What needs attention: no demo within the iteration, open standup blockers, approvals waiting > 3 days,
    an overdrawn contingency, breaches. Every section shown as needing attention has its line here, so the
    summary never says "Nothing needs attention" above one."""
    flags = []
    if f.demos is not None and f.demos.stale_flag:
        flags.append(f.demos.stale_flag)
    if f.demos is not None and f.demos.last_outcome == "not_accepted":
        flags.append(f"The last demo ({f.demos.last_ref}) was not accepted.")
    if f.change_requests is not None:
        for w in f.change_requests.waiting:
            flags.append(f"{w.ref} has waited {w.days} days for approval.")
    if f.standups is not None and f.standups.blockers_open:
        n = f.standups.blockers_open
        flags.append(f"{n} standup blocker{'s are' if n != 1 else ' is'} still open.")
    c = f.change_requests
    if c is not None and c.contingency_left is not None and c.contingency_left < 0:
        flags.append(f"The contingency is overdrawn by {-c.contingency_left:,.2f} {c.currency}".rstrip() + ".")
    if f.defects is not None and f.defects["breaches"]:
        n = len(f.defects["breaches"])
        refs = ", ".join(sorted({b["ref"] for b in f.defects["breaches"]}))
        flags.append(f"{plural(n, 'SLA breach', 'SLA breaches')} in the last {f.period.name}: {refs}.")
    return flags


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


async def _names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Person.id, Person.display_name).where(Person.id.in_(ids)))
    # .all(), not the Result itself: dict() takes a Result (it has .keys()) for a mapping and fails.
    return dict(rows.tuples().all())
