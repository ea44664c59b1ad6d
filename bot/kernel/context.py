"""What a handler gets: who acted, where, in which engagement, inside one database transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.kernel.errors import UserError
from bot.kernel.people import membership_of
from storage.models import Engagement

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence
    from storage.models import Membership, Person, Timer


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
        from bot.kernel.people import zone

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
        from bot.kernel.people import resolve_reference

        return await resolve_reference(self.session, self, token)


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
