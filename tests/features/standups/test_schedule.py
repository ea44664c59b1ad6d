"""The pure prompt schedule: every zone in use, every day of 2027, DST switches, odd offsets."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo, available_timezones

import holidays
import pytest
from apscheduler.triggers.cron import CronTrigger
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.features.standups.schedule import (
    PromptRule,
    digest_instant,
    format_days,
    is_wall_time,
    local_instant,
    parse_days,
    parse_hhmm,
)

UTC = UTC
AT = time(9, 30)
WEEKDAYS = frozenset(range(5))
YEAR_START, YEAR_END = date(2027, 1, 1), date(2027, 12, 31)


def _zone_tab() -> dict[str, str]:
    """Zone → country code from zone.tab (the first country that uses the zone)."""
    out: dict[str, str] = {}
    for candidate in (Path("/usr/share/zoneinfo/zone.tab"),):
        if candidate.exists():
            text = candidate.read_text()
            break
    else:
        text = (resources.files("tzdata") / "zoneinfo" / "zone.tab").read_text()
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        cc, _coords, name, *_ = line.split("\t")
        out.setdefault(name, cc)
    return out


@lru_cache(maxsize=1)
def zones_in_use() -> list[tuple[str, str | None]]:
    """One (zone, country) per distinct zone: aliases (links with identical data) counted once,
    preferring the name zone.tab lists (which also tells the country)."""
    tab = _zone_tab()
    by_data: dict[str, list[str]] = {}
    for name in sorted(available_timezones()):
        try:
            data = (resources.files("tzdata") / "zoneinfo").joinpath(*name.split("/")).read_bytes()
        except (FileNotFoundError, ModuleNotFoundError, IsADirectoryError):
            data = Path("/usr/share/zoneinfo", name).read_bytes()
        by_data.setdefault(hashlib.sha1(data).hexdigest(), []).append(name)
    out = []
    for names in by_data.values():
        listed = [n for n in names if n in tab]
        name = listed[0] if listed else names[0]
        out.append((name, tab.get(name)))
    return sorted(out)


@cache
def holiday_dates(country: str | None) -> frozenset[date]:
    if not country:
        return frozenset()
    try:
        return frozenset(holidays.country_holidays(country, years=2027))
    except NotImplementedError:
        return frozenset()


def rule_for(zone: str, country: str | None) -> PromptRule:
    days_off = holiday_dates(country)
    return PromptRule(zone=ZoneInfo(zone), at=AT, days=WEEKDAYS, skip=lambda d: "holiday" if d in days_off else None)


def test_year_2027_in_every_zone_in_use():
    """Every prompt at 09:30 local on a work day, none twice, none missed, none on a holiday — and the
    timer chain (each prompt materialising the next) gives exactly the same list."""
    zones = zones_in_use()
    assert len(zones) > 300
    with_holidays = 0
    for name, country in zones:
        rule = rule_for(name, country)
        zone = rule.zone
        days_off = holiday_dates(country)
        with_holidays += bool(days_off)
        slots = list(rule.slots(YEAR_START, YEAR_END))
        dates = [d for d, _ in slots]
        expected = [YEAR_START + timedelta(n) for n in range(365)]
        expected = [d for d in expected if d.weekday() < 5 and d not in days_off]
        assert dates == expected, name  # none missed, none twice, none on a weekend or holiday
        for d, instant in slots:
            local = instant.astimezone(zone)
            assert local.date() == d and (local.hour, local.minute) == (9, 30), (name, d, local)
        # The chain: start before the year, fire each prompt at its instant, materialise the next.
        chained, after = [], datetime.combine(YEAR_START, time(0), tzinfo=zone) - timedelta(seconds=1)
        while True:
            nxt = rule.next_slot(after)
            if nxt is None or nxt[0] > YEAR_END:
                break
            chained.append(nxt)
            after = nxt[1]
        assert chained == slots, name
        assert len({i for _, i in slots}) == len(slots)
    assert with_holidays > 100  # the holiday rule really was exercised


def test_year_2027_agrees_with_apscheduler_crontrigger():
    """An independent oracle: APScheduler's CronTrigger (mon–fri 09:30 in the zone), minus holidays."""
    tab = _zone_tab()
    sample = [
        (z, tab.get(z))
        for z in {
            "America/New_York",
            "Europe/Berlin",
            "Asia/Kolkata",
            "Asia/Kathmandu",
            "America/St_Johns",
            "Pacific/Auckland",
            "Australia/Lord_Howe",
            "Pacific/Chatham",
            "America/Santiago",
            "Asia/Tehran",
            "Africa/Casablanca",
            "Pacific/Kiritimati",
            "Pacific/Pago_Pago",
            "Europe/London",
            "Asia/Gaza",
        }
    ]
    for name, country in sample:
        zone = ZoneInfo(name)
        trigger = CronTrigger(day_of_week="mon-fri", hour=9, minute=30, timezone=zone)
        fire = trigger.get_next_fire_time(None, datetime.combine(YEAR_START, time(0), tzinfo=zone))
        cron = []
        while fire is not None and fire.astimezone(zone).date() <= YEAR_END:
            if fire.astimezone(zone).date() not in holiday_dates(country):
                cron.append(fire.astimezone(UTC))
            fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
        ours = [i for _, i in rule_for(name, country).slots(YEAR_START, YEAR_END)]
        assert ours == cron, name


