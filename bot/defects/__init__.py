"""Defects and faults with severity-based SLA timers (docs/defects.md).

`defect_stats(session, engagement, start, end)` is the entry point for the weekly report."""

from bot.defects.report import defect_stats

__all__ = ["defect_stats"]
