"""Shared fixtures: databases (SQLite always; PostgreSQL when reachable), a manual clock, a started core.

PostgreSQL tests skip with a clear reason when no server answers on $CADENCE_TEST_PG
(default postgresql://postgres@127.0.0.1:5432/test). In CI, CADENCE_REQUIRE_POSTGRES=1 turns that
skip into a failure, so the PostgreSQL half cannot silently not run."""

from __future__ import annotations

import asyncio
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.kernel.clock import ManualClock
from storage.migrate import upgrade

PG_ADMIN_URL = os.environ.get("CADENCE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
START = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # a Monday


def _pg_reachable() -> str | None:
    """None if PostgreSQL answers, else the reason it doesn't."""
    import asyncpg

    async def probe() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql://", "postgres://"), timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
        return None
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}: {exc}"


_PG_STATE: dict[str, str | None] = {}


def in_thread(fn, *args):
    """Run blocking set-up (asyncio.run inside, e.g. Alembic) off the test's event loop."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


def pg_skip_reason() -> str | None:
    if "reason" not in _PG_STATE:
        _PG_STATE["reason"] = in_thread(_pg_reachable)
    return _PG_STATE["reason"]


def require_pg() -> None:
    reason = pg_skip_reason()
    if reason:
        if os.environ.get("CADENCE_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"CADENCE_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating per test would be slow)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    in_thread(upgrade, f"sqlite:///{path}")
    return path


@pytest.fixture
def db_url(sqlite_template: Path, tmp_path: Path) -> str:
    target = tmp_path / "cadence.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture(scope="session")
def pg_database() -> str:
    """A fresh PostgreSQL database for this test session, migrated once."""
    require_pg()
    import asyncpg

    name = f"cadence_test_{os.getpid()}"

    async def create() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql://", "postgres://"))
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()

    in_thread(asyncio.run, create())
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    in_thread(upgrade, url)
    yield url

    async def drop() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql://", "postgres://"))
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()

    in_thread(asyncio.run, drop())


async def _truncate(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql://", "postgres://"))
    try:
        tables = [
            r["tablename"]
            for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'"
            )
        ]
        if tables:
            await conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


@pytest.fixture
async def pg_url(pg_database: str) -> str:
    """The session's PostgreSQL database, emptied (TRUNCATE does not fire the audit triggers)."""
    await _truncate(pg_database)
    return pg_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def any_db_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return request.getfixturevalue("db_url")
    require_pg()
    url = request.getfixturevalue("pg_database")
    await _truncate(url)
    return url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


async def _make_core(url: str, clock: ManualClock):
    import tempfile

    from bot.bootstrap import create_core
    from handlers.console.messenger import ConsoleMessenger

    # NORMAL: safe against a crash of the process (WAL), not a power cut; commits 100× cheaper.
    core = await create_core(url, clock=clock, migrate=False, sqlite_synchronous="NORMAL")
    # Attachments (charts, invites, exports) go to a temporary folder, not the working tree.
    core.messengers["console"] = ConsoleMessenger(files_dir=tempfile.mkdtemp(prefix="cadence-files-"))
    return core


@pytest.fixture
async def core(any_db_url: str, clock: ManualClock):
    """A core on SQLite and on PostgreSQL (each test runs on both), console messenger attached."""
    c = await _make_core(any_db_url, clock)
    yield c
    await c.engine.dispose()


@pytest.fixture
async def sqlite_core(db_url: str, clock: ManualClock):
    c = await _make_core(db_url, clock)
    yield c
    await c.engine.dispose()


@pytest.fixture
async def pg_core(pg_url: str, clock: ManualClock):
    c = await _make_core(pg_url, clock)
    yield c
    await c.engine.dispose()


@pytest.fixture
def make_core(clock: ManualClock):
    """Build more cores on a database (a restart, or a second replica); dispose their engines yourself."""
    made = []

    async def factory(url: str, at_clock: ManualClock | None = None):
        c = await _make_core(url, at_clock or clock)
        made.append(c)
        return c

    return factory
