"""Demo flow on the controlled clock: schedule → confirm → announcement with invite → agenda →
reminders → outcome; move and cancel; restart between scheduling and reminder."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from icalendar import Calendar
from sqlalchemy import func, select

from bot.features.demos.queries import stale_demo_flag
from storage.models import AuditEntry, Engagement, Timer
from storage.models.demos import Demo, DemoOutcome
from tests.helpers import advance, click, dm, make_engagement, reply_text, run, sent, submit

UTC = UTC


def confirm_button(reply):
    card = reply.private[0]
    return next(b for b in card.buttons if b.action_id == "demo.confirm")


async def schedule(core, who, text):
    reply = await run(core, who, f"/demo schedule {text}")
    assert reply.private and reply.private[0].buttons, reply_text(reply)
    confirmed = await click(core, who, "demo.confirm", confirm_button(reply).value)
    assert confirmed.update is not None and "Scheduled" in confirmed.update.title, reply_text(confirmed)
    await core.drain()
    return reply, confirmed


def flat(card) -> str:
    """A card's text including its sections (the weekly report puts flags in a section)."""
    return "\n".join([card.plain(), *(flat(s) for s in card.sections)])


def posts(core, needle):
    return [d for d in sent(core) if needle in d.text and d.op in ("post", "dm")]


async def count(core, model, *where):
    async with core.session_factory() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


async def test_schedule_shows_understanding_and_saves_nothing_until_confirmed(core):
    people = await make_engagement(core)
    reply = await run(core, people["carol"], "/demo schedule next thu 3pm | Sprint 4 demo")
    text = reply_text(reply)
    # Carol is in New York; the engagement's home zone is Alice's (London).
    assert "Thu 7 Jan 2027 15:00 America/New_York" in text
    assert "Thu 7 Jan 2027 20:00 Europe/London" in text
    assert "Sprint 4 demo" in text
    assert await count(core, Demo) == 0
    discarded = await click(core, people["carol"], "demo.discard", "")
    assert "Not saved" in reply_text(discarded)
    assert await count(core, Demo) == 0


async def test_refusals_save_nothing(core):
    people = await make_engagement(core)
    for text, why in [
        ("yesterday 3pm", "past"),
        ("on the 5th 3pm", "no month"),
        ("03/04 3pm", "could be"),
        ("banana", "couldn't find a date or time"),
        ("3pm IST", "ambiguous"),
        ("mar 14 2:30am America/New_York", "does not exist"),
    ]:
        reply = await run(core, people["carol"], f"/demo schedule {text}")
        assert reply.private and reply.private[0].tone == "warning", text
        assert why in reply_text(reply), (text, reply_text(reply))
        assert not reply.private[0].buttons
    assert await count(core, Demo) == 0


