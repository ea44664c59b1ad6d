"""The acceptance record: after a demo, the client side records accepted / accepted with remarks /
not accepted (with reasons). Only client-side members may; one outcome per occurrence, never edited."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.features.demos import cards
from bot.kernel import audit
from bot.kernel.context import Ctx
from bot.kernel.errors import UserError
from bot.kernel.messages import Card, Form, Input, Reply
from bot.kernel.people import CLIENT_ROLES, membership_of, role_label
from bot.kernel.rows import get_or_refuse
from bot.kernel.text import MAX_TEXT, clean, when
from storage.models import Engagement, Person
from storage.models.demos import Demo, DemoOccurrence, DemoOutcome

NEEDS_REMARKS = {"accepted_with_remarks": "Remarks", "not_accepted": "Reasons"}


async def _load(ctx: Ctx, occ_id: object) -> tuple[Engagement, Demo, DemoOccurrence]:
    try:
        occ = await ctx.session.get(DemoOccurrence, int(str(occ_id)))
    except ValueError:
        occ = None
    if occ is None:
        raise UserError("I can't find that demo any more. Nothing was recorded.")
    demo = await get_or_refuse(ctx.session, Demo, occ.demo_id)
    engagement = await get_or_refuse(ctx.session, Engagement, occ.engagement_id)
    return engagement, demo, occ


async def _check(ctx: Ctx, engagement: Engagement, demo: Demo, occ: DemoOccurrence) -> None:
    """Refuse anyone but the client side, an outcome before the demo began, and a second outcome."""
    membership = await membership_of(ctx.session, engagement, ctx.person)
    roles = set(membership.roles or []) if membership else set()
    if not roles & CLIENT_ROLES:
        raise UserError(
            "Only the client side ("
            + ", ".join(role_label(r) for r in sorted(CLIENT_ROLES))
            + f") records a demo's outcome; your roles in {engagement.key}: "
            + (", ".join(role_label(r) for r in sorted(roles)) or "none")
            + ". Nothing was changed."
        )
    existing = await ctx.session.scalar(select(DemoOutcome).where(DemoOutcome.occurrence_id == occ.id))
    if existing is not None:
        who = await ctx.session.get(Person, existing.recorded_by_id)
        raise UserError(
            f"The outcome of this demo is already recorded: {cards.OUTCOME_LABELS[existing.outcome]} "
            f"by {who.display_name if who else 'someone'} ({when(existing.recorded_at)}). "
            "Recorded outcomes are not changed."
        )
    if occ.status == "cancelled":
        raise UserError("That demo was cancelled; there is no outcome to record.")
    if ctx.now < occ.starts_at:
        raise UserError("That demo has not taken place yet; record the outcome after it.")


def result_card(engagement: Engagement, demo: Demo, occ: DemoOccurrence, outcome: DemoOutcome, who: Person) -> Card:
    tone = {"accepted": "good", "accepted_with_remarks": "warning", "not_accepted": "danger"}[outcome.outcome]
    text = (
        f"{cards.demo_ref(engagement, demo)} ({when(occ.starts_at)}): "
        f"{cards.OUTCOME_LABELS[outcome.outcome]}, recorded by {who.display_name} {when(outcome.recorded_at)}."
    )
    if outcome.remarks:
        text += f"\n{NEEDS_REMARKS.get(outcome.outcome, 'Remarks')}: {outcome.remarks}"
    return Card(
        title=f"Demo outcome: {demo.title}",
        text=text,
        tone=tone,
        footer="Part of the acceptance record: `/demo history`.",
    )


async def record(ctx: Ctx, occ_id: object, outcome: str, remarks: str | None) -> Reply:
    engagement, demo, occ = await _load(ctx, occ_id)
    if outcome not in cards.OUTCOME_LABELS:
        raise UserError("That is not an outcome I know. Nothing was recorded.")
    await _check(ctx, engagement, demo, occ)
    remarks = clean(remarks, limit=MAX_TEXT, what="The remarks") or None
    if outcome in NEEDS_REMARKS and not remarks:
        raise UserError(
            f"{NEEDS_REMARKS[outcome]} are required for “{cards.OUTCOME_LABELS[outcome]}”.", field="remarks"
        )
    row = DemoOutcome(
        occurrence_id=occ.id,
        engagement_id=engagement.id,
        outcome=outcome,
        remarks=remarks,
        recorded_by_id=ctx.person.id,
        recorded_at=ctx.now,
    )
    try:
        async with ctx.session.begin_nested():
            ctx.session.add(row)
            await ctx.session.flush()
    except IntegrityError:
        raise UserError(
            "Someone recorded this demo's outcome a moment ago; recorded outcomes are not changed."
        ) from None
    await audit.record(
        ctx.session,
        now=ctx.now,
        engagement_id=engagement.id,
        entity_type="demo_occurrence",
        entity_id=occ.id,
        action="outcome_recorded",
        to_state=outcome,
        actor=ctx.person,
        comment=remarks,
        data={
            "demo_id": demo.id,
            "demo": cards.demo_ref(engagement, demo),
            "title": demo.title,
            "starts_at": occ.starts_at.isoformat(),
        },
    )
    card = result_card(engagement, demo, occ, row, ctx.person)
    await ctx.core.outbox.update(ctx.session, f"demo:occ:{occ.id}:outcome", card)
    return Reply.say(
        f"Recorded: {cards.OUTCOME_LABELS[outcome]} for {cards.demo_ref(engagement, demo)}. Thank you.", tone="good"
    )


async def on_click(ctx: Ctx, value: str) -> Reply:
    """Buttons under the outcome request: `<occurrence id>:<outcome>`."""
    occ_id, _, outcome = (value or "").partition(":")
    engagement, demo, occ = await _load(ctx, occ_id)
    if outcome not in cards.OUTCOME_LABELS:
        raise UserError("That is not an outcome I know. Nothing was recorded.")
    await _check(ctx, engagement, demo, occ)
    if outcome in NEEDS_REMARKS:
        label = NEEDS_REMARKS[outcome]
        return Reply(
            form=Form(
                form_id="demo.outcome",
                title=f"{cards.OUTCOME_LABELS[outcome]}"[:24],
                text=f"{cards.demo_ref(engagement, demo)} · {demo.title}",
                inputs=[
                    Input(
                        "remarks",
                        label,
                        kind="multiline",
                        required=True,
                        max_length=MAX_TEXT,
                        placeholder="What the vendor should know"
                        if outcome != "not_accepted"
                        else "Why it is not accepted, and what acceptance needs",
                    )
                ],
                submit_label="Record",
                state={"occ": occ.id, "outcome": outcome},
            )
        )
    return await record(ctx, occ.id, outcome, None)


async def on_form(ctx: Ctx, values: dict[str, str], state: dict) -> Reply:
    return await record(ctx, state.get("occ"), str(state.get("outcome") or ""), values.get("remarks"))


async def history_card(ctx: Ctx, engagement: Engagement, limit: int = 30) -> Card:
    from bot.features.demos.service import stale_demo_flag

    rows = list(
        await ctx.session.execute(
            select(DemoOccurrence, Demo, DemoOutcome, Person)
            .join(Demo, Demo.id == DemoOccurrence.demo_id)
            .outerjoin(DemoOutcome, DemoOutcome.occurrence_id == DemoOccurrence.id)
            .outerjoin(Person, Person.id == DemoOutcome.recorded_by_id)
            .where(
                DemoOccurrence.engagement_id == engagement.id,
                DemoOccurrence.starts_at <= ctx.now,
                DemoOccurrence.status.in_(("scheduled", "ended")),
            )
            .order_by(DemoOccurrence.starts_at.desc())
            .limit(limit)
        )
    )
    lines = []
    for occ, demo, outcome, who in rows:
        # In the reader's own zone (a `when` token), not the engagement's.
        head = f"{cards.demo_ref(engagement, demo)} · {demo.title} · {when(occ.starts_at)}"
        if outcome is None:
            lines.append(f"{head} — no outcome recorded yet")
        else:
            line = (
                f"{head} — {cards.OUTCOME_LABELS[outcome.outcome]} by {who.display_name}, {when(outcome.recorded_at)}"
            )
            if outcome.remarks:
                line += f": {outcome.remarks}"
            lines.append(line)
    text = "\n".join(lines) if lines else "No demo has taken place yet."
    flag = await stale_demo_flag(ctx.session, engagement, ctx.now)
    return Card(
        title=f"Acceptance record — {engagement.key}", text=text, footer=flag or "", tone="warning" if flag else "info"
    )
