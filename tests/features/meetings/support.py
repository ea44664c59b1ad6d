"""Helpers for the meeting tests: schedule and confirm, what was posted, rows."""

from __future__ import annotations

import base64

from icalendar import Calendar
from sqlalchemy import select

from storage.models import Timer
from storage.models.meetings import Meeting, MeetingOccurrence
from tests.helpers import click, reply_text, run, sent


def flat(card) -> str:
    """A card's text with its sections (the agenda's sections, the review's figures)."""
    return "\n".join([card.plain(), *(flat(s) for s in card.sections)])


def confirm_value(reply) -> str:
    card = reply.private[0]
    return next(b for b in card.buttons if b.action_id == "meeting.confirm").value


async def schedule(core, who, text):
    reply = await run(core, who, f"/meeting schedule {text}")
    assert reply.private and reply.private[0].buttons, reply_text(reply)
    confirmed = await click(core, who, "meeting.confirm", confirm_value(reply))
    assert confirmed.update is not None and "Scheduled" in confirmed.update.title, reply_text(confirmed)
    await core.drain()
    return reply, confirmed


def posts(core, needle: str = "") -> list:
    return [d for d in sent(core) if d.op == "post" and needle in flat(d.card)]


def agendas(core) -> list:
    return [d for d in sent(core) if d.op == "post" and d.card.title.startswith("Agenda:")]


def dms(core, user: str, needle: str = "") -> list:
    return [d for d in sent(core) if d.op == "dm" and d.address.get("user_id") == user and needle in flat(d.card)]


def calendar(delivered) -> Calendar:
    att = next(a for a in delivered.card.attachments if a.mime == "text/calendar")
    return Calendar.from_ical(base64.b64decode(att.content_b64))


async def meetings(core) -> list[Meeting]:
    async with core.session_factory() as s:
        return list(await s.scalars(select(Meeting).order_by(Meeting.id)))


async def occurrences(core) -> list[MeetingOccurrence]:
    async with core.session_factory() as s:
        return list(await s.scalars(select(MeetingOccurrence).order_by(MeetingOccurrence.id)))


async def pending(core, kind: str) -> list[Timer]:
    async with core.session_factory() as s:
        return list(
            await s.scalars(select(Timer).where(Timer.kind == kind, Timer.status == "pending").order_by(Timer.due_at))
        )
