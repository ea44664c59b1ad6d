"""Seating someone takes their zone from their platform's directory at once (issue 17 item 4), through the
core's Directory interface; when no zone is known they are asked and the channel is told it is a guess."""

from __future__ import annotations

from sqlalchemy import select

from bot.kernel.directory import Profile
from handlers.console.directory import ConsoleDirectory
from handlers.console.session import ConsoleUser
from storage.models import Identity, Person
from tests.features.change_requests.support import said
from tests.helpers import actor, make_engagement, run, sent


class Failing:
    async def lookup(self, workspace_id: str, user_id: str) -> Profile | None:
        raise ConnectionError("directory down")


async def channel_says(core) -> str:
    """The newest message Cadence posted in the channel (public answers go through the outbox)."""
    await core.drain()
    return [d for d in sent(core) if d.op == "post"][-1].text


async def person(core, user_id: str) -> Person:
    async with core.session_factory() as s:
        ident = await s.scalar(select(Identity).where(Identity.user_id == user_id))
        return await s.get(Person, ident.person_id)


async def test_seating_takes_the_directory_zone_and_asks_when_there_is_none(core):
    people = await make_engagement(core)
    core.directories["console"] = ConsoleDirectory({"tokyo1": ConsoleUser("tokyo1", "Asia/Tokyo")})
    await run(core, people["alice"], "/cadence role <@TOKYO1> client_member")
    assert "tokyo1: no role → client member" in await channel_says(core) and "guess" not in await channel_says(core)
    p = await person(core, "TOKYO1")
    assert (p.tz, p.tz_source) == ("Asia/Tokyo", "platform")

    await run(core, people["alice"], "/cadence role <@NOBODY1> client_member")
    assert "times for NOBODY1 are a guess (UTC)" in await channel_says(core)
    assert (await person(core, "NOBODY1")).tz_source == "unknown"
    asked = [d for d in sent(core) if d.op == "dm" and d.address.get("user_id") == "NOBODY1"]
    assert asked and "which time zone are you in?" in asked[-1].text
    r = await run(core, people["alice"], "/cadence members")
    assert "UTC (a guess: not known yet)" in said(r) and "Asia/Tokyo" in said(r)


async def test_a_directory_that_fails_never_fails_the_seating(core):
    people = await make_engagement(core)
    core.directories["console"] = Failing()
    await run(core, people["alice"], "/cadence role <@GHOST1> client_member")
    assert "→ client member" in await channel_says(core) and "a guess" in await channel_says(core)


async def test_a_zone_the_person_chose_is_never_replaced_by_the_directory(core):
    people = await make_engagement(core)
    nina = actor("nina", "UTC")
    await run(core, nina, "/cadence tz Europe/Paris")  # not seated yet: her own zone is still hers to set
    core.directories["console"] = ConsoleDirectory({"nina": ConsoleUser("nina", "Asia/Tokyo")})
    await run(core, people["alice"], "/cadence role @nina client_member")
    assert "→ client member" in await channel_says(core) and "guess" not in await channel_says(core)
    assert (await person(core, "nina")).tz == "Europe/Paris"
