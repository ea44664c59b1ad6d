"""`python app.py demo`: a short engagement played on a virtual clock, printed as a transcript.

Each step is what a person would type in the console; features that are not installed are skipped."""
from __future__ import annotations

import tempfile
from datetime import datetime, timezone
from pathlib import Path

from bot.bootstrap import create_core
from bot.clock import ManualClock
from handlers.console.session import ConsoleSession

START = datetime(2027, 3, 8, 7, 0, tzinfo=timezone.utc)  # Monday of the week the US moves its clocks

# (feature command needed or None, line typed)
SCRIPT: list[tuple[str | None, str]] = [
    (None, "# Alice (client sponsor, London) sets up the engagement in #general"),
    (None, "as alice Europe/London"),
    (None, "/cadence setup ACME Acme web shop"),
    (None, "as carol America/New_York"),
    (None, "/cadence whoami"),
    (None, "as victor Asia/Kolkata"),
    (None, "/cadence whoami"),
    (None, "as dev Asia/Kathmandu"),
    (None, "/cadence whoami"),
    (None, "as quinn America/St_Johns"),
    (None, "/cadence whoami"),
    (None, "as alice"),
    (None, "/cadence role @alice client_sponsor"),
    (None, "/cadence role @carol client_pm"),
    (None, "/cadence role @victor vendor_pm vendor_lead"),
    (None, "/cadence role @dev developer"),
    (None, "/cadence role @quinn qa"),
    (None, "/cadence settings support_tz Asia/Kolkata"),
    (None, "/cadence members"),
]


async def run_demo(database_url: str | None = None, *, out=print) -> int:  # noqa: ANN001
    tmp = None
    if database_url is None:
        tmp = tempfile.TemporaryDirectory(prefix="cadence-demo-")
        database_url = f"sqlite:///{Path(tmp.name) / 'demo.db'}"
    core = await create_core(database_url, clock=ManualClock(START))
    session = ConsoleSession(core=core, out=out, virtual=True)
    commands = {cmd for cmd, _ in core.registry.commands}
    try:
        out(f"Cadence demo — virtual clock starts {START:%a %d %b %Y %H:%M} UTC\n")
        for needs, line in SCRIPT:
            if needs and (needs, None) not in core.registry.commands and not any(
                    c == needs for c in commands):
                continue
            if line.startswith("#"):
                out(f"\n{line}")
                continue
            out(f"{session.user}> {line}")
            await session.handle(line)
    finally:
        await core.engine.dispose()
        if tmp is not None:
            tmp.cleanup()
    return 0
