"""Who may decide, and what a click does: self-approval, non-approvers, double clicks, decided requests,
rejection with a reason, withdrawal, quorum rules through the policy command, re-approval after a
scope or estimate change, delegation while an approver is away."""

from __future__ import annotations

from sqlalchemy import select

from bot.features.change_requests import forms
from storage.models import AuditEntry
from tests.features.change_requests.support import (
    assess,
    card_text,
    decisions,
    dms_to,
    file_cr,
    get,
    pending_cr,
    said,
    steps,
    transitions,
    updates,
)
from tests.helpers import DEFAULT_MEMBERS, actor, agree, click, make_engagement, reply_text, run, sent, submit


async def test_requester_cannot_approve_own_request(core):
    people = await make_engagement(core)
    cr = await pending_cr(core, people, requester="carol")
    before = len(sent(core))
    r = await click(core, people["carol"], "cr.approve", str(cr.id))
    assert "You requested ACME-CR-1, so you can't approve or reject it" in said(r)
    assert r.private[0].tone == "warning" and not r.public
    r = await run(core, people["carol"], "/cr approve 1")
    assert "can't approve" in said(r)
    await core.drain()
    assert len(sent(core)) == before and await decisions(core, cr.id) == []


async def test_non_approver_clicks_are_refused_privately(core):
    people = await make_engagement(core)
    cr = await pending_cr(core, people)
    before = len(sent(core))
    for name in ("dev", "lena", "quinn"):
        r = await click(core, people[name], "cr.approve", str(cr.id))
        assert "Only approvers can approve or reject ACME-CR-1" in said(r) and "Nothing changed" in said(r)
        r = await click(core, people[name], "cr.reject", str(cr.id))
        assert r.form is None and "Only approvers" in said(r)
    # Someone who is not even a member, and a forged id.
    r = await click(core, actor("mallory"), "cr.approve", str(cr.id))
    assert "not a member of ACME" in said(r)
    r = await click(core, people["alice"], "cr.approve", "99999")
    assert "no longer exists" in said(r)
    r = await click(core, people["alice"], "cr.approve", "1; DROP TABLE")
    assert "no longer exists" in said(r)
    await core.drain()
    assert len(sent(core)) == before
    assert await decisions(core, cr.id) == [] and (await get(core, cr.id)).state == "pending_approval"


async def test_double_click_and_click_on_decided_request_are_harmless(core):
    people = await make_engagement(core)
    cr = await pending_cr(core, people)
    r1 = await click(core, people["alice"], "cr.approve", str(cr.id))
    r2 = await click(core, people["alice"], "cr.approve", str(cr.id))
    assert "You approved ACME-CR-1" in said(r1)
    assert "You already approved ACME-CR-1" in said(r2) and "Nothing changed" in said(r2)
    assert len(await decisions(core, cr.id)) == 1
    await click(core, people["victor"], "cr.approve", str(cr.id))
    assert (await get(core, cr.id)).state == "approved"
    r = await click(core, people["victor"], "cr.approve", str(cr.id))
    assert "You already approved ACME-CR-1" in said(r) and "now approved" in said(r)
    r = await click(core, people["victor"], "cr.reject", str(cr.id))
    assert r.form is None and "already approved" in said(r)
    r = await click(core, people["dev"], "cr.approve", str(cr.id))
    assert "ACME-CR-1 is already approved" in said(r)
    assert len(await decisions(core, cr.id)) == 2
    assert [t for t in await transitions(core, cr.id) if t[1] == "approved"] == [("pending_approval", "approved")]


