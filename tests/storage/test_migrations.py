"""Alembic owns the schema: upgrade from empty on both databases, and models match migrations."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.db import async_url, create_engine
from storage.migrate import downgrade, upgrade
from storage.models import Base
from tests.conftest import in_thread


async def _diff(url: str) -> list:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:

            def compare(sync_conn):
                mc = MigrationContext.configure(sync_conn, opts={"compare_type": False})
                return compare_metadata(mc, Base.metadata)

            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_upgrade_from_empty_and_models_match(any_db_url):
    # any_db_url is already migrated; the models must match what the migrations built.
    assert await _diff(any_db_url) == []
    assert {"engagements", "timers", "outbox", "audit_log"} <= await _tables(any_db_url)


async def test_downgrade_to_empty_and_up_again_on_sqlite(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    in_thread(upgrade, url)
    in_thread(downgrade, url, "base")
    assert await _tables(url) <= {"alembic_version"}
    in_thread(upgrade, url)
    assert "timers" in await _tables(url)


async def test_audit_log_is_append_only_in_the_database(any_db_url):
    from datetime import datetime

    from storage.models import AuditEntry

    engine = create_engine(any_db_url)
    from storage.db import session_factory

    sf = session_factory(engine)
    async with sf() as s, s.begin():
        s.add(
            AuditEntry(
                entity_type="x",
                entity_id=1,
                action="made",
                actor_label="t",
                data={},
                at=datetime(2027, 1, 1, tzinfo=UTC),
            )
        )
    with pytest.raises(Exception, match="append-only"):
        async with sf() as s, s.begin():
            await s.execute(sa.update(AuditEntry).values(comment="edited"))
    with pytest.raises(Exception, match="append-only"):
        async with sf() as s, s.begin():
            await s.execute(sa.delete(AuditEntry))
    await engine.dispose()


def test_plain_postgres_urls_pick_a_driver():
    assert async_url("postgresql://u@h/db").drivername == "postgresql+asyncpg"
    assert async_url("postgres://u@h/db").drivername == "postgresql+asyncpg"
    assert async_url("postgresql://u@h/db?sslmode=require").query == {"ssl": "require"}
    assert async_url("sqlite:///x.db").drivername == "sqlite+aiosqlite"
