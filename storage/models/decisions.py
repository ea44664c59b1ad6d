"""Tables of the decisions feature: decisions recorded in the chat (`ACME-DEC-1`) and action items with an
owner and a due date (`ACME-A-1`), both optionally tied to the meeting they came from (bot/features/decisions/)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import UTCDateTime


class Decision(Base):
    """A decision (`ACME-DEC-1`), never edited afterwards except for the one dispute it may receive within its
    window (`dispute_closes_at`, fixed when it is recorded). `link_*` name a change request, defect or milestone
    of the same engagement; `meeting_*` the meeting that had just ended; `card_ref` the outbox ref of the card
    it was posted in (its own, or a meeting's minutes)."""

    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("engagement_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))
    occurrence_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_occurrences.id"))
    meeting_ref: Mapped[str | None] = mapped_column(String(200))  # "ACME-MTG-2 · Weekly sync"
    link_kind: Mapped[str | None] = mapped_column(String(16))  # change_request | defect | milestone
    link_id: Mapped[int | None] = mapped_column(Integer)
    link_ref: Mapped[str | None] = mapped_column(String(220))  # "ACME-CR-7 · Export to CSV"
    dispute_closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    disputed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disputed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    dispute_reason: Mapped[str | None] = mapped_column(Text)
    card_ref: Mapped[str | None] = mapped_column(String(64))


class ActionItem(Base):
    """An action item (`ACME-A-1`): open → done. `due_date` is a calendar date as the creator read it;
    `overdue_flagged_at` is set the one time the channel is told it is overdue."""

    __tablename__ = "action_items"
    __table_args__ = (UniqueConstraint("engagement_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_date: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(8), default="open")  # open | done
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))
    occurrence_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_occurrences.id"))
    meeting_ref: Mapped[str | None] = mapped_column(String(200))
    from_standup_answer_id: Mapped[int | None] = mapped_column(ForeignKey("standup_entries.id"))
    overdue_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    card_ref: Mapped[str | None] = mapped_column(String(64))
