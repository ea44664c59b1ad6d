"""The timer service: claim once, overdue fires at start-up, reschedule, cancel, replicas."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from bot.kernel.registry import Registry
from storage.models import Timer
from tests.conftest import START


def counting_registry(fired: list, kind: str = "test.ping", fail_times: int = 0) -> Registry:
    reg = Registry()
    failures = {"left": fail_times}

    async def handler(tctx) -> None:
        if failures["left"] > 0:
            failures["left"] -= 1
            raise RuntimeError("boom")
        fired.append((tctx.timer.key, tctx.now, tctx.lateness))

    reg.add_timer(kind, handler)
    return reg


async def schedule(core, key: str | None, due, kind: str = "test.ping", payload=None):
    async with core.session_factory() as s, s.begin():
        return await core.timers.schedule(s, kind=kind, due_at=due, key=key, payload=payload or {})


async def test_fires_once_at_due_time_not_before(core):
    fired: list = []
    core.registry = counting_registry(fired)
    await schedule(core, "a", START + timedelta(minutes=5))
    await core.drain()
    assert fired == []
    core.clock.advance(minutes=5)
    await core.drain()
    await core.drain()
    assert [k for k, *_ in fired] == ["a"]


async def test_same_key_is_never_duplicated(core):
    fired: list = []
    core.registry = counting_registry(fired)
    await schedule(core, "k", START + timedelta(minutes=1))
    await schedule(core, "k", START + timedelta(minutes=2))  # pending: rescheduled, not doubled
    core.clock.advance(minutes=1)
    await core.drain()
    assert fired == []
    core.clock.advance(minutes=1)
    await core.drain()
    await schedule(core, "k", START + timedelta(minutes=3))  # already fired: a no-op
    core.clock.advance(minutes=5)
    await core.drain()
    assert len(fired) == 1
    async with core.session_factory() as s:
        assert await s.scalar(select(func.count()).select_from(Timer)) == 1


async def test_cancel_and_cancel_prefix(core):
    fired: list = []
    core.registry = counting_registry(fired)
    for key in ("demo:1:24h", "demo:1:1h", "demo:2:1h"):
        await schedule(core, key, START + timedelta(minutes=1))
    async with core.session_factory() as s, s.begin():
        assert await core.timers.cancel_prefix(s, "demo:1:") == 2
        assert await core.timers.cancel(s, "nope") is False
    core.clock.advance(minutes=2)
    await core.drain()
    assert [k for k, *_ in fired] == ["demo:2:1h"]


async def test_overdue_timers_fire_after_restart_late_once(any_db_url, clock, make_core):
    fired: list = []
    first = await make_core(any_db_url)
    first.registry = counting_registry(fired)
    await schedule(first, "while-down", START + timedelta(minutes=10))
    await first.engine.dispose()  # the process dies before the timer is due
    clock.advance(hours=2)
    second = await make_core(any_db_url)
    second.registry = counting_registry(fired)
    await second.drain()
    await second.drain()
    assert len(fired) == 1
    _key, _, lateness = fired[0]
    assert lateness == timedelta(hours=1, minutes=50)
    async with second.session_factory() as s:
        t = await s.scalar(select(Timer).where(Timer.key == "while-down"))
        assert t.status == "done" and t.lateness_seconds == 6600
    await second.engine.dispose()


async def test_failing_handler_retries_with_backoff_then_succeeds(core):
    fired: list = []
    core.registry = counting_registry(fired, fail_times=1)
    await schedule(core, "flaky", START)
    await core.drain()
    assert fired == []
    async with core.session_factory() as s:
        t = await s.scalar(select(Timer).where(Timer.key == "flaky"))
        assert t.status == "pending" and t.attempts == 1 and "boom" in t.last_error
    core.clock.advance(minutes=1)
    await core.drain()
    assert len(fired) == 1


async def test_handler_effects_roll_back_with_the_failure(core):
    """A handler that fails half-way leaves nothing behind (its savepoint rolls back)."""
    reg = Registry()

    async def half(tctx) -> None:
        await tctx.core.timers.schedule(tctx.session, kind="test.ping", due_at=tctx.now, key="side-effect")
        raise RuntimeError("after a write")

    reg.add_timer("test.half", half)
    core.registry = reg
    await schedule(core, "h", START, kind="test.half")
    await core.drain()
    async with core.session_factory() as s:
        assert await s.scalar(select(Timer).where(Timer.key == "side-effect")) is None


async def test_one_failing_handler_in_a_batch_neither_blocks_nor_undoes_the_others(core):
    """A batch fires without savepoints; when one handler fails, the batch is fired again one savepoint per
    timer: the others take effect exactly once, the failing one uses one attempt and nothing else."""
    reg = Registry()

    async def note(tctx) -> None:
        if tctx.payload.get("fail"):
            raise RuntimeError("bad one")
        await tctx.core.timers.schedule(
            tctx.session, kind="test.effect", due_at=tctx.now + timedelta(days=9), key=f"effect:{tctx.timer.key}"
        )

    reg.add_timer("test.note", note)
    reg.add_timer("test.effect", note)
    core.registry = reg
    for i in range(30):
        await schedule(core, f"n{i}", START, kind="test.note", payload={"fail": i == 12})
    await core.drain()
    async with core.session_factory() as s:
        effects = list(await s.scalars(select(Timer.key).where(Timer.kind == "test.effect")))
        bad = await s.scalar(select(Timer).where(Timer.key == "n12"))
        done = await s.scalar(
            select(func.count()).select_from(Timer).where(Timer.kind == "test.note", Timer.status == "done")
        )
    assert sorted(effects) == sorted(f"effect:n{i}" for i in range(30) if i != 12)
    assert done == 29
    assert bad.status == "pending" and bad.attempts == 1 and "bad one" in bad.last_error


async def test_a_message_queued_earlier_in_a_batch_is_seen_by_a_later_update(core):
    """In a batch the outbox inserts its rows together at the end; an `update` of a message posted by an
    earlier timer of the same batch must still find it (and edit it, not forget it)."""
    from bot.kernel.context import Place
    from bot.kernel.messages import Card
    from storage.models import OutboxMessage

    reg = Registry()
    where = Place(platform="console", workspace_id="w", channel_id="c-queue")

    async def post(tctx) -> None:
        await tctx.core.outbox.post_place(tctx.session, where, Card(title="v1"), ref_key="same-batch")

    async def edit(tctx) -> None:
        await tctx.core.outbox.update(tctx.session, "same-batch", Card(title="v2"))

    reg.add_timer("test.post", post)
    reg.add_timer("test.edit", edit)
    core.registry = reg
    await schedule(core, "p", START, kind="test.post")
    await schedule(core, "e", START + timedelta(seconds=1), kind="test.edit")
    core.clock.advance(seconds=2)
    fired = await core.timers.run_due()  # both in one batch, without delivering in between
    assert fired == 2
    async with core.session_factory() as s:
        ops = [
            (m.op, m.payload["title"])
            for m in await s.scalars(
                select(OutboxMessage).where(OutboxMessage.ref_key == "same-batch").order_by(OutboxMessage.id)
            )
        ]
    assert ops == [("post", "v1"), ("update", "v2")]


async def test_unknown_kind_is_marked_failed_not_retried_forever(core):
    core.registry = Registry()
    await schedule(core, "orphan", START, kind="nobody.handles")
    await core.drain()
    async with core.session_factory() as s:
        t = await s.scalar(select(Timer).where(Timer.key == "orphan"))
        assert t.status == "failed" and "no handler" in t.last_error


async def test_three_replicas_fire_each_timer_exactly_once(pg_url, clock, make_core):
    """Three cores on one PostgreSQL database, 600 timers due at the same moment."""
    fired: list = []
    cores = [await make_core(pg_url) for _ in range(3)]
    for c in cores:
        c.registry = counting_registry(fired)
        c.timers.batch_size = 50
    async with cores[0].session_factory() as s, s.begin():
        for i in range(600):
            await cores[0].timers.schedule(s, kind="test.ping", due_at=START, key=f"t{i}")
    await asyncio.gather(*(c.drain() for c in cores))
    keys = [k for k, *_ in fired]
    assert len(keys) == 600 and len(set(keys)) == 600
    async with cores[0].session_factory() as s:
        by = dict((await s.execute(select(Timer.fired_by, func.count()).group_by(Timer.fired_by))).all())
        assert sum(by.values()) == 600
    for c in cores:
        await c.engine.dispose()


async def test_a_batch_marks_its_fired_timers_done_and_leaves_a_rescheduled_one_pending(core):
    """Timers fired in one batch are marked done by one statement at its end (bot/kernel/timers.py, _MARK_DONE);
    one whose handler moved it to later stays pending, and the session saw the same as the database."""
    seen: dict[str, str] = {}
    reg = Registry()

    async def handler(tctx) -> None:
        if tctx.timer.key == "again":
            tctx.timer.due_at = tctx.now + timedelta(hours=1)
        seen[tctx.timer.key] = tctx.timer.status

    reg.add_timer("test.ping", handler)
    core.registry = reg
    for key in ("a", "b", "again"):
        await schedule(core, key, START - timedelta(seconds=30))
    assert await core.timers.run_due() == 3
    assert seen == {"a": "pending", "b": "pending", "again": "pending"}
    async with core.session_factory() as s:
        rows = {t.key: t for t in await s.scalars(select(Timer))}
    for key in ("a", "b"):
        assert (rows[key].status, rows[key].fired_at, rows[key].lateness_seconds) == ("done", START, 30.0)
        assert rows[key].fired_by == core.timers.worker_id
    assert (rows["again"].status, rows["again"].due_at, rows["again"].fired_at) == (
        "pending",
        START + timedelta(hours=1),
        None,
    )
