"""A person's standup entry for one local date: opening it, answering questions, completing it, and
the blocker it raises or closes."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.standups.config import StandupSettings
from bot.kernel import people
from bot.kernel.text import MAX_TEXT, clean
from storage.models import Engagement, Person
from storage.models.standups import StandupDigest, StandupEntry

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

NO_BLOCKER = re.compile(
    r"^(no(ne|pe|thing)?|nil|n/?a|-+|no blockers?|nothing blocking( me)?|not blocked|all good|"
    r"no,? all good|nothing( at all)?|no blockers? today|none today)[.!]?$",
    re.IGNORECASE,
)
SKIP_WORDS = ("skip", "pass")


def says_no_blocker(text: str | None) -> bool:
    return bool(text and NO_BLOCKER.match(text.strip()))


def clean_answer(text: str | None) -> str:
    return clean(text, limit=MAX_TEXT, what="Your answer")


async def get_entry(session: AsyncSession, engagement_id: int, person_id: int, day: date) -> StandupEntry | None:
    return await session.scalar(
        select(StandupEntry).where(
            StandupEntry.engagement_id == engagement_id, StandupEntry.person_id == person_id, StandupEntry.day == day
        )
    )


async def open_entry(
    session: AsyncSession, engagement: Engagement, person: Person, day: date, conf: StandupSettings, now: datetime
) -> StandupEntry:
    """The entry of (engagement, person, day), created with today's questions if there is none."""
    entry = await get_entry(session, engagement.id, person.id, day)
    if entry is None:
        entry = StandupEntry(
            engagement_id=engagement.id,
            person_id=person.id,
            day=day,
            questions=list(conf.questions),
            blocker_index=conf.blocker_index,
            answers=[None] * len(conf.questions),
            position=0,
            status="open",
            expected=False,
            updated_at=now,
            late=False,
            extra={},
        )
        session.add(entry)
        await session.flush()
    return entry


def current_question(entry: StandupEntry) -> tuple[int, str] | None:
    if entry.position < len(entry.questions):
        return entry.position, entry.questions[entry.position]
    return None


def answer_current(entry: StandupEntry, text: str | None, now: datetime) -> None:
    """Answer (or, with None, skip) the current question of the conversation flow."""
    answers = list(entry.answers or [None] * len(entry.questions))
    answers += [None] * (len(entry.questions) - len(answers))
    answers[entry.position] = text
    entry.answers = answers
    entry.position += 1
    entry.updated_at = now


def set_answers(entry: StandupEntry, values: list[str | None], now: datetime) -> None:
    entry.answers = [v or None for v in values]
    entry.position = len(entry.questions)
    entry.updated_at = now


async def digest_of(session: AsyncSession, engagement_id: int, day: date) -> StandupDigest | None:
    return await session.scalar(
        select(StandupDigest).where(StandupDigest.engagement_id == engagement_id, StandupDigest.day == day)
    )


async def complete(
    session: AsyncSession,
    core: Cadence,
    engagement: Engagement,
    person: Person,
    entry: StandupEntry,
    now: datetime,
) -> None:
    """Mark the entry answered: blocker bookkeeping, no more reminder, and the digest updated in place
    when it was already posted (the answer is then marked late)."""
    from bot.features.standups.digest import refresh_digest

    first_time = entry.answered_at is None
    entry.status = "answered"
    entry.position = len(entry.questions)
    if first_time:
        entry.answered_at = now
        entry.answer_tz = people.zone(person).key
    entry.updated_at = now
    await _apply_blocker(session, entry, now)
    await core.timers.cancel(session, f"standup.reminder:{engagement.id}:{person.id}:{entry.day.isoformat()}")
    digest = await digest_of(session, engagement.id, entry.day)
    if digest is not None:
        if first_time:
            entry.late = True
            digest.late_count += 1
        await refresh_digest(session, core, engagement, digest, now)


async def _apply_blocker(session: AsyncSession, entry: StandupEntry, now: datetime) -> None:
    """A blocker answer raises a blocker (or repeats an open one); "none" closes the person's open ones."""
    idx = entry.blocker_index
    text = entry.answers[idx] if idx is not None and idx < len(entry.answers or []) else None
    earlier_open = list(
        await session.scalars(
            select(StandupEntry)
            .where(
                StandupEntry.engagement_id == entry.engagement_id,
                StandupEntry.person_id == entry.person_id,
                StandupEntry.day < entry.day,
                StandupEntry.blocker.is_not(None),
                StandupEntry.blocker_closed_at.is_(None),
            )
            .order_by(StandupEntry.day)
        )
    )
    if not text:
        # Skipped: nothing learned; an earlier blocker stays as it was.
        entry.blocker = None
        entry.blocker_of_id = None
        return
    if says_no_blocker(text):
        entry.blocker = None
        entry.blocker_of_id = None
        for old in earlier_open:
            old.blocker_closed_at = now
            old.blocker_closed_by = "answer"
        return
    entry.blocker = text
    same = next((o for o in earlier_open if _norm(o.blocker) == _norm(text)), None)
    entry.blocker_of_id = (same.blocker_of_id or same.id) if same is not None else None


def _norm(text: str | None) -> str:
    return " ".join((text or "").lower().split()).rstrip(".!")


async def close_blockers(
    session: AsyncSession, engagement_id: int, person_id: int, now: datetime, how: str = "explicit"
) -> int:
    rows = list(
        await session.scalars(
            select(StandupEntry).where(
                StandupEntry.engagement_id == engagement_id,
                StandupEntry.person_id == person_id,
                StandupEntry.blocker.is_not(None),
                StandupEntry.blocker_closed_at.is_(None),
            )
        )
    )
    for row in rows:
        row.blocker_closed_at = now
        row.blocker_closed_by = how
    return len({r.blocker_of_id or r.id for r in rows})


async def answering_entries(session: AsyncSession, person: Person) -> list[StandupEntry]:
    """Entries waiting for this person's answers in the conversation, oldest prompt first."""
    return list(
        await session.scalars(
            select(StandupEntry)
            .where(StandupEntry.person_id == person.id, StandupEntry.status == "answering")
            .order_by(StandupEntry.prompted_at, StandupEntry.id)
        )
    )
