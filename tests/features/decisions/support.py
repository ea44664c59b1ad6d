"""Helpers for the decisions tests: rows, timers, a meeting that has just ended, a standup blocker."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from storage.models import AuditEntry, Engagement, Person, Timer
from storage.models.decisions import ActionItem, Decision
from storage.models.meetings import Meeting, MeetingOccurrence
from storage.models.standups import StandupEntry
from tests.features.milestones.support import card_text, dms_to, person_id, posts, said, set_engagement

__all__ = ["card_text", "dms_to", "person_id", "posts", "said", "set_engagement"]


async def decisions(core) -> list[Decision]:
    async with core.session_factory() as s:
        return list(await s.scalars(select(Decision).order_by(Decision.id)))


async def action_items(core) -> list[ActionItem]:
    async with core.session_factory() as s:
        return list(await s.scalars(select(ActionItem).order_by(ActionItem.id)))


async def audit_steps(core, entity_type: str) -> list[tuple[str, str | None]]:
    async with core.session_factory() as s:
        rows = await s.scalars(select(AuditEntry).where(AuditEntry.entity_type == entity_type).order_by(AuditEntry.id))
        return [(e.action, e.comment) for e in rows]


async def timers(core, prefix: str, status: str | None = "pending") -> list[Timer]:
    async with core.session_factory() as s:
        q = select(Timer).where(Timer.key.like(prefix + "%")).order_by(Timer.due_at)
        if status:
            q = q.where(Timer.status == status)
        return list(await s.scalars(q))


async def engagement(core, key: str = "ACME") -> Engagement:
    async with core.session_factory() as s:
        return await s.scalar(select(Engagement).where(Engagement.key == key))


async def meeting(
    core, *, ends_at: datetime, key: str = "ACME", title: str = "Weekly sync", number: int = 1
) -> MeetingOccurrence:
    """A one-hour meeting of `key` that ends at `ends_at` (rows written directly: the meetings feature
    schedules them in its own branch)."""
    async with core.session_factory() as s, s.begin():
        eng = await s.scalar(select(Engagement).where(Engagement.key == key))
        start = ends_at - timedelta(hours=1)
        m = Meeting(
            engagement_id=eng.id,
            number=number,
            kind="sync",
            title=title,
            tz="UTC",
            start_at=start,
            duration_minutes=60,
            status="scheduled",
            uid=f"mtg-{key}-{number}@test",
            sequence=0,
            exdates=[],
            created_at=start,
            updated_at=start,
        )
        s.add(m)
        await s.flush()
        occ = MeetingOccurrence(
            meeting_id=m.id,
            engagement_id=eng.id,
            original_start=start,
            starts_at=start,
            ends_at=ends_at,
            status="scheduled",
            version=0,
            created_at=start,
            updated_at=start,
        )
        s.add(occ)
        await s.flush()
        return occ


async def blocker(core, who: str, text: str, day: date, key: str = "ACME") -> int:
    """A standup answer of `who` on `day` that raised `text` as a blocker; its id."""
    async with core.session_factory() as s, s.begin():
        eng = await s.scalar(select(Engagement).where(Engagement.key == key))
        person = await s.scalar(select(Person).where(Person.display_name == who.capitalize()))
        entry = StandupEntry(
            engagement_id=eng.id,
            person_id=person.id,
            day=day,
            questions=["Done?", "Next?", "Blockers?"],
            blocker_index=2,
            answers=["Login", "Tests", text],
            position=3,
            status="answered",
            updated_at=core.clock.now(),
            answered_at=core.clock.now(),
            blocker=text,
        )
        s.add(entry)
        await s.flush()
        return entry.id
