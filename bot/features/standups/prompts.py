"""Prompt and reminder timers. Each participant has at most one pending prompt per engagement: the
next slot of their PromptRule, keyed by (engagement, person, local date) so a day is never prompted
twice. Firing one materialises the next."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.standups import cards
from bot.features.standups.config import StandupSettings, is_participant, settings
from bot.features.standups.entries import open_entry
from bot.kernel import people
from bot.kernel.context import TimerCtx
from bot.kernel.rows import must_get
from bot.kernel.timers import key_starts_with
from storage.models import Engagement, Membership, Person, Timer
from storage.models.standups import StandupEntry

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

log = logging.getLogger("cadence.standups")

PROMPT = "standup.prompt"
REMINDER = "standup.reminder"


def prompt_prefix(engagement_id: int, person_id: int) -> str:
    return f"{PROMPT}:{engagement_id}:{person_id}:"


def prompt_key(engagement_id: int, person_id: int, day: date) -> str:
    return f"{prompt_prefix(engagement_id, person_id)}{day.isoformat()}"


def reminder_key(engagement_id: int, person_id: int, day: date) -> str:
    return f"{REMINDER}:{engagement_id}:{person_id}:{day.isoformat()}"


async def plan_person(
    session: AsyncSession,
    core: Cadence,
    engagement: Engagement,
    person: Person,
    now: datetime,
    *,
    fired_key: str | None = None,
    digests: str = "replan",
    membership: Membership | None = None,
) -> tuple[date, datetime] | None:
    """Make the person's one pending prompt in this engagement the right one (or none if they do not
    take part). An overdue prompt still pending is kept; a day already prompted is never chosen.
    `digests`: "replan" that day's digest (something changed: a full pass over the participants),
    "extend" only move it later if this prompt needs that (a prompt fired: nothing else changed), "none"."""
    from bot.features.standups.digest import extend_digest, plan_digest

    prefix = prompt_prefix(engagement.id, person.id)
    # In one query: every pending prompt (to keep or cancel) and every prompt from two days ago on, fired
    # or not, so a day already prompted is never chosen again. Keys end in the ISO date, so they sort by
    # day, and two days before today in UTC is before yesterday in every zone (the first slot looked at).
    since = prefix + (now.astimezone(UTC).date() - timedelta(days=2)).isoformat()
    known = {
        t.key: t
        for t in await session.scalars(
            select(Timer).where(key_starts_with(session, prefix), or_(Timer.status == "pending", Timer.key >= since))
        )
        if t.key is not None  # (all of them: they start with the prefix)
    }
    pending = {k: t for k, t in known.items() if t.status == "pending" and k != fired_key}
    chosen: tuple[date, datetime] | None = None
    if await is_participant(session, engagement, person, membership):
        rule = settings(engagement).rule_for(person)
        today = now.astimezone(rule.zone).date()
        for day, instant in rule.slots(today - timedelta(days=1), today + timedelta(days=400)):
            key = prompt_key(engagement.id, person.id, day)
            if key == fired_key:
                continue
            if instant <= now and key not in pending:
                continue  # a past slot never scheduled: not sent retroactively
            existing = known.get(key) if key >= since else await core.timers.get(session, key)
            if existing is not None and existing.status not in ("pending", "cancelled"):
                continue  # that day was already prompted
            chosen = (day, instant)
            break
    keep = prompt_key(engagement.id, person.id, chosen[0]) if chosen else None
    for key in pending:
        if key != keep:
            await core.timers.cancel(session, key)
    if chosen is not None and keep is not None:  # (keep is None only when nothing was chosen)
        day, instant = chosen
        await core.timers.schedule(
            session,
            kind=PROMPT,
            due_at=instant,
            key=keep,
            engagement_id=engagement.id,
            payload={"engagement_id": engagement.id, "person_id": person.id, "day": day.isoformat()},
            existing=known.get(keep) if keep >= since else await core.timers.get(session, keep),
        )
        if digests == "replan":
            await plan_digest(session, core, engagement, day, now)
        elif digests == "extend":
            await extend_digest(session, core, engagement, day, instant, now)
    return chosen


async def plan_engagement(session: AsyncSession, core: Cadence, engagement: Engagement, now: datetime) -> None:
    """Re-plan every member's next prompt (after a settings change), then the digests of those days."""
    from bot.features.standups.digest import plan_digest

    days = set()
    for m in await people.memberships(session, engagement):
        person = m.person or await must_get(session, Person, m.person_id)
        chosen = await plan_person(session, core, engagement, person, now, digests="none", membership=m)
        if chosen is not None:
            days.add(chosen[0])
    for day in sorted(days):
        await plan_digest(session, core, engagement, day, now)


