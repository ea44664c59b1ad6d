"""Timer handlers (registered in commands.py): reminders before a demo, the agenda request, the outcome
request after it, the morning reminder of an outcome never recorded, and the weekly stale-demo check. Each
re-checks the occurrence: a cancelled or moved one never fires."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.features.demos import cards, queries, service
from bot.features.demos.cards import DEMOS
from bot.features.demos.settings import DEFAULTS
from bot.features.events.occurrences import continue_series, due_reminder, late_minutes
from bot.features.events.occurrences import live as live_occurrence
from bot.kernel.context import TimerCtx
from bot.kernel.engagements import feature_settings
from bot.kernel.messages import Button, Card
from bot.kernel.people import VENDOR_ROLES, members_with_roles, membership_of
from bot.kernel.text import when
from storage.models import Engagement, Person
from storage.models.demos import Demo, DemoOccurrence, DemoOutcome


async def remind(tctx: TimerCtx) -> None:
    due = await due_reminder(tctx, DEMOS, DEFAULTS["reminder_minutes"])
    if due is None:
        return
    engagement, demo, occ, minutes = due
    card = await service.reminder_card(tctx.session, engagement, demo, occ, minutes, late_minutes=late_minutes(tctx))
    await tctx.core.outbox.post_home(tctx.session, engagement, card, ref_key=DEMOS.reminder_ref(occ, minutes))


async def ask_agenda(tctx: TimerCtx) -> None:
    live = await live_occurrence(tctx, DEMOS)
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


async def ended(tctx: TimerCtx) -> None:
    live = await live_occurrence(tctx, DEMOS)
    if live is None:
        return
    engagement, demo, occ = live
    occ.status = "ended"
    occ.updated_at = tctx.now
    milestone = service.milestone_label(
        engagement, await service.milestone_of(tctx.session, engagement, demo.milestone_id)
    )
    await tctx.core.outbox.post_home(
        tctx.session,
        engagement,
        cards.outcome_request(engagement, demo, occ, milestone),
        ref_key=f"demo:occ:{occ.id}:outcome",
    )
    await service.plan_outcome_reminders(tctx.session, tctx.core, engagement, occ, tctx.now)
    await continue_series(tctx.session, tctx.core, DEMOS, service.plan_timers, engagement, demo, occ, tctx.now)


async def outcome_remind(tctx: TimerCtx) -> None:
    """The morning after a demo whose outcome is still not recorded: the client sponsor or PM, once."""
    occ = await tctx.session.get(DemoOccurrence, tctx.payload.get("occ"))
    person = await tctx.session.get(Person, tctx.payload.get("person"))
    if occ is None or person is None or occ.status == "cancelled":
        return
    if await tctx.session.scalar(select(DemoOutcome.id).where(DemoOutcome.occurrence_id == occ.id)) is not None:
        return
    demo = await tctx.session.get(Demo, occ.demo_id)
    engagement = await tctx.session.get(Engagement, occ.engagement_id)
    if demo is None or engagement is None:
        return
    membership = await membership_of(tctx.session, engagement, person)
    if membership is None or not set(membership.roles or []) & set(service.OUTCOME_REMINDED):
        return
    milestone = service.milestone_label(
        engagement, await service.milestone_of(tctx.session, engagement, demo.milestone_id)
    )
    await tctx.core.outbox.dm(
        tctx.session,
        person,
        cards.outcome_reminder(engagement, demo, occ, milestone),
        ref_key=f"demo:occ:{occ.id}:outcome_remind:{person.id}",
        engagement_id=engagement.id,
    )


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
    if service.settings(engagement)["stale_check"] and not report_on:
        flag = await queries.stale_demo_flag(tctx.session, engagement, tctx.now)
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
