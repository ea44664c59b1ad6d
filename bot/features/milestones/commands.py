"""`/milestone …` commands, the acceptance card's buttons and the forms: parse, call the service, answer.
Rules live in service.py; nothing here trusts a button value or form state beyond an id."""

from __future__ import annotations

import re
from datetime import date

from bot.features.milestones import agenda as milestone_agenda
from bot.features.milestones import forms, queries, service
from bot.features.milestones import report as milestone_report
from bot.features.milestones import timers as handlers
from bot.features.milestones.cards import show_card
from bot.features.milestones.queries import ref
from bot.features.milestones.schedule import (
    APPROVER,
    CHANGE_REMIND,
    DUE_SOON,
    DUE_TODAY,
    ITEM_OVERDUE,
    OVERDUE,
    WARRANTY_REVIEW,
    WINDOW_END,
)
from bot.features.milestones.settings import DEFAULTS, FEATURE, settings
from bot.kernel import audit
from bot.kernel.context import Ctx
from bot.kernel.errors import UserError
from bot.kernel.messages import Card, Field, Reply
from bot.kernel.registry import CommandHandler, Registry
from bot.kernel.text import MAX_TEXT, MAX_TITLE, clean, day_text, truncate
from bot.shared.dates import read_day_ahead, split_date_text
from storage.models import Engagement
from storage.models.milestones import Milestone, MilestoneChange, RectificationItem

DUE_RE = re.compile(r"(?:^|\s+)due\s+(?:on\s+|by\s+)?", re.IGNORECASE)
FINAL_RE = re.compile(r"[\s,;]+(?:\(?final\)?)\s*$", re.IGNORECASE)


# -- helpers ----------------------------------------------------------------------------------------


def _split_id(args: str, usage: str) -> tuple[str, str]:
    token, _, rest = (args or "").strip().partition(" ")
    if not token:
        raise UserError(f"Which milestone? Usage: `{usage}`.")
    return token, rest.strip()


def _after_bar(rest: str, usage: str, what: str) -> str:
    """The text after `|` (or the whole rest when there is no bar), cleaned; refused when empty."""
    text = rest.split("|", 1)[1] if "|" in rest else rest
    text = clean(text, limit=MAX_TEXT, what=what)
    if not text:
        raise UserError(f"{what} is missing. Usage: `{usage}`.")
    return text


def _due(ctx: Ctx, phrase: str) -> tuple[date, str]:
    """A due date typed in plain language, read in the speaker's zone; (the date, how it was read)."""
    phrase = clean(phrase, limit=100, what="The due date", multiline=False)
    if not phrase:
        raise UserError("When is it due? e.g. `due march 1` or `due 2027-03-01`.")
    try:
        return read_day_ahead(phrase, now=ctx.now, tz=ctx.tz)
    except UserError as exc:  # a command has no form field to pin it on: a plain refusal
        raise UserError(f"{exc} Nothing was changed.") from None


async def _by_value(ctx: Ctx, value: str) -> tuple[Milestone, Engagement, int | None]:
    """The milestone (and round) a button names, and its own engagement, checked for this actor."""
    head, _, round_text = str(value).partition(":")
    try:
        m = await queries.load(ctx.session, int(head), lock=True)
        round_ = int(round_text) if round_text else None
    except ValueError:
        m, round_ = None, None
    if m is None:
        raise UserError("That milestone no longer exists. Nothing changed.")
    return m, await ctx.act_on(m.engagement_id), round_


# -- the plan ---------------------------------------------------------------------------------------


async def cmd_add(ctx: Ctx) -> Reply:
    """/milestone add <title> due <date> [final]"""
    eng = ctx.require_engagement()
    usage = "/milestone add Beta release due march 1 [final]"
    text = clean(ctx.args, limit=MAX_TITLE + 120, what="The milestone", multiline=False)
    final = bool(FINAL_RE.search(text))
    text = FINAL_RE.sub("", text)
    parts = DUE_RE.split(text)
    if len(parts) >= 2:
        title, phrase = " due ".join(parts[:-1]).strip(), parts[-1]
    else:  # no `due`: the one date phrase in the text (bot/shared/dates.py), refused when there is none
        try:
            split = split_date_text(text, now=ctx.now, tz=ctx.tz)
        except UserError as exc:  # a command has no form field to pin it on: a plain refusal
            raise UserError(f"{exc} Usage: `{usage}`.") from None
        title, phrase = split.rest, split.phrase
    title = clean(title, limit=MAX_TITLE, what="The title", multiline=False)
    if not title:
        raise UserError(f"Give the milestone a title. Usage: `{usage}`.")
    due, read = _due(ctx, phrase)
    roles = await service.roles_in(ctx.session, eng, ctx.person)
    m = await service.add(
        ctx.session, ctx.core, eng=eng, actor=ctx.person, roles=roles, title=title, due=due, final=final, now=ctx.now
    )
    return Reply.say(
        f"Added {ref(eng, m)} “{title}”, due {day_text(due)} ({read})"
        + (", the final milestone" if final else "")
        + ". Announced in the home channel. Set its acceptance criteria with "
        f"`/milestone criteria {ref(eng, m)} | …`.",
        tone="good",
    )


