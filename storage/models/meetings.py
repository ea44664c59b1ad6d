"""Tables of the meetings feature: meetings (one-off or a series: weekly syncs, monthly reviews, a kick-off)
and their materialised occurrences, the unit agendas, reminders and "what was decided" are attached to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import JSONType, UTCDateTime


class Meeting(Base):
    """A meeting or a series of meetings (ACME-MTG-2). `start_at` is the first occurrence (the RRULE's DTSTART);
    `tz` the zone it was stated in (a series keeps its local wall time there across DST)."""

    __tablename__ = "meetings"
    __table_args__ = (UniqueConstraint("engagement_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # per engagement: ACME-MTG-2
    kind: Mapped[str] = mapped_column(String(16))  # sync | review | kickoff | other
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
    # The confirmation this meeting came from: a second click on Confirm finds it instead of a duplicate.
    draft_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    organizer_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MeetingOccurrence(Base):
    """One meeting of a series (or the one-off's only one). Only the next one of a series is materialised; its
    timers (reminders, the agenda, the after-meeting request) are keyed by id and `version`, bumped when it
    moves."""

    __tablename__ = "meeting_occurrences"
    __table_args__ = (UniqueConstraint("meeting_id", "original_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), index=True)
    original_start: Mapped[datetime] = mapped_column(UTCDateTime())  # the iCalendar RECURRENCE-ID
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled | cancelled | ended | replaced
    version: Mapped[int] = mapped_column(Integer, default=0)
    agenda_posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MeetingAgendaItem(Base):
    """What a member put on an occurrence's agenda (`/meeting agenda add <text>`), shown with who added it."""

    __tablename__ = "meeting_agenda_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("meeting_occurrences.id"), index=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
