"""The append-only record of decisions and transitions (the database refuses edits)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry, Person


async def record(
    session: AsyncSession,
    *,
    now: datetime,
    engagement_id: int | None,
    entity_type: str,
    entity_id: int | None,
    action: str,
    from_state: str | None = None,
    to_state: str | None = None,
    actor: Person | None = None,
    comment: str | None = None,
    data: dict[str, Any] | None = None,
    on_behalf_of: Person | None = None,
) -> AuditEntry:
    """Append one entry: who, when, from, to, why."""
    entry = AuditEntry(
        engagement_id=engagement_id,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor_id=actor.id if actor else None,
        actor_label=actor.display_name if actor else "Cadence",
        on_behalf_of_id=on_behalf_of.id if on_behalf_of else None,
        comment=comment,
        data=data or {},
        at=now,
    )
    session.add(entry)
    await session.flush()
    return entry


async def history(session: AsyncSession, *, entity_type: str, entity_id: int) -> list[AuditEntry]:
    """Every entry for one entity, oldest first."""
    rows = await session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    return list(rows)
