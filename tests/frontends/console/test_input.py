"""Issue 20, items 16–18: the console a newcomer meets first. Driven in process through ConsoleSession (what
the REPL calls for each line), and as a real process for the end of input and the restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from handlers.console.session import ConsoleSession

ROOT = Path(__file__).resolve().parents[3]


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


SETUP = ("as alice Europe/London", "/cadence setup ACME Acme web shop")


@pytest.mark.parametrize("typed", ["-3h", "- 3h", "3h ago", "back 2h"])
async def test_advance_never_moves_back(sqlite_core, typed):
    session, out = await console(sqlite_core, *SETUP)
    before = sqlite_core.clock.now()
    said = await type_(session, out, f"advance {typed}")
    assert "only moves forward" in said or "usage" in said
    assert sqlite_core.clock.now() == before


async def test_advance_to_a_weekday_whose_time_has_passed_goes_to_next_week_and_says_so(sqlite_core):
    # Mon 4 Jan 2027 08:00 UTC = 08:00 London: 07:00 has passed today, 11:00 has not.
    session, out = await console(sqlite_core, *SETUP)
    said = await type_(session, out, "advance to mon 11:00")
    assert "Mon 4 Jan 2027 11:00 Europe/London" in said and "next Monday" not in said
    said = await type_(session, out, "advance to mon 07:00")
    assert "Mon 11 Jan 2027 07:00 Europe/London (next Monday: 07:00 today has passed)" in said


async def test_advance_to_a_weekday_and_date_goes_to_that_date(sqlite_core):
    session, out = await console(sqlite_core, *SETUP)
    said = await type_(session, out, "advance to mon jan 18 09:05")
    assert "Mon 18 Jan 2027 09:05 Europe/London" in said
    said = await type_(session, out, "advance to tue jan 25 09:05")
    assert "is a Monday, not a Tuesday" in said
    said = await type_(session, out, "advance to feb 30 09:05")
    assert "“feb 30” is not a date" in said


async def test_the_console_shows_zone_names_and_honours_cadence_tz(sqlite_core):
    session, out = await console(sqlite_core, *SETUP, "as dev UTC+5:45")
    assert "You are Dev (Asia/Kathmandu)." in out[-1]
    said = await type_(session, out, "now")
    assert "Asia/Kathmandu" in said and "+0545" not in said
    await type_(session, out, "/cadence tz America/New_York")
    said = await type_(session, out, "now")
    assert "America/New_York" in said


async def test_a_person_introduced_with_as_can_be_mentioned_at_once(sqlite_core):
    session, out = await console(sqlite_core, *SETUP, "as priya Asia/Kolkata", "as alice")
    said = await type_(session, out, "/cadence role @priya developer")
    assert "Priya: developer in ACME." in said


async def test_fill_shows_the_keys_refuses_unknown_ones_and_forms_are_per_user(sqlite_core):
    session, out = await console(sqlite_core, *SETUP, "/cadence role @alice client_sponsor")
    said = await type_(session, out, "/demo new")
    assert "title, when, duration" in said
    said = await type_(session, out, "fill titel=Sprint demo")
    assert "no field “titel”" in said and "title, when, duration" in said
    # Another console user has no form open: Alice's is hers.
    await type_(session, out, "as carol America/New_York")
    said = await type_(session, out, "fill when=tomorrow 3pm")
    assert "No form is open" in said
    await type_(session, out, "as alice")
    said = await type_(session, out, "fill when=tomorrow 3pm")
    assert "Schedule this demo?" in said


async def test_a_bare_click_asks_which_when_the_card_has_several_buttons(sqlite_core):
    session, out = await console(sqlite_core, *SETUP, "/cadence role @alice client_sponsor")
    await type_(session, out, "/demo schedule tomorrow 3pm Sprint demo")
    said = await type_(session, out, "click")
    assert "Which one?" in said and "Confirm" in said and "Cancel" in said
    said = await type_(session, out, "click confirm")
    assert "Scheduled" in said


def run_console(db: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "app.py", "console", "--virtual-clock", "--database-url", f"sqlite:///{db}"],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ},
    )


def test_end_of_input_inside_fill_ends_cleanly_and_the_virtual_clock_survives_a_restart(tmp_path):
    db = tmp_path / "c.db"
    first = run_console(db, "as alice Europe/London\n/cadence setup ACME Acme\n/demo new\nfill\nSprint demo\n")
    assert first.returncode == 0, first.stderr[-2000:]
    assert "Traceback" not in first.stdout + first.stderr
    assert "The form was not sent (input ended)" in first.stdout
    assert "Virtual clock starts at the real time" in first.stdout

    second = run_console(db, "advance 30d\nquit\n")
    assert second.returncode == 0, second.stderr[-2000:]
    third = run_console(db, "now\nquit\n")
    assert "Virtual clock resumed at" in third.stdout
    # 30 days ahead of real time: the saved time, not the real one.
    later = datetime.now(UTC) + timedelta(days=30)
    assert f"{later.day} {later:%b %Y}" in third.stdout.split("> now")[1]
    assert "Traceback" not in third.stdout + third.stderr


def test_ctrl_c_at_the_prompt_ends_cleanly(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "app.py", "console", "--virtual-clock", "--database-url", f"sqlite:///{tmp_path / 'c.db'}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    while "Virtual clock" not in (proc.stdout.readline() or "Virtual clock"):
        pass  # started: now waiting at the prompt for a line that never comes
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-2000:]
    assert "Bye." in out and "Traceback" not in out + err
