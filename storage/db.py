"""Engines and sessions. One async engine per process; the URL users write is normalised to a driver."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry


def async_url(url: str) -> URL:
    """Pick the async driver: `postgresql://…` → asyncpg, `sqlite:///…` → aiosqlite."""
    u = make_url(url.replace("postgres://", "postgresql://", 1) if url.startswith("postgres://") else url)
    backend = u.get_backend_name()
    if backend == "postgresql":
        # asyncpg does not understand libpq's sslmode; translate the common case.
        query = dict(u.query)
        sslmode = query.pop("sslmode", None)
        if sslmode and sslmode != "disable":
            query["ssl"] = sslmode
        return u.set(drivername="postgresql+asyncpg", query=query)
    if backend == "sqlite":
        return u.set(drivername="sqlite+aiosqlite")
    return u


# The execution option that marks a read-only session's connection (read_session_factory).
READ_ONLY = "cadence_read_only"


def is_sqlite(engine_or_url: AsyncEngine | str | URL) -> bool:
    if isinstance(engine_or_url, AsyncEngine):
        return engine_or_url.dialect.name == "sqlite"
    return make_url(str(engine_or_url)).get_backend_name() == "sqlite"


def create_engine(url: str, *, sqlite_synchronous: str = "FULL", **kwargs: Any) -> AsyncEngine:
    """An AsyncEngine for `url`. SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE transactions
    (so two writers queue instead of failing on lock upgrade). `sqlite_synchronous` FULL makes every
    commit survive a power cut; NORMAL (still safe against a process crash in WAL mode) is much faster
    and is what the test suite uses."""
    if sqlite_synchronous.upper() not in ("FULL", "NORMAL", "OFF", "EXTRA"):
        raise ValueError(f"bad sqlite_synchronous {sqlite_synchronous!r}")
    u = async_url(url)
    if u.get_backend_name() == "sqlite":
        engine = create_async_engine(u, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_connect(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_conn.cursor()
            if u.database and u.database != ":memory:":
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute(f"PRAGMA synchronous={sqlite_synchronous.upper()}")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            # A read-only session (read_session_factory) takes no write lock: in WAL mode a deferred
            # transaction reads a snapshot while a writer works, instead of queuing behind every writer.
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(u, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def read_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for look-ups that write nothing: on SQLite they begin a deferred transaction, so they neither
    wait for nor hold up a writer (every other transaction begins IMMEDIATE). The same as session_factory on
    PostgreSQL."""
    return async_sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)
