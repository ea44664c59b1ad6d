"""Acknowledging Slack only once the work is committed — within Slack's 3-second limit.

An ack tells Slack (and the person) that Cadence has their command or click. If the process died right
after an early ack, a change request filed that way would be lost. So the core call starts first and the
ack goes out when it has committed, or when the budget runs out (a slow database), whichever is first;
the work then carries on after the ack as before."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

# Slack allows 3 s; leave room for the network and for the ack itself.
ACK_BUDGET_SECONDS = 2.0


async def ack_after(
    ack: Callable[..., Awaitable[Any]], work: Awaitable[T], *, started: float, budget: float = ACK_BUDGET_SECONDS
) -> T:
    """Run `work`; ack when it is done or when `budget` seconds since `started` have passed."""
    task = asyncio.ensure_future(work)
    remaining = budget - (asyncio.get_running_loop().time() - started)
    try:
        await asyncio.wait({task}, timeout=max(remaining, 0))
    finally:
        await ack()
    return await task
