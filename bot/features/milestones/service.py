"""Milestone rules: who may add, edit, submit, decide and mark done; the states and rounds; the acceptance
window; rectification items; moving a due date (a proposal once both sides have an admin); the project
acceptance and the warranty. Every transition is audited and said in the home channel.

States: planned ──submit──> submitted ──accept──> accepted
                              │  └──(window ends, deemed acceptance on)──> deemed_accepted
                              └──reject──> rejected ──submit──> submitted (the next round)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.milestones import schedule
from bot.features.milestones.cards import (
    AcceptanceView,
    acceptance_card,
    acceptance_key,
    acceptance_record_card,
    change_card,
    change_key,
    items_card,
    items_key,
)
from bot.features.milestones.queries import (
    acceptance as acceptance_record,
)
from bot.features.milestones.queries import (
    calendar_of,
    final_of,
    item_ref,
    items,
    load,
    pending_change,
    people,
    readiness,
    ref,
    round_of,
)
from bot.features.milestones.settings import FEATURE, WARRANTY_MONTHS, settings, warranty_months
from bot.features.milestones.window import acceptance_window, warranty_end
from bot.kernel import audit, contract, engagements, sides
from bot.kernel.context import Ctx
from bot.kernel.errors import UserError
from bot.kernel.messages import Card
from bot.kernel.people import members_with_roles, membership_of, role_label
from bot.kernel.text import day_text, plural, when
from bot.kernel.text import person as mention
from storage.models import Engagement, Person
from storage.models.milestones import (
    Milestone,
    MilestoneChange,
    MilestoneRound,
    ProjectAcceptance,
    RectificationItem,
)
from storage.results import rowcount

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

ENTITY = "milestone"
# Who does what (docs/milestones.md): the plan is shared, so either side's admins add and edit; the vendor's
# admins submit; the client's sponsor and PM decide; anyone on the vendor side marks a rectification done.
EDITORS = sides.ALL_ADMINS
SUBMITTERS = frozenset(schedule.VENDOR_ADMINS)
DECIDERS = frozenset(schedule.APPROVERS)
VENDOR = frozenset({"vendor_pm", "vendor_lead", "developer", "qa"})
OUTCOME_STATE = {
    "accepted": "accepted",
    "accepted_with_remarks": "accepted",
    "rejected": "rejected",
    "deemed_accepted": "deemed_accepted",
}
DONE_STATES = ("accepted", "deemed_accepted")


def _names(roles: frozenset[str] | tuple[str, ...]) -> str:
    return " or ".join(role_label(r) for r in sorted(roles))


async def roles_in(session: AsyncSession, eng: Engagement, person: Person) -> set[str]:
    m = await membership_of(session, eng, person)
    return set(m.roles or []) if m else set()


def require(roles: set[str], allowed: frozenset[str], what: str) -> None:
    if not roles & allowed:
        raise UserError(
            f"Only the {_names(allowed)} can {what}; your roles here: {', '.join(sorted(roles)) or 'none'}. "
            "Nothing was changed."
        )


async def transition(
    session: AsyncSession,
    *,
    eng: Engagement,
    m: Milestone,
    action: str,
    to: str | None,
    actor: Person | None,
    now: datetime,
    comment: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Move `m` to `to` (None: the state stays) and append the step to the audit log."""
    before = m.state
    if to is not None:
        m.state = to
    m.updated_at = now
    await audit.record(
        session,
        now=now,
        engagement_id=eng.id,
        entity_type=ENTITY,
        entity_id=m.id,
        action=action,
        from_state=before,
        to_state=m.state,
        actor=actor,
        comment=comment,
        data={"ref": ref(eng, m), **(data or {})},
    )


# -- the plan ---------------------------------------------------------------------------------------


