"""Working hours on the console (driven in process through ConsoleSession, what the REPL calls for each line):
`/cadence hours`, `/cadence overlap` in the viewer's own zone, and a demo outside someone's hours confirmed at
the suggested time with `click use`."""

from __future__ import annotations

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


SETUP = (
    "as carol America/New_York",
    "/cadence setup ACME Acme web shop as client_pm",
    "as lena Europe/Berlin",
    "/cadence whoami",
    "as carol",
    "/cadence role @lena vendor_pm",
)


async def test_hours_overlap_and_a_demo_on_the_console(sqlite_core):
    session, out = await console(sqlite_core, *SETUP)
    said = await type_(session, out, "/cadence hours 8am-4pm")
    assert "Your working hours are now 08:00–16:00" in said
    said = await type_(session, out, "/cadence hours 4pm-8am")
    assert "not after the start" in said
    # Carol 13:00–21:00 UTC, Lena 08:00–17:00 UTC: 13:00–17:00 UTC, 08:00–12:00 in New York.
    said = await type_(session, out, "/cadence overlap")
    assert "Both sides are at work" in said and "08:00" in said and "12:00" in said and "(4 h 00 min)" in said
    await type_(session, out, "as lena")
    said = await type_(session, out, "/cadence overlap")
    assert "(your date, Europe/Berlin)" in said and "14:00" in said and "18:00" in said

    await type_(session, out, "as carol")
    said = await type_(session, out, "/demo schedule next thu 2pm | Review")  # 20:00 in Berlin
    assert "Lena — Thu 20:00 Europe/Berlin: after their working hours (09:00–18:00)" in said
    assert "Use Thu 7 Jan 11:00 America/New_York" in said
    said = await type_(session, out, "click use")
    assert "Scheduled ACME-DEMO-1" in said
    said = await type_(session, out, "/demo list")
    assert "Thu 7 Jan 2027 11:00 America/New_York" in said