async def cmd_edit(ctx: Ctx) -> Reply:
    """/milestone edit <id> due <date> | title <text>"""
    eng = ctx.require_engagement()
    usage = "/milestone edit ACME-M-1 due march 8 | title New title"
    token, rest = _split_id(ctx.args, usage)
    what, _, value = rest.partition(" ")
    m = await queries.find(ctx.session, eng, token)
    m = await queries.load(ctx.session, m.id, lock=True) or m
    roles = await service.roles_in(ctx.session, eng, ctx.person)
    if what.lower() == "due":
        day, read = _due(ctx, value)
        said = await service.move_due(
            ctx.session, ctx.core, eng=eng, m=m, actor=ctx.person, roles=roles, new_due=day, now=ctx.now
        )
        return Reply.say(f"{said} ({read}.)")
    if what.lower() == "title":
        title = clean(value, limit=MAX_TITLE, what="The title", multiline=False)
        if not title:
            raise UserError(f"Give the new title. Usage: `{usage}`.")
        await service.set_text(
            ctx.session, ctx.core, eng=eng, m=m, actor=ctx.person, roles=roles, field="title", value=title, now=ctx.now
        )
        return Reply.say(f"{ref(eng, m)} is now called “{title}”.")
    raise UserError(f"Edit what? Usage: `{usage}`.")


def _text_command(field: str, label: str) -> CommandHandler:
    async def handler(ctx: Ctx) -> Reply:
        eng = ctx.require_engagement()
        usage = f"/milestone {field} ACME-M-1 | text"
        token, rest = _split_id(ctx.args, usage)
        value = _after_bar(rest, usage, label)
        m = await queries.find(ctx.session, eng, token)
        roles = await service.roles_in(ctx.session, eng, ctx.person)
        await service.set_text(
            ctx.session, ctx.core, eng=eng, m=m, actor=ctx.person, roles=roles, field=field, value=value, now=ctx.now
        )
        return Reply.say(f"Saved the {label.lower()} of {ref(eng, m)}; said in the home channel.")

    return handler


# -- submission -------------------------------------------------------------------------------------


async def _submit(ctx: Ctx, eng: Engagement, m: Milestone, delivered: str) -> Reply:
    roles = await service.roles_in(ctx.session, eng, ctx.person)
    m = await queries.load(ctx.session, m.id, lock=True) or m
    rnd = await service.submit(
        ctx.session, ctx.core, eng=eng, m=m, actor=ctx.person, roles=roles, delivered=delivered, now=ctx.now
    )
    return Reply.say(
        f"Submitted {ref(eng, m)} for acceptance (round {rnd.round}). The acceptance card is in the home channel; "
        f"the client's approvers have {rnd.window_days} business days.",
        tone="good",
    )


async def cmd_submit(ctx: Ctx) -> Reply:
    """/milestone submit <id> | what is delivered, links — without the text, a form opens."""
    eng = ctx.require_engagement()
    usage = "/milestone submit ACME-M-1 | what is delivered, links"
    token, rest = _split_id(ctx.args, usage)
    m = await queries.find(ctx.session, eng, token)
    text = rest.split("|", 1)[1] if "|" in rest else rest
    if not text.strip():
        service.require(await service.roles_in(ctx.session, eng, ctx.person), service.SUBMITTERS, "submit milestones")
        return Reply(form=forms.submit_form(eng, m))
    return await _submit(ctx, eng, m, _after_bar(rest, usage, "What is delivered"))


async def form_submit(ctx: Ctx, values: dict[str, str], state: dict) -> Reply:
    m = await queries.load(ctx.session, int(state.get("milestone_id") or 0))
    if m is None:
        raise UserError("That milestone no longer exists. Nothing changed.")
    eng = await ctx.act_on(m.engagement_id)
    delivered, errors = forms.text_value(values, "delivered", "What is delivered")
    if errors:
        return Reply(errors=errors)
    return await _submit(ctx, eng, m, delivered)


