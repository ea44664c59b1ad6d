"""A small closed-loop HTTP load generator: `concurrency` clients each sending requests back to back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import aiohttp
from _common import emit, percentile


async def closed_loop(
    url: str, make: Callable[[int], tuple[bytes, dict[str, str]]], *, concurrency: int, total: int
) -> dict[str, float]:
    """Send `total` requests from `concurrency` concurrent clients; latency of each, requests per second."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = iter(range(total))
    conn = aiohttp.TCPConnector(limit=concurrency + 5)
    async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=30)) as http:

        async def client() -> None:
            for i in counter:
                body, headers = make(i)
                started = time.perf_counter()
                try:
                    async with http.post(url, data=body, headers=headers) as resp:
                        await resp.read()
                        statuses[resp.status] = statuses.get(resp.status, 0) + 1
                except (TimeoutError, aiohttp.ClientError):
                    statuses[0] = statuses.get(0, 0) + 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    ok = sum(n for status, n in statuses.items() if 200 <= status < 300)
    return {
        "p50": percentile(latencies, 50) * 1000,
        "p95": percentile(latencies, 95) * 1000,
        "p99": percentile(latencies, 99) * 1000,
        "rps": len(latencies) / wall,
        "ok": ok,
        "failed": len(latencies) - ok,
    }


def report(prefix: str, r: dict[str, float]) -> None:
    emit(f"{prefix}_p50", r["p50"], "ms")
    emit(f"{prefix}_p95", r["p95"], "ms")
    emit(f"{prefix}_p99", r["p99"], "ms")
    emit(f"{prefix}_rps", r["rps"], "req/s")
    if r["failed"]:
        emit(f"{prefix}_failed", int(r["failed"]))
