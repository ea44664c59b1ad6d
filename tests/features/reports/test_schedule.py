"""The weekly report's schedule: Monday 09:00 in the home zone across a DST change, settings changes,
off/on, who may change it; and the pure slot arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from sqlalchemy import select

from bot.features.reports import schedule
from storage.models import Timer
from tests.helpers import make_engagement, reply_text, run, sent

UTC = UTC
NY_ONLY = {"alice": ("America/New_York", ["client_sponsor"])}


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def eng(tz: str, **report) -> SimpleNamespace:
    return SimpleNamespace(id=7, home_tz=tz, settings={"report": report} if report else {})


async def walk(core, until: datetime, log: list) -> None:
    """Timer to timer up to `until`, noting when each report is delivered."""
    core.messengers["console"].on_deliver = lambda d: log.append((core.clock.now(), d))
    while True:
        await core.drain()
        now = core.clock.now()
        if now >= until:
            return
        due = await core.timers.next_due()
        core.clock.advance((until if due is None or due <= now else min(due, until)) - now)


def report_times(log: list) -> list[datetime]:
    return [t for t, d in log if d.op == "post" and "health report" in d.card.title]


async def pending(core) -> list[Timer]:
    async with core.session_factory() as s:
        return list(await s.scalars(select(Timer).where(Timer.kind == schedule.KIND, Timer.status == "pending")))


def test_next_slot_keeps_local_wall_time_across_dst():
    ny = eng("America/New_York")
    # 2027: DST starts Sun 14 Mar (New York) and Sun 28 Mar (London); ends Sun 7 Nov / Sun 31 Oct.
    assert schedule.next_slot(ny, at(2027, 3, 8, 14, 0)) == at(2027, 3, 15, 13, 0)  # EST → EDT
    assert schedule.next_slot(ny, at(2027, 3, 15, 12, 59)) == at(2027, 3, 15, 13, 0)
    assert schedule.next_slot(ny, at(2027, 11, 1, 13, 0)) == at(2027, 11, 8, 14, 0)  # EDT → EST
    london = eng("Europe/London", weekday=4, time="16:30")
    assert schedule.next_slot(london, at(2027, 3, 22, 0, 0)) == at(2027, 3, 26, 16, 30)
    assert schedule.next_slot(london, at(2027, 3, 26, 16, 30)) == at(2027, 4, 2, 15, 30)  # BST
    # Odd offsets: Kathmandu +05:45.
    assert schedule.next_slot(eng("Asia/Kathmandu"), at(2027, 1, 4, 0, 0)) == at(2027, 1, 4, 3, 15)
    # A nonsense setting falls back to Monday 09:00.
    assert schedule.next_slot(eng("UTC", weekday="x", time="25:99"), at(2027, 1, 5)) == at(2027, 1, 11, 9, 0)
    assert schedule.key_for(ny, at(2027, 3, 15, 13, 0)) == "report.weekly:7:2027-W11"


async def test_weekly_report_fires_once_a_week_at_nine_new_york_across_dst(sqlite_core, clock, tmp_path):
    core = sqlite_core
    core.messengers["console"].files_dir = tmp_path
    clock.set(at(2027, 3, 1, 12, 0))  # Monday 07:00 EST
    await make_engagement(core, members=NY_ONLY)
    log: list = []
    await walk(core, at(2027, 3, 30), log)
    # 09:00 EST = 14:00 UTC before Sun 14 Mar; 09:00 EDT = 13:00 UTC after.
    assert report_times(log) == [
        at(2027, 3, 1, 14, 0),
        at(2027, 3, 8, 14, 0),
        at(2027, 3, 15, 13, 0),
        at(2027, 3, 22, 13, 0),
        at(2027, 3, 29, 13, 0),
    ]
    assert [(t.key, t.due_at) for t in await pending(core)] == [("report.weekly:1:2027-W14", at(2027, 4, 5, 13, 0))]
    async with core.session_factory() as s:
        done = list(
            await s.scalars(
                select(Timer.key).where(Timer.kind == schedule.KIND, Timer.status == "done").order_by(Timer.due_at)
            )
        )
    assert done == [f"report.weekly:1:2027-W{w:02d}" for w in (9, 10, 11, 12, 13)]


async def test_schedule_change_off_on_and_permissions(sqlite_core, clock):
    core = sqlite_core
    people = await make_engagement(core)  # Mon 4 Jan 08:00 UTC; home zone London (alice)
    assert [t.due_at for t in await pending(core)] == [at(2027, 1, 4, 9, 0)]
    r = await run(core, people["dev"], "/cadence report schedule fri 16:30")
    assert "Only client sponsor" in reply_text(r)
    assert [t.due_at for t in await pending(core)] == [at(2027, 1, 4, 9, 0)]
    r = await run(core, people["alice"], "/cadence report schedule fri 16:30")
    await core.drain()
    assert any("Weekly report: Fri 16:30 Europe/London" in d.text for d in sent(core))
    assert [(t.key, t.due_at) for t in await pending(core)] == [("report.weekly:1:2027-W01", at(2027, 1, 8, 16, 30))]
    r = await run(core, people["alice"], "/cadence report schedule tuesday 7")
    assert [t.due_at for t in await pending(core)] == [at(2027, 1, 5, 7, 0)]
    r = await run(core, people["alice"], "/cadence report schedule someday")
    assert "neither a weekday" in reply_text(r)
    r = await run(core, people["carol"], "/cadence report off")
    assert await pending(core) == []
    r = await run(core, people["carol"], "/cadence report when")
    assert "Weekly report: off." in reply_text(r)
    r = await run(core, people["alice"], "/cadence report on")
    assert [t.due_at for t in await pending(core)] == [at(2027, 1, 5, 7, 0)]
    # The home zone moves: the same local time in the new zone.
    r = await run(core, people["alice"], "/cadence settings home_tz Asia/Kolkata")
    assert [t.due_at for t in await pending(core)] == [at(2027, 1, 5, 1, 30)]
    # Once a week's report went out, a change the same week plans the next week's.
    core.clock.set(at(2027, 1, 5, 1, 30))
    await core.drain()
    r = await run(core, people["alice"], "/cadence report schedule wed 09:00")
    assert [(t.key, t.due_at) for t in await pending(core)] == [("report.weekly:1:2027-W02", at(2027, 1, 13, 3, 30))]


async def test_a_late_report_covers_its_week_and_says_it_is_late(sqlite_core, clock, make_core, db_url):
    core = sqlite_core
    await make_engagement(core)  # Mon 4 Jan 08:00 UTC: the report is due 09:00 London
    await core.engine.dispose()
    clock.set(at(2027, 1, 4, 12, 0))  # the bot was down; it comes back three hours late
    again = await make_core(db_url)
    await again.drain()
    (report,) = [d for d in again.messengers["console"].log if "health report" in d.card.title]
    assert "Sent 3 h 00 min late" in report.card.footer
    assert "Next weekly report" in report.card.footer
    # The period ends at the scheduled time, not when it went out.
    from bot.kernel.text import when

    assert when(at(2027, 1, 4, 9, 0), "date") in report.card.text
    assert [t.due_at for t in await pending(again)] == [at(2027, 1, 11, 9, 0)]
