"""The weekly report's timer (registered in commands.py; planned by schedule.py)."""

from __future__ import annotations

from bot.features.reports import cards, schedule
from bot.kernel.context import TimerCtx
from storage.models import Engagement


async def on_weekly(tctx: TimerCtx) -> None:
    engagement = await tctx.session.get(Engagement, int(tctx.payload.get("engagement", 0)))
    if engagement is None or not schedule.settings(engagement)["enabled"]:
        return
    # The report covers the week up to the scheduled time, even when it goes out late.
    nxt = await schedule.plan(tctx.session, tctx.core, engagement, tctx.timer.due_at, keep=tctx.timer.key)
    card = await cards.build_report(
        tctx.session,
        tctx.core.registry.report_sections,
        engagement,
        tctx.timer.due_at,
        "week",
        footer=cards.footer_for(nxt.due_at if nxt else None, tctx.lateness),
    )
    await tctx.core.outbox.post_home(tctx.session, engagement, card, ref_key=f"report:{tctx.timer.key}")
