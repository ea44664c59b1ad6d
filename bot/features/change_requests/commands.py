"""`/cr …` commands, the request's buttons and forms, and `/cadence delegate`: parse, call the service,
answer. Rules live in service.py, look-ups in queries.py, cards in cards.py; nothing here trusts a button value
or form state beyond an id."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.change_requests import agenda as cr_agenda
from bot.features.change_requests import export, forms, queries, service, timers
from bot.features.change_requests import report as cr_report
from bot.features.change_requests.cards import (
    CR_SETTINGS,
    build,
    history_card,
    list_card,
    policy_card,
    ref,
    settings_card,
)
from bot.features.change_requests.cards import card as request_card
from bot.features.change_requests.policy import SIDES, PolicyError, parse_rule
from bot.features.change_requests.queries import LIST_FILTERS
from bot.features.change_requests.settings import DEFAULTS, FEATURE
from bot.features.change_requests.states import State
from bot.features.defects import queries as defect_queries
from bot.features.defects import service as defect_service
from bot.features.milestones import queries as milestone_queries
from bot.kernel.context import Ctx
from bot.kernel.engagements import keep_currency
from bot.kernel.errors import UserError
from bot.kernel.messages import Card, Reply
from bot.kernel.people import ROLES
from bot.kernel.registry import Registry
from bot.kernel.rows import get_or_refuse
from bot.kernel.text import MAX_TEXT, MAX_TITLE, clean, plural, truncate, when
from bot.shared.dates import parse_date
from bot.shared.numbers import NumberError, currency_code, parse_number, whole_number
from storage.models import Engagement, Person
from storage.models.change_requests import ChangeRequest
from storage.models.defects import Defect

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence


# -- helpers ----------------------------------------------------------------------------------------


def _split_id(args: str, usage: str) -> tuple[str, str]:
    token, _, rest = (args or "").strip().partition(" ")
    if not token:
        raise UserError(f"Which change request? Usage: `{usage}`.")
    return token, rest.strip()


async def _by_value(ctx: Ctx, value: str) -> tuple[ChangeRequest, Engagement]:
    """The request a button or form points at, and its own engagement (not the conversation's)."""
    try:
        cr = await queries.load(ctx.session, int(str(value).strip()))
    except ValueError:
        cr = None
    if cr is None:
        raise UserError("That change request no longer exists. Nothing changed.")
    return cr, await ctx.act_on(cr.engagement_id)


async def _roles(ctx: Ctx, engagement: Engagement) -> set[str]:
    roles = await queries.roles_of(ctx.session, engagement, ctx.person)
    if roles is None:
        raise UserError(f"You are not a member of {engagement.key}. Nothing changed.")
    return roles


def _comment(text: str, what: str = "The comment") -> str | None:
    return clean(text, limit=MAX_TEXT, what=what) or None


# -- intake -----------------------------------------------------------------------------------------


async def cmd_new(ctx: Ctx) -> Reply:
    """/cr new [title] — open the intake form."""
    ctx.require_engagement()
    title = clean(ctx.args, limit=MAX_TITLE, what="The title", multiline=False)
    return Reply(form=forms.new_form(title=title))


async def form_new(ctx: Ctx, values: dict[str, str], state: dict) -> Reply:
    """The intake form (also opened by the standup feature with {"from_standup_answer": id,
    "engagement_id": id} in its state)."""
    # An engagement named in the state was checked by the core (ctx.act_on) before this ran.
    if state.get("engagement_id") not in (None, ""):
        eng = await ctx.act_on(state["engagement_id"])
    else:
        eng = ctx.require_engagement()
    data, errors = forms.scope_values(values, now=ctx.now, tz=ctx.tz)
    if errors:
        return Reply(errors=errors)
    answer_id = state.get("from_standup_answer")
    try:
        answer_id = int(answer_id) if answer_id not in (None, "") else None
    except (TypeError, ValueError):
        answer_id = None
    defect = await _from_defect(ctx, eng, state)
    cr = await service.create(
        ctx.session,
        ctx.core,
        engagement=eng,
        requester=ctx.person,
        now=ctx.now,
        from_standup_answer_id=answer_id,
        defect_id=defect.id if defect else None,
        **data,
    )
    if defect is not None:
        await defect_service.converted(
            ctx.session, ctx.core, engagement=eng, defect=defect, cr_ref=ref(eng, cr), actor=ctx.person, now=ctx.now
        )
    return Reply.say(
        f"Filed {ref(eng, cr)} “{cr.title}”. The vendor will add an impact estimate; "
        f"then the approvers decide. Follow it with `/cr show {ref(eng, cr)}`.",
        tone="good",
    )


async def _from_defect(ctx: Ctx, eng: Engagement, state: dict) -> Defect | None:
    """The out-of-warranty defect the intake form converts (its id in the form's state is not trusted: the
    defect must be of this engagement, out of warranty, not yet converted, and the person a client admin)."""
    raw = state.get(forms.FROM_DEFECT)
    if raw in (None, ""):
        return None
    try:
        defect = await defect_queries.get(ctx.session, defect_id=int(raw), lock=True)
    except (TypeError, ValueError):
        defect = None
    if defect is None or defect.engagement_id != eng.id:
        raise UserError("That defect is not one of this engagement's. Nothing was filed.")
    await defect_service.check_convert(ctx.session, eng, defect, await _roles(ctx, eng))
    return defect


async def cmd_edit(ctx: Ctx) -> Reply:
    """/cr edit <id> — change the scope (resets approvals given so far)."""
    eng = ctx.require_engagement()
    token, _ = _split_id(ctx.args, "/cr edit ACME-CR-7")
    cr = await queries.find(ctx.session, eng, token)
    return Reply(form=forms.edit_form(cr, ref(eng, cr)))


async def form_edit(ctx: Ctx, values: dict[str, str], state: dict) -> Reply:
    cr = await queries.load(ctx.session, forms.request_id(state), lock=True)
    if cr is None:
        raise UserError("That change request no longer exists. Nothing changed.")
    eng = await ctx.act_on(cr.engagement_id)
    roles = await _roles(ctx, eng)
    data, errors = forms.scope_values(values, now=ctx.now, tz=ctx.tz)
    if errors:
        return Reply(errors=errors)
    msg = await service.edit_scope(
        ctx.session, ctx.core, cr=cr, engagement=eng, actor=ctx.person, roles=roles, now=ctx.now, changes=data
    )
    return Reply.say(msg)


# -- assessment -------------------------------------------------------------------------------------


async def _assess_form(ctx: Ctx, cr: ChangeRequest, eng: Engagement) -> Reply:
    service.may_open_assessment(cr, eng, await _roles(ctx, eng))
    return Reply(form=forms.assess_form(cr, ref(eng, cr)))


async def cmd_assess(ctx: Ctx) -> Reply:
    """/cr assess <id> — add (or revise) the impact estimate."""
    eng = ctx.require_engagement()
    token, _ = _split_id(ctx.args, "/cr assess ACME-CR-7")
    return await _assess_form(ctx, await queries.find(ctx.session, eng, token), eng)


async def act_assess(ctx: Ctx, value: str) -> Reply:
    cr, eng = await _by_value(ctx, value)
    return await _assess_form(ctx, cr, eng)


async def form_assess(ctx: Ctx, values: dict[str, str], state: dict) -> Reply:
    estimate, errors = forms.estimate_values(values)
    if errors:
        return Reply(errors=errors)
    cr = await queries.load(ctx.session, forms.request_id(state), lock=True)
    if cr is None:
        raise UserError("That change request no longer exists. Nothing changed.")
    eng = await ctx.act_on(cr.engagement_id)
    roles = await _roles(ctx, eng)
    # The cost keeps its currency: the engagement's, adopted from the first amount that names one.
    keep_currency(eng, estimate.pop("currency", None), what="The cost", field="cost")
    msg = await service.assess(
        ctx.session, ctx.core, cr=cr, engagement=eng, actor=ctx.person, roles=roles, now=ctx.now, estimate=estimate
    )
    return Reply.say(msg)


# -- decisions --------------------------------------------------------------------------------------


async def act_approve(ctx: Ctx, value: str) -> Reply:
    cr, _ = await _by_value(ctx, value)
    msg = await service.decide(
        ctx.session, ctx.core, request_id=cr.id, clicker=ctx.person, decision="approve", now=ctx.now
    )
    return Reply.say(msg)


async def _reject_form(ctx: Ctx, cr: ChangeRequest, eng: Engagement) -> Reply:
    if cr.state != State.PENDING_APPROVAL:
        # Same harmless answer as a click on a decided request.
        return Reply.say(
            await service.decide(
                ctx.session, ctx.core, request_id=cr.id, clicker=ctx.person, decision="reject", now=ctx.now, comment="-"
            )
        )
    seats, why_not = await service.seats_for(ctx.session, cr=cr, engagement=eng, clicker=ctx.person, now=ctx.now)
    if not seats:
        raise UserError(why_not)
    return Reply(form=forms.reject_form(cr, ref(eng, cr)))


async def act_reject(ctx: Ctx, value: str) -> Reply:
    cr, eng = await _by_value(ctx, value)
    return await _reject_form(ctx, cr, eng)


async def form_reject(ctx: Ctx, values: dict[str, str], state: dict) -> Reply:
    reason = clean(values.get("reason"), limit=MAX_TEXT, what="The reason")
    if not reason:
        return Reply(errors={"reason": "A rejection needs a reason."})
    cr_id = forms.request_id(state)
    cr = await queries.load(ctx.session, cr_id)
    if cr is not None and str(state.get("round", cr.round)) != str(cr.round) and cr.state == State.PENDING_APPROVAL:
        raise UserError(
            "The request changed since you opened this form (a new approval round started). "
            "Please look at it again. Nothing changed."
        )
    msg = await service.decide(
        ctx.session, ctx.core, request_id=cr_id, clicker=ctx.person, decision="reject", now=ctx.now, comment=reason
    )
    return Reply.say(msg)


async def cmd_approve(ctx: Ctx) -> Reply:
    """/cr approve <id> [comment]"""
    eng = ctx.require_engagement()
    token, rest = _split_id(ctx.args, "/cr approve ACME-CR-7 [comment]")
    cr = await queries.find(ctx.session, eng, token)
    msg = await service.decide(
        ctx.session,
        ctx.core,
        request_id=cr.id,
        clicker=ctx.person,
        decision="approve",
        now=ctx.now,
        comment=_comment(rest),
    )
    return Reply.say(msg)


async def cmd_reject(ctx: Ctx) -> Reply:
    """/cr reject <id> <reason> — without a reason, the rejection form opens."""
    eng = ctx.require_engagement()
    token, rest = _split_id(ctx.args, "/cr reject ACME-CR-7 reason")
    cr = await queries.find(ctx.session, eng, token)
    reason = _comment(rest, "The reason")
    if not reason:
        return await _reject_form(ctx, cr, eng)
    msg = await service.decide(
        ctx.session, ctx.core, request_id=cr.id, clicker=ctx.person, decision="reject", now=ctx.now, comment=reason
    )
    return Reply.say(msg)


async def act_question(ctx: Ctx, value: str) -> Reply:
    cr, eng = await _by_value(ctx, value)
    await _roles(ctx, eng)
    return Reply(form=forms.question_form(cr, ref(eng, cr)))


async def form_question(ctx: Ctx, values: dict[str, str], state: dict) -> Reply:
    question = clean(values.get("question"), limit=MAX_TEXT, what="The question")
    if not question:
        return Reply(errors={"question": "Type your question."})
    cr = await queries.load(ctx.session, forms.request_id(state))
    if cr is None:
        raise UserError("That change request no longer exists.")
    eng = await ctx.act_on(cr.engagement_id)
    await _roles(ctx, eng)
    return Reply.say(
        await service.ask_question(
            ctx.session, ctx.core, cr=cr, engagement=eng, asker=ctx.person, now=ctx.now, question=question
        )
    )


# -- other steps ------------------------------------------------------------------------------------


async def _commented_step(ctx: Ctx, usage: str, step: Callable[..., Awaitable[str]]) -> Reply:
    """`/cr <step> <id> [comment]`: the request (locked), the actor's roles, then the service's step."""
    eng = ctx.require_engagement()
    token, rest = _split_id(ctx.args, usage)
    cr = await queries.find(ctx.session, eng, token, lock=True)
    roles = await _roles(ctx, eng)
    return Reply.say(
        await step(
            ctx.session,
            ctx.core,
            cr=cr,
            engagement=eng,
            actor=ctx.person,
            roles=roles,
            now=ctx.now,
            comment=_comment(rest),
        )
    )


async def cmd_withdraw(ctx: Ctx) -> Reply:
    """/cr withdraw <id> [comment]"""
    return await _commented_step(ctx, "/cr withdraw ACME-CR-7 [why]", service.withdraw)


async def cmd_schedule(ctx: Ctx) -> Reply:
    """/cr schedule <id> [date]"""
    eng = ctx.require_engagement()
    token, rest = _split_id(ctx.args, "/cr schedule ACME-CR-7 [march 3]")
    cr = await queries.find(ctx.session, eng, token, lock=True)
    roles = await _roles(ctx, eng)
    day = None
    if rest:
        day = parse_date(clean(rest, limit=100, what="The date", multiline=False), now=ctx.now, tz=ctx.tz)
    return Reply.say(
        await service.schedule(
            ctx.session,
            ctx.core,
            cr=cr,
            engagement=eng,
            actor=ctx.person,
            roles=roles,
            now=ctx.now,
            scheduled_for=day,
            comment=None,
        )
    )


async def cmd_deliver(ctx: Ctx) -> Reply:
    """/cr deliver <id> [comment]"""
    return await _commented_step(ctx, "/cr deliver ACME-CR-7 [comment]", service.deliver)


async def cmd_milestone(ctx: Ctx) -> Reply:
    """/cr milestone ACME-CR-7 ACME-M-2 — the milestone an approved schedule impact moves."""
    eng = ctx.require_engagement()
    usage = "/cr milestone ACME-CR-7 ACME-M-2"
    token, rest = _split_id(ctx.args, usage)
    if not rest:
        raise UserError(f"Which milestone? Usage: `{usage}` (`/milestone list` shows them).")
    cr = await queries.find(ctx.session, eng, token, lock=True)
    milestone = await milestone_queries.find(ctx.session, eng, rest.split()[0])
    roles = await _roles(ctx, eng)
    return Reply.say(
        await service.set_milestone(
            ctx.session,
            ctx.core,
            cr=cr,
            engagement=eng,
            milestone=milestone,
            actor=ctx.person,
            roles=roles,
            now=ctx.now,
        )
    )


# -- reading ----------------------------------------------------------------------------------------


async def cmd_show(ctx: Ctx) -> Reply:
    """/cr show <id> — the request, its approvals and its full history."""
    eng = ctx.require_engagement()
    token, _ = _split_id(ctx.args, "/cr show ACME-CR-7")
    cr = await queries.find(ctx.session, eng, token)
    v = await queries.view(ctx.session, cr, eng, ctx.now)
    entries = await queries.history(ctx.session, cr)
    v.people.update(
        await queries.people(
            ctx.session,
            {e.actor_id for e in entries if e.actor_id} | {e.on_behalf_of_id for e in entries if e.on_behalf_of_id},
        )
    )
    return Reply(private=[build(v), history_card(v, entries)])


async def cmd_list(ctx: Ctx) -> Reply:
    """/cr list [open|mine|pending-me|all]"""
    eng = ctx.require_engagement()
    which = (ctx.args.strip().lower() or "open").replace("_", "-")
    if which in ("pending", "me", "pendingme", "pending-for-me"):
        which = "pending-me"
    if which not in LIST_FILTERS:
        raise UserError(f"List which? `{' | '.join(LIST_FILTERS)}` (default: open).")
    rows = await queries.listing(ctx.session, eng, which, ctx.person, ctx.now)
    return Reply(private=[list_card(eng, which, rows)])


async def cmd_export(ctx: Ctx) -> Reply:
    """/cr export — CSV of every request and every transition, posted where you asked."""
    eng = ctx.require_engagement()
    await _roles(ctx, eng)
    requests_csv, steps_csv = await export.build(ctx.session, eng)
    count = max(requests_csv.count("\r\n") - 1, 0)
    c = Card(
        title=f"{eng.key} change requests — export",
        text=(
            f"{plural(count, 'change request')} and every recorded step, as of {when(ctx.now)}. "
            "Times in the files are UTC."
        ),
        attachments=export.attachments(eng, requests_csv, steps_csv, ctx.now),
    )
    return Reply(public=[c])


# -- policy -----------------------------------------------------------------------------------------


async def _policy_card(ctx: Ctx, eng: Engagement) -> Card:
    pol = queries.current_policy(eng)
    return policy_card(eng, pol, await queries.policy_holders(ctx.session, eng, pol))


async def cmd_policy(ctx: Ctx) -> Reply:
    """/cr policy [client|vendor all|any|2of3 | both on|off | <side> roles …]"""
    eng = ctx.require_engagement()
    words = ctx.args.lower().split()
    if not words:
        return Reply(private=[await _policy_card(ctx, eng)])
    side, rest = words[0], words[1:]
    roles = ctx.roles
    s = queries.settings(eng)
    groups = {k: dict(v) for k, v in s["groups"].items()}
    if side == "minor":
        return await _minor_policy(ctx, eng, rest)
    if side == "both":
        service.require_both_sides_owner(roles)
        if not rest or rest[0] not in ("on", "off", "yes", "no", "true", "false"):
            raise UserError("Usage: `/cr policy both on` or `/cr policy both off`.")
        said = await service.set_both_sides(ctx, eng, rest[0] in ("on", "yes", "true"))
        return Reply(private=[Card(text=said, tone="good")])
    elif side in SIDES:
        service.require_side_owner(side, roles)
        if not rest:
            raise UserError(f"Usage: `/cr policy {side} all|any|2of3` or `/cr policy {side} roles role …`.")
        group = groups.get(side, {"roles": [], "rule": "all"})
        if rest[0] == "roles":
            new_roles = [r.strip(",") for r in rest[1:] if r.strip(",")]
            bad = [r for r in new_roles if r not in ROLES]
            if not new_roles or bad:
                raise UserError(f"Give roles from: {', '.join(ROLES)}.")
            group["roles"] = new_roles
            what = f"{side} side approvers: {', '.join(new_roles)}"
        else:
            try:
                rule, n = parse_rule(" ".join(rest))
            except PolicyError as exc:
                raise UserError(str(exc)) from None
            group["rule"] = rule
            group.pop("n", None)
            if n is not None:
                group["n"] = n
            what = f"{side} side rule: {rule if rule != 'n_of_m' else f'{n} of them'}"
        groups[side] = group
        changes = {"groups": groups}
    else:
        raise UserError(
            "Usage: `/cr policy`, `/cr policy client any`, `/cr policy vendor 2of3`, `/cr policy both off`."
        )
    await service.change_policy(ctx, eng, changes=changes, what=what)
    return Reply(private=[await _policy_card(ctx, eng)])


MINOR_USAGE = (
    "Usage: `/cr policy minor hours 8`, `… minor cost 500` (0: no cost), `… minor rule any|all|2of3`, `… minor off`."
)


async def _minor_policy(ctx: Ctx, eng: Engagement, words: list[str]) -> Reply:
    """/cr policy minor hours 8 | cost 500 | rule any | off — propose a change of the minor-change term."""
    if not words:
        return Reply(private=[await _policy_card(ctx, eng)])
    minor = dict(queries.settings(eng)["minor"])
    what, value = words[0], " ".join(words[1:])
    try:
        if what == "off":
            minor["hours"] = "0"  # nothing is under 0 hours: every request follows each side's own rule
        elif what in ("hours", "cost") and value:
            limit = Decimal(1000) if what == "hours" else Decimal(10) ** 9
            label = "The hours threshold" if what == "hours" else "The cost threshold"
            amount = parse_number(value.removesuffix("h").strip(), what=label, maximum=limit, example="8")
            minor[what] = str(amount.normalize())
        elif what == "rule" and value:
            rule, n = parse_rule(value)
            minor["rule"] = rule
            minor.pop("n", None)
            if n is not None:
                minor["n"] = n
        else:
            raise UserError(MINOR_USAGE)
    except (NumberError, PolicyError) as exc:
        raise UserError(f"{exc} Nothing was changed.") from None
    said = await service.set_minor(ctx, eng, minor)
    return Reply(private=[Card(text=said, tone="good")])


# -- settings ---------------------------------------------------------------------------------------


async def cmd_settings(ctx: Ctx) -> Reply:
    """/cr settings [currency EUR | reminder 10:00 | escalate 3 | warn 80]"""
    eng = ctx.require_engagement()
    name, _, value = ctx.args.strip().partition(" ")
    if not name:
        return Reply(private=[settings_card(eng, queries.settings(eng))])
    name, value = name.lower(), clean(value, limit=20, what="The value", multiline=False)
    if name not in CR_SETTINGS:
        raise UserError(f"No setting “{truncate(name, 20)}”. Settings: {', '.join(CR_SETTINGS)}.")
    service.require_settings_owner(ctx.roles)
    key = CR_SETTINGS[name][0]
    if name == "currency":
        if value.lower() == "none":
            new: object = ""
        else:
            try:
                new = currency_code(value)
            except NumberError as exc:
                raise UserError(f"{exc} Or `none` for no currency.") from None
    elif name == "reminder":
        if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value):
            raise UserError("Give the reminder time as HH:MM, e.g. `10:00`.")
        new = value.zfill(5)
    else:
        low, high = (1, 30) if name == "escalate" else (1, 100)
        try:
            new = whole_number(value, what="The value", minimum=low, maximum=high)
        except NumberError:
            raise UserError(f"Give a whole number from {low} to {high}.") from None
    await service.change_setting(ctx, eng, name=name, key=key, new=new)
    return Reply(private=[settings_card(eng, queries.settings(eng))])