# -- decisions --------------------------------------------------------------------------------------


async def _decide(ctx: Ctx, m: Milestone, eng: Engagement, round_: int | None, decision: service.Decision) -> Reply:
    await service.check_decider(ctx.session, eng, m, ctx.person)
    rnd = await service.open_round(ctx.session, eng, m, round_)
    said = await service.decide(
        ctx.session, ctx.core, eng=eng, m=m, rnd=rnd, decision=decision, actor=ctx.person, now=ctx.now
    )
    return Reply.say(said, tone="good")


async def act_accept(ctx: Ctx, value: str) -> Reply:
    m, eng, round_ = await _by_value(ctx, value)
    return await _decide(ctx, m, eng, round_, service.Decision("accepted"))


async def act_remarks(ctx: Ctx, value: str) -> Reply:
    m, eng, round_ = await _by_value(ctx, value)
    await service.check_decider(ctx.session, eng, m, ctx.person)
    await service.open_round(ctx.session, eng, m, round_)
    return Reply(form=forms.remarks_form(eng, m))


async def act_reject(ctx: Ctx, value: str) -> Reply:
    m, eng, round_ = await _by_value(ctx, value)
    await service.check_decider(ctx.session, eng, m, ctx.person)
    await service.open_round(ctx.session, eng, m, round_)
    return Reply(form=forms.reject_form(eng, m, int(settings(eng)["rectify_days"])))


async def _form_milestone(ctx: Ctx, state: dict) -> tuple[Milestone, Engagement, int | None]:
    try:
        mid, round_ = int(state.get("milestone_id") or 0), int(state.get("round") or 0) or None
    except (TypeError, ValueError):
        mid, round_ = 0, None
    return await _by_value(ctx, f"{mid}:{round_ or ''}")


async def form_remarks(ctx: Ctx, values: dict[str, str], state: dict) -> Reply:
    remarks, errors = forms.text_value(values, "remarks", "The remarks")
    if errors:
        return Reply(errors=errors)
    m, eng, round_ = await _form_milestone(ctx, state)
    return await _decide(ctx, m, eng, round_, service.Decision("accepted_with_remarks", remarks=remarks))


async def form_reject(ctx: Ctx, values: dict[str, str], state: dict) -> Reply:
    reasons, errors = forms.reasons(values)
    if errors:
        return Reply(errors=errors)
    m, eng, round_ = await _form_milestone(ctx, state)
    return await _decide(ctx, m, eng, round_, service.Decision("rejected", reasons=reasons))


async def cmd_accept(ctx: Ctx) -> Reply:
    """/milestone accept <id> [remarks]"""
    eng = ctx.require_engagement()
    token, rest = _split_id(ctx.args, "/milestone accept ACME-M-1 [remarks]")
    m = await queries.find(ctx.session, eng, token)
    m = await queries.load(ctx.session, m.id, lock=True) or m
    remarks = clean(rest.lstrip("| "), limit=MAX_TEXT, what="The remarks") or None
    decision = service.Decision("accepted_with_remarks", remarks=remarks) if remarks else service.Decision("accepted")
    return await _decide(ctx, m, eng, None, decision)


async def cmd_reject(ctx: Ctx) -> Reply:
    """/milestone reject <id> — opens the form for the reasons."""
    eng = ctx.require_engagement()
    token, _ = _split_id(ctx.args, "/milestone reject ACME-M-1")
    m = await queries.find(ctx.session, eng, token)
    await service.check_decider(ctx.session, eng, m, ctx.person)
    await service.open_round(ctx.session, eng, m, None)
    return Reply(form=forms.reject_form(eng, m, int(settings(eng)["rectify_days"])))


# -- rectification ----------------------------------------------------------------------------------


async def _done(ctx: Ctx, eng: Engagement, m: Milestone, item: RectificationItem) -> Reply:
    roles = await service.roles_in(ctx.session, eng, ctx.person)
    said = await service.mark_done(
        ctx.session, ctx.core, eng=eng, m=m, item=item, actor=ctx.person, roles=roles, now=ctx.now
    )
    return Reply.say(said, tone="good")


async def cmd_done(ctx: Ctx) -> Reply:
    """/milestone done ACME-M-1-R2"""
    eng = ctx.require_engagement()
    token, _ = _split_id(ctx.args, "/milestone done ACME-M-1-R2")
    m, item = await queries.find_item(ctx.session, eng, token)
    return await _done(ctx, eng, m, item)


