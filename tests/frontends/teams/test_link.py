"""Mixed engagements and identity linking: one person on the console (standing in for Slack) and on Teams,
an engagement with a home on each, `/cadence link` one-time codes."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from handlers.console.messenger import ConsoleMessenger
from storage.models import Identity, Membership, Person
from storage.models.teams import LinkCode
from tests.helpers import actor, dm, place, reply_text, run

CODE_RE = re.compile(r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b")


async def console_code(teams, who) -> str:
    reply = await teams.core.handle_command(who, dm(who), "/cadence link")
    m = CODE_RE.search(reply_text(reply))
    assert m, reply_text(reply)
    return m.group(1)


async def test_link_code_joins_console_and_teams_identities_and_merges_roles(teams):
    teams.core.messengers["console"] = ConsoleMessenger()
    alice = actor("alice", "Europe/London")
    # On the console (the other platform): Alice sets up ACME and is its client sponsor.
    r = await run(teams.core, alice, "/cadence setup ACME Acme web shop", place("general"))
    assert "ACME" in reply_text(r) or r.public == []
    await run(teams.core, alice, "/cadence role @alice client_sponsor", place("general"))
    code = await console_code(teams, alice)
    # On Teams, a new identity cannot add a home to ACME …
    asha = teams.user("asha", name="Alice Smith", tz="Europe/London")
    general = teams.channel("general")
    r = await teams.say(asha, "cadence setup ACME", where=general)
    assert "only its admins can add another home" in r.text
    # … until she links it with the code from the console.
    r = await teams.say(asha, f"cadence link {code.lower()}")
    assert "Linked" in r.text
    async with teams.core.session_factory() as s:
        idents = list(await s.scalars(select(Identity).order_by(Identity.id)))
        assert {i.platform for i in idents} == {"console", "teams"}
        assert len({i.person_id for i in idents}) == 1
        assert await s.scalar(select(func.count()).select_from(LinkCode)) == 0
    r = await teams.say(asha, "cadence setup ACME", where=general)
    assert "Channel added" in r.text or "now lives" in r.text or r.status == 200
    await teams.drain()
    assert any("ACME" in t for t in teams.connector.texts(general.id))
    # A home on each platform: a post to the engagement's home is mirrored to both.
    from bot.kernel.messages import Card
    from storage.models import Engagement

    async with teams.core.session_factory() as s, s.begin():
        eng = await s.scalar(select(Engagement).where(Engagement.key == "ACME"))
        await teams.core.outbox.post_home(s, eng, Card(title="Demo tomorrow"))
    await teams.drain()
    assert any("Demo tomorrow" in t for t in teams.connector.texts(general.id))
    assert any("Demo tomorrow" in d.text for d in teams.core.messengers["console"].log)
    # Her roles came along: on Teams she is the client sponsor.
    r = await teams.say(asha, "cadence whoami")
    assert "sponsor" in r.text


async def test_memberships_of_both_people_are_merged(teams):
    teams.core.messengers["console"] = ConsoleMessenger()
    alice, victor = actor("alice"), actor("victor")
    await run(teams.core, alice, "/cadence setup ACME Acme", place("general"))
    await run(teams.core, victor, "/cadence whoami", place("general"))
    await run(teams.core, alice, "/cadence role @victor vendor_pm", place("general"))
    await run(teams.core, alice, "/cadence setup BETA Beta", place("beta"))
    # Victor on Teams is in BETA's Teams home as a developer, and in ACME too (roles to merge)
    vic = teams.user("vic", name="Victor")
    beta_teams = teams.channel("beta")
    code_alice = await console_code(teams, alice)
    asha = teams.user("asha", name="Alice")
    await teams.say(asha, f"cadence link {code_alice}")
    await teams.say(asha, "cadence setup BETA", where=beta_teams)
    await teams.say(vic, "cadence whoami", where=beta_teams)
    await teams.say(asha, "cadence role @Victor developer", where=beta_teams)
    await teams.say(asha, "cadence setup ACME", where=teams.channel("general"))
    await teams.say(vic, "cadence whoami", where=teams.channel("general"))
    await teams.say(asha, "cadence role @Victor qa", where=teams.channel("general"))
    code = await console_code(teams, victor)
    r = await teams.say(vic, f"cadence link {code}")
    assert "Linked" in r.text, r.text
    async with teams.core.session_factory() as s:
        person = await s.scalar(select(Person).join(Identity).where(Identity.user_id == "aad-vic"))
        roles = {
            m.engagement_id: sorted(m.roles)
            for m in await s.scalars(select(Membership).where(Membership.person_id == person.id))
        }
        assert sorted(roles.values()) == [["developer"], ["qa", "vendor_pm"]]
        console_ident = await s.scalar(
            select(Identity).where(Identity.platform == "console", Identity.user_id == "victor")
        )
        assert console_ident.person_id == person.id


async def test_link_code_is_issued_only_in_a_direct_message(teams):
    asha = teams.user("asha")
    r = await teams.say(asha, "cadence link", where=teams.channel("general"))
    assert "direct message" in r.text and not CODE_RE.search(r.text)


async def test_link_code_works_once_and_expires(teams):
    teams.core.messengers["console"] = ConsoleMessenger()
    alice = actor("alice")
    asha, bob = teams.user("asha"), teams.user("bob")
    code = await console_code(teams, alice)
    assert "Linked" in (await teams.say(asha, f"cadence link {code}")).text
    again = await teams.say(bob, f"cadence link {code}")
    assert "unknown or has expired" in again.text
    code2 = await console_code(teams, alice)
    teams.core.clock.advance(timedelta(minutes=16))
    late = await teams.say(bob, f"cadence link {code2}")
    assert "unknown or has expired" in late.text
    wrong = await teams.say(bob, "cadence link nope")
    assert "looks like" in wrong.text
    async with teams.core.session_factory() as s:
        bob_ident = await s.scalar(select(Identity).where(Identity.user_id == "aad-bob"))
        alice_ident = await s.scalar(select(Identity).where(Identity.user_id == "alice"))
        assert bob_ident.person_id != alice_ident.person_id


async def test_only_a_hash_of_the_code_is_stored(teams):
    alice = actor("alice")
    code = await console_code(teams, alice)
    async with teams.core.session_factory() as s:
        row = await s.scalar(select(LinkCode))
        assert code not in row.code_hash and code.replace("-", "") not in row.code_hash


async def test_accounts_seated_on_different_sides_are_not_linked(teams):
    """Linking never seats one person on both sides of an engagement (issue 18: one side only)."""
    teams.core.messengers["console"] = ConsoleMessenger()
    alice, victor = actor("alice"), actor("victor")
    await run(teams.core, alice, "/cadence setup ACME Acme as client_sponsor", place("general"))
    await run(teams.core, victor, "/cadence whoami", place("general"))
    await run(teams.core, alice, "/cadence role @victor vendor_pm", place("general"))
    # Alice's Teams account is seated on the vendor side of ACME by Victor (its own admin) …
    asha = teams.user("asha", name="Asha")
    general = teams.channel("general")
    code_victor = await console_code(teams, victor)
    vic = teams.user("vic", name="Vic")
    assert "Linked" in (await teams.say(vic, f"cadence link {code_victor}")).text
    await teams.say(vic, "cadence setup ACME", where=general)
    await teams.say(asha, "cadence whoami", where=general)
    r = await teams.say(vic, "cadence role @Asha developer", where=general)
    assert "developer" in r.text, r.text
    # … so linking it with her console account (the client sponsor) is refused, and nothing changes.
    code = await console_code(teams, alice)
    r = await teams.say(asha, f"cadence link {code}")
    assert "different sides of ACME" in r.text and "Nothing was linked" in r.text, r.text
    async with teams.core.session_factory() as s:
        people = {i.user_id: i.person_id for i in await s.scalars(select(Identity))}
        assert people["alice"] != people["aad-asha"]
