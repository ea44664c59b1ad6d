"""Timer handlers: reminders before a demo, the agenda request, the outcome request after it, and
the weekly stale-demo check. Each re-checks the occurrence: a cancelled or moved one never fires."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.demos import cards, service
from bot.kernel.context import TimerCtx
from bot.kernel.engagements import feature_settings
from bot.kernel.messages import Button, Card, Field
from bot.kernel.people import VENDOR_ROLES, members_with_roles
from bot.kernel.rows import must_get
from bot.kernel.text import when
from storage.models import Engagement, Person
from storage.models.demos import Demo, DemoAgendaItem, DemoOccurrence

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence


async def _live(tctx: TimerCtx) -> tuple[Engagement, Demo, DemoOccurrence] | None:
    """The occurrence a timer is for, if it is still scheduled as the timer knew it."""
    payload = tctx.payload
    occ = await tctx.session.get(DemoOccurrence, payload.get("occ"))
    if occ is None or occ.status != "scheduled" or occ.version != payload.get("v"):
        return None
    demo = await tctx.session.get(Demo, occ.demo_id)
    if demo is None or demo.status != "scheduled":
        return None
    engagement = await must_get(tctx.session, Engagement, occ.engagement_id)
    return engagement, demo, occ


def lead_label(minutes: int) -> str:
    if minutes % 1440 == 0:
        days = minutes // 1440
        return "tomorrow" if days == 1 else f"in {days} days"
    if minutes % 60 == 0:
        hours = minutes // 60
        return "in 1 hour" if hours == 1 else f"in {hours} hours"
    return f"in {minutes} minutes"


async def agenda_lines(session: AsyncSession, occ: DemoOccurrence) -> list[str]:
    rows = await session.execute(
        select(DemoAgendaItem, Person)
        .join(Person, Person.id == DemoAgendaItem.person_id)
        .where(DemoAgendaItem.occurrence_id == occ.id)
        .order_by(DemoAgendaItem.created_at, DemoAgendaItem.id)
    )
    return [f"• {person.display_name}: {item.text}" for item, person in rows]


def remind_ref(occ: DemoOccurrence, minutes: int) -> str:
    return f"demo:occ:{occ.id}:v{occ.version}:remind:{minutes}"


async def reminder_card(
    session: AsyncSession,
    engagement: Engagement,
    demo: Demo,
    occ: DemoOccurrence,
    minutes: int,
    *,
    late_minutes: int = 0,
) -> Card:
    offsets = service.settings(engagement)["reminder_minutes"] or [minutes]
    is_last = minutes <= min(offsets)
    zones = await cards.member_zones(session, engagement)
    fields = [
        Field("Demo", f"{cards.demo_ref(engagement, demo)} · {demo.title}", short=False),
        Field("Starts (your time)", when(occ.starts_at), short=False),
        Field("Time zones", cards.zone_lines(occ.starts_at, zones, home=engagement.home_tz), short=False),
    ]
    agenda = await agenda_lines(session, occ)
    if agenda:
        fields.append(Field("Agenda", "\n".join(agenda), short=False))
    elif is_last:
        fields.append(Field("Agenda", "Nobody has sent an agenda item.", short=False))
    return Card(
        title=f"Demo {lead_label(minutes)}: {demo.title}",
        text=f"{demo.title} starts {when(occ.starts_at)}.",
        fields=fields,
        footer=f"This reminder is {late_minutes} min late (Cadence was unavailable)." if late_minutes else "",
    )


async def remind(tctx: TimerCtx) -> None:
    live = await _live(tctx)
    if live is None:
        return
    engagement, demo, occ = live
    if tctx.now >= occ.starts_at:
        return  # Cadence was down past the start: a reminder now would only confuse.
    minutes = int(tctx.payload.get("minutes") or 60)
    late = tctx.lateness > timedelta(minutes=5)
    card = await reminder_card(
        tctx.session,
        engagement,
        demo,
        occ,
        minutes,
        late_minutes=int(tctx.lateness.total_seconds() // 60) if late else 0,
    )
    await tctx.core.outbox.post_home(tctx.session, engagement, card, ref_key=remind_ref(occ, minutes))


async def refresh_last_reminder(
    session: AsyncSession,
    core: Cadence,
    engagement: Engagement,
    demo: Demo,
    occ: DemoOccurrence,
) -> bool:
    """An agenda item arrived after the last reminder was posted: edit that reminder to include it."""
    offsets = service.settings(engagement)["reminder_minutes"]
    if not offsets:
        return False
    last = min(offsets)
    timer = await core.timers.get(session, f"demo:{occ.id}:v{occ.version}:remind:{last}")
    if timer is None or timer.status != "done":
        return False
    await session.flush()
    card = await reminder_card(session, engagement, demo, occ, last)
    await core.outbox.update(session, remind_ref(occ, last), card)
    return True


async def ask_agenda(tctx: TimerCtx) -> None:
    live = await _live(tctx)
    if live is None:
        return
    engagement, demo, occ = live
    ref = cards.demo_ref(engagement, demo)
    for person in await members_with_roles(tctx.session, engagement, VENDOR_ROLES):
        card = Card(
            title=f"What will you show at the demo? ({engagement.key})",
            text=(
                f"{ref} · {demo.title} starts {when(occ.starts_at)}. Tell the client what you will show; "
                "your answer goes into the 1-hour reminder in the home channel."
            ),
            buttons=[Button("Add what I'll show", "demo.agenda_open", str(occ.id), "primary")],
            footer=f"Or type `/demo agenda {demo.number} <what you will show>`.",
        )
        await tctx.core.outbox.dm(
            tctx.session, person, card, ref_key=f"demo:occ:{occ.id}:agenda:{person.id}", engagement_id=engagement.id
        )


def outcome_request(engagement: Engagement, demo: Demo, occ: DemoOccurrence) -> Card:
    return Card(
        title=f"How did the demo go? {demo.title}",
        text=(
            f"{cards.demo_ref(engagement, demo)} ({when(occ.starts_at)}) has ended. Client side, please record "
            "the outcome: accepted, accepted with remarks, or not accepted (with reasons). It becomes part of "
            "the acceptance record (`/demo history`)."
        ),
        buttons=cards.outcome_buttons(occ),
    )


async def ended(tctx: TimerCtx) -> None:
    live = await _live(tctx)
    if live is None:
        return
    engagement, demo, occ = live
    occ.status = "ended"
    occ.updated_at = tctx.now
    await tctx.core.outbox.post_home(
        tctx.session, engagement, outcome_request(engagement, demo, occ), ref_key=f"demo:occ:{occ.id}:outcome"
    )
    if demo.rrule:
        nxt = await service.materialise_next(
            tctx.session, tctx.core, engagement, demo, after=occ.original_start, now=tctx.now
        )
        if nxt is None:
            demo.status = "ended"
    else:
        demo.status = "ended"
    demo.updated_at = tctx.now


async def stale_check(tctx: TimerCtx) -> None:
    engagement = await tctx.session.get(Engagement, tctx.payload.get("engagement"))
    if engagement is None:
        tctx.timer.status = "cancelled"
        return
    # The weekly health report (bot.features.reports) carries the same flag; post it here only when that
    # report is not running for this engagement, so nobody reads it twice.
    report_on = "report.weekly" in tctx.core.registry.timers and bool(
        feature_settings(engagement, "report").get("enabled", True)
    )
    if service.settings(engagement).get("stale_check", True) and not report_on:
        flag = await service.stale_demo_flag(tctx.session, engagement, tctx.now)
        if flag:
            await tctx.core.outbox.post_home(
                tctx.session,
                engagement,
                Card(
                    title="No recent demo",
                    text=flag,
                    tone="warning",
                    footer="Iterations end in a demo of working software, not a status report.",
                ),
                ref_key=f"demo:stale:{engagement.id}:{tctx.now:%Y-%m-%d}",
            )
    # The same row waits for next week (it stays pending because its due time moves ahead).
    tctx.timer.due_at = service.next_weekly_slot(engagement, tctx.now + timedelta(minutes=1))
