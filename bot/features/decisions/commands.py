"""`/decision …` and `/action …`, the Dispute and Done buttons, the after-meeting button and the forms: parse,
call the service, answer. Rules live in service.py (decisions) and actions.py (action items); nothing here
trusts a button value or form state beyond an id, checked against the clicker's engagement."""

from __future__ import annotations

import re
from typing import Any

from bot.features.decisions import actions, agenda, forms, queries, service, timers
from bot.features.decisions import report as decisions_report
from bot.features.decisions.cards import DISPUTE, DONE, MINUTES, action_line, decision_line
from bot.features.decisions.queries import Link, action_ref, decision_ref
from bot.features.decisions.settings import DEFAULTS, FEATURE
from bot.features.meetings import queries as meetings
from bot.kernel import help as help_text
from bot.kernel.context import Ctx
from bot.kernel.errors import UserError
from bot.kernel.messages import Card, Reply
from bot.kernel.people import membership_of
from bot.kernel.registry import Registry
from bot.kernel.text import MAX_TEXT, clean, day_text, when
from bot.kernel.text import person as mention
from storage.models import Engagement, Person
from storage.models.decisions import ActionItem, Decision

DECISION_USAGE = "/decision We ship the beta without SSO | CR-7"
ACTION_USAGE = "/action @asha send the sandbox keys by fri"
BY_RE = re.compile(r"\s+by\s+", re.IGNORECASE)
# One action line of the minutes form: `Asha: send the sandbox keys by fri` (a leading bullet allowed).
ACTION_LINE = re.compile(r"^\s*(?:[-*•]\s*)?([^:]{1,80}):\s*(.+)$")
LIST_LIMIT = 30


async def _roles(ctx: Ctx, eng: Engagement) -> set[str]:
    ms = await membership_of(ctx.session, eng, ctx.person)
    return set(ms.roles or []) if ms else set()


def _split_id(args: str, usage: str, what: str) -> tuple[str, str]:
    token, _, rest = (args or "").strip().partition(" ")
    if not token:
        raise UserError(f"Which {what}? Usage: `{usage}`.")
    return token, rest.strip()


def _int(raw: Any) -> int:
    try:
        return int(str(raw))
    except (TypeError, ValueError):
        return 0


async def _link(ctx: Ctx, eng: Engagement, kind: str, token: str | None) -> Link | None:
    if not token:
        return None
    try:
        return await queries.resolve_link(ctx.session, eng, kind, token)
    except UserError as exc:
        raise UserError(f"{exc} Nothing was recorded.") from None


# -- decisions --------------------------------------------------------------------------------------


async def cmd_record(ctx: Ctx) -> Reply:
    """/decision <text> [| CR-7] — recorded at once, with the meeting that has just ended."""
    eng = ctx.require_engagement()
    raw = clean(ctx.args, limit=MAX_TEXT, what="The decision")
    if not raw:  # a bare command explains the group
        return Reply(private=[help_text.for_command(ctx.core.registry, "decision")])
    text, kind, token = queries.link_token(raw)
    if not text:
        raise UserError(f"What was decided? Usage: `{DECISION_USAGE}`.")
    link = await _link(ctx, eng, kind, token)
    meeting = await queries.meeting_now(ctx.session, eng, ctx.now)
    d = await service.record(
        ctx.session, ctx.core, eng=eng, actor=ctx.person, text=text, now=ctx.now, link=link, meeting=meeting
    )
    extra = "".join([f" Linked to {link.ref}." if link else "", f" From {meeting[2]}." if meeting else ""])
    return Reply.say(
        f"Recorded {decision_ref(eng, d)}.{extra} Posted in the home channel; either side may dispute it until "
        f"{when(d.dispute_closes_at)}.",
        tone="good",
    )


async def _dispute(ctx: Ctx, eng: Engagement, d: Decision, reason: str) -> Reply:
    said = await service.dispute(
        ctx.session,
        ctx.core,
        eng=eng,
        d=d,
        actor=ctx.person,
        roles=await _roles(ctx, eng),
        reason=reason,
        now=ctx.now,
    )
    return Reply.say(said, tone="good")


async def cmd_dispute(ctx: Ctx) -> Reply:
    """/decision dispute <id> <reason> — without a reason, the form opens."""
    eng = ctx.require_engagement()
    usage = "/decision dispute ACME-DEC-1 <reason>"
    token, rest = _split_id(ctx.args, usage, "decision")
    d = await queries.find_decision(ctx.session, eng, token)
    reason = clean(rest.lstrip("|: "), limit=1500, what="The reason")
    if not reason:
        service.check_open(eng, d, ctx.now)
        return Reply(form=forms.dispute_form(eng, d))
    d = await queries.load_decision(ctx.session, d.id, lock=True) or d
    return await _dispute(ctx, eng, d, reason)


