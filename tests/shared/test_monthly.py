"""Monthly rules by weekday (meetings: "first tuesday of the month 15:00"): read, expanded across DST in the
series' own zone, described, validated — and still refused where a caller wants weekly series only (demos)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.shared.recurrence import describe, is_monthly, occurrences, validate_rule, with_weekday
from bot.shared.when import WhenRefused, parse_when

NOW = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # Mon 4 Jan 2027


@pytest.mark.parametrize(
    ("text", "rule", "first"),
    [
        ("first tuesday of the month 15:00", "FREQ=MONTHLY;BYDAY=1TU", datetime(2027, 1, 5, 15, 0)),
        ("last friday of the month 10:00", "FREQ=MONTHLY;BYDAY=-1FR", datetime(2027, 1, 29, 10, 0)),
        ("every month on the 2nd tuesday at 9:00", "FREQ=MONTHLY;BYDAY=2TU", datetime(2027, 1, 12, 9, 0)),
        ("monthly on the third wednesday 4pm", "FREQ=MONTHLY;BYDAY=3WE", datetime(2027, 1, 20, 16, 0)),
        ("first monday of the month 07:00", "FREQ=MONTHLY;BYDAY=1MO", datetime(2027, 2, 1, 7, 0)),  # today's passed
    ],
)
def test_monthly_rules_are_read_in_the_speakers_zone(text, rule, first):
    u = parse_when(text, now=NOW, speaker_tz="Asia/Kathmandu", monthly=True)
    assert u.rrule == rule
    assert u.start.replace(tzinfo=None) == first and u.zone == "Asia/Kathmandu"
    assert u.start.utcoffset().total_seconds() == 5.75 * 3600


def test_a_named_zone_and_an_end():
    text = "first tuesday of the month 15:00 America/St_Johns until jun 30"
    u = parse_when(text, now=NOW, speaker_tz="UTC", monthly=True)
    assert u.zone == "America/St_Johns" and u.rrule.startswith("FREQ=MONTHLY;BYDAY=1TU;UNTIL=")
    assert [o.month for o in occurrences(u.rrule, u.start, u.zone)] == [1, 2, 3, 4, 5, 6]


def test_monthly_keeps_local_time_across_dst():
    start = datetime(2027, 2, 2, 15, tzinfo=ZoneInfo("America/New_York"))
    occ = list(occurrences("FREQ=MONTHLY;BYDAY=1TU", start, "America/New_York", limit=3))
    assert [(o.month, o.day, o.hour) for o in occ] == [(2, 2, 15), (3, 2, 15), (4, 6, 15)]
    assert [o.astimezone(UTC).hour for o in occ] == [20, 20, 19]  # DST starts Sun 14 Mar 2027
    start = datetime(2027, 3, 26, 10, tzinfo=ZoneInfo("Pacific/Auckland"))
    occ = list(occurrences("FREQ=MONTHLY;BYDAY=-1FR", start, "Pacific/Auckland", limit=2))
    assert [(o.day, o.hour) for o in occ] == [(26, 10), (30, 10)] and occ[0].utcoffset() != occ[1].utcoffset()


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("every month on the 15th 10:00", "weekday of the month"),
        ("every day 3pm", "repeats by weeks"),
        ("first tuesday of the month", "At what time"),
        ("first tuesday of the month 25:00", "time"),
        ("first tuesday of the month 15:00 starting jan 1 2026", "past"),
    ],
)
def test_monthly_refusals(text, why):
    with pytest.raises(WhenRefused) as err:
        parse_when(text, now=NOW, speaker_tz="UTC", monthly=True)
    assert why in err.value.message


@pytest.mark.parametrize("text", ["first tuesday of the month 15:00", "every month on the 2nd tuesday at 9:00"])
def test_demos_stay_weekly(text):
    with pytest.raises(WhenRefused) as err:
        parse_when(text, now=NOW, speaker_tz="UTC")
    assert "repeat by weeks" in err.value.message
    with pytest.raises(ValueError):
        validate_rule("FREQ=MONTHLY;BYDAY=1TU")  # what a demo's Confirm button may carry


def test_every_second_tuesday_stays_every_other_week():
    u = parse_when("every second tuesday 10:30", now=NOW, speaker_tz="UTC", monthly=True)
    assert u.rrule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"


def test_rules_described_validated_and_moved():
    assert describe("FREQ=MONTHLY;BYDAY=1TU") == "every month on the first Tuesday"
    assert describe("FREQ=MONTHLY;BYDAY=-1FR") == "every month on the last Friday"
    assert validate_rule("FREQ=MONTHLY;BYDAY=-1FR", monthly=True) and is_monthly("FREQ=MONTHLY;BYDAY=2TU")
    for bad in ("FREQ=MONTHLY;BYDAY=5TU", "FREQ=MONTHLY;BYMONTHDAY=15", "FREQ=MONTHLY;BYDAY=1TU;COUNT=9"):
        with pytest.raises(ValueError):
            validate_rule(bad, monthly=True)
    assert with_weekday("FREQ=MONTHLY;BYDAY=-1FR", 0) == "FREQ=MONTHLY;BYDAY=-1MO"
    assert with_weekday("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", 1) == "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"
