"""Shared set-up for the defect tests: an engagement with a vendor support calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from bot.kernel.messages import Card
from storage.models import Engagement
from storage.models.defects import Defect
from storage.models.milestones import Milestone, ProjectAcceptance
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
        eng.support_tz, eng.support_country = support_tz, country
        if warranty_end is not None:
            await accepted_project(s, eng, warranty_end)
    if escalation:
        r = await run(core, people["alice"], "/cadence escalation ACME", place("escalations"))
        assert "warning" not in {c.tone for c in r.private}, reply_text(r)
    await core.drain()
    return people


async def accepted_project(s, eng: Engagement, warranty_end: date, months: int = 6) -> None:
    """A project accepted long before the test's clock (its warranty ending `warranty_end`): the rows the
    milestones feature writes at the project acceptance (tests/features/milestones go through the commands)."""
    accepted_on = warranty_end - relativedelta(months=months)
    at = datetime.combine(accepted_on, time(12, 0), tzinfo=UTC)
    m = Milestone(
        engagement_id=eng.id,
        number=1,
        title="Go-live",
        due_date=accepted_on,
        final=True,
        state="accepted",
        round=1,
        created_at=at,
        updated_at=at,
    )
    s.add(m)
    await s.flush()
    s.add(
        ProjectAcceptance(
            engagement_id=eng.id,
            milestone_id=m.id,
            accepted_at=at,
            accepted_on=accepted_on,
            deemed=False,
            warranty_months=months,
            warranty_until=warranty_end,
        )
    )
    eng.warranty_end = warranty_end


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