async def test_one_rejection_rejects_with_a_reason(core):
    people = await make_engagement(core)
    cr = await pending_cr(core, people)
    await click(core, people["victor"], "cr.approve", str(cr.id))
    r = await click(core, people["alice"], "cr.reject", str(cr.id))
    assert r.form is not None and r.form.form_id == forms.REJECT
    empty = await submit(core, people["alice"], forms.REJECT, {"reason": "   "}, r.form.state)
    assert empty.errors == {"reason": "A rejection needs a reason."}
    assert (await get(core, cr.id)).state == "pending_approval"
    # Someone else cannot reuse the form.
    r2 = await submit(core, people["dev"], forms.REJECT, {"reason": "no"}, r.form.state)
    assert "Only approvers" in said(r2)
    done = await submit(core, people["alice"], forms.REJECT, {"reason": "Out of budget this quarter"}, r.form.state)
    assert "ACME-CR-1 is rejected" in said(done)
    await core.drain()
    cr = await get(core, cr.id)
    assert cr.state == "rejected" and cr.decision_comment == "Out of budget this quarter"
    reject = next(e for e in await steps(core, cr.id) if e.to_state == "rejected")
    assert reject.comment == "Out of budget this quarter" and reject.actor_label == "Alice"
    text = card_text(updates(core, "ACME-CR-1")[-1].card)
    assert "Out of budget this quarter" in text and "Alice rejected" in text and "Victor approved" in text
    assert dms_to(core, "carol", "was rejected")
    # Text command: a reason is required there too.
    cr2 = await pending_cr(core, people)
    r = await run(core, people["alice"], f"/cr reject {cr2.number}")
    assert r.form is not None and r.form.form_id == forms.REJECT
    r = await run(core, people["alice"], f"/cr reject ACME-CR-{cr2.number} duplicate of CR-1")
    assert "is rejected" in said(r)


async def test_withdraw(core):
    people = await make_engagement(core)
    cr = await pending_cr(core, people)
    r = await run(core, people["alice"], "/cr withdraw 1")
    assert "Only the requester can withdraw ACME-CR-1" in said(r)
    r = await run(core, people["carol"], "/cr withdraw 1 not needed after all")
    assert "withdrawn" in said(r)
    cr = await get(core, cr.id)
    assert cr.state == "withdrawn"
    r = await click(core, people["alice"], "cr.approve", str(cr.id))
    assert "already withdrawn" in said(r)
    # After a decision it is too late.
    cr2 = await pending_cr(core, people)
    await click(core, people["alice"], "cr.approve", str(cr2.id))
    await click(core, people["victor"], "cr.approve", str(cr2.id))
    r = await run(core, people["carol"], "/cr withdraw 2")
    assert "ACME-CR-2 is approved; it can't be withdrawn" in said(r) and "before a decision" in said(r)
    # Out of order steps are refused with the reason.
    r = await run(core, people["victor"], "/cr deliver 2")
    assert "only a scheduled request can be delivered" in said(r)
    r = await run(core, people["dev"], "/cr schedule 2")
    assert "Only the vendor PM or vendor lead" in said(r)
    cr3 = await file_cr(core, people["dev"])
    r = await run(core, people["alice"], f"/cr approve {cr3.number}")
    assert "not waiting for approval yet" in said(r)
    r = await run(core, people["carol"], f"/cr assess {cr3.number}")
    assert "Only the vendor PM or vendor lead can assess" in said(r)
    r = await run(core, people["victor"], "/cr assess 1")
    assert "withdrawn" in said(r)
    r = await run(core, people["victor"], "/cr show ACME-CR-99")
    assert "There is no change request ACME-CR-99" in said(r)
    r = await run(core, people["victor"], "/cr show OTHER-CR-1")
    assert "not a change request of ACME" in said(r)


