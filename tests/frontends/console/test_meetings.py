"""Meetings in the console, driven in process through ConsoleSession (what the REPL calls for each line): the
confirmation in the reader's own zone, the form filled field by field, the agenda at its time; and the scripted
`python app.py demo` showing a weekly sync and its agenda."""

from __future__ import annotations

from handlers.console.demo import run_demo
from handlers.console.session import ConsoleSession


async def console(core, *lines: str) -> tuple[ConsoleSession, list[str]]:
    out: list[str] = []
    session = ConsoleSession(core=core, out=out.append, virtual=True)
    for line in lines:
        await session.handle(line)
    return session, out


async def type_(session: ConsoleSession, out: list[str], line: str) -> str:
    start = len(out)
    await session.handle(line)
    return "\n".join(out[start:])


async def test_schedule_confirm_and_agenda_in_the_console(sqlite_core):
    session, out = await console(
        sqlite_core,
        "as alice Europe/London",
        "/cadence setup ACME Acme web shop as client_sponsor",
        "as victor Asia/Kolkata",
        "/cadence whoami",
        "as alice",
        "/cadence role @victor vendor_pm",
    )
    shown = await type_(session, out, "/meeting schedule review first tuesday of the month 15:00")
    # Alice reads it in London: 15:00 in London, every month on the first Tuesday; Victor's zone is listed.
    assert "Tue 5 Jan 2027 15:00 Europe/London" in shown and "Tue 5 Jan 2027 20:30 Asia/Kolkata" in shown
    assert "every month on the first Tuesday" in shown
    assert "Scheduled ACME-MTG-1: Monthly review" in await type_(session, out, "click confirm")
    await type_(session, out, "as victor")
    assert "Added to ACME-MTG-1" in await type_(session, out, "/meeting agenda add Plan vs actual")
    listed = await type_(session, out, "/meeting list")
    assert "ACME-MTG-1 · Monthly review — next Tue 5 Jan 2027 20:30 Asia/Kolkata" in listed  # Victor's time
    posted = await type_(session, out, "advance to tue 19:35")  # Victor's clock: an hour before, and a bit
    assert "Agenda: Monthly review" in posted
    assert (
        "Plan vs actual — added by Victor" in posted
        and "The month's figures (December 2026, from the health report)" in posted
    )


async def test_the_form_in_the_console(sqlite_core):
    session, out = await console(sqlite_core, "as carol America/New_York", "/cadence setup ACME Acme web shop")
    opened = await type_(session, out, "/meeting new")
    assert "Schedule a meeting" in opened
    shown = await type_(session, out, "fill kind=kickoff; when=thu 10:00; title=")
    assert "Kick-off" in shown and "Thu 7 Jan 2027 10:00 America/New_York" in shown and "Repeats" not in shown
    assert "Scheduled ACME-MTG-1: Kick-off" in await type_(session, out, "click confirm")


async def test_the_scripted_demo_shows_a_weekly_sync_and_its_agenda(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the console writes invites under ./reports
    out: list[str] = []
    assert await run_demo(f"sqlite:///{tmp_path / 'demo.db'}", out=out.append) == 0
    text = "\n".join(out)
    assert "Scheduled ACME-MTG-1: Weekly sync" in text
    agenda = text[text.index("Agenda: Weekly sync") :]
    assert "Payment sandbox keys from Acme (my standup blocker) — added by Dev" in agenda
    assert "UAT dates for sprint 4 — added by Carol" in agenda
    assert "Traceback" not in text and "went wrong" not in text
