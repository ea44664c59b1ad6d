"""Change-request rules: intake, assessment, approval rounds and decisions, withdrawal, scheduling and
delivery, contingency, questions, the approval policy and settings, delegation. Every step goes through
`transition()` (the state table in states.py) and is appended to the audit record; every change refreshes the
request's card wherever it was posted. Read-only look-ups are in queries.py, the cards in cards.py, the
reminder and escalation timers in timers.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.change_requests import timers
from bot.features.change_requests.cards import card, ref, ref_key
from bot.features.change_requests.money import fmt
from bot.features.change_requests.policy import Minor, PolicyError, Tally, seat_holders
from bot.features.change_requests.queries import (
    ENTITY,
    contingency,
    current_policy,
    has_amounts,
    load,
    member_roles,
    my_decision,
    policy_of,
    roles_of,
    round_decisions,
    settings,
    tally_of,
)
from bot.features.change_requests.settings import DEFAULTS
from bot.features.change_requests.states import (
    EDITABLE,
    IllegalTransition,
    State,
    check,
    label,
    role_allows,
)
from bot.features.milestones import service as milestones
from bot.kernel import announce, audit, contract, engagements, sides
from bot.kernel.engagements import update_feature_settings
from bot.kernel.errors import UserError
from bot.kernel.messages import Button, Card
from bot.kernel.people import away_reason, local_date, zone
from bot.kernel.rows import get_or_refuse, must_get
from bot.kernel.text import day_text, truncate, when
from bot.kernel.text import person as mention
from storage.models import Engagement, Person, Timer
from storage.models.change_requests import ChangeRequest, ChangeRequestDecision
from storage.models.milestones import Milestone

if TYPE_CHECKING:
    from bot.kernel.context import Ctx
    from bot.kernel.dispatcher import Cadence

# -- locks and cards --------------------------------------------------------------------------------


async def lock_engagement(session: AsyncSession, engagement_id: int) -> None:
    """Lock order everywhere: engagement, then request (bot/kernel/engagements.py: lock)."""
    await engagements.lock(session, engagement_id)


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
    defect_id: int | None = None,
) -> ChangeRequest:
    """File a new request (state submitted), post its card in the home channel, tell the vendor PM."""
    number = await engagements.next_number(session, engagement.id, ChangeRequest.number, ChangeRequest.engagement_id)
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
        defect_id=defect_id,
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
            **({"from_defect_id": defect_id} if defect_id else {}),
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


def may_open_assessment(cr: ChangeRequest, engagement: Engagement, roles: set[str]) -> None:
    """Refuse (UserError) opening the estimate form unless a vendor PM or lead can still change the estimate."""
    if not roles & {"vendor_pm", "vendor_lead"}:
        raise UserError(
            f"Only the vendor PM or vendor lead can assess {ref(engagement, cr)}; "
            f"your roles here: {', '.join(sorted(roles)) or 'none'}."
        )
    if cr.state not in (State.SUBMITTED, State.PENDING_APPROVAL):
        raise UserError(f"{ref(engagement, cr)} is {label(cr.state).lower()}; its estimate can no longer change.")


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
        was_minor = policy_of(cr, engagement).minor_applied
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
        msg = f"Estimate of {r} revised." + await _minor_changed(
            session, cr=cr, engagement=engagement, actor=actor, now=now, was_minor=was_minor
        )
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
        data={"policy": cr.policy, "round": cr.round, "minor": policy_of(cr, engagement).minor_applied},
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
    await timers.cancel_all(session, core, cr)
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
    await timers.schedule_round(session, core, cr=cr, engagement=engagement, approvers=holders, now=now)
    return t


async def _minor_changed(
    session: AsyncSession, *, cr: ChangeRequest, engagement: Engagement, actor: Person, now: datetime, was_minor: bool
) -> str:
    """A revised estimate crossed the round's minor threshold: recorded, and what to add to the answer."""
    pol = policy_of(cr, engagement)
    if pol.minor is None or pol.minor_applied == was_minor:
        return ""
    threshold = contract.minor_threshold_text(pol.minor.to_dict())
    if pol.minor_applied:
        await note(session, cr=cr, engagement=engagement, action="minor_now", actor=actor, now=now)
        return f" It is now a minor change ({threshold}): {contract.minor_rule_text(pol.minor.to_dict())} decides."
    await note(session, cr=cr, engagement=engagement, action="minor_no_longer", actor=actor, now=now)
    return f" It is no longer a minor change (not {threshold}): each side's own approval rule applies again."


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
        mine = await my_decision(session, cr, clicker)
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
        await timers.cancel_for(session, core, cr, seat.approver.id)
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
        data={"round": cr.round, "cost": _plain(cr.cost), "minor": policy_of(cr, engagement).minor_applied},
    )
    cr.decided_at = now
    if action == "reject":
        cr.decision_comment = comment
    await timers.cancel_all(session, core, cr)
    if action == "approve" and cr.milestone_id and (cr.schedule_impact_days or 0) > 0:
        milestone = await must_get(session, Milestone, cr.milestone_id)
        await milestones.move_for_change_request(
            session,
            core,
            eng=engagement,
            m=milestone,
            days=int(cr.schedule_impact_days or 0),
            cr_ref=r,
            now=now,
        )
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
        warn = int(settings(engagement).get("contingency_warn_pct") or DEFAULTS["contingency_warn_pct"])
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


