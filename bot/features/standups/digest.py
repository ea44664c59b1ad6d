"""The digest of one standup date, posted at the digest time in the home (or digest) channel:
blockers first, then each person's answers, then who is missing and who is away. Late answers
update it in place."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.standups.config import StandupSettings, participants, settings
from bot.features.standups.schedule import digest_instant
from bot.kernel import people
from bot.kernel.context import TimerCtx
from bot.kernel.messages import Button, Card, Field
from bot.kernel.text import day_text, plural, truncate, when
from bot.kernel.text import person as mention
from bot.kernel.zones import zone_or_utc
from storage.models import Engagement, Person
from storage.models.standups import StandupDigest, StandupEntry

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

DIGEST = "standup.digest"
TO_DEFECT = "standup.blocker_to_defect"
TO_CR = "standup.blocker_to_cr"


def digest_key(engagement_id: int, day: date) -> str:
    return f"{DIGEST}:{engagement_id}:{day.isoformat()}"


async def latest_prompt(
    session: AsyncSession, engagement: Engagement, day: date, conf: StandupSettings
) -> datetime | None:
    latest = None
    for person in await participants(session, engagement):
        rule = conf.rule_for(person)
        if rule.is_prompt_day(day):
            instant = rule.instant(day)
            latest = instant if latest is None or instant > latest else latest
    return latest


async def plan_digest(
    session: AsyncSession,
    core: Cadence,
    engagement: Engagement,
    day: date,
    now: datetime,
) -> datetime | None:
    """Schedule (or move) the digest of `day`: the first digest time after everyone's prompt and reminder."""
    conf = settings(engagement)
    latest = await latest_prompt(session, engagement, day, conf)
    if latest is None:
        return None
    due = digest_instant(
        day, latest_prompt=latest, at=conf.digest_time, zone=conf.digest_zone, days=conf.days, grace=conf.reminder
    )
    await core.timers.schedule(
        session,
        kind=DIGEST,
        due_at=due,
        key=digest_key(engagement.id, day),
        engagement_id=engagement.id,
        payload={"engagement_id": engagement.id, "day": day.isoformat()},
    )
    return due