async def test_two_of_three_client_approvers_and_policy_permissions(core):
    members = {**DEFAULT_MEMBERS, "cathy": ("Europe/Paris", ["client_pm"])}
    people = await make_engagement(core, members=members)
    r = await run(core, people["carol"], "/cr policy client any")
    assert "Only the client sponsor can change the client side" in said(r)
    r = await run(core, people["victor"], "/cr policy client any")
    assert "Only the client sponsor" in said(r)
    r = await run(core, people["alice"], "/cr policy client 2of3")
    assert "2 of 3 must approve" in said(r)
    r = await run(core, people["alice"], "/cr policy")
    assert "Alice, Carol, Cathy" in said(r)
    cr = await pending_cr(core, people, requester="dev")
    await click(core, people["alice"], "cr.approve", str(cr.id))
    await click(core, people["victor"], "cr.approve", str(cr.id))
    assert (await get(core, cr.id)).state == "pending_approval"
    r = await click(core, people["cathy"], "cr.approve", str(cr.id))
    assert "Quorum reached" in said(r)
    assert (await get(core, cr.id)).state == "approved"
    # Carol's click after the quorum is harmless.
    r = await click(core, people["carol"], "cr.approve", str(cr.id))
    assert "already approved" in said(r)
    # Policy changes are recorded and announced.
    # Whether both sides approve is a contract term: the vendor proposes, the client side approves.
    r = await agree(core, people["victor"], "/cr policy both off", people["alice"])
    assert "Proposed Both sides approve change requests: yes → no" in said(r)
    assert "client side decides" in said(await run(core, people["victor"], "/cr policy"))
    async with core.session_factory() as s:
        changes = list(await s.scalars(select(AuditEntry).where(AuditEntry.action == "cr_policy_changed")))
        contract = [e.action for e in await s.scalars(select(AuditEntry).where(AuditEntry.entity_type == "contract"))]
    assert len(changes) == 1 and contract == ["proposed", "approved"]


async def test_policy_any_and_pending_requests_keep_their_rule(core):
    people = await make_engagement(core)
    cr = await pending_cr(core, people, requester="dev")  # client: alice and carol (all)
    await run(core, people["alice"], "/cr policy client any")
    await click(core, people["alice"], "cr.approve", str(cr.id))
    await click(core, people["victor"], "cr.approve", str(cr.id))
    assert (await get(core, cr.id)).state == "pending_approval"  # round 1 still needs carol too
    cr2 = await pending_cr(core, people, requester="dev")
    await click(core, people["alice"], "cr.approve", str(cr2.id))
    r = await click(core, people["victor"], "cr.approve", str(cr2.id))
    assert "Quorum reached" in said(r)


async def test_unreachable_quorum_is_said_on_the_card(core):
    people = await make_engagement(core)
    cr = await pending_cr(core, people, requester="victor")  # the only vendor PM asks
    text = card_text(updates(core, "ACME-CR-1")[-1].card)
    assert "The vendor side can't reach its quorum: nobody besides the requester has the role vendor pm" in text
    r = await click(core, people["alice"], "cr.approve", str(cr.id))
    assert "can't reach its quorum" in said(r)
    await agree(core, people["alice"], "/cr policy both off", people["victor"])
    # The pending request keeps its round's policy; a new one does not have the problem.
    cr2 = await pending_cr(core, people, requester="victor")
    r = await click(core, people["alice"], "cr.approve", str(cr2.id))
    assert "Quorum reached" not in said(r)  # carol (client pm) is needed too under "all"
    r = await click(core, people["carol"], "cr.approve", str(cr2.id))
    assert "Quorum reached" in said(r)


async def test_scope_change_after_an_approval_resets_approvals(core):
    people = await make_engagement(core)
    cr = await pending_cr(core, people)
    await click(core, people["alice"], "cr.approve", str(cr.id))
    r = await run(core, people["carol"], "/cr edit 1")
    assert r.form.form_id == forms.EDIT
    values = {i.id: i.initial or "" for i in r.form.inputs}
    values["description"] = "SAML and OIDC"
    r = await submit(core, people["carol"], forms.EDIT, values, r.form.state)
    assert "Earlier approvals no longer count" in said(r)
    await core.drain()
    cr = await get(core, cr.id)
    assert cr.round == 2 and cr.state == "pending_approval" and cr.description == "SAML and OIDC"
    assert dms_to(core, "alice", "Please decide again")
    assert [e.action for e in await steps(core, cr.id)][-2:] == ["edit_scope", "approvals_reset"]
    # Round 1 decision kept on record, but no longer counts.
    assert [(d.round, d.decision) for d in await decisions(core, cr.id)] == [(1, "approve")]
    await click(core, people["victor"], "cr.approve", str(cr.id))
    assert (await get(core, cr.id)).state == "pending_approval"
    r = await click(core, people["alice"], "cr.approve", str(cr.id))
    assert "Quorum reached" in said(r)
    await core.drain()
    text = card_text(updates(core, "ACME-CR-1")[-1].card)
    assert "Approvals (round 2)" in text and "Approved" in text


