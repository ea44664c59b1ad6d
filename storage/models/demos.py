"""Tables of the demos feature: demos (one-off or a weekly series), their materialised occurrences,
agenda items from the vendor side, and outcomes recorded by the client side (the acceptance record)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, synonym

from storage.models.base import Base
from storage.models.events import EventOccurrenceColumns, EventSeriesColumns
from storage.types import UTCDateTime


class Demo(EventSeriesColumns, Base):
    """A demo or a series of demos (ACME-DEMO-3): the shared event columns, who scheduled it and the milestone
    it shows."""

    __tablename__ = "demos"

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    # The milestone this demo shows (optional): its "not accepted" reasons become that milestone's
    # rectification items (bot/features/milestones).
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestones.id"), index=True)


class DemoOccurrence(EventOccurrenceColumns, Base):
    """One meeting of a demo. Its timers (reminders, agenda request, outcome request) are keyed by id and
    `version`, bumped when it moves."""

    __tablename__ = "demo_occurrences"
    __table_args__ = (UniqueConstraint("demo_id", "original_start"),)

    demo_id: Mapped[int] = mapped_column(ForeignKey("demos.id"), index=True)
    series_id: Mapped[int] = synonym("demo_id")


class DemoAgendaItem(Base):
    """What one vendor-side member will show at an occurrence (their latest answer)."""

    __tablename__ = "demo_agenda_items"
    __table_args__ = (UniqueConstraint("occurrence_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("demo_occurrences.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DemoOutcome(Base):
    """The client side's verdict on an occurrence. One per occurrence; never edited."""

    __tablename__ = "demo_outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("demo_occurrences.id"), unique=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(32))  # accepted | accepted_with_remarks | not_accepted
    remarks: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
