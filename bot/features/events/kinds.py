"""What tells one job's calendar events from another's: its two tables and its words (ids, keys, commands)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Engagement
from storage.models.events import EventOccurrenceColumns, EventSeriesColumns

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

S = TypeVar("S", bound=EventSeriesColumns)
Occ = TypeVar("Occ", bound=EventOccurrenceColumns)
# A job's timers of one occurrence (reminders, agenda, end), planned from its settings; past ones skipped.
PlanTimers = Callable[[AsyncSession, "Cadence", Engagement, Occ, datetime], Awaitable[None]]


@dataclass(frozen=True)
class EventKind(Generic[S, Occ]):
    series: type[S]  # Demo, Meeting
    occurrence: type[Occ]  # DemoOccurrence, MeetingOccurrence
    name: str  # "demo": the command (`/demo`), the audit's entity type, the timer and message keys (`demo:3:`)
    plural: str  # "demos"
    ref_word: str  # "DEMO": ids read ACME-DEMO-3
    invite_note: str  # the invite's description after its id and the engagement's name

    def ref(self, engagement: Engagement, series: S) -> str:
        return f"{engagement.key}-{self.ref_word}-{series.number}"

    def ics_filename(self, engagement: Engagement, series: S) -> str:
        return f"{self.ref(engagement, series).lower()}.ics"

    def timer_prefix(self, occ: Occ) -> str:
        """Every timer of an occurrence, whatever its version (dropped when it is cancelled or moved)."""
        return f"{self.name}:{occ.id}:"

    def reminder_ref(self, occ: Occ, minutes: int) -> str:
        """The message key of the reminder `minutes` before the occurrence (edited when the agenda grows)."""
        return f"{self.name}:occ:{occ.id}:v{occ.version}:remind:{minutes}"

    def version_prefix(self, occ: Occ) -> str:
        """The timers planned for the occurrence's current time (re-planned when settings change)."""
        return f"{self.timer_prefix(occ)}v{occ.version}:"
