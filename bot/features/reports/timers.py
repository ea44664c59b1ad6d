"""The weekly report's timer (registered in commands.py; planned by schedule.py)."""

from __future__ import annotations

from datetime import timedelta

from bot.features.reports import cards, schedule
from bot.kernel.context import TimerCtx
from storage.models import Engagement


async def on_weekly(tctx: TimerCtx) -> None:
    engagement = await tctx.session.get(Engagement, int(tctx.payload.get("engagement", 0)))
    if engagement is None or not schedule.settings(engagement)["enabled"]:
        return
    # Weeks missed while Cadence was down (or its clock jumped): only the latest missed report goes out, not one
    # per week — thirty stale reports in a row tell nobody anything the latest does not.
    latest = tctx.timer.due_at
    while (later := schedule.next_slot(engagement, latest)) <= tctx.now:
        latest = later
    if latest != tctx.timer.due_at:
        await schedule.plan(tctx.session, tctx.core, engagement, latest - timedelta(seconds=1), keep=tctx.timer.key)
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