# -- delegation -------------------------------------------------------------------------------------


async def cmd_delegate(ctx: Ctx) -> Reply:
    """/cadence delegate @user | off — who decides for you while you are away."""
    arg = ctx.args.strip()
    me = ctx.person
    if not arg:
        if me.delegate_id:
            d = await get_or_refuse(ctx.session, Person, me.delegate_id)
            return Reply.say(
                f"Your delegate is {d.display_name}: while you are out of office they can approve or "
                "reject change requests on your behalf. `/cadence delegate off` removes them."
            )
        return Reply.say("You have no delegate. `/cadence delegate @name` names one.")
    if arg.lower() in ("off", "none", "clear", "remove"):
        delegate = None
    else:
        delegate = await ctx.resolve_person(arg)
    msg = await service.set_delegate(
        ctx.session, ctx.core, person=me, delegate=delegate, engagement=ctx.engagement, now=ctx.now
    )
    return Reply.say(msg)


# -- wiring -----------------------------------------------------------------------------------------


async def on_settings_changed(
    session: AsyncSession,
    core: Cadence,
    *,
    engagement: Engagement,
    feature: str | None = None,
    **_: object,
) -> None:
    """Budget or contingency changed: the open requests' cards show the new figures."""
    if feature in (None, "engagement", "budget", "contingency", "cr"):
        await service.refresh_open_cards(session, core, engagement, core.clock.now())


