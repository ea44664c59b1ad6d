"""SLA timers: a warning at the policy's warn_pct (75 % by default) and a breach notice at 100 % of each clock's target.

Timer rows carry keys `defect:{id}:{clock}:{kind}:g{generation}`. `sync()` runs after every change
and makes the pending timers match the clocks: scheduled (or moved) while a clock runs, cancelled
while it is paused or stopped. A severity change bumps the generation so a new schedule never
collides with a fired timer. The handler re-checks the clock when it fires, so a stale timer is
harmless: nothing is sent after the clock stopped, while it is paused, or twice (the defect's
`*_warned_at` / `*_breached_at` marks)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.defects import states as st
from bot.features.defects.cards import BREACH, WARN, defect_card, notice_card, page_card
from bot.features.defects.queries import clocks, get, ref_key
from bot.features.defects.sla import CLOCKS
from bot.kernel import audit
from bot.kernel.clock import utc
from bot.kernel.context import TimerCtx
from bot.kernel.messages import Card
from bot.kernel.people import members_with_roles
from bot.kernel.rows import must_get
from storage.models import Engagement, Person
from storage.models.defects import Defect

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

KIND = "defect.sla"
RETRY_BUSY = timedelta(seconds=5)


def timer_key(defect: Defect, clock: str, kind: str) -> str:
    return f"defect:{defect.id}:{clock}:{kind}:g{defect.timer_generation or 0}"


async def sync(session: AsyncSession, core: Cadence, defect: Defect, engagement: Engagement, now: datetime) -> None:
    """Bring the defect's breach marks, cached deadlines and pending timers in line with its clocks."""
    for clock in clocks(defect, now):
        name = clock.name
        # A clock that stopped late keeps a breach mark even if no notice could fire (e.g. the
        # process was down, or a severity change moved the deadline into the past at a stop).
        if clock.breached and getattr(defect, f"{name}_breached_at") is None and not clock.running:
            setattr(defect, f"{name}_breached_at", clock.due_at or now)
        setattr(defect, f"{name}_due_at", clock.due_at if clock.running else None)
        active = clock.running and defect.state != st.CLOSED
        for kind, due in ((WARN, clock.warn_at), (BREACH, clock.due_at)):
            key = timer_key(defect, name, kind)
            done = getattr(defect, f"{name}_{'warned' if kind == WARN else 'breached'}_at") is not None
            if kind == WARN and defect_breach_done(defect, name):
                done = True
            if active and due is not None and not done:
                await core.timers.schedule(
                    session,
                    kind=KIND,
                    due_at=due,
                    key=key,
                    engagement_id=engagement.id,
                    payload={
                        "defect_id": defect.id,
                        "clock": name,
                        "kind": kind,
                        "generation": defect.timer_generation or 0,
                    },
                )
            else:
                await core.timers.cancel(session, key)


def defect_breach_done(defect: Defect, clock: str) -> bool:
    return getattr(defect, f"{clock}_breached_at") is not None


async def recipients(session: AsyncSession, defect: Defect, engagement: Engagement) -> list[Person]:
    """The assignee (or the vendor leads when nobody is assigned) and the vendor PMs, once each."""
    people: list[Person] = []
    if defect.assignee_id:
        assignee = await session.get(Person, defect.assignee_id)
        if assignee is not None:
            people.append(assignee)
    else:
        people += await members_with_roles(session, engagement, ["vendor_lead"])
    people += await members_with_roles(session, engagement, ["vendor_pm"])
    seen: set[int] = set()
    out = []
    for p in people:
        if p.id not in seen:
            seen.add(p.id)
            out.append(p)
    return out


async def _notify(session: AsyncSession, core: Cadence, defect: Defect, engagement: Engagement, card: Card) -> None:
    for person in await recipients(session, defect, engagement):
        await core.outbox.dm(session, person, card, engagement_id=engagement.id)
    await core.outbox.post_home(session, engagement, card, purpose="escalation")