async def set_milestone(
    session: AsyncSession,
    core: Cadence,
    *,
    cr: ChangeRequest,
    engagement: Engagement,
    milestone: Milestone,
    actor: Person,
    roles: set[str],
    now: datetime,
) -> str:
    """Name the milestone whose due date the request's schedule impact moves when it is approved. The requester
    or an admin of either side, before a decision; an approval already given in the round is asked again (the
    approvers consent to the move too)."""
    r = ref(engagement, cr)
    if cr.requester_id != actor.id and not roles & sides.ALL_ADMINS:
        raise UserError(f"Only the requester or an admin of either side can tie {r} to a milestone.")
    if cr.state not in EDITABLE:
        raise UserError(f"{r} is {label(cr.state)}; its milestone no longer changes. Nothing changed.")
    if cr.milestone_id == milestone.id:
        raise UserError(f"{r} already names that milestone. Nothing changed.")
    before = cr.milestone_id
    cr.milestone_id = milestone.id
    cr.updated_at = now
    m_ref = f"{engagement.key}-M-{milestone.number}"
    await audit.record(
        session,
        now=now,
        engagement_id=engagement.id,
        entity_type=ENTITY,
        entity_id=cr.id,
        action="milestone_set",
        actor=actor,
        data={"ref": r, "milestone": m_ref, "before_id": before},
    )
    if cr.state == State.PENDING_APPROVAL.value:
        await reset_if_approved(
            session, core, cr=cr, engagement=engagement, actor=actor, now=now, why=f"the milestone is now {m_ref}"
        )
    await refresh_card(session, core, cr, engagement, now)
    return f"{r} now names {m_ref} “{milestone.title}”: when it is approved, its schedule impact moves that due date."


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
    await timers.cancel_all(session, core, cr)
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
            await timers.cancel_for(session, core, cr, person.id)
        if person.id in t.approvers() and person.id not in decided:
            await core.outbox.dm(
                session,
                person,
                Card(text=f"Your decision is needed on {ref(engagement, cr)}.", tone="warning"),
                engagement_id=engagement.id,
            )
            await core.outbox.dm(session, person, c, ref_key=ref_key(cr), engagement_id=engagement.id)
            await timers.schedule_round(session, core, cr=cr, engagement=engagement, approvers=[person], now=now)


