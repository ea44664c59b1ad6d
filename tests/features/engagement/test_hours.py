"""`/cadence hours` (a person's working hours) and `/cadence overlap` (both sides at work today, each reader in
their own time) on the controlled clock: Mon 4 Jan 2027 08:00 UTC."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.kernel.messages import Card, Reply
from bot.kernel.text import strip_tokens
from storage.models import Identity, Person
from tests.helpers import actor, advance, make_engagement, place, reply_text, run


def seen_by(reply: Reply, tz: str) -> str:
    """The reply as a reader in `tz` sees it: each time token in their own zone (HH:MM)."""

    def render(kind: str, value: str, extra: str) -> str:
        if kind == "time":
            return f"{datetime.fromtimestamp(int(value), ZoneInfo(tz)):%H:%M}"
        return extra or value

    cards: list[Card] = [*reply.private, *reply.public]
    parts = []
    for c in cards:
        parts += [c.title, c.text, *(f"{f.label}: {f.value}" for f in c.fields)]
    return strip_tokens("\n".join(parts), render)


async def hours_of(core, user_id: str) -> tuple[int | None, int | None]:
    async with core.session_factory() as s:
        ident = await s.scalar(select(Identity).where(Identity.user_id == user_id))
        p = await s.get(Person, ident.person_id)
        return p.work_start_minute, p.work_end_minute


async def test_hours_show_set_and_reset(core):
    people = await make_engagement(core)
    victor = people["victor"]
    shown = reply_text(await run(core, victor, "/cadence hours"))
    assert "Your working hours are 09:00–18:00 (the default) on mon, tue, wed, thu, fri, in Asia/Kolkata" in shown
    changed = reply_text(await run(core, victor, "/cadence hours 10am-7pm"))
    assert "Your working hours are now 10:00–19:00 on mon, tue, wed, thu, fri, in Asia/Kolkata" in changed
    assert await hours_of(core, "victor") == (600, 1140)
    assert "Working hours: 10:00–19:00" in reply_text(await run(core, victor, "/cadence whoami"))
    await run(core, victor, "/cadence hours 9:30 - 18:30")
    assert await hours_of(core, "victor") == (570, 1110)
    await run(core, victor, "/cadence hours default")
    assert await hours_of(core, "victor") == (None, None)
    assert "Working hours: 09:00–18:00 (the default)" in reply_text(await run(core, victor, "/cadence whoami"))


async def test_bad_hours_are_refused_and_change_nothing(core):
    people = await make_engagement(core)
    victor = people["victor"]
    await run(core, victor, "/cadence hours 10:00-19:00")
    for typed, why in [
        ("25:00-26:00", "“25:00” is not a time of day"),
        ("18:00-10:00", "not after the start"),
        ("22:00-06:00", "an overnight window (22:00–06:00) isn't supported"),
        ("10:00-10:30", "shorter than an hour"),
        ("05:00-22:00", "longer than 16 hours"),
        ("soonish", "can't read"),
    ]:
        reply = await run(core, victor, f"/cadence hours {typed}")
        assert reply.private[0].tone == "warning", typed
        assert why in reply_text(reply), (typed, reply_text(reply))
        assert await hours_of(core, "victor") == (600, 1140), typed


async def test_hours_are_about_the_person_themselves_even_unseated(core):
    await make_engagement(core)
    stranger = actor("sam", "Europe/Paris")
    reply = await run(core, stranger, "/cadence hours 08:00-16:00")
    assert "Your working hours are now 08:00–16:00" in reply_text(reply)
    refused = await run(core, stranger, "/cadence overlap")
    assert "not a member" in reply_text(refused)


CLIENT_NY_VENDOR_BERLIN = {
    "carol": ("America/New_York", ["client_pm"]),
    "lena": ("Europe/Berlin", ["vendor_pm"]),
}


async def test_overlap_new_york_and_berlin_in_each_reader_time(core):
    people = await make_engagement(core, members=CLIENT_NY_VENDOR_BERLIN)
    carol_sees = seen_by(await run(core, people["carol"], "/cadence overlap"), "America/New_York")
    assert "Mon 4 Jan 2027 (your date, America/New_York)" in carol_sees
    assert "Both sides are at work 09:00–12:00 (3 h 00 min), your time." in carol_sees
    assert "Client side: Carol (America/New_York, 09:00–18:00)" in carol_sees
    assert "Vendor side: Lena (Europe/Berlin, 09:00–18:00)" in carol_sees
    lena_sees = seen_by(await run(core, people["lena"], "/cadence overlap"), "Europe/Berlin")
    assert "Both sides are at work 15:00–18:00 (3 h 00 min), your time." in lena_sees


async def test_overlap_none_between_new_york_and_kolkata(core):
    people = await make_engagement(
        core, members={"carol": ("America/New_York", ["client_pm"]), "victor": ("Asia/Kolkata", ["vendor_pm"])}
    )
    reply = await run(core, people["carol"], "/cadence overlap")
    said = seen_by(reply, "America/New_York")
    assert reply.private[0].tone == "warning"
    assert "No overlap" in said
    # Kolkata's day ends 07:30 New York, New York's begins 09:00.
    assert "shared hours are 1 h 30 min apart: from 07:30 to 09:00 your time" in said
    assert "Closest:" in said and "1 of 2 at work" in said


async def test_overlap_with_own_hours_quarter_and_half_hour_zones(core):
    people = await make_engagement(
        core, members={"quinn": ("America/St_Johns", ["client_pm"]), "dev": ("Asia/Kathmandu", ["vendor_pm"])}
    )
    said = seen_by(await run(core, people["quinn"], "/cadence overlap"), "America/St_Johns")
    assert "No overlap" in said and "15 min apart" in said
    await run(core, people["quinn"], "/cadence hours 08:00-17:00")
    said = seen_by(await run(core, people["quinn"], "/cadence overlap"), "America/St_Johns")
    assert "Both sides are at work 08:00–08:45 (45 min), your time." in said
    said = seen_by(await run(core, people["dev"], "/cadence overlap"), "Asia/Kathmandu")
    assert "Both sides are at work 17:15–18:00 (45 min), your time." in said


async def test_overlap_on_a_day_off_for_one_side_names_who_is_away(core):
    people = await make_engagement(core, members=CLIENT_NY_VENDOR_BERLIN)
    await run(core, people["carol"], "/cadence workdays mon-sat")
    await advance(core, days=5)  # Sat 9 Jan
    said = seen_by(await run(core, people["carol"], "/cadence overlap"), "America/New_York")
    assert "Sat 9 Jan 2027" in said and "No overlap" in said
    assert "Lena (Sat 09:00 Europe/Berlin: their day off (Saturday))" not in said  # local time is Carol's stretch
    assert "Lena (Sat 15:00 Europe/Berlin: their day off (Saturday))" in said
    assert "Vendor side: Lena (Europe/Berlin, 09:00–18:00) — not at work that day" in said
    tomorrow = seen_by(await run(core, people["carol"], "/cadence overlap tomorrow"), "America/New_York")
    assert "Sun 10 Jan 2027" in tomorrow and "nobody counted here is at work" in tomorrow
    bad = await run(core, people["carol"], "/cadence overlap next year")
    assert "Usage" in reply_text(bad)


async def test_overlap_counts_everyone_seated_on_both_sides(core):
    people = await make_engagement(core)  # London, New York | Kolkata ×2, Kathmandu, St John's (qa)
    reply = await run(core, people["alice"], "/cadence overlap", where=place())
    said = seen_by(reply, "Europe/London")
    assert "No overlap" in said
    for name in ("Alice", "Carol", "Victor", "Lena", "Dev", "Quinn"):
        assert name in said


async def test_someone_whose_zone_is_unknown_is_named_not_counted(core):
    """Another company's member whose profile withholds the zone (tz_source "unknown", UTC until they set one)
    is not counted at the hours of whatever zone is stored for her (Tokyo here, where counting her would leave no
    overlap at all): New York and Berlin still overlap, and she is named."""
    people = await make_engagement(
        core,
        members={
            "carol": ("America/New_York", ["client_pm"]),
            "priya": ("Asia/Tokyo", ["client_member"]),
            "lena": ("Europe/Berlin", ["vendor_pm"]),
        },
    )
    async with core.session_factory() as s, s.begin():
        ident = await s.scalar(select(Identity).where(Identity.user_id == "priya"))
        person = await s.get(Person, ident.person_id)
        person.tz_source = "unknown"
    said = seen_by(await run(core, people["carol"], "/cadence overlap"), "America/New_York")
    assert "Both sides are at work 09:00–12:00" in said, said
    assert "Zone unknown: Priya: not counted" in said