async def test_estimate_revision_resets_only_after_an_approval(core):
    people = await make_engagement(core)
    cr = await pending_cr(core, people)
    r = await assess(core, people["lena"], cr, cost="7000")
    assert "revised" in said(r) and "no longer count" not in said(r)
    assert (await get(core, cr.id)).round == 1
    await click(core, people["alice"], "cr.approve", str(cr.id))
    r = await assess(core, people["lena"], cr, cost="9000")
    assert "Earlier approvals no longer count" in said(r)
    cr = await get(core, cr.id)
    assert cr.round == 2 and str(cr.cost) == "9000.00"
    revise = [e for e in await steps(core, cr.id) if e.action == "revise_estimate"]
    assert revise[-1].data["changes"]["cost"] == ["7000.00", "9000.00"]
    r = await assess(core, people["lena"], cr, cost="9000")
    assert "unchanged" in said(r)
    # Nobody but the vendor side may assess; numbers are checked.
    r = await click(core, people["carol"], "cr.assess", str(cr.id))
    assert r.form is None and "Only the vendor PM or vendor lead" in said(r)
    r = await submit(
        core,
        people["victor"],
        forms.ASSESS,
        {"effort_hours": "-1", "cost": "lots", "schedule_impact_days": "1.5", "risk": "extreme"},
        {"request_id": cr.id},
    )
    assert set(r.errors) == {"effort_hours", "cost", "schedule_impact_days", "risk"}


async def test_delegate_decides_on_behalf_while_approver_is_away(core):
    members = {**DEFAULT_MEMBERS, "bob": ("Europe/London", ["client_member"])}
    people = await make_engagement(core, members=members)
    r = await run(core, people["alice"], "/cadence delegate @bob")
    assert "Bob is your delegate" in said(r)
    cr = await pending_cr(core, people)
    r = await click(core, people["bob"], "cr.approve", str(cr.id))
    assert "delegate of Alice, who is not away today" in said(r)
    r = await run(core, people["alice"], "/cadence ooo today to jan 8")
    assert "Out of office" in said(r)
    r = await click(core, people["bob"], "cr.approve", str(cr.id))
    assert "You approved ACME-CR-1 on behalf of Alice" in said(r)
    r = await click(core, people["bob"], "cr.approve", str(cr.id))
    assert "already approved" in said(r)
    [d] = await decisions(core, cr.id)
    entry = [e for e in await steps(core, cr.id) if e.action == "approve"][-1]
    assert entry.actor_label == "Bob" and entry.on_behalf_of_id == d.approver_id != d.decided_by_id
    # Alice, away, can still decide herself? Her seat is taken: harmless.
    r = await click(core, people["alice"], "cr.approve", str(cr.id))
    assert "already approved" in said(r)
    await click(core, people["victor"], "cr.approve", str(cr.id))
    await core.drain()
    text = card_text(updates(core, "ACME-CR-1")[-1].card)
    assert "Bob on behalf of Alice approved" in text
    # A requester can never decide, not even as a delegate.
    await run(core, people["alice"], "/cadence delegate @carol")
    cr2 = await pending_cr(core, people, requester="carol")
    r = await click(core, people["carol"], "cr.approve", str(cr2.id))
    assert "You requested" in said(r)
    r = await run(core, people["alice"], "/cadence delegate off")
    assert "no delegate" in said(r)


