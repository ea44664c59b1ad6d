"""Reminders and escalation for requests waiting for approval. Timers are rows keyed per
request/approver/local date (reminders) and per request/round (escalation), so a duplicate is
impossible; nothing expires silently: reminders go on daily until a decision."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from bot.features.change_requests import queries
from bot.features.change_requests.cards import decision_buttons, ref
from bot.features.change_requests.settings import DEFAULTS
from bot.kernel import audit
from bot.kernel.context import TimerCtx
from bot.kernel.engagements import bindings
from bot.kernel.messages import Card
from bot.kernel.people import (
    REMINDER_AT,
    away_reason,
    holiday_name,
    is_workday,
    local_date,
    members_with_roles,
    next_workday_at,
)
from bot.kernel.rows import must_get
from bot.kernel.text import person as mention
from bot.kernel.text import when
from bot.kernel.zones import zone_or_utc
from storage.models import Engagement, Person
from storage.models.change_requests import ChangeRequest

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.kernel.dispatcher import Cadence

REMIND = "cr.remind"
ESCALATE = "cr.escalate"
# Who hears of an escalation (besides its channel): the engagement's admins, less the approvers it is about.
ESCALATE_TO = ("client_sponsor", "client_pm", "vendor_pm", "vendor_lead")


def remind_key(cr_id: int, person_id: int, day: date) -> str:
    return f"{REMIND}:{cr_id}:{person_id}:{day.isoformat()}"


def escalate_key(cr_id: int, round_: int) -> str:
    return f"{ESCALATE}:{cr_id}:{round_}"


def reminder_time(cr_settings: dict) -> time:
    """The approvers' local reminder time of these settings (a stored value that is not HH:MM: the default)."""
    try:
        h, m = (int(x) for x in str(cr_settings.get("reminder_time")).split(":", 1))
        return time(h, m)
    except (TypeError, ValueError):
        return REMINDER_AT


def escalate_after(cr_settings: dict) -> int:
    """Work days a round waits before its escalation (none stored: the default)."""
    return int(cr_settings.get("escalate_after_workdays") or DEFAULTS["escalate_after_workdays"])


def add_workdays(start: datetime, n: int, *, tz_name: str, country: str | None) -> datetime:
    """`start` plus `n` work days (Monday–Friday, skipping the country's public holidays), same local time."""
    tz = zone_or_utc(tz_name)
    local = start.astimezone(tz)
    day, counted = local.date(), 0
    while counted < n:
        day += timedelta(days=1)
        if day.weekday() < 5 and not holiday_name(country, day):
            counted += 1
    return datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=tz).astimezone(start.tzinfo)


async def schedule_reminder(
    session: AsyncSession, core: Cadence, *, cr: ChangeRequest, person: Person, now: datetime, at: time
) -> None:
    due, day = next_workday_at(person, now, at)
    await core.timers.schedule(
        session,
        kind=REMIND,
        due_at=due,
        key=remind_key(cr.id, person.id, day),
        payload={"request_id": cr.id, "person_id": person.id},
        engagement_id=cr.engagement_id,
    )


async def schedule_round(
    session: AsyncSession,
    core: Cadence,
    *,
    cr: ChangeRequest,
    engagement: Engagement,
    approvers: list[Person],
    now: datetime,
) -> None:
    """Daily reminders for each approver, and the escalation of this round."""
    s = queries.settings(engagement)
    at = reminder_time(s)
    for p in approvers:
        await schedule_reminder(session, core, cr=cr, person=p, now=now, at=at)
    days = escalate_after(s)
    due = add_workdays(cr.pending_since or now, days, tz_name=engagement.home_tz, country=engagement.client_country)
    await core.timers.schedule(
        session,
        kind=ESCALATE,
        due_at=due,
        key=escalate_key(cr.id, cr.round),
        payload={"request_id": cr.id, "round": cr.round, "workdays": days},
        engagement_id=engagement.id,
    )


async def cancel_for(session: AsyncSession, core: Cadence, cr: ChangeRequest, person_id: int) -> None:
    await core.timers.cancel_prefix(session, f"{REMIND}:{cr.id}:{person_id}:")


async def cancel_all(session: AsyncSession, core: Cadence, cr: ChangeRequest) -> None:
    await core.timers.cancel_prefix(session, f"{REMIND}:{cr.id}:")
    await core.timers.cancel_prefix(session, f"{ESCALATE}:{cr.id}:")


