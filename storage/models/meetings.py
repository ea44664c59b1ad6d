"""Tables of the meetings feature: meetings (one-off or a series: weekly syncs, monthly reviews, a kick-off)
and their materialised occurrences, the unit agendas, reminders and "what was decided" are attached to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, synonym

from storage.models.base import Base
from storage.models.events import EventOccurrenceColumns, EventSeriesColumns
from storage.types import UTCDateTime


class Meeting(EventSeriesColumns, Base):
    """A meeting or a series of meetings (ACME-MTG-2): the shared event columns, its kind and its organizer."""

    __tablename__ = "meetings"

    kind: Mapped[str] = mapped_column(String(16))  # sync | review | kickoff | other
    organizer_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))


class MeetingOccurrence(EventOccurrenceColumns, Base):
    """One meeting of a series (or the one-off's only one). Its timers (reminders, the agenda, the after-meeting
    request) are keyed by id and `version`, bumped when it moves."""

    __tablename__ = "meeting_occurrences"
    __table_args__ = (UniqueConstraint("meeting_id", "original_start"),)

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    series_id: Mapped[int] = synonym("meeting_id")
    agenda_posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MeetingAgendaItem(Base):
    """What a member put on an occurrence's agenda (`/meeting agenda add <text>`), shown with who added it."""

    __tablename__ = "meeting_agenda_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("meeting_occurrences.id"), index=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