async def on_membership_changed(
    session: AsyncSession,
    core: Cadence,
    *,
    engagement: Engagement,
    person: Person,
    **_: object,
) -> None:
    await service.membership_changed(session, core, engagement=engagement, person=person, now=core.clock.now())


async def on_person_changed(session: AsyncSession, core: Cadence, *, person: Person, **_: object) -> None:
    await service.person_changed(session, core, person=person, now=core.clock.now())


async def home_section(session: AsyncSession, core: Cadence, person: Person) -> list[Card]:
    """Slack App Home: the change requests waiting for this person's decision (at most five)."""
    cards: list[Card] = []
    for cr, eng in await queries.waiting_for(session, person, limit=5):
        c = await request_card(session, cr, eng, core.clock.now())
        c.title = f"Waiting for your decision: {c.title}"
        cards.append(c)
    return cards


def register(registry: Registry) -> None:
    registry.add_group("cr", summary="Change requests and their approval")
    registry.add_settings(FEATURE, DEFAULTS)
    add = registry.add_command
    add("cr", "new", cmd_new, usage="/cr new [title]", summary="file a change request (opens the form)")
    add("cr", "list", cmd_list, usage="/cr list [open|mine|pending-me|all]", summary="list change requests")
    add("cr", "show", cmd_show, usage="/cr show ACME-CR-7", summary="a request, its approvals and history")
    add("cr", "edit", cmd_edit, usage="/cr edit ACME-CR-7", summary="change the scope (resets approvals)")
    add("cr", "assess", cmd_assess, usage="/cr assess ACME-CR-7", summary="vendor: add or revise the estimate")
    add("cr", "approve", cmd_approve, usage="/cr approve ACME-CR-7 [comment]", summary="approver: approve")
    add("cr", "reject", cmd_reject, usage="/cr reject ACME-CR-7 reason", summary="approver: reject (reason)")
    add(
        "cr",
        "withdraw",
        cmd_withdraw,
        usage="/cr withdraw ACME-CR-7 [why]",
        summary="requester: withdraw before a decision",
    )
    add("cr", "schedule", cmd_schedule, usage="/cr schedule ACME-CR-7 [date]", summary="vendor: schedule it")
    add(
        "cr",
        "milestone",
        cmd_milestone,
        usage="/cr milestone ACME-CR-7 ACME-M-2",
        summary="the milestone its approved schedule impact moves",
    )
    add("cr", "deliver", cmd_deliver, usage="/cr deliver ACME-CR-7 [comment]", summary="vendor: mark delivered")
    add("cr", "export", cmd_export, usage="/cr export", summary="CSV of every request and transition")
    add(
        "cr",
        "policy",
        cmd_policy,
        usage="/cr policy [client any | vendor 2of3 | both off | minor hours 8]",
        summary="show or change who must approve",
    )
    add(
        "cr",
        "settings",
        cmd_settings,
        usage="/cr settings [currency EUR | reminder 10:00 | escalate 3 | warn 80]",
        summary="show or change reminders, escalation, contingency warning, currency",
    )
    add(
        "cadence",
        "delegate",
        cmd_delegate,
        usage="/cadence delegate @name | off",
        summary="who decides your change requests while you are away",
    )
    registry.add_action("cr.approve", act_approve)
    registry.add_action("cr.reject", act_reject)
    registry.add_action("cr.question", act_question)
    registry.add_action("cr.assess", act_assess)
    registry.add_form(forms.NEW, form_new)
    registry.add_form(forms.EDIT, form_edit)
    registry.add_form(forms.ASSESS, form_assess)
    registry.add_form(forms.REJECT, form_reject)
    registry.add_form(forms.QUESTION, form_question)
    registry.add_timer(timers.REMIND, timers.on_remind)
    registry.add_timer(timers.ESCALATE, timers.on_escalate)
    registry.add_hook("engagement_settings_changed", on_settings_changed)
    registry.add_hook("membership_changed", on_membership_changed)
    registry.add_hook("person_tz_changed", on_person_changed)
    registry.add_hook("absence_changed", on_person_changed)
    registry.add_home_section(home_section)
    registry.add_intake(forms.NEW, forms.intake)
    registry.add_agenda_section("change_requests", order=10, title=cr_agenda.TITLE, lines=cr_agenda.lines)
    registry.add_report_section(
        "change_requests",
        order=20,
        figures=cr_report.report_figures,
        card=cr_report.report_card,
        flags=cr_report.report_flags,
        home=cr_report.report_home,
        export=cr_report.export_range,
    )
