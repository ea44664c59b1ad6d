"""Two parties, neither trusted alone: sides and seats, outsiders, and engagements re-derived on the server
(issue 18). Through the console front end's core entry points, as a user would type and click."""

from __future__ import annotations

from sqlalchemy import Select, func, select

from bot.features.change_requests import forms
from storage.models import AuditEntry, Engagement, Identity, Membership
from storage.models.change_requests import ChangeRequest
from storage.models.defects import Defect
from tests.features.change_requests.support import SCOPE, pending_cr
from tests.helpers import actor, click, dm, make_engagement, place, reply_text, run, sent, submit


def refused(reply) -> bool:
    return any(c.tone == "warning" for c in reply.private)


async def roles_of(core, name: str, key: str = "ACME") -> list[str]:
    async with core.session_factory() as s:
        rows = await s.execute(
            select(Membership.roles)
            .join(Engagement, Engagement.id == Membership.engagement_id)
            .where(Engagement.key == key)
            .where(Membership.person_id.in_(select_person(name)))
        )
        found = [r[0] for r in rows]
        return found[0] if found else []


def select_person(name: str) -> Select[tuple[int]]:
    return select(Identity.person_id).where(Identity.user_id == name)


def home_posts(core, word: str) -> list[str]:
    return [d.text for d in sent(core) if d.op == "post" and word in d.text]


async def test_setup_seats_the_runner_as_vendor_pm_and_says_how_to_choose(core):
    vera = actor("vera", "Asia/Kolkata")
    r = await run(core, vera, "/cadence setup ACME Acme shop")
    text = reply_text(r) + "\n".join(c.plain() for c in r.public)
    await core.drain()
    posted = "\n".join(home_posts(core, "ACME"))
    assert "seated as vendor pm" in posted and "as client_pm" in posted, posted or text
    assert await roles_of(core, "vera") == ["vendor_pm"]
    # Alone, she may still change her own role, even across sides.
    r = await run(core, vera, "/cadence role @vera client_pm")
    assert not refused(r), reply_text(r)
    assert await roles_of(core, "vera") == ["client_pm"]


async def test_setup_as_role(core):
    carl = actor("carl", "America/New_York")
    await run(core, carl, "/cadence setup ACME Acme shop as client_pm")
    assert await roles_of(core, "carl") == ["client_pm"]
    r = await run(core, carl, "/cadence setup BETA Beta as chief", place("beta"))
    assert refused(r) and "not a role" in reply_text(r)


async def test_vendor_pm_cannot_take_or_give_client_roles(core):
    people = await make_engagement(core)
    # The scenario: the vendor PM gives herself client_sponsor and takes it from the sponsor.
    r = await run(core, people["victor"], "/cadence role @victor client_sponsor")
    assert refused(r) and "one side only" in reply_text(r)
    r = await run(core, people["victor"], "/cadence role @alice -client_sponsor")
    assert refused(r) and "Only the client side's admins" in reply_text(r)
    r = await run(core, people["victor"], "/cadence role @carol -client_pm")
    assert refused(r)
    assert await roles_of(core, "alice") == ["client_sponsor"] and await roles_of(core, "carol") == ["client_pm"]
    # And the client side does not seat the vendor's people once the vendor has an admin.
    r = await run(core, people["alice"], "/cadence role @dev qa")
    assert refused(r) and "Only the vendor side's admins" in reply_text(r)
    # A developer is no admin: they seat nobody.
    r = await run(core, people["dev"], "/cadence role @quinn developer")
    assert refused(r)


async def test_first_admin_of_the_other_side_then_it_seats_its_own(core):
    alice = actor("alice", "Europe/London")
    victor, dev = actor("victor", "Asia/Kolkata"), actor("dev", "Asia/Kathmandu")
    await run(core, alice, "/cadence setup ACME Acme as client_sponsor")
    for who in (victor, dev):
        await run(core, who, "/cadence whoami")
    # The vendor side has no admin: alice may not seat a developer, only the vendor's first admin.
    r = await run(core, alice, "/cadence role @dev developer")
    assert refused(r) and "has no admin yet" in reply_text(r)
    r = await run(core, alice, "/cadence role @victor vendor_pm")
    assert not refused(r), reply_text(r)
    await core.drain()
    assert home_posts(core, "first admin of their side"), [d.text for d in sent(core)]
    r = await run(core, victor, "/cadence role @dev developer")
    assert not refused(r), reply_text(r)
    # The vendor PM's zone runs the business-hours SLA clocks, not the set-up person's.
    async with core.session_factory() as s:
        eng = await s.scalar(select(Engagement).where(Engagement.key == "ACME"))
        assert eng.support_tz == "Asia/Kolkata" and eng.home_tz == "Europe/London"


async def test_home_zone_follows_the_clients_first_admin(core):
    victor, carol = actor("victor", "Asia/Kolkata"), actor("carol", "America/New_York")
    await run(core, victor, "/cadence setup ACME Acme")
    await run(core, carol, "/cadence whoami")
    async with core.session_factory() as s:
        eng = await s.scalar(select(Engagement).where(Engagement.key == "ACME"))
        assert eng.home_tz == "Asia/Kolkata" and eng.support_tz == "Asia/Kolkata"
    await run(core, victor, "/cadence role @carol client_pm")
    async with core.session_factory() as s:
        eng = await s.scalar(select(Engagement).where(Engagement.key == "ACME"))
        assert eng.home_tz == "America/New_York" and eng.support_tz == "Asia/Kolkata"