async def act_done(ctx: Ctx, value: str) -> Reply:
    try:
        item = await ctx.session.get(RectificationItem, int(value))
    except ValueError:
        item = None
    if item is None:
        raise UserError("That rectification item no longer exists. Nothing changed.")
    m, eng, _ = await _by_value(ctx, str(item.milestone_id))
    return await _done(ctx, eng, m, item)


# -- due-date proposals -----------------------------------------------------------------------------


async def _change(ctx: Ctx, value: str, outcome: str) -> Reply:
    try:
        change = await ctx.session.get(MilestoneChange, int(str(value).lstrip("#")))
    except ValueError:
        change = None
    if change is None:
        raise UserError("That proposal no longer exists. Nothing changed.")
    _, eng, _ = await _by_value(ctx, str(change.milestone_id))
    roles = await service.roles_in(ctx.session, eng, ctx.person)
    said = await service.decide_change(
        ctx.session, ctx.core, eng=eng, change=change, actor=ctx.person, roles=roles, outcome=outcome, now=ctx.now
    )
    return Reply.say(said, tone="good")


async def act_change_approve(ctx: Ctx, value: str) -> Reply:
    return await _change(ctx, value, "approved")


async def act_change_reject(ctx: Ctx, value: str) -> Reply:
    return await _change(ctx, value, "rejected")


async def act_change_withdraw(ctx: Ctx, value: str) -> Reply:
    return await _change(ctx, value, "withdrawn")


async def cmd_proposal(ctx: Ctx) -> Reply:
    """/milestone proposal approve|reject|withdraw <n> — for front ends without buttons."""
    ctx.require_engagement()
    verb, _, number = ctx.args.strip().partition(" ")
    outcomes = {"approve": "approved", "reject": "rejected", "withdraw": "withdrawn"}
    if verb.lower() not in outcomes or not number.strip().lstrip("#").isdigit():
        raise UserError("Usage: `/milestone proposal approve|reject|withdraw 3`.")
    return await _change(ctx, number.strip(), outcomes[verb.lower()])


# -- reading ----------------------------------------------------------------------------------------


async def cmd_list(ctx: Ctx) -> Reply:
    """/milestone list"""
    eng = ctx.require_engagement()
    lines = []
    for m in await queries.all_of(ctx.session, eng):
        extra = f", round {m.round}" if m.round else ""
        lines.append(
            f"{ref(eng, m)} · {truncate(m.title, 80)} — {m.state.replace('_', ' ')}, due {day_text(m.due_date)}"
            f"{extra}{' · final' if m.final else ''}"
        )
    record = await queries.acceptance(ctx.session, eng)
    if record:
        lines.append(
            f"Project accepted {day_text(record.accepted_on)}; warranty until {day_text(record.warranty_until)}."
        )
    footer = "`/milestone add <title> due <date> [final]` adds one."
    return Reply(private=[Card(title=f"Milestones — {eng.key}", text="\n".join(lines) or "None yet.", footer=footer)])


async def cmd_show(ctx: Ctx) -> Reply:
    """/milestone show <id> — state, rounds, window, rectification items and history."""
    eng = ctx.require_engagement()
    token, _ = _split_id(ctx.args, "/milestone show ACME-M-1")
    m = await queries.find(ctx.session, eng, token)
    rounds = await queries.rounds(ctx.session, m)
    history = await audit.history(ctx.session, entity_type=service.ENTITY, entity_id=m.id)
    ids: set[int | None] = {r.submitted_by_id for r in rounds} | {r.decided_by_id for r in rounds}
    card = show_card(
        eng,
        m,
        rounds,
        await queries.items(ctx.session, m),
        await queries.pending_change(ctx.session, m),
        history,
        await queries.people(ctx.session, ids),
    )
    return Reply(private=[card])


async def cmd_settings(ctx: Ctx) -> Reply:
    """/milestone settings [window_days 15 | deemed_acceptance on | warranty_months 12] — the terms in force,
    or a change of one (a contract amendment: the other side approves once both sides have an admin)."""
    eng = ctx.require_engagement()
    key, _, value = ctx.args.strip().partition(" ")
    if key:
        if not value.strip():
            raise UserError(f"Give a value: `/milestone settings {key.lower()[:30]} <value>`.")
        return Reply.say(await service.change_term(ctx, eng, key.lower(), value))
    s = settings(eng)
    fields = [
        Field("Acceptance window", f"{s['window_days']} business days in the client's calendar", short=False),
        Field("Deemed acceptance at the window's end", "on" if s["deemed_acceptance"] else "off", short=False),
        Field("Warranty", service.term_text(eng, "warranty_months", s["warranty_months"]) + " (6–12)", short=False),
        Field("Rectification items due", f"{s['rectify_days']} business days after a rejection", short=False),
        Field("Due-date reminder", f"{s['due_reminder_days']} business days before, at {s['morning']}", short=False),
    ]
    return Reply(
        private=[
            Card(
                title=f"{eng.key} milestone settings",
                fields=fields,
                footer="The window, deemed acceptance and the warranty are contract terms: both sides agree them "
                f"(defaults: {DEFAULTS['window_days']} days, off, {DEFAULTS['warranty_months']} months). Change one "
                "with `/milestone settings window_days 15`, `deemed_acceptance on` or `warranty_months 12`.",
            )
        ]
    )


