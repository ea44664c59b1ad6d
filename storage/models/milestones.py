"""Tables of the milestones feature: milestones, their acceptance rounds, rectification items, proposals to
move a due date, and the project acceptance that starts the warranty (bot/features/milestones/)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import UTCDateTime


class Milestone(Base):
    """A milestone of the plan (`ACME-M-3`). `state`: planned → submitted → accepted | deemed_accepted, or
    submitted → rejected → submitted (the next round). `round` counts submissions (0: never submitted)."""

    __tablename__ = "milestones"
    __table_args__ = (UniqueConstraint("engagement_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    due_date: Mapped[date] = mapped_column(Date)
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    deliverables: Mapped[str | None] = mapped_column(Text)
    criteria: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(24), default="planned")
    round: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MilestoneRound(Base):
    """One submission for acceptance and its outcome. The window's length and whether it ends in deemed
    acceptance are copied in at submission: a later change of the rule does not move an open window.
    `outcome` is set once (a conditional update): accepted | accepted_with_remarks | rejected | deemed_accepted."""

    __tablename__ = "milestone_rounds"
    __table_args__ = (UniqueConstraint("milestone_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    delivered: Mapped[str] = mapped_column(Text)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    window_days: Mapped[int] = mapped_column(Integer)
    window_ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deemed_acceptance: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str | None] = mapped_column(String(24))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    remarks: Mapped[str | None] = mapped_column(Text)


class RectificationItem(Base):
    """One reason of a rejection, to be put right by its due date (`ACME-M-3-R2`). Numbered per milestone
    across rounds, so an item's id never changes."""

    __tablename__ = "milestone_rectifications"
    __table_args__ = (UniqueConstraint("milestone_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))


class MilestoneChange(Base):
    """A proposal to move a milestone's due date, made by one side once both sides have an admin and
    decided by the other side's admins: pending → approved | rejected | withdrawn. Never deleted."""

    __tablename__ = "milestone_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id"), index=True)
    old_due: Mapped[date] = mapped_column(Date)
    new_due: Mapped[date] = mapped_column(Date)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    proposed_side: Mapped[str] = mapped_column(String(8))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)


class ProjectAcceptance(Base):
    """The project acceptance: the final milestone accepted (or deemed accepted), who, when, remarks, and
    the warranty it started. One per engagement; append-only (the database refuses edits)."""

    __tablename__ = "project_acceptances"

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), unique=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id"))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_on: Mapped[date] = mapped_column(Date)  # the acceptance date in the client's calendar
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))  # None: deemed accepted
    deemed: Mapped[bool] = mapped_column(Boolean, default=False)
    remarks: Mapped[str | None] = mapped_column(Text)
    warranty_months: Mapped[int] = mapped_column(Integer)
    warranty_until: Mapped[date] = mapped_column(Date)
