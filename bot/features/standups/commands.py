"""`/standup …`: the commands, the buttons, the answer and settings forms and the DM listener, each parsing what
it was given and calling the rules (service.py), which the cards (cards.py) show; the App Home section; and
`register`, wiring them, the timers and the hooks that keep each participant's next prompt right."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.standups import agenda as standup_agenda
from bot.features.standups import blockers, cards, queries, service, timers
from bot.features.standups import report as standup_report
from bot.features.standups.report import PERIODS, build_report
from bot.features.standups.schedule import format_hhmm, parse_days, parse_hhmm
from bot.features.standups.settings import DEFAULTS, FEATURE, is_participant, participants, settings
from bot.kernel import people
from bot.kernel.context import Ctx
from bot.kernel.engagements import by_key, feature_settings
from bot.kernel.errors import UserError
from bot.kernel.messages import Button, Card, Field, Reply
from bot.kernel.registry import Registry
from bot.kernel.text import moment_text, plural, when
from bot.kernel.text import person as mention
from bot.kernel.zones import resolve_zone
from bot.shared.numbers import NumberError, whole_number
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
    return await answer_today(ctx)


# -- answering -------------------------------------------------------------------------------------------------
async def answer_today(ctx: Ctx) -> Reply:
    """`/standup`: answer today's standup now, before (or instead of) the prompt."""
    engagement = ctx.require_engagement()
    return Reply(form=await service.today_form(ctx.session, engagement, ctx.person, ctx.now))


async def edit(ctx: Ctx) -> Reply:
    """`/standup edit`: change today's answers (or the latest ones whose digest is not out yet)."""
    engagement = ctx.require_engagement()
    return Reply(form=await service.edit_form(ctx.session, engagement, ctx.person))


async def answer_today_button(ctx: Ctx, value: str) -> Reply:
    """The "Answer today's standup" button (App Home): value = engagement id."""
    ctx.engagement = await service.member_engagement(ctx.session, ctx.person, value)
    return await answer_today(ctx)


async def open_form(ctx: Ctx, value: str) -> Reply:
    """The "Answer in a form" button on a prompt: value = entry id."""
    return Reply(form=await service.form_for(ctx.session, ctx.person, value))


async def submit_form(ctx: Ctx, values: dict[str, str], state: dict) -> Reply:
    entry, engagement = await service.entry_to_answer(ctx.session, ctx.person, state.get("entry_id"))
    answers, errors = [], {}
    for i in range(len(entry.questions)):
        try:
            answers.append(service.clean_answer(values.get(f"q{i}")) or None)
        except ValueError as exc:
            errors[f"q{i}"] = str(exc)
    if errors:
        return Reply(errors=errors)
    if not any(answers):
        return Reply(errors={"q0": "Answer at least one question (or close the form to answer later)."})
    thanks = await service.save_answers(ctx.session, ctx.core, ctx.person, entry, engagement, answers, ctx.now)
    return Reply(private=[thanks])


async def on_dm(ctx: Ctx, text: str) -> Reply | None:
    """A plain message in the DM answers the current question of the person's open standup."""
    if _looks_like_command(ctx, text):
        return None
    shown = await service.answer_message(ctx.session, ctx.core, ctx.person, text, ctx.now)
    return Reply(private=shown) if shown else None


def _looks_like_command(ctx: Ctx, text: str) -> bool:
    """`help`, a bare command word, or a command word followed by one of its sub-commands (`cr list`,
    `standup edit`) is a command even while a question waits; "Demo prep" stays an answer."""
    words = text.strip().lower().split()
    if not words:
        return False
    if words[0] == "help":
        return len(words) == 1
    if words[0] not in ctx.core.registry.groups:
        return False
    return len(words) == 1 or (words[0], words[1]) in ctx.core.registry.commands


# -- settings and taking part ---------------------------------------------------------------------------------
async def _save(ctx: Ctx, changes: dict[str, Any]) -> Reply:
    await service.change_settings(ctx, changes)
    return Reply(private=[cards.settings_card(ctx.require_engagement())])


