"""`/defect …` commands, the card buttons and the forms. Parse, call the service, answer: rules live in
service.py, look-ups in queries.py, cards in cards.py, forms in forms.py, timer handlers in timers.py."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.change_requests import forms as cr_forms
from bot.features.defects import agenda as defect_agenda
from bot.features.defects import cards, export, forms, queries, report, service, timers
from bot.features.defects import states as st
from bot.features.defects.severity import SEVERITIES, label, parse_severity, split_severity
from bot.features.defects.sla import DEFAULT_POLICY
from bot.kernel.context import Ctx
from bot.kernel.errors import UserError
from bot.kernel.messages import Card, Reply
from bot.kernel.registry import ActionHandler, CommandHandler, FormHandler, Registry
from bot.kernel.rows import must_get
from bot.kernel.text import MAX_TEXT, MAX_TITLE, clean, plural, truncate
from storage.models import Engagement, Person
from storage.models.defects import Defect

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

URL_RE = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)
LIST_FILTERS = ("open", "mine", "breached", "all", "closed", "resolved", *SEVERITIES)


# --------------------------------------------------------------------------- helpers


def _member(ctx: Ctx) -> Engagement:
    engagement = ctx.require_engagement()
    if ctx.membership is None:
        raise UserError(f"You are not a member of {engagement.key} yet; ask its PM to add you.")
    return engagement


def _split(args: str) -> tuple[str, str]:
    head, _, rest = (args or "").strip().partition(" ")
    return head, rest.strip()


async def _locked(ctx: Ctx, value: str) -> tuple[Defect, Engagement, set[str]]:
    """The defect a button names (by database id), locked; the clicker must be a member of its engagement."""
    try:
        defect_id = int(value)
    except (TypeError, ValueError):
        raise UserError("That button does not name a defect.") from None
    defect = await queries.get(ctx.session, defect_id=defect_id, lock=True)
    if defect is None:
        raise UserError("That defect no longer exists.")
    engagement = await ctx.act_on(defect.engagement_id)  # the clicker must be seated in the defect's engagement
    roles = await queries.roles_in(ctx.session, engagement.id, ctx.person)
    return defect, engagement, roles


async def _by_ref(ctx: Ctx, text: str, lock: bool = True) -> tuple[Defect, Engagement, set[str]]:
    engagement = _member(ctx)
    if not text:
        raise UserError(f"Which defect? Give its id, e.g. {engagement.key}-D-12.")
    defect = await queries.find(ctx.session, engagement=engagement, text=text, lock=lock)
    return defect, engagement, ctx.roles


def _reason(text: str | None, what: str = "The reason") -> str:
    return clean(text, limit=1500, what=what)


DONE = {
    "ack": "Acknowledged",
    "start": "Work started on",
    "wait": "Waiting on the client for",
    "reply": "Answered; the clock runs again on",
    "resolve": "Resolved",
    "close": "Closed",
    "reopen": "Reopened",
}


async def _do(
    ctx: Ctx, defect: Defect, engagement: Engagement, roles: set[str], action: str, comment: str | None = None
) -> Reply:
    await service.transition(
        ctx.session,
        ctx.core,
        defect=defect,
        engagement=engagement,
        action=action,
        actor=ctx.person,
        roles=roles,
        now=ctx.now,
        comment=comment,
    )
    return Reply.say(f"{DONE[action]} {queries.ref(engagement, defect)}.", tone="good")


# --------------------------------------------------------------------------- filing


async def file_quick(ctx: Ctx) -> Reply:
    """`/defect s1 <title>` (catch-all): a severity alias and a title file at once."""
    engagement = _member(ctx)
    text = (ctx.args or "").strip()
    if not text:
        return Reply(private=[help_card()])
    severity, title = split_severity(text)
    title = clean(title, limit=MAX_TITLE, what="The title", multiline=False)
    if severity is None:
        if re.match(r"(?i)^(s|p|sev|severity|level|lvl|l)\s?\d+\b", text):
            return Reply.refuse("Severity must be S1, S2, S3 or S4 (also sev1, p1, critical, level 1 …).")
        if len(text.split()) == 1:
            return Reply.refuse(
                f"I don't know `/defect {truncate(text, 30)}`. File with `/defect s1 <title>` "
                f"(or sev1, p1, critical, level 1 …), or see `/defect help`."
            )
        return Reply(
            form=forms.new_form(initial={"title": title}),
            private=[Card(text="Which severity? Pick one in the form (or type `/defect s2 <title>`).")],
        )
    if not title:
        return Reply(form=forms.new_form(initial={"severity": severity}))
    defect = await service.file(
        ctx.session, ctx.core, engagement=engagement, reporter=ctx.person, title=title, severity=severity, now=ctx.now
    )
    return Reply.say(
        f"Filed {queries.ref(engagement, defect)} ({label(severity)}). The card is in the channel.", tone="good"
    )


async def open_form(ctx: Ctx) -> Reply:
    _member(ctx)
    initial = {}
    sev, title = split_severity(ctx.args or "")
    if sev:
        initial["severity"] = sev
    if title:
        initial["title"] = clean(title, limit=MAX_TITLE, multiline=False)
    return Reply(form=forms.new_form(initial=initial))


async def _standup_answer(ctx: Ctx, engagement: Engagement, raw: Any) -> int | None:
    """The standup answer a blocker-turned-defect came from — only if it exists in this engagement
    (form state comes back from the client and could be tampered with)."""
    try:
        answer_id = int(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None
    if answer_id is None:
        return None
    return answer_id if await queries.standup_answer_in(ctx.session, engagement, answer_id) else None


async def submit_new(ctx: Ctx, values: dict[str, str], state: dict[str, Any]) -> Reply:
    """The `defect.new` form (also opened by the standup feature with {"from_standup_answer": id})."""
    engagement = _member(ctx)
    errors: dict[str, str] = {}
    title = clean(values.get("title"), multiline=False)
    if not title:
        errors["title"] = "A title is required."
    elif len(title) > MAX_TITLE:
        errors["title"] = f"At most {MAX_TITLE} characters."
    severity = parse_severity(values.get("severity") or "")
    if severity is None:
        errors["severity"] = "Pick S1, S2, S3 or S4."
    details: dict[str, str] = {}
    for key, limit in (
        ("environment", 200),
        ("steps", MAX_TEXT),
        ("expected", 1500),
        ("actual", 1500),
        ("affected_users", 200),
    ):
        value = clean(values.get(key), multiline=key in ("steps", "expected", "actual"))
        if len(value) > limit:
            errors[key] = f"At most {limit} characters."
        details[key] = value
    link = clean(values.get("attachment") or values.get("attachment_url"), multiline=False)
    if link and (not URL_RE.match(link) or len(link) > 2000):
        errors["attachment"] = "Give a link starting with http:// or https://."
    details["attachment_url"] = link
    if errors or severity is None:  # no severity is one of the errors
        return Reply(errors=errors)
    source_id = await _standup_answer(ctx, engagement, state.get("from_standup_answer"))
    defect = await service.file(
        ctx.session,
        ctx.core,
        engagement=engagement,
        reporter=ctx.person,
        title=title,
        severity=severity,
        now=ctx.now,
        details=details,
        source_standup_answer_id=source_id,
    )
    return Reply.say(
        f"Filed {queries.ref(engagement, defect)} ({label(severity)}). The card is in the channel.", tone="good"
    )


# --------------------------------------------------------------------------- lifecycle commands


def _lifecycle_command(action: str) -> CommandHandler:
    async def handler(ctx: Ctx) -> Reply:
        ident, rest = _split(ctx.args)
        defect, engagement, roles = await _by_ref(ctx, ident)
        comment = _reason(rest) or None
        t = st.find(action, defect.state)
        if t is not None and t.needs_reason and not comment:
            raise UserError(f"Say why: `/defect {action} {queries.ref(engagement, defect)} <reason>`.")
        return await _do(ctx, defect, engagement, roles, action, comment)

    return handler


async def severity_command(ctx: Ctx) -> Reply:
    ident, rest = _split(ctx.args)
    defect, engagement, roles = await _by_ref(ctx, ident)
    sev, reason = split_severity(rest)
    if sev is None:
        raise UserError(f"Give the new severity: `/defect severity {queries.ref(engagement, defect)} s2 <why>`.")
    if not reason.strip():
        raise UserError(
            "Say why (a severity change moves contractual deadlines): "
            f"`/defect severity {queries.ref(engagement, defect)} {sev} <why>`."
        )
    old = defect.severity
    await service.change_severity(
        ctx.session,
        ctx.core,
        defect=defect,
        engagement=engagement,
        severity=sev,
        actor=ctx.person,
        roles=roles,
        now=ctx.now,
        reason=_reason(reason) or None,
    )
    return Reply.say(
        f"{queries.ref(engagement, defect)} is now {label(sev)} (was {label(old)}); "
        "deadlines recomputed from the filing time.",
        tone="good",
    )


async def assign_command(ctx: Ctx) -> Reply:
    ident, rest = _split(ctx.args)
    defect, engagement, roles = await _by_ref(ctx, ident)
    if not rest:
        raise UserError(f"Whom to? `/defect assign {queries.ref(engagement, defect)} @name`.")
    assignee = ctx.person if rest.strip().lower() in ("me", "myself") else await ctx.resolve_person(rest.split()[0])
    await service.assign(
        ctx.session,
        ctx.core,
        defect=defect,
        engagement=engagement,
        assignee=assignee,
        actor=ctx.person,
        roles=roles,
        now=ctx.now,
    )
    return Reply.say(f"{queries.ref(engagement, defect)} is assigned to {assignee.display_name}.", tone="good")


async def show_command(ctx: Ctx) -> Reply:
    ident, _ = _split(ctx.args)
    defect, engagement, _roles = await _by_ref(ctx, ident, lock=False)
    card = await cards.defect_card(ctx.session, engagement, defect, ctx.now, live=True)
    entries, assignees = await queries.history(ctx.session, defect)
    cards.add_history(card, defect, entries, assignees)
    return Reply(private=[card])


async def list_command(ctx: Ctx) -> Reply:
    engagement = _member(ctx)
    word = (ctx.args or "open").strip().lower() or "open"
    sev = parse_severity(word)
    flt = sev or word
    if flt not in LIST_FILTERS:
        raise UserError(f"List which? `/defect list [{'|'.join(('open', 'mine', 's1', 'breached', 'all'))}]`.")
    rows = await queries.listing(ctx.session, engagement, flt, ctx.person, ctx.now)
    if not rows:
        return Reply.say(f"No {flt} defects in {engagement.key}.")
    sections = [cards.list_section(engagement, d, ctx.now) for d in rows[:50]]
    more = f" (first 50 of {len(rows)})" if len(rows) > 50 else ""
    return Reply(private=[Card(title=f"{engagement.key} defects — {flt}{more}", sections=sections)])


async def report_command(ctx: Ctx) -> Reply:
    engagement = ctx.require_engagement()
    if ctx.membership is None:
        raise UserError(f"You are not a member of {engagement.key}.")
    word = (ctx.args or "week").strip().lower() or "week"
    if word not in report.PERIODS:
        raise UserError("`/defect report week` or `/defect report month`.")
    stats = await report.defect_stats(ctx.session, engagement, ctx.now - report.PERIODS[word], ctx.now)
    return Reply(private=[cards.report_card(stats, word)])


async def export_command(ctx: Ctx) -> Reply:
    engagement = ctx.require_engagement()
    if ctx.membership is None:
        raise UserError(f"You are not a member of {engagement.key}.")
    text = await export.export_csv(ctx.session, engagement, ctx.now)
    count = text.count("\r\n") - 1
    card = cards.export_card(engagement, text, count, ctx.now)
    # A file reaches the asker only as a delivered message (a Slack upload, a file under ./reports on the
    # console, a download on Teams): an ephemeral answer cannot carry one. So, like `/cadence export`, the
    # file goes by direct message, through the outbox.
    await ctx.core.outbox.dm(ctx.session, ctx.person, card, engagement_id=engagement.id)
    return Reply.say(
        f"{engagement.key} defects export ({plural(count, 'defect')}): I've sent you the CSV by direct message."
    )


async def policy_command(ctx: Ctx) -> Reply:
    engagement = ctx.require_engagement()
    words = (ctx.args or "").split()
    if not words:
        return Reply(private=[cards.policy_card(engagement)])
    ctx.require_role(*st.POLICY_ROLES)
    said = await service.change_policy(ctx, engagement, words)
    return Reply(private=[Card(text=said, tone="good"), cards.policy_card(engagement)])


# --------------------------------------------------------------------------- buttons and their forms


def _button(action: str) -> ActionHandler:
    async def handler(ctx: Ctx, value: str) -> Reply:
        defect, engagement, roles = await _locked(ctx, value)
        t = service.check_transition(action, defect, ctx.person, roles)
        rid = queries.ref(engagement, defect)
        if action == "wait":
            return Reply(
                form=forms.reason_form(
                    "defect.wait",
                    f"{rid}: waiting on client",
                    "What are you waiting for from the client?",
                    defect.id,
                    text="The resolution clock pauses until work resumes.",
                )
            )
        if action == "reply":
            return Reply(
                form=forms.reason_form(
                    "defect.reply",
                    f"Reply on {rid}",
                    "Your answer to the vendor",
                    defect.id,
                    submit="Send",
                    text="The vendor's resolution clock runs again when you answer.",
                )
            )
        if action == "reopen":
            return Reply(
                form=forms.reason_form(
                    "defect.reopen",
                    f"Reopen {rid}",
                    "What is still wrong?",
                    defect.id,
                    submit="Reopen",
                    text="The resolution clock runs again.",
                )
            )
        if action == "resolve":
            return Reply(
                form=forms.reason_form(
                    "defect.resolve", f"Resolve {rid}", "Resolution note", defect.id, required=False, submit="Resolve"
                )
            )
        assert t is not None
        return await _do(ctx, defect, engagement, roles, action)

    return handler


def _reason_submit(action: str) -> FormHandler:
    async def handler(ctx: Ctx, values: dict[str, str], state: dict[str, Any]) -> Reply:
        defect, engagement, roles = await _locked(ctx, str(state.get("defect_id", "")))
        reason = _reason(values.get("reason"))
        t = service.check_transition(action, defect, ctx.person, roles)
        if t.needs_reason and not reason:
            return Reply(errors={"reason": "Please say why."})
        return await _do(ctx, defect, engagement, roles, action, reason or None)

    return handler


async def severity_button(ctx: Ctx, value: str) -> Reply:
    defect, engagement, roles = await _locked(ctx, value)
    service.check_severity_change(defect, ctx.person, roles)
    return Reply(form=forms.severity_form(defect, queries.ref(engagement, defect)))


async def severity_submit(ctx: Ctx, values: dict[str, str], state: dict[str, Any]) -> Reply:
    defect, engagement, roles = await _locked(ctx, str(state.get("defect_id", "")))
    sev = parse_severity(values.get("severity") or "")
    reason = _reason(values.get("reason"))
    errors = {}
    if sev is None:
        errors["severity"] = "Pick S1, S2, S3 or S4."
    elif sev == defect.severity:
        errors["severity"] = f"It is already {label(sev)}."
    if not reason:
        errors["reason"] = "Please say why (the change moves contractual deadlines)."
    if errors or sev is None:  # no severity is one of the errors
        return Reply(errors=errors)
    old = defect.severity
    await service.change_severity(
        ctx.session,
        ctx.core,
        defect=defect,
        engagement=engagement,
        severity=sev,
        actor=ctx.person,
        roles=roles,
        now=ctx.now,
        reason=reason,
    )
    return Reply.say(f"{queries.ref(engagement, defect)} is now {label(sev)} (was {label(old)}).", tone="good")


async def home_section(session: AsyncSession, core: Cadence, person: Person) -> list[Card]:
    """Slack App Home: open defects assigned to this person, then ones they reported (at most five),
    most urgent first, with their running clock."""
    now = core.clock.now()
    found: list[Card] = []
    for d in (await queries.open_for(session, person))[:5]:
        engagement = await must_get(session, Engagement, d.engagement_id)
        card = cards.list_section(engagement, d, now)
        card.title = ("Assigned to you: " if d.assignee_id == person.id else "You reported: ") + card.title
        found.append(card)
    return found


# --------------------------------------------------------------------------- help and registration

USAGE = [
    ("s1 <title>", "File at once (sev1, p1, critical, level 1 … S1–S4)"),
    ("new", "Open the filing form"),
    ("list [open|mine|s1|breached|all]", "List defects"),
    ("show <id>", "A defect's card, clocks and history"),
    ("assign <id> @user", "Assign (vendor PM/lead; vendor members may take one: `me`)"),
    ("ack|start|resolve <id> [note]", "Vendor: acknowledge, start work, resolve"),
    ("wait <id> <reason>", "Vendor: waiting on client (pauses the resolution clock)"),
    ("close|reopen <id> [reason]", "Client or reporter: close or reopen a resolved defect"),
    ("severity <id> s2 <reason>", "Change severity (deadlines recomputed from filing)"),
    ("report [week|month]", "SLA report: open by severity, compliance, MTTA, MTTR, breaches"),
    ("export", "All defects as CSV"),
    ("policy [s3 response 6h]", "Show or change the SLA policy (vendor PM / client sponsor)"),
]


async def convert_button(ctx: Ctx, value: str) -> Reply:
    """Convert to change request: the change-request intake form, pre-filled from the defect; the request it
    files is linked both ways (bot/features/change_requests/commands.py: form_new)."""
    defect, engagement, roles = await _locked(ctx, value)
    await service.check_convert(ctx.session, engagement, defect, roles)
    rid = queries.ref(engagement, defect)
    description = "\n".join(
        x
        for x in (
            f"Converted from {rid} (filed {defect.filed_at:%Y-%m-%d}, after the warranty ended).",
            f"Steps: {defect.steps}" if defect.steps else "",
            f"Expected: {defect.expected}" if defect.expected else "",
            f"Actual: {defect.actual}" if defect.actual else "",
        )
        if x
    )
    return Reply(
        form=cr_forms.new_form(
            title=truncate(defect.title, MAX_TITLE),
            description=description,
            state={cr_forms.FROM_DEFECT: defect.id, "engagement_id": engagement.id},
        )
    )


def help_card() -> Card:
    return Card(title="/defect — defects and SLA timers", text="\n".join(f"`/defect {u}` — {s}" for u, s in USAGE))


def register(registry: Registry) -> None:
    registry.add_group("defect", summary="Defects and faults with SLA timers")
    registry.add_settings("defect", DEFAULT_POLICY)
    registry.add_command(
        "defect",
        None,
        file_quick,
        usage="/defect s1 <title>",
        summary="File a defect at once (severity S1–S4, sev1, p1, critical, level 1 …)",
    )
    registry.add_command("defect", "new", open_form, usage="/defect new", summary="Open the defect form")
    registry.add_command(
        "defect", "list", list_command, usage="/defect list [open|mine|s1|breached|all]", summary="List defects"
    )
    registry.add_command(
        "defect", "show", show_command, usage="/defect show <id>", summary="A defect with its clocks and history"
    )
    registry.add_command(
        "defect",
        "assign",
        assign_command,
        usage="/defect assign <id> @user",
        summary="Assign a defect to a vendor team member",
    )
    for action, usage, summary in (
        ("ack", "/defect ack <id>", "Acknowledge (stops the response clock)"),
        ("start", "/defect start <id>", "Start (or resume) work"),
        ("wait", "/defect wait <id> <reason>", "Waiting on client (pauses the resolution clock)"),
        ("reply", "/defect reply <id> <answer>", "Client side: answer what the vendor asked (resumes the clock)"),
        ("resolve", "/defect resolve <id> [note]", "Resolve (stops the resolution clock)"),
        ("close", "/defect close <id> [comment]", "Close a resolved defect (client side or reporter)"),
        ("reopen", "/defect reopen <id> <reason>", "Reopen a resolved defect (client side or reporter)"),
    ):
        registry.add_command("defect", action, _lifecycle_command(action), usage=usage, summary=summary)
        registry.add_action(f"defect.{action}", _button(action))
    registry.add_command(
        "defect",
        "severity",
        severity_command,
        usage="/defect severity <id> s2 <reason>",
        summary="Change the severity (deadlines recomputed from the filing time)",
    )
    registry.add_command("defect", "report", report_command, usage="/defect report [week|month]", summary="SLA report")
    registry.add_command("defect", "export", export_command, usage="/defect export", summary="All defects as CSV")
    registry.add_command(
        "defect",
        "policy",
        policy_command,
        usage="/defect policy [s3 response 6h]",
        summary="Show or change the SLA policy",
    )
    registry.add_action("defect.severity", severity_button)
    registry.add_action(cards.CONVERT, convert_button)
    registry.add_form("defect.new", submit_new)
    registry.add_form("defect.wait", _reason_submit("wait"))
    registry.add_form("defect.reply", _reason_submit("reply"))
    registry.add_form("defect.resolve", _reason_submit("resolve"))
    registry.add_form("defect.reopen", _reason_submit("reopen"))
    registry.add_form("defect.severity", severity_submit)
    registry.add_timer(timers.KIND, timers.on_timer)
    registry.add_home_section(home_section)
    registry.add_intake("defect.new", forms.intake)
    registry.add_agenda_section("defects", order=20, title=defect_agenda.TITLE, lines=defect_agenda.lines)
    registry.add_report_section(
        "defects",
        order=30,
        figures=report.report_figures,
        card=report.report_card,
        flags=report.report_flags,
        home=report.report_home,
        trend=report.weeks,
        export=report.export_range,
    )
