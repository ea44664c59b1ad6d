"""The core's people as Teams shows them: who a card mentions, and who may press its restricted buttons. The
people and their identities come from the core's directory (bot/kernel/directory.py); only the Bot Framework
ids Teams gave us (teams_users, handlers/teams/store.py) are the front end's own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.kernel import directory
from bot.kernel.directory import OnPlatform
from handlers.teams import store

PLATFORM = "teams"

Deciders = tuple[dict[int, str], dict[int, str], frozenset[int]]


async def people_on(core: Any, person_ids: set[int]) -> dict[int, OnPlatform]:
    """The people with these ids and their Teams identities (one short transaction; none for no ids)."""
    return await directory.people_on(core, PLATFORM, person_ids)


def mentions(people: Mapping[int, OnPlatform], tenant_id: str | None = None) -> dict[int, tuple[str, str]]:
    """person id → (Teams user id, display name) for people with a Teams identity (for @mentions): their
    identity in `tenant_id` when they have one there, else one of theirs in another tenant."""
    out: dict[int, tuple[str, str]] = {}
    for person in people.values():
        for workspace_id, user_id in person.accounts:
            if person.person_id in out and tenant_id is not None and workspace_id != tenant_id:
                continue
            out[person.person_id] = (user_id, person.display_name)
    return out


async def deciders(core: Any, people: Mapping[int, OnPlatform], tenant_id: str | None) -> Deciders:
    """For the people a card's buttons are restricted to: person id → Teams user id (the `29:…` Bot Framework
    id, which Teams calls the user MRI and wants in `refresh.userIds`), person id → display name, and the
    people who have a Teams identity but whose Bot Framework id Cadence has not seen yet (they never wrote
    in Teams and were not @mentioned). People without a Teams identity are in none of them but the names."""
    if not people:
        return {}, {}, frozenset()
    names = {p.person_id: p.display_name for p in people.values()}
    accounts = [(p.person_id, workspace_id, user_id) for p in people.values() for workspace_id, user_id in p.accounts]
    # An Entra object id is the same user in every tenant: a member of another tenant in a shared channel is
    # seated under the host tenant but remembered (teams_users) under their own.
    async with core.read_session_factory() as session:  # a look-up only
        bf_ids = await store.bf_ids(session, {user_id for _, _, user_id in accounts})
    mris: dict[int, str] = {}
    teams_people: set[int] = set()
    for person_id, _, user_id in sorted(accounts, key=lambda a: a[1] == tenant_id):  # this tenant's identity wins
        teams_people.add(person_id)
        if bf_ids.get(user_id):
            mris[person_id] = bf_ids[user_id]
        elif user_id.startswith("29:"):  # seated by their Bot Framework id (no Entra object id)
            mris[person_id] = user_id
    return mris, names, frozenset(teams_people - set(mris))
