"""The defect service: filing, transitions, severity changes, assignment, SLA policy changes. Every rule lives
here once; commands, buttons and forms call these functions (look-ups are in queries.py, cards in cards.py).
Each change is recorded in the audit log, the SLA timers are re-synchronised and the filing card is updated
in place."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.defects import pause_notices, timers
from bot.features.defects import states as st
from bot.features.defects.cards import defect_card
from bot.features.defects.policy import proposed_change
from bot.features.defects.queries import (
    CONVERTERS,
    ENTITY,
    clocks,
    converted_to,
    engagement_policy,
    filed_after,
    open_pause,
    ref,
    ref_key,
    roles_in,
    warranty_until,
)
from bot.features.defects.severity import SEVERITIES, label
from bot.kernel import audit, contract, engagements
from bot.kernel.errors import UserError
from storage.models import Engagement, Person
from storage.models.defects import Defect, DefectPause

if TYPE_CHECKING:
    from bot.kernel.context import Ctx
    from bot.kernel.dispatcher import Cadence


async def is_out_of_warranty(session: AsyncSession, engagement: Engagement, filed_at: datetime) -> bool:
    """Filed after the warranty's end: the project acceptance's warranty (milestones), in the client's calendar."""
    return filed_after(engagement, await warranty_until(session, engagement), filed_at)


async def check_convert(session: AsyncSession, engagement: Engagement, defect: Defect, roles: set[str]) -> None:
    """May these roles turn this defect into a change request? Only an out-of-warranty defect, once, by the
    client's admins (the request is billable to the client)."""
    rid = ref(engagement, defect)
    if not roles & set(CONVERTERS):
        raise UserError(
            f"Only the client sponsor or client PM can convert {rid} to a change request: it is billable to the "
            "client. Nothing was changed."
        )
    if not defect.out_of_warranty:
        raise UserError(
            f"{rid} was not filed after the warranty ended; it is fixed under the SLA at no cost, not converted."
        )
    existing = await converted_to(session, defect)
    if existing is not None:
        raise UserError(f"{rid} was already converted to {engagement.key}-CR-{existing.number}. Nothing changed.")


async def converted(
    session: AsyncSession,
    core: Cadence,
    *,
    engagement: Engagement,
    defect: Defect,
    cr_ref: str,
    actor: Person,
    now: datetime,
) -> None:
    """The defect became change request `cr_ref`: recorded on the defect and named on its card."""
    await audit.record(
        session,
        now=now,
        engagement_id=engagement.id,
        entity_type=ENTITY,
        entity_id=defect.id,
        action="converted_to_change_request",
        actor=actor,
        data={"ref": ref(engagement, defect), "change_request": cr_ref},
    )
    await refresh(session, core, defect, engagement, now)


# --------------------------------------------------------------------------- permissions


def check_transition(action: str, defect: Defect, person: Person, roles: set[str]) -> st.Transition:
    """The transition, or UserError saying why it is not legal or not theirs to make."""
    t = st.find(action, defect.state)
    if t is None:
        raise UserError(f"You can't {st.VERB[action]} this defect. {st.why_not(action, defect.state)}")
    sides = st.side_of(roles)
    if t.side == st.VENDOR and st.VENDOR not in sides:
        raise UserError(f"Only the vendor team can {st.VERB[action]} a defect.")
    if t.side == st.CLIENT and st.CLIENT not in sides and defect.reporter_id != person.id:
        raise UserError(f"Only the client side or the reporter can {st.VERB[action]} a defect.")
    return t


def check_severity_change(defect: Defect, person: Person, roles: set[str]) -> None:
    if defect.state == st.CLOSED:
        raise UserError("It is closed; its severity can no longer change.")
    if not roles & st.SEVERITY_ROLES and defect.reporter_id != person.id:
        raise UserError("Only the reporter, a client sponsor or PM, or the vendor PM or lead can change a severity.")


# --------------------------------------------------------------------------- writing


