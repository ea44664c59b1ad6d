"""The columns every calendar event shares, whichever job owns it (demos, meetings): a one-off or an RFC 5545
series (`EventSeriesColumns`) and its materialised occurrences (`EventOccurrenceColumns`). Each job's table keeps
its own name, its own columns next to these, and the foreign key to its series (mapped again as `series_id`, so
that the shared rules in bot/features/events/ query either job's rows the same way). Mixins only: the schema is
the migrations' (0003_demos, 0018_demo_milestone, 0020_meetings), unchanged."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from storage.types import JSONType, UTCDateTime


class EventSeriesColumns:
    """A one-off or a series. `start_at` is the first occurrence (the RRULE's DTSTART); `tz` the zone it was
    stated in (a series keeps its local wall time there across DST)."""

    @declared_attr.directive
    def __table_args__(cls) -> tuple[UniqueConstraint]:
        # A function, not a tuple: each table needs its own constraint object (one is bound to one table).
        return (UniqueConstraint("engagement_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # per engagement: ACME-DEMO-3, ACME-MTG-2
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
    # The confirmation this event came from: a second click on Confirm finds it instead of a duplicate.
    draft_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    if TYPE_CHECKING:
        # The declarative base's constructor takes the columns as keywords (for code that builds either job's rows).
        def __init__(self, **columns: Any) -> None: ...


class EventOccurrenceColumns:
    """One occurrence of a series (or the one-off's only one). Only the next one of a series is materialised;
    its timers are keyed by id and `version`, bumped when it moves."""

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), index=True)
    original_start: Mapped[datetime] = mapped_column(UTCDateTime())  # the iCalendar RECURRENCE-ID
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled | cancelled | ended | replaced
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    if TYPE_CHECKING:
        # The declarative base's constructor takes the columns as keywords (for code that builds either job's rows).
        def __init__(self, **columns: Any) -> None: ...

        # Each job's foreign key to its series (`demo_id`, `meeting_id`), mapped again under this name by a
        # synonym in the job's model; declared here for the type checker only (an annotation at run time would
        # map a column of that name).
        series_id: Mapped[int]
