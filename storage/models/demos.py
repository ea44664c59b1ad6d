"""Tables of the demos feature: demos (one-off or a weekly series), their materialised occurrences,
agenda items from the vendor side, and outcomes recorded by the client side (the acceptance record)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import JSONType, UTCDateTime


class Demo(Base):
    """A demo or a series of demos. `start_at` is the first occurrence (the RRULE's DTSTART);
    `tz` the zone it was stated in (recurrences keep the local wall time there across DST)."""

    __tablename__ = "demos"
    __table_args__ = (UniqueConstraint("engagement_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # per engagement: ACME-DEMO-3
    title: Mapped[str] = mapped_column(String(150))
    tz: Mapped[str] = mapped_column(String(64))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    rrule: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled | cancelled | ended
    uid: Mapped[str] = mapped_column(String(120), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # iCalendar SEQUENCE, bumped on every change
    # Original starts (UTC ISO) of cancelled occurrences of a series: the invite's EXDATEs.
    exdates: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    # The confirmation this demo came from: a second click on Confirm finds it instead of a duplicate.
    draft_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    # The milestone this demo shows (optional): its "not accepted" reasons become that milestone's
    # rectification items (bot/features/milestones).
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestones.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DemoOccurrence(Base):
    """One meeting of a demo. Only the next one of a series is materialised; its timers (reminders,
    agenda request, outcome request) are keyed by id and `version`, bumped when it moves."""

    __tablename__ = "demo_occurrences"
    __table_args__ = (UniqueConstraint("demo_id", "original_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    demo_id: Mapped[int] = mapped_column(ForeignKey("demos.id"), index=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), index=True)
    original_start: Mapped[datetime] = mapped_column(UTCDateTime())  # the iCalendar RECURRENCE-ID
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled | cancelled | ended | replaced
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


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
