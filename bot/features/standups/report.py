"""`/standup report [week|month]`: participation per person, blockers and how long they stayed open,
streaks; and the standups' section of the engagement health report (`report_figures` … `export_answers`,
declared with `registry.add_report_section` in commands.register)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.standups.queries import Participation, count_participation, open_day
from bot.features.standups.settings import participants
from bot.kernel.messages import Card, Field
from bot.kernel.registry import Period
from bot.kernel.text import day_text, duration, plural, truncate
from bot.kernel.text import person as mention
from bot.kernel.zones import zone_or_utc
from bot.shared.csvfile import to_csv
from storage.models import Engagement, Person
from storage.models.standups import StandupEntry

PERIODS = {"week": 7, "month": 30}


def streaks(days: list[tuple[date, bool]]) -> tuple[int, int]:
    """(current, best) runs of answered expected days, given (day, answered) in date order."""
    current = best = 0
    for _, answered in days:
        current = current + 1 if answered else 0
        best = max(best, current)
    return current, best


async def build_report(session: AsyncSession, engagement: Engagement, period: str, now: datetime) -> Card:
    length = PERIODS[period]
    end = now.astimezone(zone_or_utc(engagement.home_tz)).date()
    start = end - timedelta(days=length - 1)
    history = list(
        await session.scalars(
            select(StandupEntry)
            .where(StandupEntry.engagement_id == engagement.id, StandupEntry.day >= start - timedelta(days=366))
            .order_by(StandupEntry.day, StandupEntry.id)
        )
    )
    by_person: dict[int, list[StandupEntry]] = defaultdict(list)
    for e in history:
        by_person[e.person_id].append(e)
    people = {p.id: p for p in await participants(session, engagement)}
    extra_ids = [pid for pid in by_person if pid not in people]
    if extra_ids:
        for p in await session.scalars(select(Person).where(Person.id.in_(extra_ids))):
            people[p.id] = p
    fields: list[Field] = []
    total_expected = total_answered = 0
    # Participation by the one definition (queries.count_participation). No day is left open here: today's
    # prompted standup not answered yet counts as not answered, as /standup report always has (the health
    # report leaves it open until the day's digest).
    counts = count_participation(history, start, end)
    for pid, p in people.items():
        mine = by_person.get(pid, [])
        in_period = [e for e in mine if start <= e.day <= end]
        expected = [e for e in in_period if e.expected]
        c = counts.get(pid, Participation())
        early = [e for e in in_period if e.status == "answered" and not e.expected]
        late = sum(1 for e in in_period if e.late)
        current, _ = streaks([(e.day, e.status == "answered") for e in mine if e.expected])
        _, best = streaks([(e.day, e.status == "answered") for e in expected])
        total_expected += c.prompted
        total_answered += c.answered
        rate = f"{round(100 * c.answered / c.prompted)}%" if c.prompted else "—"
        notes = [f"{c.answered}/{c.prompted} days", f"streak {current} (best {best})"]
        if late:
            notes.append(f"{late} late")
        if early:
            notes.append(f"{len(early)} unprompted")
        fields.append(Field(mention(pid, p.display_name), f"{rate} · " + " · ".join(notes)))
    blockers = []
    for e in history:
        if e.blocker and e.blocker_of_id is None and e.answered_at and start <= e.day <= end:
            who = people.get(e.person_id)
            closed = await _closed_at(session, e)
            state = (
                f"open {duration(closed - e.answered_at)}, closed"
                if closed
                else f"open for {duration(now - e.answered_at)} and counting"
            )
            blockers.append(
                Field(
                    f"{day_text(e.day)} · {who.display_name if who else '?'}",
                    f"{truncate(e.blocker, 200)} — {state}",
                    short=False,
                )
            )
    overall = f"{round(100 * total_answered / total_expected)}%" if total_expected else "—"
    sections = [Card(title="Participation", fields=fields or [Field("Participants", "none yet")])]
    sections.append(
        Card(
            title=f"Blockers raised: {len(blockers)}",
            fields=blockers,
            tone="danger" if any("counting" in b.value for b in blockers) else "info",
        )
    )
    return Card(
        title=f"Standup report · {engagement.key} · {day_text(start)} – {day_text(end)}",
        text=f"Last {period}: {total_answered} of {total_expected} prompted standups answered ({overall}).",
        sections=sections,
    )


async def _closed_at(session: AsyncSession, root: StandupEntry) -> datetime | None:
    """A repeated blocker closes with its last repeat."""
    if root.blocker_closed_at is None:
        return None
    repeats = list(
        await session.scalars(select(StandupEntry.blocker_closed_at).where(StandupEntry.blocker_of_id == root.id))
    )
    closed = [r for r in repeats if r is not None]
    if len(closed) < len(repeats):  # a repeat is still open
        return None
    return max([root.blocker_closed_at, *closed])


# -- the health report's section ---------------------------------------------------------------------------
# A person's participation is the one count `/standup report` uses (`count_participation`): answered / prompted
# standups over the local dates of the period in the home zone, today's unanswered one left open until its
# digest. A blocker is raised on the standup date of the answer that first states it (repeats are not new), and
# closed (in the period of its closing instant) when it and every repeat are closed.
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


async def report_figures(
    session: AsyncSession, engagement: Engagement, period: Period, now: datetime
) -> StandupFigures:
    rows = list(
        await session.scalars(
            select(StandupEntry)
            .where(StandupEntry.engagement_id == engagement.id)
            .order_by(StandupEntry.day, StandupEntry.id)
        )
    )
    # Today's standup not answered yet is still open, not missed, until the day's digest is out.
    today_open = await open_day(session, engagement, period.last_day)
    counts = {
        pid: c
        for pid, c in count_participation(rows, period.first_day, period.last_day, open_day=today_open).items()
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


async def _names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Person.id, Person.display_name).where(Person.id.in_(ids)))
    # .all(), not the Result itself: dict() takes a Result (it has .keys()) for a mapping and fails.
    return dict(rows.tuples().all())


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:g} %"


def report_card(s: StandupFigures, period: Period) -> Card:
    fields = [Field(p.name, f"{p.answered}/{p.expected} ({_pct(p.pct)})") for p in s.people]
    text = (
        f"Participation {_pct(s.pct)}: {s.answered} of {s.expected} prompted standups answered.\n"
        if s.expected
        else "No standup was prompted in this period.\n"
    )
    text += f"Blockers raised {s.blockers_raised}, closed {s.blockers_closed}; open now {s.blockers_open}."
    return Card(
        title="Standups",
        text=text,
        fields=fields or [Field("Participants", "none yet")],
        tone="warning" if s.blockers_open else "info",
    )


def report_flags(s: StandupFigures, period: Period) -> list[tuple[int, str]]:
    """Open blockers (rank 40 among the report's "needs attention" lines)."""
    if not s.blockers_open:
        return []
    n = s.blockers_open
    return [(40, f"{n} standup blocker{'s are' if n != 1 else ' is'} still open.")]


def report_home(s: StandupFigures) -> list[Field]:
    return [Field("Standups", f"{_pct(s.pct)} answered · {plural(s.blockers_open, 'blocker')} open")]


ANSWER_COLUMNS = [
    "date",
    "person",
    "status",
    "prompted",
    "answered_at_utc",
    "late",
    "question",
    "answer",
    "blocker",
    "blocker_closed_at_utc",
]


async def export_answers(
    session: AsyncSession, engagement: Engagement, period: Period, now: datetime
) -> dict[str, str]:
    """`standup_answers.csv`: one row per question answered (or left open) per person and standup date in
    the range's home-zone dates."""
    rows = list(
        await session.execute(
            select(StandupEntry, Person)
            .join(Person, Person.id == StandupEntry.person_id)
            .where(
                StandupEntry.engagement_id == engagement.id,
                StandupEntry.day >= period.first_day,
                StandupEntry.day <= period.last_day,
            )
            .order_by(StandupEntry.day, Person.display_name, StandupEntry.id)
        )
    )
    out = []
    for e, p in rows:
        questions = list(e.questions or [])
        answers = list(e.answers or [])
        for i, q in enumerate(questions or [""]):
            answer = answers[i] if i < len(answers) else None
            is_blocker = e.blocker_index is not None and i == e.blocker_index
            out.append(
                [
                    e.day.isoformat(),
                    p.display_name,
                    e.status,
                    "yes" if e.expected else "no",
                    e.answered_at,
                    "yes" if e.late else "no",
                    q,
                    answer or "",
                    e.blocker if is_blocker else "",
                    e.blocker_closed_at if is_blocker else None,
                ]
            )
    return {"standup_answers.csv": to_csv(ANSWER_COLUMNS, out)}
