"""Helpers that make tests read like transcripts."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from bot.context import Actor, Place
from bot.messages import Reply
from bot.sides import ADMINS, side_of_role


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
    every member the way the two-party rules allow: the first admin of the other side by the set-up person,
    everyone else by an admin of their own side. Returns the actors by name."""
    members = members or DEFAULT_MEMBERS
    people = {name: actor(name, tz) for name, (tz, _) in members.items()}
    owner_name = next(iter(members))
    owner = people[owner_name]
    where = place(channel)
    first_role = members[owner_name][1][0]
    reply = await run(core, owner, f"/cadence setup {key} {key.title()} project as {first_role}", where)
    assert not any(c.tone == "warning" for c in reply.private), reply_text(reply)
    admins: dict[str, str] = {side_of_role(first_role): owner_name}
    for name, (_, roles) in members.items():
        side = side_of_role(roles[0])
        await run(core, people[name], "/cadence whoami", where)  # first sight: creates the person
        if name == owner_name and roles == [first_role]:
            continue
        seater = people[admins.get(side, owner_name)]
        r = await run(core, seater, f"/cadence role @{name} {' '.join(roles)}", where)
        assert not any(c.tone == "warning" for c in r.private), reply_text(r)
        if ADMINS[side].intersection(roles):
            admins.setdefault(side, name)
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
