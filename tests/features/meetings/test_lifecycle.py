"""Moving and cancelling meetings (only the organizer or an admin of either side; others are told who can),
the invites that follow (SEQUENCE, RECURRENCE-ID, METHOD:CANCEL), reminders in each reader's zone at the
settings' lead times, a monthly series across a DST change, and after each meeting the organizer asked once
what was decided."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.kernel.engagements import update_feature_settings
from storage.models import AuditEntry, Engagement, Person, Timer
from tests.features.meetings.support import (
    calendar,
    confirm_value,
    dms,
    meetings,
    occurrences,
    pending,
    posts,
    schedule,
)
from tests.helpers import click, make_engagement, reply_text, run, sent

SYNC = "every tuesday 15:00 | Weekly sync"  # Victor, Kolkata: Tue 5 Jan 2027 09:30 UTC


async def test_only_the_organizer_or_an_admin_may_cancel_or_move(core):
    people = await make_engagement(core)
    await schedule(core, people["victor"], SYNC)
    for text in ("/meeting cancel ACME-MTG-1", "/meeting move 1 wed 15:00"):
        r = await run(core, people["dev"], text)
        assert "Only its organizer (Victor) or an admin of either side" in reply_text(r), text
    [meeting] = await meetings(core)
    assert meeting.status == "scheduled" and meeting.sequence == 0
    # A forged move confirmation from someone who may not move it is refused too.
    forged = (
        '{"op":"move","start":"2027-01-06T09:30:00+00:00","tz":"UTC","kind":"sync","meeting":1,"occ":1,"seq":0,'
        f'"eng":{meeting.engagement_id}}}'
    )
    assert "Only its organizer" in reply_text(await click(core, people["dev"], "meeting.confirm", forged))


async def test_move_the_next_occurrence_its_timers_and_invite_follow(core):
    people = await make_engagement(core)
    await schedule(core, people["victor"], SYNC)
    await run(core, people["dev"], "/meeting agenda add Release date for v2")
    reply = await run(core, people["carol"], "/meeting move ACME-MTG-1 wed 9:00")  # Carol: client PM, New York
    assert "Move ACME-MTG-1?" in reply_text(reply) and "Wed 6 Jan 2027 09:00 America/New_York" in reply_text(reply)
    done = await click(core, people["carol"], "meeting.confirm", confirm_value(reply))
    assert "Moved ACME-MTG-1" in reply_text(done)
    await core.drain()
    [meeting] = await meetings(core)
    [occ] = await occurrences(core)
    assert meeting.sequence == 1 and occ.version == 1
    assert occ.starts_at == datetime(2027, 1, 6, 14, 0, tzinfo=UTC)
    assert meeting.start_at == datetime(2027, 1, 5, 9, 30, tzinfo=UTC)  # the series keeps its rhythm
    [agenda_timer] = await pending(core, "meeting.agenda")
    assert agenda_timer.due_at == datetime(2027, 1, 6, 13, 0, tzinfo=UTC)
    assert [t.due_at for t in await pending(core, "meeting.remind")] == [
        datetime(2027, 1, 5, 14, 0, tzinfo=UTC),
        datetime(2027, 1, 6, 13, 45, tzinfo=UTC),
    ]
    [moved] = posts(core, "Meeting moved: Weekly sync")
    cal = calendar(moved)
    events = list(cal.walk("VEVENT"))
    assert str(cal["method"]) == "REQUEST" and all(int(e["sequence"]) == 1 for e in events)
    override = next(e for e in events if "recurrence-id" in e)
    assert override.decoded("recurrence-id") == datetime(2027, 1, 5, 9, 30, tzinfo=UTC)
    # Nothing at the old agenda time; the agenda (with Dev's point) at the new one.
    core.clock.set(datetime(2027, 1, 5, 9, 0, tzinfo=UTC))
    await core.drain()
    assert not [d for d in sent(core) if d.card.title.startswith("Agenda:")]
    core.clock.set(datetime(2027, 1, 6, 13, 0, tzinfo=UTC))
    await core.drain()
    [agenda] = [d for d in sent(core) if d.card.title.startswith("Agenda:")]
    assert any("Release date for v2" in s.text for s in agenda.card.sections)


async def test_a_move_into_the_past_or_to_a_series_is_refused(core):
    people = await make_engagement(core)
    await schedule(core, people["victor"], SYNC)
    assert "past" in reply_text(await run(core, people["victor"], "/meeting move 1 yesterday 3pm"))
    assert "one occurrence" in reply_text(await run(core, people["victor"], "/meeting move 1 every wednesday 15:00"))
    assert (await meetings(core))[0].sequence == 0


async def test_cancel_the_next_occurrence_then_the_series(core):
    people = await make_engagement(core)
    await schedule(core, people["victor"], SYNC)
    r = await run(core, people["alice"], "/meeting cancel 1 next")  # Alice: client sponsor, an admin
    assert "the series continues Tue 12 Jan 2027 15:00 Asia/Kolkata" in reply_text(r)
    await core.drain()
    [cancelled] = posts(core, "Meeting cancelled")
    cal = calendar(cancelled)
    [event] = list(cal.walk("VEVENT"))
    assert str(cal["method"]) == "CANCEL" and int(event["sequence"]) == 1
    assert event.decoded("recurrence-id") == datetime(2027, 1, 5, 9, 30, tzinfo=UTC)
    first, second = await occurrences(core)
    assert (first.status, second.status) == ("cancelled", "scheduled")
    assert [t.due_at for t in await pending(core, "meeting.agenda")] == [datetime(2027, 1, 12, 8, 30, tzinfo=UTC)]
    r = await run(core, people["victor"], "/meeting cancel ACME-MTG-1")
    assert "the whole series" in reply_text(r)
    await core.drain()
    cal = calendar(posts(core, "Meeting cancelled")[-1])
    [event] = list(cal.walk("VEVENT"))
    assert str(cal["method"]) == "CANCEL" and "recurrence-id" not in event and int(event["sequence"]) == 2
    assert await pending(core, "meeting.agenda") == [] and await pending(core, "meeting.remind") == []
    assert "already cancelled" in reply_text(await run(core, people["victor"], "/meeting cancel 1"))
    async with core.session_factory() as s:
        actions = list(await s.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "meeting")))
    assert actions == ["scheduled", "occurrence_cancelled", "cancelled"]


async def test_reminders_at_the_settings_lead_times(core):
    people = await make_engagement(core)
    await schedule(core, people["victor"], SYNC)
    # Defaults: a day and 15 minutes before.
    assert [t.due_at for t in await pending(core, "meeting.remind")] == [
        datetime(2027, 1, 4, 9, 30, tzinfo=UTC),
        datetime(2027, 1, 5, 9, 15, tzinfo=UTC),
    ]
    core.clock.set(datetime(2027, 1, 4, 9, 30, tzinfo=UTC))
    await core.drain()
    [tomorrow] = posts(core, "Sync tomorrow: Weekly sync")
    # Each reader sees their own time (an inline time token), and the card lists every member's zone.
    assert "\ue000time:" in tomorrow.card.text
    zones = tomorrow.card.fields[0].value
    assert "Tue 5 Jan 2027 15:15 Asia/Kathmandu" in zones and "Tue 5 Jan 2027 06:00 America/St_Johns" in zones
    core.clock.set(datetime(2027, 1, 5, 9, 15, tzinfo=UTC))
    await core.drain()
    assert len(posts(core, "Sync in 15 minutes: Weekly sync")) == 1
    # Changed settings re-plan the upcoming occurrence's pending timers.
    async with core.session_factory() as s, s.begin():
        eng = await s.scalar(select(Engagement))
        update_feature_settings(eng, "meeting", {"reminder_minutes": [120, 5]})
        await core.emit(s, "engagement_settings_changed", engagement=eng, feature="meeting")
    core.clock.set(datetime(2027, 1, 5, 10, 31, tzinfo=UTC))  # this week's has ended; next week's is planned
    await core.drain()
    next_week = datetime(2027, 1, 12, 9, 30, tzinfo=UTC)
    assert [t.due_at for t in await pending(core, "meeting.remind")] == [
        next_week - timedelta(minutes=120),
        next_week - timedelta(minutes=5),
    ]


async def test_a_monthly_series_keeps_its_local_time_across_dst(core):
    people = await make_engagement(core)
    await schedule(core, people["carol"], "review first tuesday of the month 15:00")  # New York
    for day in (datetime(2027, 1, 6), datetime(2027, 2, 3), datetime(2027, 3, 3)):
        core.clock.set(day.replace(tzinfo=UTC))
        await core.drain()
    starts = [o.starts_at for o in await occurrences(core)]
    assert starts == [
        datetime(2027, 1, 5, 20, 0, tzinfo=UTC),
        datetime(2027, 2, 2, 20, 0, tzinfo=UTC),
        datetime(2027, 3, 2, 20, 0, tzinfo=UTC),
        datetime(2027, 4, 6, 19, 0, tzinfo=UTC),  # 15:00 New York after the change of 14 Mar
    ]
    assert [t.due_at for t in await pending(core, "meeting.agenda")] == [datetime(2027, 4, 6, 18, 0, tzinfo=UTC)]


async def test_after_the_meeting_the_organizer_is_asked_once(core):
    people = await make_engagement(core)
    await schedule(core, people["victor"], SYNC)
    core.clock.set(datetime(2027, 1, 5, 10, 30, tzinfo=UTC))  # the end
    await core.drain()
    await core.drain()
    core.clock.set(datetime(2027, 1, 5, 11, 30, tzinfo=UTC))
    await core.drain()
    [asked] = dms(core, "victor", "What was decided at Weekly sync?")
    [button] = asked.card.buttons
    first = (await occurrences(core))[0]
    assert (button.label, button.action_id, button.value) == (
        "Record decisions and action items",
        "decision.minutes",
        str(first.id),
    )
    assert dms(core, "dev", "What was decided") == []
    assert first.status == "ended"
    async with core.session_factory() as s:
        ended = list(await s.scalars(select(Timer).where(Timer.kind == "meeting.ended", Timer.status == "done")))
    assert len(ended) == 1


async def test_settings_shown_changed_by_admins_only_and_followed(core):
    people = await make_engagement(core)
    await schedule(core, people["victor"], SYNC)
    shown = reply_text(await run(core, people["dev"], "/meeting settings"))
    assert "1 day, 15 min before" in shown and "posted 1 h before" in shown
    assert "Only" in reply_text(await run(core, people["dev"], "/meeting settings agenda 30"))
    for bad in ("agenda soon", "reminders 1h,2h,3h,4h,5h,6h", "duration 2", "colour blue"):
        r = await run(core, people["victor"], f"/meeting settings {bad}")
        assert r.private[0].tone == "warning", bad
    r = await run(core, people["victor"], "/meeting settings agenda 2h")
    assert "posted 2 h before" in reply_text(r)
    [agenda_timer] = await pending(core, "meeting.agenda")
    assert agenda_timer.due_at == datetime(2027, 1, 5, 7, 30, tzinfo=UTC)
    async with core.session_factory() as s:
        audit = await s.scalar(select(AuditEntry).where(AuditEntry.action == "meeting_settings_changed"))
        assert audit.data == {"agenda_lead_minutes": 120}
    # Both sides' agendas follow it, so it is said in the home channel, by whom.
    await core.drain()
    said = [d for d in sent(core) if d.op == "post" and "meeting settings: changed by Victor" in d.card.title]
    assert len(said) == 1 and any(f.value == "posted 2 h before" for f in said[0].card.fields)


async def test_app_home_lists_the_next_two_weeks(core):
    people = await make_engagement(core)
    await schedule(core, people["victor"], SYNC)
    await schedule(core, people["carol"], "kickoff mar 1 10:00")  # beyond two weeks
    async with core.session_factory() as s:
        dev = await s.scalar(select(Person).where(Person.display_name == "Dev"))
        cards = [
            card
            for section in core.registry.home_sections
            for card in await section(s, core, dev)
            if card.title.startswith("Meetings")
        ]
    assert len(cards) == 1 and "ACME-MTG-1 · Weekly sync" in cards[0].text and "Kick-off" not in cards[0].text


async def test_a_series_cancelled_during_a_meeting_still_ends_that_meeting(core):
    people = await make_engagement(core)
    await schedule(core, people["victor"], SYNC)
    core.clock.set(datetime(2027, 1, 5, 10, 0, tzinfo=UTC))  # under way
    await core.drain()
    await run(core, people["victor"], "/meeting cancel 1")
    core.clock.set(datetime(2027, 1, 5, 10, 31, tzinfo=UTC))
    await core.drain()
    [occ] = await occurrences(core)
    assert occ.status == "ended" and (await meetings(core))[0].status == "cancelled"
    assert await pending(core, "meeting.agenda") == []  # and nothing planned after it
