"""Contention never loses input (issue 17 item 3): on PostgreSQL a deadlock or a serialization failure runs
the whole transaction again before anyone is told anything, and creating a person the first time they are
seen is an upsert that cannot deadlock with itself. Two cores on one database stand for two replicas."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot.features.change_requests import forms
from bot.kernel import contention
from bot.kernel.messages import Reply
from storage.models import Identity, Person
from tests.features.change_requests.support import decisions, get, pending_cr, said, transitions
from tests.helpers import actor, click, make_engagement, place, run, submit

NEWCOMERS = 20


async def seat_newcomers(core, owner, count: int) -> list:
    """Seat `count` people Cadence has never seen act (as `/cadence role <@id> client_pm` does)."""
    people = []
    for i in range(count):
        who = replace(actor(f"n{i:02d}", "America/New_York"), user_id=f"U0NEW{i:02d}", handle=None)
        r = await run(core, owner, f"/cadence role <@{who.user_id}> client_pm")
        assert "client pm" in said(r) or not r.private, said(r)
        people.append(who)
    return people


@pytest.mark.postgres
async def test_twenty_never_seen_approvers_at_once_all_count(pg_core, pg_url, make_core, caplog):
    people = await make_engagement(pg_core)
    newcomers = await seat_newcomers(pg_core, people["alice"], NEWCOMERS)
    cr = await pending_cr(pg_core, people, requester="dev")
    replica = await make_core(pg_url)
    try:
        approvers = [people["alice"], people["carol"], people["victor"], *newcomers]
        results = await asyncio.gather(
            *[click(pg_core if i % 2 else replica, who, "cr.approve", str(cr.id)) for i, who in enumerate(approvers)]
        )
        texts = [said(r) for r in results]
        assert not [t for t in texts if "went wrong" in t], texts
        assert all("You approved" in t for t in texts), texts
        assert sum("Quorum reached" in t for t in texts) == 1, texts
        rows = await decisions(pg_core, cr.id)
        assert len(rows) == len(approvers) == len({d.approver_id for d in rows})
        assert (await get(pg_core, cr.id)).state == "approved"
        assert [t for t in await transitions(pg_core, cr.id) if t[1] == "approved"] == [
            ("pending_approval", "approved")
        ]
    finally:
        await replica.engine.dispose()


@pytest.mark.postgres
async def test_rejection_racing_approvals_has_one_outcome(pg_core, pg_url, make_core):
    people = await make_engagement(pg_core)
    newcomers = await seat_newcomers(pg_core, people["alice"], 6)
    cr = await pending_cr(pg_core, people, requester="dev")
    opened = await click(pg_core, people["carol"], "cr.reject", str(cr.id))
    assert opened.form is not None and opened.form.form_id == forms.REJECT, said(opened)
    replica = await make_core(pg_url)
    try:
        approvals = [
            click(pg_core if i % 2 else replica, who, "cr.approve", str(cr.id))
            for i, who in enumerate([people["alice"], people["victor"], *newcomers])
        ]
        rejection = submit(replica, people["carol"], forms.REJECT, {"reason": "Out of budget"}, opened.form.state)
        results = await asyncio.gather(rejection, *approvals)
        texts = [said(r) for r in results]
        assert not [t for t in texts if "went wrong" in t], texts
        final = await get(pg_core, cr.id)
        # Carol's is the one missing approval, so the only possible outcome is "rejected": once, and every
        # approval that came after it was refused (not half-recorded).
        assert final.state == "rejected", texts
        ends = [t for t in await transitions(pg_core, cr.id) if t[1] in ("approved", "rejected")]
        assert ends == [("pending_approval", "rejected")]
        recorded = {d.approver_id for d in await decisions(pg_core, cr.id)}
        assert len(recorded) == len(await decisions(pg_core, cr.id))
    finally:
        await replica.engine.dispose()


@pytest.mark.postgres
async def test_first_sight_of_one_person_twice_at_once_is_one_person(pg_core, pg_url, make_core):
    await make_engagement(pg_core)
    replica = await make_core(pg_url)
    try:
        who = actor("stranger", "Asia/Tokyo")
        results = await asyncio.gather(*[run(pg_core if i % 2 else replica, who, "/cadence whoami") for i in range(8)])
        assert all("Asia/Tokyo" in said(r) for r in results), [said(r) for r in results]
        async with pg_core.session_factory() as s:
            idents = await s.scalar(select(func.count()).select_from(Identity).where(Identity.user_id == "stranger"))
            orphans = await s.scalar(select(func.count()).select_from(Person).where(~Person.identities.any()))
        assert idents == 1 and orphans == 0
    finally:
        await replica.engine.dispose()


async def test_first_sight_race_on_sqlite_is_one_person(sqlite_core):
    await make_engagement(sqlite_core)
    who = actor("stranger", "Asia/Tokyo")
    await asyncio.gather(*[run(sqlite_core, who, "/cadence whoami") for _ in range(5)])
    async with sqlite_core.session_factory() as s:
        assert await s.scalar(select(func.count()).select_from(Identity).where(Identity.user_id == "stranger")) == 1


class _Deadlock(Exception):
    sqlstate = "40P01"


async def test_a_deadlocked_transaction_runs_again_whole(sqlite_core, monkeypatch):
    """The unit retried is the whole transaction: the handler runs again from the start and its first
    attempt leaves nothing behind; the person is told only the outcome."""
    people = await make_engagement(sqlite_core)
    monkeypatch.setattr(contention, "WAIT", contention.wait_random_exponential(multiplier=0.001, max=0.002))
    attempts: list[int] = []

    async def flaky(ctx) -> Reply:
        attempts.append(1)
        ctx.person.display_name = f"Attempt {len(attempts)}"
        await ctx.session.flush()
        if len(attempts) < 3:
            raise OperationalError("UPDATE …", {}, _Deadlock("deadlock detected"))
        return Reply.say("done")

    reply = await sqlite_core.run(people["carol"], place(), flaky)
    assert said(reply) == "done" and len(attempts) == 3
    async with sqlite_core.session_factory() as s:
        names = set(await s.scalars(select(Person.display_name)))
    assert "Attempt 3" in names and "Attempt 1" not in names and "Attempt 2" not in names


async def test_contention_that_never_ends_is_reported_once(sqlite_core, monkeypatch):
    people = await make_engagement(sqlite_core)
    monkeypatch.setattr(contention, "WAIT", contention.wait_random_exponential(multiplier=0.001, max=0.002))
    attempts: list[int] = []

    async def always(ctx) -> Reply:
        attempts.append(1)
        raise OperationalError("UPDATE …", {}, _Deadlock("deadlock detected"))

    reply = await sqlite_core.run(people["carol"], place(), always)
    assert "went wrong" in said(reply) and len(attempts) == contention.ATTEMPTS
