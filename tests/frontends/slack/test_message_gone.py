"""One deleted message never silences a Slack channel either: an update answered `message_not_found` posts
the new state as a fresh message, its ts replaces the old one, and the channel binding stays healthy (the same
outbox path as Teams' 404 ActivityNotFoundInConversation; bot/delivery.MessageGone)."""

from __future__ import annotations

from sqlalchemy import select

from bot.kernel.messages import Card
from storage.models import ChannelBinding, Engagement, MessageRef
from tests.frontends.slack.harness import HOME


async def test_an_update_of_a_deleted_message_posts_it_afresh_and_keeps_the_channel(slack, core):
    await slack.command("alice", "/cadence setup ACME Acme portal")
    await slack.settle()
    async with core.session_factory() as s, s.begin():
        engagement = await s.scalar(select(Engagement).where(Engagement.key == "ACME"))
        await core.outbox.post_home(s, engagement, Card(title="ACME-D-1 · open"), ref_key="defect:1")
    await slack.settle()
    old_ts = next(m["ts"] for m in slack.posts() if m["text"].startswith("ACME-D-1"))
    slack.api.messages[HOME] = [m for m in slack.api.messages[HOME] if m["ts"] != old_ts]  # deleted in Slack

    async with core.session_factory() as s, s.begin():
        await core.outbox.update(s, "defect:1", Card(title="ACME-D-1 · acknowledged"))
    await slack.settle()
    fresh = [m for m in slack.posts() if m["text"].startswith("ACME-D-1 · acknowledged")]
    assert len(fresh) == 1 and fresh[0]["ts"] != old_ts
    async with core.session_factory() as s:
        ref = await s.scalar(select(MessageRef).where(MessageRef.ref_key == "defect:1"))
        binding = await s.scalar(select(ChannelBinding).where(ChannelBinding.channel_id == HOME))
    assert ref.message_id == fresh[0]["ts"] and binding.failed_reason is None

    async with core.session_factory() as s, s.begin():  # the next change edits the fresh message in place
        await core.outbox.update(s, "defect:1", Card(title="ACME-D-1 · resolved"))
    await slack.settle()
    assert next(m for m in slack.posts() if m["ts"] == fresh[0]["ts"])["text"].startswith("ACME-D-1 · resolved")