async def page_s1(session: AsyncSession, core: Cadence, defect: Defect, engagement: Engagement, now: datetime) -> None:
    """An S1 pages the vendor PM and lead by DM at once."""
    card = page_card(defect, engagement, now)
    seen: set[int] = set()
    for person in await members_with_roles(session, engagement, ["vendor_pm", "vendor_lead"]):
        if person.id not in seen:
            seen.add(person.id)
            await core.outbox.dm(session, person, card, engagement_id=engagement.id)
    await audit.record(
        session,
        now=now,
        engagement_id=engagement.id,
        entity_type="defect",
        entity_id=defect.id,
        action="s1_paged",
        data={"people": sorted(seen)},
    )


async def on_timer(tctx: TimerCtx) -> None:
    """A warning or breach timer fired: re-check the clock, then notify (at most once)."""
    payload = tctx.payload
    clock_name, kind = payload.get("clock"), payload.get("kind")
    if clock_name not in CLOCKS or kind not in (WARN, BREACH):
        return
    defect_id = int(payload.get("defect_id", 0))
    # Never wait for a defect a person is changing right now: this transaction already holds timer
    # rows that their change may need (a lock-order deadlock). Try again a few seconds later.
    defect = await get(tctx.session, defect_id=defect_id, lock=True, skip_locked=True)
    if defect is None:
        if await tctx.session.scalar(select(Defect.id).where(Defect.id == defect_id)) is not None:
            tctx.timer.due_at = tctx.now + RETRY_BUSY
            tctx.core.note_due(tctx.timer.due_at)
        return
    if defect.state == st.CLOSED:
        return
    if int(payload.get("generation", -1)) != (defect.timer_generation or 0):
        return  # superseded by a severity change
    await tctx.session.refresh(defect, ["pauses"])
    engagement = await must_get(tctx.session, Engagement, defect.engagement_id)
    now = tctx.now
    clock = next(c for c in clocks(defect, now) if c.name == clock_name)
    if not clock.running:
        return  # stopped or paused since: a stale timer does nothing
    warned_attr, breached_attr = f"{clock_name}_warned_at", f"{clock_name}_breached_at"
    if getattr(defect, breached_attr) is not None:
        return
    target_at = clock.warn_at if kind == WARN else clock.due_at
    if target_at is None:
        return
    if target_at > now:
        tctx.timer.due_at = target_at  # the deadline moved later: fire then instead
        tctx.core.note_due(target_at)
        return
    due_at = clock.due_at
    if due_at is None:  # only a paused clock has no deadline, and it is not running
        return
    assignee = await tctx.session.get(Person, defect.assignee_id) if defect.assignee_id else None
    if kind == WARN:
        if getattr(defect, warned_attr) is not None or due_at <= now:
            return  # already warned, or the breach notice is due and says more
        setattr(defect, warned_attr, now)
        await _notify(
            tctx.session,
            tctx.core,
            defect,
            engagement,
            notice_card(defect, engagement, clock_name, WARN, due_at, now, assignee=assignee),
        )
        await audit.record(
            tctx.session,
            now=now,
            engagement_id=engagement.id,
            entity_type="defect",
            entity_id=defect.id,
            action=f"{clock_name}_warning",
            data={
                "due_at": due_at.isoformat(),
                "pct": clock.pct,
                "lateness_seconds": tctx.lateness.total_seconds(),
            },
        )
    else:
        setattr(defect, breached_attr, due_at)
        lateness = max(now - due_at, timedelta(0))
        planned_at = utc(tctx.timer.created_at) if tctx.timer.created_at is not None else None
        moved_past = planned_at is not None and planned_at >= due_at
        await _notify(
            tctx.session,
            tctx.core,
            defect,
            engagement,
            notice_card(
                defect,
                engagement,
                clock_name,
                BREACH,
                due_at,
                now,
                lateness,
                assignee=assignee,
                moved_past=moved_past,
            ),
        )
        await audit.record(
            tctx.session,
            now=now,
            engagement_id=engagement.id,
            entity_type="defect",
            entity_id=defect.id,
            action=f"{clock_name}_breach",
            data={
                "due_at": due_at.isoformat(),
                "severity": defect.severity,
                "lateness_seconds": lateness.total_seconds(),
            },
        )
    defect.updated_at = now
    await tctx.session.flush()
    await tctx.core.outbox.update(
        tctx.session, ref_key(defect), await defect_card(tctx.session, engagement, defect, now)
    )