async def extend_digest(
    session: AsyncSession,
    core: Cadence,
    engagement: Engagement,
    day: date,
    prompt_at: datetime,
    now: datetime,
) -> None:
    """A prompt of `day` was planned at `prompt_at`: make sure the digest comes after it (and its
    reminder). Cheap — no pass over every participant — unless the digest has no timer yet."""
    existing = await core.timers.get(session, digest_key(engagement.id, day))
    if existing is None:
        await plan_digest(session, core, engagement, day, now)
        return
    if existing.status != "pending":
        return
    conf = settings(engagement)
    due = digest_instant(
        day, latest_prompt=prompt_at, at=conf.digest_time, zone=conf.digest_zone, days=conf.days, grace=conf.reminder
    )
    if due > existing.due_at:
        await core.timers.schedule(
            session, kind=DIGEST, due_at=due, key=existing.key, engagement_id=engagement.id, payload=existing.payload
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
    card = await build_digest(session, engagement, day, now)
    if card is None:
        return
    key = digest_key(engagement.id, day)
    await core.outbox.post_home(session, engagement, card, ref_key=key, purpose=settings(engagement).digest_purpose)
    session.add(
        StandupDigest(engagement_id=engagement.id, day=day, ref_key=key, posted_at=now, updated_at=now, late_count=0)
    )
    await session.flush()


async def refresh_digest(
    session: AsyncSession,
    core: Cadence,
    engagement: Engagement,
    digest: StandupDigest,
    now: datetime,
) -> None:
    card = await build_digest(session, engagement, digest.day, now, force=True)
    if card is not None:
        await core.outbox.update(session, digest.ref_key, card)
        digest.updated_at = now


# Beyond this many answers each person's answers become one block of text (Slack allows 50 blocks).
COMPACT_AFTER = 6


def _answers_section(e: StandupEntry, name: str, *, compact: bool) -> Card:
    assert e.answered_at is not None  # only answered entries get a section
    late = " · late" if e.late else ""
    other_day = e.answered_at.astimezone(zone_or_utc(e.answer_tz)).date() != e.day
    # An answer from another day than the standup's carries its date; the same day's, the time alone.
    stamp = (
        f"answered {_local_time(e, e.answered_at)} · {when(e.answered_at, 'datetime' if other_day else 'time')}{late}"
    )
    title = f"{mention(e.person_id, name)}{' (late)' if e.late else ''}"
    tone = "warning" if e.late else "info"
    pairs = list(zip(e.questions, e.answers or [], strict=False))
    if compact:
        lines = [f"{title} — {stamp}"] + [
            f"{i + 1}. {truncate(a, 600) if a else '—'}" for i, (_, a) in enumerate(pairs)
        ]
        return Card(text="\n".join(lines), tone=tone)
    fields = [Field(q, truncate(a, 1500) if a else "—", short=False) for q, a in pairs]
    return Card(title=title, fields=fields, footer=stamp, tone=tone)


def _local_time(entry: StandupEntry, answered_at: datetime) -> str:
    """'09:45 Asia/Kathmandu their time', with the date when it is not the standup's day: a zone's name,
    never an abbreviation or a bare offset (+0545)."""
    zone = zone_or_utc(entry.answer_tz)
    local = answered_at.astimezone(zone)
    day = f"{local:%a} {local.day} {local:%b} " if local.date() != entry.day else ""
    return f"{day}{local:%H:%M} {zone.key} their time"


async def build_digest(
    session: AsyncSession, engagement: Engagement, day: date, now: datetime, *, force: bool = False
) -> Card | None:
    """The digest card; None when nobody took part that day (nothing to post)."""
    conf = settings(engagement)
    entries = {
        e.person_id: e
        for e in await session.scalars(
            select(StandupEntry)
            .where(StandupEntry.engagement_id == engagement.id, StandupEntry.day == day)
            .order_by(StandupEntry.answered_at, StandupEntry.id)
        )
    }
    answered = [e for e in entries.values() if e.status == "answered"]
    answered.sort(key=lambda e: (e.late, e.answered_at))
    missing: list[tuple[Person, str]] = []
    away: list[tuple[Person, str]] = []
    for p in await participants(session, engagement):
        e = entries.get(p.id)
        if e is not None and e.status == "answered":
            continue
        reason = people.away_reason(p, day)
        if reason and day.weekday() in conf.rule_for(p).days:
            away.append((p, reason))
        elif e is not None and e.expected:  # prompted that day, no answer
            missing.append((p, "started, not finished" if any(e.answers or []) else ""))
    if not answered and not missing and not force:
        return None
    names = {p.id: p.display_name for p in await _people(session, [e.person_id for e in answered])}
    sections: list[Card] = []
    for e in answered:
        if e.blocker:
            since = ""
            if e.blocker_of_id:
                root = await session.get(StandupEntry, e.blocker_of_id)
                since = f" (open since {day_text(root.day)})" if root else ""
            sections.append(
                Card(
                    title=f"Blocker — {mention(e.person_id, names.get(e.person_id, '?'))}{since}",
                    text=truncate(e.blocker, 1500),
                    tone="danger",
                    buttons=[
                        Button("Turn into defect", TO_DEFECT, str(e.id)),
                        Button("Turn into change request", TO_CR, str(e.id)),
                    ],
                )
            )
    for e in answered:
        sections.append(_answers_section(e, names.get(e.person_id, "?"), compact=len(answered) > COMPACT_AFTER))
    if missing:
        sections.append(
            Card(
                title="Missing",
                text=", ".join(mention(p.id, p.display_name) + (f" ({note})" if note else "") for p, note in missing),
            )
        )
    if away:
        sections.append(
            Card(title="Away", text=", ".join(f"{mention(p.id, p.display_name)} ({reason})" for p, reason in away))
        )
    blockers = sum(1 for e in answered if e.blocker)
    total = len(answered) + len(missing)
    summary = [f"{len(answered)} of {total} answered"]
    if blockers:
        summary.append(plural(blockers, "blocker"))
    if missing:
        summary.append(f"{len(missing)} missing")
    if away:
        summary.append(f"{len(away)} away")
    late = sum(1 for e in answered if e.late)
    if late:
        summary.append(f"{late} late")
    text = " · ".join(summary)
    if len(answered) > COMPACT_AFTER:
        text += "\n" + "  ".join(f"{i + 1}. {q}" for i, q in enumerate(answered[0].questions))
    return Card(
        title=f"Standup digest · {engagement.name} · {day_text(day)}",
        text=text,
        sections=sections,
        tone="danger" if blockers else "good",
        footer=f"Updated {when(now, 'datetime')}" if late else "",
    )


async def _people(session: AsyncSession, ids: list[int]) -> list[Person]:
    if not ids:
        return []
    return list(await session.scalars(select(Person).where(Person.id.in_(ids))))
