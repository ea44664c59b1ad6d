"""Demo reminders: plain-language scheduling, recurring sprint demos, local-time reminders, agenda,
iCalendar invites and the acceptance record (docs/demos.md)."""

from bot.demos.commands import register
from bot.demos.service import stale_demo_flag

__all__ = ["register", "stale_demo_flag"]
