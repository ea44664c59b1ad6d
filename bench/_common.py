"""Shared plumbing for the benchmarks: --db / --scale options, a fresh database of either kind, bulk seeding
(core insert executemany), percentiles, and plain `name: value` output lines that bench/growth.py parses."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.reliability.cluster import (  # noqa: E402
    drop_pg_database,
    fresh_pg_database,
    seed_engagements,
    seed_notices,
    sqlite_database,
)

__all__ = [
    "ROOT",
    "Database",
    "emit",
    "parser",
    "percentile",
    "seed_defects",
    "seed_engagements",
    "seed_future_timers",
    "seed_notices",
    "seed_people",
]


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--db",
        choices=["sqlite", "postgres"],
        default="sqlite",
        help="database to run on (postgres: $CADENCE_TEST_PG, a fresh database is created)",
    )
    p.add_argument("--scale", type=int, default=1, help="divide the load by this (10, 100, 1000 for the growth table)")
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return p


def emit(name: str, value: Any, unit: str = "") -> None:
    """One figure, one line: `name: value unit`."""
    if isinstance(value, float):
        value = f"{value:.3f}" if abs(value) < 100 else f"{value:.1f}"
    print(f"{name}: {value}{(' ' + unit) if unit else ''}", flush=True)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


class Database:
    """A fresh, migrated database of the kind asked for; `url`, `engine()`; dropped on exit."""

    def __init__(self, kind: str, keep: bool = False) -> None:
        self.kind = kind
        self.keep = keep
        self.url = ""
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._engine = None

    async def __aenter__(self) -> Database:
        if self.kind == "postgres":
            self.url = await fresh_pg_database("cadence_bench")
        else:
            self._tmp = tempfile.TemporaryDirectory(prefix="cadence-bench-")
            self.url = await sqlite_database(Path(self._tmp.name) / "cadence.db")
        return self

    def engine(self):
        if self._engine is None:
            from storage.db import create_engine

            self._engine = create_engine(self.url)
        return self._engine

    async def __aexit__(self, *exc: Any) -> None:
        if self._engine is not None:
            await self._engine.dispose()
        if self.keep:
            print(f"database kept: {self.url}")
            return
        if self.kind == "postgres":
            await drop_pg_database(self.url)
        elif self._tmp is not None:
            self._tmp.cleanup()

    @property
    def workdir(self) -> Path:
        if self._tmp is not None:
            return Path(self._tmp.name)
        d = Path(tempfile.mkdtemp(prefix="cadence-bench-"))
        return d


ZONES_IN_USE = None


def zones_in_use() -> list[str]:
    """Every IANA zone (available_timezones), canonical names only, sorted — a member in each."""
    global ZONES_IN_USE
    if ZONES_IN_USE is None:
        from zoneinfo import available_timezones

        ZONES_IN_USE = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    return ZONES_IN_USE


async def seed_people(
    engine: Any,
    targets: list[tuple[int, str]],
    n: int,
    *,
    platform: str = "slack",
    workspace: str = "T0CADENCE",
    roles: list[str] | None = None,
    chunk: int = 5000,
) -> list[int]:
    """`n` people (spread over every zone) with a Slack identity and a membership in one of `targets`."""
    from sqlalchemy import insert, select

    from storage.models import Identity, Membership, Person

    now = datetime.now(UTC)
    zones = zones_in_use()
    async with engine.begin() as conn:
        base = (await conn.scalar(select(Person.id).order_by(Person.id.desc()).limit(1))) or 0
        people = [
            {
                "display_name": f"Member {base + i + 1}",
                "tz": zones[i % len(zones)],
                "tz_source": "platform",
                "work_days": [0, 1, 2, 3, 4],
                "created_at": now,
            }
            for i in range(n)
        ]
        for k in range(0, n, chunk):
            await conn.execute(insert(Person), people[k : k + chunk])
        ids = list((await conn.scalars(select(Person.id).where(Person.id > base).order_by(Person.id))).all())
        idents = [
            {
                "person_id": pid,
                "platform": platform,
                "workspace_id": workspace,
                "user_id": f"UM{pid:07d}",
                "handle": f"member{pid}",
                "last_seen_at": now,
            }
            for pid in ids
        ]
        members = [
            {
                "engagement_id": targets[i % len(targets)][0],
                "person_id": pid,
                "roles": roles or ["developer"],
                "joined_at": now,
            }
            for i, pid in enumerate(ids)
        ]
        for k in range(0, n, chunk):
            await conn.execute(insert(Identity), idents[k : k + chunk])
            await conn.execute(insert(Membership), members[k : k + chunk])
    return ids


async def seed_defects(engine: Any, targets: list[tuple[int, str]], n: int, reporter_ids: list[int]) -> None:
    """`n` open defects (S1–S4) spread over the engagements, with their SLA due times set."""
    from sqlalchemy import insert

    from storage.models.defects import Defect

    now = datetime.now(UTC)
    sev = ["s1", "s2", "s3", "s4"]
    rows = []
    for i in range(n):
        eid = targets[i % len(targets)][0]
        rows.append(
            {
                "engagement_id": eid,
                "number": i // len(targets) + 1,
                "title": f"Defect {i}",
                "severity": sev[i % 4],
                "state": "open",
                "reporter_id": reporter_ids[i % len(reporter_ids)],
                "filed_at": now,
                "policy": {},
                "out_of_warranty": False,
                "reopen_count": 0,
                "response_due_at": now + timedelta(hours=4 + i % 48),
                "resolution_due_at": now + timedelta(days=2 + i % 10),
                "timer_generation": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
    async with engine.begin() as conn:
        for k in range(0, n, 5000):
            await conn.execute(insert(Defect), rows[k : k + 5000])


async def seed_future_timers(
    engine: Any, targets: list[tuple[int, str]], n: int, *, days: int = 30, start: int = 1_000_000
) -> None:
    """`n` notice timers pending over the next `days` (the standing load a busy deployment carries)."""
    now = datetime.now(UTC)
    step = timedelta(days=days) / max(n, 1)
    dues = [now + timedelta(hours=1) + step * i for i in range(n)]
    for k in range(0, n, 20000):
        await seed_notices(engine, targets, min(20000, n - k), dues[k : k + 20000], start=start + k)


def run(main) -> None:
    started = time.monotonic()
    asyncio.run(main())
    emit("bench_wall_seconds", time.monotonic() - started, "s")


os.environ.setdefault("PYTHONUNBUFFERED", "1")
