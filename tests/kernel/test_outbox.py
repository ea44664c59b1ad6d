"""Delivery: retries with backoff, Retry-After, order per conversation, permanent failures, in-place updates."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.kernel.delivery import Outgoing, PermanentFailure, RetryLater, Sent
from bot.kernel.messages import Card
from storage.models import OutboxMessage
from tests.helpers import make_engagement, place


class FlakyMessenger:
    """Fails the first `fail` calls with `error`, then records."""

    platform = "console"

    def __init__(self, fail: int = 0, error: Exception | None = None) -> None:
        self.fail = fail
        self.error = error or RetryLater("HTTP 500")
        self.calls: list[Outgoing] = []
        self.delivered: list[Outgoing] = []

    async def send(self, out: Outgoing) -> Sent:
        self.calls.append(out)
        if self.fail > 0:
            self.fail -= 1
            raise self.error
        self.delivered.append(out)
        return Sent(message_id=f"m{len(self.delivered)}", channel_id=out.address.get("channel_id"))


async def post(core, text: str, channel: str = "general", ref_key: str | None = None):
    async with core.session_factory() as s, s.begin():
        return await core.outbox.post_place(s, place(channel), Card(text=text), ref_key=ref_key)


async def test_retry_after_is_honoured_and_nothing_is_lost(core):
    m = FlakyMessenger(fail=2, error=RetryLater("ratelimited", retry_after=30))
    core.messengers["console"] = m
    await post(core, "hello")
    await core.drain()
    assert m.delivered == []
    core.clock.advance(seconds=10)
    await core.drain()
    assert len(m.calls) == 1, "must not call again before Retry-After"
    core.clock.advance(seconds=21)
    await core.drain()
    assert m.delivered == []  # second 429
    core.clock.advance(seconds=31)
    await core.drain()
    assert [o.card.text for o in m.delivered] == ["hello"]


async def test_order_within_a_conversation_is_kept_through_failures(core):
    m = FlakyMessenger(fail=3)
    core.messengers["console"] = m
    for i in range(3):
        await post(core, f"#{i}")
    await post(core, "other", channel="random")
    for _ in range(10):
        core.clock.advance(minutes=1)
        await core.drain()
    in_general = [o.card.text for o in m.delivered if o.address["channel_id"] == "general"]
    assert in_general == ["#0", "#1", "#2"]
    assert any(o.card.text == "other" for o in m.delivered)


async def test_permanent_failure_is_recorded_once_and_does_not_block(core):
    m = FlakyMessenger(fail=1, error=PermanentFailure("channel_not_found"))
    core.messengers["console"] = m
    seen = []

    async def on_fail(session, core_, message) -> None:
        seen.append(message.last_error)

    core.registry.add_hook("delivery_failed", on_fail)
    await post(core, "lost channel")
    await post(core, "next")
    await core.drain()
    core.clock.advance(hours=1)
    await core.drain()
    assert len(m.calls) == 2 and [o.card.text for o in m.delivered] == ["next"]
    assert seen == ["channel_not_found"]
    async with core.session_factory() as s:
        failed = await s.scalar(select(OutboxMessage).where(OutboxMessage.status == "failed"))
        assert failed.last_error == "channel_not_found"


async def test_update_edits_the_message_in_place_even_before_it_was_sent(core):
    m = FlakyMessenger()
    core.messengers["console"] = m
    await post(core, "v1", ref_key="cr:1")
    async with core.session_factory() as s, s.begin():
        await core.outbox.update(s, "cr:1", Card(text="v2"))
    await core.drain()
    assert [(o.op, o.card.text, o.message_id) for o in m.delivered] == [("post", "v1", None), ("update", "v2", "m1")]


async def test_message_claimed_by_a_dead_process_is_sent_after_its_lease(core):
    m = FlakyMessenger()
    core.messengers["console"] = m
    msg = await post(core, "in flight")
    async with core.session_factory() as s, s.begin():
        row = await s.get(OutboxMessage, msg.id)
        row.status, row.lease_until = "sending", core.clock.now() + timedelta(seconds=120)
    await core.drain()
    assert m.delivered == []
    core.clock.advance(seconds=121)
    await core.drain()
    assert [o.card.text for o in m.delivered] == ["in flight"]


async def test_post_home_mirrors_to_every_home_channel(core):
    people = await make_engagement(core)
    from tests.helpers import run

    await run(core, people["alice"], "/cadence setup ACME", place("mirror"))
    core.messengers["console"].log.clear()
    from bot.kernel.engagements import by_key

    async with core.session_factory() as s, s.begin():
        eng = await by_key(s, "ACME")
        await core.outbox.post_home(s, eng, Card(text="to both"))
    await core.drain()
    channels = sorted(d.channel_id for d in core.messengers["console"].log if d.text == "to both")
    assert channels == ["general", "mirror"]


async def test_a_message_waits_for_the_earlier_one_of_its_conversation_even_when_due_first(core):
    """The claim picks heads only: a later message due now stays behind an earlier one waiting out a
    backoff, while other conversations go (bot/kernel/outbox.py, _claimable_heads; each database has its form)."""
    m = FlakyMessenger(fail=1)
    core.messengers["console"] = m
    await post(core, "first")
    await core.drain()  # fails once: "first" goes back to pending with a backoff of about a second
    await post(core, "second")
    await post(core, "elsewhere", channel="random")
    await core.drain()
    assert [o.card.text for o in m.delivered] == ["elsewhere"]
    core.clock.advance(seconds=5)
    await core.drain()
    await core.drain()
    assert [o.card.text for o in m.delivered] == ["elsewhere", "first", "second"]


async def test_claimed_messages_are_recorded_as_sent_with_where_they_landed(core):
    m = FlakyMessenger()
    core.messengers["console"] = m
    msgs = [await post(core, f"n{i}", channel=f"c{i}") for i in range(5)]
    await core.drain()
    async with core.session_factory() as s:
        rows = list(await s.scalars(select(OutboxMessage).where(OutboxMessage.id.in_([x.id for x in msgs]))))
    assert (
        sorted((r.status, r.attempts, r.lease_until, r.sent_at == core.clock.now()) for r in rows)
        == [("sent", 1, None, True)] * 5
    )
    assert sorted(r.platform_message_id for r in rows) == [f"m{i}" for i in range(1, 6)]
