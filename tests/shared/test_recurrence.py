"""Weekly series across DST changes: 15:00 local on both sides, in the pure expansion and through
the bot (occurrences materialised one after another, reminders at the right UTC instant)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar
from sqlalchemy import select

from bot.shared.recurrence import describe, next_occurrence, occurrences, validate_rule
from bot.shared.when import parse_when
from storage.models.demos import DemoOccurrence
from tests.helpers import advance, click, make_engagement, reply_text, run, sent

NY = ZoneInfo("America/New_York")
UTC = UTC


def test_spring_forward_keeps_local_time():
    start = datetime(2027, 3, 4, 15, tzinfo=NY)
    occ = list(occurrences("FREQ=WEEKLY;INTERVAL=1;BYDAY=TH", start, "America/New_York", limit=3))
    assert [o.hour for o in occ] == [15, 15, 15]
    assert [o.astimezone(UTC).hour for o in occ] == [20, 20, 19]  # DST starts Sun 14 Mar 2027


def test_fall_back_keeps_local_time():
    start = datetime(2027, 10, 28, 15, tzinfo=NY)
    occ = list(occurrences("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", start, "America/New_York", limit=2))
    assert [(o.month, o.day, o.hour) for o in occ] == [(10, 28, 15), (11, 11, 15)]
    assert [o.astimezone(UTC).hour for o in occ] == [19, 20]  # DST ends Sun 7 Nov 2027


def test_southern_hemisphere_and_half_hour_zones():
    start = datetime(2027, 4, 1, 15, tzinfo=ZoneInfo("Pacific/Auckland"))
    occ = list(occurrences("FREQ=WEEKLY;INTERVAL=1;BYDAY=TH", start, "Pacific/Auckland", limit=2))
    assert [o.hour for o in occ] == [15, 15] and occ[0].utcoffset() != occ[1].utcoffset()  # NZ DST ends 4 Apr
    start = datetime(2027, 3, 4, 15, tzinfo=ZoneInfo("America/St_Johns"))
    occ = list(occurrences("FREQ=WEEKLY;INTERVAL=1;BYDAY=TH", start, "America/St_Johns", limit=2))
    assert [o.hour for o in occ] == [15, 15]


def test_exclusions_until_and_next():
    start = datetime(2027, 1, 7, 15, tzinfo=UTC)
    rule = "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;UNTIL=20270205T000000Z"
    assert [o.day for o in occurrences(rule, start, "UTC")] == [7, 21, 4]
    assert [o.day for o in occurrences(rule, start, "UTC", exclude=[datetime(2027, 1, 21, 15, tzinfo=UTC)])] == [7, 4]
    assert next_occurrence(rule, start, "UTC", after=datetime(2027, 1, 7, 15, tzinfo=UTC)).day == 21
    assert describe(rule) == "every 2 weeks on Thursday until 5 Feb 2027"


def test_only_our_rules_are_accepted():
    for bad in ("FREQ=SECONDLY", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;COUNT=100000", "FREQ=DAILY"):
        try:
            validate_rule(bad)
        except ValueError:
            continue
        raise AssertionError(bad)


def test_parsed_series_crosses_dst():
    u = parse_when("every thursday 15:00", now=datetime(2027, 3, 1, 12, tzinfo=UTC), speaker_tz="America/New_York")
    occ = list(occurrences(u.rrule, u.start, u.zone, limit=3))
    assert [o.strftime("%d %H:%M %z") for o in occ] == ["04 15:00 -0500", "11 15:00 -0500", "18 15:00 -0400"]


async def test_series_through_the_bot_across_dst(core, clock):
    clock.set(datetime(2027, 3, 1, 12, tzinfo=UTC))  # Mon 1 Mar 2027
    people = await make_engagement(core)
    r = await run(core, people["carol"], "/demo schedule every thursday 15:00 | Weekly demo")
    assert "every Thursday" in reply_text(r) and "Thu 11 Mar 15:00" in reply_text(r)
    button = next(b for b in r.private[0].buttons if b.action_id == "demo.confirm")
    await click(core, people["carol"], "demo.confirm", button.value)
    await core.drain()
    invite = next(d for d in sent(core) if "Demo scheduled" in d.text)
    ev = next(iter(Calendar.from_ical(base64.b64decode(invite.card.attachments[0].content_b64)).walk("VEVENT")))
    assert ev.decoded("dtstart") == datetime(2027, 3, 4, 15, tzinfo=NY)
    assert str(ev["dtstart"].params["TZID"]) == "America/New_York"
    assert ev["rrule"].to_ical() == b"FREQ=WEEKLY;INTERVAL=1;BYDAY=TH"

    async def hour_reminders():
        return [d for d in sent(core) if "Demo in 1 hour" in d.text]

    # Thu 4 Mar 19:00 UTC = 14:00 EST: one hour before.
    clock.set(datetime(2027, 3, 4, 19, 0, tzinfo=UTC))
    await core.drain()
    assert len(await hour_reminders()) == 1
    clock.set(datetime(2027, 3, 4, 21, 0, tzinfo=UTC))  # ended: outcome asked, next one materialised
    await core.drain()
    clock.set(datetime(2027, 3, 11, 19, 0, tzinfo=UTC))
    await core.drain()
    assert len(await hour_reminders()) == 2
    clock.set(datetime(2027, 3, 11, 21, 0, tzinfo=UTC))
    await core.drain()
    # After the change to EDT, 14:00 local is 18:00 UTC.
    clock.set(datetime(2027, 3, 18, 17, 59, tzinfo=UTC))
    await core.drain()
    assert len(await hour_reminders()) == 2
    clock.set(datetime(2027, 3, 18, 18, 0, tzinfo=UTC))
    await core.drain()
    assert len(await hour_reminders()) == 3
    async with core.session_factory() as s:
        starts = [o.starts_at for o in await s.scalars(select(DemoOccurrence).order_by(DemoOccurrence.starts_at))]
    assert [st.astimezone(NY).strftime("%d %H:%M") for st in starts] == ["04 15:00", "11 15:00", "18 15:00"]


async def test_cancel_one_occurrence_then_the_series(core):
    people = await make_engagement(core)
    r = await run(core, people["carol"], "/demo schedule every other thursday at 3pm | Sprint demo")
    await click(core, people["carol"], "demo.confirm", r.private[0].buttons[0].value)
    r = await run(core, people["carol"], "/demo cancel 1")
    assert "continues Thu 21 Jan" in reply_text(r)
    await core.drain()
    cancel = next(d for d in sent(core) if "Demo cancelled" in d.text)
    cal = Calendar.from_ical(base64.b64decode(cancel.card.attachments[0].content_b64))
    ev = next(iter(cal.walk("VEVENT")))
    assert str(cal["method"]) == "CANCEL" and ev.decoded("recurrence-id") == datetime(2027, 1, 7, 15, tzinfo=NY)
    listing = reply_text(await run(core, people["carol"], "/demo list"))
    assert "Thu 21 Jan 2027 15:00 America/New_York" in listing
    await advance(core, days=4)  # past 7 Jan: nothing fires for the cancelled occurrence
    assert not [d for d in sent(core) if "Demo in 1 hour" in d.text or "How did" in d.text]
    r = await run(core, people["carol"], "/demo cancel 1 all")
    assert "whole series" in reply_text(r)
    await advance(core, days=30)
    assert not [d for d in sent(core) if "Demo tomorrow" in d.text or "Demo in 1 hour" in d.text]
