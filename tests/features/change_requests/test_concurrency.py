"""Clicks at the same moment on PostgreSQL: two approvers at once both count (no lost approval), one
approver's double click records one decision. Two cores on one database stand for two replicas; a
pause inside the decision widens the window so the clicks really overlap."""

from __future__ import annotations

import asyncio

import pytest

from bot.features.change_requests import forms, service
from tests.features.change_requests.support import SCOPE, decisions, get, pending_cr, said, transitions
from tests.helpers import DEFAULT_MEMBERS, click, make_engagement, submit


@pytest.fixture
def slow_decisions(monkeypatch):
    """Hold each decision for a moment after the request row is locked."""
    original = service.seats_for

    async def slow(*args, **kwargs):
        await asyncio.sleep(0.2)
        return await original(*args, **kwargs)

    monkeypatch.setattr(service, "seats_for", slow)


@pytest.mark.postgres
async def test_two_approvers_at_once_both_count(pg_core, pg_url, make_core, slow_decisions):
    members = {**DEFAULT_MEMBERS, "cathy": ("Europe/Paris", ["client_pm"])}
    people = await make_engagement(pg_core, members=members)
    replica = await make_core(pg_url)
    try:
        for _ in range(3):
            cr = await pending_cr(pg_core, people, requester="dev")  # needs alice, carol, cathy and victor
            results = await asyncio.gather(
                click(pg_core, people["alice"], "cr.approve", str(cr.id)),
                click(replica, people["carol"], "cr.approve", str(cr.id)),
                click(pg_core, people["cathy"], "cr.approve", str(cr.id)),
                click(replica, people["victor"], "cr.approve", str(cr.id)),
            )
            texts = [said(r) for r in results]
            assert all("You approved" in t for t in texts), texts
            assert sum("Quorum reached" in t for t in texts) == 1, texts
            rows = await decisions(pg_core, cr.id)
            assert sorted(d.approver_id for d in rows) == sorted({d.approver_id for d in rows})
            assert len(rows) == 4
            assert (await get(pg_core, cr.id)).state == "approved"
            assert [t for t in await transitions(pg_core, cr.id) if t[1] == "approved"] == [
                ("pending_approval", "approved")
            ]
    finally:
        await replica.engine.dispose()


@pytest.mark.postgres
async def test_double_click_at_once_records_one_decision(pg_core, pg_url, make_core, slow_decisions):
    people = await make_engagement(pg_core)
    replica = await make_core(pg_url)
    try:
        cr = await pending_cr(pg_core, people)
        results = await asyncio.gather(
            *[click(pg_core if i % 2 else replica, people["alice"], "cr.approve", str(cr.id)) for i in range(4)]
        )
        texts = [said(r) for r in results]
        assert sum("You approved ACME-CR-1" in t for t in texts) == 1, texts
        assert sum("already" in t and "Nothing changed" in t for t in texts) == 3, texts
        assert len(await decisions(pg_core, cr.id)) == 1
        # The vendor PM's double click completes the quorum exactly once.
        await asyncio.gather(
            click(pg_core, people["victor"], "cr.approve", str(cr.id)),
            click(replica, people["victor"], "cr.approve", str(cr.id)),
        )
        assert len(await decisions(pg_core, cr.id)) == 2
        assert (await get(pg_core, cr.id)).state == "approved"
    finally:
        await replica.engine.dispose()


async def test_concurrent_clicks_on_sqlite_are_serialised(sqlite_core, slow_decisions):
    core = sqlite_core
    people = await make_engagement(core)
    cr = await pending_cr(core, people)
    results = await asyncio.gather(
        click(core, people["alice"], "cr.approve", str(cr.id)),
        click(core, people["alice"], "cr.approve", str(cr.id)),
        click(core, people["victor"], "cr.approve", str(cr.id)),
    )
    assert sum("You approved" in said(r) for r in results) == 2
    assert len(await decisions(core, cr.id)) == 2 and (await get(core, cr.id)).state == "approved"


@pytest.mark.postgres
async def test_concurrent_filings_get_distinct_numbers(pg_core, pg_url, make_core):
    people = await make_engagement(pg_core)
    replica = await make_core(pg_url)
    try:
        results = await asyncio.gather(
            *[
                submit(pg_core if i % 2 else replica, people[name], forms.NEW, {**SCOPE, "title": f"Change {i}"}, {})
                for i, name in enumerate(["carol", "dev", "alice", "quinn", "victor", "lena"])
            ]
        )
        refs = sorted(said(r).split("Filed ")[1].split(" ")[0] for r in results)
        assert refs == sorted(f"ACME-CR-{n}" for n in range(1, 7))
    finally:
        await replica.engine.dispose()
