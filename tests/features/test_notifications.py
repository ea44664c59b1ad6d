"""Issue 20, items 12 and 15: the people a step concerns are told, and only they: the assignee of a defect,
its reporter when it is resolved (to verify and close), and someone new when a change request escalates
(that test is in test_cr_reminders.py); `/cr list pending-me` lists only what you may decide."""

from __future__ import annotations

from tests.features.change_requests.support import pending_cr, said
from tests.features.defects.support import engagement
from tests.helpers import advance, make_engagement, run, sent


def dms(core, who: str, title: str) -> list:
    return [d for d in sent(core) if d.op == "dm" and d.channel_id == f"dm:{who}" and title in d.card.title]


async def test_assigning_a_defect_tells_the_assignee_but_not_someone_taking_it_themselves(core):
    people = await engagement(core)
    await run(core, people["carol"], "/defect s3 Search is slow")
    await run(core, people["victor"], "/defect assign 1 @dev")
    await core.drain()
    [dm] = dms(core, "dev", "Victor assigned you: ACME-D-1")
    assert "Search is slow" in dm.card.title and dm.card.buttons
    await run(core, people["lena"], "/defect assign 1 me")
    await core.drain()
    assert not dms(core, "lena", "assigned you")


async def test_resolving_a_defect_asks_the_reporter_to_verify_and_close(core):
    people = await engagement(core)
    await run(core, people["carol"], "/defect s3 Search is slow")
    await run(core, people["dev"], "/defect ack 1")
    await run(core, people["dev"], "/defect resolve 1 index added")
    await core.drain()
    [dm] = dms(core, "carol", "Resolved by Dev — please verify: ACME-D-1")
    assert {b.action_id for b in dm.card.buttons} >= {"defect.close", "defect.reopen"}
    assert not dms(core, "dev", "please verify")


async def test_pending_me_leaves_out_your_own_requests_even_as_a_delegate(core):
    people = await make_engagement(core)
    # Alice (client sponsor, an approver) is away and has made Carol her delegate; Carol files a request.
    await run(core, people["alice"], "/cadence delegate @carol")
    await run(core, people["alice"], "/cadence ooo today to jan 20")
    await pending_cr(core, people, requester="carol")
    r = await run(core, people["carol"], "/cr list pending-me")
    assert "ACME-CR-1" not in said(r)
    # A request of someone else's does show for the delegate.
    await pending_cr(core, people, requester="quinn")
    r = await run(core, people["carol"], "/cr list pending-me")
    assert "ACME-CR-2" in said(r) and "ACME-CR-1" not in said(r)


async def test_a_severity_change_that_puts_the_deadline_in_the_past_says_so(core):
    people = await engagement(core)
    await run(core, people["carol"], "/defect s3 Search is slow")
    await core.drain()
    await advance(core, hours=3)  # S1 would have had 1 h to respond
    n = len(sent(core))
    await run(core, people["carol"], "/defect severity 1 s1 it turns out checkout depends on it")
    await core.drain()
    breaches = [d for d in sent(core)[n:] if "response target breached" in d.card.title]
    assert breaches
    for d in breaches:
        assert "The severity change to S1 moved this deadline into the past" in d.card.text
        assert "was not running" not in d.card.text


async def test_defect_history_says_to_whom_it_was_assigned(core):
    people = await engagement(core)
    await run(core, people["carol"], "/defect s3 Search is slow")
    await run(core, people["victor"], "/defect assign 1 @dev")
    r = await run(core, people["victor"], "/defect show 1")
    assert "Victor: assigned to Dev" in said(r)


async def test_use_names_an_engagement_that_does_not_exist(core):
    people = await make_engagement(core)
    r = await run(core, people["carol"], "/cadence use NOPE")
    assert "There is no engagement “NOPE”. Yours: ACME." in said(r)
