"""Engagement health: `/cadence report [week|month]`, the weekly report timer, `/cadence report
schedule|on|off`, `/cadence export [from] [to]`, and the App Home section."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.reports import cards, court, export, figures, schedule, timers
from bot.features.reports import settings as report_settings
from bot.kernel import audit
from bot.kernel.context import Ctx
from bot.kernel.engagements import update_feature_settings
from bot.kernel.errors import UserError
from bot.kernel.messages import Attachment, Card, Reply
from bot.kernel.registry import Registry
from bot.kernel.text import clean, day_text, when
from bot.kernel.zones import zone_or_utc
from bot.shared.dates import RANGE_SPLIT, parse_range
from storage.models import Engagement, Person

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

ADMIN_ROLES = ("client_sponsor", "client_pm", "vendor_pm")
MAX_EXPORT_DAYS = 366 * 3


def _require_member(ctx: Ctx) -> Engagement:
    engagement = ctx.require_engagement()
    if ctx.membership is None:
        raise UserError(f"You are not a member of {engagement.key}; ask its sponsor or a PM to add you.")
    return engagement


# -- /cadence report ---------------------------------------------------------------------------------
async def report_command(ctx: Ctx) -> Reply:
    """/cadence report [week|month] | schedule <day> <HH:MM> | on | off | when"""
    engagement = _require_member(ctx)
    words = ctx.args.strip().lower().split()
    word = words[0] if words else "week"
    if word in figures.PERIODS:
        nxt = await schedule.plan(ctx.session, ctx.core, engagement, ctx.now)
        card = await cards.build_report(
            ctx.session,
            ctx.core.registry.report_sections,
            engagement,
            ctx.now,
            word,
            footer=f"Asked for by {ctx.person.display_name}. " + cards.footer_for(nxt.due_at if nxt else None),
        )
        return Reply(public=[card])
    if word in ("when", "settings"):
        nxt = await schedule.plan(ctx.session, ctx.core, engagement, ctx.now)
        return Reply.say(
            schedule.describe(engagement)
            + (f" Next: {when(nxt.due_at)}." if nxt else "")
            + " Change it with `/cadence report schedule mon 09:00`, `/cadence report off`."
        )
    if word in ("schedule", "on", "off"):
        return await _change_schedule(ctx, engagement, word, words[1:])
    raise UserError(
        "Usage: `/cadence report` or `/cadence report month`; "
        "`/cadence report schedule mon 09:00`, `/cadence report on|off`, `/cadence report when`."
    )


async def _change_schedule(ctx: Ctx, engagement: Engagement, word: str, rest: list[str]) -> Reply:
    ctx.require_role(*ADMIN_ROLES)
    before = schedule.settings(engagement)
    changes: dict[str, object] = {}
    if word == "on":
        changes["enabled"] = True
    elif word == "off":
        changes["enabled"] = False
    else:
        if not rest:
            raise UserError("Usage: `/cadence report schedule mon 09:00` (a weekday and a time in the home zone).")
        for token in rest:
            token = clean(token, limit=20, what="The schedule", multiline=False)
            if token[:3] in schedule.DAY_NAMES:
                changes["weekday"] = schedule.DAY_NAMES.index(token[:3])
            elif m := re.fullmatch(r"(\d{1,2})(?::(\d{2}))?", token):
                hh, mm = int(m.group(1)), int(m.group(2) or 0)
                if not (0 <= hh <= 23 and 0 <= mm <= 59):
                    raise UserError(f"“{token}” is not a time of day; use e.g. `09:00`.")
                changes["time"] = f"{hh:02d}:{mm:02d}"
            else:
                raise UserError(f"“{token}” is neither a weekday (mon … sun) nor a time (09:00).")
        changes["enabled"] = True
    update_feature_settings(engagement, "report", changes)
    await audit.record(
        ctx.session,
        now=ctx.now,
        engagement_id=engagement.id,
        entity_type="engagement",
        entity_id=engagement.id,
        action="setting_changed",
        actor=ctx.person,
        data={"setting": "report", "before": {**before, "time": before["time"].strftime("%H:%M")}, "after": changes},
    )
    await ctx.core.emit(ctx.session, "engagement_settings_changed", engagement=engagement, feature="report")
    nxt = await schedule.plan(ctx.session, ctx.core, engagement, ctx.now)
    text = schedule.describe(engagement) + (f" Next: {when(nxt.due_at)}." if nxt else "")
    return Reply(public=[Card(text=text)])


async def _plan_hook(
    session: AsyncSession, core: Cadence, engagement: Engagement, feature: str = "report", **_: object
) -> None:
    if feature in ("report", "engagement"):
        await schedule.plan(session, core, engagement, core.clock.now())


# -- /cadence export ---------------------------------------------------------------------------------
def parse_export_range(ctx: Ctx, engagement: Engagement, text: str) -> tuple:
    """`[from] [to]`: nothing = the last 30 days; one date = from then to today; two = that range.
    Dates are read in the home zone: `2027-01-01 2027-01-31`, `jan 1 to jan 31`, `last monday`."""
    zone = zone_or_utc(engagement.home_tz)
    today = ctx.now.astimezone(zone).date()
    text = clean(text, limit=200, what="The date range", multiline=False)
    if not text:
        return today - timedelta(days=29), today
    iso = re.findall(r"\d{4}-\d{1,2}-\d{1,2}", text)
    if len(iso) == 2 and " ".join(iso) == text:
        text = " to ".join(iso)
    first, last = parse_range(text, now=ctx.now, tz=zone, prefer="past", max_days=MAX_EXPORT_DAYS)
    if len(RANGE_SPLIT.split(text, maxsplit=1)) == 1:
        last = max(today, first)  # one date: from then to today
    if first > today:
        raise UserError(
            f"“{text}” is {day_text(first)}, after today ({day_text(today)} in {zone.key}): "
            "an export covers what has happened. Give a start on or before today."
        )
    if last < first:
        raise UserError(f"The range ends ({day_text(last)}) before it starts ({day_text(first)}).")
    if (last - first).days > MAX_EXPORT_DAYS:
        raise UserError("That range is longer than three years; please give a shorter one.")
    return first, last


async def export_command(ctx: Ctx) -> Reply:
    """/cadence export [from] [to] — the zip goes to you by direct message."""
    engagement = _require_member(ctx)
    first, last = parse_export_range(ctx, engagement, ctx.args)
    bundle = await export.build(
        ctx.session, engagement, first, last, ctx.now, ctx.core.registry.terms, ctx.core.registry.report_sections
    )
    lines = ", ".join(f"{name} {n}" for name, n in bundle.counts.items())
    card = Card(
        title=f"{engagement.key} export · {day_text(first)} – {day_text(last)}",
        text=f"Rows: {lines or 'none'}. Times in UTC; README.txt in the zip explains the range.",
        attachments=[
            Attachment(
                filename=bundle.filename,
                content_b64=base64.b64encode(bundle.content).decode("ascii"),
                mime="application/zip",
                title=f"{engagement.key} export",
            )
        ],
    )
    await ctx.core.outbox.dm(ctx.session, ctx.person, card, engagement_id=engagement.id)
    await audit.record(
        ctx.session,
        now=ctx.now,
        engagement_id=engagement.id,
        entity_type="engagement",
        entity_id=engagement.id,
        action="exported",
        actor=ctx.person,
        data={"from": first.isoformat(), "to": last.isoformat(), "counts": bundle.counts},
    )
    return Reply.say(
        f"The export of {engagement.key} ({day_text(first)} – {day_text(last)}) is on its way to you by direct message."
    )


# -- App Home ----------------------------------------------------------------------------------------
async def home_section(session: AsyncSession, core: Cadence, person: Person) -> list[Card]:
    now = core.clock.now()
    out = []
    for engagement in await figures.member_engagements(session, person):
        f = await figures.gather(session, core.registry.report_sections, engagement, now, "week", trends=False)
        out.append(cards.home_card(f))
    return out


def register(registry: Registry) -> None:
    registry.add_settings(report_settings.FEATURE, report_settings.DEFAULTS)
    registry.add_command(
        "cadence",
        "report",
        report_command,
        usage="/cadence report [week|month]",
        summary="the engagement's health report with charts, posted here; "
        "`schedule mon 09:00`, `on`, `off`, `when` set the weekly one",
    )
    registry.add_command(
        "cadence",
        "export",
        export_command,
        usage="/cadence export [from] [to]",
        summary="change requests, defects, demo outcomes and standup answers as CSV files "
        "in a zip, sent to you (default: the last 30 days)",
    )
    registry.add_timer(schedule.KIND, timers.on_weekly)
    registry.add_hook("engagement_created", _plan_hook)
    registry.add_hook("engagement_settings_changed", _plan_hook)
    registry.add_home_section(home_section)
    # The report's own section: whose court the ball was in spans defects and change requests (court.py).
    registry.add_report_section("court", order=40, figures=court.report_figures, card=cards.court_card)