async def _decision_by_id(ctx: Ctx, raw: Any) -> tuple[Decision, Engagement]:
    d = await queries.load_decision(ctx.session, _int(raw))
    if d is None:
        raise UserError("That decision no longer exists. Nothing changed.")
    return d, await ctx.act_on(d.engagement_id)


async def act_dispute(ctx: Ctx, value: str) -> Reply:
    d, eng = await _decision_by_id(ctx, value)
    service.check_open(eng, d, ctx.now)
    return Reply(form=forms.dispute_form(eng, d))


async def form_dispute(ctx: Ctx, values: dict[str, str], state: dict[str, Any]) -> Reply:
    d, eng = await _decision_by_id(ctx, state.get("decision_id"))
    reason = clean(values.get("reason"), limit=1500, what="The reason")
    if not reason:
        return Reply(errors={"reason": "Say why it is disputed."})
    d = await queries.load_decision(ctx.session, d.id, lock=True) or d
    return await _dispute(ctx, eng, d, reason)


async def cmd_decision_list(ctx: Ctx) -> Reply:
    """/decision list [disputed]"""
    eng = ctx.require_engagement()
    disputed = ctx.args.strip().lower().startswith("disputed")
    found = await queries.decisions_of(ctx.session, eng, disputed=disputed, limit=LIST_LIMIT)
    ids: set[int | None] = {d.decided_by_id for d in found}
    names = await queries.people(ctx.session, ids)
    lines = [decision_line(eng, d, names) for d in found]
    title = f"{'Disputed decisions' if disputed else 'Decisions'} — {eng.key}"
    footer = f"The latest {LIST_LIMIT}; `/cadence export` has them all." if len(found) == LIST_LIMIT else ""
    return Reply(private=[Card(title=title, text="\n".join(lines) or "None yet.", footer=footer)])


# -- after a meeting --------------------------------------------------------------------------------


async def _occurrence(ctx: Ctx, raw: Any) -> tuple[Engagement, int, str]:
    """The meeting occurrence a button or form names, checked to be of the clicker's engagement."""
    occ_id = _int(raw)
    eng_id = await queries.occurrence_engagement(ctx.session, occ_id) if occ_id else None
    if eng_id is None:
        raise UserError("That meeting no longer exists. Nothing changed.")
    eng = await ctx.act_on(eng_id)
    found = await meetings.occurrence(ctx.session, eng, occ_id)
    if found is None:
        raise UserError("That meeting no longer exists. Nothing changed.")
    return eng, occ_id, queries.meeting_label(eng, found[0])


async def act_minutes(ctx: Ctx, value: str) -> Reply:
    eng, occ_id, label = await _occurrence(ctx, value)
    return Reply(form=forms.minutes_form(eng, occ_id, label))


