"""What the milestones' timers do when they fire (schedule.py plans them). Each handler checks that what
it is about still holds (the due date unchanged, the round still open, the person still in their seat);
otherwise it does nothing. Every effect goes through the timer's session, so it commits exactly once."""

from __future__ import annotations

from bot.features.milestones import schedule, service
from bot.features.milestones.cards import change_card
from bot.features.milestones.queries import acceptance, item_ref, load, ref, round_of
from bot.kernel import audit
from bot.kernel.context import TimerCtx
from bot.kernel.errors import UserError
from bot.kernel.messages import Card
from bot.kernel.people import away_reason, is_workday, local_date, members_with_roles
from bot.kernel.rows import must_get
from bot.kernel.text import day_text, when
from bot.kernel.text import person as mention
from storage.models import Engagement, Person
from storage.models.milestones import Milestone, MilestoneChange, RectificationItem


async def _milestone(tctx: TimerCtx) -> tuple[Milestone, Engagement] | None:
    m = await load(tctx.session, int(tctx.payload.get("milestone_id", 0)))
    if m is None:
        return None
    return m, await must_get(tctx.session, Engagement, m.engagement_id)


def _still_due(m: Milestone, tctx: TimerCtx) -> bool:
    return m.state in schedule.DUE_STATES and m.due_date.isoformat() == tctx.payload.get("due")


async def on_due_soon(tctx: TimerCtx) -> None:
    """A vendor admin, a few business days before the due date, at their morning."""
    found = await _milestone(tctx)
    if found is None or not _still_due(found[0], tctx):
        return
    m, eng = found
    person = await tctx.session.get(Person, int(tctx.payload.get("person_id", 0)))
    admins = {p.id for p in await members_with_roles(tctx.session, eng, schedule.VENDOR_ADMINS)}
    if person is None or person.id not in admins:
        return
    await tctx.core.outbox.dm(
        tctx.session,
        person,
        Card(
            title=f"{ref(eng, m)} · {m.title} is due {day_text(m.due_date)}",
            text=f"Submit it for acceptance with `/milestone submit {ref(eng, m)} | what is delivered, links`.",
            tone="warning",
        ),
        engagement_id=eng.id,
    )


async def on_due_today(tctx: TimerCtx) -> None:
    found = await _milestone(tctx)
    if found is None or not _still_due(found[0], tctx):
        return
    m, eng = found
    await tctx.core.outbox.post_home(
        tctx.session,
        eng,
        Card(text=f"{ref(eng, m)} “{m.title}” is due today ({day_text(m.due_date)}).", tone="warning"),
    )


async def on_overdue(tctx: TimerCtx) -> None:
    """Flagged once per due date: the key holds the date, and a fired key is never scheduled again."""
    found = await _milestone(tctx)
    if found is None or not _still_due(found[0], tctx):
        return
    m, eng = found
    await tctx.core.outbox.post_home(
        tctx.session,
        eng,
        Card(
            text=f"⚠️ {ref(eng, m)} “{m.title}” is overdue: it was due {day_text(m.due_date)} and has not been "
            "submitted for acceptance.",
            tone="danger",
        ),
    )
    await service.transition(
        tctx.session, eng=eng, m=m, action="overdue", to=None, actor=None, now=tctx.now, data={"due": str(m.due_date)}
    )


async def on_approver(tctx: TimerCtx) -> None:
    """A client approver's morning reminder on their work days while the window is open; then the next."""
    found = await _milestone(tctx)
    if found is None:
        return
    m, eng = found
    rnd = await round_of(tctx.session, m, int(tctx.payload.get("round", 0)))
    if rnd is None or rnd.outcome is not None or rnd.round != m.round:
        return
    person = await tctx.session.get(Person, int(tctx.payload.get("person_id", 0)))
    approvers = {p.id for p in await members_with_roles(tctx.session, eng, schedule.APPROVERS)}
    if person is None or person.id not in approvers:
        return  # no longer an approver: whoever holds the seat now has their own reminders
    today = local_date(person, tctx.now)
    if is_workday(person, today) and away_reason(person, today) is None:
        card = await service.acceptance_of(tctx.session, eng, m, rnd)
        card.title = f"Reminder: your decision — {card.title}"
        await tctx.core.outbox.dm(tctx.session, person, card, engagement_id=eng.id)
    await schedule.schedule_approver(tctx.session, tctx.core, eng, m, rnd, person, max(tctx.now, tctx.timer.due_at))