async def add(
    session: AsyncSession,
    core: Cadence,
    *,
    eng: Engagement,
    actor: Person,
    roles: set[str],
    title: str,
    due: date,
    final: bool,
    now: datetime,
) -> Milestone:
    require(roles, EDITORS, "add milestones")
    if final:
        existing = await final_of(session, eng)
        if existing is not None:
            raise UserError(
                f"{ref(eng, existing)} “{existing.title}” is already the final milestone; an engagement has one. "
                "Nothing was changed."
            )
    m = Milestone(
        engagement_id=eng.id,
        number=await engagements.next_number(session, eng.id, Milestone.number, Milestone.engagement_id),
        title=title,
        due_date=due,
        final=final,
        state="planned",
        round=0,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    session.add(m)
    await session.flush()
    await transition(
        session, eng=eng, m=m, action="added", to="planned", actor=actor, now=now, data={"due": due.isoformat()}
    )
    await schedule.plan_due(session, core, eng, m, now)
    await core.outbox.post_home(
        session,
        eng,
        Card(
            title=f"New milestone {ref(eng, m)} · {title}",
            text=f"Due {day_text(due)}"
            + (" · the final milestone (its acceptance is the project acceptance)" if final else "")
            + f". Added by {mention(actor.id, actor.display_name)}.",
        ),
    )
    return m


async def set_text(
    session: AsyncSession,
    core: Cadence,
    *,
    eng: Engagement,
    m: Milestone,
    actor: Person,
    roles: set[str],
    field: str,
    value: str,
    now: datetime,
) -> None:
    """Change the title, deliverables or acceptance criteria (said in the channel, audited)."""
    require(roles, EDITORS, "edit milestones")
    if m.state in DONE_STATES:
        raise UserError(f"{ref(eng, m)} is {m.state.replace('_', ' ')}; it no longer changes.")
    if m.state == "submitted" and field != "title":
        raise UserError(
            f"{ref(eng, m)} is waiting for the client's decision on what was submitted; its {field} can change "
            "after the decision. Nothing was changed."
        )
    before = getattr(m, field)
    if before == value:
        raise UserError(f"That is already the {field} of {ref(eng, m)}. Nothing changed.")
    setattr(m, field, value)
    await transition(
        session,
        eng=eng,
        m=m,
        action=f"{field}_set",
        to=None,
        actor=actor,
        now=now,
        data={"before": before, "after": value},
    )
    label = {"title": "title", "deliverables": "deliverables", "criteria": "acceptance criteria"}[field]
    await core.outbox.post_home(
        session,
        eng,
        Card(
            title=f"{ref(eng, m)} · {m.title}: {label} changed",
            text=f"{mention(actor.id, actor.display_name)} set the {label}:\n{value}",
        ),
    )


async def move_due(
    session: AsyncSession,
    core: Cadence,
    *,
    eng: Engagement,
    m: Milestone,
    actor: Person,
    roles: set[str],
    new_due: date,
    now: datetime,
) -> str:
    """Move the due date: at once while the other side has no admin; else a proposal the other side's admins
    approve. Returns what to tell the person."""
    require(roles, EDITORS, "move a milestone's due date")
    if m.state not in schedule.DUE_STATES:
        raise UserError(f"{ref(eng, m)} is {m.state.replace('_', ' ')}: its due date no longer matters.")
    if new_due == m.due_date:
        raise UserError(f"{ref(eng, m)} is already due {day_text(new_due)}. Nothing changed.")
    side = sides.side_of(roles)
    assert side is not None  # an editor holds a role
    other = sides.other(side)
    if not await sides.admins_of(session, eng, other):
        old = m.due_date
        m.due_date = new_due
        await transition(
            session,
            eng=eng,
            m=m,
            action="due_moved",
            to=None,
            actor=actor,
            now=now,
            data={"from": old.isoformat(), "to": new_due.isoformat(), "agreed": f"the {other} side has no admin yet"},
        )
        await schedule.plan_due(session, core, eng, m, now)
        await core.outbox.post_home(
            session,
            eng,
            Card(
                text=f"{mention(actor.id, actor.display_name)} moved the due date of {ref(eng, m)} “{m.title}”: "
                f"{day_text(old)} → {day_text(new_due)} (agreed at once: the {other} side has no admin yet)."
            ),
        )
        return f"{ref(eng, m)} is now due {day_text(new_due)} (the {other} side has no admin yet, so no approval)."
    if await pending_change(session, m) is not None:
        raise UserError(
            f"A move of {ref(eng, m)}'s due date already waits for a decision; decide or withdraw it first. "
            "Nothing was changed."
        )
    change = MilestoneChange(
        milestone_id=m.id,
        old_due=m.due_date,
        new_due=new_due,
        proposed_by_id=actor.id,
        proposed_side=side,
        proposed_at=now,
        status="pending",
    )
    session.add(change)
    await session.flush()
    deciding, proposing = await deciders(session, eng, change)
    await core.outbox.post_home(
        session, eng, change_card(eng, m, change, actor, deciding, proposing), ref_key=change_key(change)
    )
    for admin in await sides.admins_of(session, eng, other):
        await schedule.schedule_change_reminder(session, core, eng, change, admin.person, now)
    await transition(
        session,
        eng=eng,
        m=m,
        action="due_change_proposed",
        to=None,
        actor=actor,
        now=now,
        data={"proposal": change.id, "from": m.due_date.isoformat(), "to": new_due.isoformat()},
    )
    return (
        f"Proposed moving {ref(eng, m)} from {day_text(m.due_date)} to {day_text(new_due)} (proposal #{change.id}). "
        f"It takes effect only when an admin of the {other} side approves it."
    )


async def deciders(
    session: AsyncSession, eng: Engagement, change: MilestoneChange
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(the other side's admins, who approve or reject; the proposing side's admins, who may withdraw)."""
    side: sides.Side = "client" if change.proposed_side == "client" else "vendor"
    deciding = tuple(m.person_id for m in await sides.admins_of(session, eng, sides.other(side)))
    proposing = tuple(m.person_id for m in await sides.admins_of(session, eng, side))
    return deciding, proposing


async def decide_change(
    session: AsyncSession,
    core: Cadence,
    *,
    eng: Engagement,
    change: MilestoneChange,
    actor: Person,
    roles: set[str],
    outcome: str,
    now: datetime,
) -> str:
    """Approve, reject (the other side's admins) or withdraw (the proposing side's) a due-date proposal.
    Exactly one decision wins: a conditional update on the proposal's status."""
    side = sides.side_of(roles)
    if outcome == "withdrawn":
        if side != change.proposed_side or not sides.is_admin(roles, side):
            raise UserError(f"Only an admin of the {change.proposed_side} side can withdraw its proposal.")
    elif side == change.proposed_side or side is None or not sides.is_admin(roles, side):
        raise UserError(
            f"The {change.proposed_side} side proposed #{change.id}; only the other side's admins can approve or "
            "reject it. Nothing was changed."
        )
    m = await load(session, change.milestone_id, lock=True)
    assert m is not None  # a foreign key
    won = await session.execute(
        update(MilestoneChange)
        .where(MilestoneChange.id == change.id, MilestoneChange.status == "pending")
        .values(status=outcome, decided_by_id=actor.id, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(change)
    if rowcount(won) != 1:
        raise UserError(f"Proposal #{change.id} was already {change.status}. Nothing changed.")
    text = (
        f"The move of {ref(eng, m)}'s due date ({day_text(change.old_due)} → {day_text(change.new_due)}) was "
        f"{outcome} by {mention(actor.id, actor.display_name)} ({side} side)."
    )
    await schedule.cancel_change_reminders(session, core, change)
    if outcome == "approved":
        m.due_date = change.new_due
        await schedule.plan_due(session, core, eng, m, now)
    await transition(
        session,
        eng=eng,
        m=m,
        action=f"due_change_{outcome}",
        to=None,
        actor=actor,
        now=now,
        data={"proposal": change.id, "from": change.old_due.isoformat(), "to": change.new_due.isoformat()},
    )
    proposer = await session.get(Person, change.proposed_by_id) if change.proposed_by_id else None
    await core.outbox.update(session, change_key(change), change_card(eng, m, change, proposer))
    await core.outbox.post_home(session, eng, Card(text=text, tone="good" if outcome == "approved" else "info"))
    verb = "withdrew" if outcome == "withdrawn" else outcome
    return f"You {verb} proposal #{change.id}."


async def move_for_change_request(
    session: AsyncSession,
    core: Cadence,
    *,
    eng: Engagement,
    m: Milestone,
    days: int,
    cr_ref: str,
    now: datetime,
) -> str:
    """An approved change request's schedule impact moves the milestone's due date `days` business days later
    in the client's calendar (how the plan counts days: the window, rectification). Both sides consented through
    the request's approval, so there is no second proposal. Said in the channel and audited; returns the line."""
    m = await load(session, m.id, lock=True) or m
    if m.state not in schedule.DUE_STATES:
        text = (
            f"{cr_ref} was approved with {plural(days, 'business day')} of schedule impact on {ref(eng, m)}, which is "
            f"{m.state.replace('_', ' ')}: its due date no longer matters and stays {day_text(m.due_date)}."
        )
        await core.outbox.post_home(session, eng, Card(text=text))
        return text
    old = m.due_date
    m.due_date = calendar_of(eng).add_days(old, days)
    await transition(
        session,
        eng=eng,
        m=m,
        action="due_moved",
        to=None,
        actor=None,
        now=now,
        data={"from": old.isoformat(), "to": m.due_date.isoformat(), "change_request": cr_ref, "days": days},
    )
    await schedule.plan_due(session, core, eng, m, now)
    text = (
        f"{cr_ref} was approved with {plural(days, 'business day')} of schedule impact: {ref(eng, m)} “{m.title}” "
        f"moves {day_text(old)} → {day_text(m.due_date)} (both sides approved the request; no separate proposal)."
    )
    await core.outbox.post_home(session, eng, Card(text=text, tone="info"))
    return text


# -- submission and decisions -----------------------------------------------------------------------


async def acceptance_view(session: AsyncSession, eng: Engagement, m: Milestone, rnd: MilestoneRound) -> AcceptanceView:
    cal = calendar_of(eng)
    start = cal.local_date(rnd.submitted_at)
    window = acceptance_window(cal, rnd.submitted_at, rnd.window_days)
    approvers = tuple(p.id for p in await members_with_roles(session, eng, schedule.APPROVERS))
    return AcceptanceView(
        engagement=eng,
        milestone=m,
        round=rnd,
        readiness=await readiness(session, eng),
        calendar=cal,
        skipped=cal.skipped(start, window.last_day),
        approvers=approvers,
        people=await people(session, {rnd.submitted_by_id, rnd.decided_by_id}),
        open_items=[i for i in await items(session, m, open_only=True) if i.round < rnd.round],
        warranty_months=warranty_months(eng),
    )


async def acceptance_of(session: AsyncSession, eng: Engagement, m: Milestone, rnd: MilestoneRound) -> Card:
    return acceptance_card(await acceptance_view(session, eng, m, rnd))


async def submit(
    session: AsyncSession,
    core: Cadence,
    *,
    eng: Engagement,
    m: Milestone,
    actor: Person,
    roles: set[str],
    delivered: str,
    now: datetime,
) -> MilestoneRound:
    """Submit for acceptance (a new round): the acceptance card in the home channel, the window's timers."""
    require(roles, SUBMITTERS, "submit a milestone for acceptance")
    if m.state not in schedule.DUE_STATES:
        raise UserError(
            f"{ref(eng, m)} is {m.state.replace('_', ' ')}"
            + (" and waits for the client's decision" if m.state == "submitted" else "")
            + "; it can't be submitted now. Nothing was changed."
        )
    s = settings(eng)
    days = int(s["window_days"])
    window = acceptance_window(calendar_of(eng), now, days)
    m.round += 1
    rnd = MilestoneRound(
        milestone_id=m.id,
        round=m.round,
        delivered=delivered,
        submitted_by_id=actor.id,
        submitted_at=now,
        window_days=days,
        window_ends_at=window.ends_at,
        deemed_acceptance=bool(s["deemed_acceptance"]),
    )
    session.add(rnd)
    await session.flush()
    await transition(
        session,
        eng=eng,
        m=m,
        action="submitted",
        to="submitted",
        actor=actor,
        now=now,
        comment=delivered,
        data={"round": rnd.round, "window_ends_at": window.ends_at.isoformat(), "deemed": rnd.deemed_acceptance},
    )
    await schedule.cancel_due(session, core, m)
    await schedule.plan_round(session, core, eng, m, rnd, now)
    await core.outbox.post_home(
        session, eng, await acceptance_of(session, eng, m, rnd), ref_key=acceptance_key(m, rnd.round)
    )
    return rnd


@dataclass(frozen=True)
class Decision:
    outcome: str  # accepted | accepted_with_remarks | rejected | deemed_accepted
    remarks: str | None = None
    reasons: tuple[str, ...] = ()


async def check_decider(session: AsyncSession, eng: Engagement, m: Milestone, person: Person) -> None:
    roles = await roles_in(session, eng, person)
    if not roles & DECIDERS:
        raise UserError(
            f"Only the client sponsor or client PM can accept or reject {ref(eng, m)}; your roles here: "
            f"{', '.join(sorted(roles)) or 'none'}. Nothing was changed."
        )


async def open_round(session: AsyncSession, eng: Engagement, m: Milestone, round_: int | None) -> MilestoneRound:
    """The round a decision is about, refused unless it is the milestone's current, undecided one."""
    if round_ is not None and round_ != m.round:
        raise UserError(
            f"That card is for round {round_} of {ref(eng, m)}; it is now in round {m.round}. Nothing was changed."
        )
    rnd = await round_of(session, m)
    if rnd is None or m.state != "submitted":
        raise UserError(f"{ref(eng, m)} is not waiting for a decision (it is {m.state.replace('_', ' ')}).")
    if rnd.outcome is not None:
        raise UserError(f"Round {rnd.round} of {ref(eng, m)} was already decided: {rnd.outcome.replace('_', ' ')}.")
    return rnd


async def decide(
    session: AsyncSession,
    core: Cadence,
    *,
    eng: Engagement,
    m: Milestone,
    rnd: MilestoneRound,
    decision: Decision,
    actor: Person | None,
    now: datetime,
    from_window_end: bool = False,
) -> str:
    """Settle the round: one decision by any one approver (or deemed acceptance at the window's end). Exactly
    one wins, whoever comes first: a conditional update on the round's outcome. Returns what to tell."""
    won = await session.execute(
        update(MilestoneRound)
        .where(MilestoneRound.id == rnd.id, MilestoneRound.outcome.is_(None))
        .values(
            outcome=decision.outcome,
            decided_by_id=actor.id if actor else None,
            decided_at=now,
            remarks=decision.remarks or ("\n".join(decision.reasons) if decision.reasons else None),
        )
        .execution_options(synchronize_session=False)
    )
    await session.refresh(rnd)
    if rowcount(won) != 1:
        raise UserError(
            f"Round {rnd.round} of {ref(eng, m)} was already decided: {(rnd.outcome or '').replace('_', ' ')}. "
            "Nothing changed."
        )
    r = ref(eng, m)
    await transition(
        session,
        eng=eng,
        m=m,
        action=decision.outcome,
        to=OUTCOME_STATE[decision.outcome],
        actor=actor,
        now=now,
        comment=rnd.remarks,
        data={"round": rnd.round},
    )
    # The window's own timer, deciding now, is marked done by the timer service, not cancelled.
    await schedule.cancel_round(session, core, m, rnd.round, window=not from_window_end)
    await core.outbox.update(session, acceptance_key(m, rnd.round), await acceptance_of(session, eng, m, rnd))
    who = mention(actor.id, actor.display_name) if actor else "Cadence"
    if decision.outcome == "rejected":
        made = await rectification(session, core, eng=eng, m=m, round_=rnd.round, reasons=decision.reasons, now=now)
        await schedule.plan_due(session, core, eng, m, now)
        await core.outbox.post_home(
            session,
            eng,
            Card(
                text=f"{who} rejected {r} “{m.title}” (round {rnd.round}): {plural(len(made), 'rectification item')} "
                "for the vendor.",
                tone="danger",
            ),
        )
        return f"You rejected {r} (round {rnd.round}); {plural(len(made), 'rectification item')} recorded."
    said = {
        "accepted": f"{who} accepted {r} “{m.title}” (round {rnd.round}).",
        "accepted_with_remarks": f"{who} accepted {r} “{m.title}” with remarks (round {rnd.round}).",
        "deemed_accepted": f"{r} “{m.title}” is deemed accepted: the acceptance window of round {rnd.round} "
        "ended without a decision, and the contract says so.",
    }[decision.outcome]
    await core.outbox.post_home(session, eng, Card(text=said, tone="good"))
    if m.final:
        await record_project_acceptance(session, core, eng=eng, m=m, rnd=rnd, actor=actor, now=now)
    return f"You accepted {r} (round {rnd.round})." + (" That is the project acceptance." if m.final else "")


async def rectification(
    session: AsyncSession,
    core: Cadence,
    *,
    eng: Engagement,
    m: Milestone,
    round_: int,
    reasons: tuple[str, ...],
    now: datetime,
    actor: Person | None = None,
    source: str | None = None,
) -> list[RectificationItem]:
    """Each reason becomes an item of `m` due N business days later (the client's calendar), numbered after
    the milestone's earlier items, posted with a Done button each. Called by a rejection (round `round_`)
    and by other features: a demo of the milestone recorded "not accepted" (`source` names it; the step is
    audited as `rectification_added`)."""
    cal = calendar_of(eng)
    due = cal.add_days(cal.local_date(now), int(settings(eng)["rectify_days"]))
    number = len(await items(session, m))
    made = []
    for text in reasons:
        number += 1
        item = RectificationItem(
            milestone_id=m.id, round=round_, number=number, text=text, due_date=due, created_at=now
        )
        session.add(item)
        made.append(item)
    await session.flush()
    for item in made:
        await schedule.plan_item_overdue(session, core, eng, item, now)
    if source is not None:
        await transition(
            session,
            eng=eng,
            m=m,
            action="rectification_added",
            to=None,
            actor=actor,
            now=now,
            comment="\n".join(reasons),
            data={"source": source, "items": [item_ref(eng, m, i) for i in made]},
        )
    vendor = tuple(p.id for p in await members_with_roles(session, eng, VENDOR))
    same_round = [i for i in await items(session, m) if i.round == round_]
    card = items_card(eng, m, round_, same_round, vendor)
    await core.outbox.post_home(session, eng, card, ref_key=items_key(m, round_))
    return made


async def mark_done(
    session: AsyncSession,
    core: Cadence,
    *,
    eng: Engagement,
    m: Milestone,
    item: RectificationItem,
    actor: Person,
    roles: set[str],
    now: datetime,
) -> str:
    require(roles, VENDOR, "mark a rectification item done")
    r = item_ref(eng, m, item)
    if item.done_at is not None:
        raise UserError(f"{r} was already marked done {when(item.done_at)}. Nothing changed.")
    item.done_at, item.done_by_id = now, actor.id
    await transition(
        session, eng=eng, m=m, action="rectified", to=None, actor=actor, now=now, comment=item.text, data={"item": r}
    )
    same_round = [i for i in await items(session, m) if i.round == item.round]
    vendor = tuple(p.id for p in await members_with_roles(session, eng, VENDOR))
    await core.outbox.update(session, items_key(m, item.round), items_card(eng, m, item.round, same_round, vendor))
    left = sum(1 for i in same_round if i.done_at is None)
    return f"Marked {r} done. " + (
        f"{plural(left, 'item')} of round {item.round} still open."
        if left
        else f"Every item of round {item.round} is done: resubmit with "
        f"`/milestone submit {ref(eng, m)} | what changed`."
    )


# -- the project acceptance and the warranty ---------------------------------------------------------


async def record_project_acceptance(
    session: AsyncSession,
    core: Cadence,
    *,
    eng: Engagement,
    m: Milestone,
    rnd: MilestoneRound,
    actor: Person | None,
    now: datetime,
) -> ProjectAcceptance:
    """The final milestone accepted: who, when, remarks; the warranty's end from the acceptance date in the
    client's calendar; the warranty review planned. Said in the channel and audited."""
    months = warranty_months(eng)
    # Deemed acceptance takes effect when the window closed, however late the timer ran.
    at = rnd.window_ends_at if actor is None else now
    accepted_on = calendar_of(eng).local_date(at)
    record = ProjectAcceptance(
        engagement_id=eng.id,
        milestone_id=m.id,
        accepted_at=at,
        accepted_on=accepted_on,
        accepted_by_id=actor.id if actor else None,
        deemed=actor is None,
        remarks=rnd.remarks,
        warranty_months=months,
        warranty_until=warranty_end(accepted_on, months),
    )
    session.add(record)
    # The contract's warranty term reads the derived end from the engagement (nobody types it).
    eng.warranty_end = record.warranty_until
    await session.flush()
    await audit.record(
        session,
        now=now,
        engagement_id=eng.id,
        entity_type="engagement",
        entity_id=eng.id,
        action="project_accepted",
        actor=actor,
        comment=rnd.remarks,
        data={
            "milestone": ref(eng, m),
            "round": rnd.round,
            "deemed": record.deemed,
            "accepted_on": accepted_on.isoformat(),
            "warranty_months": months,
            "warranty_until": record.warranty_until.isoformat(),
        },
    )
    await schedule.plan_warranty_review(session, core, eng, record, now)
    await core.outbox.post_home(session, eng, acceptance_record_card(eng, m, record, actor))
    return record


# -- the contract terms (window, deemed acceptance, warranty length) ---------------------------------

TERMS = ("window_days", "deemed_acceptance", "warranty_months")
WINDOW_DAYS = range(1, 61)


def term_value(key: str, raw: str) -> int | bool:
    """A typed value of a milestones contract term, or UserError saying what is allowed."""
    text = raw.strip().lower()
    if key == "deemed_acceptance":
        if text in ("on", "yes", "true"):
            return True
        if text in ("off", "no", "false"):
            return False
        raise UserError("Deemed acceptance is `on` or `off`. Nothing was changed.")
    allowed = WARRANTY_MONTHS if key == "warranty_months" else WINDOW_DAYS
    what = "The warranty" if key == "warranty_months" else "The acceptance window"
    unit = "months" if key == "warranty_months" else "business days"
    if not text.isdigit() or int(text) not in allowed:
        raise UserError(
            f"{what} is {allowed.start}–{allowed.stop - 1} {unit}; “{raw.strip()[:20]}” is outside that. "
            "Nothing was changed."
        )
    return int(text)


def term_text(eng: Engagement, key: str, value: int | bool) -> str:
    """How the term reads with `value` (the same words as its declaration in bot/kernel/contract.py)."""
    if key == "deemed_acceptance":
        return "on" if value else "off"
    if key == "window_days":
        return f"{value} business days (client's calendar)"
    if eng.warranty_end is None:
        return f"{value} months from the project acceptance; starts at the project acceptance"
    return f"{value} months from the project acceptance; until {eng.warranty_end.isoformat()}"


async def change_term(ctx: Ctx, eng: Engagement, key: str, raw: str) -> str:
    """Change a milestones contract term through the amendment rule (agreed at once while the other side has
    no admin, else a proposal the other side approves). Open windows keep their terms (copied at submission);
    the warranty's length no longer changes once the project acceptance started it."""
    if key not in TERMS:
        raise UserError(f"No milestone setting “{key[:30]}”. Contract terms: {', '.join(TERMS)}.")
    value = term_value(key, raw)
    if key == "warranty_months" and await acceptance_record(ctx.session, eng) is not None:
        raise UserError(
            f"The warranty already started with the project acceptance and runs until {eng.warranty_end}; its "
            "length no longer changes. Nothing was changed."
        )
    return await contract.amend(
        ctx, eng, term=key, new_text=term_text(eng, key, value), settings={FEATURE: {key: value}}
    )
