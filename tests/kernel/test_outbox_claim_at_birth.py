"""On SQLite, messages a timer batch creates are claimed as they are inserted and delivered from memory
(bot/kernel/outbox.py, Outbox.batch): once, in order, and never lost. On PostgreSQL
they take the regular claim."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.kernel import notices
from bot.kernel.engagements import by_key
from bot.kernel.messages import Card
from storage.models import OutboxMessage
from tests.helpers import make_engagement, place
from tests.kernel.test_outbox import FlakyMessenger


async def _notices(core, *titles: str, due_in: timedelta = timedelta(minutes=1)) -> None:
    async with core.session_factory() as s, s.begin():
        eng = await by_key(s, "ACME")
        for title in titles:
            await notices.schedule(s, core, eng, due_at=core.clock.now() + due_in, title=title)


async def _engagement_delivering_to(core, messenger: FlakyMessenger) -> FlakyMessenger:
    await make_engagement(core)
    core.messengers["console"] = messenger
    return messenger


async def _rows(core) -> list[OutboxMessage]:
    async with core.session_factory() as s:
        return list(
            await s.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.payload["title"].as_string().like("NOTICE-%"))
                .order_by(OutboxMessage.id)
            )
        )


async def test_a_fired_notice_is_claimed_at_birth_and_sent_once(sqlite_core):
    core = sqlite_core
    m = await _engagement_delivering_to(core, FlakyMessenger())
    await _notices(core, "NOTICE-1")
    core.clock.advance(minutes=1)
    assert await core.timers.run_due() == 1
    rows = await _rows(core)
    # Committed already claimed: no other worker may take it while its lease runs.
    assert [(r.status, r.attempts, r.lease_until) for r in rows] == [
        ("sending", 1, core.clock.now() + core.outbox.lease)
    ]
    assert await core.outbox.deliver_due() == 1
    assert [o.card.title for o in m.delivered] == ["NOTICE-1"]
    assert [(r.status, r.attempts, r.lease_until) for r in await _rows(core)] == [("sent", 1, None)]
    await core.drain()
    assert len(m.calls) == 1


async def test_only_the_head_of_a_conversation_is_claimed_at_birth_and_order_is_kept(sqlite_core):
    core = sqlite_core
    m = await _engagement_delivering_to(core, FlakyMessenger(fail=1))
    async with core.session_factory() as s, s.begin():  # an earlier message in the channel, failing once
        await core.outbox.post_place(s, place("general"), Card(title="NOTICE-0 earlier"))
    await core.drain()
    assert m.delivered == []
    await _notices(core, "NOTICE-1", "NOTICE-2")
    core.clock.advance(minutes=1)
    await core.timers.run_due()
    assert [r.status for r in await _rows(core)] == ["pending", "pending", "pending"]
    for _ in range(4):
        core.clock.advance(seconds=5)
        await core.drain()
    assert [o.card.title for o in m.delivered] == ["NOTICE-0 earlier", "NOTICE-1", "NOTICE-2"]

    # A quiet channel now: the first of the batch goes at birth, the next after it.
    await _notices(core, "NOTICE-3", "NOTICE-4")
    core.clock.advance(minutes=1)
    await core.timers.run_due()
    assert [r.status for r in (await _rows(core))[-2:]] == ["sending", "pending"]
    await core.drain()
    assert [o.card.title for o in m.delivered][-2:] == ["NOTICE-3", "NOTICE-4"]


async def test_claimed_at_birth_then_the_process_dies_the_lease_brings_it_back_once(db_url, clock, make_core):
    first = await make_core(db_url)
    await make_engagement(first)
    await _notices(first, "NOTICE-1")
    clock.advance(minutes=1)
    await first.timers.run_due()  # claimed at birth, committed, and then the process is gone
    await first.engine.dispose()

    second = await make_core(db_url)
    m = FlakyMessenger()
    second.messengers["console"] = m
    await second.drain()
    assert m.delivered == [], "another worker must wait for the lease"
    clock.advance(seconds=121)
    await second.drain()
    await second.drain()
    assert [o.card.title for o in m.delivered] == ["NOTICE-1"]
    await second.engine.dispose()


async def test_a_graceful_stop_puts_unsent_claimed_messages_back(db_url, clock, make_core):
    first = await make_core(db_url)
    await make_engagement(first)
    await _notices(first, "NOTICE-1", due_in=timedelta(0))
    await first.timers.run_due()
    assert [r.status for r in await _rows(first)] == ["sending"]
    await first.stop()  # never started: the claimed, unsent message is all there is to put back
    assert [(r.status, r.attempts, r.lease_until) for r in await _rows(first)] == [("pending", 0, None)]
    await first.engine.dispose()

    second = await make_core(db_url)  # the next process does not wait for a lease
    m = FlakyMessenger()
    second.messengers["console"] = m
    await second.drain()
    assert [o.card.title for o in m.delivered] == ["NOTICE-1"]
    await second.engine.dispose()


async def test_on_postgresql_a_fired_notice_takes_the_regular_claim(pg_core):
    core = pg_core
    m = await _engagement_delivering_to(core, FlakyMessenger())
    await _notices(core, "NOTICE-1")
    core.clock.advance(minutes=1)
    await core.timers.run_due()
    assert [(r.status, r.attempts) for r in await _rows(core)] == [("pending", 0)]
    await core.drain()
    assert [o.card.title for o in m.delivered] == ["NOTICE-1"]
