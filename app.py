"""Cadence: wire settings, storage, the core, its scheduler and the front ends, and run them.

python app.py [serve]          the HTTP server: /slack/events, /api/messages, /healthz
python app.py console [--virtual-clock] [--as NAME]   a local session, no account needed
python app.py demo             a scripted short engagement on a virtual clock, printed
python app.py db upgrade|current|downgrade REV
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Coroutine
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.kernel.settings import Settings, load_settings

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

log = logging.getLogger("cadence")
CONSOLE_LOG = "cadence.log"  # where the console and the demo log, so log lines never interleave with the chat

CORE = web.AppKey("core", object)
FRONTENDS = web.AppKey("frontends", list)


def build_web_app(core: Cadence, settings: Settings) -> web.Application:
    """The aiohttp application with every front end whose credentials are present."""
    app = web.Application(client_max_size=1024 * 1024)
    app[CORE] = core
    app[FRONTENDS] = []

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "frontends": [type(f).__name__ for f in app[FRONTENDS]]})

    app.router.add_get("/healthz", healthz)
    # Imported here, not at the top: the console runs without loading either platform's SDK.
    from handlers.slack import app as slack
    from handlers.teams import frontend as teams

    for module in (slack, teams):
        frontend = module.setup(core, settings, app)
        if frontend is not None:
            app[FRONTENDS].append(frontend)

    async def on_startup(_app: web.Application) -> None:
        for frontend in app[FRONTENDS]:
            await frontend.start()

    async def on_cleanup(_app: web.Application) -> None:
        for frontend in app[FRONTENDS]:
            await frontend.stop()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


async def serve(settings: Settings) -> None:
    from bot.bootstrap import create_core

    core = await create_core(settings.database_url, sweep_seconds=settings.sweep_seconds)
    core.outbox.lease = timedelta(seconds=settings.outbox_lease_seconds)
    app = build_web_app(core, settings)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    # Everything loaded so far (the libraries, the app) lives as long as the process: move it out of the
    # garbage collector's sight, so a full collection no longer walks it. About 20 % less CPU per delivered
    # message (bench/timer_lateness.py); the usual gc.freeze() advice for long-running servers.
    gc.collect()
    gc.freeze()
    # Collect the youngest generation after 50,000 net allocations instead of 700: a burst of deliveries
    # allocates many short-lived objects, nearly all freed by reference counting, and the default threshold
    # ran a collection every few messages (about 10 % of the CPU per message, bench/timer_lateness.py,
    # measured A/B). Only cyclic garbage waits longer; bench/memory.py keeps the peak in view.
    gc.set_threshold(50_000, 20, 10)
    await core.start()
    log.info("Cadence serving on %s:%s", settings.host, settings.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down: finishing in-flight work")
    await site.stop()  # stop taking requests
    await core.stop()  # stop taking timers; let the running tick finish
    await runner.cleanup()
    await core.engine.dispose()


def run_server(main_coro: Coroutine[Any, Any, None]) -> None:
    """Run the server on uvloop where it is installed (libuv's event loop: about a fifth less CPU per
    delivered message than asyncio's own, bench/timer_lateness.py), else on asyncio's."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main_coro)
        return
    uvloop.run(main_coro)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="app.py", description="Cadence chat bot")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the HTTP server (default)")
    console = sub.add_parser("console", help="a local session on the embedded database")
    console.add_argument("--virtual-clock", action="store_true", help="time moves only with `advance`")
    console.add_argument("--as", dest="user", default="alice", help="who you are at start")
    console.add_argument("--database-url", default=None)
    demo = sub.add_parser("demo", help="play a scripted engagement and print the transcript")
    demo.add_argument("--database-url", default=None)
    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade", "current", "downgrade"])
    db.add_argument("revision", nargs="?", default=None)
    args = parser.parse_args(argv)
    settings = load_settings()
    logging.basicConfig(
        level=getattr(logging, settings.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    command = args.command or "serve"
    if command in ("console", "demo"):
        # A person is reading: log lines (warnings with real timestamps) go to a file, not among the chat.
        logging.basicConfig(
            level=logging.WARNING,
            filename=CONSOLE_LOG,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            force=True,
        )
    if command == "serve":
        run_server(serve(settings))
        return 0
    if command == "db":
        from storage import migrate

        if args.action == "upgrade":
            migrate.upgrade(settings.database_url, args.revision or "heads")
        elif args.action == "downgrade":
            migrate.downgrade(settings.database_url, args.revision or "base")
        else:
            migrate.current(settings.database_url)
        return 0
    if command == "console":
        from handlers.console.repl import run_console

        url = args.database_url or settings.database_url
        try:
            return asyncio.run(run_console(url, virtual=args.virtual_clock, user=args.user, log=CONSOLE_LOG))
        except KeyboardInterrupt:  # Ctrl-C: end cleanly, never with a traceback
            print("\nBye.")
            return 0
    if command == "demo":
        from handlers.console.demo import run_demo

        return asyncio.run(run_demo(args.database_url))
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
