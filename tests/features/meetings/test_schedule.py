"""Scheduling meetings on the controlled clock (Mon 4 Jan 2027 08:00 UTC): the confirmation ("here is how I read
it"), one meeting per draft however often Confirm is pressed, the announcement with its invite, kinds and their
default titles, a sync on a bare weekday read as weekly, monthly reviews, the form, and refusals that save
nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from storage.models.meetings import Meeting
from tests.features.meetings.support import calendar, confirm_value, meetings, posts, schedule
from tests.helpers import click, make_engagement, reply_text, run, submit


async def test_confirm_card_then_one_meeting_for_two_confirms(core):
    people = await make_engagement(core)
    reply = await run(core, people["victor"], "/meeting schedule every tuesday 15:00 | Weekly sync")
    text = reply_text(reply)
    # Victor is in Kolkata; the card shows the meeting's zone, each member's zone and the rhythm.
    assert "Tue 5 Jan 2027 15:00 Asia/Kolkata (UTC+05:30)" in text
    assert "Tue 5 Jan 2027 09:30 Europe/London (engagement)" in text
    assert "Tue 5 Jan 2027 15:15 Asia/Kathmandu" in text and "Tue 5 Jan 2027 06:00 America/St_Johns" in text
    assert "every Tuesday at 15:00 Asia/Kolkata" in text
    assert "Nothing is saved until you confirm" in reply.private[0].footer
    assert await meetings(core) == []
    value = confirm_value(reply)
    first = await click(core, people["victor"], "meeting.confirm", value)
    second = await click(core, people["victor"], "meeting.confirm", value)
    assert "Scheduled ACME-MTG-1: Weekly sync" in reply_text(first)
    assert "saved already" in reply_text(second)
    await core.drain()
    [meeting] = await meetings(core)
    assert (meeting.kind, meeting.rrule) == ("sync", "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU")
    [announce] = posts(core, "Meeting scheduled: Weekly sync")
    cal = calendar(announce)
    assert str(cal["method"]) == "REQUEST"
    event = next(iter(cal.walk("VEVENT")))
    assert event.decoded("dtstart") == datetime(2027, 1, 5, 9, 30, tzinfo=UTC)
    assert "FREQ=WEEKLY" in event["rrule"].to_ical().decode()
    assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Kolkata"]


async def test_discard_saves_nothing(core):
    people = await make_engagement(core)
    await run(core, people["carol"], "/meeting schedule tomorrow 10:00")
    r = await click(core, people["carol"], "meeting.discard", "")
    assert "Not saved" in reply_text(r)
    assert await meetings(core) == []


async def test_a_sync_on_a_bare_weekday_is_weekly_and_says_so(core):
    people = await make_engagement(core)
    reply = await run(core, people["carol"], "/meeting schedule monday 11:00")
    text = reply_text(reply)
    assert "is read as every week" in text and "every Monday at 11:00 America/New_York" in text
    assert "Weekly sync" in text  # the default title of a sync
    await click(core, people["carol"], "meeting.confirm", confirm_value(reply))
    [meeting] = await meetings(core)
    assert meeting.rrule == "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO" and meeting.title == "Weekly sync"
    # Another kind on a bare weekday is a one-off, as everywhere else.
    other = await run(core, people["carol"], "/meeting schedule other monday 11:00 | Vendor check-in")
    assert "Repeats" not in reply_text(other)


async def test_kinds_default_titles_and_monthly_review(core):
    people = await make_engagement(core)
    await schedule(core, people["carol"], "monthly review first tuesday of the month 15:00")
    await schedule(core, people["victor"], "kickoff thu 10:00")
    await schedule(core, people["alice"], "other every other thursday 16:00 | Architecture")
    review, kickoff, other = await meetings(core)
    assert (review.kind, review.title, review.rrule) == ("review", "Monthly review", "FREQ=MONTHLY;BYDAY=1TU")
    assert review.start_at == datetime(2027, 1, 5, 20, 0, tzinfo=UTC)  # 15:00 New York
    assert (kickoff.kind, kickoff.title, kickoff.rrule) == ("kickoff", "Kick-off", None)
    assert (other.kind, other.title, other.rrule) == ("other", "Architecture", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH")
    assert [m.number for m in (review, kickoff, other)] == [1, 2, 3]
    assert "every month on the first Tuesday" in reply_text(await run(core, people["dev"], "/meeting list"))


async def test_list_shows_the_next_occurrence_of_each(core):
    people = await make_engagement(core)
    await schedule(core, people["victor"], "every tuesday 15:00 | Weekly sync")
    await schedule(core, people["carol"], "review last friday of the month 10:00")
    r = await run(core, people["quinn"], "/meeting list")
    lines = reply_text(r).splitlines()
    assert any(line.startswith("ACME-MTG-1 · Weekly sync — next") for line in lines)
    assert any("ACME-MTG-2 · Monthly review" in line and "last Friday" in line for line in lines)


async def test_the_form_reads_like_the_command(core):
    people = await make_engagement(core)
    opened = await run(core, people["lena"], "/meeting new")
    assert opened.form is not None and opened.form.form_id == "meeting.new"
    bad = await submit(core, people["lena"], "meeting.new", {"kind": "party", "when": "", "duration": "2"})
    assert set(bad.errors) == {"kind", "when", "duration"}
    refused = await submit(core, people["lena"], "meeting.new", {"kind": "sync", "when": "yesterday 3pm"})
    assert "past" in refused.errors["when"]
    ok = await submit(
        core, people["lena"], "meeting.new", {"kind": "review", "when": "last friday of the month 10:00", "title": ""}
    )
    assert "Monthly review" in reply_text(ok) and "every month on the last Friday" in reply_text(ok)
    await click(core, people["lena"], "meeting.confirm", confirm_value(ok))
    [meeting] = await meetings(core)
    assert meeting.kind == "review" and meeting.tz == "Asia/Kolkata"


async def test_refusals_and_forged_confirmations_change_nothing(core):
    people = await make_engagement(core)
    for text, why in [
        ("yesterday 3pm", "past"),
        ("every month on the 15th 10:00 | Sync", "weekday of the month"),
        ("every day 9:00 | Sync", "repeats by weeks"),
        ("mar 14 2:30am America/New_York", "does not exist"),
        ("first tuesday of the month 25:00", "time"),
    ]:
        r = await run(core, people["carol"], f"/meeting schedule {text}")
        assert r.private and r.private[0].tone == "warning" and why in reply_text(r), (text, reply_text(r))
    for forged in ("nonsense", '{"op":"new","start":"2027-01-05T10:00","tz":"UTC"}', '{"op":"drop"}'):
        r = await click(core, people["carol"], "meeting.confirm", forged)
        assert "not valid" in reply_text(r)
    bad_rule = '{"op":"new","start":"2027-01-05T10:00:00+00:00","tz":"UTC","rrule":"FREQ=SECONDLY"}'
    assert "not valid" in reply_text(await click(core, people["carol"], "meeting.confirm", bad_rule))
    async with core.session_factory() as s:
        assert (await s.get(Meeting, 1)) is None
