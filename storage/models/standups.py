"""Tables of the standups feature: one entry per (engagement, person, local date) and one digest
per (engagement, date)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import JSONType, UTCDateTime


class StandupEntry(Base):
    """One person's standup for one of their local dates: the questions as asked, the answers, and
    the blocker it raised (if any) with when it was closed."""

    __tablename__ = "standup_entries"
    __table_args__ = (
        UniqueConstraint("engagement_id", "person_id", "day"),
        Index("ix_standup_entries_engagement_day", "engagement_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    # The person's own calendar date this standup belongs to.
    day: Mapped[date] = mapped_column(Date)
    # Snapshot of the questions when the entry was opened; answers[i] answers questions[i]
    # (None = skipped). `position` is the next question of the conversation flow.
    questions: Mapped[list[str]] = mapped_column(JSONType, default=list)
    blocker_index: Mapped[int | None] = mapped_column(Integer)
    answers: Mapped[list[str | None]] = mapped_column(JSONType, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # open (nothing yet) | answering (conversation under way) | answered
    status: Mapped[str] = mapped_column(String(16), default="open")
    # The prompt for this day fired while the person was a participant: the day counts in reports.
    expected: Mapped[bool] = mapped_column(Boolean, default=False)
    prompted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The person's zone when they answered (their local answer time in the digest).
    answer_tz: Mapped[str | None] = mapped_column(String(64))
    # Answered after the digest was posted.
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    blocker: Mapped[str | None] = mapped_column(Text)
    # The earlier entry that first raised this same blocker (a repeat is not a new blocker).
    blocker_of_id: Mapped[int | None] = mapped_column(ForeignKey("standup_entries.id"))
    blocker_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # "answer" (a later answer said none) | "explicit" (/standup unblock)
    blocker_closed_by: Mapped[str | None] = mapped_column(String(16))
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class StandupDigest(Base):
    """The digest of one standup date, once posted (its message is updated in place for late answers)."""

    __tablename__ = "standup_digests"
    __table_args__ = (UniqueConstraint("engagement_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"))
    day: Mapped[date] = mapped_column(Date)
    ref_key: Mapped[str] = mapped_column(String(200))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    late_count: Mapped[int] = mapped_column(Integer, default=0)
