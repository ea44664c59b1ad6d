"""The contract's history: every change of an agreed term, proposed by one side and, once both sides have
an admin, approved or rejected by the other (bot/kernel/contract.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import JSONType, UTCDateTime


class ContractChange(Base):
    """One amendment. `status`: pending (a proposal) → approved | rejected | withdrawn; or `agreed` at once
    while the other side had no admin yet. Never deleted: the rows are the contract's history."""

    __tablename__ = "contract_changes"
    __table_args__ = (UniqueConstraint("engagement_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    term: Mapped[str] = mapped_column(String(64))
    old_text: Mapped[str] = mapped_column(String(300))
    new_text: Mapped[str] = mapped_column(String(300))
    # What applying it writes: {"columns": {name: value}, "settings": {feature: {key: value}}}.
    changes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    proposed_side: Mapped[str] = mapped_column(String(8))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)
