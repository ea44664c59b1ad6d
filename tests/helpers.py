"""Helpers that make tests read like transcripts."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.kernel.context import Actor, Place
from bot.kernel.messages import Reply
from bot.kernel.sides import ADMINS, side_of_role
from storage.models import Engagement, Identity, Membership, Person


def actor(name: str, tz: str | None = "UTC", *, platform: str = "console", workspace: str = "local") -> Actor:
    return Actor(
        platform=platform,
        workspace_id=workspace,
        user_id=name.lower(),
        display_name=name.capitalize(),
        tz=tz,
        handle=name.lower(),
    )


def place(channel: str = "general", *, platform: str = "console", workspace: str = "local") -> Place:
    return Place(platform=platform, workspace_id=workspace, channel_id=channel, channel_name=channel)


def dm(who: Actor) -> Place:
    return Place(platform=who.platform, workspace_id=who.workspace_id, channel_id=f"dm:{who.user_id}", is_dm=True)


async def run(core, who: Actor, text: str, where: Place | None = None) -> Reply:
    return await core.handle_command(who, where or place(), text)


async def click(core, who: Actor, action_id: str, value: str = "", where: Place | None = None) -> Reply:
    return await core.handle_action(who, where or place(), action_id, value)


async def submit(
    core,
    who: Actor,
    form_id: str,
    values: dict[str, Any],
    state: dict[str, Any] | None = None,
    where: Place | None = None,
) -> Reply:
    return await core.handle_form(who, where or place(), form_id, values, state or {})


async def say_dm(core, who: Actor, text: str) -> Reply | None:
    return await core.handle_dm(who, dm(who), text)


def sent(core) -> list:
    """Everything the console messenger delivered, oldest first."""
    return core.messengers["console"].log


def texts(core) -> list[str]:
    return [d.text for d in sent(core)]


def reply_text(reply: Reply) -> str:
    parts = []
    for card in [*reply.private, *reply.public] + ([reply.update] if reply.update else []):
        parts.append(card.plain())
    if reply.form:
        parts.append(reply.form.title)
    parts.extend(reply.errors.values())
    return "\n".join(parts)


async def advance(core, **delta: float) -> tuple[int, int]:
    """Move the clock and do everything that became due."""
    core.clock.advance(timedelta(**delta))
    return await core.drain()


DEFAULT_MEMBERS = {
    "alice": ("Europe/London", ["client_sponsor"]),
    "carol": ("America/New_York", ["client_pm"]),
    "victor": ("Asia/Kolkata", ["vendor_pm"]),
    "lena": ("Asia/Kolkata", ["vendor_lead"]),
    "dev": ("Asia/Kathmandu", ["developer"]),
    "quinn": ("America/St_Johns", ["qa"]),
}


async def make_engagement(
    core, key: str = "ACME", *, channel: str = "general", members: dict[str, tuple[str, list[str]]] | None = None
) -> dict[str, Actor]:
    """Set up engagement `key` in `channel` (by the first member, seated in their first role) and seat
    every member the way the two-party rules allow: a side's first admin by the set-up person, everyone else
    by an admin of their own side (admins are seated first). A test whose members leave a side without any
    admin gets those people's roles written directly: no command can seat them. Returns the actors by name."""
    members = members or DEFAULT_MEMBERS
    people = {name: actor(name, tz) for name, (tz, _) in members.items()}
    owner_name = next(iter(members))
    owner = people[owner_name]
    where = place(channel)
    first_role = members[owner_name][1][0]
    reply = await run(core, owner, f"/cadence setup {key} {key.title()} project as {first_role}", where)
    assert not any(c.tone == "warning" for c in reply.private), reply_text(reply)
    for name in members:
        await run(core, people[name], "/cadence whoami", where)  # first sight: creates the person
    admins: dict[str, str] = {side_of_role(first_role): owner_name}
    order = sorted(members, key=lambda n: not ADMINS[side_of_role(members[n][1][0])].intersection(members[n][1]))
    headless: list[str] = []
    for name in order:
        roles = members[name][1]
        side = side_of_role(roles[0])
        if name == owner_name and roles == [first_role]:
            continue
        is_admin = bool(ADMINS[side].intersection(roles))
        if side not in admins and not is_admin:
            headless.append(name)
            continue
        seater = people[admins.get(side, owner_name)]
        r = await run(core, seater, f"/cadence role @{name} {' '.join(roles)}", where)
        assert not any(c.tone == "warning" for c in r.private), reply_text(r)
        if is_admin:
            admins.setdefault(side, name)
    if headless:
        async with core.session_factory() as s, s.begin():
            eng = await s.scalar(select(Engagement).where(Engagement.key == key))
            for name in headless:
                person_id = await s.scalar(select(Identity.person_id).where(Identity.user_id == name))
                m = await s.scalar(
                    select(Membership).where(Membership.engagement_id == eng.id, Membership.person_id == person_id)
                )
                if m is None:
                    s.add(
                        Membership(
                            engagement_id=eng.id,
                            person_id=person_id,
                            roles=list(members[name][1]),
                            joined_at=core.clock.now(),
                        )
                    )
                else:
                    m.roles = list(members[name][1])
                await s.flush()
                person = await s.get(Person, person_id)
                await core.emit(s, "membership_changed", engagement=eng, person=person)
    await core.drain()
    return people


async def agree(core, proposer: Actor, text: str, approver: Actor, where: Place | None = None) -> Reply:
    """Run a command that changes a contract term; if it became a proposal, the other side's `approver`
    approves it (`/cadence contract approve N`). Returns the proposer's reply."""
    r = await run(core, proposer, text, where)
    m = re.search(r"amendment #(\d+)", reply_text(r))
    if m and "Proposed" in reply_text(r):
        a = await run(core, approver, f"/cadence contract approve {m.group(1)}", where)
        assert "You approved" in reply_text(a), reply_text(a)
    return r
