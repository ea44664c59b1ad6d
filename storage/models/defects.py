"""Tables of the defects feature: defects and the pauses of their resolution clocks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base
from storage.types import JSONType, UTCDateTime


class Defect(Base):
    """A defect (fault) filed in an engagement, with its SLA clocks' state.

    Deadlines are derived from `filed_at`, `severity`, the policy snapshot and the pauses; the
    `*_due_at` columns cache them for listing and sorting (None while the clock is paused or stopped)."""

    __tablename__ = "defects"
    __table_args__ = (
        UniqueConstraint("engagement_id", "number"),
        Index("ix_defects_engagement_state", "engagement_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"))
    number: Mapped[int] = mapped_column(Integer)  # per engagement: ACME-D-12
    title: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(4))  # s1..s4
    state: Mapped[str] = mapped_column(String(24), default="open")
    environment: Mapped[str | None] = mapped_column(String(200))
    steps: Mapped[str | None] = mapped_column(Text)
    expected: Mapped[str | None] = mapped_column(Text)
    actual: Mapped[str | None] = mapped_column(Text)
    affected_users: Mapped[str | None] = mapped_column(String(200))
    attachment_url: Mapped[str | None] = mapped_column(String(2000))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    # The standup answer (a blocker) this defect was filed from, if any.
    source_standup_answer_id: Mapped[int | None] = mapped_column(Integer)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # latest resolve
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    # The SLA policy in force when it was filed (targets, calendar, zone, country): later policy
    # edits apply to defects filed afterwards; a severity change uses this table.
    policy: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    out_of_warranty: Mapped[bool] = mapped_column(Boolean, default=False)
    response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped whenever deadlines move, so timer keys of a new schedule never collide with fired ones.
    timer_generation: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    pauses: Mapped[list[DefectPause]] = relationship(
        back_populates="defect", order_by="DefectPause.started_at", lazy="selectin"
    )


class DefectPause(Base):
    """An interval in which the resolution clock did not run: waiting on the client ("waiting", with
    its reason) or resolved until reopened ("resolved"). `ended_at` None = still paused/stopped."""

    __tablename__ = "defect_pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    defect_id: Mapped[int] = mapped_column(ForeignKey("defects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # waiting | resolved
    reason: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))

    defect: Mapped[Defect] = relationship(back_populates="pauses")