@pytest.mark.parametrize(
    "zone,day,utc_hm",
    [
        ("Asia/Kolkata", date(2027, 3, 3), (4, 0)),  # +5:30
        ("Asia/Kathmandu", date(2027, 3, 3), (3, 45)),  # +5:45
        ("America/St_Johns", date(2027, 1, 6), (13, 0)),  # −3:30
        ("America/St_Johns", date(2027, 7, 6), (12, 0)),  # −2:30 in summer
        ("Pacific/Auckland", date(2027, 1, 6), (20, 30)),  # +13 in (southern) summer: the day before in UTC
        ("Pacific/Auckland", date(2027, 7, 6), (21, 30)),  # +12 in winter
    ],
)
def test_odd_offsets(zone, day, utc_hm):
    instant = local_instant(day, AT, ZoneInfo(zone))
    expected_day = day - timedelta(days=1) if zone == "Pacific/Auckland" else day
    assert (instant.date(), instant.hour, instant.minute) == (expected_day, *utc_hm)


@pytest.mark.parametrize(
    "zone,monday,before,after",
    [
        # US switch: Sun 14 Mar 2027 — 09:30 EST = 14:30 UTC before, 09:30 EDT = 13:30 UTC after.
        ("America/New_York", date(2027, 3, 8), (14, 30), (13, 30)),
        # EU switch: Sun 28 Mar 2027 — 09:30 CET = 08:30 UTC before, 09:30 CEST = 07:30 UTC after.
        ("Europe/Berlin", date(2027, 3, 22), (8, 30), (7, 30)),
        # And back in autumn: EU Sun 31 Oct, US Sun 7 Nov 2027.
        ("Europe/Berlin", date(2027, 10, 25), (7, 30), (8, 30)),
        ("America/New_York", date(2027, 11, 1), (13, 30), (14, 30)),
    ],
)
def test_dst_switch_weeks_keep_0930_local(zone, monday, before, after):
    rule = PromptRule(zone=ZoneInfo(zone), at=AT, days=WEEKDAYS)
    slots = list(rule.slots(monday, monday + timedelta(days=13)))
    assert len(slots) == 10  # two work weeks, no day lost or doubled
    first, last = slots[0][1], slots[-1][1]
    assert (first.hour, first.minute) == before and (last.hour, last.minute) == after
    for d, instant in slots:
        assert instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M") == f"{d} 09:30"


def test_nonexistent_and_ambiguous_wall_times():
    ny = ZoneInfo("America/New_York")
    gap = local_instant(date(2027, 3, 14), time(2, 30), ny)  # 02:30 does not exist that night
    assert gap.astimezone(ny).strftime("%H:%M %Z") == "03:30 EDT"
    assert is_wall_time(gap, date(2027, 3, 14), time(2, 30), ny)
    twice = local_instant(date(2027, 11, 7), time(1, 30), ny)  # 01:30 happens twice: the first one
    assert twice.astimezone(ny).strftime("%H:%M %Z") == "01:30 EDT"


@settings(max_examples=200, deadline=None)
@given(
    zone=st.sampled_from(sorted(available_timezones())),
    start=st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31)),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 45, 59]),
    days=st.sets(st.integers(0, 6), min_size=1),
)
def test_any_zone_any_time_one_prompt_per_day(zone, start, hour, minute, days):
    rule = PromptRule(zone=ZoneInfo(zone), at=time(hour, minute), days=frozenset(days))
    slots = list(rule.slots(start, start + timedelta(days=40)))
    assert [d for d, _ in slots] == [
        start + timedelta(n) for n in range(41) if (start + timedelta(n)).weekday() in days
    ]
    instants = [i for _, i in slots]
    assert instants == sorted(instants) and len(set(instants)) == len(instants)
    for d, instant in slots:
        assert is_wall_time(instant, d, time(hour, minute), rule.zone), (zone, d)


def test_digest_is_the_following_client_morning():
    berlin, ny = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
    tue = date(2027, 1, 5)
    # Team in Kolkata (prompted 04:00 UTC), client in New York: the same day, 10:00 New York.
    d = digest_instant(
        tue,
        latest_prompt=local_instant(tue, AT, ZoneInfo("Asia/Kolkata")),
        at=time(10),
        zone=ny,
        days=WEEKDAYS,
        grace=timedelta(hours=1),
    )
    assert d.astimezone(ny).strftime("%a %H:%M") == "Tue 10:00"
    # Team in New York, client in Berlin: the next Berlin morning.
    d = digest_instant(
        tue, latest_prompt=local_instant(tue, AT, ny), at=time(10), zone=berlin, days=WEEKDAYS, grace=timedelta(hours=1)
    )
    assert d.astimezone(berlin).strftime("%a %H:%M") == "Wed 10:00"
    # Friday's digest for a Berlin client skips the weekend.
    fri = date(2027, 1, 8)
    d = digest_instant(
        fri, latest_prompt=local_instant(fri, AT, ny), at=time(10), zone=berlin, days=WEEKDAYS, grace=timedelta(hours=1)
    )
    assert d.astimezone(berlin).strftime("%a %d %H:%M") == "Mon 11 10:00"


def test_parsing_times_and_days():
    assert parse_hhmm("9:30") == time(9, 30) and parse_hhmm("0930") == time(9, 30)
    assert parse_hhmm("2pm") == time(14) and parse_hhmm("12am") == time(0)
    for bad in ("25:00", "9:75", "soon", "13pm"):
        with pytest.raises(ValueError):
            parse_hhmm(bad)
    assert parse_days("mon-fri") == [0, 1, 2, 3, 4]
    assert parse_days("sun-thu") == [0, 1, 2, 3, 6]
    assert parse_days("mon,wed,fri") == [0, 2, 4]
    assert format_days([0, 1, 2, 3, 4]) == "Mon–Fri"
    with pytest.raises(ValueError):
        parse_days("someday")
    assert Counter(parse_days("everyday")) == Counter(range(7))
