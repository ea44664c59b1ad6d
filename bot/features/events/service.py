"""The rules of either job's events that change rows: a confirmed draft saved under the engagement's next
number, the checks before a move, and a cancellation (the next occurrence of a series, or the whole event) with
its .ics, audit entry and announcement. The job's own service wraps them with what only it does (who may, what
else it records, its cards)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.events.cards import fmt_in
from bot.features.events.drafts import EventDraft
from bot.features.events.kinds import EventKind, Occ, PlanTimers, S
from bot.features.events.occurrences import add_occurrence, drop_timers, materialise_next
from bot.features.events.queries import ics_event, scheduled_occurrences, upcoming_occurrence
from bot.kernel import audit
from bot.kernel.engagements import update_feature_settings
from bot.kernel.errors import UserError
from bot.kernel.messages import Attachment, Card
from bot.shared import ical
from storage.models import Engagement, Person

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence


async def save_numbered(
    session: AsyncSession,
    kind: EventKind[S, Occ],
    engagement: Engagement,
    draft: EventDraft,
    *,
    title: str,
    duration: int,
    now: datetime,
    columns: dict[str, Any],
) -> S | None:
    """Save a confirmed draft as the engagement's next number (`columns`: the job's own). None when a
    concurrent Confirm of the same draft saved it first: the caller looks again and finds that one."""
    for _ in range(3):
        number = (
            await session.scalar(select(func.max(kind.series.number)).where(kind.series.engagement_id == engagement.id))
            or 0
        ) + 1
        series = kind.series(
            engagement_id=engagement.id,
            number=number,
            title=title,
            tz=draft.tz,
            start_at=draft.start_at,
            duration_minutes=duration,
            rrule=draft.rrule,
            status="scheduled",
            uid=f"{uuid.uuid4()}@cadence",
            sequence=0,
            exdates=[],
            draft_key=draft.key,
            created_at=now,
            updated_at=now,
            **columns,
        )
        try:
            async with session.begin_nested():
                session.add(series)
                await session.flush()
            return series
        except IntegrityError:
            # A concurrent Confirm of the same draft (draft_key), or another event took the number.
            if draft.key and await session.scalar(select(kind.series.id).where(kind.series.draft_key == draft.key)):
                return None
    # Three collisions in a row.
    raise UserError(f"Several {kind.plural} were being scheduled at once; nothing was saved. Please confirm again.")


async def open_series(
    session: AsyncSession,
    core: Cadence,
    kind: EventKind[S, Occ],
    plan: PlanTimers[Occ],
    *,
    engagement: Engagement,
    person: Person,
    series: S,
    now: datetime,
    data: dict[str, Any],
) -> Occ:
    """A saved event's first occurrence (with its timers) and its audit entry (`data`: what was scheduled)."""
    occ = await add_occurrence(session, core, kind, plan, engagement, series, series.start_at, now)
    await record(
        session,
        kind,
        engagement=engagement,
        person=person,
        series=series,
        action="scheduled",
        to_state="scheduled",
        now=now,
        data=data,
    )
    return occ


async def invite(
    session: AsyncSession, kind: EventKind[S, Occ], engagement: Engagement, series: S, now: datetime, *, title: str
) -> Attachment:
    """The invite (or its update) as it stands, to attach to an announcement."""
    ics = ical.request(await ics_event(session, kind, engagement, series), now)
    return ical.attachment(ics, filename=kind.ics_filename(engagement, series), title=title)


async def record(
    session: AsyncSession,
    kind: EventKind[S, Occ],
    *,
    engagement: Engagement,
    person: Person,
    series: S,
    action: str,
    now: datetime,
    data: dict[str, Any],
    from_state: str | None = None,
    to_state: str | None = None,
) -> None:
    """An event's change in the audit log (its entity type: the kind's name)."""
    await audit.record(
        session,
        now=now,
        engagement_id=engagement.id,
        entity_type=kind.name,
        entity_id=series.id,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor=person,
        data=data,
    )


async def announce(
    session: AsyncSession,
    core: Cadence,
    kind: EventKind[S, Occ],
    engagement: Engagement,
    series: S,
    card: Card,
    now: datetime,
    *,
    invite_title: str,
    key: str,
) -> None:
    """Post `card` in the home channel with the invite as it now stands attached; `key`: the message's key
    after the event's (`announce`, `moved:3`)."""
    await session.flush()
    card.attachments.append(await invite(session, kind, engagement, series, now, title=invite_title))
    await core.outbox.post_home(session, engagement, card, ref_key=f"{kind.name}:{series.id}:{key}")


async def live_series(
    session: AsyncSession, kind: EventKind[S, Occ], engagement: Engagement, series_id: int | None
) -> S:
    """The event a move draft names, if it still exists in this engagement."""
    series = await session.get(kind.series, series_id or 0)
    if series is None or series.engagement_id != engagement.id:
        raise UserError(f"That {kind.name} no longer exists here. Nothing was changed.")
    return series