async def on_remind(tctx: TimerCtx) -> None:
    """A daily reminder to one approver (or their delegate while they are away); then the next one."""
    session, core, now = tctx.session, tctx.core, tctx.now
    cr = await queries.load(session, int(tctx.payload["request_id"]))
    person = await session.get(Person, int(tctx.payload["person_id"]))
    if cr is None or person is None or cr.state != "pending_approval":
        return
    engagement = await must_get(session, Engagement, cr.engagement_id)
    t = await queries.tally_of(session, cr, engagement)
    if person.id not in t.approvers():
        return  # no longer an approver of this request
    decided = {d.approver_id for d in await queries.round_decisions(session, cr)}
    if person.id in decided or person.id not in t.waiting_for():
        return  # decided, or their side's quorum is met without them (`any`, a minor change): nothing to ask
    r = ref(engagement, cr)
    since = f"waiting since {when(cr.pending_since)}" if cr.pending_since else "waiting"
    today = local_date(person, now)
    reason = away_reason(person, today)
    if not is_workday(person, today):
        pass  # a reminder moved onto a day off (zone or work days changed): skip it, plan the next
    elif reason is None:
        await core.outbox.dm(
            session,
            person,
            Card(
                title=f"Reminder: {r} · {cr.title}",
                text=f"This change request needs your decision ({since}).",
                buttons=decision_buttons(cr),
                tone="warning",
            ),
            engagement_id=engagement.id,
        )
    elif person.delegate_id:
        delegate = await session.get(Person, person.delegate_id)
        if delegate is not None and delegate.id != cr.requester_id:
            await core.outbox.dm(
                session,
                delegate,
                Card(
                    title=f"Reminder: {r} · {cr.title}",
                    text=f"{mention(person.id, person.display_name)} is away ({reason}); as their delegate you can "
                    f"decide on their behalf ({since}).",
                    buttons=decision_buttons(cr),
                    tone="warning",
                ),
                engagement_id=engagement.id,
            )
    at = reminder_time(queries.settings(engagement))
    await schedule_reminder(session, core, cr=cr, person=person, now=max(now, tctx.timer.due_at), at=at)


async def on_escalate(tctx: TimerCtx) -> None:
    """After N work days without a decision: tell someone new, once per round: the engagement's admins
    (client sponsor and PM, vendor PM and lead) who are not among the approvers still waiting (they have had
    their reminders), by DM, and the escalation channel (or the home channel when there is none)."""
    session, core, now = tctx.session, tctx.core, tctx.now
    cr = await queries.load(session, int(tctx.payload["request_id"]))
    if cr is None or cr.state != "pending_approval" or cr.round != int(tctx.payload.get("round", cr.round)):
        return
    engagement = await must_get(session, Engagement, cr.engagement_id)
    r = ref(engagement, cr)
    t = await queries.tally_of(session, cr, engagement)
    waiting = [await must_get(session, Person, pid) for pid in t.waiting_for()]
    days = int(tctx.payload.get("workdays") or escalate_after(queries.settings(engagement)))
    names = ", ".join(mention(p.id, p.display_name) for p in waiting) or "nobody who can decide"
    since = f" (since {when(cr.pending_since)})" if cr.pending_since else ""
    text = f"{r} “{cr.title}” has waited {days} work days for a decision{since}. Waiting for: {names}."
    if t.problems:
        text += "\n⚠️ " + " ".join(t.problems)
    c = Card(title=f"Escalation: {r} waits for approval", text=text, buttons=decision_buttons(cr), tone="danger")
    seen: set[int] = set()
    waiting_ids = {p.id for p in waiting}
    for p in await members_with_roles(session, engagement, list(ESCALATE_TO)):
        if p.id not in seen and p.id not in waiting_ids:
            seen.add(p.id)
            await core.outbox.dm(session, p, c, engagement_id=engagement.id)
    if await bindings(session, engagement, "escalation"):
        await core.outbox.post_home(session, engagement, c, purpose="escalation")
    else:
        await core.outbox.post_home(session, engagement, c)
    await audit.record(
        session,
        now=now,
        engagement_id=engagement.id,
        entity_type=queries.ENTITY,
        entity_id=cr.id,
        action="escalate",
        from_state=cr.state,
        to_state=cr.state,
        actor=None,
        data={
            "ref": r,
            "round": cr.round,
            "workdays": days,
            "waiting_for": [p.id for p in waiting],
            "notified": sorted(seen),
        },
    )
