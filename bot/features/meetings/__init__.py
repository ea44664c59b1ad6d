"""Meetings: weekly syncs, monthly reviews and a kick-off, with agendas built from live data (docs/meetings.md)."""
