"""Helpers for the milestone tests: rows, timers, what was posted and sent."""

from __future__ import annotations

from sqlalchemy import select

from bot.kernel.engagements import update_feature_settings
from storage.models import AuditEntry, Engagement, Person, Timer
from storage.models.milestones import Milestone, ProjectAcceptance, RectificationItem
from tests.helpers import sent


async def milestone(core, number: int = 1) -> Milestone:
    async with core.session_factory() as s:
        return await s.scalar(select(Milestone).where(Milestone.number == number))


async def items(core) -> list[RectificationItem]:
    async with core.session_factory() as s:
        return list(await s.scalars(select(RectificationItem).order_by(RectificationItem.number)))


async def acceptance(core) -> ProjectAcceptance | None:
    async with core.session_factory() as s:
        return await s.scalar(select(ProjectAcceptance))


async def steps(core, entity_id: int) -> list[tuple[str, str | None, str | None]]:
    async with core.session_factory() as s:
        rows = await s.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_type == "milestone", AuditEntry.entity_id == entity_id)
            .order_by(AuditEntry.id)
        )
        return [(e.action, e.from_state, e.to_state) for e in rows]


async def timers(core, prefix: str, status: str | None = "pending") -> list[Timer]:
    async with core.session_factory() as s:
        q = select(Timer).where(Timer.key.like(prefix + "%")).order_by(Timer.due_at)
        if status:
            q = q.where(Timer.status == status)
        return list(await s.scalars(q))


async def person_id(core, name: str) -> int:
    async with core.session_factory() as s:
        return await s.scalar(select(Person.id).where(Person.display_name == name.capitalize()))


async def set_settings(core, key: str = "ACME", **values) -> None:
    async with core.session_factory() as s, s.begin():
        eng = await s.scalar(select(Engagement).where(Engagement.key == key))
        update_feature_settings(eng, "milestones", values)


async def set_engagement(core, key: str = "ACME", **columns) -> None:
    async with core.session_factory() as s, s.begin():
        eng = await s.scalar(select(Engagement).where(Engagement.key == key))
        for k, v in columns.items():
            setattr(eng, k, v)


def posts(core, contains: str = "") -> list:
    return [d for d in sent(core) if d.op == "post" and contains in d.text]


def dms_to(core, name: str, contains: str = "") -> list:
    return [d for d in sent(core) if d.op == "dm" and d.address.get("user_id") == name and contains in d.text]


def card_text(card) -> str:
    parts = [card.plain()] + [card_text(s) for s in card.sections]
    parts += [f"[{b.label}]" for b in card.buttons]
    return "\n".join(p for p in parts if p)


def said(reply) -> str:
    parts = [card_text(c) for c in [*reply.private, *reply.public]]
    if reply.form:
        parts.append(reply.form.title)
    parts.extend(reply.errors.values())
    return "\n".join(parts)
