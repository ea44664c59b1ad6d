"""Reading demo times: zones, explicit zones, recurrence, refusals; RELATIVE_BASE is the injected now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.shared.when import WhenRefused, parse_when, split_when_title

NOW = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # Monday 08:00 UTC


def read(text: str, tz: str = "UTC", now: datetime = NOW):
    return parse_when(text, now=now, speaker_tz=tz)


@pytest.mark.parametrize(
    "tz, text, local",
    [
        ("Asia/Kolkata", "next thu 3pm", datetime(2027, 1, 7, 15, 0)),
        ("Asia/Kathmandu", "tomorrow 10:00", datetime(2027, 1, 5, 10, 0)),
        ("America/St_Johns", "thursday 15:30", datetime(2027, 1, 7, 15, 30)),
        ("Pacific/Auckland", "next thu 3pm", datetime(2027, 1, 7, 15, 0)),
        ("UTC", "14 jan 15:00", datetime(2027, 1, 14, 15, 0)),
        ("UTC", "2027-02-03 09:30", datetime(2027, 2, 3, 9, 30)),
        ("UTC", "14/01 15:00", datetime(2027, 1, 14, 15, 0)),
        ("UTC", "01/14 15:00", datetime(2027, 1, 14, 15, 0)),
        ("UTC", "fri 9:30am", datetime(2027, 1, 8, 9, 30)),
        ("UTC", "tomorrow at noon", datetime(2027, 1, 5, 12, 0)),
    ],
)
def test_read_in_speaker_zone(tz, text, local):
    u = read(text, tz)
    assert u.zone == tz and not u.explicit_zone and u.rrule is None
    assert u.start == local.replace(tzinfo=ZoneInfo(tz))


def test_relative_to_the_speakers_today():
    # 08:00 UTC Monday is already 21:00 Monday in Auckland: "tomorrow" there is Tuesday.
    assert read("tomorrow 10:00", "Pacific/Auckland").start.date().isoformat() == "2027-01-05"
    # ... and 18:00 Sunday? No: St John's is at 04:30 Monday; "tomorrow" is Tuesday too.
    assert read("tomorrow 10:00", "America/St_Johns").start.date().isoformat() == "2027-01-05"
    # Late Sunday UTC is already Monday in Kathmandu.
    sunday_night = datetime(2027, 1, 3, 22, 0, tzinfo=UTC)
    assert read("tomorrow 10:00", "Asia/Kathmandu", sunday_night).start.date().isoformat() == "2027-01-05"


def test_time_alone_is_its_next_occurrence():
    assert read("3pm", "UTC").start == datetime(2027, 1, 4, 15, tzinfo=ZoneInfo("UTC"))
    evening = datetime(2027, 1, 4, 17, 0, tzinfo=UTC)
    assert read("3pm", "UTC", evening).start == datetime(2027, 1, 5, 15, tzinfo=ZoneInfo("UTC"))


@pytest.mark.parametrize(
    "text, zone, offset",
    [
        ("tomorrow 10:00 Europe/Berlin", "Europe/Berlin", timedelta(hours=1)),
        ("next thu 3pm EST", "America/New_York", timedelta(hours=-5)),
        ("next thu 3pm PT", "America/Los_Angeles", timedelta(hours=-8)),
        ("14 jan 3pm pacific/auckland", "Pacific/Auckland", timedelta(hours=13)),
        ("next thu 15:00 UTC+5:45", "UTC+05:45", timedelta(hours=5, minutes=45)),
        ("next thu 15:00 GMT", "UTC", timedelta(0)),
    ],
)
def test_explicit_zone_wins_over_speaker(text, zone, offset):
    u = read(text, "Asia/Kolkata")
    assert u.explicit_zone and u.zone == zone
    assert u.start.utcoffset() == offset
    assert u.start.hour in (10, 15)


@pytest.mark.parametrize(
    "text, zone",
    [
        ("tomorrow 10:00 berlin", "Europe/Berlin"),
        ("3pm new york time", "America/New_York"),
        ("every thursday 15:00 Kolkata", "Asia/Kolkata"),
        ("next thu 3pm st johns", "America/St_Johns"),
    ],
)
def test_a_city_at_the_end_names_the_zone(text, zone):
    u = read(text, "UTC")
    assert u.zone == zone and u.explicit_zone and zone in u.note


def test_est_in_summer_means_new_york_local_time():
    u = read("jul 8 3pm EST", "UTC")
    assert u.start.utcoffset() == timedelta(hours=-4)  # EDT: what people mean by "EST" in July
    assert "America/New_York" in u.note


@pytest.mark.parametrize(
    "text, rule, first",
    [
        ("every 2 weeks on thursday 15:00", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", datetime(2027, 1, 7, 15)),
        ("every other thursday at 3pm", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", datetime(2027, 1, 7, 15)),
        ("every thursday 15:00", "FREQ=WEEKLY;INTERVAL=1;BYDAY=TH", datetime(2027, 1, 7, 15)),
        ("every second tue at 10:30", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", datetime(2027, 1, 5, 10, 30)),
        ("biweekly on fri 9am", "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", datetime(2027, 1, 8, 9)),
        ("every 3 weeks on monday 10:00", "FREQ=WEEKLY;INTERVAL=3;BYDAY=MO", datetime(2027, 1, 4, 10)),
        ("every monday 2am", "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO", datetime(2027, 1, 11, 2)),  # 02:00 today passed
        ("every other thursday at 15:00 starting jan 14", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", datetime(2027, 1, 14, 15)),
        ("every 2 weeks from next wed 11am", "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE", datetime(2027, 1, 6, 11)),
    ],
)
def test_recurrence(text, rule, first):
    u = read(text, "America/New_York")
    assert u.rrule == rule
    assert u.start == first.replace(tzinfo=ZoneInfo("America/New_York"))


def test_recurrence_with_zone_and_until():
    u = read("every thursday 15:00 Asia/Kolkata until mar 31", "UTC")
    assert u.zone == "Asia/Kolkata"
    assert u.rrule.startswith("FREQ=WEEKLY;INTERVAL=1;BYDAY=TH;UNTIL=20270331T")


@pytest.mark.parametrize(
    "text, why",
    [
        ("yesterday 3pm", "in the past"),
        ("today 2am", "in the past"),
        ("on the 5th 3pm", "no month"),
        ("the 21st at 15:00", "no month"),
        ("03/04 3pm", "could be 3 Apr or 4 Mar"),
        ("banana", "couldn't find a date or time"),
        ("blah blah", "couldn't find a date or time"),
        ("in 2 years", "more than a year ahead"),
        ("-5 hours", "in the past"),
        ("2 hours ago", "in the past"),
        ("tomorrow at 99pm", "“99pm” is not a time of day"),
        ("25:00 tomorrow", "“25:00” is not a time of day"),
        ("tomorrow at 25:30", "“25:30” is not a time of day"),
        ("tomorrow 10:75", "“10:75” is not a time of day"),
        ("feb 30 at 10:00", "“feb 30” is not a date"),
        ("31 apr 15:00", "“31 apr” is not a date"),
        ("2027-13-01 10:00", "no month 13"),
        ("next blursday at noon", "“blursday”"),
        ("tomorow 3pm", "“tomorow”"),
        ("next thursday", "no time of day"),
        ("thursday at 3", "no time of day"),
        ("next thu 3pm banana", "couldn't read"),
        ("3pm IST", "ambiguous"),
        ("3pm Europe/Berlin EST", "more than one time zone"),
        ("dec 5 2028 3pm", "more than a year"),
        ("mar 14 2:30am America/New_York", "does not exist"),
        ("nov 7 1:30am America/New_York", "happens twice"),
        ("every day 3pm", "repeat by weeks"),
        ("every month on the 1st 10:00", "repeat by weeks"),
        ("every thursday", "At what time"),
        ("every 3 thursday", "Every 3 what"),
        ("", "Tell me when"),
        ("every 2 weeks", "which day"),
    ],
)
def test_refusals_say_why(text, why):
    with pytest.raises(WhenRefused) as exc:
        read(text, "America/New_York")
    assert why in exc.value.message


def test_refusal_shows_how_it_was_read():
    with pytest.raises(WhenRefused) as exc:
        read("yesterday 3pm", "Asia/Kolkata")
    assert "Sun 3 Jan 2027 15:00 Asia/Kolkata" in exc.value.message


@pytest.mark.parametrize(
    "args, when, title",
    [
        ("next thu 3pm | Sprint 4 demo", "next thu 3pm", "Sprint 4 demo"),
        ('"Sprint 4 demo" next thu 3pm', "next thu 3pm", "Sprint 4 demo"),
        ("“Sprint 4 demo” next thu 3pm", "next thu 3pm", "Sprint 4 demo"),
        ('next thu 3pm "Sprint 4 demo"', "next thu 3pm", "Sprint 4 demo"),
        ("next thu 3pm", "next thu 3pm", None),
        ("every other thursday at 15:00 |", "every other thursday at 15:00", None),
    ],
)
def test_split_when_and_title(args, when, title):
    assert split_when_title(args) == (when, title)


@settings(max_examples=60, deadline=None)
@given(
    minutes=st.integers(min_value=0, max_value=60 * 24 * 300),
    tz=st.sampled_from(
        ["Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns", "Pacific/Auckland", "America/New_York", "UTC"]
    ),
)
def test_accepted_times_are_future_and_in_zone(minutes, tz):
    now = NOW + timedelta(minutes=minutes)
    for text in ("next thu 3pm", "tomorrow 10:00", "every other thursday at 15:00"):
        try:
            u = read(text, tz, now)
        except WhenRefused as exc:
            assert "exist" in exc.message or "twice" in exc.message
            continue
        assert u.start > now
        local = u.start.astimezone(ZoneInfo(tz))
        assert (local.hour, local.minute) in ((15, 0), (10, 0))
