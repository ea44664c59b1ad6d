"""The two parties of an engagement: which side each role is on, who each side's admins are, and who may
seat whom. One place for these rules; every feature asks here (docs/two-party.md)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.kernel.errors import UserError
from bot.kernel.people import CLIENT_ROLES, ROLES, VENDOR_ROLES, memberships, role_label
from storage.models import Engagement, Membership

Side = Literal["client", "vendor"]
SIDES: tuple[Side, Side] = ("client", "vendor")
# Each side's admins seat and unseat that side's people and speak for the side on the contract.
ADMINS: dict[Side, frozenset[str]] = {
    "client": frozenset({"client_sponsor", "client_pm"}),
    "vendor": frozenset({"vendor_pm", "vendor_lead"}),
}
ALL_ADMINS = ADMINS["client"] | ADMINS["vendor"]
# Who runs `/cadence setup` is seated as this unless they say `as ROLE`: the vendor usually installs the bot.
SETUP_ROLE = "vendor_pm"


def side_of_role(role: str) -> Side:
    if role in CLIENT_ROLES:
        return "client"
    if role in VENDOR_ROLES:
        return "vendor"
    raise UserError(f"“{role}” is not a role. Roles: {', '.join(ROLES)}.")


def side_of(roles: Iterable[str]) -> Side | None:
    """The side a set of roles is on (None: no role, an outsider)."""
    for r in roles:
        return side_of_role(r)
    return None


def other(side: Side) -> Side:
    return "vendor" if side == "client" else "client"


def is_admin(roles: Iterable[str], side: Side | None = None) -> bool:
    wanted = ADMINS[side] if side else ALL_ADMINS
    return bool(wanted.intersection(roles))


async def speaks_for(session: AsyncSession, engagement: Engagement, roles: Iterable[str], person_id: int) -> bool:
    """Whether someone holding `roles` is an admin of the side `person_id` is seated on: an admin acts for their
    own side's people (closes their action item, updates the risk they own), never for the other company's."""
    for m in await seated(session, engagement):
        if m.person_id == person_id:
            return is_admin(roles, side_of(m.roles))
    return False


async def seated(session: AsyncSession, engagement: Engagement) -> list[Membership]:
    """Memberships that hold at least one role (a membership without one is not a seat)."""
    return [m for m in await memberships(session, engagement) if m.roles]


async def admins_of(session: AsyncSession, engagement: Engagement, side: Side) -> list[Membership]:
    return [m for m in await seated(session, engagement) if ADMINS[side].intersection(m.roles)]


def parse_role(text: str) -> str:
    name = text.strip().lower().replace("-", "_").replace(" ", "_")
    if name not in ROLES:
        raise UserError(f"“{text}” is not a role. Roles: {', '.join(ROLES)}.")
    return name


async def check_seating(
    session: AsyncSession,
    engagement: Engagement,
    *,
    actor_id: int,
    actor_roles: set[str],
    target_id: int,
    before: list[str],
    after: list[str],
) -> str:
    """Refuse a change of `target`'s roles from `before` to `after` that `actor` may not make. Returns how
    it was allowed ("own side", "first admin", "alone"), for the announcement."""
    if not after and not before:
        raise UserError("Nothing to change.")
    sides = {side_of_role(r) for r in after}
    if len(sides) > 1:
        raise UserError(
            "One person holds roles on one side only: client roles "
            f"({', '.join(sorted(CLIENT_ROLES))}) or vendor roles ({', '.join(sorted(VENDOR_ROLES))}), not both."
        )
    seats = await seated(session, engagement)
    others = [m for m in seats if m.person_id != actor_id]
    if target_id == actor_id and not others:
        return "alone"  # until anyone else is seated, the set-up person may change their own role freely
    touched = {side_of_role(r) for r in [*before, *after]}
    for side in touched:
        side_admins = [m for m in seats if ADMINS[side].intersection(m.roles)]
        if ADMINS[side].intersection(actor_roles):
            continue
        first_admin = (
            not side_admins
            and is_admin(actor_roles)
            and not before
            and target_id != actor_id
            and ADMINS[side].intersection(after)
        )
        if first_admin:
            return "first admin"
        if not side_admins:
            raise UserError(
                f"The {side} side has no admin yet. An admin of the other side may seat its first admin "
                f"({' or '.join(role_label(r) for r in sorted(ADMINS[side]))}); from then on the {side} side "
                "seats its own people."
            )
        raise UserError(
            f"Only the {side} side's admins ({' or '.join(role_label(r) for r in sorted(ADMINS[side]))}) give "
            f"and take {side} roles. Nothing was changed."
        )
    for side in touched:
        was_admin = bool(ADMINS[side].intersection(before))
        still_admin = bool(ADMINS[side].intersection(after))
        if was_admin and not still_admin:
            remaining = [m for m in seats if m.person_id != target_id and ADMINS[side].intersection(m.roles)]
            if not remaining:
                raise UserError(
                    f"That is the {side} side's last admin. Seat another {side} admin first (hand over), "
                    "then remove this one. Nothing was changed."
                )
    return "own side"


async def not_seated(session: AsyncSession, engagement: Engagement) -> str:
    """What an outsider who acted in an engagement's conversation is told: who can add them, and how."""
    names: list[str] = []
    for side in SIDES:
        for m in await admins_of(session, engagement, side):
            names.append(f"{m.person.display_name} ({', '.join(role_label(r) for r in m.roles)})")
    who = "; ".join(names) if names else "its admins"
    return (
        f"You are not a member of {engagement.key} yet, so nothing was changed or filed. Membership comes from a "
        f"role: ask an admin of your side — {who} — to add you with `/cadence role @you ROLE`."
    )