async def test_announcement_invite_reminders_agenda_outcome(core):
    people = await make_engagement(core)
    await schedule(core, people["carol"], '"Sprint 4 demo" tomorrow 15:00')  # Tue 5 Jan 15:00 New York
    announce = posts(core, "Demo scheduled: Sprint 4 demo")
    assert len(announce) == 1
    att = announce[0].card.attachments[0]
    assert att.mime == "text/calendar"
    cal = Calendar.from_ical(base64.b64decode(att.content_b64))
    assert str(cal["method"]) == "REQUEST"
    ev = next(iter(cal.walk("VEVENT")))
    assert ev.decoded("dtstart") == datetime(2027, 1, 5, 20, 0, tzinfo=UTC)
    # Zones of the members, as text, with the engagement's marked.
    assert "Europe/London (engagement)" in announce[0].text and "Asia/Kathmandu" in announce[0].text

    # 24 h before (Mon 20:00 UTC): reminder + agenda request DMs to the vendor side.
    await advance(core, hours=12)
    assert len(posts(core, "Demo tomorrow: Sprint 4 demo")) == 1
    asks = [d for d in sent(core) if d.op == "dm" and "What will you show" in d.text]
    assert {d.address["user_id"] for d in asks} == {"victor", "lena", "dev", "quinn"}
    button = asks[0].card.buttons[0]
    form = await click(core, people["victor"], button.action_id, button.value, where=dm(people["victor"]))
    assert form.form is not None
    r = await submit(
        core,
        people["victor"],
        "demo.agenda",
        {"text": "New checkout flow"},
        form.form.state,
        where=dm(people["victor"]),
    )
    assert "New checkout flow" in reply_text(r)
    r = await run(core, people["dev"], "/demo agenda 1 Search filters")
    assert "Search filters" in reply_text(r)
    r = await run(core, people["alice"], "/demo agenda 1 I am the client")
    assert "vendor side" in reply_text(r)

    # 1 h before: the agenda is in the reminder.
    await advance(core, hours=23)
    hour = posts(core, "Demo in 1 hour: Sprint 4 demo")
    assert len(hour) == 1
    assert "Victor: New checkout flow" in hour[0].text and "Dev: Search filters" in hour[0].text

    # After the end: the outcome request.
    await advance(core, hours=2)
    request = posts(core, "How did the demo go?")
    assert len(request) == 1
    accepted = next(b for b in request[0].card.buttons if b.value.endswith(":accepted"))
    remarks = next(b for b in request[0].card.buttons if b.value.endswith(":accepted_with_remarks"))

    # Vendor side may not record it.
    r = await click(core, people["victor"], "demo.outcome", accepted.value)
    assert "Only the client side" in reply_text(r)
    assert await count(core, DemoOutcome) == 0
    # Remarks are required.
    f = await click(core, people["carol"], "demo.outcome", remarks.value)
    assert f.form is not None
    r = await submit(core, people["carol"], "demo.outcome", {"remarks": ""}, f.form.state)
    assert "remarks" in r.errors
    assert await count(core, DemoOutcome) == 0
    r = await submit(core, people["carol"], "demo.outcome", {"remarks": "Fix the totals rounding"}, f.form.state)
    assert "Recorded" in reply_text(r)
    # A second click: already recorded, nothing changes.
    r = await click(core, people["alice"], "demo.outcome", accepted.value)
    assert "already recorded" in reply_text(r)
    await core.drain()
    async with core.session_factory() as s:
        outcome = await s.scalar(select(DemoOutcome))
        assert outcome.outcome == "accepted_with_remarks" and outcome.remarks == "Fix the totals rounding"
        audit = await s.scalar(select(AuditEntry).where(AuditEntry.action == "outcome_recorded"))
        assert audit.to_state == "accepted_with_remarks" and audit.comment == "Fix the totals rounding"
    updates = [d for d in sent(core) if d.op == "update" and "Demo outcome" in d.text]
    assert updates and "Accepted with remarks" in updates[-1].text
    hist = reply_text(await run(core, people["victor"], "/demo history"))
    assert "ACME-DEMO-1" in hist and "Accepted with remarks by Carol" in hist and "Fix the totals rounding" in hist


async def test_cancel_means_no_reminder(core):
    people = await make_engagement(core)
    await schedule(core, people["carol"], "tomorrow 15:00 | Demo A")
    r = await run(core, people["carol"], "/demo cancel 1")
    assert "cancelled" in reply_text(r)
    await core.drain()
    cancel_post = posts(core, "Demo cancelled: Demo A")
    assert cancel_post
    cal = Calendar.from_ical(base64.b64decode(cancel_post[0].card.attachments[0].content_b64))
    assert str(cal["method"]) == "CANCEL"
    await advance(core, hours=48)
    assert not posts(core, "Demo tomorrow") and not posts(core, "Demo in 1 hour") and not posts(core, "How did")
    assert "No demos planned" in reply_text(await run(core, people["carol"], "/demo list"))


async def test_move_reschedules_reminders_and_resends_invite(core):
    people = await make_engagement(core)
    await schedule(core, people["carol"], "tomorrow 15:00 | Demo A")  # Tue 20:00 UTC
    r = await run(core, people["carol"], "/demo move 1 thu 15:00")
    assert "Thu 7 Jan 2027 15:00 America/New_York" in reply_text(r)
    moved = await click(core, people["carol"], "demo.confirm", confirm_button(r).value)
    assert "Moved" in moved.update.title
    # The same confirmation cannot be applied twice.
    again = await click(core, people["carol"], "demo.confirm", confirm_button(r).value)
    assert "changed since" in reply_text(again)
    await core.drain()
    moved_post = posts(core, "Demo moved: Demo A")
    assert len(moved_post) == 1
    ev = next(iter(Calendar.from_ical(base64.b64decode(moved_post[0].card.attachments[0].content_b64)).walk("VEVENT")))
    assert int(ev["sequence"]) == 1
    assert ev.decoded("dtstart") == datetime(2027, 1, 7, 20, 0, tzinfo=UTC)
    await advance(core, hours=36)  # Tue 20:00 UTC: the old time passes silently
    assert not posts(core, "Demo in 1 hour") and not posts(core, "How did")
    await advance(core, hours=24)  # Wed 20:00 UTC: 24 h before the new time
    assert len(posts(core, "Demo tomorrow: Demo A")) == 1
    await advance(core, hours=23)
    assert len(posts(core, "Demo in 1 hour: Demo A")) == 1


async def test_non_manager_cannot_cancel(core):
    people = await make_engagement(core)
    await schedule(core, people["carol"], "tomorrow 15:00 | Demo A")
    r = await run(core, people["dev"], "/demo cancel 1")
    assert "Only whoever scheduled" in reply_text(r)
    async with core.session_factory() as s:
        assert (await s.scalar(select(Demo))).status == "scheduled"


