"""Shared helpers of the standup tests (not fixtures: plain functions)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from storage.models import Timer
from storage.models.standups import StandupEntry
from tests.helpers import sent


async def timers(core, prefix: str, status: str | None = None) -> list[Timer]:
    async with core.session_factory() as session:
        q = select(Timer).where(Timer.key.startswith(prefix, autoescape=True)).order_by(Timer.due_at)
        if status:
            q = q.where(Timer.status == status)
        return list(await session.scalars(q))


async def entries(core) -> list[StandupEntry]:
    async with core.session_factory() as session:
        return list(await session.scalars(select(StandupEntry).order_by(StandupEntry.day, StandupEntry.id)))


def dms_to(core, user_id: str) -> list:
    return [d for d in sent(core) if d.op == "dm" and d.address.get("user_id") == user_id]


def prompts_to(core, user_id: str) -> list:
    return [d for d in dms_to(core, user_id) if d.card.title.startswith("Standup ·") and "Reminder" not in d.card.text]


def reminders_to(core, user_id: str) -> list:
    return [d for d in dms_to(core, user_id) if "Reminder" in d.card.text]


def digests(core) -> list:
    return [d for d in sent(core) if d.card.title.startswith("Standup digest")]


async def goto(core, when: datetime) -> None:
    """Move the clock to `when`, stopping at each timer's due time on the way (timers fire on time)."""
    while True:
        due = await core.timers.next_due()
        if due is None or due > when:
            core.clock.set(max(when, core.clock.now()))
            await core.drain()
            return
        core.clock.set(max(due, core.clock.now()))
        await core.drain()


def record_times(core) -> list[tuple[datetime, object]]:
    """Record (clock time, delivered) for every console delivery from now on."""
    log: list[tuple[datetime, object]] = []
    core.messengers["console"].on_deliver = lambda d: log.append((core.clock.now(), d))
    return log


def prompt_times(log, user_id: str) -> list[datetime]:
    return [
        t
        for t, d in log
        if d.op == "dm"
        and d.address.get("user_id") == user_id
        and d.card.title.startswith("Standup ·")
        and "Reminder" not in d.card.text
    ]


def card_text(card) -> str:
    """A card's text with its sections (Card.plain() leaves sections out)."""
    from bot.kernel.text import strip_tokens

    parts = [card.plain()] + [card_text(s) for s in card.sections]
    if card.footer:
        parts.append(strip_tokens(card.footer))
    return "\n".join(p for p in parts if p)


def all_text(reply) -> str:
    cards = [*reply.private, *reply.public] + ([reply.update] if reply.update else [])
    parts = [card_text(c) for c in cards] + ([reply.form.title] if reply.form else []) + list(reply.errors.values())
    return "\n".join(parts)