async def _was_waiting_on(session: AsyncSession, cr: ChangeRequest, person: Person) -> bool:
    """Whether `person` had a pending reminder on `cr` (they were one of its undecided approvers)."""
    prefix = f"{timers.REMIND}:{cr.id}:{person.id}:"
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
            await timers.cancel_for(session, core, cr, person.id)
            at = timers.reminder_time(settings(engagement))
            await timers.schedule_reminder(session, core, cr=cr, person=person, now=now, at=at)
            await refresh_card(session, core, cr, engagement, now)


# -- questions --------------------------------------------------------------------------------------


async def ask_question(
    session: AsyncSession,
    core: Cadence,
    *,
    cr: ChangeRequest,
    engagement: Engagement,
    asker: Person,
    now: datetime,
    question: str,
) -> str:
    """A question on a request: recorded, posted in the home channel, and sent to the requester, the vendor
    PMs and the assessor (not to the asker)."""
    r = ref(engagement, cr)
    await note(session, cr=cr, engagement=engagement, action="question", actor=asker, now=now, comment=question)
    c = Card(
        title=f"Question on {r} · {truncate(cr.title, 80)}",
        text=f"{mention(asker.id, asker.display_name)} asks: “{question}”",
        footer="Answer in this channel or thread.",
    )
    await core.outbox.post_home(session, engagement, c)
    notify = {cr.requester_id}
    members = await member_roles(session, engagement)
    notify |= {pid for pid, rs in members.items() if "vendor_pm" in rs}
    if cr.assessed_by_id:
        notify.add(cr.assessed_by_id)
    notify.discard(asker.id)
    for pid in sorted(notify):
        p = await get_or_refuse(session, Person, pid)
        await core.outbox.dm(session, p, c, engagement_id=engagement.id)
    return f"Your question on {r} was posted in the engagement's channel."


# -- the approval policy ----------------------------------------------------------------------------


def require_both_sides_owner(roles: set[str]) -> None:
    """Whether both sides must approve is the client sponsor's or the vendor PM's to change."""
    if not roles & {"client_sponsor", "vendor_pm"}:
        raise UserError("Only the client sponsor or the vendor PM can change whether both sides must approve.")


def require_side_owner(side: str, roles: set[str]) -> None:
    """A side's approval rule is its owner's to change: the client sponsor's, or the vendor PM's."""
    owner = "client_sponsor" if side == "client" else "vendor_pm"
    if owner not in roles:
        raise UserError(
            f"Only the {owner.replace('_', ' ')} can change the {side} side's approval rule; "
            f"your roles here: {', '.join(sorted(roles)) or 'none'}."
        )


async def set_both_sides(ctx: Ctx, engagement: Engagement, both: bool) -> str:
    """Whether both sides must approve: what the contract says it did."""
    # A contract term: agreed by both sides (bot/kernel/contract.py), not changed by one.
    return await contract.amend(
        ctx,
        engagement,
        term="cr.both_sides",
        new_text="yes" if both else "no",
        settings={"cr": {"both_sides_required": both}},
    )


async def set_minor(ctx: Ctx, engagement: Engagement, minor: dict[str, Any]) -> str:
    """The minor-change threshold or rule: a contract term, agreed by both sides (bot/kernel/contract.py);
    requests already waiting keep the term of their round."""
    try:
        Minor.from_dict(minor)
    except PolicyError as exc:
        raise UserError(str(exc)) from None
    return await contract.amend(
        ctx,
        engagement,
        term="cr.minor",
        new_text=f"{contract.minor_threshold_text(minor)}: {contract.minor_rule_text(minor)} decides",
        settings={"cr": {"minor": minor}},
    )


