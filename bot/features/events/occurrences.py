"""Occurrences and the timers that follow them, for either job's events: only the next occurrence of a series
has a row; it is added with its timers (the job's `plan_timers`), moved with a new version (its old timers
dropped, new ones planned), re-planned when settings change, and followed by the next one when it ends. Timer
handlers re-check the occurrence with `live`: a cancelled or moved one never fires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.events.cards import fmt_in
from bot.features.events.kinds import EventKind, Occ, PlanTimers, S
from bot.kernel.context import TimerCtx
from bot.kernel.rows import must_get
from bot.shared.recurrence import next_occurrence
from storage.models import Engagement

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

LATE = timedelta(minutes=5)  # later than this, a timer's post says it is late


async def plan_reminders(
    session: AsyncSession,
    core: Cadence,
    kind: EventKind[S, Occ],
    engagement: Engagement,
    occ: Occ,
    now: datetime,
    *,
    timer: str,
    offsets: list[int],
) -> None:
    """A reminder (timer kind `timer`) each of `offsets` minutes before the occurrence; those already past are
    skipped. Keyed by the occurrence's version, so a move plans them again."""
    for minutes in offsets:
        due = occ.starts_at - timedelta(minutes=minutes)
        if due > now:
            await core.timers.schedule(
                session,
                kind=timer,
                due_at=due,
                key=f"{kind.version_prefix(occ)}remind:{minutes}",
                payload={"occ": occ.id, "v": occ.version, "minutes": minutes},
                engagement_id=engagement.id,
            )


async def plan_timer(
    session: AsyncSession,
    core: Cadence,
    kind: EventKind[S, Occ],
    engagement: Engagement,
    occ: Occ,
    *,
    timer: str,
    name: str,
    due: datetime,
) -> None:
    """One more timer of the occurrence (its agenda, its end: `name`), keyed by its version."""
    payload = {"occ": occ.id, "v": occ.version}
    key = f"{kind.version_prefix(occ)}{name}"
    await core.timers.schedule(session, kind=timer, due_at=due, key=key, payload=payload, engagement_id=engagement.id)


async def drop_timers(session: AsyncSession, core: Cadence, kind: EventKind[S, Occ], occ: Occ) -> None:
    await core.timers.cancel_prefix(session, kind.timer_prefix(occ))


async def replan_upcoming(
    session: AsyncSession,
    core: Cadence,
    kind: EventKind[S, Occ],
    plan: PlanTimers[Occ],
    engagement: Engagement,
    now: datetime,
) -> int:
    """Settings changed: re-plan the pending timers of every upcoming occurrence (fired ones stay fired: a
    reminder or an agenda already posted is not posted again). Returns how many."""
    occ = kind.occurrence
    upcoming = list(
        await session.scalars(
            select(occ).where(occ.engagement_id == engagement.id, occ.status == "scheduled", occ.starts_at > now)
        )
    )
    for row in upcoming:
        await core.timers.cancel_prefix(session, kind.version_prefix(row))
        await plan(session, core, engagement, row, now)
    return len(upcoming)


async def add_occurrence(
    session: AsyncSession,
    core: Cadence,
    kind: EventKind[S, Occ],
    plan: PlanTimers[Occ],
    engagement: Engagement,
    series: S,
    start: datetime,
    now: datetime,
) -> Occ:
    start = start.astimezone(UTC)
    occ = kind.occurrence(
        series_id=series.id,
        engagement_id=engagement.id,
        original_start=start,
        starts_at=start,
        ends_at=start + timedelta(minutes=series.duration_minutes),
        status="scheduled",
        version=0,
        created_at=now,
        updated_at=now,
    )
    session.add(occ)
    await session.flush()
    await plan(session, core, engagement, occ, now)
    return occ


async def materialise_next(
    session: AsyncSession,
    core: Cadence,
    kind: EventKind[S, Occ],
    plan: PlanTimers[Occ],
    engagement: Engagement,
    series: S,
    *,
    after: datetime,
    now: datetime,
) -> Occ | None:
    """For a series: the next occurrence after `after` that has no row yet (and is not excluded)."""
    if not series.rrule or series.status != "scheduled":
        return None
    occ = kind.occurrence
    taken = list(await session.scalars(select(occ.original_start).where(occ.series_id == series.id)))
    excluded = [datetime.fromisoformat(x) for x in series.exdates or []] + taken
    nxt = next_occurrence(series.rrule, series.start_at, series.tz, max(after, now), exclude=excluded)
    if nxt is None:
        return None
    return await add_occurrence(session, core, kind, plan, engagement, series, nxt, now)


async def move_occurrence(
    session: AsyncSession,
    core: Cadence,
    kind: EventKind[S, Occ],
    plan: PlanTimers[Occ],
    engagement: Engagement,
    series: S,
    occ: Occ,
    *,
    start: datetime,
    tz: str,
    now: datetime,
) -> str:
    """Move one occurrence to `start`: its timers follow (a new version); a one-off's series moves with it (and
    takes the zone it was moved in). Returns where it was, as the announcement says it."""
    old_text = fmt_in(occ.starts_at, series.tz, offset=True)
    await drop_timers(session, core, kind, occ)
    occ.starts_at = start
    occ.ends_at = start + timedelta(minutes=series.duration_minutes)
    occ.version += 1
    occ.updated_at = now
    if not series.rrule:
        series.start_at, series.tz, occ.original_start = start, tz, start
    await plan(session, core, engagement, occ, now)
    return old_text


async def continue_series(
    session: AsyncSession,
    core: Cadence,
    kind: EventKind[S, Occ],
    plan: PlanTimers[Occ],
    engagement: Engagement,
    series: S,
    occ: Occ,
    now: datetime,
) -> None:
    """An occurrence has ended: a series goes on with its next one; a one-off, or a series with none left, ends."""
    if series.rrule:
        nxt = await materialise_next(session, core, kind, plan, engagement, series, after=occ.original_start, now=now)
        if nxt is None:
            series.status = "ended"
    else:
        series.status = "ended"
    series.updated_at = now


async def live(tctx: TimerCtx, kind: EventKind[S, Occ]) -> tuple[Engagement, S, Occ] | None:
    """The occurrence a timer is for, if it is still scheduled as the timer knew it (same version)."""
    occ = await tctx.session.get(kind.occurrence, tctx.payload.get("occ"))
    if occ is None or occ.status != "scheduled" or occ.version != tctx.payload.get("v"):
        return None
    series = await tctx.session.get(kind.series, occ.series_id)
    if series is None or series.status != "scheduled":
        return None
    return await must_get(tctx.session, Engagement, occ.engagement_id), series, occ


async def due_reminder(
    tctx: TimerCtx, kind: EventKind[S, Occ], default_offsets: list[int]
) -> tuple[Engagement, S, Occ, int] | None:
    """What a reminder timer is for: the live occurrence and how many minutes before it the reminder is; None
    when it is not live or has started (Cadence was down past the start: a reminder now would only confuse)."""
    found = await live(tctx, kind)
    if found is None:
        return None
    engagement, series, occ = found
    if tctx.now >= occ.starts_at:
        return None
    # Every reminder carries its offset; one planned without it was the last default reminder.
    return engagement, series, occ, int(tctx.payload.get("minutes") or min(default_offsets))


def late_minutes(tctx: TimerCtx) -> int:
    """How late a timer fires (Cadence was down), when it is late enough to say so; else 0."""
    return int(tctx.lateness.total_seconds() // 60) if tctx.lateness > LATE else 0
