"""Wires the standup job into the registry: `/standup …` commands, buttons, forms, timers, the DM
listener and the hooks that keep each participant's next prompt right."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.standups import answers, blockers, cards, configure, queries, service, timers
from bot.features.standups import report as standup_report
from bot.features.standups.config import DEFAULTS, FEATURE, is_participant, participants, settings
from bot.features.standups.report import PERIODS, build_report
from bot.kernel import people
from bot.kernel.context import Ctx
from bot.kernel.errors import UserError
from bot.kernel.messages import Button, Card, Field, Reply
from bot.kernel.registry import Registry
from bot.kernel.text import moment_text, plural, when
from bot.kernel.text import person as mention
from storage.models import Engagement, Membership, Person

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

SUBS = ("edit", "join", "leave", "config", "report", "unblock", "schedule")


async def standup(ctx: Ctx) -> Reply:
    """Bare `/standup` answers today's standup; an unknown word gets a short correction."""
    if ctx.sub:
        raise UserError(
            f"`/standup {ctx.sub}` is not something I know. Try `/standup` (answer today's), "
            + ", ".join(f"`/standup {s}`" for s in SUBS)
            + ", or `/standup help`."
        )
    return await answers.answer_today(ctx)


def _member(ctx: Ctx) -> Engagement:
    eng = ctx.require_engagement()
    if ctx.membership is None:
        raise UserError(f"Only members of {eng.key} can see that.")
    return eng


async def report(ctx: Ctx) -> Reply:
    eng = _member(ctx)
    period = (ctx.args.strip().lower() or "week").removeprefix("last ")
    if period not in PERIODS:
        raise UserError("Usage: `/standup report` (last week) or `/standup report month`.")
    return Reply(private=[await build_report(ctx.session, eng, period, ctx.now)])


async def unblock(ctx: Ctx) -> Reply:
    eng = ctx.require_engagement()
    n = await service.close_blockers(ctx.session, eng.id, ctx.person.id, ctx.now)
    if not n:
        return Reply.say("You have no open blockers.")
    return Reply.say(f"Closed {plural(n, 'blocker')}. Good news!", tone="good")


async def schedule(ctx: Ctx) -> Reply:
    """`/standup schedule`: who takes part and when each one's next prompt is."""
    eng = _member(ctx)
    rows = []
    for p in await participants(ctx.session, eng):
        t = await queries.next_prompt_due(ctx.session, service.prompt_prefix(eng.id, p.id))
        zone = people.zone(p)
        if t is None:
            rows.append(Field(mention(p.id, p.display_name), f"{zone.key} · no prompt planned"))
        else:
            rows.append(
                Field(
                    mention(p.id, p.display_name),
                    f"next {moment_text(t.astimezone(zone))} their time ({when(t)})",
                )
            )
    conf = settings(eng)
    return Reply(
        private=[
            Card(
                title=f"Standup schedule · {eng.key}",
                text=f"Prompt at {conf.prompt_time:%H:%M} local time.",
                fields=rows or [Field("Participants", "nobody yet — `/standup join`")],
            )
        ]
    )


async def _tz_changed(session: AsyncSession, core: Cadence, person: Person, **_kw: object) -> None:
    await service.plan_for_person_everywhere(session, core, person, core.clock.now())


async def _absence_changed(session: AsyncSession, core: Cadence, person: Person, **_kw: object) -> None:
    await service.plan_for_person_everywhere(session, core, person, core.clock.now())


async def _membership_changed(
    session: AsyncSession, core: Cadence, engagement: Engagement, person: Person, **_kw: object
) -> None:
    await service.plan_person(session, core, engagement, person, core.clock.now())


async def _engagement_changed(
    session: AsyncSession, core: Cadence, engagement: Engagement, feature: str | None = None, **_kw: object
) -> None:
    if feature in (None, "standup", "engagement"):
        await service.plan_engagement(session, core, engagement, core.clock.now())


async def home_section(session: AsyncSession, core: Cadence, person: Person) -> list[Card]:
    """A person's standup at a glance, for their home view (Slack App Home)."""
    now: datetime = core.clock.now()
    today = now.astimezone(people.zone(person)).date()
    out = []
    for m in await session.scalars(select(Membership).where(Membership.person_id == person.id)):
        engagement = await session.get(Engagement, m.engagement_id)
        if engagement is None or not await is_participant(session, engagement, person):
            continue
        entry = await queries.get_entry(session, engagement.id, person.id, today)
        due = await queries.next_prompt_due(session, service.prompt_prefix(engagement.id, person.id))
        status = "answered today ✓" if entry is not None and entry.status == "answered" else "not answered today"
        nxt = f" · next prompt {when(due)}" if due else ""
        out.append(
            Card(
                title=f"Standup · {engagement.key}",
                text=status + nxt,
                buttons=[
                    Button(
                        "Answer today's standup" if "not" in status else "Edit today's answers",
                        cards.ANSWER_TODAY,
                        str(engagement.id),
                    )
                ],
            )
        )
    return out


def register(registry: Registry) -> None:
    registry.add_group("standup", summary="Daily standups across time zones")
    registry.add_settings(FEATURE, DEFAULTS)
    add = registry.add_command
    add("standup", None, standup, usage="/standup", summary="answer today's standup now (a form)")
    add("standup", "edit", answers.edit, usage="/standup edit", summary="change today's answers until the digest")
    add("standup", "join", configure.join, usage="/standup join", summary="take part in the standup")
    add("standup", "leave", configure.leave, usage="/standup leave", summary="stop taking part")
    add(
        "standup",
        "config",
        configure.config,
        usage="/standup config [prompt 09:30 | digest 10:00 | …]",
        summary="standup settings (a form, or one-liners: `config help`)",
    )
    add(
        "standup", "report", report, usage="/standup report [week|month]", summary="participation, blockers and streaks"
    )
    add("standup", "unblock", unblock, usage="/standup unblock", summary="close your open blockers")
    add("standup", "schedule", schedule, usage="/standup schedule", summary="who takes part and their next prompt")
    registry.add_action(cards.OPEN_FORM, answers.open_form)
    registry.add_action(cards.ANSWER_TODAY, answers.answer_today_button)
    registry.add_home_section(home_section)
    registry.add_action(cards.TO_DEFECT, blockers.to_defect)
    registry.add_action(cards.TO_CR, blockers.to_change_request)
    registry.add_form(cards.FORM_ID, answers.submit_form)
    registry.add_form(configure.CONFIG_FORM, configure.submit_config)
    registry.add_timer(service.PROMPT, timers.on_prompt)
    registry.add_timer(service.REMINDER, timers.on_reminder)
    registry.add_timer(service.DIGEST, timers.on_digest)
    registry.add_dm_listener(answers.on_dm)
    registry.add_hook("person_tz_changed", _tz_changed)
    registry.add_hook("absence_changed", _absence_changed)
    registry.add_hook("membership_changed", _membership_changed)
    registry.add_hook("engagement_created", _engagement_changed)
    registry.add_hook("engagement_settings_changed", _engagement_changed)
    registry.add_report_section(
        "standups",
        order=10,
        figures=standup_report.report_figures,
        card=standup_report.report_card,
        flags=standup_report.report_flags,
        home=standup_report.report_home,
        trend=queries.participation_by_week,
        export=standup_report.export_answers,
    )