def _number(text: str, what: str, lo: int, hi: int) -> int:
    try:
        return whole_number(text, what=what, minimum=lo, maximum=hi)
    except NumberError:
        raise UserError(f"{what} is a number from {lo} to {hi}.") from None


async def config(ctx: Ctx) -> Reply:
    words = ctx.args.split()
    if ctx.engagement is None and len(words) == 3 and words[0].lower() == "channel":
        # `/standup config channel here KEY` in a channel not bound to the engagement yet.
        ctx.engagement = await by_key(ctx.session, words[2])
        if ctx.engagement is None:
            raise UserError(f"There is no engagement with the key “{words[2]}”.")
        ctx.membership = await people.membership_of(ctx.session, ctx.engagement, ctx.person)
        words = words[:2]
    eng = ctx.require_engagement()
    if not words:
        service.may_configure(ctx)
        return Reply(form=cards.config_form(eng))
    what, rest = words[0].lower(), " ".join(words[1:])
    if what in ("show", "list"):
        return Reply(private=[cards.settings_card(eng)])
    if what == "help":
        return Reply.say(cards.CONFIG_USAGE)
    service.may_configure(ctx)
    try:
        if what in ("prompt", "time"):
            return await _save(ctx, {"prompt_time": format_hhmm(parse_hhmm(rest))})
        if what == "days":
            return await _save(ctx, {"days": parse_days(rest)})
        if what == "reminder":
            return await _save(
                ctx, {"reminder_minutes": _number(rest.removesuffix("min").strip(), "The reminder delay", 0, 24 * 60)}
            )
        if what == "digest":
            parts = rest.split(maxsplit=1)
            if not parts:
                raise UserError("Usage: `/standup config digest 10:00 [Europe/Berlin]`.")
            changes: dict[str, Any] = {"digest_time": format_hhmm(parse_hhmm(parts[0]))}
            if len(parts) > 1:
                changes["digest_zone"] = resolve_zone(parts[1])
            return await _save(ctx, changes)
        if what == "channel":
            return await _channel(ctx, rest.strip().lower())
        if what in ("on", "off"):
            return await _save(ctx, {"enabled": what == "on"})
        if what in ("question", "questions"):
            return await _questions(ctx, rest)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    raise UserError(f"I don't know the setting “{what}”.\n{cards.CONFIG_USAGE}")


async def _channel(ctx: Ctx, where: str) -> Reply:
    if where == "home":
        return await _save(ctx, {"digest_channel": "home"})
    if where != "here" or ctx.place.is_dm:
        raise UserError(
            "Run `/standup config channel here KEY` in the channel that should receive the digest "
            "(or `channel home` for the home channel)."
        )
    await service.use_digest_channel(ctx)
    return Reply(private=[cards.settings_card(ctx.require_engagement())])


async def _questions(ctx: Ctx, rest: str) -> Reply:
    eng = ctx.require_engagement()
    raw = feature_settings(eng, FEATURE)
    questions = list(raw.get("questions") or [])
    blocker = int(raw.get("blocker_question") or 0)
    op, _, arg = rest.strip().partition(" ")
    op = op.lower()
    n = len(questions)
    if op == "add":
        questions, blocker = service.add_question(questions, blocker, arg)
    elif op in ("remove", "delete", "rm"):
        questions, blocker = service.remove_question(questions, blocker, _number(arg, "The question number", 1, n))
    elif op == "move":
        parts = arg.split()
        if len(parts) != 2:
            raise UserError("Usage: `/standup config question move 3 1` (from, to).")
        a, b = _number(parts[0], "The question number", 1, n), _number(parts[1], "The position", 1, n)
        questions, blocker = service.move_question(questions, blocker, a, b)
    elif op == "blocker":
        blocker = 0 if arg.strip().lower() in ("none", "0") else _number(arg, "The question number", 1, n)
    elif op in ("", "list", "show"):
        return Reply(private=[cards.settings_card(eng)])
    else:
        raise UserError("Usage: `/standup config question add TEXT | remove N | move N M | blocker N`.")
    if not questions:
        raise UserError("A standup needs at least one question.")
    return await _save(ctx, {"questions": questions, "blocker_question": blocker})


