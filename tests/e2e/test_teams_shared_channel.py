"""A Teams shared channel across tenants (issue 21): the engagement is set up in the host tenant's channel;
a member of another tenant posts in the same channel, their activity carrying their own tenant. Cadence
resolves the engagement by the channel and the host's installation, and records them as external."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Identity
from tests.e2e.teams_harness import TENANT

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
