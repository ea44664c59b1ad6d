"""Permanent delivery failures are recorded on the binding / identity and surfaced to the admins once;
a notice timer posts to the home channel once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.kernel import notices
from bot.kernel.delivery import Outgoing, PermanentFailure, Sent
from bot.kernel.engagements import by_key
from bot.kernel.messages import Card
from storage.models import ChannelBinding, Identity, OutboxMessage
from tests.conftest import START
from tests.helpers import make_engagement


class DeadEnds:
    """Delivers everything except to the channels / users named dead (those fail for good)."""

    platform = "console"

    def __init__(self, dead_channels=(), dead_users=()) -> None:
        self.dead_channels = set(dead_channels)
        self.dead_users = set(dead_users)
        self.delivered: list[Outgoing] = []
        self.refused: list[Outgoing] = []

    async def send(self, out: Outgoing) -> Sent:
        if out.address.get("channel_id") in self.dead_channels and out.op != "dm":
            self.refused.append(out)
            raise PermanentFailure("is_archived")
        if out.op == "dm" and out.address.get("user_id") in self.dead_users:
            self.refused.append(out)
            raise PermanentFailure("account_inactive")
        self.delivered.append(out)
        return Sent(message_id=f"m{len(self.delivered)}", channel_id=out.address.get("channel_id") or "dm")


async def test_notice_posts_home_once(core):
    await make_engagement(core)
    m = DeadEnds()
    core.messengers["console"] = m
    async with core.session_factory() as s, s.begin():
        eng = await by_key(s, "ACME")
        await notices.schedule(
            s,
            core,
            eng,
            due_at=START + timedelta(minutes=5),
            title="Release freeze",
            text="from noon",
            key="notice:freeze",
        )
        await notices.schedule(
            s, core, eng, due_at=START + timedelta(minutes=6), title="Release freeze", text="moved", key="notice:freeze"
        )  # same key: rescheduled, not doubled
    await core.drain()
    assert m.delivered == []
    core.clock.advance(minutes=10)
    await core.drain()
    await core.drain()
    assert [(o.address["channel_id"], o.card.title, o.card.text) for o in m.delivered] == [
        ("general", "Release freeze", "moved")
    ]


async def test_archived_channel_is_recorded_and_admins_told_once(core):
    await make_engagement(core)
    m = DeadEnds(dead_channels={"general"})
    core.messengers["console"] = m
    async with core.session_factory() as s, s.begin():
        eng = await by_key(s, "ACME")
        for i in range(3):
            await core.outbox.post_home(s, eng, Card(text=f"post {i}"))
    for _ in range(3):
        await core.drain()
        core.clock.advance(minutes=5)
    await core.drain()
    async with core.session_factory() as s:
        b = await s.scalar(select(ChannelBinding).where(ChannelBinding.channel_id == "general"))
        assert b.failed_reason == "is_archived"
        failed = list(await s.scalars(select(OutboxMessage).where(OutboxMessage.status == "failed")))
    assert len(failed) == 3  # each recorded, none retried forever
    dms = [o for o in m.delivered if o.op == "dm"]
    assert sorted(o.address["user_id"] for o in dms) == ["alice", "victor"]  # sponsor + vendor PM, once each
    assert all("can no longer post" in o.card.title for o in dms)
    # Nothing more is queued for the dead channel.
    async with core.session_factory() as s, s.begin():
        eng = await by_key(s, "ACME")
        assert await core.outbox.post_home(s, eng, Card(text="later")) == []


async def test_deactivated_user_is_recorded_and_admins_told_once(core):
    await make_engagement(core)
    m = DeadEnds(dead_users={"dev"})
    core.messengers["console"] = m
    from bot.kernel.people import members_with_roles

    async with core.session_factory() as s, s.begin():
        eng = await by_key(s, "ACME")
        dev = (await members_with_roles(s, eng, ["developer"]))[0]
        for i in range(2):
            await core.outbox.dm(s, dev, Card(text=f"prompt {i}"), engagement_id=eng.id)
    for _ in range(3):
        await core.drain()
        core.clock.advance(minutes=5)
    async with core.session_factory() as s:
        ident = await s.scalar(select(Identity).where(Identity.user_id == "dev"))
        assert ident.unreachable_reason == "account_inactive"
    told = [o for o in m.delivered if o.op == "dm"]
    assert sorted(o.address["user_id"] for o in told) == ["alice", "victor"]
    assert all("cannot reach Dev" in o.card.title for o in told)
