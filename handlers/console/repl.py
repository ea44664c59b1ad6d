"""`python app.py console`: type commands as a named user in a local workspace."""

from __future__ import annotations

import asyncio
import queue
import sys
import threading
from datetime import UTC, datetime

from bot.bootstrap import create_core
from bot.kernel.clock import ManualClock, SystemClock
from bot.kernel.dispatcher import Cadence
from bot.kernel.text import clean
from handlers.console import clock_store
from handlers.console.session import ConsoleSession

INTRO = """Cadence console — a local workspace, no account needed.
  as NAME [ZONE]   act as someone (e.g. `as priya Asia/Kolkata`)
  in #channel | in dm   where you type
  help             Cadence's commands (same words as Slack and Teams)
  click N          press button N (a bare `click` presses the newest card's only button)
  fill             fill the open form, asking each field — or `fill key=value; key=value`
  advance 3h | advance to mon 09:30 | advance to dec 28 09:05   (with --virtual-clock)
  now              quit (or Ctrl-D)
Warnings and errors go to the log file {log}, not among the chat.
Start with: /cadence setup ACME Acme web shop"""


class _Keyboard:
    """Reads lines on a daemon thread, so that Ctrl-C or the end of the session never waits for a blocked
    `input()` (asyncio.to_thread's pool thread would hold the process open until Enter)."""

    def __init__(self) -> None:
        self._prompts: queue.Queue[tuple[str, asyncio.Future[str], asyncio.AbstractEventLoop]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True, name="console-input").start()

    def _read(self) -> None:
        while True:
            prompt, future, loop = self._prompts.get()
            try:
                line = input(prompt)
            except (EOFError, KeyboardInterrupt) as exc:  # Ctrl-D; Ctrl-C arrives in the main thread
                loop.call_soon_threadsafe(_settle, future, None, EOFError(str(exc)))
                continue
            loop.call_soon_threadsafe(_settle, future, line, None)

    async def ask(self, prompt: str) -> str:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()
        self._prompts.put((prompt, future, loop))
        return (await future).strip()


def _settle(future: asyncio.Future[str], line: str | None, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(line or "")


async def run_console(database_url: str, *, virtual: bool, user: str, log: str = "cadence.log") -> int:
    clock = ManualClock(datetime.now(UTC).replace(second=0, microsecond=0)) if virtual else SystemClock()
    core = await create_core(database_url, clock=clock)
    session = ConsoleSession(core=core, virtual=virtual, user=user.lower())
    print(INTRO.format(log=log))
    if isinstance(clock, ManualClock):
        await _resume_clock(core, clock)
    else:
        await core.start()
    interactive = sys.stdin.isatty()
    keyboard = _Keyboard()
    _ask = keyboard.ask
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
                # The transcript shows the line as Cadence reads it (bot/kernel/text.py: clean): a bidi override
                # typed into a script must not reorder what the transcript shows either.
                print(f"> {clean(line)}")
            if not await session.handle(line, _ask):
                break
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("\nBye.")
    finally:
        if not virtual:
            await core.stop()
        await core.engine.dispose()
    return 0


async def _resume_clock(core: Cadence, clock: ManualClock) -> None:
    """Resume the virtual time this database was left at; say which time the clock starts from."""
    saved = await clock_store.load(core)
    if saved is not None and saved > clock.now():
        clock.set(saved)
        print(f"Virtual clock resumed at {saved:%a} {saved.day} {saved:%b %Y %H:%M} UTC, where this database left it.")
    else:
        print(
            f"Virtual clock starts at the real time, {clock.now():%a} {clock.now().day} {clock.now():%b %Y %H:%M} UTC."
        )
        await clock_store.save(core, clock.now())
