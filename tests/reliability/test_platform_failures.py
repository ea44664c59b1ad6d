"""The Slack Web API misbehaving for a while — 429 with Retry-After, 500s, calls that time out, the
server gone (connection refused) — then recovering: every message arrives exactly once and in order per
channel. A channel that is gone for good is recorded and the admins are told once. Real SlackMessenger,
real HTTP, the Slack engineers' stand-in (extended in cluster.py)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from bot.kernel.engagements import by_key
from bot.kernel.messages import Card
from handlers.slack.messenger import SlackMessenger
from storage.models import ChannelBinding, Engagement, OutboxMessage
from tests.helpers import actor, place, run
from tests.reliability.cluster import ClusterSlackApi, seed_engagements
from tests.standins.slack_api import WORKSPACE_ID

TOKEN = "xoxb-reliability"


def slack_messenger(core, api: ClusterSlackApi, timeout: float = 0.5) -> SlackMessenger:
    async def token_for(_workspace: str) -> str:
        return TOKEN

    return SlackMessenger(base_url=api.base_url, token_for=token_for, core=core, timeout=timeout)


async def enqueue(core, targets, start: int, per_channel: int) -> int:
    """`per_channel` notices to each target, one transaction each (so their order is defined)."""
    n = start
    for _ in range(per_channel):
        for eid, _channel in targets:
            async with core.session_factory() as s, s.begin():
                eng = await s.get(Engagement, eid)
                await core.outbox.post_home(s, eng, Card(title=f"N#{n:06d}"))
            n += 1
    return n


async def test_outage_of_every_kind_then_recovery_delivers_everything_once_in_order(core):
    api = await ClusterSlackApi().start()
    try:
        core.messengers["slack"] = slack_messenger(core, api)
        targets = await seed_engagements(core.engine, 3, now=core.clock.now())
        expected: list[int] = []
        n = 0
        script = {
            0: lambda: api.fail_next(3, status=429, retry_after=2),
            2: lambda: api.fail_next(4, status=500),
            4: lambda: setattr(api, "hang_next", 3),
        }
        down = range(6, 12)  # connection refused for six rounds
        for i in range(400):
            if i < 10:
                before = n
                n = await enqueue(core, targets, n, 2)
                expected.extend(range(before, n))
            if i in script:
                script[i]()
            if i == down.start:
                await api.down()
            if i == down.stop:
                await api.up()
            core.clock.advance(seconds=5)
            await core.drain()
            if i > down.stop and len(api.counts()) == n:
                break
        counts = api.counts()
        assert sorted(counts) == expected, f"missing: {sorted(set(expected) - set(counts))[:20]}"
        assert {k: v for k, v in counts.items() if v > 1} == {}, "a message arrived twice"
        by_channel: dict[str, list[int]] = {}
        for number in expected:
            by_channel.setdefault(targets[number % len(targets)][1], []).append(number)
        assert api.per_channel() == by_channel, "order within a channel was not kept"
        statuses = Counter(c.status for c in api.calls if c.method == "chat.postMessage")
        assert statuses[429] == 3 and statuses[500] == 4, statuses
        assert len(api.frozen_calls) == 3  # timed out on our side, never accepted
        async with core.session_factory() as s:
            outbox = dict(
                (await s.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))).all()
            )
            retried = await s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.attempts > 1))
        assert outbox == {"sent": n}
        assert retried > 0
    finally:
        if "slack" in core.messengers:
            await core.messengers["slack"].close()
        await api.stop()


class ArchivingSlackApi(ClusterSlackApi):
    """chat.postMessage to a channel in `archived` answers is_archived, as Slack does."""

    archived: frozenset[str] = frozenset()

    def _m_chat_postMessage(self, body):
        if body.get("channel") in self.archived:
            return {"ok": False, "error": "is_archived"}
        return super()._m_chat_postMessage(body)


async def test_archived_channel_recorded_and_admins_told_once_over_slack(core):
    api = await ArchivingSlackApi().start()
    try:
        core.messengers["slack"] = slack_messenger(core, api)
        home = place("C0GONE", platform="slack", workspace=WORKSPACE_ID)
        people = {
            name: actor(name, "UTC", platform="slack", workspace=WORKSPACE_ID) for name in ("alice", "victor", "dev")
        }
        await run(core, people["alice"], "/cadence setup ACME Acme portal", home)
        for name, roles in (("alice", "client_sponsor"), ("victor", "vendor_pm"), ("dev", "developer")):
            await run(core, people[name], "/cadence whoami", home)
            await run(core, people["alice"], f"/cadence role @{name} {roles}", home)
        await core.drain()
        api.clear()
        api.archived = frozenset({"C0GONE"})  # someone archives the home channel
        async with core.session_factory() as s, s.begin():
            eng = await by_key(s, "ACME")
            for i in range(4):
                await core.outbox.post_home(s, eng, Card(title=f"N#{i:06d}"))
        for _ in range(5):
            core.clock.advance(minutes=1)
            await core.drain()
        refused = [c for c in api.calls_to("chat.postMessage") if c.body.get("channel") == "C0GONE"]
        assert len(refused) == 4, "each message tried once, none retried forever"
        dms = [c for c in api.calls_to("chat.postMessage", ok_only=True) if c.body.get("channel", "").startswith("D")]
        assert sorted(c.body["channel"] for c in dms) == ["Dalice", "Dvictor"], [c.body for c in dms]
        assert all("can no longer post" in c.text_dump() for c in dms)
        async with core.session_factory() as s:
            binding = await s.scalar(select(ChannelBinding).where(ChannelBinding.channel_id == "C0GONE"))
            assert binding.failed_reason == "slack: is_archived"
    finally:
        if "slack" in core.messengers:
            await core.messengers["slack"].close()
        await api.stop()