async def file(
    session: AsyncSession,
    core: Cadence,
    *,
    engagement: Engagement,
    reporter: Person,
    title: str,
    severity: str,
    now: datetime,
    details: dict[str, Any] | None = None,
    source_standup_answer_id: int | None = None,
) -> Defect:
    """File a defect: its clocks start now; the card goes to the home channel; S1 pages the vendor."""
    if severity not in SEVERITIES:
        raise UserError("Severity must be S1, S2, S3 or S4.")
    details = details or {}
    policy = engagement_policy(engagement)
    defect = Defect(
        engagement_id=engagement.id,
        number=await engagements.next_number(session, engagement.id, Defect.number, Defect.engagement_id),
        title=title,
        severity=severity,
        state=st.OPEN,
        reporter_id=reporter.id,
        filed_at=now,
        environment=details.get("environment") or None,
        steps=details.get("steps") or None,
        expected=details.get("expected") or None,
        actual=details.get("actual") or None,
        affected_users=details.get("affected_users") or None,
        attachment_url=details.get("attachment_url") or None,
        source_standup_answer_id=source_standup_answer_id,
        policy=policy.snapshot(),
        out_of_warranty=await is_out_of_warranty(session, engagement, now),
        reopen_count=0,
        timer_generation=0,
        created_at=now,
        updated_at=now,
    )
    session.add(defect)
    await session.flush()
    await session.refresh(defect, ["pauses"])
    await audit.record(
        session,
        now=now,
        engagement_id=engagement.id,
        entity_type=ENTITY,
        entity_id=defect.id,
        action="filed",
        to_state=st.OPEN,
        actor=reporter,
        comment=title,
        data={
            "severity": severity,
            "ref": ref(engagement, defect),
            "out_of_warranty": defect.out_of_warranty,
            **({"from_standup_answer": source_standup_answer_id} if source_standup_answer_id else {}),
        },
    )
    await timers.sync(session, core, defect, engagement, now)
    await core.outbox.post_home(
        session, engagement, await defect_card(session, engagement, defect, now), ref_key=ref_key(defect)
    )
    if severity == "s1":
        await timers.page_s1(session, core, defect, engagement, now)
    await core.emit(session, "defect_filed", defect=defect, engagement=engagement)
    return defect


async def refresh(session: AsyncSession, core: Cadence, defect: Defect, engagement: Engagement, now: datetime) -> None:
    """After any change: caches, breach marks, timers, and the card in place."""
    defect.updated_at = now
    await session.flush()
    await session.refresh(defect, ["pauses"])
    await timers.sync(session, core, defect, engagement, now)
    await core.outbox.update(session, ref_key(defect), await defect_card(session, engagement, defect, now))


async def transition(
    session: AsyncSession,
    core: Cadence,
    *,
    defect: Defect,
    engagement: Engagement,
    action: str,
    actor: Person,
    roles: set[str],
    now: datetime,
    comment: str | None = None,
) -> st.Transition:
    """Move a (locked) defect along the lifecycle, or UserError with the reason it can't."""
    t = check_transition(action, defect, actor, roles)
    if t.needs_reason and not (comment or "").strip():
        raise UserError(
            f"Say why ({'what you are waiting for' if action == 'wait' else 'what is still wrong'}).", field="reason"
        )
    pause = open_pause(defect)
    data: dict[str, Any] = {}
    if action == "ack" and defect.acknowledged_at is None:
        defect.acknowledged_at = now
        response, _ = clocks(defect, now)
        data["response_met"] = not response.breached
    if pause is not None and action in ("start", "reply", "resolve", "reopen", "ack"):
        # Leaving waiting_on_client (resume) or resolved (reopen): the resolution clock runs again.
        pause.ended_at, pause.ended_by_id = now, actor.id
        data["paused_for_seconds"] = (now - pause.started_at).total_seconds()
    if action == "wait":
        session.add(
            DefectPause(defect_id=defect.id, kind="waiting", reason=comment, started_at=now, started_by_id=actor.id)
        )
    elif action == "resolve":
        defect.resolved_at = now
        session.add(
            DefectPause(defect_id=defect.id, kind="resolved", reason=comment, started_at=now, started_by_id=actor.id)
        )
    elif action == "reopen":
        defect.reopen_count = (defect.reopen_count or 0) + 1
        defect.resolved_at = None
    elif action == "close":
        defect.closed_at = now
    if action == "resolve":
        await session.flush()
        await session.refresh(defect, ["pauses"])
        _, resolution = clocks(defect, now)
        data["resolution_met"] = not resolution.breached
    if defect.assignee_id is None and action in ("ack", "start") and st.VENDOR in st.side_of(roles):
        defect.assignee_id = actor.id  # whoever takes it on owns it until reassigned
        data["assigned_to"] = actor.id
    source = defect.state
    defect.state = t.target
    await audit.record(
        session,
        now=now,
        engagement_id=engagement.id,
        entity_type=ENTITY,
        entity_id=defect.id,
        action=action,
        from_state=source,
        to_state=t.target,
        actor=actor,
        comment=comment or None,
        data=data,
    )
    await refresh(session, core, defect, engagement, now)
    if action == "wait":
        await pause_notices.asked(session, core, defect=defect, engagement=engagement, actor=actor, question=comment)
    elif action == "reply":
        await pause_notices.answered(session, core, defect=defect, engagement=engagement, actor=actor, answer=comment)
    if action == "resolve" and defect.reporter_id not in (None, actor.id):
        # The reporter verifies the fix: close it, or reopen it saying what is still wrong.
        reporter = await session.get(Person, defect.reporter_id)
        if reporter is not None:
            await _tell(
                session, core, defect, engagement, now, reporter, f"Resolved by {actor.display_name} — please verify"
            )
    return t


