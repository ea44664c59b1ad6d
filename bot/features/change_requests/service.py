"""Change-request rules: intake, assessment, approval rounds and decisions, withdrawal, scheduling and
delivery, contingency. Every step goes through `transition()` (the state table in states.py) and is
appended to the audit record; every change refreshes the request's card wherever it was posted."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.change_requests import reminders
from bot.features.change_requests.cards import View, build, ref, ref_key
from bot.features.change_requests.money import Contingency, fmt
from bot.features.change_requests.policy import Policy, Tally, seat_holders, tally
from bot.features.change_requests.settings import FEATURE
from bot.features.change_requests.states import (
    COMMITTED,
    EDITABLE,
    IllegalTransition,
    State,
    check,
    label,
    role_allows,
)
from bot.kernel import audit
from bot.kernel.engagements import feature_settings
from bot.kernel.errors import UserError
from bot.kernel.messages import Button, Card
from bot.kernel.people import away_reason, local_date, membership_of, memberships, zone
from bot.kernel.rows import must_get
from bot.kernel.text import day_text, when
from bot.kernel.text import person as mention
from storage.models import Engagement, Person, Timer
from storage.models.change_requests import ChangeRequest, ChangeRequestDecision

if TYPE_CHECKING:
    from bot.kernel.core import Cadence

ENTITY = "change_request"

ID_RE = re.compile(r"^(?:([A-Za-z][A-Za-z0-9]{1,9})-)?(?:CR-?)?#?(\d{1,9})$", re.IGNORECASE)


def settings(engagement: Engagement) -> dict[str, Any]:
    """The engagement's change-request settings (defaults merged: settings.py, registered by commands.register)."""
    return feature_settings(engagement, FEATURE)


def current_policy(engagement: Engagement) -> Policy:
    s = settings(engagement)
    return Policy.from_dict({"groups": s["groups"], "both_sides_required": s["both_sides_required"]})


def policy_of(cr: ChangeRequest, engagement: Engagement) -> Policy:
    """The policy of the request's current round (copied in when the round started)."""
    return Policy.from_dict(cr.policy) if cr.policy else current_policy(engagement)


# -- look-ups ---------------------------------------------------------------------------------------


async def load(session: AsyncSession, request_id: int, *, lock: bool = False) -> ChangeRequest | None:
    """A request by id; with `lock`, its row is locked until the transaction ends (SELECT … FOR UPDATE)."""
    q = select(ChangeRequest).where(ChangeRequest.id == request_id).execution_options(populate_existing=True)
    if lock:
        # FOR NO KEY UPDATE: serialises writers of the row like FOR UPDATE, but does not wait on the
        # KEY SHARE locks that inserting rows referencing it takes (decisions, audit), so a transaction that
        # did such an insert first cannot deadlock upgrading its lock (see lock_engagement).
        q = q.with_for_update(key_share=True)
    return await session.scalar(q)


async def lock_engagement(session: AsyncSession, engagement_id: int) -> None:
    """Lock the engagement's row until the transaction ends (a no-op on SQLite, where writers queue).
    Lock order everywhere: engagement, then request. FOR NO KEY UPDATE, not FOR UPDATE: a transaction that
    already inserted a row referencing the engagement (a timer, an audit entry: the foreign key takes KEY
    SHARE) must not deadlock with another that did the same — two KEY SHARE holders both asking for FOR
    UPDATE was 20 first-time approvers' deadlock (issue 17)."""
    await session.execute(select(Engagement.id).where(Engagement.id == engagement_id).with_for_update(key_share=True))


async def find(session: AsyncSession, engagement: Engagement, token: str, *, lock: bool = False) -> ChangeRequest:
    """`ACME-CR-7`, `CR-7`, `#7` or `7` in `engagement`; UserError if there is no such request."""
    raw = (token or "").strip()
    m = ID_RE.match(raw)
    if not m:
        raise UserError(f"“{raw[:40]}” is not a change request id; use one like `{engagement.key}-CR-7` or `7`.")
    key, number = m.group(1), int(m.group(2))
    if key and key.upper() not in (engagement.key.upper(), "CR"):
        raise UserError(f"{raw} is not a change request of {engagement.key}.")
    cr = await session.scalar(
        select(ChangeRequest).where(ChangeRequest.engagement_id == engagement.id, ChangeRequest.number == number)
    )
    if cr is None:
        raise UserError(f"There is no change request {engagement.key}-CR-{number}.")
    if lock:
        cr = await load(session, cr.id, lock=True)
        if cr is None:
            raise UserError(f"There is no change request {engagement.key}-CR-{number}.")
    return cr


async def member_roles(session: AsyncSession, engagement: Engagement) -> dict[int, list[str]]:
    return {m.person_id: list(m.roles or []) for m in await memberships(session, engagement)}


