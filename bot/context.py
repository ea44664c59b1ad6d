"""What a handler gets: who acted, where, in which engagement, inside one database transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserError

if TYPE_CHECKING:
    from bot.core import Cadence
    from storage.models import Engagement, Membership, Person, Timer


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
        from bot.people import zone

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

    async def resolve_person(self, token: str) -> Person:
        from bot.people import resolve_reference

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