async def test_re_seating_the_vendor_pm_never_moves_the_sla_calendar(core):
    """The SLA's business-hours zone is a contract term: once both sides are seated, the vendor cannot move it
    by unseating its PM and seating one in another zone."""
    people = await make_engagement(core)
    nora = actor("nora", "Europe/Berlin")
    await run(core, nora, "/cadence whoami")
    r = await run(core, people["lena"], "/cadence role @victor -vendor_pm")
    assert not refused(r), reply_text(r)
    r = await run(core, people["lena"], "/cadence role @nora vendor_pm")
    assert not refused(r), reply_text(r)
    async with core.session_factory() as s:
        eng = await s.scalar(select(Engagement).where(Engagement.key == "ACME"))
        assert eng.support_tz == "Asia/Kolkata"


async def test_last_admin_only_by_handing_over(core):
    people = await make_engagement(
        core,
        members={
            "alice": ("Europe/London", ["client_sponsor"]),
            "victor": ("Asia/Kolkata", ["vendor_pm"]),
            "lena": ("Asia/Kolkata", ["developer"]),
        },
    )
    r = await run(core, people["victor"], "/cadence role @victor -vendor_pm")
    assert refused(r) and "last admin" in reply_text(r)
    r = await run(core, people["victor"], "/cadence role @lena vendor_lead")
    assert not refused(r), reply_text(r)
    r = await run(core, people["victor"], "/cadence role @victor -vendor_pm")
    assert not refused(r), reply_text(r)
    assert await roles_of(core, "victor") == []


async def test_role_changes_are_announced_and_recorded(core):
    people = await make_engagement(core)
    before = len(sent(core))
    await run(core, people["victor"], "/cadence role @dev qa")
    await core.drain()
    posts = [d.text for d in sent(core)[before:] if d.op == "post"]
    assert any("Dev: developer → developer, qa" in t and "Victor" in t for t in posts), posts
    async with core.session_factory() as s:
        entry = await s.scalar(
            select(AuditEntry).where(AuditEntry.action == "roles_changed").order_by(AuditEntry.id.desc()).limit(1)
        )
        assert entry.data["after"] == ["developer", "qa"] and entry.actor_label == "Victor"


async def test_outsider_is_told_how_to_be_added_and_nothing_is_filed(core):
    await make_engagement(core)
    mallory = actor("mallory")
    r = await run(core, mallory, "/cr new Free work")
    assert refused(r) and "not a member of ACME" in reply_text(r) and "/cadence role @you" in reply_text(r)
    r = await submit(core, mallory, forms.NEW, SCOPE, {})
    assert refused(r)
    r = await run(core, mallory, "/defect s2 Everything is broken")
    assert refused(r) and "Alice (client sponsor)" in reply_text(r)
    async with core.session_factory() as s:
        assert await s.scalar(select(func.count()).select_from(ChangeRequest)) == 0
        assert await s.scalar(select(func.count()).select_from(Defect)) == 0
        people_in = await s.scalar(
            select(func.count()).select_from(Membership).where(Membership.person_id.in_(select_person("mallory")))
        )
        assert people_in == 0  # acting never makes a member
    # What is about the person themselves stays open.
    assert not refused(await run(core, mallory, "/cadence whoami"))


async def test_forged_form_state_pointing_at_another_engagement_is_refused(core):
    people = await make_engagement(core)
    # Mallory runs her own engagement BETA in another channel, and forges ACME's id into a form's state.
    mallory = actor("mallory")
    await run(core, mallory, "/cadence setup BETA Beta", place("beta"))
    async with core.session_factory() as s:
        acme = await s.scalar(select(Engagement).where(Engagement.key == "ACME"))
    r = await submit(core, mallory, forms.NEW, SCOPE, {"engagement_id": str(acme.id)}, where=place("beta"))
    assert refused(r) and "acts on ACME" in reply_text(r)
    # From a DM (no conversation to compare with) she is still no member of ACME.
    r = await submit(core, mallory, forms.NEW, SCOPE, {"engagement_id": str(acme.id)}, where=dm(mallory))
    assert refused(r) and "not a member of ACME" in reply_text(r)
    # A form whose hidden channel claims ACME's channel: she is no member there.
    r = await submit(core, mallory, forms.NEW, SCOPE, {}, where=place("general"))
    assert refused(r)
    # A button on ACME's request clicked in BETA's channel, even by someone seated in both: refused.
    cr = await pending_cr(core, people)
    r = await click(core, mallory, "cr.approve", str(cr.id), where=place("beta"))
    assert refused(r)
    async with core.session_factory() as s:
        assert await s.scalar(select(func.count()).select_from(ChangeRequest)) == 1
        assert (await s.get(ChangeRequest, cr.id)).state == "pending_approval"


async def test_member_of_both_cannot_act_on_one_from_the_others_channel(core):
    people = await make_engagement(core)
    await run(core, people["alice"], "/cadence setup BETA Beta as client_sponsor", place("beta"))
    cr = await pending_cr(core, people)
    r = await click(core, people["alice"], "cr.approve", str(cr.id), where=place("beta"))
    assert refused(r) and "belongs to BETA" in reply_text(r)
    r = await click(core, people["alice"], "cr.approve", str(cr.id))
    assert not refused(r), reply_text(r)
