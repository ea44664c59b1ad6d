"""The Slack inbox (handlers/slack/intake.py): when Cadence is busy, a command or click is acknowledged once
it is recorded in `slack_inbox`, and run later exactly once — also when the process that acked it is gone."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from handlers.slack.commands import run_command
from handlers.slack.inbox import Inbox
from handlers.slack.intake import Request
from storage.models import Engagement
from storage.models.defects import Defect
from storage.models.slack_inbox import SlackInboxItem
from tests.frontends.slack.harness import HOME
from tests.standins.slack_api import WORKSPACE_ID


async def _count(core, model) -> int:
    async with core.session_factory() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def _defects(core) -> list[str]:
    async with core.session_factory() as session:
        return sorted(await session.scalars(select(Defect.title)))


def _command_payload(slack, who: str, line: str, n: int) -> dict:
    command, _, text = line.partition(" ")
    uid = slack.user(who)
    return {
        "token": "legacy",
        "team_id": WORKSPACE_ID,
        "channel_id": HOME,
        "channel_name": "acme-project",
        "user_id": uid,
        "user_name": who,
        "command": command,
        "text": text,
        "response_url": slack.api.response_url(f"{uid}.left{n}"),
        "trigger_id": f"trig.left.{n}",
    }


async def test_busy_command_is_acked_once_recorded_and_answered_after(slack):
    await slack.command("alice", "/cadence setup ACME Acme portal")
    intake = slack.frontend.intake
    release = asyncio.Event()
    ran: list[str] = []

    async def held(fe, request, within):
        await release.wait()
        ran.append(request.payload["text"])
        return await run_command(fe, request, within)

    intake.handles("command", held)
    first = asyncio.create_task(slack.command("alice", "/defect s3 First", settle=False))
    while intake.idle:  # the first one runs at once (Cadence was idle): its ack waits for the commit
        await asyncio.sleep(0.01)
    r = await slack.command("alice", "/defect s3 Second", settle=False)
    assert r.status == 200 and not first.done(), "the second command was acked while the first still ran"
    async with slack.core.session_factory() as session:
        rows = list(await session.scalars(select(SlackInboxItem)))
    assert [(row.kind, row.payload["text"]) for row in rows] == [("command", "s3 Second")], (
        "acked before it was durable"
    )
    assert "token" not in rows[0].payload, "Slack's verification token is not kept"
    assert ran == []
    release.set()
    assert (await first).status == 200
    await slack.settle()
    assert ran == ["s3 First", "s3 Second"]
    assert await _defects(slack.core) == ["First", "Second"]
    assert await _count(slack.core, SlackInboxItem) == 0
    assert "ACME-D-2" in slack.last_private("alice")  # the answer came through the response_url


async def test_rows_left_by_a_stopped_process_run_once_at_start(core, slack_api, clock):
    from tests.frontends.slack.harness import SlackHarness

    first = await SlackHarness(core, slack_api).start()
    await first.command("alice", "/cadence setup ACME Acme portal")
    await first.stop()
    # What a process killed right after its acks leaves behind: two recorded, unrun commands.
    async with core.engine.begin() as conn:
        await conn.execute(
            insert(SlackInboxItem),
            [
                {
                    "kind": "command",
                    "workspace_id": WORKSPACE_ID,
                    "received_at": clock.now() - timedelta(seconds=5),
                    "payload": _command_payload(first, "alice", f"/defect s3 Left {n}", n),
                }
                for n in (1, 2)
            ],
        )
    second = await SlackHarness(core, slack_api).start()
    try:
        await second.settle()
        for _ in range(200):
            if await _count(core, SlackInboxItem) == 0 and not second.frontend.busy:
                break
            await asyncio.sleep(0.02)
        await second.settle()
        assert await _defects(core) == ["Left 1", "Left 2"]
        assert await _count(core, SlackInboxItem) == 0
        assert any("ACME-D-2" in text for text in second.private("alice"))
    finally:
        await second.stop()


async def test_a_row_runs_once_even_when_two_workers_take_it(slack):
    """Two replicas (or a sweep and a worker) holding the same row: the claim commits with the work."""
    await slack.command("alice", "/cadence setup ACME Acme portal")
    intake = slack.frontend.intake
    payload = _command_payload(slack, "alice", "/defect s3 Only once", 1)
    row_id = await intake.inbox.record("command", WORKSPACE_ID, payload)

    def request() -> Request:
        return Request(
            kind="command",
            workspace_id=WORKSPACE_ID,
            payload=payload,
            client=slack.frontend.client,
            respond=slack.frontend.responses.respond(payload["response_url"]),
            row_id=row_id,
        )

    await asyncio.gather(intake._run_recorded(request()), intake._run_recorded(request()))
    await slack.settle()
    assert await _defects(slack.core) == ["Only once"]
    assert await _count(slack.core, SlackInboxItem) == 0
    answers = [c for c in slack.api.calls_to("respond") if c.body["rid"].endswith(".left1")]
    assert len(answers) == 1, "only the run that did the work answers"


async def test_a_refused_command_from_the_inbox_is_answered_and_dropped(slack):
    intake = slack.frontend.intake
    payload = _command_payload(slack, "bob", "/defect s3 Nowhere", 1)  # no engagement in this channel
    row_id = await intake.inbox.record("command", WORKSPACE_ID, payload)
    await intake._run_recorded(
        Request(
            kind="command",
            workspace_id=WORKSPACE_ID,
            payload=payload,
            client=slack.frontend.client,
            respond=slack.frontend.responses.respond(payload["response_url"]),
            row_id=row_id,
        )
    )
    assert "not bound to an engagement" in slack.last_private("bob")
    assert await _count(slack.core, SlackInboxItem) == 0
    assert await _count(slack.core, Engagement) == 0


async def test_requests_arriving_together_share_one_insert(core, clock, monkeypatch):
    inbox = Inbox(core.session_factory, core.engine, clock)
    batches: list[int] = []
    real = inbox._insert

    async def counted(rows):
        batches.append(len(rows))
        return await real(rows)

    monkeypatch.setattr(inbox, "_insert", counted)
    try:
        ids = await asyncio.gather(*(inbox.record("command", "T1", {"n": n}) for n in range(20)))
    finally:
        await inbox.close()
    assert batches == [20]
    assert len(set(ids)) == 20
    async with core.session_factory() as session:
        rows = {row.id: row.payload["n"] for row in await session.scalars(select(SlackInboxItem))}
    assert [rows[i] for i in ids] == list(range(20)), "each caller gets the id of its own row"


async def test_a_failed_inbox_write_is_not_acknowledged_as_received(slack, monkeypatch):
    intake = slack.frontend.intake
    intake._running += 1  # pretend work is running: the next command goes to the inbox

    async def down(rows):
        raise ConnectionError("database unreachable")

    monkeypatch.setattr(intake.inbox, "_insert", down)
    try:
        r = await slack.command("alice", "/cadence whoami", settle=False)
    finally:
        intake._running -= 1
    await slack.settle()
    assert r.status == 200  # bolt's ack, carrying nothing; the person is told it did not happen
    assert "Something went wrong" in slack.last_private("alice")
    assert await _count(slack.core, SlackInboxItem) == 0


async def test_a_failure_outside_the_core_drops_the_row_and_tells_the_person(slack):
    intake = slack.frontend.intake

    async def broken(fe, request, within):
        raise KeyError("user_id")

    intake.handles("command", broken)
    payload = _command_payload(slack, "bob", "/cadence whoami", 1)
    row_id = await intake.inbox.record("command", WORKSPACE_ID, payload)
    request = Request(
        kind="command",
        workspace_id=WORKSPACE_ID,
        payload=payload,
        client=slack.frontend.client,
        respond=slack.frontend.responses.respond(payload["response_url"]),
        row_id=row_id,
    )
    with pytest.raises(KeyError):
        await intake._run_recorded(request)
    assert "Something went wrong" in slack.last_private("bob")
    assert await _count(slack.core, SlackInboxItem) == 0, "a request that cannot run would fail at every start"
