"""What a handler gets: who acted, where, in which engagement, inside one database transaction; and the
person someone names in it (`Ctx.resolve_person`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.kernel.errors import UserError
from bot.kernel.grammar import MENTION_RE
from bot.kernel.people import membership_of, person_for_actor, zone
from storage.models import Engagement, Identity, Membership, Person

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence
    from storage.models import Timer


@dataclass(frozen=True)
class Actor:
    """Who acted, as the platform reports it. `workspace_id` is the installation that serves them (the Slack
    workspace or Teams tenant where Cadence is installed); `home_team` is their own team or tenant, and
    `is_external` says it is another company's (a Slack Connect or Teams shared channel)."""

    platform: str
    workspace_id: str
    user_id: str
    display_name: str | None = None
    tz: str | None = None
    handle: str | None = None
    home_team: str | None = None
    is_external: bool = False


@dataclass(frozen=True)
class Place:
    """Where they acted."""

    platform: str
    workspace_id: str
    channel_id: str
    is_dm: bool = False
    channel_name: str | None = None
    conversation_ref: dict[str, Any] | None = field(default=None, compare=False, hash=False)

    @property
    def conversation_key(self) -> str:
        return f"{self.platform}:{self.workspace_id}:{self.channel_id}"


@dataclass
class Ctx:
    session: AsyncSession
    core: Cadence
    now: datetime
    actor: Actor
    place: Place
    person: Person
    engagement: Engagement | None = None
    membership: Membership | None = None
    cmd: str | None = None
    sub: str | None = None
    args: str = ""

    @property
    def roles(self) -> set[str]:
        return set(self.membership.roles) if self.membership else set()

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.person)

    def require_engagement(self) -> Engagement:
        if self.engagement is None:
            raise UserError(
                "This conversation is not bound to an engagement yet. "
                "Run `/cadence setup KEY Name` in the engagement's channel first."
            )
        return self.engagement

    def require_role(self, *roles: str) -> None:
        self.require_engagement()
        if not self.roles.intersection(roles):
            raise UserError(
                f"Only {', '.join(r.replace('_', ' ') for r in roles)} can do that; "
                f"your roles here: {', '.join(sorted(self.roles)) or 'none'}."
            )

    async def act_on(self, engagement_id: object) -> Engagement:
        """The engagement an item (a form's state, a button's request or defect) belongs to, checked on the
        server: where this conversation is bound to an engagement it must be that one, and the actor must be
        seated in it. Anything else — a forged or stale id — is refused and changes nothing."""
        try:
            eid = int(str(engagement_id))
        except ValueError:
            raise UserError("This form or button names no engagement I know. Nothing was changed.") from None
        target = await self.session.get(Engagement, eid)
        if target is None:
            raise UserError("This form or button names no engagement I know. Nothing was changed.")
        if self.engagement is not None and not self.place.is_dm and self.engagement.id != target.id:
            raise UserError(
                f"This conversation belongs to {self.engagement.key}, but that form or button acts on "
                f"{target.key}. Nothing was changed; open it again from {target.key}'s channel."
            )
        membership = await membership_of(self.session, target, self.person)
        if membership is None or not membership.roles:
            raise UserError(f"You are not a member of {target.key} (no role there). Nothing was changed.")
        return target

    async def resolve_person(self, token: str) -> Person:
        return await resolve_reference(self.session, self, token)


async def person_by_platform_id(
    session: AsyncSession, platform: str, workspace_id: str, user_id: str, name: str | None, now: datetime
) -> Person:
    """The person with that platform id, created (zone unknown yet) if nobody has it."""
    person, _ = await person_for_actor(session, Actor(platform, workspace_id, user_id, display_name=name), now)
    return person


async def resolve_reference(session: AsyncSession, ctx: Ctx, token: str) -> Person:
    """`<@U123|name>`, `<@U123>`, `@name` or a display name → a Person (of the engagement when named)."""
    token = token.strip()
    m = MENTION_RE.fullmatch(token)
    if m and m.group(1):
        return await person_by_platform_id(
            session, ctx.place.platform, ctx.place.workspace_id, m.group(1), m.group(2), ctx.now
        )
    name = (m.group(3) if m else token).lstrip("@").strip()
    if not name:
        raise UserError("Name a person, e.g. `@alice`.")
    lowered = name.lower()
    q = (
        select(Person)
        .join(Identity, Identity.person_id == Person.id)
        .where(
            or_(
                func.lower(Identity.handle) == lowered,
                func.lower(Person.display_name) == lowered,
                func.lower(Identity.user_id) == lowered,
            )
        )
        .distinct()
    )
    if ctx.engagement is not None:
        q = q.join(Membership, Membership.person_id == Person.id).where(Membership.engagement_id == ctx.engagement.id)
    found = list(await session.scalars(q))
    if not found and ctx.engagement is not None:
        # Not a member yet: anyone known on this platform and workspace.
        found = list(
            await session.scalars(
                select(Person)
                .join(Identity, Identity.person_id == Person.id)
                .where(
                    Identity.platform == ctx.place.platform,
                    Identity.workspace_id == ctx.place.workspace_id,
                    or_(
                        func.lower(Identity.handle) == lowered,
                        func.lower(Person.display_name) == lowered,
                        func.lower(Identity.user_id) == lowered,
                    ),
                )
                .distinct()
            )
        )
    if len(found) == 1:
        return found[0]
    if not found:
        raise UserError(f"I don't know anyone called “{name}” here. Mention them as @name.")
    raise UserError(f"More than one person is called “{name}”; mention the one you mean.")


@dataclass
class TimerCtx:
    session: AsyncSession
    core: Cadence
    timer: Timer
    now: datetime
    lateness: timedelta

    @property
    def payload(self) -> dict[str, Any]:
        return self.timer.payload or {}