async def plan_for_person_everywhere(session: AsyncSession, core: Cadence, person: Person, now: datetime) -> None:
    """After a zone, work-day or absence change: re-plan the person in each of their engagements."""
    for m in await session.scalars(select(Membership).where(Membership.person_id == person.id)):
        engagement = await session.get(Engagement, m.engagement_id)
        if engagement is not None:
            await plan_person(session, core, engagement, person, now)


async def _subject(tctx: TimerCtx) -> tuple[Engagement, Person, date] | None:
    """The engagement, person and standup date a prompt or reminder timer is about (None if gone)."""
    p = tctx.payload
    engagement = await tctx.session.get(Engagement, p["engagement_id"])
    person = await tctx.session.get(Person, p["person_id"])
    if engagement is None or person is None:
        return None
    return engagement, person, date.fromisoformat(p["day"])


async def on_prompt(tctx: TimerCtx) -> None:
    """A prompt is due: DM the first question (unless already answered), set the reminder, plan the
    next prompt."""
    session, core, now = tctx.session, tctx.core, tctx.now
    loaded = await _subject(tctx)
    if loaded is None:
        return
    engagement, person, day = loaded
    conf = settings(engagement)
    rule = conf.rule_for(person)
    reason = None
    if not await is_participant(session, engagement, person):
        reason = "not a participant any more"
    elif not rule.is_prompt_day(day):
        reason = people.away_reason(person, day) or "not a standup day"
    elif now.astimezone(rule.zone).date() > day:
        reason = f"{tctx.lateness} late: the day is over"
    if reason is None:
        await _prompt(session, core, engagement, person, day, conf, now)
    else:
        log.info("standup prompt %s skipped: %s", tctx.timer.key, reason)
    await plan_person(session, core, engagement, person, now, fired_key=tctx.timer.key, digests="extend")


async def _prompt(
    session: AsyncSession,
    core: Cadence,
    engagement: Engagement,
    person: Person,
    day: date,
    conf: StandupSettings,
    now: datetime,
) -> None:
    entry = await open_entry(session, engagement, person, day, conf, now)
    entry.expected = True
    entry.prompted_at = now
    if entry.status == "answered":
        return  # answered early: nothing to ask
    # An earlier day left unfinished no longer catches this person's replies.
    for old in await session.scalars(
        select(StandupEntry).where(
            StandupEntry.engagement_id == engagement.id,
            StandupEntry.person_id == person.id,
            StandupEntry.status == "answering",
            StandupEntry.day < day,
        )
    ):
        old.status = "open"
    entry.status = "answering"
    entry.position = next((i for i, a in enumerate(entry.answers or []) if not a), 0)
    if entry.position >= len(entry.questions):
        entry.position = 0
    await core.outbox.dm(session, person, cards.prompt_card(engagement, entry), engagement_id=engagement.id)
    if conf.reminder > timedelta(0):
        await core.timers.schedule(
            session,
            kind=REMINDER,
            due_at=now + conf.reminder,
            key=reminder_key(engagement.id, person.id, day),
            engagement_id=engagement.id,
            payload={"engagement_id": engagement.id, "person_id": person.id, "day": day.isoformat()},
        )


async def on_reminder(tctx: TimerCtx) -> None:
    """One reminder to someone who has not answered yet; nothing if they have."""
    session, core = tctx.session, tctx.core
    loaded = await _subject(tctx)
    if loaded is None:
        return
    engagement, person, day = loaded
    entry = await session.scalar(
        select(StandupEntry).where(
            StandupEntry.engagement_id == engagement.id, StandupEntry.person_id == person.id, StandupEntry.day == day
        )
    )
    if entry is None or entry.status == "answered":
        return
    if people.away_reason(person, day) or not await is_participant(session, engagement, person):
        return
    if entry.status != "answering":
        entry.status = "answering"
    if entry.position >= len(entry.questions):
        entry.position = 0
    await core.outbox.dm(
        session, person, cards.prompt_card(engagement, entry, reminder=True), engagement_id=engagement.id
    )
