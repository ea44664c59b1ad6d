"""Shared set-up for the defect tests: an engagement with a vendor support calendar."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.kernel.messages import Card
from storage.models import Engagement
from storage.models.defects import Defect
from tests.helpers import make_engagement, place, reply_text, run, sent


async def engagement(
    core,
    *,
    support_tz: str = "UTC",
    country: str | None = None,
    warranty_end: date | None = None,
    escalation: bool = True,
):
    people = await make_engagement(core)
    # Standups and the weekly report are other features' business; off here so long clock jumps stay
    # quick and quiet.
    await run(core, people["victor"], "/standup config off")
    await run(core, people["alice"], "/cadence report off")
    async with core.session_factory() as s, s.begin():
        eng = await s.scalar(select(Engagement).where(Engagement.key == "ACME"))
        eng.support_tz, eng.support_country, eng.warranty_end = support_tz, country, warranty_end
    if escalation:
        r = await run(core, people["alice"], "/cadence escalation ACME", place("escalations"))
        assert "warning" not in {c.tone for c in r.private}, reply_text(r)
    await core.drain()
    return people


async def defect(core, number: int = 1) -> Defect:
    async with core.session_factory() as s:
        d = await s.scalar(select(Defect).where(Defect.number == number))
        await s.refresh(d, ["pauses"])
        return d


def delivered(core, since: int = 0):
    return sent(core)[since:]


def notices(core, since: int = 0, word: str = "") -> list:
    """Warnings/breach notices delivered (DMs and escalation posts) whose title contains `word`."""
    return [d for d in delivered(core, since) if d.op in ("dm", "post") and word in d.card.title]


def all_text(reply) -> str:
    """Every card of a reply as plain text, sections included."""

    def walk(card: Card) -> list[str]:
        out = [card.plain()]
        for s in card.sections:
            out += walk(s)
        return out

    parts = []
    for card in [*reply.private, *reply.public] + ([reply.update] if reply.update else []):
        parts += walk(card)
    parts.extend(reply.errors.values())
    return "\n".join(parts)
