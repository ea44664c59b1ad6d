"""Idempotency across replicas (two cores on one PostgreSQL database, each behind its own web app, as
behind a load balancer): a Slack event and its retry landing on different replicas, a Teams activity
delivered to both, and a double click whose two clicks reach different replicas at the same time —
each changes state once. (Single-process redelivery is covered by the front ends' own e2e tests.)"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from storage.models import AuditEntry, Engagement, ProcessedEvent
from tests.frontends.probe_feature import Probe
from tests.frontends.slack.harness import SlackHarness
from tests.helpers import make_engagement, place, reply_text, run
from tests.standins.slack_api import SlackApiStandIn

pytestmark = pytest.mark.postgres


async def test_slack_event_and_its_retry_on_two_replicas_apply_once(pg_url, make_core):
    probe = Probe()
    api = await SlackApiStandIn().start()
    cores = [await make_core(pg_url) for _ in range(2)]
    for c in cores:
        probe.register(c.registry)
    harnesses = [await SlackHarness(c, api).start() for c in cores]
    try:
        for n in range(5):
            event_id = f"EvTWICE{n}"
            results = await asyncio.gather(
                harnesses[0].dm("dev", f"zz answer {n}", event_id=event_id),
                harnesses[1].dm("dev", f"zz answer {n}", event_id=event_id, retry=1),
                harnesses[1].dm("dev", f"zz answer {n}", event_id=event_id, retry=2),
            )
            assert all(r.status == 200 for r in results)
        assert probe.dm_texts == [f"zz answer {n}" for n in range(5)]
        async with cores[0].session_factory() as s:
            assert await s.scalar(select(func.count()).select_from(ProcessedEvent)) == 5
    finally:
        for h in harnesses:
            await h.stop()
        await api.stop()
        for c in cores:
            await c.engine.dispose()


async def test_teams_activity_delivered_to_two_replicas_applies_once(pg_url, clock):
    from tests.frontends.teams.harness import TeamsHarness

    async with TeamsHarness.running(pg_url, clock) as a, TeamsHarness.running(pg_url, clock) as b:
        asha = a.user("asha")
        b.user("asha")
        general = a.channel("general")
        activity = a.activity(asha, general, text="cadence setup ACME Acme portal")
        first, second = await asyncio.gather(a.post(activity), b.post(activity))
        assert first.status == second.status == 200
        async with a.core.session_factory() as s:
            assert await s.scalar(select(func.count()).select_from(Engagement)) == 1
        async with a.core.session_factory() as s:
            processed = await s.scalar(
                select(func.count()).select_from(ProcessedEvent).where(ProcessedEvent.source == "teams")
            )
        assert processed == 1


async def test_double_click_reaching_two_replicas_at_once_changes_state_once(pg_url, make_core):
    a, b = await make_core(pg_url), await make_core(pg_url)
    people = await make_engagement(a)
    reply = await run(a, people["carol"], "/defect s2 Checkout fails for EU cards", place())
    assert "D-1" in reply_text(reply) or reply.public or reply.private, reply_text(reply)
    await a.drain()
    async with a.session_factory() as s:
        before = await s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.entity_type == "defect"))
    for action in ("defect.ack", "defect.start"):
        replies = await asyncio.gather(
            *(core.handle_action(people["victor"], place(), action, "1") for core in (a, b, a, b))
        )
        texts = [reply_text(r) for r in replies]
        assert not any("Something went wrong" in t for t in texts), texts
    async with a.session_factory() as s:
        entries = list(
            await s.scalars(select(AuditEntry).where(AuditEntry.entity_type == "defect").order_by(AuditEntry.id))
        )
    new = entries[before:]
    assert len(new) == 2, [(e.action, e.from_state, e.to_state) for e in new]
    assert [e.to_state for e in new] == ["acknowledged", "in_progress"], [(e.action, e.to_state) for e in new]