async def change_severity(
    session: AsyncSession,
    core: Cadence,
    *,
    defect: Defect,
    engagement: Engagement,
    severity: str,
    actor: Person,
    roles: set[str],
    now: datetime,
    reason: str | None = None,
) -> None:
    """New severity: both targets recomputed from the original filing time; pauses kept; recorded."""
    check_severity_change(defect, actor, roles)
    if severity not in SEVERITIES:
        raise UserError("Severity must be S1, S2, S3 or S4.")
    if severity == defect.severity:
        raise UserError(f"It is already {label(severity)}.")
    before = clocks(defect, now)
    old = defect.severity
    defect.severity = severity
    after = clocks(defect, now)
    # Deadlines moved: a new timer generation, and a warning not yet due may be given again.
    defect.timer_generation = (defect.timer_generation or 0) + 1
    await core.timers.cancel_prefix(session, f"defect:{defect.id}:")
    for _b, a in zip(before, after, strict=False):
        if a.warn_at is not None and a.warn_at > now and a.running:
            setattr(defect, f"{a.name}_warned_at", None)
    await audit.record(
        session,
        now=now,
        engagement_id=engagement.id,
        entity_type=ENTITY,
        entity_id=defect.id,
        action="severity_changed",
        from_state=defect.state,
        to_state=defect.state,
        actor=actor,
        comment=reason or None,
        data={
            "from": old,
            "to": severity,
            **{f"{c.name}_due_before": c.due_at.isoformat() if c.due_at else None for c in before},
            **{f"{c.name}_due_after": c.due_at.isoformat() if c.due_at else None for c in after},
        },
    )
    await refresh(session, core, defect, engagement, now)
    if severity == "s1" and old != "s1":
        await timers.page_s1(session, core, defect, engagement, now)


async def assign(
    session: AsyncSession,
    core: Cadence,
    *,
    defect: Defect,
    engagement: Engagement,
    assignee: Person,
    actor: Person,
    roles: set[str],
    now: datetime,
) -> None:
    """Give a defect to a vendor-side member (vendor PM/lead for anyone; vendor members for themselves)."""
    if defect.state == st.CLOSED:
        raise UserError("It is closed.")
    if not roles & st.ASSIGN_ROLES and not (assignee.id == actor.id and st.VENDOR in st.side_of(roles)):
        raise UserError("Only the vendor PM or lead can assign a defect (vendor members may take one themselves).")
    assignee_roles = await roles_in(session, engagement.id, assignee)
    if st.VENDOR not in st.side_of(assignee_roles):
        raise UserError(f"{assignee.display_name} is not on the vendor team of {engagement.key}.")
    if defect.assignee_id == assignee.id:
        raise UserError(f"It is already assigned to {assignee.display_name}.")
    previous = defect.assignee_id
    defect.assignee_id = assignee.id
    await audit.record(
        session,
        now=now,
        engagement_id=engagement.id,
        entity_type=ENTITY,
        entity_id=defect.id,
        action="assigned",
        from_state=defect.state,
        to_state=defect.state,
        actor=actor,
        data={"from": previous, "to": assignee.id},
    )
    await refresh(session, core, defect, engagement, now)
    if assignee.id != actor.id:
        await _tell(session, core, defect, engagement, now, assignee, f"{actor.display_name} assigned you")


async def _tell(
    session: AsyncSession,
    core: Cadence,
    defect: Defect,
    engagement: Engagement,
    now: datetime,
    person: Person,
    why: str,
) -> None:
    """A DM with the defect's card (its buttons included), headed by why the person gets it."""
    card = await defect_card(session, engagement, defect, now)
    card.title = f"{why}: {card.title}"
    await core.outbox.dm(session, person, card, engagement_id=engagement.id)


# --------------------------------------------------------------------------- the SLA policy


async def change_policy(ctx: Ctx, engagement: Engagement, words: list[str]) -> str:
    """Propose the SLA change `/defect policy <words>` asks for; what the contract says it did."""
    try:
        change = proposed_change(engagement, words)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    # Every SLA value is a contract term: the change goes through the contract (bot/kernel/contract.py) — agreed at
    # once while the other side has no admin, otherwise proposed to it — and is said in the home channel.
    return await contract.amend(
        ctx,
        engagement,
        term=change.term,
        new_text=change.new_text,
        columns=change.columns,
        settings=change.settings,
    )
