"""Decisions and action items on the console, typed as a newcomer would: a decision, the client PM's dispute
through the button and its form, an action item by @mention with the date read back, the owner's morning
reminder on the due day in their own zone, and done."""

from __future__ import annotations

from handlers.console.session import ConsoleSession


async def type_(session: ConsoleSession, out: list[str], line: str) -> str:
    start = len(out)
    await session.handle(line)
    return "\n".join(out[start:])


SETUP = (
    "as alice Europe/London",
    "/cadence setup ACME Acme web shop as client_sponsor",
    "as victor Asia/Kolkata",
    "as carol America/New_York",
    "as alice",
    "/cadence role @victor vendor_pm",
    "/cadence role @carol client_pm",
)


async def test_decision_dispute_action_reminder_done_on_the_console(sqlite_core):
    out: list[str] = []
    session = ConsoleSession(core=sqlite_core, out=out.append, virtual=True)
    for line in SETUP:
        await session.handle(line)
    await type_(session, out, "as victor")
    said = await type_(session, out, "/decision We ship the beta without SSO")
    assert "Recorded ACME-DEC-1" in said and "Decision ACME-DEC-1" in said, said

    await type_(session, out, "as carol")
    said = await type_(session, out, "click dispute")
    assert "Dispute ACME-DEC-1" in said and "reason" in said, said
    said = await type_(session, out, "fill reason=SSO is a launch blocker for us")
    assert "You disputed ACME-DEC-1" in said and "(client side) disputed ACME-DEC-1" in said, said
    said = await type_(session, out, "/decision list disputed")
    assert "ACME-DEC-1" in said and "disputed" in said

    await type_(session, out, "as victor")
    said = await type_(session, out, "/action @carol send the sandbox keys by fri")
    assert "Saved ACME-A-1" in said and "read as Fri 8 Jan 2027 in your zone, Asia/Kolkata" in said, said

    await type_(session, out, "as carol")
    said = await type_(session, out, "advance to fri 10:00")
    assert "Action ACME-A-1 is due Fri 8 Jan 2027" in said, said
    said = await type_(session, out, "/action done ACME-A-1")
    assert "Marked ACME-A-1 done" in said, said
    said = await type_(session, out, "/action list")
    assert "None open." in said