async def test_question_list_and_show(core):
    people = await make_engagement(core)
    cr = await pending_cr(core, people)
    r = await click(core, people["alice"], "cr.question", str(cr.id))
    assert r.form.form_id == forms.QUESTION
    r = await submit(core, people["alice"], forms.QUESTION, {"question": "Does it cover the mobile app?"}, r.form.state)
    await core.drain()
    assert dms_to(core, "carol", "Does it cover the mobile app?") and dms_to(core, "victor", "mobile app")
    assert [d for d in sent(core) if d.op == "post" and "Does it cover" in d.text]
    assert (await get(core, cr.id)).state == "pending_approval"
    r = await run(core, people["alice"], "/cr list pending-me")
    assert "ACME-CR-1" in said(r) and "waiting for Alice, Victor" in said(r)
    r = await run(core, people["dev"], "/cr list pending-me")
    assert "ACME-CR-1" not in said(r)
    r = await run(core, people["carol"], "/cr list mine")
    assert "ACME-CR-1" in said(r)
    r = await run(core, people["carol"], "/cr list everything")
    assert "List which?" in said(r)
    r = await run(core, people["dev"], "/cr show 1")
    assert "question" in said(r) and "History" in said(r)


async def test_role_changes_while_a_request_waits(core):
    members = {**DEFAULT_MEMBERS, "cathy": ("Europe/Paris", ["client_member"])}
    people = await make_engagement(core, members=members)
    cr = await pending_cr(core, people, requester="dev")  # client side: all of alice and carol
    await click(core, people["alice"], "cr.approve", str(cr.id))
    await click(core, people["victor"], "cr.approve", str(cr.id))
    # A new client PM must approve too, and is asked.
    await run(core, people["alice"], "/cadence role @cathy client_pm")
    await core.drain()
    assert dms_to(core, "cathy", "Your decision is needed on ACME-CR-1")
    await click(core, people["cathy"], "cr.approve", str(cr.id))
    assert (await get(core, cr.id)).state == "pending_approval"
    # Carol stops being an approver: everyone left has approved, but a role change never decides. The
    # channel is told, and the request waits until a remaining approver confirms with a click.
    await run(core, people["alice"], "/cadence role @carol -client_pm")
    await core.drain()
    assert (await get(core, cr.id)).state == "pending_approval"
    told = [d.text for d in sent(core) if d.op == "post" and "no longer decides it" in d.text]
    assert told and "confirms with Approve" in told[-1], told
    r = await click(core, people["cathy"], "cr.approve", str(cr.id))
    assert "You confirmed: ACME-CR-1 is approved." in reply_text(r)
    cr = await get(core, cr.id)
    assert cr.state == "approved"
    last = (await steps(core, cr.id))[-1]
    assert last.to_state == "approved" and last.actor_label == "Cathy"


async def test_removing_an_undecided_approver_reroutes_and_says_so(core):
    members = {**DEFAULT_MEMBERS, "cathy": ("Europe/Paris", ["client_member"])}
    people = await make_engagement(core, members=members)
    cr = await pending_cr(core, people, requester="dev")
    await click(core, people["victor"], "cr.approve", str(cr.id))
    # Carol has not decided; she hands her role to Cathy. The request now waits for Cathy, not on nobody.
    await run(core, people["alice"], "/cadence role @cathy client_pm")
    await run(core, people["alice"], "/cadence role @carol -client_pm")
    await core.drain()
    assert (await get(core, cr.id)).state == "pending_approval"
    told = [d.text for d in sent(core) if d.op == "post" and "no longer decides it" in d.text]
    assert told and "waits for" in told[-1] and "Cathy" in told[-1], told
    await click(core, people["alice"], "cr.approve", str(cr.id))
    assert (await get(core, cr.id)).state == "pending_approval"  # Cathy still has to decide
    await click(core, people["cathy"], "cr.approve", str(cr.id))
    assert (await get(core, cr.id)).state == "approved"


async def test_home_view_lists_what_waits_for_me(core):
    people = await make_engagement(core)
    await pending_cr(core, people)
    cards = await core.home(people["alice"])
    assert any("Waiting for your decision: ACME-CR-1" in c.title for c in cards)
    assert not [c for c in await core.home(people["dev"]) if "ACME-CR" in c.title]