async def _decision_lines(ctx: Ctx, eng: Engagement, text: str) -> tuple[list[tuple[str, Link | None]], str | None]:
    out: list[tuple[str, Link | None]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.strip().lstrip("-*• ").strip()
        if not line:
            continue
        try:
            body, kind, token = queries.link_token(line)
            if not body:
                raise UserError("It says nothing was decided.")
            out.append((body, await queries.resolve_link(ctx.session, eng, kind, token) if token else None))
        except UserError as exc:
            return [], f"Line {n} “{line[:60]}”: {exc} Nothing was saved."
    return out, None


async def _action_lines(ctx: Ctx, eng: Engagement, text: str) -> tuple[list[service.ActionDraft], str | None]:
    members = await queries.seated_members(ctx.session, eng)
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        shown = line.strip()[:60]
        m = ACTION_LINE.match(line)
        parts = BY_RE.split(m.group(2)) if m else []
        if not m or len(parts) < 2:
            return [], f"Line {n} “{shown}”: write it as `owner: what by when`. Nothing was saved."
        owner = queries.match_member(members, m.group(1))
        if owner is None:
            return [], (
                f"Line {n} “{shown}”: “{m.group(1).strip()[:40]}” is not one seated member of {eng.key} "
                "(use their name or handle). Nothing was saved."
            )
        what = " by ".join(parts[:-1]).strip()
        try:
            due = actions.read_due(parts[-1], now=ctx.now, tz=ctx.tz)
        except UserError as exc:
            return [], f"Line {n} “{shown}”: {exc} Nothing was saved."
        if not what:
            return [], f"Line {n} “{shown}”: what is to be done? Nothing was saved."
        out.append(service.ActionDraft(owner.person, clean(what, limit=1500, what=f"Line {n}"), due.day))
    return out, None


async def form_minutes(ctx: Ctx, values: dict[str, str], state: dict[str, Any]) -> Reply:
    eng, occ_id, label = await _occurrence(ctx, state.get("occurrence_id"))
    decisions_text = clean(values.get("decisions"), limit=MAX_TEXT, what="The decisions")
    actions_text = clean(values.get("actions"), limit=MAX_TEXT, what="The action items")
    lines = len(decisions_text.splitlines()) + len(actions_text.splitlines())
    if lines > forms.MAX_LINES:
        return Reply(errors={"decisions": f"At most {forms.MAX_LINES} lines in all. Nothing was saved."})
    decided, d_error = await _decision_lines(ctx, eng, decisions_text)
    drafts, a_error = await _action_lines(ctx, eng, actions_text)
    errors = {k: v for k, v in (("decisions", d_error), ("actions", a_error)) if v}
    if errors:
        return Reply(errors=errors)
    if not decided and not drafts:
        return Reply(errors={"decisions": "Write at least one decision or action item."})
    meeting = await meetings.occurrence(ctx.session, eng, occ_id)
    assert meeting is not None  # checked above, in this transaction
    made, items = await service.record_minutes(
        ctx.session,
        ctx.core,
        eng=eng,
        actor=ctx.person,
        meeting=(meeting[0].id, occ_id, label),
        decisions=decided,
        drafts=drafts,
        now=ctx.now,
    )
    refs = [decision_ref(eng, d) for d in made] + [action_ref(eng, i) for i in items]
    return Reply.say(f"Recorded {', '.join(refs)} from {label}; posted in the home channel.", tone="good")


# -- action items -----------------------------------------------------------------------------------


async def cmd_action(ctx: Ctx) -> Reply:
    """/action @owner <text> by <date> — saved at once; says how the date was read."""
    eng = ctx.require_engagement()
    raw = clean(ctx.args, limit=MAX_TEXT, what="The action item", multiline=False)
    if not raw:
        return Reply(private=[help_text.for_command(ctx.core.registry, "action")])
    token, _, rest = raw.partition(" ")
    parts = BY_RE.split(rest)
    if not token or len(parts) < 2:
        raise UserError(f"Name the owner, the action and the date. Usage: `{ACTION_USAGE}`.")
    owner = await ctx.resolve_person(token)
    await actions.check_owner(ctx.session, eng, owner)
    text = " by ".join(parts[:-1]).strip()
    if not text:
        raise UserError(f"What is to be done? Usage: `{ACTION_USAGE}`.")
    try:
        due = actions.read_due(parts[-1], now=ctx.now, tz=ctx.tz)
    except UserError as exc:
        raise UserError(f"{exc} Nothing was saved.") from None
    item = await actions.create(
        ctx.session, ctx.core, eng=eng, actor=ctx.person, owner=owner, text=text, due=due.day, now=ctx.now
    )
    return Reply.say(
        f"Saved {action_ref(eng, item)} for {mention(owner.id, owner.display_name)}: “{text}”, due "
        f"{day_text(due.day)} ({due.read}). They are reminded on the morning it is due, their time.",
        tone="good",
    )


async def _done(ctx: Ctx, eng: Engagement, item: ActionItem) -> Reply:
    item = await queries.load_action(ctx.session, item.id, lock=True) or item
    said = await actions.mark_done(
        ctx.session, ctx.core, eng=eng, item=item, actor=ctx.person, roles=await _roles(ctx, eng), now=ctx.now
    )
    return Reply.say(said, tone="good")


async def cmd_done(ctx: Ctx) -> Reply:
    """/action done <id>"""
    eng = ctx.require_engagement()
    token, _ = _split_id(ctx.args, "/action done ACME-A-1", "action item")
    return await _done(ctx, eng, await queries.find_action(ctx.session, eng, token))


async def act_done(ctx: Ctx, value: str) -> Reply:
    item = await queries.load_action(ctx.session, _int(value))
    if item is None:
        raise UserError("That action item no longer exists. Nothing changed.")
    return await _done(ctx, await ctx.act_on(item.engagement_id), item)


async def cmd_action_list(ctx: Ctx) -> Reply:
    """/action list [mine] — the open ones, earliest due first."""
    eng = ctx.require_engagement()
    mine = ctx.args.strip().lower().startswith("mine")
    found = await queries.actions_of(ctx.session, eng, open_only=True, owner=ctx.person if mine else None)
    names = await queries.people(ctx.session, {i.owner_id for i in found})
    today = queries.home_today(eng, ctx.now)
    lines = [action_line(eng, i, names, today) for i in found]
    title = f"{'My open' if mine else 'Open'} action items — {eng.key}"
    return Reply(
        private=[Card(title=title, text="\n".join(lines) or "None open.", footer=f"`{ACTION_USAGE}` adds one.")]
    )


async def form_action_new(ctx: Ctx, values: dict[str, str], state: dict[str, Any]) -> Reply:
    """`action.new`, opened from a standup blocker ({"from_standup_answer": id}): an action for the client."""
    eng = ctx.require_engagement()
    errors: dict[str, str] = {}
    text = clean(values.get("text"), limit=1500, what="The action")
    if not text:
        errors["text"] = "What is needed?"
    owner = await ctx.session.get(Person, _int(values.get("owner"))) if _int(values.get("owner")) else None
    if owner is None:
        errors["owner"] = "Pick the owner on the client side."
    else:
        try:
            await actions.check_owner(ctx.session, eng, owner, client_only=True)
        except UserError as exc:
            errors["owner"] = str(exc)
    due = None
    try:
        due = actions.read_due(clean(values.get("due"), limit=100, multiline=False), now=ctx.now, tz=ctx.tz)
    except UserError as exc:
        errors["due"] = str(exc)
    if errors or owner is None or due is None:
        return Reply(errors=errors)
    answer = _int(state.get("from_standup_answer"))
    source = answer if answer and await queries.standup_answer_in(ctx.session, eng, answer) else None
    item = await actions.create(
        ctx.session,
        ctx.core,
        eng=eng,
        actor=ctx.person,
        owner=owner,
        text=text,
        due=due.day,
        now=ctx.now,
        from_standup_answer_id=source,
    )
    return Reply.say(
        f"Tracked as {action_ref(eng, item)} for {mention(owner.id, owner.display_name)}, due {day_text(due.day)}; "
        "posted in the home channel.",
        tone="good",
    )


def register(registry: Registry) -> None:
    registry.add_group("decision", summary="Decisions recorded in the chat, and disputes")
    registry.add_group("action", summary="Action items: an owner, a due date, reminders")
    registry.add_settings(FEATURE, DEFAULTS)
    add = registry.add_command
    add("decision", None, cmd_record, usage="/decision <what was decided> [| CR-7]", summary="record a decision")
    add(
        "decision",
        "dispute",
        cmd_dispute,
        usage="/decision dispute ACME-DEC-1 <reason>",
        summary="either side: dispute it, within its window",
    )
    add("decision", "list", cmd_decision_list, usage="/decision list [disputed]", summary="the latest decisions")
    add("action", None, cmd_action, usage="/action @owner <what> by <date>", summary="record an action item")
    add("action", "done", cmd_done, usage="/action done ACME-A-1", summary="owner, creator or an admin: done")
    add("action", "list", cmd_action_list, usage="/action list [mine]", summary="the open action items")
    registry.add_action(DISPUTE, act_dispute)
    registry.add_action(DONE, act_done)
    registry.add_action(MINUTES, act_minutes)
    registry.add_form(forms.DISPUTE, form_dispute)
    registry.add_form(forms.MINUTES, form_minutes)
    registry.add_form(forms.ACTION_NEW, form_action_new)
    registry.add_intake(forms.ACTION_NEW, forms.intake)
    registry.add_timer(timers.REMIND, timers.on_remind)
    registry.add_timer(timers.OVERDUE, timers.on_overdue)
    registry.add_hook("person_tz_changed", timers.on_tz_changed)
    registry.add_report_section(
        "decisions",
        order=70,
        figures=decisions_report.report_figures,
        card=decisions_report.report_card,
        flags=decisions_report.report_flags,
        home=decisions_report.report_home,
        export=decisions_report.export_range,
    )
    registry.add_agenda_section("actions", order=40, title=agenda.ACTIONS_TITLE, lines=agenda.action_lines)
    registry.add_agenda_section(
        "disputed_decisions", order=45, title=agenda.DISPUTED_TITLE, lines=agenda.disputed_lines
    )


__all__ = ["FEATURE", "register"]