async def change_policy(ctx: Ctx, engagement: Engagement, *, changes: dict[str, Any], what: str) -> None:
    """A side's approvers or rule changed: applied to new rounds, recorded, said in the home channel."""
    s = settings(engagement)
    before = {"groups": s["groups"], "both_sides_required": s["both_sides_required"]}
    update_feature_settings(engagement, "cr", changes)
    try:
        current_policy(engagement)
    except PolicyError as exc:
        raise UserError(str(exc)) from None
    await audit.record(
        ctx.session,
        now=ctx.now,
        engagement_id=engagement.id,
        entity_type="engagement",
        entity_id=engagement.id,
        action="cr_policy_changed",
        actor=ctx.person,
        data={"before": before, "change": changes},
    )
    await ctx.core.emit(ctx.session, "engagement_settings_changed", engagement=engagement, feature="cr")
    await ctx.core.outbox.post_home(
        ctx.session,
        engagement,
        Card(
            text=f"{mention(ctx.person.id, ctx.person.display_name)} changed the change-request approval policy "
            f"({what}). Requests already waiting keep the rule of their current round."
        ),
    )


# -- settings ---------------------------------------------------------------------------------------


def require_settings_owner(roles: set[str]) -> None:
    if not roles & {"client_sponsor", "vendor_pm"}:
        raise UserError("Only the client sponsor or the vendor PM can change change-request settings.")


async def change_setting(ctx: Ctx, engagement: Engagement, *, name: str, key: str, new: object) -> None:
    """One change-request setting changed (`name` as people type it, `key` in the settings)."""
    before = settings(engagement).get(key)
    if name == "currency" and before and new != before and await has_amounts(ctx.session, engagement):
        # The budget (a contract term) and the costs were agreed in this currency: relabelling them is not one
        # side's to do.
        raise UserError(
            f"{engagement.key}'s budget and costs are in {before}; changing the currency would relabel agreed "
            "amounts. Nothing was changed."
        )
    update_feature_settings(engagement, "cr", {key: new})
    # Nothing that changes the rules is private: said in the home channel and recorded (bot/kernel/announce.py).
    await announce.rule_change(
        ctx,
        engagement,
        Card(
            text=f"{mention(ctx.person.id, ctx.person.display_name)} changed the change-request setting "
            f"{name}: {before if before not in (None, '') else 'none'} → {new if new not in (None, '') else 'none'}."
        ),
        entity_type="engagement",
        entity_id=engagement.id,
        action="cr_setting_changed",
        data={"setting": key, "before": before, "after": new},
    )
    await ctx.core.emit(ctx.session, "engagement_settings_changed", engagement=engagement, feature="cr")


# -- delegation -------------------------------------------------------------------------------------


async def set_delegate(
    session: AsyncSession,
    core: Cadence,
    *,
    person: Person,
    delegate: Person | None,
    engagement: Engagement | None,
    now: datetime,
) -> str:
    """Name `delegate` (None: nobody) to decide for `person` while they are away; recorded, and the delegate
    is told. Returns what to tell `person`."""
    before = person.delegate_id
    if delegate is None:
        person.delegate_id = None
        msg = "You have no delegate now."
    else:
        if delegate.id == person.id:
            raise UserError("You can't be your own delegate.")
        if engagement is not None and await roles_of(session, engagement, delegate) is None:
            raise UserError(f"{delegate.display_name} is not a member of {engagement.key}.")
        person.delegate_id = delegate.id
        msg = (
            f"{delegate.display_name} is your delegate: while you are out of office (`/cadence ooo`) they can "
            "approve or reject change requests on your behalf, recorded as on behalf of you."
        )
    await audit.record(
        session,
        now=now,
        engagement_id=engagement.id if engagement else None,
        entity_type="person",
        entity_id=person.id,
        action="delegate_set",
        actor=person,
        data={"before": before, "after": person.delegate_id},
    )
    if delegate is not None:
        await core.outbox.dm(
            session,
            delegate,
            Card(
                text=f"{mention(person.id, person.display_name)} named you their delegate: while they are out of "
                "office you can approve or reject change requests on their behalf."
            ),
            engagement_id=engagement.id if engagement else None,
        )
    return msg
