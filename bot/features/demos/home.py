"""A person's home (Slack App Home): their next demos, and what a demo is waiting from them —
the vendor side's agenda item, the client side's outcome."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.demos import cards
from bot.kernel.messages import Button, Card
from bot.kernel.people import CLIENT_ROLES, VENDOR_ROLES
from bot.kernel.text import when
from storage.models import Engagement, Membership, Person
from storage.models.demos import Demo, DemoAgendaItem, DemoOccurrence, DemoOutcome

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

WINDOW = timedelta(days=14)
OUTCOME_WINDOW = timedelta(days=30)


async def home_section(session: AsyncSession, core: Cadence, person: Person) -> list[Card]:
    now = core.clock.now()
    out: list[Card] = []
    rows = await session.execute(
        select(Membership, Engagement)
        .join(Engagement, Engagement.id == Membership.engagement_id)
        .where(Membership.person_id == person.id)
        .order_by(Engagement.key)
    )
    for membership, engagement in rows:
        roles = set(membership.roles or [])
        upcoming = list(
            await session.execute(
                select(DemoOccurrence, Demo)
                .join(Demo, Demo.id == DemoOccurrence.demo_id)
                .where(
                    DemoOccurrence.engagement_id == engagement.id,
                    DemoOccurrence.status == "scheduled",
                    DemoOccurrence.starts_at > now,
                    DemoOccurrence.starts_at <= now + WINDOW,
                )
                .order_by(DemoOccurrence.starts_at)
            )
        )
        lines, buttons = [], []
        for occ, demo in upcoming:
            lines.append(f"{cards.demo_ref(engagement, demo)} · {demo.title} — {when(occ.starts_at)}")
            if roles & VENDOR_ROLES:
                mine = await session.scalar(
                    select(DemoAgendaItem.id).where(
                        DemoAgendaItem.occurrence_id == occ.id, DemoAgendaItem.person_id == person.id
                    )
                )
                if mine is None:
                    buttons.append(
                        Button(f"What I'll show ({cards.demo_ref(engagement, demo)})", "demo.agenda_open", str(occ.id))
                    )
        waiting = []
        if roles & CLIENT_ROLES:
            waiting = list(
                await session.execute(
                    select(DemoOccurrence, Demo)
                    .join(Demo, Demo.id == DemoOccurrence.demo_id)
                    .outerjoin(DemoOutcome, DemoOutcome.occurrence_id == DemoOccurrence.id)
                    .where(
                        DemoOccurrence.engagement_id == engagement.id,
                        DemoOccurrence.status == "ended",
                        DemoOccurrence.starts_at > now - OUTCOME_WINDOW,
                        DemoOutcome.id.is_(None),
                    )
                    .order_by(DemoOccurrence.starts_at)
                )
            )
        if not lines and not waiting:
            continue
        card = Card(
            title=f"Demos · {engagement.key}",
            text="\n".join(lines) or "No demo in the next two weeks.",
            buttons=buttons[:5],
        )
        for occ, demo in waiting[:3]:
            card.sections.append(
                Card(
                    title=f"Outcome needed: {cards.demo_ref(engagement, demo)} · {demo.title}",
                    text=f"Took place {when(occ.starts_at)}.",
                    buttons=cards.outcome_buttons(occ),
                    tone="warning",
                )
            )
        out.append(card)
    return out
