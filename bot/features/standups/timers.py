"""Timer handlers (registered in commands.py): a participant's prompt, their one reminder, and a day's
digest. Each re-checks what it is about; the planning they call is in service.py."""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import select

from bot.features.standups import cards, queries, service
from bot.features.standups.settings import is_participant, settings
from bot.kernel import people
from bot.kernel.context import TimerCtx
from storage.models import Engagement, Person
from storage.models.standups import StandupDigest, StandupEntry

log = logging.getLogger("cadence.standups")


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
        await service.send_prompt(session, core, engagement, person, day, conf, now)
    else:
        log.info("standup prompt %s skipped: %s", tctx.timer.key, reason)
    await service.plan_person(session, core, engagement, person, now, fired_key=tctx.timer.key, digests="extend")


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


async def on_digest(tctx: TimerCtx) -> None:
    session, core, now = tctx.session, tctx.core, tctx.now
    engagement = await session.get(Engagement, tctx.payload["engagement_id"])
    if engagement is None:
        return
    day = date.fromisoformat(tctx.payload["day"])
    existing = await session.scalar(
        select(StandupDigest).where(StandupDigest.engagement_id == engagement.id, StandupDigest.day == day)
    )
    if existing is not None:
        return  # posted already (a duplicate timer cannot exist, but a re-run must not post twice)
    card = await queries.build_digest(session, engagement, day, now)
    if card is None:
        return
    key = service.digest_key(engagement.id, day)
    await core.outbox.post_home(session, engagement, card, ref_key=key, purpose=settings(engagement).digest_purpose)
    session.add(
        StandupDigest(engagement_id=engagement.id, day=day, ref_key=key, posted_at=now, updated_at=now, late_count=0)
    )
    await session.flush()
