"""The contract: the terms both sides agreed, in one place, with their history (storage: contract_changes).

Every term is declared once, in the registry (`registry.add_term`: its label, how it reads, where it is kept and
so its default); `register` below declares them. The engagement holds the values in force; contract_changes holds
what both sides agreed and when. A change of a term goes
through `amend`: while the other side has no admin yet it is agreed at once; once both sides have an admin
it is a proposal — a card in the home channel, old → new, with Approve and Reject for the other side's
admins (one of them decides for their side; the proposer's side cannot), reminded daily, and without effect
until approved. Items already filed keep the terms they were filed under (defects copy their SLA policy,
change requests their round's policy). Every step is posted in the home channel and audited."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.kernel import announce, audit, engagements, sides
from bot.kernel.context import Ctx, TimerCtx
from bot.kernel.engagements import feature_settings, update_feature_settings
from bot.kernel.errors import UserError
from bot.kernel.messages import Button, Card, Field, Reply
from bot.kernel.people import REMINDER_AT, membership_of, next_workday_at, role_label
from bot.kernel.registry import Registry, Term
from bot.kernel.text import person as mention
from bot.kernel.text import plural, when
from storage.models import Engagement, Person
from storage.models.contract import ContractChange

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

REMIND = "contract.remind"
# Pending proposals are reminded like change requests: each admin of the deciding side at people.REMINDER_AT
# local time on their next work day (their morning, not 24 hours after whenever the proposal was made).
PENDING = "pending"
# Columns the engagement derives from who is seated until someone sets them (bot/features/engagement/commands.py).
EXPLICIT_KEY = "explicit"


def _sla(sev: str) -> Callable[[Engagement], str]:
    def show(eng: Engagement) -> str:
        e = feature_settings(eng, "defect")[sev]
        cal = "business hours" if e.get("calendar") == "business" else "24×7"
        return f"response {e['response']} · resolution {e['resolution']} · {cal}"

    return show


def _hours(eng: Engagement) -> str:
    h = feature_settings(eng, "defect")["hours"]
    return f"{h['start']}–{h['end']}"


def _money(eng: Engagement) -> str:
    return f"{eng.budget:,.2f}" if eng.budget is not None else "not set"


def _window(eng: Engagement) -> str:
    return f"{feature_settings(eng, 'milestones').get('window_days')} business days (client's calendar)"


def _warranty(eng: Engagement) -> str:
    months = feature_settings(eng, "milestones").get("warranty_months")
    if eng.warranty_end is None:
        return f"{months} months from the project acceptance; starts at the project acceptance"
    return f"{months} months from the project acceptance; until {eng.warranty_end.isoformat()}"


def _amount_text(value: Any) -> str:
    """`8`, `7.5`, `1,000`: an amount as typed, without trailing zeros."""
    try:
        amount = Decimal(str(value)).normalize()
    except ArithmeticError:
        return str(value)
    return f"{amount:,f}"


def minor_threshold_text(minor: Mapping[str, Any]) -> str:
    """ "under 8 h, no cost" / "under 8 h, cost under 500": what makes a change request a minor change."""
    cost = minor.get("cost") or 0
    try:
        costless = Decimal(str(cost)) <= 0
    except ArithmeticError:
        costless = True
    cost_text = "no cost" if costless else f"cost under {_amount_text(cost)}"
    return f"under {_amount_text(minor.get('hours', 0))} h, {cost_text}"


def minor_rule_text(minor: Mapping[str, Any]) -> str:
    """ "one approver of each side" (rule any), "every approver of each side" (all), "2 approvers of each side"."""
    rule = minor.get("rule", "any")
    if rule == "all":
        return "every approver of each side"
    if rule == "n_of_m":
        n = minor.get("n") or 1
        return f"{n} approver{'' if n == 1 else 's'} of each side"
    return "one approver of each side"


def _minor(eng: Engagement) -> str:
    minor = feature_settings(eng, "cr")["minor"]
    return f"{minor_threshold_text(minor)}: {minor_rule_text(minor)} decides"


def declare_terms(registry: Registry) -> None:
    """Every contract term, in the order `/cadence contract` lists them. Terms kept in engagement columns name
    each column's default (written when an engagement is created, `bot.kernel.engagements.new_engagement`);
    terms kept in a feature's settings take that feature's registered default."""
    term = registry.add_term
    for sev in ("s1", "s2", "s3", "s4"):
        term(f"sla.{sev}", f"{sev.upper()} targets", _sla(sev), setting=("defect", sev))
    term("sla.hours", "SLA business hours", _hours, setting=("defect", "hours"))
    # Until the first vendor PM is seated; then theirs (bot/features/engagement/commands.py).
    term("sla.zone", "SLA calendar zone (vendor's)", lambda e: e.support_tz, columns={"support_tz": "UTC"})
    term(
        "sla.country",
        "SLA holiday country (vendor's)",
        lambda e: e.support_country or "none",
        columns={"support_country": None},
    )
    term(
        "sla.warn_pct",
        "SLA warning threshold",
        lambda e: f"{feature_settings(e, 'defect')['warn_pct']} %",
        setting=("defect", "warn_pct"),
    )
    term("budget", "Budget", _money, columns={"budget": None})
    term(
        "contingency",
        "Contingency",
        lambda e: f"{e.contingency_pct:g} % of the budget",
        columns={"contingency_pct": 15.0},
    )
    # The milestones feature's terms (docs/milestones.md); their defaults are that feature's settings. The
    # warranty's end is not typed: it is derived from the project acceptance (recorded on the engagement then).
    term("window_days", "Acceptance window", _window, setting=("milestones", "window_days"))
    term(
        "deemed_acceptance",
        "Deemed acceptance at the window's end",
        lambda e: "on" if feature_settings(e, "milestones").get("deemed_acceptance") else "off",
        setting=("milestones", "deemed_acceptance"),
    )
    term("warranty_months", "Warranty", _warranty, setting=("milestones", "warranty_months"))
    term("iteration_days", "Iteration length", lambda e: f"{e.iteration_days} days", columns={"iteration_days": 14})
    term(
        "cr.both_sides",
        "Both sides approve change requests",
        lambda e: "yes" if feature_settings(e, "cr")["both_sides_required"] else "no",
        setting=("cr", "both_sides_required"),
    )
    # Decided by the minor rule instead of each side's own (bot/features/change_requests/policy.py: Minor).
    term("cr.minor", "Minor change", _minor, setting=("cr", "minor"))


def _column_value(name: str, raw: Any) -> Any:
    if raw is None:
        return None
    if name == "budget":
        return Decimal(str(raw))
    return raw


def _apply(registry: Registry, eng: Engagement, changes: dict[str, Any]) -> list[str]:
    """Write an agreed change into the engagement. Dict values merge into what is there now (a change of S1
    response leaves S1 resolution as it is at approval time). Returns the features whose settings changed."""
    explicit = set(feature_settings(eng, "engagement").get(EXPLICIT_KEY, []))
    term_columns = registry.term_columns()
    for name, raw in (changes.get("columns") or {}).items():
        if name not in term_columns:
            continue
        setattr(eng, name, _column_value(name, raw))
        explicit.add(name)
    if changes.get("columns"):
        update_feature_settings(eng, "engagement", {EXPLICIT_KEY: sorted(explicit)})
    features = []
    for feature, values in (changes.get("settings") or {}).items():
        current = feature_settings(eng, feature)
        merged = {}
        for key, value in values.items():
            if isinstance(value, dict) and isinstance(current.get(key), dict):
                merged[key] = {**current[key], **copy.deepcopy(value)}
            else:
                merged[key] = copy.deepcopy(value)
        update_feature_settings(eng, feature, merged)
        features.append(feature)
    return features


@dataclass(frozen=True)
class Deciders:
    """Who may press a pending proposal's buttons: the other side's admins approve or reject, the proposing
    side's admins withdraw. A hint for front ends that show buttons to those people alone; `_decide` still
    checks every press."""

    deciding: tuple[int, ...]
    proposing: tuple[int, ...]


async def deciders(session: AsyncSession, eng: Engagement, change: ContractChange) -> Deciders:
    side = cast(sides.Side, change.proposed_side)  # stored as text; written from a Side only (amend)
    return Deciders(
        deciding=tuple(m.person_id for m in await sides.admins_of(session, eng, sides.other(side))),
        proposing=tuple(m.person_id for m in await sides.admins_of(session, eng, side)),
    )


def _card(
    terms: dict[str, Term],
    change: ContractChange,
    eng: Engagement,
    proposer: Person | None,
    only: Deciders | None = None,
) -> Card:
    term = terms[change.term]
    who = mention(proposer.id, proposer.display_name) if proposer else "Cadence"
    status = {
        PENDING: f"Waiting for the {sides.other(change.proposed_side)} side's admins",  # type: ignore[arg-type]
        "approved": "Approved",
        "rejected": "Rejected",
        "withdrawn": "Withdrawn",
        "agreed": "Agreed",
    }[change.status]
    fields = [
        Field("Term", term.label),
        Field("Change", f"{change.old_text} → {change.new_text}", short=False),
        Field("Proposed by", f"{who} ({change.proposed_side} side), {when(change.proposed_at)}"),
        Field("Status", status),
    ]
    if change.reason:
        fields.append(Field("Reason", change.reason, short=False))
    buttons = []
    if change.status == PENDING:
        v = str(change.id)
        buttons = [
            Button("Approve", "contract.approve", v, style="primary", allowed=only.deciding if only else None),
            Button("Reject", "contract.reject", v, style="danger", allowed=only.deciding if only else None),
            Button("Withdraw", "contract.withdraw", v, allowed=only.proposing if only else None),
        ]
    return Card(
        title=f"{eng.key} contract amendment #{change.number}",
        fields=fields,
        buttons=buttons,
        tone="warning" if change.status == PENDING else ("good" if change.status in ("approved", "agreed") else "info"),
        footer="No effect until the other side approves; items already filed keep their terms."
        if change.status == PENDING
        else "",
    )


def _ref_key(change: ContractChange) -> str:
    return f"contract:{change.id}"


async def amend(
    ctx: Ctx,
    eng: Engagement,
    *,
    term: str,
    new_text: str,
    columns: dict[str, Any] | None = None,
    settings: dict[str, dict[str, Any]] | None = None,
) -> str:
    """Change a contract term: agreed at once while the other side has no admin, else proposed. Returns
    what to tell the person who asked."""
    side = sides.side_of(ctx.roles)
    if side is None or not sides.is_admin(ctx.roles, side):
        raise UserError(
            "Only an admin of either side (client sponsor or PM, vendor PM or lead) can change a contract term."
        )
    terms = ctx.core.registry.terms
    old_text = terms[term].show(eng)
    if old_text == new_text:
        raise UserError(f"{terms[term].label} is already {new_text}. Nothing changed.")
    payload = {"columns": _jsonable(columns or {}), "settings": settings or {}}
    number = await engagements.next_number(ctx.session, eng.id, ContractChange.number, ContractChange.engagement_id)
    other = sides.other(side)
    waiting = bool(await sides.admins_of(ctx.session, eng, other))
    change = ContractChange(
        engagement_id=eng.id,
        number=number,
        term=term,
        old_text=old_text[:300],
        new_text=new_text[:300],
        changes=payload,
        proposed_by_id=ctx.person.id,
        proposed_side=side,
        proposed_at=ctx.now,
        status=PENDING if waiting else "agreed",
    )
    ctx.session.add(change)
    await ctx.session.flush()
    if not waiting:
        change.decided_at, change.decided_by_id = ctx.now, ctx.person.id
        for feature in _apply(ctx.core.registry, eng, payload):
            await ctx.core.emit(ctx.session, "engagement_settings_changed", engagement=eng, feature=feature)
        await ctx.core.emit(ctx.session, "engagement_settings_changed", engagement=eng, feature="engagement")
    card = _card(terms, change, eng, ctx.person, await deciders(ctx.session, eng, change) if waiting else None)
    await ctx.core.outbox.post_home(ctx.session, eng, card, ref_key=_ref_key(change))
    await audit.record(
        ctx.session,
        now=ctx.now,
        engagement_id=eng.id,
        entity_type="contract",
        entity_id=change.id,
        action="proposed" if waiting else "agreed",
        to_state=change.status,
        actor=ctx.person,
        data={"term": term, "from": old_text, "to": new_text, "changes": payload},
    )
    if not waiting:
        return (
            f"{terms[term].label}: {old_text} → {new_text}. Agreed at once: the {other} side has no admin yet. "
            "Posted in the home channel."
        )
    for m in await sides.admins_of(ctx.session, eng, other):
        await _schedule_reminder(ctx.session, ctx.core, change, m.person, ctx.now)
    return (
        f"Proposed {terms[term].label}: {old_text} → {new_text}. It takes effect only when an admin of the "
        f"{other} side approves it (amendment #{number}, posted in the home channel)."
    )


def _jsonable(columns: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in columns.items():
        out[k] = v.isoformat() if isinstance(v, date) else (str(v) if isinstance(v, Decimal) else v)
    return out


async def _load(ctx: Ctx, value: str) -> tuple[ContractChange, Engagement]:
    try:
        change = await ctx.session.get(ContractChange, int(value))
    except ValueError:
        change = None
    if change is None:
        raise UserError("That amendment no longer exists. Nothing changed.")
    eng = await ctx.act_on(change.engagement_id)
    return change, eng


async def _decide(ctx: Ctx, value: str, outcome: str, reason: str | None = None) -> Reply:
    change, eng = await _load(ctx, value)
    roles = await _roles(ctx, eng)
    side = sides.side_of(roles)
    if outcome == "withdrawn":
        if side != change.proposed_side or not sides.is_admin(roles, side):
            raise UserError(f"Only an admin of the {change.proposed_side} side can withdraw its proposal.")
    else:
        if side == change.proposed_side:
            raise UserError(
                f"The {change.proposed_side} side proposed amendment #{change.number}; only the other side's "
                "admins can approve or reject it. Nothing changed."
            )
        if side is None or not sides.is_admin(roles, side):
            names = " or ".join(role_label(r) for r in sorted(sides.ADMINS[sides.other(change.proposed_side)]))  # type: ignore[arg-type]
            raise UserError(f"Only the {side or 'other'} side's admins ({names}) decide on it. Nothing changed.")
    # One decision per proposal, whoever clicks first: a conditional update that only one transaction wins
    # (the engagement's row is locked first, so approvals of two amendments apply one after the other).
    await ctx.session.execute(select(Engagement.id).where(Engagement.id == eng.id).with_for_update())
    won = await ctx.session.execute(
        update(ContractChange)
        .where(ContractChange.id == change.id, ContractChange.status == PENDING)
        .values(status=outcome, decided_by_id=ctx.person.id, decided_at=ctx.now, reason=reason)
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult: UPDATE reports its row count
        await ctx.session.refresh(change)
        return Reply.refuse(f"Amendment #{change.number} was already {change.status}. Nothing changed.")
    await ctx.session.refresh(change)
    await ctx.session.refresh(eng)
    if outcome == "approved":
        for feature in _apply(ctx.core.registry, eng, change.changes):
            await ctx.core.emit(ctx.session, "engagement_settings_changed", engagement=eng, feature=feature)
        await ctx.core.emit(ctx.session, "engagement_settings_changed", engagement=eng, feature="engagement")
    await ctx.core.timers.cancel_prefix(ctx.session, f"{REMIND}:{change.id}:")
    proposer = await ctx.session.get(Person, change.proposed_by_id) if change.proposed_by_id else None
    terms = ctx.core.registry.terms
    await ctx.core.outbox.update(ctx.session, _ref_key(change), _card(terms, change, eng, proposer))
    text = (
        f"Amendment #{change.number} ({terms[change.term].label}: {change.old_text} → {change.new_text}) was "
        f"{outcome} by {mention(ctx.person.id, ctx.person.display_name)} ({side} side)."
        + (" It applies from now; items already filed keep their terms." if outcome == "approved" else "")
    )
    await announce.rule_change(
        ctx,
        eng,
        Card(text=text, tone="good" if outcome == "approved" else "info"),
        entity_type="contract",
        entity_id=change.id,
        action=outcome,
        data={"term": change.term, "from": change.old_text, "to": change.new_text},
        comment=reason,
    )
    verb = "withdrew" if outcome == "withdrawn" else outcome
    return Reply.say(f"You {verb} amendment #{change.number}.", tone="good")


async def _roles(ctx: Ctx, eng: Engagement) -> set[str]:
    m = await membership_of(ctx.session, eng, ctx.person)
    return set(m.roles) if m else set()


async def act_approve(ctx: Ctx, value: str) -> Reply:
    return await _decide(ctx, value, "approved")


async def act_reject(ctx: Ctx, value: str) -> Reply:
    return await _decide(ctx, value, "rejected")


async def act_withdraw(ctx: Ctx, value: str) -> Reply:
    return await _decide(ctx, value, "withdrawn")


async def history(session: AsyncSession, eng: Engagement) -> list[ContractChange]:
    return list(
        await session.scalars(
            select(ContractChange).where(ContractChange.engagement_id == eng.id).order_by(ContractChange.number)
        )
    )


async def contract_command(ctx: Ctx) -> Reply:
    """/cadence contract [approve|reject|withdraw N [reason]] — the terms in force, who agreed each and when,
    and pending proposals; or decide on one by number (for front ends without buttons)."""
    eng = ctx.require_engagement()
    words = ctx.args.split()
    if words:
        verb = words[0].lower()
        outcomes = {"approve": "approved", "reject": "rejected", "withdraw": "withdrawn"}
        if verb not in outcomes or len(words) < 2 or not words[1].lstrip("#").isdigit():
            raise UserError("Usage: `/cadence contract`, or `/cadence contract approve|reject|withdraw 3 [reason]`.")
        found = await ctx.session.scalar(
            select(ContractChange).where(
                ContractChange.engagement_id == eng.id, ContractChange.number == int(words[1].lstrip("#"))
            )
        )
        if found is None:
            raise UserError(f"{eng.key} has no amendment #{words[1].lstrip('#')}.")
        return await _decide(ctx, str(found.id), outcomes[verb], " ".join(words[2:]) or None)
    rows = await history(ctx.session, eng)
    agreed: dict[str, ContractChange] = {}
    for row in rows:
        if row.status in ("approved", "agreed"):
            agreed[row.term] = row
    people = {p.id: p for p in await people_of(ctx.session, rows)}
    terms = ctx.core.registry.terms
    fields = []
    for key, term in terms.items():
        last = agreed.get(key)
        if last is None:
            since = "default, in force since set-up"
        else:
            row = last
            by = people.get(row.proposed_by_id or 0)
            decider = people.get(row.decided_by_id or 0)
            since = f"#{row.number}, proposed by {by.display_name if by else '?'}" + (
                f", approved by {decider.display_name}" if row.status == "approved" and decider else ""
            )
            since += f", {when(row.decided_at or row.proposed_at)}"
        fields.append(Field(term.label, f"{term.show(eng)} ({since})", short=False))
    pending = [r for r in rows if r.status == PENDING]
    sections = [_card(terms, r, eng, people.get(r.proposed_by_id or 0)) for r in pending]
    return Reply(
        private=[
            Card(
                title=f"{eng.key} contract — terms in force",
                fields=fields,
                sections=sections,
                text=f"{plural(len(pending), 'pending proposal')}.",
                footer="Change a term with `/cadence settings` or `/defect policy`; once both sides have an admin, "
                "the other side approves it.",
            )
        ]
    )


async def people_of(session: AsyncSession, rows: list[ContractChange]) -> list[Person]:
    """Who proposed and who decided the amendments `rows`."""
    ids = {i for r in rows for i in (r.proposed_by_id, r.decided_by_id) if i}
    if not ids:
        return []
    return list(await session.scalars(select(Person).where(Person.id.in_(ids))))


async def _schedule_reminder(
    session: AsyncSession, core: Cadence, change: ContractChange, person: Person, now: datetime
) -> None:
    due, day = next_workday_at(person, now, REMINDER_AT)
    await core.timers.schedule(
        session,
        kind=REMIND,
        due_at=due,
        payload={"change_id": change.id, "person_id": person.id},
        # One per proposal, admin and local date: a duplicate is impossible, not unlikely.
        key=f"{REMIND}:{change.id}:{person.id}:{day.isoformat()}",
        engagement_id=change.engagement_id,
    )


async def on_remind(tctx: TimerCtx) -> None:
    """A proposal still waits: remind this admin of the deciding side by DM, and again on their next work day
    (while they are still an admin of that side)."""
    change = await tctx.session.get(ContractChange, int(tctx.payload.get("change_id", 0)))
    if change is None or change.status != PENDING:
        return
    eng = await tctx.session.get(Engagement, change.engagement_id)
    if eng is None:
        return
    deciding = sides.other(change.proposed_side)  # type: ignore[arg-type]
    admin = next(
        (m for m in await sides.admins_of(tctx.session, eng, deciding) if m.person_id == tctx.payload.get("person_id")),
        None,
    )
    if admin is None:  # no longer an admin of that side: the seat's new holder decides
        return
    proposer = await tctx.session.get(Person, change.proposed_by_id) if change.proposed_by_id else None
    await tctx.core.outbox.dm(
        tctx.session,
        admin.person,
        Card(text=f"Reminder: amendment #{change.number} of {eng.key} waits for your side's decision."),
        engagement_id=eng.id,
    )
    card = _card(tctx.core.registry.terms, change, eng, proposer, await deciders(tctx.session, eng, change))
    await tctx.core.outbox.dm(tctx.session, admin.person, card, engagement_id=eng.id)
    await _schedule_reminder(tctx.session, tctx.core, change, admin.person, tctx.now)


def register(registry: Registry) -> None:
    declare_terms(registry)
    registry.add_command(
        "cadence",
        "contract",
        contract_command,
        usage="/cadence contract [approve|reject|withdraw N]",
        summary="the agreed terms, who agreed each and when, and pending amendments",
    )
    registry.add_action("contract.approve", act_approve)
    registry.add_action("contract.reject", act_reject)
    registry.add_action("contract.withdraw", act_withdraw)
    registry.add_timer(REMIND, on_remind)
