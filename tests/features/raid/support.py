"""Helpers for the RAID tests: rows, timers, what was posted and sent."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.kernel.text import strip_tokens
from storage.models import AuditEntry, Engagement, Timer
from storage.models.raid import RaidChange, RaidItem
from tests.helpers import reply_text, sent


async def items(core) -> list[RaidItem]:
    async with core.session_factory() as s:
        return list(await s.scalars(select(RaidItem).order_by(RaidItem.number)))


async def history(core) -> list[RaidChange]:
    async with core.session_factory() as s:
        return list(await s.scalars(select(RaidChange).order_by(RaidChange.id)))


async def audits(core) -> list[tuple[str, str | None, str | None]]:
    async with core.session_factory() as s:
        rows = await s.scalars(select(AuditEntry).where(AuditEntry.entity_type == "raid").order_by(AuditEntry.id))
        return [(e.action, e.from_state, e.to_state) for e in rows]


async def timers(core, status: str | None = "pending") -> list[Timer]:
    async with core.session_factory() as s:
        q = select(Timer).where(Timer.key.like("raid.review:%")).order_by(Timer.due_at)
        if status:
            q = q.where(Timer.status == status)
        return list(await s.scalars(q))


def posts(core, contains: str = "") -> list:
    return [d for d in sent(core) if d.op == "post" and contains in d.text]


def dms_to(core, name: str, contains: str = "") -> list:
    return [d for d in sent(core) if d.op == "dm" and d.address.get("user_id") == name and contains in d.text]


def card_text(card) -> str:
    parts = [card.plain()] + [card_text(s) for s in card.sections]
    parts += [f"[{b.label}]" for b in card.buttons]
    return "\n".join(p for p in parts if p)


def said(reply) -> str:
    """What the person sees: every card with its sections, or the refusal."""
    cards = [*reply.private, *reply.public] + ([reply.update] if reply.update else [])
    return "\n".join(card_text(c) for c in cards) or reply_text(reply)


def _plain(kind: str, value: str, extra: str) -> str:
    """Inline tokens as a reader in UTC sees them: times as `2027-01-04 08:00 UTC`, people by name."""
    if kind == "time":
        return datetime.fromtimestamp(int(value), UTC).strftime("%Y-%m-%d %H:%M UTC")
    return extra or value


async def agenda_lines(core, section: str, kind: str = "sync", key: str = "ACME") -> list[str]:
    """The lines the agenda section `section` gives now, tokens rendered for a reader in UTC."""
    found = next(s for s in core.registry.agenda_sections if s.name == section)
    async with core.session_factory() as s:
        eng = await s.scalar(select(Engagement).where(Engagement.key == key))
        raw = await found.lines(s, eng, core.clock.now(), kind)
    return [strip_tokens(line, _plain) for line in raw]
