"""Tables of the change requests feature: the requests and the approvers' decisions.

Transitions and decisions are also appended to the core `audit_log` (append-only at the database
level); these tables hold the current state and make a duplicate decision impossible."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import JSONType, UTCDateTime


class ChangeRequest(Base):
    """One change request of an engagement, numbered per engagement (ACME-CR-7)."""

    __tablename__ = "change_requests"
    __table_args__ = (UniqueConstraint("engagement_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    business_reason: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[str] = mapped_column(String(16), default="medium")
    wanted_by: Mapped[date | None] = mapped_column(Date)
    requester_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    state: Mapped[str] = mapped_column(String(24), default="submitted")
    # Impact estimate by the vendor side. Money and hours are exact decimals, never floats.
    effort_hours: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    schedule_impact_days: Mapped[int | None] = mapped_column(Integer)
    risk: Mapped[str | None] = mapped_column(String(16))
    assessment_notes: Mapped[str | None] = mapped_column(Text)
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    assessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Approval round: bumped when scope or estimate change after an approval (earlier decisions
    # stay on record but no longer count). The policy in force is copied in at the start of a round.
    round: Mapped[int] = mapped_column(Integer, default=1)
    policy: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_comment: Mapped[str | None] = mapped_column(Text)
    scheduled_for: Mapped[date | None] = mapped_column(Date)
    # Link back to a standup answer (a blocker turned into a change request).
    from_standup_answer_id: Mapped[int | None] = mapped_column(Integer)
    # The milestone whose due date an approved schedule impact moves (bot/features/milestones).
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestones.id"))
    # The out-of-warranty defect this request was converted from (one request per defect).
    defect_id: Mapped[int | None] = mapped_column(ForeignKey("defects.id"), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChangeRequestDecision(Base):
    """One approver's decision in one round. The unique key makes a second decision by the same
    approver in the same round impossible, whatever the clicks and replicas do."""

    __tablename__ = "change_request_decisions"
    __table_args__ = (UniqueConstraint("request_id", "approver_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("change_requests.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    # Whose seat the decision fills, and who clicked (a delegate while the approver is away).
    approver_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    decision: Mapped[str] = mapped_column(String(16))  # approve | reject
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
