"""The event loop the bare comparison apps run on: the one Cadence's serve process uses (app.run_server:
uvloop where installed), so both sides of a comparison pay the same for their event loop."""

from __future__ import annotations

import asyncio


def event_loop() -> asyncio.AbstractEventLoop | None:
    """A new uvloop loop, or None (aiohttp's web.run_app then makes an asyncio one)."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop()
