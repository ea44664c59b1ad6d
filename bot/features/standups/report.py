"""`/standup report [week|month]`: participation per person, blockers and how long they stayed open,
streaks."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.standups.config import participants
from bot.features.standups.queries import Participation, count_participation
from bot.kernel.messages import Card, Field
from bot.kernel.text import day_text, duration, truncate
from bot.kernel.text import person as mention
from bot.kernel.zones import zone_or_utc
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