async def round_decisions(session: AsyncSession, cr: ChangeRequest) -> list[ChangeRequestDecision]:
    rows = await session.scalars(
        select(ChangeRequestDecision)
        .where(ChangeRequestDecision.request_id == cr.id, ChangeRequestDecision.round == cr.round)
        .order_by(ChangeRequestDecision.at, ChangeRequestDecision.id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def tally_of(session: AsyncSession, cr: ChangeRequest, engagement: Engagement) -> Tally:
    decisions = {d.approver_id: d.decision for d in await round_decisions(session, cr)}
    return tally(policy_of(cr, engagement), await member_roles(session, engagement), cr.requester_id, decisions)


async def committed(session: AsyncSession, engagement: Engagement, *, exclude: int | None = None) -> Decimal:
    """Approved cost drawn from the contingency (approved, scheduled and delivered requests)."""
    q = select(func.coalesce(func.sum(ChangeRequest.cost), 0)).where(
        ChangeRequest.engagement_id == engagement.id, ChangeRequest.state.in_([s.value for s in COMMITTED])
    )
    if exclude is not None:
        q = q.where(ChangeRequest.id != exclude)
    return Decimal(str(await session.scalar(q) or 0)).quantize(Decimal("0.01"))


async def contingency(session: AsyncSession, engagement: Engagement, *, exclude: int | None = None) -> Contingency:
    budget = Decimal(str(engagement.budget)) if engagement.budget is not None else None
    return Contingency.of(budget, engagement.contingency_pct, await committed(session, engagement, exclude=exclude))


async def people(session: AsyncSession, ids: set[int]) -> dict[int, Person]:
    out = {}
    for pid in ids:
        p = await session.get(Person, pid)
        if p is not None:
            out[pid] = p
    return out


async def view(session: AsyncSession, cr: ChangeRequest, engagement: Engagement, now: datetime) -> View:
    """Everything the request's card shows."""
    decisions = await round_decisions(session, cr)
    pol = policy_of(cr, engagement)
    t = None
    if cr.state not in (State.SUBMITTED, State.ASSESSED, State.WITHDRAWN):
        t = tally(
            pol,
            await member_roles(session, engagement),
            cr.requester_id,
            {d.approver_id: d.decision for d in decisions},
        )
    ids = {cr.requester_id} | {d.approver_id for d in decisions} | {d.decided_by_id for d in decisions}
    if cr.assessed_by_id:
        ids.add(cr.assessed_by_id)
    if t is not None:
        ids |= set(t.approvers())
    ppl = await people(session, ids)
    away = {}
    if cr.state == State.PENDING_APPROVAL and t is not None:
        for pid in t.approvers():
            p = ppl.get(pid)
            reason = away_reason(p, local_date(p, now)) if p else None
            if reason:
                away[pid] = reason
    # A committed request's own cost is already in the committed sum.
    cont = await contingency(session, engagement)
    return View(
        cr=cr,
        engagement=engagement,
        people=ppl,
        policy=pol,
        tally=t,
        decisions=decisions,
        contingency=cont,
        currency=settings(engagement).get("currency") or "",
        away=away,
    )


async def card(session: AsyncSession, cr: ChangeRequest, engagement: Engagement, now: datetime) -> Card:
    return build(await view(session, cr, engagement, now))


async def refresh_card(
    session: AsyncSession, core: Cadence, cr: ChangeRequest, engagement: Engagement, now: datetime
) -> Card:
    """Edit the request's card in place everywhere it was posted (channel and DMs)."""
    c = await card(session, cr, engagement, now)
    await core.outbox.update(session, ref_key(cr), c)
    return c


async def refresh_open_cards(
    session: AsyncSession, core: Cadence, engagement: Engagement, now: datetime, *, skip: int | None = None
) -> None:
    """Contingency figures changed: refresh the cards of requests still awaiting a decision."""
    rows = await session.scalars(
        select(ChangeRequest).where(
            ChangeRequest.engagement_id == engagement.id,
            ChangeRequest.state.in_([s.value for s in EDITABLE]),
        )
    )
    for cr in rows:
        if cr.id != skip:
            await refresh_card(session, core, cr, engagement, now)


# -- transitions ------------------------------------------------------------------------------------


async def transition(
    session: AsyncSession,
    *,
    cr: ChangeRequest,
    engagement: Engagement,
    action: str,
    actor: Person | None,
    now: datetime,
    comment: str | None = None,
    on_behalf_of: Person | None = None,
    data: dict[str, Any] | None = None,
) -> State:
    """Move `cr` by `action` if the state table allows it (UserError with the reason otherwise) and
    append the step to the audit record."""
    try:
        target = check(cr.state, action, ref=ref(engagement, cr))
    except IllegalTransition as exc:
        raise UserError(str(exc)) from None
    before = cr.state
    cr.state = target.value
    cr.updated_at = now
    await audit.record(
        session,
        now=now,
        engagement_id=engagement.id,
        entity_type=ENTITY,
        entity_id=cr.id,
        action=action,
        from_state=before,
        to_state=target.value,
        actor=actor,
        comment=comment,
        data={"ref": ref(engagement, cr), **(data or {})},
        on_behalf_of=on_behalf_of,
    )
    return target


async def note(
    session: AsyncSession,
    *,
    cr: ChangeRequest,
    engagement: Engagement,
    action: str,
    actor: Person | None,
    now: datetime,
    comment: str | None = None,
    data: dict[str, Any] | None = None,
    on_behalf_of: Person | None = None,
) -> None:
    """Record an event that does not change the state (an estimate revised, approvals reset, …)."""
    await audit.record(
        session,
        now=now,
        engagement_id=engagement.id,
        entity_type=ENTITY,
        entity_id=cr.id,
        action=action,
        from_state=cr.state,
        to_state=cr.state,
        actor=actor,
        comment=comment,
        data={"ref": ref(engagement, cr), **(data or {})},
        on_behalf_of=on_behalf_of,
    )


def require_step(action: str, cr: ChangeRequest, engagement: Engagement, roles: set[str], person: Person) -> None:
    """Refuse (UserError) unless `person` may take `action`, and the state allows it."""
    try:
        check(cr.state, action, ref=ref(engagement, cr))
    except IllegalTransition as exc:
        raise UserError(str(exc)) from None
    if not role_allows(action, roles, is_requester=cr.requester_id == person.id):
        if action == "withdraw":
            raise UserError(f"Only the requester can withdraw {ref(engagement, cr)}.")
        raise UserError(
            f"Only the vendor PM or vendor lead can do that on {ref(engagement, cr)}; "
            f"your roles here: {', '.join(sorted(roles)) or 'none'}."
        )


async def roles_of(session: AsyncSession, engagement: Engagement, person: Person) -> set[str] | None:
    """The person's roles in `engagement`, or None if they are not a member."""
    m = await membership_of(session, engagement, person)
    return None if m is None else set(m.roles or [])


# -- intake -----------------------------------------------------------------------------------------


async def create(
    session: AsyncSession,
    core: Cadence,
    *,
    engagement: Engagement,
    requester: Person,
    now: datetime,
    title: str,
    description: str,
    business_reason: str,
    priority: str,
    wanted_by: date | None,
    from_standup_answer_id: int | None = None,
) -> ChangeRequest:
    """File a new request (state submitted), post its card in the home channel, tell the vendor PM."""
    # Numbers are per engagement: lock the engagement row so two filings never take the same one.
    await lock_engagement(session, engagement.id)
    number = (
        await session.scalar(select(func.max(ChangeRequest.number)).where(ChangeRequest.engagement_id == engagement.id))
        or 0
    ) + 1
    cr = ChangeRequest(
        engagement_id=engagement.id,
        number=number,
        title=title,
        description=description,
        business_reason=business_reason,
        priority=priority,
        wanted_by=wanted_by,
        requester_id=requester.id,
        state=State.SUBMITTED.value,
        round=1,
        policy={},
        from_standup_answer_id=from_standup_answer_id,
        created_at=now,
        updated_at=now,
    )
    session.add(cr)
    await session.flush()
    await audit.record(
        session,
        now=now,
        engagement_id=engagement.id,
        entity_type=ENTITY,
        entity_id=cr.id,
        action="submit",
        from_state=None,
        to_state=State.SUBMITTED.value,
        actor=requester,
        data={
            "ref": ref(engagement, cr),
            "title": title,
            "priority": priority,
            "wanted_by": wanted_by.isoformat() if wanted_by else None,
            "from_standup_answer_id": from_standup_answer_id,
        },
    )
    c = await card(session, cr, engagement, now)
    await core.outbox.post_home(session, engagement, c, ref_key=ref_key(cr))
    roles = await member_roles(session, engagement)
    for pid, r in roles.items():
        if "vendor_pm" in r and pid != requester.id:
            p = await must_get(session, Person, pid)
            await core.outbox.dm(
                session,
                p,
                Card(
                    title=f"New change request to assess: {ref(engagement, cr)}",
                    text=f"{mention(requester.id, requester.display_name)} asks for “{title}”. "
                    f"Add the impact estimate with `/cr assess {ref(engagement, cr)}`.",
                    buttons=[Button("Assess impact", "cr.assess", str(cr.id), "primary")],
                ),
                engagement_id=engagement.id,
            )
    return cr


SCOPE_FIELDS = ("title", "description", "business_reason", "priority", "wanted_by")
ESTIMATE_FIELDS = ("effort_hours", "cost", "schedule_impact_days", "risk", "assessment_notes")


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _diff(cr: ChangeRequest, changes: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [_plain(getattr(cr, k)), _plain(v)] for k, v in changes.items() if getattr(cr, k) != v}


async def edit_scope(
    session: AsyncSession,
    core: Cadence,
    *,
    cr: ChangeRequest,
    engagement: Engagement,
    actor: Person,
    roles: set[str],
    now: datetime,
    changes: dict[str, Any],
) -> str:
    """Change title, description, reason, priority or wanted-by; after an approval, approvals reset."""
    r = ref(engagement, cr)
    if cr.state not in EDITABLE:
        raise UserError(
            f"{r} is {label(cr.state).lower()}; its scope can no longer be changed "
            "(only before a decision). File a new change request instead."
        )
    if actor.id != cr.requester_id and not roles & {"client_pm", "client_sponsor", "vendor_pm"}:
        raise UserError(f"Only the requester, the client sponsor or a PM can change the scope of {r}.")
    diff = _diff(cr, {k: v for k, v in changes.items() if k in SCOPE_FIELDS})
    if not diff:
        return f"Nothing changed in {r}."
    for k in diff:
        setattr(cr, k, changes[k])
    cr.updated_at = now
    await note(
        session,
        cr=cr,
        engagement=engagement,
        action="edit_scope",
        actor=actor,
        now=now,
        data={"changes": diff, "round": cr.round},
    )
    msg = f"Scope of {r} updated ({', '.join(k.replace('_', ' ') for k in diff)})."
    if cr.state == State.PENDING_APPROVAL and await reset_if_approved(
        session, core, cr=cr, engagement=engagement, actor=actor, now=now, why="scope changed"
    ):
        return msg + " Earlier approvals no longer count; the approvers are asked again."
    await refresh_card(session, core, cr, engagement, now)
    return msg


async def assess(
    session: AsyncSession,
    core: Cadence,
    *,
    cr: ChangeRequest,
    engagement: Engagement,
    actor: Person,
    roles: set[str],
    now: datetime,
    estimate: dict[str, Any],
) -> str:
    """The vendor's impact estimate: first assessment sends the request for approval; a revised
    estimate on a pending request resets any approvals."""
    r = ref(engagement, cr)
    if not roles & {"vendor_pm", "vendor_lead"}:
        raise UserError(
            f"Only the vendor PM or vendor lead can assess {r}; your roles here: {', '.join(sorted(roles)) or 'none'}."
        )
    if cr.state == State.PENDING_APPROVAL:
        diff = _diff(cr, estimate)
        if not diff:
            return f"The estimate of {r} is unchanged."
        for k, v in estimate.items():
            setattr(cr, k, v)
        cr.assessed_by_id, cr.assessed_at, cr.updated_at = actor.id, now, now
        await note(
            session,
            cr=cr,
            engagement=engagement,
            action="revise_estimate",
            actor=actor,
            now=now,
            data={"changes": diff, "round": cr.round},
        )
        msg = f"Estimate of {r} revised."
        if await reset_if_approved(
            session, core, cr=cr, engagement=engagement, actor=actor, now=now, why="estimate revised"
        ):
            return msg + " Earlier approvals no longer count; the approvers are asked again."
        await refresh_card(session, core, cr, engagement, now)
        return msg
    require_step("assess", cr, engagement, roles, actor)
    for k, v in estimate.items():
        setattr(cr, k, v)
    cr.assessed_by_id, cr.assessed_at = actor.id, now
    await transition(
        session,
        cr=cr,
        engagement=engagement,
        action="assess",
        actor=actor,
        now=now,
        data={"estimate": {k: _plain(v) for k, v in estimate.items()}},
    )
    t = await start_approval(session, core, cr=cr, engagement=engagement, now=now)
    msg = f"{r} assessed and sent for approval."
    if t.problems:
        msg += " ⚠️ " + " ".join(t.problems)
    return msg


# -- approval rounds --------------------------------------------------------------------------------


async def start_approval(
    session: AsyncSession, core: Cadence, *, cr: ChangeRequest, engagement: Engagement, now: datetime
) -> Tally:
    """assessed → pending_approval (automatic): copy the policy in, ask every approver."""
    cr.policy = current_policy(engagement).to_dict()
    cr.pending_since = now
    await transition(
        session,
        cr=cr,
        engagement=engagement,
        action="request_approval",
        actor=None,
        now=now,
        data={"policy": cr.policy, "round": cr.round},
    )
    return await ask_approvers(session, core, cr=cr, engagement=engagement, now=now, again=False)


async def reset_if_approved(
    session: AsyncSession,
    core: Cadence,
    *,
    cr: ChangeRequest,
    engagement: Engagement,
    actor: Person,
    now: datetime,
    why: str,
) -> bool:
    """Scope or estimate changed on a pending request: if anyone approved in this round, start a new
    round (earlier decisions stay on record but no longer count) and ask everyone again."""
    decisions = await round_decisions(session, cr)
    if not any(d.decision == "approve" for d in decisions):
        return False
    old = cr.round
    cr.round = old + 1
    cr.policy = current_policy(engagement).to_dict()
    cr.pending_since = now
    cr.updated_at = now
    await note(
        session,
        cr=cr,
        engagement=engagement,
        action="approvals_reset",
        actor=actor,
        now=now,
        comment=why,
        data={
            "from_round": old,
            "round": cr.round,
            "voided": [{"approver_id": d.approver_id, "decision": d.decision} for d in decisions],
        },
    )
    await reminders.cancel_all(session, core, cr)
    await ask_approvers(session, core, cr=cr, engagement=engagement, now=now, again=True, why=why)
    return True


async def ask_approvers(
    session: AsyncSession,
    core: Cadence,
    *,
    cr: ChangeRequest,
    engagement: Engagement,
    now: datetime,
    again: bool,
    why: str = "",
) -> Tally:
    """Edit the card in place, then DM it to each approver (and to the delegate of one who is away),
    and schedule their daily reminders and the escalation."""
    t = await tally_of(session, cr, engagement)
    c = await refresh_card(session, core, cr, engagement, now)
    r = ref(engagement, cr)
    holders = [await must_get(session, Person, pid) for pid in t.approvers()]
    for p in holders:
        intro = (
            f"{r} changed ({why}); your earlier decision no longer counts. Please decide again."
            if again
            else f"Your decision is needed on {r}."
        )
        await core.outbox.dm(session, p, Card(text=intro, tone="warning"), engagement_id=engagement.id)
        await core.outbox.dm(session, p, c, ref_key=ref_key(cr), engagement_id=engagement.id)
        reason = away_reason(p, local_date(p, now))
        if reason and p.delegate_id:
            delegate = await session.get(Person, p.delegate_id)
            if delegate is not None and delegate.id != cr.requester_id:
                await core.outbox.dm(
                    session,
                    delegate,
                    Card(
                        text=f"{mention(p.id, p.display_name)} is away ({reason}); as their delegate you can decide "
                        f"on {r} on their behalf.",
                        tone="warning",
                    ),
                    engagement_id=engagement.id,
                )
                await core.outbox.dm(session, delegate, c, ref_key=ref_key(cr), engagement_id=engagement.id)
    await reminders.schedule_round(session, core, cr=cr, engagement=engagement, approvers=holders, now=now)
    return t


# -- decisions --------------------------------------------------------------------------------------


@dataclass
class Seat:
    """A place in the quorum a click fills: the clicker's own, or an away approver's (as delegate)."""

    approver: Person
    away: str | None = None  # why the approver is away, when a delegate decides


async def seats_for(
    session: AsyncSession, *, cr: ChangeRequest, engagement: Engagement, clicker: Person, now: datetime
) -> tuple[list[Seat], str]:
    """The seats `clicker` may fill on `cr` now, or ([], why not)."""
    r = ref(engagement, cr)
    members = await member_roles(session, engagement)
    pol = policy_of(cr, engagement)
    if clicker.id not in members:
        return [], f"You are not a member of {engagement.key}, so you can't decide on {r}. Nothing changed."
    if clicker.id == cr.requester_id:
        return [], (
            f"You requested {r}, so you can't approve or reject it: the requester never counts as an "
            "approver of their own request. Nothing changed."
        )
    holders = seat_holders(pol, members, cr.requester_id)
    seats: list[Seat] = []
    if clicker.id in holders:
        seats.append(Seat(approver=clicker))
    not_away = []
    for pid in holders:
        if pid == clicker.id:
            continue
        p = await session.get(Person, pid)
        if p is None or p.delegate_id != clicker.id:
            continue
        reason = away_reason(p, local_date(p, now))
        if reason:
            seats.append(Seat(approver=p, away=reason))
        else:
            not_away.append(p.display_name)
    if seats:
        return seats, ""
    if not_away:
        return [], (
            f"You are the delegate of {', '.join(not_away)}, who is not away today, so they decide on "
            f"{r} themselves. Nothing changed."
        )
    groups = "; ".join(f"{g.name} side: {', '.join(x.replace('_', ' ') for x in g.roles)}" for g in pol.groups)
    mine = ", ".join(sorted(members.get(clicker.id, []))) or "none"
    return [], (
        f"Only approvers can approve or reject {r} ({groups}). Your roles in {engagement.key}: {mine}. Nothing changed."
    )


def _verb(decision: str) -> str:
    return "approved" if decision == "approve" else "rejected"


async def decide(
    session: AsyncSession,
    core: Cadence,
    *,
    request_id: int,
    clicker: Person,
    decision: str,
    now: datetime,
    comment: str | None = None,
) -> str:
    """One approver's Approve or Reject (the same click fills the seats of any away approver whose
    delegate they are). Harmless when repeated or when the request is already decided.
    Returns what to tell the clicker; raises UserError to refuse."""
    assert decision in ("approve", "reject")
    cr = await load(session, request_id)
    if cr is None:
        raise UserError("That change request no longer exists. Nothing changed.")
    # Lock the engagement, then the request (always in that order, as role changes do): concurrent
    # decisions queue here, and each sees the others' rows.
    await lock_engagement(session, cr.engagement_id)
    cr = await load(session, request_id, lock=True)
    if cr is None:
        raise UserError("That change request no longer exists. Nothing changed.")
    engagement = await must_get(session, Engagement, cr.engagement_id)
    r = ref(engagement, cr)
    if cr.state != State.PENDING_APPROVAL:
        mine = await session.scalar(
            select(ChangeRequestDecision).where(
                ChangeRequestDecision.request_id == cr.id,
                ChangeRequestDecision.decided_by_id == clicker.id,
                ChangeRequestDecision.round == cr.round,
            )
        )
        if mine is not None:
            return (
                f"You already {_verb(mine.decision)} {r} ({when(mine.at)}); it is now "
                f"{label(cr.state).lower()}. Nothing changed."
            )
        if cr.state in (State.SUBMITTED, State.ASSESSED):
            return f"{r} is not waiting for approval yet (it is {label(cr.state).lower()}). Nothing changed."
        decided = f" ({when(cr.decided_at)})" if cr.decided_at else ""
        return f"{r} is already {label(cr.state).lower()}{decided}. Nothing changed."
    seats, why_not = await seats_for(session, cr=cr, engagement=engagement, clicker=clicker, now=now)
    if not seats:
        raise UserError(why_not)
    existing = {d.approver_id: d for d in await round_decisions(session, cr)}
    todo = [s for s in seats if s.approver.id not in existing]
    if not todo:
        d = existing[seats[0].approver.id]
        t = await tally_of(session, cr, engagement)
        if decision == "approve" and d.decision == "approve" and t.approved:
            # Complete only because someone lost their role: a role change never decides, a click does.
            await finish(
                session,
                core,
                cr=cr,
                engagement=engagement,
                action="approve",
                actor=clicker,
                now=now,
                comment=comment or "confirmed after a role change",
                on_behalf_of=None,
            )
            return f"You confirmed: {r} is approved."
        return f"You already {_verb(d.decision)} {r} ({when(d.at)}). Nothing changed."
    if decision == "reject" and not (comment or "").strip():
        raise UserError("A rejection needs a reason.", field="reason")
    recorded: list[Seat] = []
    for seat in todo:
        try:
            async with session.begin_nested():
                session.add(
                    ChangeRequestDecision(
                        request_id=cr.id,
                        round=cr.round,
                        approver_id=seat.approver.id,
                        decided_by_id=clicker.id,
                        decision=decision,
                        comment=comment or None,
                        at=now,
                    )
                )
                await session.flush()
        except IntegrityError:
            continue  # the same seat was filled a moment ago: one decision per approver per round
        recorded.append(seat)
        await note(
            session,
            cr=cr,
            engagement=engagement,
            action=decision,
            actor=clicker,
            now=now,
            comment=comment,
            on_behalf_of=seat.approver if seat.away else None,
            data={"round": cr.round, "decision": decision, **({"approver_away": seat.away} if seat.away else {})},
        )
        await reminders.cancel_for(session, core, cr, seat.approver.id)
    if not recorded:
        return f"Your decision on {r} was already recorded. Nothing changed."
    behalf = [s.approver.display_name for s in recorded if s.away]
    msg = f"You {_verb(decision)} {r}" + (f" on behalf of {', '.join(behalf)}" if behalf else "") + "."
    cr.updated_at = now
    t = await tally_of(session, cr, engagement)
    if t.rejected:
        await finish(
            session,
            core,
            cr=cr,
            engagement=engagement,
            action="reject",
            actor=clicker,
            now=now,
            comment=comment,
            on_behalf_of=recorded[0].approver if recorded[0].away else None,
        )
        msg += f" {r} is rejected."
    elif t.approved:
        await finish(
            session,
            core,
            cr=cr,
            engagement=engagement,
            action="approve",
            actor=clicker,
            now=now,
            comment=comment,
            on_behalf_of=recorded[0].approver if recorded[0].away else None,
        )
        msg += f" Quorum reached: {r} is approved."
    else:
        waiting = [await must_get(session, Person, pid) for pid in t.waiting_for()]
        if waiting:
            msg += " Still waiting for " + ", ".join(p.display_name for p in waiting) + "."
        if t.problems:
            msg += " ⚠️ " + " ".join(t.problems)
        await refresh_card(session, core, cr, engagement, now)
    return msg


async def finish(
    session: AsyncSession,
    core: Cadence,
    *,
    cr: ChangeRequest,
    engagement: Engagement,
    action: str,
    actor: Person | None,
    now: datetime,
    comment: str | None,
    on_behalf_of: Person | None,
) -> None:
    """The round's outcome: approved (cost drawn from the contingency) or rejected."""
    r = ref(engagement, cr)
    cont_before = None
    if action == "approve":
        # Approvals are serialised per engagement, so the contingency figures and the 80 % warning are exact.
        await lock_engagement(session, engagement.id)
        cont_before = await contingency(session, engagement, exclude=cr.id)
    await transition(
        session,
        cr=cr,
        engagement=engagement,
        action=action,
        actor=actor,
        now=now,
        comment=comment if action == "reject" or actor is None else None,
        on_behalf_of=on_behalf_of,
        data={"round": cr.round, "cost": _plain(cr.cost)},
    )
    cr.decided_at = now
    if action == "reject":
        cr.decision_comment = comment
    await reminders.cancel_all(session, core, cr)
    await refresh_card(session, core, cr, engagement, now)
    requester = await must_get(session, Person, cr.requester_id)
    outcome = "approved ✅" if action == "approve" else f"rejected ❌ — “{comment}”"
    await core.outbox.dm(
        session,
        requester,
        Card(
            text=f"Your change request {r} “{cr.title}” was {outcome}.",
            tone="good" if action == "approve" else "danger",
        ),
        engagement_id=engagement.id,
    )
    if action == "approve" and cr.cost:
        warn = int(settings(engagement).get("contingency_warn_pct") or 80)
        if cont_before is not None and cont_before.crosses(cr.cost, warn):
            after = await contingency(session, engagement)
            currency = settings(engagement).get("currency") or ""
            ratio = after.ratio() or Decimal(0)
            await core.outbox.post_home(
                session,
                engagement,
                Card(
                    title=f"⚠️ {ratio * 100:.0f} % of the {engagement.key} contingency is committed",
                    text=f"With {r} approved, {fmt(after.committed, currency)} of the {fmt(after.fund, currency)} "
                    f"contingency is committed; {fmt(after.remaining, currency)} remains.",
                    tone="warning",
                ),
            )
            await audit.record(
                session,
                now=now,
                engagement_id=engagement.id,
                entity_type="engagement",
                entity_id=engagement.id,
                action="contingency_warning",
                actor=None,
                data={"ref": r, "threshold_pct": warn, "committed": str(after.committed), "fund": str(after.fund)},
            )
        await refresh_open_cards(session, core, engagement, now, skip=cr.id)


async def withdraw(
    session: AsyncSession,
    core: Cadence,
    *,
    cr: ChangeRequest,
    engagement: Engagement,
    actor: Person,
    roles: set[str],
    now: datetime,
    comment: str | None,
) -> str:
    require_step("withdraw", cr, engagement, roles, actor)
    await transition(session, cr=cr, engagement=engagement, action="withdraw", actor=actor, now=now, comment=comment)
    cr.decided_at = now
    cr.decision_comment = comment
    await reminders.cancel_all(session, core, cr)
    await refresh_card(session, core, cr, engagement, now)
    return f"{ref(engagement, cr)} is withdrawn."


async def schedule(
    session: AsyncSession,
    core: Cadence,
    *,
    cr: ChangeRequest,
    engagement: Engagement,
    actor: Person,
    roles: set[str],
    now: datetime,
    scheduled_for: date | None,
    comment: str | None,
) -> str:
    require_step("schedule", cr, engagement, roles, actor)
    today = now.astimezone(zone(actor)).date()
    if scheduled_for is not None and scheduled_for < today:
        raise UserError(
            f"{day_text(scheduled_for)} is in the past (today is {day_text(today)} in {zone(actor).key}); "
            "schedule the delivery for today or later. Nothing was changed."
        )
    before = cr.scheduled_for
    if cr.state == State.SCHEDULED.value and scheduled_for is None:
        raise UserError(f"{ref(engagement, cr)} is already scheduled; give the new date to move it.")
    cr.scheduled_for = scheduled_for
    await transition(
        session,
        cr=cr,
        engagement=engagement,
        action="schedule",
        actor=actor,
        now=now,
        comment=comment,
        data={"scheduled_for": _plain(scheduled_for), "previously": _plain(before)},
    )
    await refresh_card(session, core, cr, engagement, now)
    moved = f" (was {day_text(before)})" if before is not None and before != scheduled_for else ""
    return f"{ref(engagement, cr)} is scheduled" + (f" for {day_text(scheduled_for)}{moved}." if scheduled_for else ".")


async def deliver(
    session: AsyncSession,
    core: Cadence,
    *,
    cr: ChangeRequest,
    engagement: Engagement,
    actor: Person,
    roles: set[str],
    now: datetime,
    comment: str | None,
) -> str:
    require_step("deliver", cr, engagement, roles, actor)
    await transition(session, cr=cr, engagement=engagement, action="deliver", actor=actor, now=now, comment=comment)
    await refresh_card(session, core, cr, engagement, now)
    return f"{ref(engagement, cr)} is delivered."


async def membership_changed(
    session: AsyncSession, core: Cadence, *, engagement: Engagement, person: Person, now: datetime
) -> None:
    """Roles changed: a new approver of a waiting request is asked (and reminded). A change of roles never
    decides: a request whose remaining approvers have all approved stays waiting until one of them confirms
    with a click, and the channel is told who it now waits for."""
    await lock_engagement(session, engagement.id)
    pending = list(
        await session.scalars(
            select(ChangeRequest.id).where(
                ChangeRequest.engagement_id == engagement.id, ChangeRequest.state == State.PENDING_APPROVAL.value
            )
        )
    )
    for cr_id in pending:
        cr = await load(session, cr_id, lock=True)
        if cr is None or cr.state != State.PENDING_APPROVAL:
            continue
        t = await tally_of(session, cr, engagement)
        decided = {d.approver_id for d in await round_decisions(session, cr)}
        c = await refresh_card(session, core, cr, engagement, now)
        was_waiting_on = await _was_waiting_on(session, cr, person)
        if was_waiting_on and person.id not in t.approvers():
            if t.approved:
                text = (
                    f"{ref(engagement, cr)}: {mention(person.id, person.display_name)} no longer decides it. A role "
                    "change never completes a quorum: every remaining approver has approved, and the request is "
                    "approved when one of them confirms with Approve."
                )
            else:
                names = [
                    mention(p.id, p.display_name)
                    for p in [await session.get(Person, pid) for pid in t.waiting_for()]
                    if p is not None
                ]
                text = (
                    f"{ref(engagement, cr)}: {mention(person.id, person.display_name)} no longer decides it; it now "
                    f"waits for {', '.join(names) or 'a new approver to be seated'}."
                )
            await core.outbox.post_home(session, engagement, Card(text=text, tone="warning"))
            await reminders.cancel_for(session, core, cr, person.id)
        if person.id in t.approvers() and person.id not in decided:
            await core.outbox.dm(
                session,
                person,
                Card(text=f"Your decision is needed on {ref(engagement, cr)}.", tone="warning"),
                engagement_id=engagement.id,
            )
            await core.outbox.dm(session, person, c, ref_key=ref_key(cr), engagement_id=engagement.id)
            await reminders.schedule_round(session, core, cr=cr, engagement=engagement, approvers=[person], now=now)


async def _was_waiting_on(session: AsyncSession, cr: ChangeRequest, person: Person) -> bool:
    """Whether `person` had a pending reminder on `cr` (they were one of its undecided approvers)."""
    prefix = f"{reminders.REMIND}:{cr.id}:{person.id}:"
    return bool(
        await session.scalar(select(Timer.id).where(Timer.key.startswith(prefix), Timer.status == "pending").limit(1))
    )


async def person_changed(session: AsyncSession, core: Cadence, *, person: Person, now: datetime) -> None:
    """An approver's zone or absences changed: their reminders are re-planned at their new local 10:00,
    and the cards of requests waiting for them show whether they are away."""
    engagement_ids = list(
        await session.scalars(
            select(ChangeRequest.engagement_id).where(ChangeRequest.state == State.PENDING_APPROVAL.value).distinct()
        )
    )
    for eid in engagement_ids:
        engagement = await must_get(session, Engagement, eid)
        if await roles_of(session, engagement, person) is None:
            continue
        rows = list(
            await session.scalars(
                select(ChangeRequest).where(
                    ChangeRequest.engagement_id == eid, ChangeRequest.state == State.PENDING_APPROVAL.value
                )
            )
        )
        for cr in rows:
            t = await tally_of(session, cr, engagement)
            if person.id not in t.waiting_for():
                continue
            await reminders.cancel_for(session, core, cr, person.id)
            at = reminders.reminder_time(settings(engagement))
            await reminders.schedule_reminder(session, core, cr=cr, person=person, now=now, at=at)
            await refresh_card(session, core, cr, engagement, now)
