"""People, their platform identities, memberships, zones, work days and absences."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import noload
from sqlalchemy.orm.attributes import set_committed_value

from bot.kernel.rows import must_get
from bot.kernel.text import clean
from bot.kernel.zones import zone_or_utc
from storage.models import Absence, Engagement, Identity, Membership, Person

if TYPE_CHECKING:
    from bot.kernel.context import Actor

ROLES = ("client_sponsor", "client_pm", "client_member", "vendor_pm", "vendor_lead", "developer", "qa")
CLIENT_ROLES = frozenset({"client_sponsor", "client_pm", "client_member"})
VENDOR_ROLES = frozenset({"vendor_pm", "vendor_lead", "developer", "qa"})
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# last_seen_at picks the identity a DM goes to (the platform used last); finer than this is not needed,
# and skipping the write keeps a read-only command (whoami, lists) a read-only transaction.
LAST_SEEN_RESOLUTION = timedelta(seconds=60)
# A person's work days until they say otherwise (Mon=0): the days daily reminders land on.
WORK_DAYS = (0, 1, 2, 3, 4)
# The local time of a daily reminder to decide something (a change request's default `reminder_time`, a
# contract amendment's): the reader's morning on their next work day (next_workday_at).
REMINDER_AT = time(10, 0)
# A person's working hours on their work days, in their zone, until they set theirs (`/cadence hours`): what
# meetings and demos are checked against (bot/kernel/hours.py).
WORKING_HOURS = (time(9, 0), time(18, 0))


def zone(person: Person) -> ZoneInfo:
    return zone_or_utc(person.tz)


def local_date(person: Person, instant: datetime) -> date:
    return instant.astimezone(zone(person)).date()


def is_workday(person: Person, day: date) -> bool:
    return day.weekday() in (person.work_days or WORK_DAYS)


def next_workday_at(person: Person, after: datetime, at: time) -> tuple[datetime, date]:
    """The person's next work day after `after`'s local date, at `at` their local time: (that moment in
    `after`'s zone, the local date). Daily reminders land at the reader's own morning, never at night."""
    tz = zone(person)
    day = after.astimezone(tz).date()
    for _ in range(14):
        day += timedelta(days=1)
        if is_workday(person, day):
            break
    local = datetime.combine(day, at, tzinfo=tz)
    return local.astimezone(after.tzinfo), day


@lru_cache(maxsize=512)
def _holidays(country: str, year: int) -> dict[date, str]:
    try:
        return dict(holidays.country_holidays(country.upper(), years=year))
    except (NotImplementedError, KeyError):
        return {}


def holiday_name(country: str | None, day: date) -> str | None:
    if not country:
        return None
    return _holidays(country, day.year).get(day)


def away_reason(person: Person, day: date) -> str | None:
    """Why `person` is away on their local `day`: "holiday: …", "out of office", or None.
    Needs `person.absences` loaded (selectinload) or accessed inside a session."""
    name = holiday_name(person.country, day)
    if name:
        return f"holiday: {name}"
    for absence in person.absences:
        if absence.start <= day <= absence.end:
            return "out of office"
    return None


async def load_absences(session: AsyncSession, person: Person) -> list[Absence]:
    rows = await session.scalars(select(Absence).where(Absence.person_id == person.id).order_by(Absence.start))
    return list(rows)


async def by_id(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, Person]:
    """The people with these ids (None and unknown ids skipped), in one query: names for cards, lists, exports."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {p.id: p for p in await session.scalars(select(Person).where(Person.id.in_(wanted)))}


async def memberships(session: AsyncSession, engagement: Engagement) -> list[Membership]:
    rows = await session.scalars(
        select(Membership).where(Membership.engagement_id == engagement.id).order_by(Membership.id)
    )
    return list(rows)


async def members_with_roles(session: AsyncSession, engagement: Engagement, roles: Iterable[str]) -> list[Person]:
    wanted = set(roles)
    out = []
    for m in await memberships(session, engagement):
        if wanted.intersection(m.roles or []):
            out.append(await must_get(session, Person, m.person_id))
    return out


async def membership_of(session: AsyncSession, engagement: Engagement, person: Person) -> Membership | None:
    # The person is in hand: attach it rather than let the selectin relationship load it (and its
    # identities and absences) again — four queries on every command.
    m = await session.scalar(
        select(Membership)
        .where(Membership.engagement_id == engagement.id, Membership.person_id == person.id)
        .options(noload(Membership.person))
    )
    if m is not None and "person" not in m.__dict__:
        set_committed_value(m, "person", person)
    return m


async def ensure_membership(session: AsyncSession, engagement: Engagement, person: Person, now: datetime) -> Membership:
    m = await membership_of(session, engagement, person)
    if m is None:
        m = Membership(engagement_id=engagement.id, person_id=person.id, roles=[], joined_at=now)
        session.add(m)
        await session.flush()
    return m


async def identity_for(session: AsyncSession, platform: str, workspace_id: str, user_id: str) -> Identity | None:
    return await session.scalar(
        select(Identity).where(
            Identity.platform == platform, Identity.workspace_id == workspace_id, Identity.user_id == user_id
        )
    )


# tz_source of a person whose profile withholds their zone (another company's member): times for them are
# UTC until they pick a zone, and they are asked for it once (bot/features/engagement/zone_ask.py).
UNKNOWN_ZONE = "unknown"


def external_team(actor: Actor) -> str | None:
    """What an identity records of the actor's company: their own team when it is not the installation's."""
    return (actor.home_team or None) if actor.is_external else None


def is_external(person: Person) -> bool:
    """Whether the person belongs to the other company's workspace or tenant (needs `identities` loaded)."""
    return any(i.external_team_id for i in person.identities)


async def person_for_actor(session: AsyncSession, actor: Actor, now: datetime) -> tuple[Person, bool]:
    """The Person behind `actor`, created on first sight. Returns (person, tz_changed)."""
    ident = await identity_for(session, actor.platform, actor.workspace_id, actor.user_id)
    tz_changed = False
    if ident is None:
        created = await _first_sight(session, actor, now)
        if created is not None:
            return created, False
        # Someone else created them a moment ago (two first clicks at once): theirs is the one.
        ident = await identity_for(session, actor.platform, actor.workspace_id, actor.user_id)
        if ident is None:  # pragma: no cover - the conflicting row was committed before we looked again
            raise RuntimeError("identity vanished after an insert conflict")
    person = await must_get(session, Person, ident.person_id)
    if ident.last_seen_at is None or not (now - LAST_SEEN_RESOLUTION < ident.last_seen_at <= now):
        ident.last_seen_at = now
    handle = clean(actor.handle, limit=200, multiline=False) if actor.handle else None
    if handle and ident.handle != handle:
        ident.handle = handle
    if actor.home_team is not None and ident.external_team_id != external_team(actor):
        ident.external_team_id = external_team(actor)
    if actor.display_name and person.display_name == actor.user_id:
        person.display_name = clean(actor.display_name, limit=200, multiline=False) or person.display_name
    # A zone set by the person (/cadence tz) wins over the platform's until they clear it.
    zone_name = _platform_zone(actor)
    if (
        zone_name
        and person.tz_source in ("platform", UNKNOWN_ZONE)
        and (zone_name, "platform") != (person.tz, person.tz_source)
    ):
        tz_changed = zone_name != person.tz
        person.tz, person.tz_source = zone_name, "platform"
    return person, tz_changed


def _platform_zone(actor: Actor) -> str | None:
    """The actor's zone if it is a real IANA zone name, else None (unknown)."""
    return actor.tz if actor.tz and zone_or_utc(actor.tz).key == actor.tz else None


async def _first_sight(session: AsyncSession, actor: Actor, now: datetime) -> Person | None:
    """Create the person behind a never-seen identity as an upsert: the person row, then the identity with
    INSERT … ON CONFLICT DO NOTHING on its unique key (SQLite and PostgreSQL alike). Two transactions
    seeing the same newcomer at once cannot both insert it (the second waits on the key, then does
    nothing) nor deadlock with each other (each holds only its own new person row). None when the
    identity already existed: the spare person row is removed and the caller reads the existing one."""
    zone_name = _platform_zone(actor)
    person = Person(
        display_name=clean(actor.display_name or actor.handle or actor.user_id, limit=200, multiline=False)
        or actor.user_id,
        tz=zone_name or "UTC",
        # Unknown: UTC is a guess until the platform or the person tells us
        # (bot/kernel/directory.py, bot/features/engagement/zone_ask.py).
        tz_source="platform" if zone_name else UNKNOWN_ZONE,
        work_days=list(WORK_DAYS),
        created_at=now,
        identities=[],
        absences=[],
    )
    session.add(person)
    await session.flush()
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    handle = clean(actor.handle or actor.display_name, limit=200, multiline=False) or None
    inserted = cast(
        CursorResult[Any],
        await session.execute(
            insert(Identity)
            .values(
                person_id=person.id,
                platform=actor.platform,
                workspace_id=actor.workspace_id,
                user_id=actor.user_id,
                handle=handle,
                last_seen_at=now,
                external_team_id=external_team(actor),
            )
            .on_conflict_do_nothing(index_elements=["platform", "workspace_id", "user_id"])
        ),
    )
    if inserted.rowcount != 1:
        await session.delete(person)
        await session.flush()
        return None
    ident = await identity_for(session, actor.platform, actor.workspace_id, actor.user_id)
    # Loaded now, so nothing lazy-loads the collection later (async sessions cannot).
    set_committed_value(person, "identities", [ident])
    return person


def role_label(role: str) -> str:
    return role.replace("_", " ")
