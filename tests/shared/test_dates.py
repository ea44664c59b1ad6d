"""Issue 20, items 1 and 3: a date phrase is found inside a text (the title before or after it), and an
impossible or not-understood date is refused naming the part, with nothing saved."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.kernel.errors import UserError
from bot.shared.dates import parse_range, read_day_ahead, split_date_text
from storage.models.demos import Demo
from tests.features.change_requests.support import get, pending_cr, said, steps
from tests.helpers import click, make_engagement, reply_text, run, sent


@pytest.mark.parametrize(
    "text, phrase, rest",
    [
        ("next thu 3pm Sprint 4 demo", "next thu 3pm", "Sprint 4 demo"),
        ("Sprint 4 demo today 10:00", "today 10:00", "Sprint 4 demo"),
        ("Sprint 4 demo on next thursday at 3pm", "next thursday at 3pm", "Sprint 4 demo"),
        ("every other thursday at 15:00 Sprint demo", "every other thursday at 15:00", "Sprint demo"),
        ("tomorrow 10:00 Europe/Berlin Retro", "tomorrow 10:00 Europe/Berlin", "Retro"),
        ("3 dec 2027 10:00 Big demo", "3 dec 2027 10:00", "Big demo"),
        ("Review of jan plans next thu 3pm", "next thu 3pm", "Review of jan plans"),
        ("in 2 hours sync with the client", "in 2 hours", "sync with the client"),
        ("Birthday demo tomorrow 3pm", "tomorrow 3pm", "Birthday demo"),
    ],
)
def test_the_date_phrase_is_found_before_or_after_the_text(text, phrase, rest):
    split = split_date_text(text)
    assert (split.phrase, split.rest) == (phrase, rest)


@pytest.mark.parametrize(
    "text, named",
    [
        ("next blursday at noon Sprint demo", "“blursday”"),
        ("Sprint demo feb 30 at 10:00", "“feb 30” is not a date"),
        ("Sprint demo tomorrow at 25:30", "“25:30” is not a time of day"),
        ("x tomorrow at 99pm", "“99pm” is not a time of day"),
        ("blah blah", "no date or time"),
    ],
)
def test_a_date_phrase_that_is_not_understood_is_refused_naming_the_part(text, named):
    with pytest.raises(UserError) as exc:
        split_date_text(text)
    assert named in exc.value.message


async def count_demos(core) -> int:
    async with core.session_factory() as s:
        return await s.scalar(select(func.count()).select_from(Demo))


@pytest.mark.parametrize(
    "args, shown",
    [
        ("next thu 3pm Sprint 4 demo", "Thu 7 Jan 2027 15:00"),
        ("Sprint 4 demo next thu 3pm", "Thu 7 Jan 2027 15:00"),
        ("Sprint 4 demo tomorrow 10:00", "Tue 5 Jan 2027 10:00"),
    ],
)
async def test_demo_schedule_takes_the_title_beside_the_time_and_says_how_it_read_both(core, args, shown):
    people = await make_engagement(core)
    reply = await run(core, people["carol"], f"/demo schedule {args}")
    text = reply_text(reply)
    assert shown in text
    assert "with “Sprint 4 demo” as the title" in text
    assert reply.private[0].buttons, text


@pytest.mark.parametrize(
    "args, why",
    [
        ("next blursday at noon Sprint demo", "“blursday”"),
        ("feb 30 at 10:00 Sprint demo", "“feb 30” is not a date"),
        ("tomorrow at 25:30 Sprint demo", "“25:30” is not a time of day"),
        ("tomorrow at 99pm | x", "“99pm” is not a time of day"),
        ("25:00 tomorrow", "“25:00” is not a time of day"),
        ("blah blah", "couldn't find a date or time"),
        ("in 2 years", "more than a year ahead"),
        ("-5 hours", "in the past"),
    ],
)
async def test_demo_schedule_refuses_impossible_times_for_the_right_reason(core, args, why):
    people = await make_engagement(core)
    reply = await run(core, people["carol"], f"/demo schedule {args}")
    assert why in reply_text(reply)
    assert not any(c.buttons for c in reply.private)
    assert await count_demos(core) == 0


@pytest.mark.parametrize(
    "text, prefer, expected",
    [
        ("jan 1 to dec 31", "past", ("2026-01-01", "2026-12-31")),
        ("jan 1 to dec 31", "future", ("2027-01-01", "2027-12-31")),
        ("dec 24 to jan 2", "future", ("2026-12-24", "2027-01-02")),
        ("2026-03-01 to 2026-03-31", "past", ("2026-03-01", "2026-03-31")),
    ],
)
def test_a_range_reads_both_ends_in_one_year(text, prefer, expected):
    now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    start, end = parse_range(text, now=now, tz=ZoneInfo("UTC"), prefer=prefer)
    assert (start.isoformat(), end.isoformat()) == expected


@pytest.mark.parametrize(
    "args, why",
    [
        ("2026-13-01", "no month 13"),
        ("2026-02-30", "February 2026 has 28 days"),
        ("tomorrow", "after today"),
        ("feb 30 to mar 3", "“feb 30” is not a date"),
    ],
)
async def test_export_refuses_impossible_or_future_starts(core, args, why):
    people = await make_engagement(core)
    reply = await run(core, people["alice"], f"/cadence export {args}")
    assert why in reply_text(reply)
    await core.drain()
    assert not [d for d in sent(core) if d.card.attachments]


async def test_export_reads_both_ends_of_a_range_in_one_year(core):
    people = await make_engagement(core)  # the clock is at Mon 4 Jan 2027
    reply = await run(core, people["alice"], "/cadence export jan 1 to dec 31")
    assert "on its way" in reply_text(reply)
    await core.drain()
    (card,) = [d.card for d in sent(core) if d.card.attachments]
    assert "Fri 1 Jan 2027 – Fri 31 Dec 2027" in card.title


async def approved_cr(core, people):
    cr = await pending_cr(core, people)
    await click(core, people["alice"], "cr.approve", str(cr.id))
    await click(core, people["victor"], "cr.approve", str(cr.id))
    return cr


@pytest.mark.parametrize("day", ["yesterday", "last monday", "2026-12-31", "feb 30"])
async def test_cr_schedule_refuses_a_past_or_impossible_date_and_changes_nothing(core, day):
    people = await make_engagement(core)
    cr = await approved_cr(core, people)
    r = await run(core, people["victor"], f"/cr schedule ACME-CR-1 {day}")
    assert "in the past" in said(r) or "is not a date" in said(r)
    assert (await get(core, cr.id)).state == "approved"


async def test_a_wrong_cr_schedule_date_can_be_corrected(core):
    people = await make_engagement(core)
    cr = await approved_cr(core, people)
    r = await run(core, people["victor"], "/cr schedule ACME-CR-1 march 1")
    assert "scheduled for Mon 1 Mar 2027" in said(r)
    r = await run(core, people["victor"], "/cr schedule ACME-CR-1 march 8")
    assert "scheduled for Mon 8 Mar 2027 (was Mon 1 Mar 2027)" in said(r)
    assert str((await get(core, cr.id)).scheduled_for) == "2027-03-08"
    # Both dates stay in the record.
    moves = [e.data.get("scheduled_for") for e in await steps(core, cr.id) if e.action == "schedule"]
    assert moves == ["2027-03-01", "2027-03-08"]


def test_a_planned_date_is_read_in_the_speakers_zone_and_past_or_far_dates_are_refused():
    # 23:00 UTC on Sun 3 Jan 2027 is already Monday 4 Jan in Kathmandu (+5:45): "today" is the speaker's.
    now = datetime(2027, 1, 3, 23, 0, tzinfo=UTC)
    kathmandu = ZoneInfo("Asia/Kathmandu")
    day, read = read_day_ahead("today", now=now, tz=kathmandu)
    assert day == date(2027, 1, 4) and read == "“today” read as Mon 4 Jan 2027 in your zone, Asia/Kathmandu"
    with pytest.raises(UserError, match="which is past"):
        read_day_ahead("2027-01-03", now=now, tz=kathmandu)
    with pytest.raises(UserError, match="more than two years ahead"):
        read_day_ahead("2030-01-10", now=now, tz=kathmandu, years=2)
    assert read_day_ahead("2030-01-10", now=now, tz=kathmandu)[0] == date(2030, 1, 10)  # within five