async def test_double_confirm_makes_one_demo(core):
    people = await make_engagement(core)
    reply, _ = await schedule(core, people["carol"], "tomorrow 15:00 | Demo A")
    again = await click(core, people["carol"], "demo.confirm", confirm_button(reply).value)
    assert "Already scheduled" in again.update.title
    assert await count(core, Demo) == 1


async def test_tampered_confirmation_is_refused(core):
    people = await make_engagement(core)
    r = await click(core, people["carol"], "demo.confirm", '{"op":"new","start":"garbage","tz":"UTC"}')
    assert "not valid" in reply_text(r)
    r = await click(
        core,
        people["carol"],
        "demo.confirm",
        '{"op":"new","start":"2027-01-05T15:00:00+00:00","tz":"UTC","rrule":"FREQ=SECONDLY"}',
    )
    assert "not valid" in reply_text(r)
    assert await count(core, Demo) == 0


async def test_restart_between_scheduling_and_reminder_fires_once(db_url, clock, make_core):
    first = await make_core(db_url)
    people = await make_engagement(first)
    await schedule(first, people["carol"], "tomorrow 15:00 | Demo A")
    await first.engine.dispose()
    # Two processes on the same database after the restart, both past the reminder time.
    clock.advance(hours=13)
    a, b = await make_core(db_url), await make_core(db_url)
    await a.drain()
    await b.drain()
    await a.drain()
    reminders = [d for c in (a, b) for d in sent(c) if "Demo tomorrow: Demo A" in d.text]
    assert len(reminders) == 1
    async with a.session_factory() as s:
        assert (
            await s.scalar(
                select(func.count())
                .select_from(Timer)
                .where(Timer.key.like("demo:%remind:1440"), Timer.status == "done")
            )
            == 1
        )
    await a.engine.dispose()
    await b.engine.dispose()


async def test_stale_demo_flag_and_weekly_check(core):
    people = await make_engagement(core)
    async with core.session_factory() as s:
        eng = await s.scalar(select(Engagement))
        assert await stale_demo_flag(s, eng, core.clock.now()) is None
    await schedule(core, people["carol"], "tomorrow 15:00 | Demo A")
    await advance(core, days=2)
    async with core.session_factory() as s:
        eng = await s.scalar(select(Engagement))
        now = core.clock.now()
        assert await stale_demo_flag(s, eng, now) is None
        flag = await stale_demo_flag(s, eng, datetime(2027, 1, 21, 9, tzinfo=UTC))
        assert flag and "last demo was 15 days ago" in flag
    # Mondays 09:00 home time: the flag reaches the channel once — in the weekly report when that
    # runs, else in the demo feature's own weekly post.
    clock = core.clock
    clock.set(datetime(2027, 1, 18, 9, 30, tzinfo=UTC))  # 12 days since the demo: fine
    await core.drain()
    assert not [d for d in sent(core) if "last demo was" in flat(d.card)]
    clock.set(datetime(2027, 1, 25, 9, 30, tzinfo=UTC))  # 19 days
    await core.drain()
    flagged = [d for d in sent(core) if "last demo was" in flat(d.card)]
    assert len(flagged) == 1 and not posts(core, "No recent demo")
    r = await run(core, people["alice"], "/cadence report off")
    assert not any(c.tone == "warning" for c in r.private), reply_text(r)
    clock.set(datetime(2027, 2, 1, 9, 30, tzinfo=UTC))
    await core.drain()
    own = posts(core, "No recent demo")
    assert len(own) == 1 and "last demo was 26 days ago" in own[0].text


async def test_settings_change_replans_reminders(core):
    people = await make_engagement(core)
    r = await run(core, people["carol"], "/demo settings")
    assert "1 day before, 1 h before" in reply_text(r)
    await schedule(core, people["carol"], "tomorrow 15:00 | Demo A")  # Tue 20:00 UTC
    r = await run(core, people["dev"], "/demo settings reminders 2h")
    assert "Only client sponsor" in reply_text(r)
    r = await run(core, people["carol"], "/demo settings reminders 2h,15m")
    assert "2 h before, 15 min before" in reply_text(r)
    await core.drain()
    assert [d for d in sent(core) if d.op == "post" and "demo settings: changed by Carol" in d.card.title]
    await advance(core, hours=35)  # Tue 19:00 UTC: 1 h before — no longer a reminder time
    assert not posts(core, "Demo tomorrow") and not posts(core, "Demo in 1 hour")
    assert len(posts(core, "Demo in 2 hours: Demo A")) == 1
    await advance(core, minutes=45)
    assert len(posts(core, "Demo in 15 minutes: Demo A")) == 1
