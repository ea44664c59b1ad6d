"""Minor changes (issue 23, item 6): a request whose estimate is under the contract's minor threshold (8 hours
strictly, and no cost, by default) is decided by the minor rule — one approver of each side, one click each —
instead of each side's own rule (the client side's default is all of its approvers). A contract term: changed
only by amendment, kept by the rounds already started. Still audited, counted in the contingency and reported."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.features.change_requests.policy import Minor, Policy
from bot.features.reports import figures
from storage.models import Engagement
from storage.models.change_requests import ChangeRequest
from tests.features.change_requests.support import assess, click, dms_to, file_cr, get, pending_cr, said, steps
from tests.helpers import advance, agree, make_engagement, reply_text, run

MINOR_CARD = "Minor change (under 8 h, no cost): one approver of each side decides."


async def _show(core, who, number: int = 1) -> str:
    return said(await run(core, who, f"/cr show ACME-CR-{number}"))


def test_the_threshold_is_strict_and_the_cost_zero_unless_a_cost_threshold_is_set():
    m = Minor.from_dict({"hours": "8", "cost": "0", "rule": "any"})
    assert m.applies(Decimal("7.5"), None) and m.applies(Decimal(7), Decimal(0))
    assert not m.applies(Decimal(8), None)  # strictly under
    assert not m.applies(Decimal(2), Decimal("0.01"))  # any cost, with no cost threshold
    assert not m.applies(None, None)  # no estimate yet
    priced = Minor.from_dict({"hours": "8", "cost": "500", "rule": "any"})
    assert priced.applies(Decimal(4), Decimal(499)) and not priced.applies(Decimal(4), Decimal(500))
    base = Policy.from_dict(
        {
            "groups": {"client": {"roles": ["client_sponsor", "client_pm"], "rule": "all"}},
            "minor": m.to_dict(),
        }
    )
    assert base.for_estimate(Decimal(4), None).groups[0].rule == "any"
    assert base.for_estimate(Decimal(4), None).minor_applied
    assert base.for_estimate(Decimal(9), None) is base
    # A round started before the term existed keeps each side's own rule.
    old = Policy.from_dict({"groups": {"client": {"roles": ["client_pm"], "rule": "all"}}})
    assert old.minor is None and old.for_estimate(Decimal(1), None) is old


async def test_a_minor_change_is_decided_by_one_approver_of_each_side_in_one_click_each(core):
    people = await make_engagement(core)
    cr = await pending_cr(core, people, requester="dev", effort_hours="6", cost="0", schedule_impact_days="0")
    card = await _show(core, people["alice"])
    assert MINOR_CARD in card
    assert "Client side — any one must approve" in card
    r = await click(core, people["alice"], "cr.approve", str(cr.id))
    assert "Still waiting for Victor" in said(r)  # the client side is done with one click; carol is not needed
    r = await click(core, people["victor"], "cr.approve", str(cr.id))
    assert "Quorum reached: ACME-CR-1 is approved" in said(r)
    entries = await steps(core, cr.id)
    assert [
        e.data.get("minor") for e in entries if e.action in ("request_approval", "approve") and e.data.get("round")
    ][-1] is True
    assert next(e for e in entries if e.action == "request_approval").data["minor"] is True
    # The report counts it among the approved, as minor (the period ends at the report's time: [start, end)).
    core.clock.advance(timedelta(minutes=1))
    async with core.session_factory() as s:
        eng = await s.scalar(select(Engagement).where(Engagement.key == "ACME"))
        f = await figures.gather(s, core.registry.report_sections, eng, core.clock.now(), trends=False)
    assert (f["change_requests"].approved, f["change_requests"].minor_approved) == (1, 1)


@pytest.mark.parametrize(("hours", "cost"), [("8", "0"), ("4", "100")])
async def test_at_the_threshold_or_with_a_cost_each_side_keeps_its_own_rule(core, hours, cost):
    people = await make_engagement(core)
    cr = await pending_cr(core, people, requester="dev", effort_hours=hours, cost=cost)
    assert "Minor change" not in await _show(core, people["alice"])
    await click(core, people["alice"], "cr.approve", str(cr.id))
    r = await click(core, people["victor"], "cr.approve", str(cr.id))
    assert "Still waiting for Carol" in said(r)  # the client side's own rule: all of its approvers


async def test_an_estimate_revised_over_the_threshold_brings_the_normal_rule_back_and_the_card_says_so(core):
    people = await make_engagement(core)
    cr = await pending_cr(core, people, requester="dev", effort_hours="6", cost="0")
    r = await assess(core, people["victor"], cr, effort_hours="12", cost="0")
    assert "It is no longer a minor change (not under 8 h, no cost)" in said(r)
    card = await _show(core, people["alice"])
    assert "No longer a minor change" in card and MINOR_CARD not in card
    assert "Client side — all 2 must approve" in card
    await click(core, people["alice"], "cr.approve", str(cr.id))
    r = await click(core, people["victor"], "cr.approve", str(cr.id))
    assert "Still waiting for Carol" in said(r)
    # Back under the threshold: the approvals given reset (as any revised estimate does) and the minor rule applies.
    r = await assess(core, people["victor"], await get(core, cr.id), effort_hours="3", cost="0")
    assert "It is now a minor change (under 8 h, no cost): one approver of each side decides" in said(r)
    assert "Earlier approvals no longer count" in said(r)
    assert MINOR_CARD in await _show(core, people["alice"])
    actions = [e.action for e in await steps(core, cr.id)]
    assert "minor_no_longer" in actions and "minor_now" in actions


async def test_the_term_changes_only_by_amendment_and_waiting_requests_keep_theirs(core):
    people = await make_engagement(core)
    ten_hours = await pending_cr(core, people, requester="dev", effort_hours="10", cost="0")
    r = await run(core, people["victor"], "/cr policy minor hours 16")
    assert "Proposed Minor change: under 8 h, no cost: one approver of each side decides → under 16 h" in said(r)
    contract = said(await run(core, people["alice"], "/cadence contract"))
    assert "Minor change: under 8 h, no cost: one approver of each side decides (default" in contract
    assert "1 pending proposal" in contract
    await run(core, people["alice"], "/cadence contract approve 1")
    contract = said(await run(core, people["alice"], "/cadence contract"))
    assert "Minor change: under 16 h, no cost: one approver of each side decides (#1" in contract
    # The waiting request keeps the term of its round (8 h): still each side's own rule.
    assert "Minor change" not in await _show(core, people["alice"], ten_hours.number)
    # A new request is filed under the new term.
    await pending_cr(core, people, requester="dev", effort_hours="10", cost="0")
    assert "Minor change (under 16 h, no cost): one approver of each side decides." in await _show(
        core, people["alice"], 2
    )
    # A cost threshold and another rule, agreed the same way; the policy card shows the term.
    await agree(core, people["alice"], "/cr policy minor cost 500", people["victor"])
    await agree(core, people["alice"], "/cr policy minor rule 2of3", people["victor"])
    policy = said(await run(core, people["carol"], "/cr policy"))
    assert "Minor changes (a contract term): under 16 h, cost under 500: 2 approvers of each side decides" in policy


async def test_bad_minor_policy_input_is_refused_and_nobody_outside_the_admins_changes_it(core):
    people = await make_engagement(core)
    for text, why in {
        "/cr policy minor hours lots": "is not a number",
        "/cr policy minor hours -2": "The hours threshold",
        "/cr policy minor rule maybe": "I don't understand the rule",
        "/cr policy minor colour red": "Usage: `/cr policy minor hours 8`",
    }.items():
        assert why in said(await run(core, people["victor"], text)), text
    assert "Only an admin of either side" in reply_text(await run(core, people["dev"], "/cr policy minor hours 4"))
    contract = said(await run(core, people["alice"], "/cadence contract"))
    assert "0 pending proposals" in contract


async def test_a_costed_minor_change_is_drawn_from_the_contingency(core):
    people = await make_engagement(core)
    await agree(core, people["alice"], "/cadence settings budget 100000", people["victor"])
    await agree(core, people["alice"], "/cr policy minor cost 500", people["victor"])
    cr = await pending_cr(core, people, requester="dev", effort_hours="4", cost="300")
    assert "Minor change (under 8 h, cost under 500)" in await _show(core, people["alice"])
    await click(core, people["carol"], "cr.approve", str(cr.id))
    await click(core, people["victor"], "cr.approve", str(cr.id))
    async with core.session_factory() as s:
        row = await s.get(ChangeRequest, cr.id)
        assert row.state == "approved"
    assert "committed 300.00 of 15,000.00" in await _show(core, people["alice"])
    await file_cr(core, people["dev"])  # a new request's card shows the same contingency


async def test_once_one_side_has_decided_its_other_approvers_are_not_reminded(core):
    people = await make_engagement(core)
    cr = await pending_cr(core, people, requester="dev", effort_hours="2", cost="0")
    await click(core, people["carol"], "cr.approve", str(cr.id))
    await advance(core, days=2)
    assert not dms_to(core, "alice", "Reminder: ACME-CR-1")  # the client side is decided
    assert dms_to(core, "victor", "Reminder: ACME-CR-1")  # the vendor side still is not
