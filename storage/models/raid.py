"""Tables of the RAID log (bot/features/raid/): risks, assumptions, issues and dependencies, each with an owner
and a review date, and the history of every update. Items are never deleted (a closed item stays, with its
history); the history is append-only in the database."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import JSONType, UTCDateTime


class RaidItem(Base):
    """One entry of the log (`ACME-R-4`), numbered per engagement. `kind`: risk | assumption | issue |
    dependency; `status`: red | amber | green; `state`: open | closed."""

    __tablename__ = "raid_items"
    __table_args__ = (UniqueConstraint("engagement_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(8), default="open")
    owner_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    # A calendar date, read in the zone of whoever typed it; the owner is reminded at their own morning on it.
    review_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RaidChange(Base):
    """One update of an item: who, when, what changed ({field: [old, new]}) and the note given."""

    __tablename__ = "raid_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("raid_items.id"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    changes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    note: Mapped[str | None] = mapped_column(Text)
