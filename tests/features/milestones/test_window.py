"""The acceptance window and the warranty, pure: business days in the client's calendar across weekends and
public holidays, in zones with odd offsets, and month-end arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.features.milestones.window import ClientCalendar, acceptance_window, warranty_end


def test_ten_business_days_skip_a_weekend_and_a_holiday_in_india():
    # Submitted Fri 22 Jan 2027 18:00 in Kolkata; Tue 26 Jan is Republic Day.
    cal = ClientCalendar("Asia/Kolkata", "IN")
    submitted = datetime(2027, 1, 22, 12, 30, tzinfo=UTC)  # 18:00 IST
    w = acceptance_window(cal, submitted, 10)
    # Mon 25, Wed 27, Thu 28, Fri 29, Mon 1, Tue 2, Wed 3, Thu 4, Fri 5, Mon 8 Feb.
    assert w.last_day == date(2027, 2, 8)
    assert w.ends_at.astimezone(cal.zone) == datetime(2027, 2, 9, 0, 0, tzinfo=cal.zone)
    assert w.ends_at.utcoffset() is not None and w.ends_at.astimezone(UTC) == datetime(2027, 2, 8, 18, 30, tzinfo=UTC)
    assert [d for d, _ in w.skipped] == [date(2027, 1, 26)]


def test_the_submission_day_counts_in_the_clients_zone_not_utc():
    # 23:30 UTC on Sunday 10 Jan is already Monday 11 Jan in Auckland: Monday is the submission day.
    cal = ClientCalendar("Pacific/Auckland", "NZ")
    w = acceptance_window(cal, datetime(2027, 1, 10, 23, 30, tzinfo=UTC), 1)
    assert w.last_day == date(2027, 1, 12)
    # Waitangi Day (Sat 6 Feb 2027) is observed on Mon 8 Feb: skipped.
    w = acceptance_window(cal, datetime(2027, 2, 4, 1, 0, tzinfo=UTC), 2)  # Thu 4 Feb, 14:00 NZDT
    assert w.last_day == date(2027, 2, 9)


@pytest.mark.parametrize(
    ("zone", "utc", "local_day"),
    [
        ("Asia/Kathmandu", datetime(2027, 3, 5, 18, 20, tzinfo=UTC), date(2027, 3, 6)),  # 00:05 Sat +05:45
        ("America/St_Johns", datetime(2027, 3, 6, 2, 0, tzinfo=UTC), date(2027, 3, 5)),  # 22:30 Fri −03:30
    ],
)
def test_half_and_quarter_hour_zones(zone, utc, local_day):
    cal = ClientCalendar(zone)
    assert cal.local_date(utc) == local_day
    w = acceptance_window(cal, utc, 10)
    # Ten business days after the local submission day, weekends off.
    assert w.last_day == cal.add_days(local_day, 10)
    assert w.ends_at.astimezone(cal.zone).time().hour == 0


def test_weekend_submission_and_subtracting_business_days():
    cal = ClientCalendar("Europe/London", "GB")
    # Submitted on Saturday 2 Jan 2027: Mon 4 Jan is the first business day (New Year's Day was Friday).
    assert cal.add_days(date(2027, 1, 2), 1) == date(2027, 1, 4)
    # Three business days before Tue 5 Jan 2027 skips the weekend and New Year's Day (Fri 1 Jan).
    assert cal.subtract_days(date(2027, 1, 5), 3) == date(2026, 12, 30)


@pytest.mark.parametrize(
    ("accepted", "months", "until"),
    [
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2027, 8, 31), 6, date(2028, 2, 29)),  # leap year
        (date(2027, 3, 31), 6, date(2027, 9, 30)),
        (date(2027, 2, 28), 12, date(2028, 2, 28)),
        (date(2027, 5, 15), 6, date(2027, 11, 15)),
    ],
)
def test_warranty_month_ends(accepted, months, until):
    assert warranty_end(accepted, months) == until


def test_a_window_is_at_least_one_day():
    with pytest.raises(ValueError):
        acceptance_window(ClientCalendar(), datetime(2027, 1, 4, tzinfo=UTC), 0)
