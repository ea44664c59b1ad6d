"""`python app.py console`: type commands as a named user in a local workspace."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

from bot.bootstrap import create_core
from bot.clock import ManualClock, SystemClock
from bot.text import clean
from handlers.console.session import ConsoleSession

INTRO = """Cadence console — a local workspace, no account needed.
  as NAME [ZONE]   act as someone (e.g. `as priya Asia/Kolkata`)
  in #channel | in dm   where you type
  help             Cadence's commands (same words as Slack and Teams)
  click N          press button N      fill   fill the open form
  advance 3h | advance to mon 09:30   (with --virtual-clock)      now      quit
Start with: /cadence setup ACME Acme web shop"""


async def _ask(prompt: str) -> str:
    return (await asyncio.to_thread(input, prompt)).strip()


async def run_console(database_url: str, *, virtual: bool, user: str) -> int:
    clock = ManualClock(datetime.now(UTC).replace(second=0, microsecond=0)) if virtual else SystemClock()
    core = await create_core(database_url, clock=clock)
    session = ConsoleSession(core=core, virtual=virtual, user=user.lower())
    print(INTRO)
    if not virtual:
        await core.start()
    interactive = sys.stdin.isatty()
    try:
        while True:
            try:
                line = await _ask(
                    f"{session.user}@{'dm' if session.channel == 'dm' else '#' + session.channel}> "
                    if interactive
                    else ""
                )
            except EOFError:
                break
            if not interactive and line:
                # The transcript shows the line as Cadence reads it (bot/text.py: clean): a bidi override
                # typed into a script must not reorder what the transcript shows either.
                print(f"> {clean(line)}")
            if not await session.handle(line, _ask):
                break
    finally:
        if not virtual:
            await core.stop()
        await core.engine.dispose()
    return 0
