"""The contract changes by amendment (issue 18): once both sides have an admin, a change by one side is a
proposal the other side's admins approve or reject; nothing changes silently, and everything is said in
the home channel and kept in the audit log."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.kernel import contract
from bot.kernel.clock import utc
from storage.models import AuditEntry, Engagement, Timer
from storage.models.contract import ContractChange
from tests.features.defects.support import defect
from tests.helpers import actor, advance, click, make_engagement, reply_text, run, sent


def refused(reply) -> bool:
    return any(c.tone == "warning" for c in reply.private)


async def engagement_row(core) -> Engagement:
    async with core.session_factory() as s:
        return await s.scalar(select(Engagement).where(Engagement.key == "ACME"))


async def changes(core) -> list[ContractChange]:
    async with core.session_factory() as s:
        return list(await s.scalars(select(ContractChange).order_by(ContractChange.id)))


def home_posts(core, since: int = 0) -> list[str]:
    return [d.text for d in sent(core)[since:] if d.op == "post"]


async def test_vendor_cannot_quietly_loosen_the_sla(core):
    people = await make_engagement(core)
    await run(core, people["victor"], "/standup config off")
    before = len(sent(core))
    # The scenario: the vendor PM changes S1 resolution from 24 h to 72 h.
    r = await run(core, people["victor"], "/defect policy s1 resolution 72h")
    assert "Proposed S1 targets" in reply_text(r) and "client side approves" in reply_text(r), reply_text(r)
    await core.drain()
    card = [d for d in sent(core)[before:] if d.op == "post" and "amendment #1" in d.card.title]
    assert card, home_posts(core, before)
    text = card[0].text
    assert "resolution 24h" in text and "resolution 72h" in text and "Victor" in text
    assert [b.label for b in card[0].card.buttons] == ["Approve", "Reject", "Withdraw"]
    # No effect yet: a defect filed now keeps 24 h.
    await run(core, people["carol"], "/defect s1 Checkout down")
    d1 = await defect(core, 1)
    assert d1.resolution_due_at - d1.filed_at == timedelta(hours=24)
    # The vendor's own side cannot approve it; nor can a client member who is no admin.
    amendment = (await changes(core))[0]
    r = await click(core, people["lena"], "contract.approve", str(amendment.id))
    assert refused(r) and "only the other side's admins" in reply_text(r)
    r = await click(core, people["victor"], "contract.approve", str(amendment.id))
    assert refused(r)
    r = await click(core, people["dev"], "contract.approve", str(amendment.id))
    assert refused(r)
    assert (await changes(core))[0].status == "pending"
    # The client sponsor approves: it applies from now, and the channel is told.
    r = await click(core, people["alice"], "contract.approve", str(amendment.id))
    assert "You approved amendment #1" in reply_text(r), reply_text(r)
    await core.drain()
    assert any("was approved by" in t and "Alice" in t for t in home_posts(core, before))
    await run(core, people["carol"], "/defect s1 Payments down")
    d2 = await defect(core, 2)
    assert d2.resolution_due_at - d2.filed_at == timedelta(hours=72)
    d1 = await defect(core, 1)
    assert d1.resolution_due_at - d1.filed_at == timedelta(hours=24)  # filed before: keeps its terms
    # A second click changes nothing.
    r = await click(core, people["carol"], "contract.approve", str(amendment.id))
    assert "already approved" in reply_text(r)


async def test_settings_that_are_terms_become_proposals_and_can_be_rejected(core):
    people = await make_engagement(core)
    r = await run(core, people["victor"], "/cadence settings contingency 40")
    assert "Proposed Contingency: 15 % of the budget → 40 % of the budget" in reply_text(r), reply_text(r)
    # The warranty's end is no longer typed; its length is a term changed through the milestones feature.
    r = await run(core, people["victor"], "/cadence settings warranty_end 2030-01-01")
    assert refused(r) and "no longer typed" in reply_text(r), reply_text(r)
    r = await run(core, people["victor"], "/milestone settings warranty_months 12")
    assert "Proposed Warranty: 6 months from the project acceptance" in reply_text(r), reply_text(r)
    r = await run(core, people["carol"], "/cadence contract reject 1 too much")
    assert "You rejected amendment #1" in reply_text(r), reply_text(r)
    r = await run(core, people["victor"], "/cadence contract withdraw 2")
    assert "You withdrew amendment #2" in reply_text(r), reply_text(r)
    eng = await engagement_row(core)
    assert eng.contingency_pct == 15.0 and eng.warranty_end is None
    r = await run(core, people["dev"], "/cadence settings budget 1")
    assert refused(r)
    # The contract shows the terms in force and their history.
    r = await run(core, people["dev"], "/cadence contract")
    text = reply_text(r)
    assert "Contingency: 15 % of the budget (default" in text and "0 pending" in text, text
    async with core.session_factory() as s:
        actions = [
            e.action
            for e in await s.scalars(
                select(AuditEntry).where(AuditEntry.entity_type == "contract").order_by(AuditEntry.id)
            )
        ]
    assert actions == ["proposed", "proposed", "rejected", "withdrawn"]


async def test_agreed_at_once_while_the_other_side_has_no_admin(core):
    victor = actor("victor", "Asia/Kolkata")
    await run(core, victor, "/cadence setup ACME Acme")
    r = await run(core, victor, "/cadence settings budget 200000")
    assert "Agreed at once: the client side has no admin yet" in reply_text(r), reply_text(r)
    await core.drain()
    assert any("amendment #1" in d.card.title and "200,000.00" in d.text for d in sent(core) if d.op == "post")
    assert float((await engagement_row(core)).budget) == 200000.0
    r = await run(core, victor, "/cadence contract")
    assert "Budget: 200,000.00 (#1, proposed by Victor" in reply_text(r), reply_text(r)


async def test_pending_proposals_are_reminded_daily_to_the_other_side(core):
    people = await make_engagement(core)
    await run(core, people["victor"], "/standup config off")
    await run(core, people["alice"], "/cadence report off")
    await run(core, people["alice"], "/cadence settings iteration_days 21")
    r = await run(core, people["carol"], "/cadence contract")
    assert "1 pending" in reply_text(r) and "Iteration length" in reply_text(r)
    # Each vendor admin is reminded at 10:00 their own time on their next work day, like change requests.
    async with core.session_factory() as s:
        due = [t.due_at for t in await s.scalars(select(Timer).where(Timer.kind == contract.REMIND))]
    kolkata = ZoneInfo("Asia/Kolkata")  # victor's and lena's zone
    assert len(due) == 2 and {utc(d).astimezone(kolkata).strftime("%a %H:%M") for d in due} == {"Tue 10:00"}, due
    before = len(sent(core))
    await advance(core, hours=25)
    dms = [d for d in sent(core)[before:] if d.op == "dm" and "Reminder: amendment #1" in d.text]
    assert {d.address["user_id"] for d in dms} == {"victor", "lena"}
    await advance(core, hours=24)
    assert len([d for d in sent(core)[before:] if d.op == "dm" and "Reminder: amendment #1" in d.text]) == 4
    await run(core, people["lena"], "/cadence contract approve 1")
    assert (await engagement_row(core)).iteration_days == 21
    await advance(core, hours=24)
    assert len([d for d in sent(core)[before:] if d.op == "dm" and "Reminder: amendment #1" in d.text]) == 4


async def test_side_rules_stay_with_the_side_but_are_announced(core):
    people = await make_engagement(core)
    before = len(sent(core))
    r = await run(core, people["alice"], "/cr policy client any")
    assert not refused(r), reply_text(r)
    await core.drain()
    assert any("approval policy" in t for t in home_posts(core, before))
    assert not await changes(core)  # the client side's own rule: no amendment
    # Settings that are not contract terms change at once, and are said in the channel too.
    before = len(sent(core))
    await run(core, people["victor"], "/cr settings warn 90")
    await core.drain()
    assert any("changed the change-request setting warn: 80 → 90" in t for t in home_posts(core, before))


@pytest.fixture
def slow_decisions(monkeypatch):
    """Hold each decision after its checks, so two clicks really overlap."""
    original = contract._roles

    async def slow(*args, **kwargs):
        roles = await original(*args, **kwargs)
        await asyncio.sleep(0.2)
        return roles

    monkeypatch.setattr(contract, "_roles", slow)


@pytest.mark.postgres
async def test_two_sides_act_on_one_proposal_at_once(pg_core, pg_url, make_core, slow_decisions):
    people = await make_engagement(pg_core)
    replica = await make_core(pg_url)
    try:
        outcomes = []
        for n, pct in enumerate((20, 25, 30), start=1):
            await run(pg_core, people["victor"], f"/cadence settings contingency {pct}")
            amendment = (await changes(pg_core))[-1]
            approve, withdraw = await asyncio.gather(
                click(pg_core, people["alice"], "contract.approve", str(amendment.id)),
                click(replica, people["lena"], "contract.withdraw", str(amendment.id)),
            )
            texts = [reply_text(approve), reply_text(withdraw)]
            winners = [t for t in texts if t.startswith("You ")]
            assert len(winners) == 1, texts
            row = (await changes(pg_core))[-1]
            assert row.number == n and row.status in ("approved", "withdrawn")
            eng = await engagement_row(pg_core)
            expected = float(pct) if row.status == "approved" else None
            if expected is not None:
                assert eng.contingency_pct == expected
            outcomes.append(row.status)
            async with pg_core.session_factory() as s:
                decided = list(
                    await s.scalars(
                        select(AuditEntry).where(
                            AuditEntry.entity_type == "contract",
                            AuditEntry.entity_id == row.id,
                            AuditEntry.action != "proposed",
                        )
                    )
                )
            assert len(decided) == 1 and decided[0].action == row.status
    finally:
        await replica.engine.dispose()
