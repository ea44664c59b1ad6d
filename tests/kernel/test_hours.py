"""Working hours rules (bot/kernel/hours.py) on plain people, across zones: the window of a day, why a slot is
outside someone's hours, the suggestion, the overlap of both sides (quarter- and half-hour zones, a DST change,
a weekend and a holiday)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.kernel import hours
from bot.kernel.errors import UserError
from bot.kernel.people import WORKING_HOURS
from bot.kernel.text import strip_tokens
from storage.models import Absence, Person

_ids = iter(range(1, 10_000))


def person(name: str, tz: str, *, days=(0, 1, 2, 3, 4), start=None, end=None, country=None, away=()) -> Person:
    p = Person(
        id=next(_ids),
        display_name=name,
        tz=tz,
        tz_source="user",
        work_days=list(days),
        country=country,
        work_start_minute=start,
        work_end_minute=end,
        identities=[],
        absences=[],
    )
    for a, b in away:
        p.absences.append(Absence(start=a, end=b))
    return p


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def hm(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def local(dt: datetime, tz: str) -> str:
    return f"{dt.astimezone(ZoneInfo(tz)):%a %H:%M}"


# -- parsing -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("10:00-19:00", ("10:00", "19:00")),
        ("10am-7pm", ("10:00", "19:00")),
        ("9:30 - 18:30", ("09:30", "18:30")),
        ("8.45–17.15", ("08:45", "17:15")),
        ("9 to 5pm", ("09:00", "17:00")),
        ("12pm-8pm", ("12:00", "20:00")),
        ("10:00-24:00", ("10:00", "24:00")),
    ],
)
def test_hours_are_read_in_the_usual_ways(typed, expected):
    start, end = hours.parse_hours(typed)
    assert (hours.clock(start), hours.clock(end)) == expected


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("18:00-09:00", "not after the start"),
        ("22:00-06:00", "overnight window (22:00–06:00) isn't supported"),
        ("25:00-26:00", "“25:00” is not a time of day"),
        ("09:75-18:00", "“09:75” is not a time of day"),
        ("13pm-5pm", "“13pm” is not a time of day"),
        ("09:00-09:45", "shorter than an hour"),
        ("06:00-23:00", "longer than 16 hours"),
        ("whenever", "can't read"),
        ("", "can't read"),
    ],
)
def test_impossible_hours_are_refused(typed, why):
    with pytest.raises(UserError) as refused:
        hours.parse_hours(typed)
    assert why in refused.value.message
    assert "Nothing was changed" in refused.value.message


# -- a person's window -----------------------------------------------------------------------------------------
def test_the_default_window_is_the_constant_in_the_person_zone():
    dev = person("Dev", "Asia/Kathmandu")
    start, end = hours.window(dev, date(2027, 1, 4))
    assert (start.time(), end.time()) == WORKING_HOURS
    assert start.astimezone(UTC) == utc(2027, 1, 4, 3, 15)  # +05:45
    assert hours.hours_text(dev) == "09:00–18:00"


def test_no_window_on_a_day_off_a_holiday_or_out_of_office():
    victor = person("Victor", "Asia/Kolkata", country="IN", away=[(date(2027, 1, 6), date(2027, 1, 7))])
    assert hours.window(victor, date(2027, 1, 9)) is None  # Saturday
    assert hours.window(victor, date(2027, 1, 26)) is None  # Republic Day
    assert hours.window(victor, date(2027, 1, 6)) is None  # out of office
    assert hours.window(victor, date(2027, 1, 5)) is not None


def test_own_hours_across_a_dst_change():
    carol = person("Carol", "America/New_York", start=hm("10:00"), end=hm("19:00"))
    before = hours.window(carol, date(2027, 3, 12))  # Friday, EST
    after = hours.window(carol, date(2027, 3, 15))  # Monday, EDT
    assert before[0].astimezone(UTC) == utc(2027, 3, 12, 15)
    assert after[0].astimezone(UTC) == utc(2027, 3, 15, 14)
    assert f"{after[0]:%H:%M}" == "10:00"


# -- a slot --------------------------------------------------------------------------------------------------
def test_a_slot_outside_names_the_local_time_and_why():
    victor = person("Victor", "Asia/Kolkata", country="IN")
    carol = person("Carol", "America/New_York")
    friday_3pm_ny = utc(2027, 1, 8, 20)  # Sat 01:30 in Kolkata
    assert hours.outside_of(carol, friday_3pm_ny, 60) is None
    o = hours.outside_of(victor, friday_3pm_ny, 60)
    assert (o.local, o.reason) == ("Sat 01:30 Asia/Kolkata", "their day off (Saturday)")
    thursday = utc(2027, 1, 7, 20)  # Fri 01:30 Kolkata: a work day, before their hours
    o = hours.outside_of(victor, thursday, 60)
    assert (o.local, o.reason) == ("Fri 01:30 Asia/Kolkata", "before their working hours (09:00–18:00)")
    evening = utc(2027, 1, 7, 12)  # Thu 17:30 Kolkata: the hour runs past 18:00
    assert hours.outside_of(victor, evening, 60).reason == "after their working hours (09:00–18:00)"
    assert hours.outside_of(victor, evening, 30) is None
    republic_day = utc(2027, 1, 26, 6)
    assert hours.outside_of(victor, republic_day, 60).reason == "a public holiday: Republic Day"
    victor.absences.append(Absence(start=date(2027, 1, 27), end=date(2027, 1, 27)))
    assert hours.outside_of(victor, utc(2027, 1, 27, 6), 60).reason == "out of office"


def test_the_suggestion_is_the_nearest_start_inside_everyone_hours():
    carol = person("Carol", "America/New_York")  # 14:00–23:00 UTC
    lena = person("Lena", "Europe/Berlin")  # 08:00–17:00 UTC
    now = utc(2027, 1, 4, 8)
    start = utc(2027, 1, 5, 19)  # Tue 14:00 NY, 20:00 Berlin
    suggestion, fits = hours.suggest([carol, lena], start, 60, now=now)
    # The latest hour both share is 16:00–17:00 UTC: three hours earlier.
    assert (suggestion, fits) == (utc(2027, 1, 5, 16), True)


def test_the_suggestion_is_never_in_the_past():
    carol = person("Carol", "America/New_York")
    lena = person("Lena", "Europe/Berlin")
    now = utc(2027, 1, 5, 18)
    suggestion, fits = hours.suggest([carol, lena], utc(2027, 1, 5, 19), 60, now=now)
    assert fits and suggestion == utc(2027, 1, 6, 14)  # Wednesday 09:00 New York


def test_no_shared_hour_gives_the_best_compromise():
    carol = person("Carol", "America/New_York")  # 14:00–23:00 UTC
    victor = person("Victor", "Asia/Kolkata")  # 03:30–12:30 UTC
    lena = person("Lena", "Europe/Berlin")  # 08:00–17:00 UTC
    now = utc(2027, 1, 4, 8)
    start = utc(2027, 1, 5, 23)  # inside nobody's hours
    suggestion, fits = hours.suggest([carol, victor, lena], start, 60, now=now)
    assert not fits
    assert sum(hours.outside_of(p, suggestion, 60) is not None for p in (carol, victor, lena)) == 1
    assert suggestion == utc(2027, 1, 5, 16)  # the nearest hour with only one outside (Victor)


def test_nothing_better_nearby_gives_no_suggestion():
    carol = person("Carol", "America/New_York", away=[(date(2026, 12, 20), date(2027, 1, 20))])  # away for weeks
    suggestion, fits = hours.suggest([carol], utc(2027, 1, 5, 15), 60, now=utc(2027, 1, 4))
    assert (suggestion, fits) == (None, False)


def test_warning_fields_name_people_and_write_the_suggestion_for_each_reader():
    victor = person("Victor", "Asia/Kolkata")
    o = hours.outside_of(victor, utc(2027, 1, 7, 20), 60)
    check = hours.SlotCheck(
        start=utc(2027, 1, 7, 20), minutes=60, outside=(o,), suggestion=utc(2027, 1, 8, 4), suggestion_fits_all=True
    )
    fields = hours.warning_fields(check)
    text = "\n".join(f"{f.label}: {f.value}" for f in fields)
    assert "Victor — Fri 01:30 Asia/Kolkata: before their working hours (09:00–18:00)" in text
    assert "inside everyone's working hours" in text
    assert "\ue000time:" in text  # a when() token: each reader sees their own time
    shown = strip_tokens(text, lambda kind, value, extra: f"@{value}")
    assert f"@{int(utc(2027, 1, 8, 4).timestamp())}" in shown
    compromise = hours.SlotCheck(check.start, 60, (o,), utc(2027, 1, 8, 4), False)
    assert "best compromise" in "\n".join(f.value for f in hours.warning_fields(compromise))
    assert hours.warning_fields(hours.SlotCheck(check.start, 60, (), None, True)) == []


# -- overlap -------------------------------------------------------------------------------------------------
def sides(client, vendor):
    return {"client": tuple(client), "vendor": tuple(vendor)}


NY = ZoneInfo("America/New_York")


def test_new_york_and_kolkata_have_no_overlap_at_default_hours():
    carol = person("Carol", "America/New_York")
    victor = person("Victor", "Asia/Kolkata")
    found = hours.overlap(sides([carol], [victor]), date(2027, 1, 4), NY)
    assert found.windows == ()
    # Kolkata's day ends 12:30 UTC (07:30 New York), New York's starts 14:00 UTC: 1 h 30 min apart.
    assert found.gap == (utc(2027, 1, 4, 12, 30), utc(2027, 1, 4, 14))
    assert found.closest is not None and len(found.missing) == 1


def test_new_york_and_berlin_overlap_three_hours():
    carol = person("Carol", "America/New_York")
    lena = person("Lena", "Europe/Berlin")
    found = hours.overlap(sides([carol], [lena]), date(2027, 1, 4), NY)
    assert found.windows == ((utc(2027, 1, 4, 14), utc(2027, 1, 4, 17)),)
    assert [local(t, "America/New_York") for t in found.windows[0]] == ["Mon 09:00", "Mon 12:00"]
    assert found.closest is None and found.gap is None


def test_kathmandu_and_st_johns_edges_at_quarter_and_half_hours():
    dev = person("Dev", "Asia/Kathmandu")  # +05:45: 03:15–12:15 UTC
    quinn = person("Quinn", "America/St_Johns")  # -03:30: 12:30–21:30 UTC
    found = hours.overlap(sides([quinn], [dev]), date(2027, 1, 4), ZoneInfo("America/St_Johns"))
    assert found.windows == ()
    assert found.gap == (utc(2027, 1, 4, 12, 15), utc(2027, 1, 4, 12, 30))  # a quarter of an hour apart
    quinn.work_start_minute, quinn.work_end_minute = hm("08:00"), hm("17:00")  # 11:30–20:30 UTC
    found = hours.overlap(sides([quinn], [dev]), date(2027, 1, 4), ZoneInfo("America/St_Johns"))
    assert found.windows == ((utc(2027, 1, 4, 11, 30), utc(2027, 1, 4, 12, 15)),)
    s, e = found.windows[0]
    assert (local(s, "Asia/Kathmandu"), local(e, "Asia/Kathmandu")) == ("Mon 17:15", "Mon 18:00")
    assert (local(s, "America/St_Johns"), local(e, "America/St_Johns")) == ("Mon 08:00", "Mon 08:45")


def test_a_dst_change_day_moves_the_overlap():
    # Both work every day: Sunday 14 March 2027 New York springs forward, Berlin not until the 28th.
    every = range(7)
    carol = person("Carol", "America/New_York", days=every)
    lena = person("Lena", "Europe/Berlin", days=every)
    saturday = hours.overlap(sides([carol], [lena]), date(2027, 3, 13), NY)
    sunday = hours.overlap(sides([carol], [lena]), date(2027, 3, 14), NY)
    assert saturday.windows == ((utc(2027, 3, 13, 14), utc(2027, 3, 13, 17)),)  # NY 09:00–12:00 EST
    assert sunday.windows == ((utc(2027, 3, 14, 13), utc(2027, 3, 14, 17)),)  # NY 09:00–13:00 EDT
    assert [local(t, "America/New_York") for t in sunday.windows[0]] == ["Sun 09:00", "Sun 13:00"]
    assert sunday.end - sunday.start == timedelta(hours=23)  # the asker's short day


def test_a_weekend_or_a_holiday_for_one_side():
    carol = person("Carol", "America/New_York", days=(0, 1, 2, 3, 4, 5))  # works Saturdays too
    lena = person("Lena", "Europe/Berlin")
    saturday = hours.overlap(sides([carol], [lena]), date(2027, 1, 9), NY)
    assert saturday.windows == () and saturday.gap is None
    assert saturday.closest == (utc(2027, 1, 9, 14), utc(2027, 1, 9, 23))
    assert [(o.person.display_name, o.reason) for o in saturday.missing] == [("Lena", "their day off (Saturday)")]

    victor = person("Victor", "Asia/Kolkata", country="IN")
    alice = person("Alice", "Europe/London")
    republic_day = hours.overlap(sides([alice], [victor]), date(2027, 1, 26), ZoneInfo("Europe/London"))
    assert republic_day.windows == ()
    assert [(o.person.display_name, o.reason) for o in republic_day.missing] == [
        ("Victor", "a public holiday: Republic Day")
    ]


def test_several_people_a_side_all_count():
    alice = person("Alice", "Europe/London")  # 09:00–18:00 UTC
    carol = person("Carol", "America/New_York")  # 14:00–23:00 UTC
    lena = person("Lena", "Europe/Berlin")  # 08:00–17:00 UTC
    found = hours.overlap(sides([alice, carol], [lena]), date(2027, 1, 4), ZoneInfo("Europe/London"))
    assert found.windows == ((utc(2027, 1, 4, 14), utc(2027, 1, 4, 17)),)
    victor = person("Victor", "Asia/Kolkata")  # 03:30–12:30 UTC
    found = hours.overlap(sides([alice, carol], [lena, victor]), date(2027, 1, 4), ZoneInfo("Europe/London"))
    assert found.windows == ()
    # Three of four at work twice: 09:00–12:30 UTC (Carol not yet) and 14:00–17:00 (Victor gone); the longer wins.
    assert found.closest == (utc(2027, 1, 4, 9), utc(2027, 1, 4, 12, 30))
    assert [(o.person.display_name, o.local, o.reason) for o in found.missing] == [
        ("Carol", "Mon 04:00 America/New_York", "before their working hours (09:00–18:00)")
    ]
