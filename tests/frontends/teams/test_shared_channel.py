"""A Teams shared channel across tenants (issue 21): the engagement is set up in the host tenant's channel;
a member of another tenant posts in the same channel, their activity carrying their own tenant. Cadence
resolves the engagement by the channel and the host's installation, and records them as external."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Identity
from tests.frontends.teams.harness import TENANT

GUEST_TENANT = "tenant-fabrikam"


async def test_an_activity_from_another_tenant_in_a_shared_channel_reaches_its_engagement(teams, core):
    asha = teams.user("asha", tz="Europe/London")
    priya = teams.user("priya", tz=None, tenant=GUEST_TENANT)
    host_view = teams.channel("shared-acme")
    guest_view = teams.channel("shared-acme", tenant=GUEST_TENANT)  # the same channel id, her tenant
    await teams.say(asha, "cadence setup ACME Acme web shop", where=host_view)
    await teams.say(asha, "cadence role asha vendor_pm", where=host_view)
    await teams.say(priya, "cadence whoami", where=guest_view)
    mention = {"type": "mention", "text": "<at>Priya</at>", "mentioned": {"id": priya.bf_id, "name": "Priya"}}
    await teams.say(asha, "cadence role <at>Priya</at> client_pm", where=host_view, entities=[mention])

    r = await teams.say(priya, "defect s2 Partner checkout times out", where=guest_view)
    assert r.status == 200 and "not bound" not in r.text
    await teams.drain()
    assert any("ACME-D-1" in c.text_dump() for c in teams.connector.sent(host_view.id))
    async with core.session_factory() as session:
        ident = await session.scalar(select(Identity).where(Identity.user_id == priya.aad))
        assert ident.workspace_id == TENANT and ident.external_team_id == GUEST_TENANT
        host = await session.scalar(select(Identity).where(Identity.user_id == asha.aad))
        assert host.external_team_id is None


async def test_an_unbound_channel_of_another_tenant_is_still_not_an_engagement(teams):
    priya = teams.user("priya", tenant=GUEST_TENANT)
    r = await teams.say(priya, "defect s2 Partner checkout times out", where=teams.channel("elsewhere", GUEST_TENANT))
    assert "not bound" in r.text


async def test_what_cannot_be_sent_across_tenants_is_posted_in_the_shared_channel(teams, core):
    asha = teams.user("asha", tz="Europe/London")
    priya = teams.user("priya", tz="America/Chicago", tenant=GUEST_TENANT)
    teams.connector.cross_tenant.update({priya.bf_id, priya.aad})
    host_view = teams.channel("shared-acme")
    guest_view = teams.channel("shared-acme", tenant=GUEST_TENANT)
    await teams.say(asha, "cadence setup ACME Acme web shop", where=host_view)
    await teams.say(asha, "cadence role asha vendor_pm", where=host_view)
    await teams.say(priya, "cadence whoami", where=guest_view)
    mention = {"type": "mention", "text": "<at>Priya</at>", "mentioned": {"id": priya.bf_id, "name": "Priya"}}
    await teams.say(asha, "cadence role <at>Priya</at> client_pm", where=host_view, entities=[mention])
    await teams.drain()
    # A change request awaiting approval asks priya, with whom the bot cannot open a 1:1 chat.
    r = await teams.say(asha, "cr new Partner API", where=host_view)
    form = [c for c in r.replies if "Business reason" in c.text_dump()][-1]
    fields = {"title": "Partner API", "description": "d", "business_reason": "b", "priority": "high"}
    r = await teams.click(asha, form, "Submit", inputs=fields)
    assert r.status == 200, r.text
    r = await teams.say(asha, "cr assess ACME-CR-1", where=host_view)
    form = [c for c in r.replies if "Effort (hours)" in c.text_dump()][-1]
    estimate = {"effort_hours": "40", "cost": "6000", "schedule_impact_days": "5", "risk": "medium"}
    r = await teams.click(asha, form, "Save estimate", inputs=estimate)
    assert "sent for approval" in r.text, r.text
    await teams.drain()
    posted = [c for c in teams.connector.sent(host_view.id) if "direct messages" in c.text_dump()]
    assert posted, [c.text_dump()[-300:] for c in teams.connector.sent(host_view.id)]
    assert any("ACME-CR-1" in c.text_dump() for c in teams.connector.sent(host_view.id) if "Priya" in c.text_dump())
