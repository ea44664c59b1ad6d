"""The standup day end to end on the console front end: prompt, answers in the DM and in the form,
one reminder, the digest with blockers first, a late answer updating it, blockers to defect/CR."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.features.standups.cards import TO_ACTION, TO_CR, TO_DEFECT
from tests.features.standups.support import digests, entries, goto, prompts_to, reminders_to, timers
from tests.helpers import click, make_engagement, reply_text, run, say_dm, submit

UTC = UTC


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def test_a_standup_day(sqlite_core):
    core = sqlite_core
    people = await make_engagement(core)
    # Participants: vendor roles (victor, lena in Kolkata; dev in Kathmandu; quinn in St John's).
    pending = await timers(core, "standup.prompt:", "pending")
    assert {t.key.split(":")[2] for t in pending} and len(pending) == 4
    due = {t.payload["person_id"]: t.due_at for t in pending}
    assert sorted(due.values()) == [
        at(2027, 1, 4, 13, 0),
        at(2027, 1, 5, 3, 45),
        at(2027, 1, 5, 4, 0),
        at(2027, 1, 5, 4, 0),
    ]

    # Monday 09:30 in St John's (−3:30) = 13:00 UTC.
    await goto(core, at(2027, 1, 4, 13, 0))
    assert len(prompts_to(core, "quinn")) == 1
    assert "What did you finish" in prompts_to(core, "quinn")[0].card.text
    r = await say_dm(core, people["quinn"], "Regression suite for checkout")
    assert "What will you do next" in reply_text(r)
    r = await say_dm(core, people["quinn"], "Payments tests")
    assert "blocking" in reply_text(r)
    r = await say_dm(core, people["quinn"], "Waiting for sandbox API keys from the client")
    assert "recorded" in reply_text(r)
    assert await say_dm(core, people["quinn"], "hello?") is not None  # not a standup answer any more

    # Tuesday: Kathmandu 03:45 UTC, Kolkata 04:00 UTC.
    await goto(core, at(2027, 1, 5, 4, 0))
    assert len(prompts_to(core, "dev")) == 1 and len(prompts_to(core, "victor")) == 1
    victor_prompt = prompts_to(core, "victor")[0]
    form_button = victor_prompt.card.buttons[0]
    r = await click(core, people["victor"], form_button.action_id, form_button.value)
    assert r.form is not None and r.form.form_id == "standup.answer"
    r = await submit(
        core,
        people["victor"],
        r.form.form_id,
        {"q0": "Sprint planning", "q1": "Estimates for CR-3", "q2": "none"},
        r.form.state,
    )
    assert "recorded" in reply_text(r)
    await say_dm(core, people["lena"], "skip")
    await say_dm(core, people["lena"], "Code review")
    await say_dm(core, people["lena"], "no")

    # One reminder after 60 minutes, only to dev (who has not answered).
    await goto(core, at(2027, 1, 5, 6, 0))
    assert len(reminders_to(core, "dev")) == 1
    assert not reminders_to(core, "victor") and not reminders_to(core, "lena")

    # Monday's digest: 10:00 London on Tuesday (Quinn's prompt + reminder ended after Monday 10:00).
    await goto(core, at(2027, 1, 5, 10, 0))
    posted = digests(core)
    assert len(posted) == 1
    card = posted[0].card
    assert "Mon 4 Jan" in card.title
    assert card.sections[0].title.startswith("Blocker") and "sandbox API keys" in card.sections[0].text
    assert {b.action_id for b in card.sections[0].buttons} == {TO_DEFECT, TO_CR, TO_ACTION}

    # The blocker becomes a defect / change request through their intake forms, pre-filled.
    entry_id = card.sections[0].buttons[0].value
    r = await click(core, people["victor"], TO_DEFECT, entry_id)
    assert r.form.form_id == "defect.new" and r.form.state["from_standup_answer"] == int(entry_id)
    assert "sandbox API keys" in next(i.initial for i in r.form.inputs if i.id == "title")
    r = await click(core, people["carol"], TO_CR, entry_id)
    assert r.form.form_id == "cr.new"

    # Tuesday's digest waits for Quinn's Tuesday (13:00 UTC) and goes out Wednesday 10:00 London.
    await goto(core, at(2027, 1, 5, 13, 5))
    r = await say_dm(core, people["quinn"], "More payments tests")
    await say_dm(core, people["quinn"], "Same")
    r = await say_dm(core, people["quinn"], "none")
    rows = await entries(core)
    quinn_mon = next(e for e in rows if e.day.isoformat() == "2027-01-04")
    assert quinn_mon.blocker_closed_at is not None and quinn_mon.blocker_closed_by == "answer"

    await goto(core, at(2027, 1, 6, 10, 0))
    posted = digests(core)
    assert len(posted) == 2
    tue = posted[1].card
    assert "Tue 5 Jan" in tue.title
    titles = [s.title for s in tue.sections]
    assert "Missing" in titles  # dev never answered
    assert "Dev" in tue.sections[titles.index("Missing")].text

    # dev answers late: the digest is updated in place, marked late.
    r = await run(core, people["dev"], "/standup edit")
    assert "no standup answers" in reply_text(r)
    dev_entry = next(
        e for e in await entries(core) if e.person_id and e.day.isoformat() == "2027-01-05" and e.status != "answered"
    )
    r = await click(core, people["dev"], "standup.open_form", str(dev_entry.id))
    r = await submit(core, people["dev"], "standup.answer", {"q0": "API", "q1": "More API", "q2": "none"}, r.form.state)
    assert "late" in reply_text(r)
    await core.drain()
    updates = [
        d
        for d in __import__("tests.helpers", fromlist=["sent"]).sent(core)
        if d.op == "update" and d.card.title.startswith("Standup digest")
    ]
    assert len(updates) == 1 and "late" in updates[0].text.lower()
    assert updates[0].message_id == posted[1].message_id


async def test_blocker_becomes_a_defect_and_a_change_request(sqlite_core):
    """The buttons open the defect and CR features' own intake forms, pre-filled and linked back."""
    core = sqlite_core
    people = await make_engagement(core)
    await goto(core, at(2027, 1, 4, 13, 0))
    for text in ("Tests", "More tests", "Sandbox API keys missing"):
        await say_dm(core, people["quinn"], text)
    await goto(core, at(2027, 1, 5, 10, 0))
    blocker = digests(core)[0].card.sections[0]
    entry_id = blocker.buttons[0].value
    r = await click(core, people["victor"], TO_DEFECT, entry_id)
    values = {i.id: i.initial or "" for i in r.form.inputs}
    values["severity"] = "S2"
    r = await submit(core, people["victor"], "defect.new", values, r.form.state)
    assert not r.errors, r.errors
    r = await click(core, people["carol"], TO_CR, entry_id)
    assert r.form.form_id == "cr.new"
    values = {i.id: i.initial or "" for i in r.form.inputs}
    assert "Sandbox API keys missing" in values["title"] and "Quinn" in values["description"]
    r = await submit(core, people["carol"], "cr.new", {**values, "business_reason": "Unblock QA"}, r.form.state)
    assert not r.errors, r.errors
    await core.drain()
    from sqlalchemy import select

    from storage.models.change_requests import ChangeRequest
    from storage.models.defects import Defect

    async with core.session_factory() as s:
        d = await s.scalar(select(Defect))
        cr = await s.scalar(select(ChangeRequest))
    assert d.source_standup_answer_id == int(entry_id) and d.title == "Sandbox API keys missing"
    assert cr.from_standup_answer_id == int(entry_id)
    # Someone outside the engagement cannot use the buttons.
    from tests.helpers import actor

    r = await click(core, actor("mallory"), TO_DEFECT, entry_id)
    assert "not a member" in reply_text(r) or "not bound" in reply_text(r)


