"""Contention over Slack (issue 17 item 3): 20 approvers Cadence has never seen act press Approve on the
channel card at the same moment, over real signed HTTP requests: on PostgreSQL to two replicas (two apps, two
cores, one database); on SQLite, the embedded single-process default, to the one app (two cores on one SQLite
file is not a deployment Cadence supports, and there a click could wait past Slack's 3 s for the file's lock).
Their profiles only now show their zone, so each first click also
moves their zone (and their standup timers) — what deadlocked before. Every one is told their approval
counted, every decision is recorded, and the request is approved exactly once."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from storage.db import is_sqlite
from storage.models.change_requests import ChangeRequest, ChangeRequestDecision
from tests.features.change_requests.support import transitions
from tests.frontends.slack.harness import SlackHarness
from tests.frontends.slack.test_change_requests import ESTIMATE, SCOPE, cr_card, setup

NEWCOMERS = [f"new{i:02d}" for i in range(20)]


async def test_twenty_never_seen_approvers_click_at_once(slack, any_db_url, make_core):
    await setup(slack)
    for name in NEWCOMERS:  # seated, never acted: their first click is their first sight
        slack.user(name, tz=None)
        await slack.command("alice", f"/cadence role {slack.mention(name)} client_pm", settle=False)
    await slack.settle()
    for name in NEWCOMERS:  # their profiles show a zone now (the first click brings it)
        slack.user(name, tz="America/New_York")
        slack.frontend.members.forget(slack.team, slack.uid(name))
    await slack.command("dev", "/cr new Single sign-on")
    await slack.submit("dev", slack.opened_view(), SCOPE)
    await slack.click("victor", cr_card(slack), "Assess impact")
    await slack.submit("victor", slack.opened_view(), ESTIMATE)
    card = cr_card(slack)

    replica_core = None if is_sqlite(any_db_url) else await make_core(any_db_url)
    replica = await SlackHarness(replica_core, slack.api).start() if replica_core is not None else slack
    try:
        approvers = ["alice", "carol", "victor", *NEWCOMERS]
        results = await asyncio.gather(
            *[
                (replica if i % 2 else slack).click(who, card, "Approve", settle=False)
                for i, who in enumerate(approvers)
            ]
        )
        assert all(r.status == 200 for r in results)
        await asyncio.gather(slack.settle(timeout=60), replica.settle(timeout=60))
    finally:
        if replica_core is not None:
            await replica.stop()
            await replica_core.engine.dispose()

    answers = {who: " ".join(slack.private(who)) for who in approvers}
    assert not [who for who, text in answers.items() if "went wrong" in text], answers
    assert all("You approved ACME-CR-1" in text for text in answers.values()), answers
    async with slack.core.session_factory() as s:
        cr = await s.scalar(select(ChangeRequest))
        decided = list(await s.scalars(select(ChangeRequestDecision).where(ChangeRequestDecision.request_id == cr.id)))
    assert len(decided) == len(approvers) == len({d.approver_id for d in decided})
    assert cr.state == "approved"
    assert [t for t in await transitions(slack.core, cr.id) if t[1] == "approved"] == [("pending_approval", "approved")]
