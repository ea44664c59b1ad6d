"""`/standup` commands: early answers, edit until the digest, join/leave, config (form and one-liners),
report, unblock, and friendly refusals."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from storage.models import AuditEntry
from tests.features.standups.support import all_text, digests, entries, goto, prompts_to, timers
from tests.helpers import make_engagement, reply_text, run, say_dm, sent, submit

UTC = UTC
SMALL = {  # a smaller team where the whole one is not needed (fewer timers: a faster test)
    "alice": ("Europe/London", ["client_sponsor"]),
    "lena": ("Asia/Kolkata", ["vendor_lead"]),
    "quinn": ("America/St_Johns", ["qa"]),
}


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def test_early_answer_then_no_prompt_and_edit_until_digest(sqlite_core):
    core = sqlite_core
    people = await make_engagement(core, members=SMALL)
    # Monday 08:00 UTC = 13:30 in Kolkata: Victor's Monday was never prompted; /standup answers Monday now.
    r = await run(core, people["quinn"], "/standup")  # 04:30 in St John's: answers Quinn's Monday early
    assert r.form is not None and r.form.form_id == "standup.answer"
    assert next(i.label for i in r.form.inputs).startswith("What did you finish")
    r = await submit(
        core, people["quinn"], "standup.answer", {"q0": "Tests", "q1": "More tests", "q2": ""}, r.form.state
    )
    assert "recorded" in reply_text(r)
    await goto(core, at(2027, 1, 4, 13, 30))
    assert not prompts_to(core, "quinn")  # already answered: no prompt at 09:30
    mon = next(e for e in await entries(core) if e.day.isoformat() == "2027-01-04")
    assert mon.expected and mon.status == "answered"

    r = await run(core, people["quinn"], "/standup edit")
    assert r.form and r.form.inputs[0].initial == "Tests"
    r = await submit(
        core,
        people["quinn"],
        "standup.answer",
        {"q0": "Tests", "q1": "More tests", "q2": "Blocked by staging"},
        r.form.state,
    )
    assert "Updated" in reply_text(r)
    r = await run(core, people["quinn"], "/standup")  # answered already: the edit form again
    assert r.form and r.form.submit_label == "Save"

    await goto(core, at(2027, 1, 5, 10, 0))  # Monday's digest
    assert digests(core) and "Blocked by staging" in digests(core)[0].card.sections[0].text
    r = await submit(core, people["quinn"], "standup.answer", {"q0": "x", "q1": "y", "q2": "z"}, {"entry_id": mon.id})
    assert "already posted" in reply_text(r)
    # Someone else's entry cannot be answered by tampering with the form state.
    r = await submit(core, people["lena"], "standup.answer", {"q0": "x"}, {"entry_id": mon.id})
    assert "not yours" in reply_text(r)
    r = await submit(core, people["quinn"], "standup.answer", {"q0": ""}, {"entry_id": "abc"})
    assert "not yours" in reply_text(r)


async def test_empty_and_overlong_form_answers_are_refused(sqlite_core):
    core = sqlite_core
    people = await make_engagement(core, members=SMALL)
    r = await run(core, people["quinn"], "/standup")
    state = r.form.state
    r = await submit(core, people["quinn"], "standup.answer", {"q0": "", "q1": " ", "q2": ""}, state)
    assert "q0" in r.errors
    r = await submit(core, people["quinn"], "standup.answer", {"q0": "x" * 5000}, state)
    assert "too long" in r.errors["q0"]
    assert all(e.status != "answered" for e in await entries(core))


async def test_join_leave_and_participants(sqlite_core):
    core = sqlite_core
    people = await make_engagement(core)
    r = await run(core, people["carol"], "/standup join")  # client PM opts in (New York)
    assert "take part" in reply_text(r) and "09:30" in reply_text(r)
    r = await run(core, people["dev"], "/standup leave")
    assert "no longer" in reply_text(r)
    pending = await timers(core, "standup.prompt:", "pending")
    names = {t.payload["person_id"] for t in pending}
    assert len(pending) == 4 and len(names) == 4  # victor, lena, quinn, carol — not dev
    r = await run(core, people["alice"], "/standup schedule")
    text = reply_text(r)
    assert "Carol" in text and "Dev" not in text and "America/New_York" in text
    await goto(core, at(2027, 1, 4, 15, 0))
    assert prompts_to(core, "carol") and not prompts_to(core, "dev")


async def test_config_one_liners(sqlite_core):
    core = sqlite_core
    people = await make_engagement(core, members=SMALL)
    r = await run(core, people["quinn"], "/standup config prompt 08:00")
    assert "Only" in reply_text(r)  # a developer cannot change the settings
    r = await run(core, people["lena"], "/standup config prompt 8:15")
    assert "08:15" in reply_text(r)
    pending = {t.payload["person_id"]: t.due_at for t in await timers(core, "standup.prompt:", "pending")}
    assert at(2027, 1, 5, 2, 45) in pending.values()  # 08:15 in Kolkata
    r = await run(core, people["lena"], "/standup config question add Any risks for the client?")
    assert "4. Any risks" in reply_text(r)
    r = await run(core, people["lena"], "/standup config question move 3 1")
    assert "1. Anything blocking you?  (blockers)" in reply_text(r)
    r = await run(core, people["lena"], "/standup config question remove 2")
    assert "What did you finish" not in reply_text(r) and "(blockers)" in reply_text(r)
    r = await run(core, people["lena"], "/standup config digest 09:00 Asia/Kolkata")
    assert "09:00 Asia/Kolkata" in reply_text(r)
    r = await run(core, people["lena"], "/standup config days sun-thu")
    assert "Sun" in reply_text(r)
    r = await run(core, people["lena"], "/standup config reminder 30")
    assert "after 30 min" in reply_text(r)
    for bad, says in [
        ("prompt 25:00", "not a time"),
        ("days funday", "not a list of days"),
        ("digest 10:00 Mars/Olympus", "time zone"),
        ("reminder soon", "number"),
        ("question remove 9", "number"),
        ("colour blue", "don't know the setting"),
    ]:
        r = await run(core, people["lena"], f"/standup config {bad}")
        assert says in reply_text(r), (bad, reply_text(r))
    async with core.session_factory() as session:
        audits = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "standup_config_changed")))
    assert len(audits) == 7 and audits[0].actor_label == "Lena"
    # Each change was also said in the home channel (a rule of the engagement, never changed privately).
    await core.drain()
    posted = [d.text for d in sent(core) if d.op == "post" and "changed the standup settings" in d.text]
    assert len(posted) == 7 and "prompt time: 09:30 → 08:15" in posted[0], posted[:1]
    assert any("days: Mon–Fri → Mon, Tue, Wed, Thu, Sun" in p for p in posted), posted
    # The new questions are asked from the next prompt on.
    await goto(core, at(2027, 1, 5, 3, 0))
    first = prompts_to(core, "lena")[0].card.text
    assert "1/3* Anything blocking you?" in first


async def test_config_form(sqlite_core):
    core = sqlite_core
    people = await make_engagement(core)
    r = await run(core, people["alice"], "/standup config")
    form = r.form
    assert form.form_id == "standup.config"
    values = {i.id: i.initial or "" for i in form.inputs}
    assert values["prompt_time"] == "09:30" and values["digest_zone"] == "Europe/London"
    bad = {**values, "prompt_time": "nine", "questions": "", "blocker_question": "7"}
    r = await submit(core, people["alice"], "standup.config", bad, form.state)
    assert set(r.errors) >= {"prompt_time", "questions"}
    good = {
        **values,
        "prompt_time": "10:00",
        "questions": "Done?\nNext?\nBlocked?\nMood?",
        "blocker_question": "3",
        "digest_channel": "home",
    }
    r = await submit(core, people["alice"], "standup.config", good, form.state)
    assert not r.errors and "10:00" in reply_text(r) and "4. Mood?" in reply_text(r)
    r = await submit(core, people["dev"], "standup.config", good, form.state)
    assert "Only" in reply_text(r)


async def test_digest_channel_here(sqlite_core):
    from tests.helpers import place

    core = sqlite_core
    people = await make_engagement(core, members=SMALL)
    r = await run(core, people["quinn"], "/standup config channel here ACME", place("standups"))
    assert "Only" in reply_text(r)
    r = await run(core, people["alice"], "/standup config channel here ACME", place("standups"))
    assert "the digest channel" in reply_text(r)
    await say_dm(core, people["quinn"], "hi")
    await goto(core, at(2027, 1, 5, 10, 0))
    assert [d.channel_id for d in digests(core)] == ["standups"]


async def test_report_unblock_and_streaks(sqlite_core):
    core = sqlite_core
    people = await make_engagement(
        core,
        members={
            "alice": ("Europe/London", ["client_sponsor"]),
            "dev": ("Asia/Kathmandu", ["developer"]),
            "quinn": ("America/St_Johns", ["qa"]),
        },
    )
    await run(core, people["alice"], "/standup config reminder 0")
    # Quinn answers every day; a blocker raised on Tuesday, repeated Wednesday, gone on Thursday.
    answers = {4: "none", 5: "Waiting for VPN access", 6: "Waiting for VPN access", 7: "none"}
    for day in range(4, 8):
        await goto(core, at(2027, 1, day, 13, 0))
        await say_dm(core, people["quinn"], f"Work of day {day}")
        await say_dm(core, people["quinn"], "More")
        await say_dm(core, people["quinn"], answers[day])
    r = await run(core, people["alice"], "/standup report")
    text = all_text(r)
    assert "Quinn: 100% · 4/4 days · streak 4 (best 4)" in text
    assert "Dev: 0% · 0/3 days · streak 0 (best 0)" in text
    assert "Blockers raised: 1" in text and "Waiting for VPN access — open 2 d 0 h, closed" in text
    r = await run(core, people["alice"], "/standup report month")
    assert "Last month" in all_text(r)
    r = await run(core, people["alice"], "/standup report year")
    assert "Usage" in all_text(r)
    from tests.helpers import actor

    r = await run(core, actor("mallory"), "/standup report")
    assert "not a member of ACME" in all_text(r)
    # A new blocker through an edit, closed explicitly.
    r = await run(core, people["quinn"], "/standup edit")
    await submit(
        core, people["quinn"], "standup.answer", {"q0": "x", "q1": "y", "q2": "Prod database locked"}, r.form.state
    )
    r = await run(core, people["quinn"], "/standup unblock")
    assert "Closed 1 blocker" in all_text(r)
    r = await run(core, people["quinn"], "/standup unblock")
    assert "no open blockers" in all_text(r)
    r = await run(core, people["alice"], "/standup report")
    assert "Blockers raised: 2" in all_text(r) and "Prod database locked — open 0 min, closed" in all_text(r)


async def test_unknown_subcommand_and_skip_words(sqlite_core):
    core = sqlite_core
    people = await make_engagement(core, members=SMALL)
    r = await run(core, people["quinn"], "/standup frobnicate")
    assert "not something I know" in all_text(r) and "/standup join" in all_text(r)
    r = await run(core, people["quinn"], "/standup help")
    assert "/standup report" in all_text(r)
    await goto(core, at(2027, 1, 4, 13, 0))
    await say_dm(core, people["quinn"], "skip")
    await say_dm(core, people["quinn"], "Pass")
    r = await say_dm(core, people["quinn"], "<!channel> nothing blocking")
    assert "recorded" in all_text(r)
    e = next(e for e in await entries(core) if e.status == "answered")
    assert e.answers[:2] == [None, None] and e.blocker and "<!channel>" in e.blocker


async def test_home_section_and_its_button(sqlite_core):
    from bot.features.standups.cards import ANSWER_TODAY
    from tests.helpers import click

    core = sqlite_core
    people = await make_engagement(core, members=SMALL)
    cards = await core.home(people["quinn"])
    mine = [c for c in cards if c.title == "Standup · ACME"]
    assert len(mine) == 1 and "not answered today" in mine[0].text
    r = await click(core, people["quinn"], ANSWER_TODAY, mine[0].buttons[0].value)
    assert r.form and r.form.form_id == "standup.answer"
    r = await click(core, people["quinn"], ANSWER_TODAY, "999")
    assert "not a member" in reply_text(r)
    assert not [c for c in await core.home(people["alice"]) if c.title == "Standup · ACME"]


async def test_commands_still_work_while_a_question_waits(sqlite_core):
    core = sqlite_core
    people = await make_engagement(core, members=SMALL)
    await goto(core, at(2027, 1, 4, 13, 0))
    r = await say_dm(core, people["quinn"], "Demo prep for Thursday")  # an answer, not `/demo prep`
    assert "What will you do next" in reply_text(r)
    r = await say_dm(core, people["quinn"], "standup schedule")  # a command
    assert "Standup schedule" in reply_text(r)
    r = await say_dm(core, people["quinn"], "help")
    assert "What will you do next" not in reply_text(r)
    r = await say_dm(core, people["quinn"], "Cr review with the client")
    assert "blocking" in reply_text(r)
    e = next(e for e in await entries(core) if e.status == "answering")
    assert e.answers[:2] == ["Demo prep for Thursday", "Cr review with the client"]