async def on_window_end(tctx: TimerCtx) -> None:
    """The window ended without a decision: the channel is told and the client sponsor escalated to (once:
    one timer per round); with deemed acceptance in the round's rule, the milestone is deemed accepted."""
    found = await _milestone(tctx)
    if found is None:
        return
    m, eng = found
    rnd = await round_of(tctx.session, m, int(tctx.payload.get("round", 0)))
    if rnd is None or rnd.outcome is not None or rnd.round != m.round:
        return
    r = ref(eng, m)
    card = await service.acceptance_of(tctx.session, eng, m, rnd)
    sponsors = await members_with_roles(tctx.session, eng, ("client_sponsor",))
    names = ", ".join(mention(p.id, p.display_name) for p in sponsors) or "the client sponsor (nobody holds the seat)"
    then = (
        "It is now deemed accepted, as the contract says."
        if rnd.deemed_acceptance
        else "Escalated to the client sponsor; it stays open until someone decides."
    )
    await tctx.core.outbox.post_home(
        tctx.session,
        eng,
        Card(
            title=f"Acceptance window ended: {r} · {m.title}",
            text=f"The window of round {rnd.round} ({rnd.window_days} business days) ended {when(rnd.window_ends_at)} "
            f"without a decision. {names}: {then}",
            tone="danger",
        ),
    )
    card.title = f"Escalation: the acceptance window of {r} ended — {card.title}"
    for p in sponsors:
        await tctx.core.outbox.dm(tctx.session, p, card, engagement_id=eng.id)
    await audit.record(
        tctx.session,
        now=tctx.now,
        engagement_id=eng.id,
        entity_type=service.ENTITY,
        entity_id=m.id,
        action="escalated",
        from_state=m.state,
        to_state=m.state,
        actor=None,
        data={"ref": r, "round": rnd.round, "to": [p.id for p in sponsors], "deemed": rnd.deemed_acceptance},
    )
    if rnd.deemed_acceptance:
        try:
            await service.decide(
                tctx.session,
                tctx.core,
                eng=eng,
                m=m,
                rnd=rnd,
                decision=service.Decision("deemed_accepted"),
                actor=None,
                now=tctx.now,
                from_window_end=True,
            )
        except UserError:
            return  # decided a moment ago by a person: theirs stands


async def on_warranty_review(tctx: TimerCtx) -> None:
    """Both PMs are asked, by DM, to hold the warranty review before the warranty ends."""
    eng = await tctx.session.get(Engagement, int(tctx.payload.get("engagement_id", 0)))
    if eng is None:
        return
    record = await acceptance(tctx.session, eng)
    if record is None or record.warranty_until.isoformat() != tctx.payload.get("until"):
        return
    for p in await members_with_roles(tctx.session, eng, schedule.PMS):
        await tctx.core.outbox.dm(
            tctx.session,
            p,
            Card(
                title=f"{eng.key}: time for the warranty review",
                text=f"The warranty of {eng.name} ends {day_text(record.warranty_until)}. Please hold the warranty "
                "review with the other side's PM before then: open defects, what is still owed, what happens after.",
                tone="warning",
            ),
            engagement_id=eng.id,
        )


async def on_change_remind(tctx: TimerCtx) -> None:
    """A due-date proposal still waits: remind this admin of the deciding side by DM (the card with its
    buttons), and again on their next work day while it waits and they are still an admin of that side."""
    change = await tctx.session.get(MilestoneChange, int(tctx.payload.get("change_id", 0)))
    if change is None or change.status != "pending":
        return
    m = await load(tctx.session, change.milestone_id)
    if m is None:
        return
    eng = await must_get(tctx.session, Engagement, m.engagement_id)
    deciding, proposing = await service.deciders(tctx.session, eng, change)
    person = await tctx.session.get(Person, int(tctx.payload.get("person_id", 0)))
    if person is None or person.id not in deciding:  # no longer an admin of that side
        return
    proposer = await tctx.session.get(Person, change.proposed_by_id) if change.proposed_by_id else None
    await tctx.core.outbox.dm(
        tctx.session,
        person,
        Card(
            text=f"Reminder: moving the due date of {ref(eng, m)} “{m.title}” ({day_text(change.old_due)} → "
            f"{day_text(change.new_due)}) waits for your side's decision."
        ),
        engagement_id=eng.id,
    )
    await tctx.core.outbox.dm(
        tctx.session, person, change_card(eng, m, change, proposer, deciding, proposing), engagement_id=eng.id
    )
    await schedule.schedule_change_reminder(tctx.session, tctx.core, eng, change, person, tctx.now)


async def on_item_overdue(tctx: TimerCtx) -> None:
    """A rectification item still open after its due date: the vendor admins are told once (one key per item)."""
    item = await tctx.session.get(RectificationItem, int(tctx.payload.get("item_id", 0)))
    if item is None or item.done_at is not None:
        return
    m = await load(tctx.session, item.milestone_id)
    if m is None or m.state in service.DONE_STATES:
        return
    eng = await must_get(tctx.session, Engagement, m.engagement_id)
    for person in await members_with_roles(tctx.session, eng, schedule.VENDOR_ADMINS):
        await tctx.core.outbox.dm(
            tctx.session,
            person,
            Card(
                title=f"⚠️ Rectification {item_ref(eng, m, item)} is overdue",
                text=f"{ref(eng, m)} “{m.title}”: “{item.text}” was due {day_text(item.due_date)}. Mark it done "
                f"with `/milestone done {item_ref(eng, m, item)}` and resubmit the milestone.",
                tone="danger",
            ),
            engagement_id=eng.id,
        )
    await audit.record(
        tctx.session,
        now=tctx.now,
        engagement_id=eng.id,
        entity_type=service.ENTITY,
        entity_id=m.id,
        action="rectification_overdue",
        actor=None,
        data={"item": item_ref(eng, m, item), "due": item.due_date.isoformat()},
    )