def register(registry: Registry) -> None:
    registry.add_group("milestone", summary="Milestones, acceptance rounds and the warranty")
    registry.add_settings(FEATURE, DEFAULTS)
    add = registry.add_command
    add("milestone", "add", cmd_add, usage="/milestone add <title> due <date> [final]", summary="add a milestone")
    add("milestone", "list", cmd_list, usage="/milestone list", summary="every milestone, its state and due date")
    add("milestone", "show", cmd_show, usage="/milestone show ACME-M-1", summary="state, rounds, window, history")
    add(
        "milestone",
        "edit",
        cmd_edit,
        usage="/milestone edit ACME-M-1 due <date> | title <text>",
        summary="move the due date (the other side approves) or rename",
    )
    add(
        "milestone",
        "criteria",
        _text_command("criteria", "The acceptance criteria"),
        usage="/milestone criteria ACME-M-1 | text",
        summary="set the acceptance criteria",
    )
    add(
        "milestone",
        "deliverables",
        _text_command("deliverables", "The deliverables"),
        usage="/milestone deliverables ACME-M-1 | text, links",
        summary="set the planned deliverables",
    )
    add(
        "milestone",
        "submit",
        cmd_submit,
        usage="/milestone submit ACME-M-1 | what is delivered, links",
        summary="vendor PM or lead: submit for acceptance",
    )
    add("milestone", "accept", cmd_accept, usage="/milestone accept ACME-M-1 [remarks]", summary="client: accept")
    add("milestone", "reject", cmd_reject, usage="/milestone reject ACME-M-1", summary="client: reject with reasons")
    add("milestone", "done", cmd_done, usage="/milestone done ACME-M-1-R2", summary="vendor: a rectification is done")
    add(
        "milestone",
        "proposal",
        cmd_proposal,
        usage="/milestone proposal approve|reject|withdraw 3",
        summary="decide on a proposed due-date move",
    )
    add(
        "milestone",
        "settings",
        cmd_settings,
        usage="/milestone settings [window_days 15 | deemed_acceptance on | warranty_months 12]",
        summary="window, deemed acceptance, warranty (contract terms: the other side approves a change)",
    )
    registry.add_action("milestone.accept", act_accept)
    registry.add_action("milestone.remarks", act_remarks)
    registry.add_action("milestone.reject", act_reject)
    registry.add_action("milestone.done", act_done)
    registry.add_action("milestone.change_approve", act_change_approve)
    registry.add_action("milestone.change_reject", act_change_reject)
    registry.add_action("milestone.change_withdraw", act_change_withdraw)
    registry.add_form(forms.REJECT, form_reject)
    registry.add_form(forms.REMARKS, form_remarks)
    registry.add_form(forms.SUBMIT, form_submit)
    registry.add_timer(DUE_SOON, handlers.on_due_soon)
    registry.add_timer(DUE_TODAY, handlers.on_due_today)
    registry.add_timer(OVERDUE, handlers.on_overdue)
    registry.add_timer(APPROVER, handlers.on_approver)
    registry.add_timer(WINDOW_END, handlers.on_window_end)
    registry.add_timer(WARRANTY_REVIEW, handlers.on_warranty_review)
    registry.add_timer(CHANGE_REMIND, handlers.on_change_remind)
    registry.add_timer(ITEM_OVERDUE, handlers.on_item_overdue)
    registry.add_agenda_section("milestones", order=50, title=milestone_agenda.TITLE, lines=milestone_agenda.lines)
    registry.add_report_section(
        "milestones",
        order=60,
        figures=milestone_report.report_figures,
        card=milestone_report.report_card,
        flags=milestone_report.report_flags,
        home=milestone_report.report_home,
        export=milestone_report.export_range,
    )


__all__ = ["FEATURE", "register"]
