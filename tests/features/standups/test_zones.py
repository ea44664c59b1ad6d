"""Prompts through the real timer service on the controlled clock: odd offsets, DST switch weeks, a
holiday, an out-of-office range, a zone change mid-week, and a multi-week run in many zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.features.standups.support import digests, goto, prompt_times, record_times, reminders_to, timers
from tests.helpers import make_engagement, run

UTC = UTC


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(instants, zone: str) -> list[str]:
    return [i.astimezone(ZoneInfo(zone)).strftime("%a %d %b %H:%M") for i in instants]


async def test_odd_offsets_and_auckland_summer(sqlite_core):
    core = sqlite_core
    people = await make_engagement(
        core,
        members={
            "alice": ("Europe/London", ["client_sponsor"]),
            "ravi": ("Asia/Kolkata", ["developer"]),  # +5:30
            "dev": ("Asia/Kathmandu", ["developer"]),  # +5:45
            "quinn": ("America/St_Johns", ["qa"]),  # −3:30
            "kiri": ("Pacific/Auckland", ["developer"]),  # +13 in January
        },
    )
    await run(core, people["alice"], "/standup config reminder 0")
    log = record_times(core)
    await goto(core, at(2027, 1, 6, 14, 0))  # Mon 08:00 UTC → Wed 14:00 UTC
    for name, zone, first in [
        ("ravi", "Asia/Kolkata", "Tue 05 Jan 09:30"),
        ("dev", "Asia/Kathmandu", "Tue 05 Jan 09:30"),
        ("quinn", "America/St_Johns", "Mon 04 Jan 09:30"),
        ("kiri", "Pacific/Auckland", "Tue 05 Jan 09:30"),
    ]:
        got = local(prompt_times(log, name), zone)
        assert got[0] == first, (name, got)
        assert all(s.endswith("09:30") for s in got), (name, got)
        days = [s[:10] for s in got]
        assert len(days) == len(set(days)), (name, got)  # never twice a day
    # Auckland's Wednesday 09:30 is Tuesday 20:30 UTC (+13 in January).
    assert prompt_times(log, "kiri") == [at(2027, 1, 4, 20, 30), at(2027, 1, 5, 20, 30)]
    assert prompt_times(log, "quinn") == [at(2027, 1, 4, 13, 0), at(2027, 1, 5, 13, 0), at(2027, 1, 6, 13, 0)]
    assert prompt_times(log, "dev")[0] == at(2027, 1, 5, 3, 45)


async def test_dst_switch_weeks_new_york_and_berlin(sqlite_core):
    """Thursday to Tuesday across each switch (US: Sun 14 March 2027, EU: Sun 28 March 2027)."""
    core = sqlite_core
    core.clock.set(at(2027, 3, 11, 0, 0))
    people = await make_engagement(
        core,
        members={
            "alice": ("Europe/London", ["client_sponsor"]),
            "nora": ("America/New_York", ["developer"]),
            "bert": ("Europe/Berlin", ["client_member"]),  # joins for the EU switch
        },
    )
    await run(core, people["alice"], "/standup config reminder 0")
    log = record_times(core)
    await goto(core, at(2027, 3, 16, 20, 0))
    # 09:30 EST = 14:30 UTC before the switch; 09:30 EDT = 13:30 UTC after.
    assert prompt_times(log, "nora") == [
        at(2027, 3, 11, 14, 30),
        at(2027, 3, 12, 14, 30),
        at(2027, 3, 15, 13, 30),
        at(2027, 3, 16, 13, 30),
    ]
    await run(core, people["nora"], "/standup leave")
    core.clock.set(at(2027, 3, 25, 0, 0))  # skip ahead (nobody has a pending prompt)
    await run(core, people["bert"], "/standup join")
    await goto(core, at(2027, 3, 30, 20, 0))
    # 09:30 CET = 08:30 UTC before the switch; 09:30 CEST = 07:30 UTC after.
    assert prompt_times(log, "bert") == [
        at(2027, 3, 25, 8, 30),
        at(2027, 3, 26, 8, 30),
        at(2027, 3, 29, 7, 30),
        at(2027, 3, 30, 7, 30),
    ]
    assert local(prompt_times(log, "bert"), "Europe/Berlin")[-1] == "Tue 30 Mar 09:30"
    assert len(prompt_times(log, "nora")) == 4


async def test_holiday_and_out_of_office(sqlite_core):
    core = sqlite_core
    core.clock.set(at(2027, 1, 25, 0, 0))  # Monday; Tuesday 26 January is Republic Day in India
    people = await make_engagement(
        core,
        members={
            "alice": ("Europe/London", ["client_sponsor"]),
            "ravi": ("Asia/Kolkata", ["developer"]),
            "olga": ("Europe/Berlin", ["developer"]),
        },
    )
    await run(core, people["ravi"], "/cadence country IN")
    await run(core, people["alice"], "/standup config reminder 0")
    r = await run(core, people["olga"], "/cadence ooo jan 27 to jan 28")
    assert "Out of office" in r.private[0].text
    log = record_times(core)
    await goto(core, at(2027, 1, 30, 0, 0))
    assert [s[:10] for s in local(prompt_times(log, "ravi"), "Asia/Kolkata")] == [
        "Mon 25 Jan",
        "Wed 27 Jan",
        "Thu 28 Jan",
        "Fri 29 Jan",
    ]
    assert [s[:10] for s in local(prompt_times(log, "olga"), "Europe/Berlin")] == [
        "Mon 25 Jan",
        "Tue 26 Jan",
        "Fri 29 Jan",
    ]
    by_day = {d.card.title.split(" · ")[-1]: d.card for d in digests(core)}
    away_tue = next(s for s in by_day["Tue 26 Jan 2027"].sections if s.title == "Away")
    assert "Ravi" in away_tue.text and "holiday" in away_tue.text and "Republic Day" in away_tue.text
    away_wed = next(s for s in by_day["Wed 27 Jan 2027"].sections if s.title == "Away")
    assert "Olga" in away_wed.text and "out of office" in away_wed.text
    # An absence entered after the prompt was planned still skips it (the pending one is moved).
    await run(core, people["ravi"], "/cadence ooo feb 1")
    log.clear()
    await goto(core, at(2027, 2, 2, 12, 0))
    assert [s[:10] for s in local(prompt_times(log, "ravi"), "Asia/Kolkata")] == ["Tue 02 Feb"]


async def test_zone_changes_mid_week(sqlite_core):
    """Vik moves from Kolkata to New York on Wednesday afternoon (already prompted that day); Bert
    moves from Berlin to New York on Tuesday morning before his prompt (it moves with him)."""
    core = sqlite_core
    people = await make_engagement(
        core,
        members={
            "alice": ("Europe/London", ["client_sponsor"]),
            "vik": ("Asia/Kolkata", ["developer"]),
            "bert": ("Europe/Berlin", ["developer"]),
        },
    )
    await run(core, people["alice"], "/standup config reminder 0")
    log = record_times(core)
    await goto(core, at(2027, 1, 5, 7, 0))  # Tuesday 08:00 in Berlin; Bert's prompt would be 08:30 UTC
    await run(core, people["bert"], "/cadence tz America/New_York")
    await goto(core, at(2027, 1, 6, 12, 0))  # Wednesday afternoon; Tue + Wed prompted in Kolkata
    assert local(prompt_times(log, "vik"), "Asia/Kolkata") == ["Tue 05 Jan 09:30", "Wed 06 Jan 09:30"]
    r = await run(core, people["vik"], "/cadence tz America/New_York")
    assert "America/New_York" in r.private[0].text
    pending = await timers(core, "standup.prompt:", "pending")
    # Wednesday was prompted already (in Kolkata): Vik's next is Thursday 09:30 New York.
    assert sorted(t.due_at for t in pending) == [at(2027, 1, 6, 14, 30), at(2027, 1, 7, 14, 30)]
    await goto(core, at(2027, 1, 9, 0, 0))
    assert local(prompt_times(log, "vik")[2:], "America/New_York") == ["Thu 07 Jan 09:30", "Fri 08 Jan 09:30"]
    bert = [t for t in prompt_times(log, "bert") if t >= at(2027, 1, 5)]
    assert bert[0] == at(2027, 1, 5, 14, 30)  # Tuesday once, at 09:30 New York
    assert local(bert, "America/New_York") == [
        f"{d} 09:30" for d in ("Tue 05 Jan", "Wed 06 Jan", "Thu 07 Jan", "Fri 08 Jan")
    ]


ZONES = {
    "alice": ("Europe/London", ["client_sponsor"]),
    "pago": ("Pacific/Pago_Pago", ["developer"]),  # −11
    "quinn": ("America/St_Johns", ["qa"]),  # −2:30 after the switch
    "tara": ("Asia/Tehran", ["developer"]),  # +3:30
    "dev": ("Asia/Kathmandu", ["developer"]),  # +5:45
    "chat": ("Pacific/Chatham", ["developer"]),  # +13:45
    "kiri": ("Pacific/Kiritimati", ["developer"]),  # +14
}
MORE_ZONES = {
    **ZONES,
    "nora": ("America/New_York", ["developer"]),
    "bert": ("Europe/Berlin", ["developer"]),
    "ravi": ("Asia/Kolkata", ["developer"]),
    "lord": ("Australia/Lord_Howe", ["developer"]),  # half-hour DST shift, ends in April
}


@pytest.mark.parametrize(
    "start,end,zones",
    [
        (at(2027, 3, 15, 0, 0), at(2027, 3, 16, 12, 0), ZONES),  # default suite: a day and a half, six zones
        pytest.param(at(2027, 3, 7, 0, 0), at(2027, 3, 27, 12, 0), MORE_ZONES, marks=pytest.mark.slow),  # three weeks
    ],
)
async def test_days_in_many_zones_through_the_timer_service(sqlite_core, start, end, zones):
    """A shorter version of the year simulation through the real timers, reminders and digests:
    zones from −11 to +14, around the March DST switches."""
    core = sqlite_core
    core.clock.set(start)
    await make_engagement(core, members=zones)
    log = record_times(core)
    await goto(core, end)
    for name, (zone, _) in zones.items():
        if name == "alice":
            continue
        got = prompt_times(log, name)
        days = [i.astimezone(ZoneInfo(zone)).date() for i in got]
        assert len(days) == len(set(days)), name
        assert all(d.weekday() < 5 for d in days), name
        assert all(i.astimezone(ZoneInfo(zone)).strftime("%H:%M") == "09:30" for i in got), name
        first, last = days[0], days[-1]
        want = [first + timedelta(n) for n in range((last - first).days + 1) if (first + timedelta(n)).weekday() < 5]
        assert days == want, name  # none missed in between
        assert first <= (start + timedelta(days=2)).date() and last >= (end - timedelta(days=2)).date(), name
        # Nobody answered: exactly one reminder per prompt (the last one may still be pending).
        assert len(got) - 1 <= len(reminders_to(core, name)) <= len(got), name
    titles = [d.card.title for d in digests(core)]
    assert len(titles) == len(set(titles))
    assert len(titles) >= (end - start).days * 5 // 7 - 1


async def test_flipping_across_the_date_line_never_prompts_a_day_twice(sqlite_core):
    """Auckland (+13) ↔ Honolulu (−10) every 12 hours: the same local date is never prompted twice,
    and no work day that stays reachable is lost."""
    core = sqlite_core
    people = await make_engagement(
        core,
        members={
            "alice": ("Europe/London", ["client_sponsor"]),
            "flo": ("Pacific/Auckland", ["developer"]),
        },
    )
    await run(core, people["alice"], "/standup config reminder 0")
    log = record_times(core)
    zones = ["Pacific/Honolulu", "Pacific/Auckland"]
    for step in range(6):
        await goto(core, at(2027, 1, 4, 12, 0) + timedelta(hours=12 * step))
        await run(core, people["flo"], f"/cadence tz {zones[step % 2]}")
    await goto(core, at(2027, 1, 8, 0, 0))
    titles = [d.card.title for t, d in log if d.op == "dm" and d.card.title.startswith("Standup ·")]
    assert len(titles) == len(set(titles)) and len(titles) >= 3
    keys = [t.key for t in await timers(core, "standup.prompt:", "done")]
    assert len(keys) == len(set(keys))
