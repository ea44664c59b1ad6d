"""The .ics invites, parsed back with icalendar; and the demo tables match migration 0003."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from bot.shared.ical import IcsDemo, Override, attachment, cancel, request

UTC = UTC
NOW = datetime(2027, 1, 4, 8, tzinfo=UTC)


def demo(**kw) -> IcsDemo:
    base = {
        "uid": "abc@cadence",
        "sequence": 0,
        "title": "Sprint demo (Acme)",
        "description": "ACME-DEMO-1",
        "start": datetime(2027, 1, 7, 20, tzinfo=UTC),
        "duration": timedelta(minutes=45),
        "zone": "America/New_York",
    }
    base.update(kw)
    return IcsDemo(**base)


def events(ics: bytes):
    cal = Calendar.from_ical(ics)
    return cal, list(cal.walk("VEVENT"))


def test_single_demo_request():
    cal, evs = events(request(demo(), NOW))
    assert str(cal["method"]) == "REQUEST" and str(cal["version"]) == "2.0"
    (ev,) = evs
    assert str(ev["uid"]) == "abc@cadence" and int(ev["sequence"]) == 0
    assert ev.decoded("dtstart") == datetime(2027, 1, 7, 15, tzinfo=ZoneInfo("America/New_York"))
    assert ev.decoded("dtend") - ev.decoded("dtstart") == timedelta(minutes=45)
    assert "RRULE" not in ev
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["America/New_York"]


def test_series_with_exception_and_moved_occurrence():
    d = demo(
        rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH",
        sequence=3,
        exdates=[datetime(2027, 1, 21, 20, tzinfo=UTC)],
        overrides=[
            Override(
                datetime(2027, 2, 4, 20, tzinfo=UTC),
                datetime(2027, 2, 5, 20, tzinfo=UTC),
                datetime(2027, 2, 5, 21, tzinfo=UTC),
            )
        ],
    )
    _cal, (master, moved) = events(request(d, NOW))
    assert master["rrule"].to_ical() == b"FREQ=WEEKLY;INTERVAL=2;BYDAY=TH"
    assert master["exdate"].dts[0].dt == datetime(2027, 1, 21, 15, tzinfo=ZoneInfo("America/New_York"))
    assert str(moved["uid"]) == str(master["uid"]) and int(moved["sequence"]) == 3
    assert moved.decoded("recurrence-id") == datetime(2027, 2, 4, 15, tzinfo=ZoneInfo("America/New_York"))
    assert moved.decoded("dtstart") == datetime(2027, 2, 5, 15, tzinfo=ZoneInfo("America/New_York"))


def test_cancellations():
    cal, (ev,) = events(cancel(demo(sequence=1), NOW))
    assert str(cal["method"]) == "CANCEL" and str(ev["status"]) == "CANCELLED" and int(ev["sequence"]) == 1
    occ = Override(
        datetime(2027, 1, 21, 20, tzinfo=UTC),
        datetime(2027, 1, 21, 20, tzinfo=UTC),
        datetime(2027, 1, 21, 21, tzinfo=UTC),
    )
    cal, (ev,) = events(cancel(demo(rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", sequence=2), NOW, occ))
    assert ev.decoded("recurrence-id") == datetime(2027, 1, 21, 15, tzinfo=ZoneInfo("America/New_York"))


def test_fixed_offset_zone_uses_utc_times():
    cal, (ev,) = events(request(demo(zone="UTC+05:45"), NOW))
    assert ev.decoded("dtstart") == datetime(2027, 1, 7, 20, tzinfo=UTC)
    assert not list(cal.walk("VTIMEZONE"))


def test_attachment_is_base64_calendar():
    att = attachment(request(demo(), NOW), filename="acme-demo-1.ics", title="Invite")
    assert att.mime == "text/calendar" and att.filename.endswith(".ics")
    import base64

    assert base64.b64decode(att.content_b64).startswith(b"BEGIN:VCALENDAR")


def test_demo_tables_match_migration(db_url):
    """Models and migration 0003 agree (autogenerate finds nothing to do for the demo tables)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from storage.models import Base

    mine = {"demos", "demo_occurrences", "demo_agenda_items", "demo_outcomes"}
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "include_name": lambda name, type_, parent: type_ != "table" or name in mine,
                },
            )
            diff = [d for d in compare_metadata(ctx, Base.metadata) if any(t in repr(d) for t in mine)]
    finally:
        engine.dispose()
    assert diff == []


async def test_invite_for_uid_serves_the_current_invite(core):
    from sqlalchemy import select

    from bot.features.demos.queries import invite_for_uid
    from storage.models.demos import Demo
    from tests.helpers import click, make_engagement, run

    people = await make_engagement(core)
    r = await run(core, people["carol"], "/demo schedule every other thursday at 3pm | Sprint demo")
    await click(core, people["carol"], "demo.confirm", r.private[0].buttons[0].value)
    async with core.session_factory() as s:
        uid = (await s.scalar(select(Demo))).uid
        name, ics = await invite_for_uid(s, uid, core.clock.now())
        assert name == "acme-demo-1.ics"
        cal, (ev,) = events(ics)
        assert str(cal["method"]) == "REQUEST" and str(ev["uid"]) == uid
        assert await invite_for_uid(s, "nope", core.clock.now()) is None
    await run(core, people["carol"], "/demo cancel 1 all")
    async with core.session_factory() as s:
        _, ics = await invite_for_uid(s, uid, core.clock.now())
        assert str(Calendar.from_ical(ics)["method"]) == "CANCEL"
