"""Read-only look-ups of standups: a person's entry, the posted digest, what waits for an answer, the
latest prompt of a day, what a day's digest shows, and participation — answered / prompted standups, the
one definition the standup report and the health report (bot/features/reports) both use."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.standups import cards
from bot.features.standups.settings import StandupSettings, participants, settings
from bot.kernel import people
from bot.kernel.messages import Card
from bot.kernel.timers import key_starts_with
from bot.kernel.zones import zone_or_utc
from storage.models import Engagement, Person, Timer
from storage.models.standups import StandupDigest, StandupEntry


async def get_entry(session: AsyncSession, engagement_id: int, person_id: int, day: date) -> StandupEntry | None:
    return await session.scalar(
        select(StandupEntry).where(
            StandupEntry.engagement_id == engagement_id, StandupEntry.person_id == person_id, StandupEntry.day == day
        )
    )


async def digest_of(session: AsyncSession, engagement_id: int, day: date) -> StandupDigest | None:
    return await session.scalar(
        select(StandupDigest).where(StandupDigest.engagement_id == engagement_id, StandupDigest.day == day)
    )


async def answering_entries(session: AsyncSession, person: Person) -> list[StandupEntry]:
    """Entries waiting for this person's answers in the conversation, oldest prompt first."""
    return list(
        await session.scalars(
            select(StandupEntry)
            .where(StandupEntry.person_id == person.id, StandupEntry.status == "answering")
            .order_by(StandupEntry.prompted_at, StandupEntry.id)
        )
    )


async def latest_prompt(
    session: AsyncSession, engagement: Engagement, day: date, conf: StandupSettings
) -> datetime | None:
    latest = None
    for person in await participants(session, engagement):
        rule = conf.rule_for(person)
        if rule.is_prompt_day(day):
            instant = rule.instant(day)
            latest = instant if latest is None or instant > latest else latest
    return latest


async def next_prompt_due(session: AsyncSession, prefix: str) -> datetime | None:
    """When the pending prompt under `prefix` (service.prompt_prefix: one engagement and person) is due."""
    return await session.scalar(
        select(Timer.due_at)
        .where(key_starts_with(session, prefix), Timer.status == "pending")
        .order_by(Timer.due_at)
        .limit(1)
    )


# -- a day's digest ------------------------------------------------------------------------------------
@dataclass
class DigestDay:
    """What the digest of one standup date shows: the answers (on time first), who is missing (with a
    note) and who is away (with the reason), the answerers' names, and the first day of each repeated
    blocker (by entry id)."""

    answered: list[StandupEntry]
    missing: list[tuple[Person, str]]
    away: list[tuple[Person, str]]
    names: dict[int, str] = field(default_factory=dict)
    blocker_since: dict[int, date] = field(default_factory=dict)


async def digest_day(session: AsyncSession, engagement: Engagement, day: date) -> DigestDay:
    conf = settings(engagement)
    entries = {
        e.person_id: e
        for e in await session.scalars(
            select(StandupEntry)
            .where(StandupEntry.engagement_id == engagement.id, StandupEntry.day == day)
            .order_by(StandupEntry.answered_at, StandupEntry.id)
        )
    }
    answered = [e for e in entries.values() if e.status == "answered"]
    answered.sort(key=lambda e: (e.late, e.answered_at))
    missing: list[tuple[Person, str]] = []
    away: list[tuple[Person, str]] = []
    for p in await participants(session, engagement):
        e = entries.get(p.id)
        if e is not None and e.status == "answered":
            continue
        reason = people.away_reason(p, day)
        if reason and day.weekday() in conf.rule_for(p).days:
            away.append((p, reason))
        elif e is not None and e.expected:  # prompted that day, no answer
            missing.append((p, "started, not finished" if any(e.answers or []) else ""))
    view = DigestDay(answered, missing, away)
    if not answered and not missing:
        return view
    view.names = {p.id: p.display_name for p in await _people(session, [e.person_id for e in answered])}
    for e in answered:
        if e.blocker and e.blocker_of_id:
            root = await session.get(StandupEntry, e.blocker_of_id)
            if root is not None:
                view.blocker_since[e.id] = root.day
    return view


async def build_digest(
    session: AsyncSession, engagement: Engagement, day: date, now: datetime, *, force: bool = False
) -> Card | None:
    """The digest card; None when nobody took part that day (nothing to post)."""
    view = await digest_day(session, engagement, day)
    if not view.answered and not view.missing and not force:
        return None
    return cards.digest_card(engagement, day, view, now)


async def _people(session: AsyncSession, ids: list[int]) -> list[Person]:
    if not ids:
        return []
    return list(await session.scalars(select(Person).where(Person.id.in_(ids))))


# -- participation ---------------------------------------------------------------------------------------
@dataclass
class Participation:
    """One person's standups over a range of dates. `prompted`: days whose prompt fired for them (away days
    and non-work days are never prompted, so never count against anyone); `answered`: those answered;
    `pending`: prompted, not answered yet, and the day's digest not out — still open, not missed."""

    prompted: int = 0
    answered: int = 0
    pending: int = 0

    @property
    def settled(self) -> int:
        """Prompted days that are answered or missed (the pending one is neither yet)."""
        return self.prompted - self.pending


def count_participation(
    entries: Iterable[StandupEntry], first: date, last: date, *, open_day: date | None = None
) -> dict[int, Participation]:
    """Participation per person id over the dates [first, last]. `open_day`: the date whose unanswered
    prompts are still pending (today's, before its digest); None when no day is open."""
    out: dict[int, Participation] = {}
    for e in entries:
        if not (first <= e.day <= last) or not e.expected:
            continue
        c = out.setdefault(e.person_id, Participation())
        c.prompted += 1
        if e.status == "answered":
            c.answered += 1
        elif e.day == open_day:
            c.pending += 1
    return out


async def open_day(session: AsyncSession, engagement: Engagement, day: date) -> date | None:
    """`day` if its digest is not out yet (its unanswered prompts are still open), else None."""
    posted = await session.scalar(
        select(StandupDigest.id).where(StandupDigest.engagement_id == engagement.id, StandupDigest.day == day)
    )
    return day if posted is None else None


async def participation_by_week(
    session: AsyncSession, engagement: Engagement, now: datetime, weeks: int
) -> list[float | None]:
    """Answered / prompted standups (%) in each of the last `weeks` 7-day windows of home-zone dates ending
    with today's, oldest first; None for a week with nothing prompted."""
    last = now.astimezone(zone_or_utc(engagement.home_tz)).date()
    first = last - timedelta(days=7 * weeks - 1)
    rows = list(
        await session.scalars(
            select(StandupEntry).where(
                StandupEntry.engagement_id == engagement.id,
                StandupEntry.expected.is_(True),
                StandupEntry.day >= first,
                StandupEntry.day <= last,
            )
        )
    )
    out: list[float | None] = []
    for w in range(weeks):
        lo = first + timedelta(days=7 * w)
        week = count_participation(rows, lo, lo + timedelta(days=6)).values()
        prompted = sum(c.prompted for c in week)
        out.append(round(100.0 * sum(c.answered for c in week) / prompted, 1) if prompted else None)
    return out