async def test_a_big_team_digest_fits_in_one_slack_message(sqlite_core):
    """Fourteen answers and three blockers still fit Slack's 50 blocks, blockers first, nobody cut off."""
    from datetime import date

    from bot.features.standups.queries import build_digest
    from handlers.slack.render import MAX_BLOCKS, card_blocks
    from storage.models import Engagement, Membership, Person
    from storage.models.standups import StandupEntry

    core = sqlite_core
    await make_engagement(core, members={"alice": ("Europe/London", ["client_sponsor"])})
    now, day = at(2027, 1, 5, 10, 0), date(2027, 1, 5)
    questions = ["Done?", "Next?", "Blocked?"]
    async with core.session_factory() as session, session.begin():
        eng = await session.scalar(select(Engagement))
        for i in range(14):
            p = Person(display_name=f"Dev{i:02d}", tz="Asia/Kolkata", work_days=[0, 1, 2, 3, 4], created_at=now)
            session.add(p)
            await session.flush()
            session.add(Membership(engagement_id=eng.id, person_id=p.id, roles=["developer"], joined_at=now))
            blocker = f"Blocked on ticket {i}" if i < 3 else None
            session.add(
                StandupEntry(
                    engagement_id=eng.id,
                    person_id=p.id,
                    day=day,
                    questions=questions,
                    blocker_index=2,
                    answers=[f"Task {i} done", f"Task {i + 1}", blocker or "none"],
                    position=3,
                    status="answered",
                    expected=True,
                    prompted_at=now,
                    answered_at=now,
                    updated_at=now,
                    answer_tz="Asia/Kolkata",
                    late=False,
                    blocker=blocker,
                    extra={},
                )
            )
        await session.flush()
        card = await build_digest(session, eng, day, now)
    blocks = card_blocks(card)
    assert len(blocks) <= MAX_BLOCKS, len(blocks)
    text = "\n".join(s.text + s.title for s in card.sections)
    assert all(f"Task {i} done" in text for i in range(14))
    assert [s.title.startswith("Blocker") for s in card.sections[:3]] == [True] * 3
    assert "1. Done?" in card.text  # the legend of the compact layout
