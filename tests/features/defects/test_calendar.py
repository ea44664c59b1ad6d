"""Business-hours arithmetic: exact to the minute across weekends, holidays, nights and DST."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.features.defects.calendar import AroundTheClock, BusinessHours

UTC = UTC
BERLIN = ZoneInfo("Europe/Berlin")
NY = ZoneInfo("America/New_York")
H = timedelta(hours=1)


def at(y, mo, d, h=0, mi=0, tz=UTC):
    return datetime(y, mo, d, h, mi, tzinfo=tz)


def test_within_one_day():
    cal = BusinessHours(tz="Europe/Berlin")
    # Mon 2027-01-04 10:00 Berlin + 4 business hours = 14:00 Berlin.
    assert cal.add(at(2027, 1, 4, 10, tz=BERLIN), 4 * H) == at(2027, 1, 4, 14, tz=BERLIN)
    assert cal.elapsed(at(2027, 1, 4, 10, tz=BERLIN), at(2027, 1, 4, 14, tz=BERLIN)) == 4 * H


def test_overnight_span():
    cal = BusinessHours(tz="Europe/Berlin")
    # Tue 16:30 + 8h: 1h30 today, 6h30 tomorrow from 09:00 = Wed 15:30.
    start = at(2027, 1, 5, 16, 30, tz=BERLIN)
    assert cal.add(start, 8 * H) == at(2027, 1, 6, 15, 30, tz=BERLIN)
    # Filed at night: the clock starts at 09:00.
    assert cal.add(at(2027, 1, 5, 23, 10, tz=BERLIN), 30 * timedelta(minutes=1)) == at(2027, 1, 6, 9, 30, tz=BERLIN)
    assert cal.elapsed(at(2027, 1, 5, 18, tz=BERLIN), at(2027, 1, 6, 9, tz=BERLIN)) == timedelta(0)
    assert cal.elapsed(start, at(2027, 1, 6, 15, 30, tz=BERLIN)) == 8 * H


def test_across_a_weekend():
    cal = BusinessHours(tz="America/New_York")
    # Fri 2027-01-08 15:00 NY + 8h: 3h Fri, 5h Mon → Mon 14:00.
    assert cal.add(at(2027, 1, 8, 15, tz=NY), 8 * H) == at(2027, 1, 11, 14, tz=NY)
    # Filed on Saturday: counts from Monday 09:00.
    assert cal.add(at(2027, 1, 9, 12, tz=NY), 2 * H) == at(2027, 1, 11, 11, tz=NY)
    assert cal.elapsed(at(2027, 1, 8, 17, tz=NY), at(2027, 1, 11, 10, tz=NY)) == 2 * H


def test_holiday_is_skipped():
    # 2027-01-01 (Fri) New Year's Day in Germany; Thu 2026-12-31 17:00 + 2h → Mon 2027-01-04 10:00.
    cal = BusinessHours(tz="Europe/Berlin", country="DE")
    assert cal.add(at(2026, 12, 31, 17, tz=BERLIN), 2 * H) == at(2027, 1, 4, 10, tz=BERLIN)
    # Without the country the Friday counts.
    plain = BusinessHours(tz="Europe/Berlin")
    assert plain.add(at(2026, 12, 31, 17, tz=BERLIN), 2 * H) == at(2027, 1, 1, 10, tz=BERLIN)
    # A subdivision's holiday: Epiphany (Jan 6) in Bavaria, not in Berlin state.
    by = BusinessHours(tz="Europe/Berlin", country="DE-BY")
    assert by.elapsed(at(2027, 1, 6, 0, tz=BERLIN), at(2027, 1, 7, 0, tz=BERLIN)) == timedelta(0)
    assert cal.elapsed(at(2027, 1, 6, 0, tz=BERLIN), at(2027, 1, 7, 0, tz=BERLIN)) == 9 * H


def test_dst_switch_with_easter_holidays():
    """Berlin, Easter 2027: Good Friday 26 Mar and Easter Monday 29 Mar are holidays; clocks go
    forward on Sunday 28 Mar. Thu 17:00 CET + 8 business hours = Tue 16:00 CEST (14:00 UTC), not the
    15:00 UTC a naive UTC calculation would give."""
    cal = BusinessHours(tz="Europe/Berlin", country="DE")
    start = at(2027, 3, 25, 17, tz=BERLIN)
    assert start == at(2027, 3, 25, 16)  # CET = UTC+1
    due = cal.add(start, 8 * H)
    assert due == at(2027, 3, 30, 16, tz=BERLIN)
    assert due == at(2027, 3, 30, 14)  # CEST = UTC+2
    assert cal.elapsed(start, due) == 8 * H


def test_dst_autumn_new_york():
    # NY falls back on Sun 2027-11-07. Fri 2027-11-05 17:00 EDT + 2h → Mon 10:00 EST = 15:00 UTC.
    cal = BusinessHours(tz="America/New_York", country="US")
    due = cal.add(at(2027, 11, 5, 17, tz=NY), 2 * H)
    assert due == at(2027, 11, 8, 10, tz=NY) == at(2027, 11, 8, 15)


def test_24x7_is_real_elapsed_time_across_dst():
    cal = AroundTheClock()
    start = at(2027, 3, 27, 12, tz=BERLIN)
    # 24 real hours later the Berlin wall clock shows 13:00 (an hour was skipped).
    assert cal.add(start, 24 * H) == at(2027, 3, 28, 13, tz=BERLIN)
    assert cal.elapsed(start, at(2027, 3, 28, 13, tz=BERLIN)) == 24 * H


def test_five_business_days_is_forty_five_hours():
    cal = BusinessHours(tz="UTC")
    assert cal.day_length() == 9 * H
    # Mon 10:00 + 5 business days (45h) = next Mon 10:00.
    assert cal.add(at(2027, 1, 4, 10), 45 * H) == at(2027, 1, 11, 10)


def test_window_running_overnight():
    # A night-shift desk 22:00–06:00 Mon–Fri nights (the window belongs to the day it opens).
    cal = BusinessHours(tz="UTC", start=time(22), end=time(6))
    assert cal.add(at(2027, 1, 4, 23), 3 * H) == at(2027, 1, 5, 2)
    # Friday night's window runs into Saturday morning; Saturday night has none.
    assert cal.add(at(2027, 1, 9, 5), 2 * H) == at(2027, 1, 11, 23)


def test_errors():
    with pytest.raises(ValueError):
        BusinessHours(tz="Not/AZone")
    with pytest.raises(ValueError):
        BusinessHours(weekdays=frozenset())
    with pytest.raises(ValueError):
        BusinessHours(country="XX")
    with pytest.raises(ValueError):
        BusinessHours().add(datetime(2027, 1, 4, 9), H)  # naive


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)),
    minutes=st.integers(min_value=0, max_value=60 * 24 * 20),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney"]),
    country=st.sampled_from([None, "DE", "US", "IN"]),
)
def test_add_and_elapsed_agree(start, minutes, zone, country):
    cal = BusinessHours(tz=zone, country=country)
    duration = timedelta(minutes=minutes)
    due = cal.add(start, duration)
    assert due >= start
    assert cal.elapsed(start, due) == duration
    # No earlier instant reaches the same business time: the minute before is short of it.
    if minutes:
        assert cal.elapsed(start, due - timedelta(minutes=1)) < duration