async def submit_config(ctx: Ctx, values: dict[str, str], state: dict) -> Reply:
    eng = ctx.require_engagement()
    if state.get("engagement_id") not in (None, eng.id):
        raise UserError("That form belongs to another engagement.")
    service.may_configure(ctx)
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}

    def field(name: str, fn: Callable[[str], dict[str, Any]]) -> None:
        try:
            changes.update(fn(values.get(name, "").strip()))
        except (ValueError, UserError) as exc:
            errors[name] = getattr(exc, "message", None) or str(exc)

    field("prompt_time", lambda v: {"prompt_time": format_hhmm(parse_hhmm(v))})
    field("days", lambda v: {"days": parse_days(v)})
    field("digest_time", lambda v: {"digest_time": format_hhmm(parse_hhmm(v))})
    field("digest_zone", lambda v: {"digest_zone": resolve_zone(v) if v else None})
    field("reminder_minutes", lambda v: {"reminder_minutes": _number(v or "0", "The reminder delay", 0, 1440)})
    field("questions", lambda v: {"questions": [service.check_question(q) for q in v.splitlines() if q.strip()]})
    if "questions" in changes and (problem := service.questions_problem(changes["questions"])):
        errors["questions"] = problem
    n = len(changes.get("questions", []))
    field("blocker_question", lambda v: {"blocker_question": _number(v or "0", "The blocker question", 0, n)})
    channel = values.get("digest_channel", DEFAULTS["digest_channel"])
    changes["digest_channel"] = "digest" if channel == "digest" else "home"
    if errors:
        return Reply(errors=errors)
    return await _save(ctx, changes)


async def join(ctx: Ctx) -> Reply:
    eng = ctx.require_engagement()
    nxt = await service.take_part(ctx.session, ctx.core, eng, ctx.person, ctx.now, yes=True)
    when_text = f" Your next prompt: {moment_text(nxt[1].astimezone(ctx.tz))}, your time." if nxt else ""
    return Reply.say(f"You take part in the {eng.key} standup.{when_text}", tone="good")


async def leave(ctx: Ctx) -> Reply:
    eng = ctx.require_engagement()
    await service.take_part(ctx.session, ctx.core, eng, ctx.person, ctx.now, yes=False)
    return Reply.say(f"You no longer take part in the {eng.key} standup. `/standup join` brings you back.")


# -- report, blockers, schedule --------------------------------------------------------------------------------
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
    add("standup", "edit", edit, usage="/standup edit", summary="change today's answers until the digest")
    add("standup", "join", join, usage="/standup join", summary="take part in the standup")
    add("standup", "leave", leave, usage="/standup leave", summary="stop taking part")
    add(
        "standup",
        "config",
        config,
        usage="/standup config [prompt 09:30 | digest 10:00 | …]",
        summary="standup settings (a form, or one-liners: `config help`)",
    )
    add(
        "standup", "report", report, usage="/standup report [week|month]", summary="participation, blockers and streaks"
    )
    add("standup", "unblock", unblock, usage="/standup unblock", summary="close your open blockers")
    add("standup", "schedule", schedule, usage="/standup schedule", summary="who takes part and their next prompt")
    registry.add_action(cards.OPEN_FORM, open_form)
    registry.add_action(cards.ANSWER_TODAY, answer_today_button)
    registry.add_home_section(home_section)
    registry.add_action(cards.TO_DEFECT, blockers.to_defect)
    registry.add_action(cards.TO_CR, blockers.to_change_request)
    registry.add_action(cards.TO_ACTION, blockers.to_action)
    registry.add_form(cards.FORM_ID, submit_form)
    registry.add_form(cards.CONFIG_FORM, submit_config)
    registry.add_timer(service.PROMPT, timers.on_prompt)
    registry.add_timer(service.REMINDER, timers.on_reminder)
    registry.add_timer(service.DIGEST, timers.on_digest)
    registry.add_dm_listener(on_dm)
    registry.add_hook("person_tz_changed", _tz_changed)
    registry.add_hook("absence_changed", _absence_changed)
    registry.add_agenda_section("standups", order=30, title=standup_agenda.TITLE, lines=standup_agenda.lines)
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
