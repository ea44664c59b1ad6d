"""Who someone is on their platform, asked at the moment they are seated (`/cadence role @them …`), before
they have ever acted: their zone above all, so that their reminders land at their hour from the start.

The core defines the interface; each front end implements it with its platform's directory (Slack
`users.info`, the Bot Connector's member info on Teams, the console's own list of people) and registers it
in `core.directories[platform]`.

The other way round, front ends reach the core's people and identities through the functions at the end of
this module (who someone is: `record_profile`, `is_known`, `known_user`, `known_person`, `people_on`,
`platform_user_ids`; how their 1:1 chat is reached: `dm_reference`, `dm_reference_in`, `any_dm_reference`,
`save_dm_reference`), never with a session of their own on Person or Identity rows."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.kernel.context import Actor
from bot.kernel.grammar import MENTION_RE
from bot.kernel.people import identity_for, person_for_actor
from bot.kernel.text import clean
from bot.kernel.zones import zone_or_utc
from storage.models import Identity, Person

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

log = logging.getLogger("cadence.directory")

# A seating waits this long for a profile at most (Slack acks first, so the person does not wait on it).
LOOKUP_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class Profile:
    """What a platform says about one of its users. `tz`: an IANA zone name, or None when it withholds it
    (a guest, another organisation's user in a shared channel, a Teams member: Teams has no zone)."""

    tz: str | None
    name: str | None = None
    team: str | None = None  # Slack team id or Teams tenant id
    is_bot: bool = False


class Directory(Protocol):
    async def lookup(self, workspace_id: str, user_id: str) -> Profile | None:
        """The user's profile, or None if the platform does not know them or could not be asked."""
        ...


async def lookup(core: Cadence, platform: str, workspace_id: str, user_id: str) -> Profile | None:
    """Ask the platform's directory; never raises (a profile is a nicety, never a reason to fail a command)."""
    directory = core.directories.get(platform)
    if directory is None:
        return None
    try:
        return await asyncio.wait_for(directory.lookup(workspace_id, user_id), LOOKUP_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - any failure means "not known now"
        log.warning("%s directory lookup of %s failed: %s", platform, user_id, exc)
        return None


async def prefetch(core: Cadence, platform: str, workspace_id: str, token: str) -> Profile | None:
    """The profile of a platform mention (`<@U123|name>`), asked before the handler writes anything, so the
    platform call never holds the transaction's write lock (SQLite has one for the whole database)."""
    m = MENTION_RE.fullmatch(token.strip())
    if not m or not m.group(1):
        return None
    return await lookup(core, platform, workspace_id, m.group(1))


async def seat_zone(
    session: AsyncSession,
    core: Cadence,
    person: Person,
    platform: str,
    workspace_id: str,
    *,
    profile: Profile | None = None,
) -> bool:
    """Take the zone of someone being seated from their profile (`profile` if already fetched with
    `prefetch`, else asked now), unless they set their own. True when their zone is known (from them,
    their platform, or now); False when it is still a guess."""
    if person.tz_source == "user":
        return True
    ident = await session.scalar(
        select(Identity).where(
            Identity.person_id == person.id, Identity.platform == platform, Identity.workspace_id == workspace_id
        )
    )
    if profile is None and ident is not None:
        profile = await lookup(core, platform, workspace_id, ident.user_id)
    if profile is not None and profile.name and person.display_name == (ident.user_id if ident else None):
        person.display_name = clean(profile.name, limit=200, multiline=False) or person.display_name
    if profile is not None and profile.team and ident is not None and profile.team != workspace_id:
        # Their own team is another company's (a Slack Connect or shared-channel member): record it now, not
        # only once they act (bot/kernel/people.py is_external).
        ident.external_team_id = profile.team
    zone_name = profile.tz if profile is not None else None
    if zone_name and zone_or_utc(zone_name).key == zone_name:
        changed = zone_name != person.tz
        person.tz, person.tz_source = zone_name, "platform"
        if changed:
            await core.emit(session, "person_tz_changed", person=person)
        return True
    return person.tz_source == "platform"


# -- people and identities, as the front ends reach them ------------------------------------------------------
# Each call is its own short transaction. A front end's own platform stores (Slack installations, Teams users
# and conversation references) stay its own; people and identities are the core's.


@dataclass(frozen=True)
class Known:
    """A person as the core knows them, for a front end (no row: it outlives the transaction). `handle`: the
    handle of the platform identity they were asked by (None when asked by person id)."""

    person_id: int
    display_name: str
    tz: str
    tz_source: str
    handle: str | None = None


@dataclass(frozen=True)
class OnPlatform:
    """A person and their user ids on one platform, for a front end rendering mentions or naming who may press
    a button. `accounts`: (workspace id, user id) of each of their identities on the platform, oldest first
    (several when someone is seated in more than one workspace or tenant); empty when they have none there."""

    person_id: int
    display_name: str
    accounts: tuple[tuple[str, str], ...] = ()


def _known(person: Person, handle: str | None = None) -> Known:
    return Known(person.id, person.display_name, person.tz, person.tz_source, handle)


async def record_profile(core: Cadence, actor: Actor) -> Known:
    """The person behind `actor`, created on first sight and brought up to date with what the platform says
    (name, zone, handle), as when they act."""
    async with core.session_factory() as session, session.begin():
        person, _ = await person_for_actor(session, actor, core.clock.now())
        ident = await identity_for(session, actor.platform, actor.workspace_id, actor.user_id)
        return _known(person, ident.handle if ident is not None else None)


async def is_known(core: Cadence, platform: str, workspace_id: str, user_id: str) -> bool:
    """Whether this platform user is already a Cadence person."""
    async with core.read_session_factory() as session:
        found = await session.scalar(
            select(Identity.id).where(
                Identity.platform == platform, Identity.workspace_id == workspace_id, Identity.user_id == user_id
            )
        )
    return found is not None


async def known_user(core: Cadence, platform: str, workspace_id: str, user_id: str) -> Known | None:
    """The person behind this platform user (with their handle there), or None for someone Cadence never
    seated. Nothing is created or changed."""
    async with core.read_session_factory() as session:
        ident = await identity_for(session, platform, workspace_id, user_id)
        person = await session.get(Person, ident.person_id) if ident is not None else None
        return _known(person, ident.handle if ident is not None else None) if person is not None else None


async def known_person(core: Cadence, person_id: int) -> Known | None:
    """The person with this id (their zone, to write times for them), or None if there is none."""
    async with core.read_session_factory() as session:
        person = await session.get(Person, person_id)
        return _known(person) if person is not None else None


async def people_on(core: Cadence, platform: str, person_ids: set[int]) -> dict[int, OnPlatform]:
    """person id → the person and their user ids on `platform`, for every one of `person_ids` who exists."""
    if not person_ids:
        return {}
    async with core.read_session_factory() as session:
        names = dict(
            (await session.execute(select(Person.id, Person.display_name).where(Person.id.in_(person_ids)))).all()
        )
        rows = await session.execute(
            select(Identity.person_id, Identity.workspace_id, Identity.user_id)
            .where(Identity.platform == platform, Identity.person_id.in_(person_ids))
            .order_by(Identity.id)
        )
        accounts: dict[int, list[tuple[str, str]]] = {}
        for person_id, workspace_id, user_id in rows.all():
            accounts.setdefault(person_id, []).append((workspace_id, user_id))
    return {pid: OnPlatform(pid, name, tuple(accounts.get(pid, ()))) for pid, name in names.items()}


async def platform_user_ids(core: Cadence, platform: str, workspace_id: str, person_ids: set[int]) -> dict[int, str]:
    """person id → their user id on `platform` in `workspace_id` (to render mentions), for those who have one."""
    if not person_ids:
        return {}
    async with core.read_session_factory() as session:
        rows = await session.execute(
            select(Identity.person_id, Identity.user_id).where(
                Identity.platform == platform,
                Identity.workspace_id == (workspace_id or ""),
                Identity.person_id.in_(person_ids),
            )
        )
        return dict(rows.all())


async def person_behind(session: AsyncSession, platform: str, workspace_id: str, user_id: str) -> Person | None:
    """The Person row behind a platform user, inside the caller's transaction with the core (to hand the
    core's calls that take a Person, such as `core.outbox.ephemeral`), or None for someone never seated."""
    ident = await identity_for(session, platform, workspace_id, user_id)
    return await session.get(Person, ident.person_id) if ident is not None else None


# -- their 1:1 chats: the conversation reference an identity keeps (the core stores it when they write to the
# bot directly, bot/kernel/dispatcher.py; a front end that opens the chat itself saves it here) --------------


async def dm_reference(core: Cadence, platform: str, workspace_id: str, user_id: str) -> dict[str, Any] | None:
    """The stored reference of this platform user's 1:1 chat with Cadence, or None when it has none."""
    async with core.read_session_factory() as session:
        ident = await identity_for(session, platform, workspace_id, user_id)
        return ident.conversation_ref if ident is not None else None


async def dm_reference_in(core: Cadence, platform: str, workspace_id: str, channel_id: str) -> dict[str, Any] | None:
    """The stored reference of the 1:1 chat whose channel (conversation) id is `channel_id`, or None."""
    async with core.read_session_factory() as session:
        ident = await session.scalar(
            select(Identity).where(
                Identity.platform == platform,
                Identity.workspace_id == workspace_id,
                Identity.dm_channel_id == channel_id,
            )
        )
        return ident.conversation_ref if ident is not None else None


async def any_dm_reference(core: Cadence, platform: str, workspace_id: str) -> dict[str, Any] | None:
    """Some stored 1:1 chat reference in the workspace (for what all of them share: the bot account, the
    channel id), or None."""
    async with core.read_session_factory() as session:
        ident = await session.scalar(
            select(Identity)
            .where(
                Identity.platform == platform,
                Identity.workspace_id == workspace_id,
                Identity.conversation_ref.is_not(None),
            )
            .limit(1)
        )
        return ident.conversation_ref if ident is not None else None


async def save_dm_reference(
    core: Cadence, platform: str, workspace_id: str, user_id: str, ref: dict[str, Any], channel_id: str
) -> None:
    """Keep the 1:1 chat the front end just opened with this platform user (it reaches them again: any
    earlier failure to is forgotten). Nothing happens for someone Cadence never seated."""
    async with core.session_factory() as session, session.begin():
        ident = await identity_for(session, platform, workspace_id, user_id)
        if ident is not None:
            ident.conversation_ref = ref
            ident.dm_channel_id = channel_id
            ident.unreachable_reason = None
