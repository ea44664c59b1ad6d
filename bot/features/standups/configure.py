"""`/standup config …`: the form and the one-liners, and `/standup join` / `leave`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.features.standups.config import FEATURE, MAX_QUESTION_LEN, MAX_QUESTIONS, settings
from bot.features.standups.schedule import format_days, format_hhmm, parse_days, parse_hhmm
from bot.features.standups.service import plan_engagement, plan_person
from bot.kernel import announce
from bot.kernel.context import Ctx
from bot.kernel.engagements import bind, by_key, feature_settings, update_feature_settings
from bot.kernel.errors import UserError
from bot.kernel.messages import Card, Field, Form, Input, Option, Reply
from bot.kernel.people import ensure_membership, membership_of
from bot.kernel.text import clean, moment_text, person
from bot.kernel.zones import resolve_zone
from bot.shared.numbers import NumberError, whole_number

CONFIG_FORM = "standup.config"
CONFIG_ROLES = ("client_sponsor", "client_pm", "vendor_pm", "vendor_lead")

USAGE = (
    "`/standup config` opens the settings form. One-liners:\n"
    "• `config prompt 09:30` — local prompt time in each participant's zone\n"
    "• `config days mon-fri` — standup days\n"
    "• `config reminder 60` — minutes before the one reminder (0 = none)\n"
    "• `config digest 10:00 [Europe/Berlin]` — digest time (and zone; default the home zone)\n"
    "• `config channel here KEY` (in that channel) / `config channel home` — where the digest goes\n"
    "• `config question add Any risks?` · `question remove 2` · `question move 3 1` · `question blocker 3`\n"
    "• `config show`"
)


def _may_configure(ctx: Ctx) -> None:
    eng = ctx.require_engagement()
    if eng.created_by_id == ctx.person.id:
        return
    ctx.require_role(*CONFIG_ROLES)


def settings_card(ctx: Ctx) -> Card:
    eng = ctx.require_engagement()
    conf = settings(eng)
    raw = feature_settings(eng, FEATURE)
    questions = "\n".join(
        f"{i + 1}. {q}{'  (blockers)' if i == conf.blocker_index else ''}" for i, q in enumerate(conf.questions)
    )
    return Card(
        title=f"Standup settings · {eng.key}",
        fields=[
            Field("Prompt", f"{format_hhmm(conf.prompt_time)} in each participant's own zone"),
            Field("Days", format_days(conf.days)),
            Field("Reminder", f"after {int(conf.reminder.total_seconds() // 60)} min" if conf.reminder else "none"),
            Field("Digest", f"{format_hhmm(conf.digest_time)} {conf.digest_zone.key}, the following client morning"),
            Field("Digest channel", "the digest channel" if raw.get("digest_channel") == "digest" else "home channel"),
            Field("Participants", "roles " + ", ".join(sorted(conf.roles)) + " + whoever `/standup join`s"),
            Field("Questions", questions or "none", short=False),
        ],
        text="" if conf.enabled else "Standups are switched off (`/standup config on`).",
    )


async def _save(ctx: Ctx, changes: dict[str, Any]) -> Reply:
    eng = ctx.require_engagement()
    before = {k: feature_settings(eng, FEATURE).get(k) for k in changes}
    update_feature_settings(eng, FEATURE, changes)
    # Standup settings are the engagement's rules too: said in the home channel, not only recorded.
    shown = "; ".join(f"{k.replace('_', ' ')}: {_shown(k, before[k])} → {_shown(k, v)}" for k, v in changes.items())
    await announce.rule_change(
        ctx,
        eng,
        Card(text=f"{person(ctx.person.id, ctx.person.display_name)} changed the standup settings: {shown}."),
        entity_type="engagement",
        entity_id=eng.id,
        action="standup_config_changed",
        data={"before": before, "after": changes},
    )
    await plan_engagement(ctx.session, ctx.core, eng, ctx.now)
    return Reply(private=[settings_card(ctx)])


def _shown(key: str, value: Any) -> str:
    if value is None:
        return "default"
    if key == "days":
        return format_days(value)
    if isinstance(value, list):
        return " | ".join(str(v) for v in value) or "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def _question(text: str) -> str:
    q = clean(text, limit=MAX_QUESTION_LEN, what="A question", multiline=False)
    if not q:
        raise UserError("Write the question, e.g. `/standup config question add Any risks?`")
    return q


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
        ctx.membership = await membership_of(ctx.session, ctx.engagement, ctx.person)
        words = words[:2]
    eng = ctx.require_engagement()
    if not words:
        _may_configure(ctx)
        return Reply(form=config_form(ctx))
    what, rest = words[0].lower(), " ".join(words[1:])
    if what in ("show", "list"):
        return Reply(private=[settings_card(ctx)])
    if what == "help":
        return Reply.say(USAGE)
    _may_configure(ctx)
    raw = feature_settings(eng, FEATURE)
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
            return await _questions(ctx, raw, rest)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    raise UserError(f"I don't know the setting “{what}”.\n{USAGE}")


async def _channel(ctx: Ctx, where: str) -> Reply:
    eng = ctx.require_engagement()
    if where == "home":
        return await _save(ctx, {"digest_channel": "home"})
    if where != "here" or ctx.place.is_dm:
        raise UserError(
            "Run `/standup config channel here KEY` in the channel that should receive the digest "
            "(or `channel home` for the home channel)."
        )
    await bind(
        ctx.session,
        eng,
        platform=ctx.place.platform,
        workspace_id=ctx.place.workspace_id,
        channel_id=ctx.place.channel_id,
        channel_name=ctx.place.channel_name,
        conversation_ref=ctx.place.conversation_ref,
        purpose="digest",
        now=ctx.now,
    )
    return await _save(ctx, {"digest_channel": "digest"})


async def _questions(ctx: Ctx, raw: dict[str, Any], rest: str) -> Reply:
    questions = list(raw.get("questions") or [])
    blocker = int(raw.get("blocker_question") or 0)
    op, _, arg = rest.strip().partition(" ")
    op = op.lower()
    n = len(questions)
    if op == "add":
        if n >= MAX_QUESTIONS:
            raise UserError(f"At most {MAX_QUESTIONS} questions.")
        questions.append(_question(arg))
    elif op in ("remove", "delete", "rm"):
        i = _number(arg, "The question number", 1, n)
        questions.pop(i - 1)
        blocker = 0 if blocker == i else blocker - 1 if blocker > i else blocker
    elif op == "move":
        parts = arg.split()
        if len(parts) != 2:
            raise UserError("Usage: `/standup config question move 3 1` (from, to).")
        a, b = _number(parts[0], "The question number", 1, n), _number(parts[1], "The position", 1, n)
        marked = [(q, i + 1 == blocker) for i, q in enumerate(questions)]
        marked.insert(b - 1, marked.pop(a - 1))
        questions = [q for q, _ in marked]
        blocker = next((i + 1 for i, (_, is_b) in enumerate(marked) if is_b), 0)
    elif op == "blocker":
        blocker = 0 if arg.strip().lower() in ("none", "0") else _number(arg, "The question number", 1, n)
    elif op in ("", "list", "show"):
        return Reply(private=[settings_card(ctx)])
    else:
        raise UserError("Usage: `/standup config question add TEXT | remove N | move N M | blocker N`.")
    if not questions:
        raise UserError("A standup needs at least one question.")
    return await _save(ctx, {"questions": questions, "blocker_question": blocker})


def config_form(ctx: Ctx) -> Form:
    eng = ctx.require_engagement()
    conf = settings(eng)
    raw = feature_settings(eng, FEATURE)
    return Form(
        form_id=CONFIG_FORM,
        title="Standup settings",
        submit_label="Save",
        inputs=[
            Input(
                "prompt_time",
                "Prompt time (each participant's local time)",
                initial=format_hhmm(conf.prompt_time),
                placeholder="09:30",
                max_length=8,
            ),
            Input(
                "days",
                "Standup days",
                initial=",".join(("mon", "tue", "wed", "thu", "fri", "sat", "sun")[d] for d in sorted(conf.days)),
                placeholder="mon-fri",
                max_length=40,
            ),
            Input(
                "questions",
                "Questions, one per line",
                kind="multiline",
                initial="\n".join(conf.questions),
                max_length=MAX_QUESTIONS * (MAX_QUESTION_LEN + 1),
            ),
            Input(
                "blocker_question",
                "Number of the blocker question (0 = none)",
                kind="number",
                initial=str(int(raw.get("blocker_question") or 0)),
            ),
            Input(
                "reminder_minutes",
                "Reminder after (minutes, 0 = none)",
                kind="number",
                initial=str(int(conf.reminder.total_seconds() // 60)),
            ),
            Input("digest_time", "Digest time", initial=format_hhmm(conf.digest_time), max_length=8),
            Input("digest_zone", "Digest time zone", initial=conf.digest_zone.key, max_length=64),
            Input(
                "digest_channel",
                "Post the digest in",
                kind="select",
                initial="digest" if raw.get("digest_channel") == "digest" else "home",
                options=[
                    Option("the home channel", "home"),
                    Option("the digest channel (`/standup config channel here`)", "digest"),
                ],
            ),
        ],
        state={"engagement_id": eng.id},
    )


async def submit_config(ctx: Ctx, values: dict[str, str], state: dict) -> Reply:
    eng = ctx.require_engagement()
    if state.get("engagement_id") not in (None, eng.id):
        raise UserError("That form belongs to another engagement.")
    _may_configure(ctx)
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
    field("questions", lambda v: {"questions": [_question(q) for q in v.splitlines() if q.strip()]})
    if "questions" in changes and not changes["questions"]:
        errors["questions"] = "A standup needs at least one question."
    if len(changes.get("questions", [])) > MAX_QUESTIONS:
        errors["questions"] = f"At most {MAX_QUESTIONS} questions."
    n = len(changes.get("questions", []))
    field("blocker_question", lambda v: {"blocker_question": _number(v or "0", "The blocker question", 0, n)})
    channel = values.get("digest_channel", "home")
    changes["digest_channel"] = "digest" if channel == "digest" else "home"
    if errors:
        return Reply(errors=errors)
    return await _save(ctx, changes)


async def join(ctx: Ctx) -> Reply:
    eng = ctx.require_engagement()
    m = await ensure_membership(ctx.session, eng, ctx.person, ctx.now)
    m.standup_opt_in = True
    nxt = await plan_person(ctx.session, ctx.core, eng, ctx.person, ctx.now)
    when_text = f" Your next prompt: {moment_text(nxt[1].astimezone(ctx.tz))}, your time." if nxt else ""
    return Reply.say(f"You take part in the {eng.key} standup.{when_text}", tone="good")


async def leave(ctx: Ctx) -> Reply:
    eng = ctx.require_engagement()
    m = await ensure_membership(ctx.session, eng, ctx.person, ctx.now)
    m.standup_opt_in = False
    await plan_person(ctx.session, ctx.core, eng, ctx.person, ctx.now)
    return Reply.say(f"You no longer take part in the {eng.key} standup. `/standup join` brings you back.")