def check_move(
    kind: EventKind[S, Occ], engagement: Engagement, series: S, draft: EventDraft, now: datetime
) -> datetime:
    """Refuse a move of an event no longer scheduled, changed since the draft was made, or to a time now past;
    returns the new start."""
    ref = kind.ref(engagement, series)
    if series.status != "scheduled":
        raise UserError(f"{ref} is {series.status}; nothing was changed.")
    if draft.seq is not None and draft.seq != series.sequence:
        raise UserError(f"{ref} changed since I asked. Nothing was changed; please run `/{kind.name} move` again.")
    start = draft.start_at
    if start <= now:
        raise UserError("That time has passed since I asked; nothing was changed.")
    return start


async def occurrence_to_move(
    session: AsyncSession, kind: EventKind[S, Occ], series: S, occ_id: int | None, now: datetime
) -> Occ:
    occ = await session.get(kind.occurrence, occ_id or 0)
    if occ is None or occ.series_id != series.id or occ.status != "scheduled" or occ.starts_at <= now:
        raise UserError("That occurrence is no longer upcoming. Nothing was changed.")
    return occ


async def cancel(
    session: AsyncSession,
    core: Cadence,
    kind: EventKind[S, Occ],
    plan: PlanTimers[Occ],
    *,
    engagement: Engagement,
    person: Person,
    series: S,
    whole: bool,
    now: datetime,
    refusal: str,
    no_later: str,
) -> tuple[str, Occ | None]:
    """Cancel the next occurrence (a series continues: it becomes an EXDATE) or the whole event (a one-off
    always). Returns (what to tell the person, the series' next occurrence). `refusal`: said when there is no
    upcoming occurrence to cancel; `no_later`: the summary's end when a series has no later one."""
    ref = kind.ref(engagement, series)
    if series.status != "scheduled":
        raise UserError(f"{ref} is already {series.status}.")
    upcoming = await upcoming_occurrence(session, kind, series, now)
    whole = whole or not series.rrule
    if not whole and upcoming is None:
        raise UserError(refusal)
    nxt = None
    event = await ics_event(session, kind, engagement, series)
    if whole:
        for o in await scheduled_occurrences(session, kind, series):
            if o.starts_at > now:
                await drop_timers(session, core, kind, o)
                o.status, o.updated_at = "cancelled", now
        series.status, series.cancelled_at = "cancelled", now
        series.sequence += 1
        event.sequence = series.sequence
        ics = ical.cancel(event, now)
        summary = f"{ref} ({series.title}) is cancelled" + (" — the whole series" if series.rrule else "") + "."
    else:
        assert upcoming is not None  # refused above: a single occurrence needs one to cancel
        await drop_timers(session, core, kind, upcoming)
        upcoming.status, upcoming.updated_at = "cancelled", now
        series.exdates = [*(series.exdates or []), upcoming.original_start.isoformat()]
        series.sequence += 1
        event.sequence = series.sequence
        ics = ical.cancel(event, now, ical.Override(upcoming.original_start, upcoming.starts_at, upcoming.ends_at))
        await session.flush()
        nxt = await materialise_next(
            session, core, kind, plan, engagement, series, after=upcoming.original_start, now=now
        )
        summary = f"{ref} ({series.title}) on {fmt_in(upcoming.starts_at, series.tz)} is cancelled; " + (
            f"the series continues {fmt_in(nxt.starts_at, series.tz)}." if nxt else no_later
        )
    series.updated_at = now
    await record(
        session,
        kind,
        engagement=engagement,
        person=person,
        series=series,
        action="cancelled" if whole else "occurrence_cancelled",
        now=now,
        data={"occurrence": None if whole or upcoming is None else upcoming.id, "sequence": series.sequence},
        from_state="scheduled",
        to_state="cancelled" if whole else "scheduled",
    )
    card = Card(
        title=f"{kind.name.capitalize()} cancelled: {series.title}",
        text=f"{summary} (by {person.display_name})",
        tone="warning",
        footer="The attached cancellation removes it from your calendar.",
        attachments=[ical.attachment(ics, filename=kind.ics_filename(engagement, series), title="Cancellation")],
    )
    await core.outbox.post_home(session, engagement, card, ref_key=f"{kind.name}:{series.id}:cancel:{series.sequence}")
    return summary, nxt


async def change_settings(
    session: AsyncSession,
    core: Cadence,
    feature: str,
    *,
    engagement: Engagement,
    person: Person,
    changes: dict[str, Any],
    shown: Callable[[Engagement], Card],
    now: datetime,
) -> Card:
    """Save a job's checked setting changes; the timers follow (engagement_settings_changed, which re-plans the
    upcoming occurrences). Both sides' reminders and agendas follow them, so the change is said in the home
    channel (`shown`: the job's settings card, as they now stand) and the audit log has it. Returns that card."""
    update_feature_settings(engagement, feature, changes)
    await core.emit(session, "engagement_settings_changed", engagement=engagement, feature=feature)
    card = shown(engagement)
    await core.outbox.post_home(
        session,
        engagement,
        Card(
            title=f"{card.title}: changed by {person.display_name}",
            fields=card.fields,
            footer=card.footer,
        ),
    )
    await audit.record(
        session,
        now=now,
        engagement_id=engagement.id,
        entity_type="engagement",
        entity_id=engagement.id,
        action=f"{feature}_settings_changed",
        actor=person,
        data=changes,
    )
    return card
